"""Per-benchmark costs at -O0, -O3 and -Oz: the yardsticks rewards are scaled by.

A benchmark's baselines are facts about its bitcode, so they are computed once and kept in
memory and on disk (keyed by a hash of the bitcode and the LLVM version). Runtimes are
measurements, not facts, so they are kept in memory only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from optgym import LLVM_VERSION
from optgym.cache import atomic_write, cache_root
from optgym.llvm.session import ModuleHandle

_BASELINE_FORMAT = 1


class BaselineCache:
    """Costs of benchmarks at -O0, -O3 and -Oz, computed on first use and cached.

    ``runtime(bitcode)`` measures a program's runtime (used only for the ``Runtime`` cost).
    """

    def __init__(self, runtime: Callable[[bytes], float]):
        self._runtime = runtime
        self._values: dict[str, dict[str, float]] = {}
        # The last benchmark asked for, by identity, so that a step costs no hashing.
        self._memo: tuple[Any, dict[str, float]] = (None, {})

    def get(self, benchmark: Any, cost: str, *, module: ModuleHandle | None,
            load: Callable[[], ModuleHandle]) -> dict[str, float]:
        """The benchmark's ``cost`` at each level, as ``{f"{cost}{level}": value}``.

        ``cost`` is ``IrInstructionCount``, ``ObjectTextSizeBytes`` or ``Runtime``. ``module``
        is the unmodified benchmark when the caller has it loaded (it is not changed);
        otherwise ``load()`` loads one, which is closed afterwards.
        """
        memo_benchmark, values = self._memo
        if memo_benchmark is benchmark and f"{cost}Oz" in values:
            return values
        key = hashlib.blake2b(benchmark.bitcode, digest_size=16).hexdigest()
        path = cache_root() / f"llvm{LLVM_VERSION}-baselines-v{_BASELINE_FORMAT}" / f"{key}.json"
        values = self._values.get(key)
        if values is None:
            values = json.loads(path.read_text()) if path.exists() else {}
            self._values[key] = values
        self._memo = (benchmark, values)
        if f"{cost}Oz" in values:
            return values
        base = module if module is not None else load()
        try:
            if cost == "Runtime":
                values["RuntimeO0"] = self._runtime(benchmark.bitcode)
                for level in ("O3", "Oz"):
                    optimized = base.try_pipeline(f"default<{level}>", ("Bitcode",))["Bitcode"]
                    values[f"Runtime{level}"] = self._runtime(optimized)
                return values
            values[f"{cost}O0"] = base.observe(cost)[cost]
            for level in ("O3", "Oz"):
                values[f"{cost}{level}"] = base.try_pipeline(f"default<{level}>", (cost,))[cost]
        finally:
            if module is None:
                base.close()
        on_disk = {k: v for k, v in values.items() if not k.startswith("Runtime")}
        atomic_write(path, json.dumps(on_disk, sort_keys=True).encode())
        return values
