"""Real modules for benchmarks: csmith programs of about 300, 2,000, 3,000 and 30,000
instructions, and a small CRC-32 tool of about 200 (``benchmarks/programs/crc32.c``).

The programs are generated and compiled on first use and cached, so every benchmark measures
the same modules. The large one links several csmith programs (their `main` renamed) because
single csmith programs rarely reach 30k instructions. :func:`c_source` gives a single-file
program's C source, for benchmarks that compile it themselves (the drop-ins, CompilerGym).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from optgym.cache import atomic_write, cache_root

PROGRAMS = Path(__file__).parent / "programs"

SMALL_OPTS = ["--max-funcs", "1", "--max-block-size", "2", "--max-expr-complexity", "2"]
SPECS: dict[str, list[tuple[int, list[str]]]] = {
    "small": [(1, SMALL_OPTS)],
    "medium": [(1, [])],
    "medium-3k": [(38, [])],
    "large": [(seed, []) for seed in (2, 3, 5, 6, 8, 9)],
}


def _csmith(seed: int, opts: list[str], work: Path) -> str:
    return subprocess.run(
        ["csmith", "--seed", str(seed), *opts], capture_output=True, text=True, check=True,
        cwd=work,  # csmith writes platform.info to its working directory
    ).stdout


def c_source(size: str) -> Path:
    """The C source of ``crc32`` or of a single-program size (``small``, ``medium``,
    ``medium-3k``), made on first use; csmith sources need ``-I/usr/include/csmith``."""
    if size == "crc32":
        return PROGRAMS / "crc32.c"
    (seed, opts), = SPECS[size]
    path = cache_root() / "benchmarks" / f"{size}.c"
    if not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            atomic_write(path, _csmith(seed, opts, Path(tmp)).encode())
    return path


def _compile(seed: int, opts: list[str], work: Path, index: int) -> Path:
    source = work / f"s{seed}_{index}.c"
    source.write_text(_csmith(seed, opts, work))
    out = work / f"s{seed}_{index}.bc"
    subprocess.run(
        ["clang-19", "-O0", "-Xclang", "-disable-O0-optnone", "-w", "-I/usr/include/csmith",
         f"-Dmain=main_{index}", "-emit-llvm", "-c", str(source), "-o", str(out)],
        check=True,
    )
    return out


def sized_module(size: str) -> bytes:
    """Bitcode of the ``crc32``, ``small``, ``medium``, ``medium-3k`` or ``large`` benchmark
    module (clang-19 -O0 without optnone, as the datasets make them)."""
    path = cache_root() / "benchmarks" / f"{size}.bc"
    if size == "crc32" and not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "crc32.bc"
            subprocess.run(["clang-19", "-O0", "-Xclang", "-disable-O0-optnone", "-emit-llvm",
                            "-c", str(c_source("crc32")), "-o", str(out)], check=True)
            atomic_write(path, out.read_bytes())
    if not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            parts = [
                _compile(seed, opts, Path(tmp), i) for i, (seed, opts) in enumerate(SPECS[size])
            ]
            linked = Path(tmp) / "linked.bc"
            subprocess.run(["llvm-link-19", *map(str, parts), "-o", str(linked)], check=True)
            atomic_write(path, linked.read_bytes())
    return path.read_bytes()
