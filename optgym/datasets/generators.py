"""Generated datasets: csmith-v0 (random runnable C99) and llvm-stress-v0 (random IR).

csmith-v0 follows CompilerGym's semantics: the URI path is the csmith seed, the program is
compiled at -O0 (no ``optnone``) with the csmith headers, and programs that cannot be used
are skipped. Skipping is deterministic. Attempt 0 uses the seed itself; attempt ``k >= 1``
uses the *derived seed*

    derived(seed, k) = int.from_bytes(sha256(f"csmith-v0:{seed}:{k}")[:4], "little")

and the first attempt whose program (a) csmith generates, (b) clang compiles and (c) runs
at -O0 to exit code 0 within ``run_timeout`` seconds (5 s by default) is the benchmark.
At most 8 attempts are made. The seed actually used, the attempt number and the -O0
output (the expected output of every optimized version) are cached beside the bitcode in
``<cache>/csmith-v0/SEED.json``; that file is written last, so its presence means the
entry is complete.

llvm-stress-v0 runs ``llvm-stress-19 --seed=N --size=100`` and assembles the IR with
``llvm-as-19``. It is compile-only: the generated functions have no ``main``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from optgym.cache import read_entry, read_json_entry
from optgym.datasets._util import (
    atomic_write_bytes,
    atomic_write_text,
    build_and_run,
    cache_root,
    compile_c_to_bitcode,
    is_bitcode,
    keep_attributes,
    run_tool,
    tool,
    user_module,
)
from optgym.datasets.core import Benchmark, GeneratorDataset
from optgym.errors import BenchmarkError
from optgym.llvm import toolchain
from optgym.scratch import scratch_dir

CSMITH_INCLUDE = Path("/usr/include/csmith")
CSMITH_MAX_ATTEMPTS = 8
CSMITH_RUN_TIMEOUT = 5.0
LLVM_STRESS_SIZE = 100


def derived_seed(seed: int, attempt: int) -> int:
    """The csmith seed tried at ``attempt`` (0 is the seed itself); see the module doc."""
    if attempt == 0:
        return seed
    digest = hashlib.sha256(f"csmith-v0:{seed}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


class CsmithBenchmark(Benchmark):
    """A csmith program: runnable; its expected output is the -O0 build's output."""

    def __init__(self, seed: int, dataset: CsmithDataset) -> None:
        super().__init__(f"generator://csmith-v0/{seed}", "csmith-v0", str(seed), runnable=True)
        self.seed = seed
        self._ds = dataset
        self._meta: dict | None = None

    @property
    def _dir(self) -> Path:
        return cache_root() / "csmith-v0"

    def _materialize(self) -> dict:
        """Generate (or load from the cache) the source, bitcode and recorded output."""
        if self._meta is not None:
            return self._meta
        meta_path = self._dir / f"{self.seed}.json"
        bc_path = self._dir / f"{self.seed}.bc"
        meta = read_json_entry(meta_path)  # corrupted or evicted entries count as missing
        if meta is not None and read_entry(bc_path, is_bitcode) is not None:
            self._meta = meta
            return meta
        failures: list[str] = []
        for attempt in range(self._ds.max_attempts):
            used = derived_seed(self.seed, attempt)
            try:
                # csmith writes platform.info into its working directory: give it a scratch one.
                with scratch_dir("optgym-csmith-") as scratch:
                    src = run_tool([toolchain.csmith(), "--seed", str(used)], what=f"{self.uri} (csmith seed {used})",
                                   cwd=scratch, timeout=60)
                bitcode = compile_c_to_bitcode(
                    None,
                    code=src,
                    what=f"{self.uri} (csmith seed {used})",
                    extra_flags=("-w", "-g0", f"-I{self._ds.include_dir}"),
                )
                result = build_and_run(bitcode, what=self.uri, timeout=self._ds.run_timeout)
            except BenchmarkError as exc:
                failures.append(f"seed {used}: {str(exc).splitlines()[0]}")
                continue
            if result.timed_out or result.returncode != 0:
                why = f"did not terminate within {self._ds.run_timeout:g} s" if result.timed_out else f"exited with {result.returncode}"
                failures.append(f"seed {used}: {why}")
                continue
            meta = {
                "seed": self.seed,
                "csmith_seed": used,
                "attempt": attempt,
                "expected_output": result.stdout,
                "expected_returncode": result.returncode,
                "o0_seconds": result.seconds,
            }
            atomic_write_bytes(self._dir / f"{self.seed}.c", src)
            atomic_write_bytes(bc_path, bitcode)
            atomic_write_text(meta_path, json.dumps(meta, indent=1))
            self._meta = meta
            return meta
        raise BenchmarkError(
            f"{self.uri}: no usable csmith program in {self._ds.max_attempts} attempts:\n" + "\n".join(failures)
        )

    def _load_bitcode(self) -> bytes:
        self._materialize()
        bitcode = read_entry(self._dir / f"{self.seed}.bc", is_bitcode)
        if bitcode is None:  # evicted or damaged since it was materialized: make it again
            self._meta = None
            self._materialize()
            bitcode = (self._dir / f"{self.seed}.bc").read_bytes()
        return bitcode

    @property
    def csmith_seed(self) -> int:
        """The seed csmith was actually run with (differs from :attr:`seed` after skips)."""
        return int(self._materialize()["csmith_seed"])

    @property
    def source(self) -> str:
        """The generated C source."""
        self._materialize()
        return (self._dir / f"{self.seed}.c").read_text(encoding="utf-8")

    @property
    def expected_output(self) -> str:
        return str(self._materialize()["expected_output"])

    @property
    def expected_returncode(self) -> int:
        return int(self._materialize()["expected_returncode"])


class CsmithDataset(GeneratorDataset):
    """Random conformant C99 programs from csmith, seeded by the URI path."""

    def __init__(
        self,
        *,
        include_dir: Path = CSMITH_INCLUDE,
        run_timeout: float = CSMITH_RUN_TIMEOUT,
        max_attempts: int = CSMITH_MAX_ATTEMPTS,
    ) -> None:
        super().__init__(
            "csmith-v0",
            description="Random conformant C99 programs from csmith (runnable; output of the -O0 build is the reference)",
            license="BSD-2-Clause (csmith); generated programs are unrestricted",
            runnable=True,
        )
        self.include_dir = include_dir
        self.run_timeout = run_timeout
        self.max_attempts = max_attempts

    def _make_benchmark(self, name: str) -> CsmithBenchmark:
        return CsmithBenchmark(int(name), self)


class LlvmStressBenchmark(Benchmark):
    """A random IR module from llvm-stress (compile-only)."""

    def __init__(self, seed: int, size: int) -> None:
        super().__init__(f"generator://llvm-stress-v0/{seed}", "llvm-stress-v0", str(seed), runnable=False)
        self.seed = seed
        self.size = size

    def _load_bitcode(self) -> bytes:
        kept = "-kept" if keep_attributes() else ""
        path = cache_root() / "llvm-stress-v0" / f"{self.seed}-s{self.size}{kept}.bc"
        cached = read_entry(path, is_bitcode)  # a corrupted entry counts as missing
        if cached is not None:
            return cached
        ir = run_tool([tool("llvm-stress"), f"--seed={self.seed}", f"--size={self.size}", "-o", "-"], what=self.uri, timeout=60)
        bitcode = user_module(ir, what=self.uri)
        atomic_write_bytes(path, bitcode)
        return bitcode


class LlvmStressDataset(GeneratorDataset):
    """Random LLVM IR from llvm-stress, seeded by the URI path (compile-only)."""

    def __init__(self, *, size: int = LLVM_STRESS_SIZE) -> None:
        super().__init__(
            "llvm-stress-v0",
            description=f"Random LLVM IR from llvm-stress-19 --size={size} (compile-only)",
            license="Apache-2.0 WITH LLVM-exception",
            runnable=False,
        )
        self.stress_size = size

    def _make_benchmark(self, name: str) -> LlvmStressBenchmark:
        return LlvmStressBenchmark(int(name), self.stress_size)
