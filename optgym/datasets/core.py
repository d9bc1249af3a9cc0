"""Benchmarks, datasets, URIs and the registry that resolves one into the other.

A benchmark is one LLVM module an environment optimizes, named by a URI:
``benchmark://builtin-v0/crc32``, ``generator://csmith-v0/123``,
``generator://llvm-stress-v0/7``, ``file:///abs/path/x.c`` (or ``.ll``, ``.bc``), or
``benchmark://NAME/PATH`` for a dataset a user registered. A dataset is a named set of
benchmarks with a description, a license, a size (0 for generators), deterministic
train/validation/test splits and seeded sampling.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from optgym.datasets._util import RunResult, build_and_run, check_split, split_of
from optgym.errors import BenchmarkError, UnknownBenchmarkError

__all__ = [
    "Benchmark",
    "Dataset",
    "GeneratorDataset",
    "RunResult",
    "get_benchmark",
    "get_dataset",
    "list_datasets",
    "parse_uri",
    "register_dataset",
    "unregister_dataset",
]

_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


class Benchmark:
    """One program: its URI, its -O0 bitcode (built and cached on first use) and, when it
    is runnable, a way to build and run any optimized version of it.

    Subclasses implement :meth:`_load_bitcode`; runnable ones may override
    :attr:`expected_output`. When a runnable benchmark has no recorded output, the output
    of its own unoptimized bitcode is the reference.
    """

    #: Whether the URI alone names this module (true of dataset programs, whose content a URI
    #: fixes); a module made in memory under a generic URI is told apart by its bitcode.
    uri_names_content: bool = True

    def __init__(self, uri: str, dataset: str, name: str, *, runnable: bool) -> None:
        self.uri = uri
        self.dataset = dataset
        self.name = name
        self.runnable = runnable
        self._bitcode: bytes | None = None
        self._lock = threading.Lock()
        self._reference: RunResult | None = None

    def __repr__(self) -> str:
        return f"Benchmark({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Benchmark) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __getstate__(self) -> dict[str, object]:
        # A lock cannot be pickled (a benchmark travels to worker processes and Ray tasks).
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _load_bitcode(self) -> bytes:
        raise NotImplementedError

    @property
    def bitcode(self) -> bytes:
        """The -O0 (no ``optnone``) bitcode of this benchmark, built on first use."""
        if self._bitcode is None:
            with self._lock:
                if self._bitcode is None:
                    self._bitcode = self._load_bitcode()
        return self._bitcode

    @property
    def expected_output(self) -> str | None:
        """The stdout a correct build prints, when one was recorded."""
        return None

    @property
    def expected_returncode(self) -> int:
        """The exit code a correct build returns."""
        return 0

    def run(self, bitcode: bytes | None = None, *, timeout: float = 10.0, args: tuple[str, ...] = (),
            codegen: tuple[str, ...] = ()) -> RunResult:
        """Build an executable from ``bitcode`` (default: this benchmark's own -O0
        bitcode) without re-optimizing its IR, run it once and return what it did.

        The executable is made by ``llc-19 -O2`` and linked by ``clang-19``; see
        :func:`optgym.datasets._util.build_executable` for why; ``codegen`` adds llc options
        (code-generation steps). A time-out does not raise: the result says ``timed_out=True``.
        """
        if not self.runnable:
            raise BenchmarkError(f"{self.uri} is not runnable (dataset {self.dataset} is compile-only)")
        return build_and_run(self.bitcode if bitcode is None else bitcode, what=self.uri, timeout=timeout, args=args,
                             codegen=codegen)

    def reference_run(self, *, timeout: float = 10.0) -> RunResult:
        """The run of the unoptimized bitcode, memoized; the reference for
        :meth:`check_output` when no output was recorded."""
        if self._reference is None:
            self._reference = self.run(timeout=timeout)
        return self._reference

    def check_output(self, bitcode: bytes, *, timeout: float = 10.0, codegen: tuple[str, ...] = ()) -> bool:
        """Whether ``bitcode`` (its object made with the llc options ``codegen`` added) still
        behaves like this benchmark: same stdout and exit code as the recorded output (or as
        the -O0 build's, when none is recorded)."""
        expected = self.expected_output
        if expected is None:
            ref = self.reference_run(timeout=timeout)
            if ref.timed_out:
                raise BenchmarkError(f"{self.uri}: the unoptimized build timed out; nothing to compare with")
            expected, expected_rc = ref.stdout, ref.returncode
        else:
            expected_rc = self.expected_returncode
        result = self.run(bitcode, timeout=timeout, codegen=codegen)
        return not result.timed_out and result.returncode == expected_rc and result.stdout == expected

    @property
    def split(self) -> str:
        """The split (train / validation / test) this benchmark belongs to."""
        return split_of(self.name)


class Dataset:
    """A named, finite set of benchmarks.

    Subclasses implement :meth:`_names` (the benchmark names, sorted) and
    :meth:`_make_benchmark`. URIs are ``SCHEME://NAME/BENCHMARK``.
    """

    scheme = "benchmark"

    def __init__(self, name: str, *, description: str, license: str, runnable: bool) -> None:
        if not _DATASET_NAME.match(name):
            raise BenchmarkError(f"invalid dataset name {name!r}: use letters, digits, '-', '_', '.' (e.g. myproject-v0)")
        self.name = name
        self.description = description
        self.license = license
        self.runnable = runnable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # -- to implement -------------------------------------------------------------
    def _names(self) -> list[str]:
        raise NotImplementedError

    def _make_benchmark(self, name: str) -> Benchmark:
        raise NotImplementedError

    # -- public -------------------------------------------------------------------
    @property
    def uri_prefix(self) -> str:
        """``SCHEME://NAME``, the part every benchmark URI of this dataset starts with."""
        return f"{self.scheme}://{self.name}"

    @property
    def size(self) -> int:
        """Number of benchmarks (0 for generators, which are unbounded)."""
        return len(self._names())

    @property
    def installed(self) -> bool:
        """Whether the benchmarks are available without a download."""
        return True

    def benchmark_names(self, split: str | None = None) -> list[str]:
        """Benchmark names (URI paths), sorted, optionally of one split only."""
        check_split(split)
        names = self._names()
        return names if split is None else [n for n in names if split_of(n) == split]

    def benchmark_uris(self, split: str | None = None) -> list[str]:
        """Benchmark URIs, sorted, optionally of one split ("train", "validation", "test"),
        assigned 60/20/20 by a stable hash of the benchmark name."""
        return [f"{self.uri_prefix}/{n}" for n in self.benchmark_names(split)]

    def benchmark(self, name: str) -> Benchmark:
        """The benchmark called ``name`` (its URI path) or with that full URI."""
        if "://" in name:
            return get_benchmark(name)
        if name not in set(self._names()):
            known = self._names()
            hint = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            raise UnknownBenchmarkError(f"{self.uri_prefix}/{name}: no such benchmark in {self.name} (it has: {hint or 'none'})")
        return self._make_benchmark(name)

    def benchmarks(self, split: str | None = None) -> Iterator[Benchmark]:
        """Every benchmark (of one split), in name order."""
        for n in self.benchmark_names(split):
            yield self._make_benchmark(n)

    def random_benchmark(self, rng: np.random.Generator, split: str | None = None) -> Benchmark:
        """A benchmark drawn uniformly with ``rng``, so the same seed draws the same ones."""
        names = self.benchmark_names(split)
        if not names:
            raise BenchmarkError(f"dataset {self.name} has no benchmarks" + (f" in split {split!r}" if split else ""))
        return self._make_benchmark(names[int(rng.integers(len(names)))])


class GeneratorDataset(Dataset):
    """An unbounded dataset whose benchmark names are uint32 seeds
    (``generator://NAME/SEED``). Its size is 0; splits are by the hash of the seed."""

    scheme = "generator"
    max_seed = 2**32 - 1

    @property
    def size(self) -> int:
        return 0

    def _names(self) -> list[str]:
        raise BenchmarkError(f"{self.name} is a generator with 2^32 seeds; use first_uris(n, split) to list some")

    def benchmark_names(self, split: str | None = None) -> list[str]:
        raise BenchmarkError(f"{self.name} is a generator with 2^32 seeds; use first_uris(n, split) to list some")

    def benchmark_uris(self, split: str | None = None) -> list[str]:
        raise BenchmarkError(f"{self.name} is a generator with 2^32 seeds; use first_uris(n, split) to list some")

    def first_seeds(self, n: int, split: str | None = None) -> list[int]:
        """The ``n`` smallest seeds (of one split)."""
        check_split(split)
        seeds: list[int] = []
        seed = 0
        while len(seeds) < n and seed <= self.max_seed:
            if split is None or split_of(str(seed)) == split:
                seeds.append(seed)
            seed += 1
        return seeds

    def first_uris(self, n: int, split: str | None = None) -> list[str]:
        """URIs of the ``n`` smallest seeds (of one split)."""
        return [f"{self.uri_prefix}/{s}" for s in self.first_seeds(n, split)]

    def parse_seed(self, name: str) -> int:
        """The seed a URI path names; BenchmarkError unless it is an integer in [0, 2^32)."""
        try:
            seed = int(name, 10)
        except ValueError:
            seed = -1
        if not 0 <= seed <= self.max_seed or not name.isdigit():
            raise UnknownBenchmarkError(f"{self.uri_prefix}/{name}: the path must be a seed, an integer in [0, {self.max_seed}]")
        return seed

    def benchmark(self, name: str) -> Benchmark:
        if "://" in name:
            return get_benchmark(name)
        return self._make_benchmark(str(self.parse_seed(name)))

    def benchmarks(self, split: str | None = None) -> Iterator[Benchmark]:
        """Benchmarks in seed order (of one split), without end."""
        check_split(split)
        for seed in range(self.max_seed + 1):
            if split is None or split_of(str(seed)) == split:
                yield self._make_benchmark(str(seed))

    def random_benchmark(self, rng: np.random.Generator, split: str | None = None) -> Benchmark:
        """A uniformly drawn seed (of the split: draws are rejected until one falls in it)."""
        check_split(split)
        while True:
            seed = int(rng.integers(self.max_seed + 1))
            if split is None or split_of(str(seed)) == split:
                return self._make_benchmark(str(seed))


# -- registry -----------------------------------------------------------------------
_REGISTRY: dict[str, Dataset] = {}
_REGISTRY_LOCK = threading.RLock()
_DEFAULTS_LOADED = False


def _ensure_defaults() -> None:
    """Register the shipped datasets on first use (imports stay cheap until then)."""
    global _DEFAULTS_LOADED
    if _DEFAULTS_LOADED:
        return
    with _REGISTRY_LOCK:
        if _DEFAULTS_LOADED:
            return
        from optgym.datasets.builtin_suite import BuiltinDataset
        from optgym.datasets.generators import CsmithDataset, LlvmStressDataset
        from optgym.datasets.realc import realc_datasets
        from optgym.datasets.remote import compilergym_datasets

        for ds in (BuiltinDataset(), CsmithDataset(), LlvmStressDataset(), *realc_datasets(), *compilergym_datasets()):
            _REGISTRY.setdefault(ds.name, ds)
        _DEFAULTS_LOADED = True


def _user_datasets() -> dict[str, Dataset]:
    from optgym.datasets.projects import load_user_datasets

    return load_user_datasets()


def register_dataset(dataset: Dataset, *, replace: bool = False) -> Dataset:
    """Make ``dataset`` resolvable by name and URI in this process.

    Raises BenchmarkError when the name is taken, unless ``replace``. (Datasets imported
    with ``optgym datasets add-project`` are persisted and found in every process.)
    """
    _ensure_defaults()
    with _REGISTRY_LOCK:
        if dataset.name in _REGISTRY and not replace:
            raise BenchmarkError(f"a dataset named {dataset.name!r} is already registered")
        _REGISTRY[dataset.name] = dataset
    return dataset


def unregister_dataset(name: str) -> None:
    """Forget a dataset registered in this process (no error if it is unknown)."""
    with _REGISTRY_LOCK:
        _REGISTRY.pop(name, None)


def _all_datasets() -> dict[str, Dataset]:
    _ensure_defaults()
    with _REGISTRY_LOCK:
        merged = dict(_REGISTRY)
    for name, ds in _user_datasets().items():
        merged.setdefault(name, ds)
    return merged


def list_datasets() -> list[Dataset]:
    """Every known dataset: shipped, downloadable, registered in-process and user projects."""
    return sorted(_all_datasets().values(), key=lambda d: (d.scheme != "benchmark", d.name))


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name`` (``builtin-v0``) or with that URI prefix
    (``benchmark://builtin-v0``); BenchmarkError naming the known datasets otherwise."""
    bare = name.split("://", 1)[1] if "://" in name else name
    bare = bare.rstrip("/")
    _ensure_defaults()
    with _REGISTRY_LOCK:
        if bare in _REGISTRY:  # the common case, without reading the user registry from disk
            return _REGISTRY[bare]
    datasets = _all_datasets()
    if bare in datasets:
        return datasets[bare]
    raise UnknownBenchmarkError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(datasets))}")


def parse_uri(uri: str) -> tuple[str | None, str, str]:
    """Split ``SCHEME://DATASET/PATH`` into its parts; the scheme may be omitted
    (``builtin-v0/crc32``). For ``file://`` URIs the dataset is ``""`` and the path is
    the absolute file path."""
    if not isinstance(uri, str) or not uri:
        raise BenchmarkError(f"invalid benchmark URI {uri!r}")
    scheme: str | None = None
    rest = uri
    if "://" in uri:
        scheme, rest = uri.split("://", 1)
    if scheme == "file":
        return "file", "", rest
    dataset, _, path = rest.partition("/")
    return scheme, dataset, path


def get_benchmark(uri: str | Path) -> Benchmark:
    """Resolve a benchmark URI (or a path to a .c/.ll/.bc file) into a Benchmark.

    Unknown datasets or benchmarks raise BenchmarkError naming what is known.
    """
    if isinstance(uri, Path):
        uri = uri.resolve().as_uri()
    scheme, dataset_name, path = parse_uri(uri)
    if scheme == "file":
        from optgym.datasets.files import file_benchmark

        return file_benchmark(path)
    if scheme not in (None, "benchmark", "generator"):
        known = ", ".join(d.uri_prefix for d in list_datasets())
        raise UnknownBenchmarkError(f"{uri}: unknown URI scheme {scheme!r}; use benchmark://, generator:// or file:// (known datasets: {known})")
    ds = get_dataset(dataset_name)
    if scheme is not None and scheme != ds.scheme:
        raise BenchmarkError(f"{uri}: dataset {ds.name} uses {ds.scheme}://, not {scheme}://")
    if not path:
        raise BenchmarkError(f"{uri}: no benchmark named; expected {ds.uri_prefix}/NAME")
    return ds.benchmark(path)
