"""builtin-v0: the runnable C programs written for optgym.

Each program is ``builtin/programs/NAME.c`` with its expected stdout in ``NAME.out``;
the first line says what it is: ``/* optgym-builtin: <description>. Style: <tags> */``.
A program counts as part of the suite once both files exist. Bitcode is compiled on first
use with ``clang-19 -O0 -Xclang -disable-O0-optnone`` and cached under
``<cache>/builtin-v0/NAME-<hash>.bc``, where the hash covers the source and the flags, so
an edited program is rebuilt and never served stale.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from optgym.cache import read_entry
from optgym.datasets._util import (
    FRONTEND_FLAGS,
    atomic_write_bytes,
    cache_root,
    compile_c_to_bitcode,
    is_bitcode,
    sha256_bytes,
)
from optgym.datasets.core import Benchmark, Dataset
from optgym.errors import BenchmarkError

PROGRAMS_DIR = Path(__file__).resolve().parent / "builtin" / "programs"

_HEADER = re.compile(r"/\*\s*optgym-builtin:\s*(?P<desc>.*?)\s*Style:\s*(?P<style>.*?)\s*\*/", re.S)
#: Extra flags for the built-in programs; ``-g0`` keeps debug records out of the IR.
_BUILTIN_FLAGS: tuple[str, ...] = ("-g0",)


class BuiltinBenchmark(Benchmark):
    """A built-in program: runnable, with its expected output recorded in ``NAME.out``."""

    def __init__(self, name: str, programs_dir: Path) -> None:
        super().__init__(f"benchmark://builtin-v0/{name}", "builtin-v0", name, runnable=True)
        self.source_path = programs_dir / f"{name}.c"
        self.output_path = programs_dir / f"{name}.out"

    @property
    def source(self) -> str:
        """The C source text."""
        return self.source_path.read_text(encoding="utf-8")

    @property
    def description(self) -> str:
        """The one-line description from the program's header comment."""
        return self._header()[0]

    @property
    def tags(self) -> list[str]:
        """The style tags from the header comment (``loop-heavy``, ``recursive``, ...)."""
        return self._header()[1]

    def _header(self) -> tuple[str, list[str]]:
        with open(self.source_path, encoding="utf-8") as f:
            head = f.read(2048)
        m = _HEADER.search(head)
        if not m:
            return "", []
        desc = m.group("desc").rstrip(". ")
        tags = [t.strip() for t in m.group("style").split(",") if t.strip()]
        return desc, tags

    @property
    def cache_path(self) -> Path:
        """Where this program's bitcode is cached (the name includes a content hash)."""
        key = sha256_bytes(self.source_path.read_bytes() + "\0".join(FRONTEND_FLAGS + _BUILTIN_FLAGS).encode())[:16]
        return cache_root() / "builtin-v0" / f"{self.name}-{key}.bc"

    def _load_bitcode(self) -> bytes:
        path = self.cache_path
        cached = read_entry(path, is_bitcode)  # a corrupted entry counts as missing
        if cached is not None:
            return cached
        if not self.source_path.is_file():
            raise BenchmarkError(f"{self.uri}: source file {self.source_path} is missing")
        bitcode = compile_c_to_bitcode(self.source_path, what=self.uri, extra_flags=_BUILTIN_FLAGS)
        atomic_write_bytes(path, bitcode)
        return bitcode

    @property
    def expected_output(self) -> str:
        return self.output_path.read_text(encoding="utf-8")


class BuiltinDataset(Dataset):
    """The built-in suite of runnable C programs written for optgym."""

    def __init__(self, programs_dir: Path | None = None) -> None:
        super().__init__(
            "builtin-v0",
            description=(
                "Runnable C programs written for optgym (sorting, hashing, parsing, compression, "
                "numeric kernels, graphs, data structures, interpreters, DSP, bit tricks, DP), "
                "each printing a deterministic checksum"
            ),
            license="Apache-2.0",
            runnable=True,
        )
        self.programs_dir = programs_dir or PROGRAMS_DIR

    def _names(self) -> list[str]:
        if not self.programs_dir.is_dir():
            return []
        return sorted(p.stem for p in self.programs_dir.glob("*.c") if p.with_suffix(".out").is_file())

    def _make_benchmark(self, name: str) -> BuiltinBenchmark:
        return BuiltinBenchmark(name, self.programs_dir)

    def build_all(self, *, jobs: int = 2, progress: bool = False) -> list[tuple[str, BaseException | None]]:
        """Compile every program's bitcode into the cache (threads; the work is in clang
        subprocesses). Returns ``(name, error or None)`` per program."""
        from tqdm import tqdm

        benches = list(self.benchmarks())

        def build(b: BuiltinBenchmark) -> tuple[str, BaseException | None]:
            try:
                b.bitcode  # noqa: B018 - building the cached bitcode is the point
                return b.name, None
            except BenchmarkError as exc:
                return b.name, exc

        results: list[tuple[str, BaseException | None]] = []
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for r in tqdm(pool.map(build, benches), total=len(benches), desc="builtin-v0", unit="prog", disable=not progress):
                results.append(r)
        return results
