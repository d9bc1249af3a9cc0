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
from collections.abc import Callable

from optgym import LLVM_VERSION
from optgym.cache import atomic_write, cache_root, read_json_entry
from optgym.datasets import Benchmark
from optgym.errors import BenchmarkError
from optgym.llvm import toolchain
from optgym.llvm.core import elf_text_size
from optgym.llvm.session import ModuleHandle

#: v2: -O3/-Oz baselines are what clang-19 makes of the benchmark (was default<Oz> in-process).
_BASELINE_FORMAT = 2


class BaselineCache:
    """Costs of benchmarks at -O0, -O3 and -Oz, computed on first use and cached.

    ``runtime(bitcode)`` measures a program's runtime (used only for the ``Runtime`` cost).
    """

    def __init__(self, runtime: Callable[[bytes], float]):
        self._runtime = runtime
        self._values: dict[str, dict[str, float]] = {}
        # The last benchmark asked for, by identity, so that a step costs no hashing.
        self._memo: tuple[Benchmark | None, dict[str, float]] = (None, {})

    def get(self, benchmark: Benchmark, cost: str, *, module: ModuleHandle | None,
            load: Callable[[], ModuleHandle]) -> dict[str, float]:
        """The benchmark's ``cost`` at each level, as ``{f"{cost}{level}": value}``.

        ``cost`` is ``IrInstructionCount``, ``ObjectTextSizeBytes`` or ``Runtime``. ``module``
        is the unmodified benchmark when the caller has it loaded (it is not changed);
        otherwise ``load()`` loads one, which is closed afterwards.
        """
        levels = (f"{cost}O0", f"{cost}O3", f"{cost}Oz")
        memo_benchmark, values = self._memo
        if memo_benchmark is benchmark and all(k in values for k in levels):
            return values
        key = hashlib.blake2b(benchmark.bitcode, digest_size=16).hexdigest()
        path = cache_root() / f"llvm{LLVM_VERSION}-baselines-v{_BASELINE_FORMAT}" / f"{key}.json"
        values = self._values.get(key)
        if values is None:
            values = read_json_entry(path, (int, float)) or {}  # corrupted: rebuilt
            self._values[key] = values
        self._memo = (benchmark, values)
        if all(k in values for k in levels):  # (a file may hold some levels of a cost only)
            return values
        optimized = {level: toolchain.clang_optimize(benchmark.bitcode, level[1:],
                                                     what=benchmark.uri, error=BenchmarkError)
                     for level in ("O3", "Oz")}
        if cost == "Runtime":
            values["RuntimeO0"] = self._runtime(benchmark.bitcode)
            for level, bitcode in optimized.items():
                values[f"Runtime{level}"] = self._runtime(bitcode)
            return values
        base = module if module is not None else load()
        try:
            values[f"{cost}O0"] = base.observe(cost)[cost]
            for level, bitcode in optimized.items():
                values[f"{cost}{level}"] = _cost_of(bitcode, cost, base, f"{benchmark.uri} "
                                                    f"(clang-19 -{level})")
        finally:
            if module is None:
                base.close()
        on_disk = {k: v for k, v in values.items() if not k.startswith("Runtime")}
        atomic_write(path, json.dumps(on_disk, sort_keys=True).encode())
        return values


def _cost_of(bitcode: bytes, cost: str, near: ModuleHandle, what: str) -> float:
    """``cost`` of a module clang made, measured in ``near``'s compiler worker."""
    if cost == "ObjectTextSizeBytes":
        # From clang's own bitcode: re-serializing it loses the use-list order that code
        # generation reads, which moves .text by a byte or two.
        return elf_text_size(toolchain.object_file(bitcode, what=what, error=BenchmarkError))
    reference = near.session.load(bitcode, what)
    try:
        return reference.observe(cost)[cost]
    finally:
        reference.close()
