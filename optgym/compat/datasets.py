"""CompilerGym's datasets API (``compiler_gym.datasets``) over optgym's registry.

:class:`Benchmark` is CompilerGym's: it compares equal to its URI string, pickles, has a
:class:`BenchmarkUri` with ``scheme``/``dataset``/``path``, can be made from a file's bytes
(``Benchmark.from_file``) and carries validation callbacks. :class:`Dataset` and
:class:`Datasets` are ``env.datasets`` and its entries. Underneath, each is an optgym
:class:`~optgym.datasets.Benchmark` or :class:`~optgym.datasets.Dataset`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from optgym.compat.errors import BenchmarkInitError
from optgym.datasets import Benchmark as CoreBenchmark
from optgym.datasets import Dataset as CoreDataset
from optgym.datasets import GeneratorDataset, get_benchmark, get_dataset, list_datasets, parse_uri
from optgym.datasets._util import is_bitcode
from optgym.errors import BenchmarkError, UnknownBenchmarkError

if TYPE_CHECKING:
    from optgym.compat.service import BenchmarkProto

__all__ = [
    "Benchmark", "BenchmarkInitError", "BenchmarkSource", "BenchmarkUri", "Dataset",
    "Datasets", "resolve_benchmark", "resolve_uri",
]


class BenchmarkUri(str):
    """A benchmark URI: a string (``benchmark://cbench-v1/crc32``) with its parts as
    attributes, as CompilerGym's was."""

    @property
    def scheme(self) -> str:
        """``benchmark``, ``generator`` or ``file``."""
        return self.split("://", 1)[0] if "://" in self else "benchmark"

    @property
    def dataset(self) -> str:
        """The dataset's name (``cbench-v1``); ``""`` for ``file://``."""
        return parse_uri(str(self))[1]

    @property
    def path(self) -> str:
        """The part after the dataset (``/crc32``), as CompilerGym gave it."""
        return "/" + parse_uri(str(self))[2] if self.scheme != "file" else parse_uri(str(self))[2]

    @classmethod
    def from_string(cls, uri: str) -> BenchmarkUri:
        """The URI of any form CompilerGym read (``cbench-v1/crc32`` gains its scheme)."""
        return cls(resolve_uri(uri))


def resolve_uri(benchmark: str | CoreBenchmark | Benchmark) -> str:
    """Normalize any URI form CompilerGym accepted into optgym's.

    ``cbench-v1/crc32`` gains its scheme; ``benchmark://csmith-v0/42`` and
    ``generator://csmith-v0/42`` both name csmith's seed 42 (optgym's generators use the
    ``generator://`` scheme); ``file://`` URIs and paths pass through.
    """
    if isinstance(benchmark, Benchmark):
        return str(benchmark.uri)
    if isinstance(benchmark, CoreBenchmark):
        return benchmark.uri
    uri = str(benchmark)
    scheme, dataset, path = parse_uri(uri)
    if scheme == "file" or (scheme is None and "/" not in uri and "://" not in uri
                            and Path(uri).suffix):
        return uri
    if scheme not in (None, "benchmark", "generator"):
        return uri  # get_benchmark names the schemes it knows
    try:
        prefix = get_dataset(dataset).uri_prefix
    except UnknownBenchmarkError:
        raise UnknownBenchmarkError(f"Dataset not found: benchmark://{dataset}"
                                    + (f"/{path}" if path else "")) from None
    if not path:
        raise UnknownBenchmarkError(f"{uri}: no benchmark named; expected DATASET/NAME")
    return f"{prefix}/{path}"


def resolve_benchmark(benchmark: str | CoreBenchmark | Benchmark) -> Benchmark:
    """The :class:`Benchmark` any CompilerGym URI form names (a Benchmark is kept as it is)."""
    if isinstance(benchmark, Benchmark):
        return benchmark
    if isinstance(benchmark, CoreBenchmark):
        return Benchmark(benchmark)
    return Benchmark(get_benchmark(resolve_uri(benchmark)))


@dataclass
class BenchmarkSource:
    """One source file of a benchmark (CompilerGym's ``BenchmarkSource``)."""

    filename: str
    contents: bytes


class _BytesBenchmark(CoreBenchmark):
    """A module given as bytes (bitcode or IR text) under a URI of the user's choosing."""

    def __init__(self, uri: str, data: bytes, *, names_content: bool):
        scheme, dataset, path = parse_uri(uri)
        super().__init__(uri, dataset or "user", path or uri, runnable=False)
        self.data = data
        self.uri_names_content = names_content

    def _load_bitcode(self) -> bytes:
        from optgym.datasets._util import user_module

        if not self.data:
            raise BenchmarkInitError(f'Failed to parse LLVM bitcode: "{self.uri}" (no data)')
        try:
            return user_module(self.data, what=self.uri)
        except BenchmarkError as exc:
            raise BenchmarkInitError(f'Failed to parse LLVM bitcode: "{self.uri}": {exc}') from None


class _ProtoBenchmark(_BytesBenchmark):
    """A benchmark made from CompilerGym's message: bytes, or a ``file:///`` path read when
    the benchmark is loaded."""

    def __init__(self, proto: BenchmarkProto):
        super().__init__(proto.uri, proto.program.contents, names_content=False)
        self.program_uri = proto.program.uri

    def _load_bitcode(self) -> bytes:
        if not self.data and self.program_uri:
            if not self.program_uri.startswith("file:///"):
                raise BenchmarkInitError("Invalid benchmark data URI. Only the file:/// scheme "
                                         f'is supported: "{self.program_uri}"')
            path = Path(self.program_uri[len("file://"):])
            if not path.is_file():
                raise FileNotFoundError(str(path))
            self.data = path.read_bytes()
        if not self.data:
            raise BenchmarkInitError(f"No program set in benchmark {self.uri}")
        return super()._load_bitcode()


class Benchmark(str):
    """A program to optimize, as CompilerGym showed it: a string, its URI
    (``env.benchmark == "benchmark://cbench-v1/crc32"``, ``json.dumps``, ``split("/")``),
    that also carries the program. ``uri`` is a :class:`BenchmarkUri`; ``core`` is the optgym
    benchmark an environment loads. Made from CompilerGym's ``BenchmarkProto`` message, it
    reads the program when it is loaded.
    """

    def __new__(cls, core: CoreBenchmark | BenchmarkProto) -> Benchmark:
        from optgym.compat.service import BenchmarkProto

        if isinstance(core, BenchmarkProto):
            core = _ProtoBenchmark(core)
        self = super().__new__(cls, core.uri)
        self.core = core
        self._validation_callbacks = []
        return self

    def __reduce__(self) -> tuple[type, tuple[CoreBenchmark]]:
        return (type(self), (self.core,))

    @property
    def uri(self) -> BenchmarkUri:
        """The benchmark's URI."""
        return BenchmarkUri(self.core.uri)

    @property
    def proto(self) -> BenchmarkProto:
        """CompilerGym's protocol-buffer view: ``proto.uri``, ``proto.program.contents``."""
        from optgym.compat.service import BenchmarkProto, File

        data = self.core.data if isinstance(self.core, _BytesBenchmark) else self.core.bitcode
        return BenchmarkProto(uri=self.core.uri, program=File(contents=data))

    @property
    def sources(self) -> list[BenchmarkSource]:
        """Source files, when the benchmark is a C file (else none)."""
        path = getattr(self.core, "path", None)
        if path is not None and Path(path).suffix == ".c":
            return [BenchmarkSource(Path(path).name, Path(path).read_bytes())]
        return []

    @classmethod
    def from_file(cls, uri: str, path: str | os.PathLike[str]) -> Benchmark:
        """A benchmark of the bitcode (or IR) in ``path``, read now, named ``uri``."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return cls.from_file_contents(uri, path.read_bytes())

    @classmethod
    def from_file_contents(cls, uri: str, data: bytes) -> Benchmark:
        """A benchmark of bitcode (or IR text) bytes, named ``uri``."""
        return cls(_BytesBenchmark(uri, bytes(data), names_content=False))

    # -- validation ------------------------------------------------------------------------
    def is_validatable(self) -> bool:
        """Whether anything checks this benchmark's behaviour after optimization: a callback
        added here, or a runnable program with a reference output."""
        return bool(self._validation_callbacks) or (
            self.core.runnable and self.core.uri.startswith("benchmark://"))

    @property
    def validation_callbacks(self) -> list[Callable[..., Iterable[str]]]:
        """The callbacks :meth:`validate` runs (``callback(env) -> errors``)."""
        return list(self._validation_callbacks)

    def add_validation_callback(self, callback: Callable[..., Iterable[str]]) -> None:
        """Add ``callback(env) -> errors`` to what :meth:`validate` runs."""
        self._validation_callbacks.append(callback)

    def ivalidate(self, env: object) -> Iterator[str]:
        """The errors every validation callback finds for ``env``'s current module."""
        for callback in self._validation_callbacks:
            yield from callback(env)

    def validate(self, env: object) -> list[str]:
        """The errors of :meth:`ivalidate`, as a list."""
        return list(self.ivalidate(env))

    # -- a benchmark is its URI ------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, CoreBenchmark):
            return other.uri == str(self)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return str.__str__(self)


class Dataset:
    """One dataset as CompilerGym showed it: ``name`` is ``benchmark://cbench-v1``, ``len()``
    its size (2^32 for a generator), ``benchmarks()`` and ``benchmark_uris()`` iterate.
    Every other attribute is the optgym :class:`~optgym.datasets.Dataset`'s."""

    def __init__(self, dataset: CoreDataset):
        self.dataset = dataset

    @property
    def name(self) -> str:
        """The dataset's URI prefix, as CompilerGym named datasets (``benchmark://cbench-v1``)."""
        return self.dataset.uri_prefix

    @property
    def size(self) -> int:
        """Number of benchmarks; a generator's seeds count 2^32."""
        if isinstance(self.dataset, GeneratorDataset):
            return self.dataset.max_seed + 1
        return self.dataset.size

    def __len__(self) -> int:
        return self.size

    def benchmark_uris(self) -> Iterator[str]:
        """The benchmarks' URIs, in order (a generator's without end)."""
        if isinstance(self.dataset, GeneratorDataset):
            prefix = self.dataset.uri_prefix
            return (f"{prefix}/{seed}" for seed in range(self.dataset.max_seed + 1))
        return iter(self.dataset.benchmark_uris())

    def benchmarks(self) -> Iterator[Benchmark]:
        """The benchmarks, in order (a generator's without end)."""
        return (Benchmark(b) for b in self.dataset.benchmarks())

    def benchmark(self, uri: str | None = None) -> Benchmark:
        """A benchmark by URI or name; with none, a random one (as CompilerGym did)."""
        if uri is None:
            return self.random_benchmark()
        if "://" in uri or uri.startswith(f"{self.dataset.name}/"):
            return resolve_benchmark(uri)
        return Benchmark(self.dataset.benchmark(uri))

    def random_benchmark(self, random_state: np.random.Generator | None = None) -> Benchmark:
        """A benchmark drawn uniformly with ``random_state`` (a fresh generator if None)."""
        return Benchmark(self.dataset.random_benchmark(random_state or np.random.default_rng()))

    def install(self) -> None:
        """Download the dataset if it is one of CompilerGym's published ones and missing."""
        if not self.dataset.installed:
            from optgym.datasets import download_dataset

            download_dataset(self.dataset.name)

    @property
    def deprecated(self) -> bool:
        """optgym deprecates no dataset."""
        return False

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dataset):
            return other.name == self.name
        if isinstance(other, str):
            return other in (self.name, self.dataset.name)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") or name == "dataset":  # also while unpickling
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __repr__(self) -> str:
        return self.name


class Datasets:
    """``env.datasets``: every dataset optgym knows, by name or URI prefix. ``deactivate``
    hides a dataset from iteration and random draws (it can still be named)."""

    def __init__(self) -> None:
        self._inactive: set[str] = set()

    def __getitem__(self, name: str) -> Dataset:
        return self.dataset(name)

    def __contains__(self, name: object) -> bool:
        try:
            self.dataset(str(name))
        except BenchmarkError:
            return False
        return True

    def __iter__(self) -> Iterator[Dataset]:
        return self.datasets()

    def __len__(self) -> int:
        return sum(1 for _ in self.datasets())

    def datasets(self, with_deprecated: bool = False) -> Iterator[Dataset]:
        """Every active dataset, finite ones first (``with_deprecated`` changes nothing:
        optgym deprecates none)."""
        return (Dataset(d) for d in list_datasets() if d.name not in self._inactive)

    def dataset(self, name: str | Dataset) -> Dataset:
        """The dataset called ``name`` or with that URI prefix; LookupError if there is none."""
        if isinstance(name, Dataset):
            return name
        try:
            return Dataset(get_dataset(str(name)))
        except UnknownBenchmarkError:
            raise UnknownBenchmarkError(f"Dataset not found: {name}") from None

    def require(self, name: str | Dataset) -> None:
        """Make sure a dataset is there: install (download) it if it is missing."""
        self.dataset(name).install()

    def deactivate(self, name: str | Dataset) -> None:
        """Leave a dataset out of iteration and random draws."""
        self._inactive.add(self.dataset(name).dataset.name)

    def activate(self, name: str | Dataset) -> None:
        """Undo :meth:`deactivate`."""
        self._inactive.discard(self.dataset(name).dataset.name)

    def benchmark(self, uri: str) -> Benchmark:
        """The benchmark any CompilerGym URI form names."""
        return resolve_benchmark(uri)

    def benchmark_uris(self, with_deprecated: bool = False) -> Iterator[str]:
        """URIs of every installed dataset's benchmarks, finite datasets first; generators
        last and without end."""
        for dataset in self.datasets():
            if dataset.installed:
                yield from dataset.benchmark_uris()

    def benchmarks(self, with_deprecated: bool = False) -> Iterator[Benchmark]:
        """Every installed dataset's benchmarks, in the order of :meth:`benchmark_uris`."""
        for uri in self.benchmark_uris():
            yield Benchmark(get_benchmark(uri))

    def random_benchmark(self, random_state: np.random.Generator | None = None,
                         weighted: bool = False) -> Benchmark:
        """A benchmark of an installed, active dataset chosen uniformly, then drawn from it."""
        rng = random_state or np.random.default_rng()
        installed = [d for d in self.datasets() if d.installed]
        return installed[int(rng.integers(len(installed)))].random_benchmark(rng)


def user_benchmark(data: bytes, what: str) -> Benchmark:
    """A benchmark of bitcode made in this process, under a fresh ``benchmark://user-v0/``
    URI (every call gets its own, as CompilerGym's did)."""
    digest = hashlib.sha1(data + str(time.time_ns()).encode() + os.urandom(8)).hexdigest()
    if not is_bitcode(data):
        raise BenchmarkInitError(f"{what}: not LLVM bitcode")
    return Benchmark(_BytesBenchmark(f"benchmark://user-v0/{digest[:16]}", data,
                                     names_content=True))

