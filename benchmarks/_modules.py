"""Real modules of about 300, 3,000 and 30,000 instructions for benchmarks, made with csmith.

The programs are generated and compiled on first use and cached, so every benchmark measures
the same modules. The large one links several csmith programs (their `main` renamed) because
single csmith programs rarely reach 30k instructions.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from optgym.cache import atomic_write, cache_root

SMALL_OPTS = ["--max-funcs", "1", "--max-block-size", "2", "--max-expr-complexity", "2"]
SPECS: dict[str, list[tuple[int, list[str]]]] = {
    "small": [(1, SMALL_OPTS)],
    "medium": [(1, [])],
    "large": [(seed, []) for seed in (2, 3, 5, 6, 8, 9)],
}


def _compile(seed: int, opts: list[str], work: Path, index: int) -> Path:
    source = work / f"s{seed}_{index}.c"
    source.write_text(subprocess.run(
        ["csmith", "--seed", str(seed), *opts], capture_output=True, text=True, check=True,
        cwd=work,  # csmith writes platform.info to its working directory
    ).stdout)
    out = work / f"s{seed}_{index}.bc"
    subprocess.run(
        ["clang-19", "-O0", "-Xclang", "-disable-O0-optnone", "-w", "-I/usr/include/csmith",
         f"-Dmain=main_{index}", "-emit-llvm", "-c", str(source), "-o", str(out)],
        check=True,
    )
    return out


def sized_module(size: str) -> bytes:
    """Bitcode of the ``small``, ``medium`` or ``large`` benchmark module."""
    path = cache_root() / "benchmarks" / f"{size}.bc"
    if not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            parts = [
                _compile(seed, opts, Path(tmp), i) for i, (seed, opts) in enumerate(SPECS[size])
            ]
            linked = Path(tmp) / "linked.bc"
            subprocess.run(["llvm-link-19", *map(str, parts), "-o", str(linked)], check=True)
            atomic_write(path, linked.read_bytes())
    return path.read_bytes()
