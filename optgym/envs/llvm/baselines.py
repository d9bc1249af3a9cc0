"""Per-benchmark costs at -O0, -O3 and -Oz: the yardsticks rewards are scaled by.

-O0 is the benchmark as loaded; -O3 and -Oz are what ``clang-19 -O3``/``-Oz`` make of it (see
:mod:`optgym.llvm.toolchain` for why clang's own pipeline, not ``default<Oz>`` run elsewhere).
A benchmark's baselines are facts about its bitcode, so they are computed once and kept in
memory and on disk (keyed by a hash of the bitcode and the LLVM version); an unreadable cache
file counts as missing. Runtimes are measurements, not facts, so they are kept in memory only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from optgym import LLVM_VERSION
from optgym.cache import atomic_write, cache_root, read_json_entry
from optgym.datasets import Benchmark
from optgym.errors import BenchmarkError
from optgym.llvm import toolchain
from optgym.llvm.core import elf_text_size
from optgym.llvm.session import CompilerSession, ModuleHandle

#: v2: -O3/-Oz baselines are what clang-19 makes of the benchmark (was default<Oz> in-process).
_BASELINE_FORMAT = 2


class BaselineCache:
    """Costs of benchmarks at -O0, -O3 and -Oz, computed on first use and cached.

    ``runtime(bitcode)`` measures a program's runtime (used only for the ``Runtime`` cost).
    """

    def __init__(self, runtime: Callable[[bytes], float]):
        self._runtime = runtime
        self._values: dict[str, dict[str, float]] = {}
        # The last benchmark asked for, by identity, so that a step costs no hashing, and
        # what clang made of it at each level, which several costs share.
        self._memo: tuple[Benchmark | None, str, dict[str, bytes]] = (None, "", {})

    def get(self, benchmark: Benchmark, cost: str, *, module: ModuleHandle | None,
            load: Callable[[], ModuleHandle]) -> Mapping[str, float]:
        """The benchmark's ``cost`` at each level, as ``{f"{cost}{level}": value}``.

        ``cost`` is ``IrInstructionCount``, ``ObjectTextSizeBytes``, ``AlwaysInlineCalls`` or
        ``Runtime``. ``module`` is the unmodified benchmark when the caller has it loaded (it
        is not changed); otherwise ``load()`` loads one, which is closed afterwards. -O3 and
        -Oz are computed when first read: most callers need only one (a drop-in, -Oz).
        """
        memo_benchmark, key, optimized = self._memo
        if memo_benchmark is not benchmark:
            key = hashlib.blake2b(benchmark.bitcode, digest_size=16).hexdigest()
            optimized = {}
            self._memo = (benchmark, key, optimized)
        values = self._values.get(key)
        if values is None:
            values = read_json_entry(self._path(key), (int, float)) or {}  # corrupted: rebuilt
            self._values[key] = values
        levels = _Levels(self, benchmark, key, cost, values, optimized, load)
        if f"{cost}O0" not in values:
            if cost == "Runtime":
                values["RuntimeO0"] = self._runtime(benchmark.bitcode)
            else:
                base = module if module is not None else load()
                try:
                    values[f"{cost}O0"] = base.observe(cost)[cost]
                    levels.session = base.session
                finally:
                    if module is None:
                        base.close()
                self._save(key, values)
        elif module is not None:
            levels.session = module.session
        return levels

    @staticmethod
    def _path(key: str) -> Path:
        return cache_root() / f"llvm{LLVM_VERSION}-baselines-v{_BASELINE_FORMAT}" / f"{key}.json"

    def _save(self, key: str, values: dict[str, float]) -> None:
        on_disk = {k: v for k, v in values.items() if not k.startswith("Runtime")}
        atomic_write(self._path(key), json.dumps(on_disk, sort_keys=True).encode())


class _Levels(Mapping[str, float]):
    """One benchmark's costs by level; -O3 and -Oz are computed (and cached) when first read."""

    def __init__(self, cache: BaselineCache, benchmark: Benchmark, key: str, cost: str,
                 values: dict[str, float], optimized: dict[str, bytes],
                 load: Callable[[], ModuleHandle]):
        self.cache, self.benchmark, self.key, self.cost = cache, benchmark, key, cost
        self.values, self.optimized, self.load = values, optimized, load
        self.session: CompilerSession | None = None  # where to measure clang's modules (known once one is loaded)

    def __getitem__(self, name: str) -> float:
        if name not in self.values:
            level = name[len(self.cost):]
            if not name.startswith(self.cost) or level not in ("O3", "Oz"):
                raise KeyError(name)
            self.values[name] = self._compute(level)
            self.cache._save(self.key, self.values)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(f"{self.cost}{level}" for level in ("O0", "O3", "Oz"))

    def __len__(self) -> int:
        return 3

    def _compute(self, level: str) -> float:
        uri = self.benchmark.uri
        bitcode = self.optimized.get(level)
        if bitcode is None:
            bitcode = self.optimized[level] = toolchain.clang_optimize(
                self.benchmark.bitcode, level[1:], what=uri, error=BenchmarkError)
        if self.cost == "Runtime":
            return self.cache._runtime(bitcode)
        what = f"{uri} (clang-19 -{level})"
        if self.cost == "ObjectTextSizeBytes":
            # From clang's own bitcode: re-serializing it loses the use-list order that code
            # generation reads, which moves .text by a byte or two.
            return elf_text_size(toolchain.object_file(bitcode, what=what, error=BenchmarkError))
        if self.session is None:  # the caller's session, through the only handle it gives
            base = self.load()
            self.session = base.session
            base.close()
        return _cost_of(bitcode, self.cost, self.session, what)


def _cost_of(bitcode: bytes, cost: str, session: CompilerSession, what: str) -> float:
    """``cost`` of a module clang made, measured in ``session``'s compiler worker."""
    reference = session.load(bitcode, what)
    try:
        return reference.observe(cost)[cost]
    finally:
        reference.close()
