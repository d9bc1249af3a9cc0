"""CompilerGym's view of datasets (``env.datasets["cbench-v1"]``) over optgym's registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from optgym.datasets import (
    Benchmark,
    Dataset,
    GeneratorDataset,
    get_benchmark,
    get_dataset,
    list_datasets,
    parse_uri,
)
from optgym.errors import BenchmarkError


def resolve_uri(benchmark: str | Benchmark) -> str:
    """Normalize any URI form CompilerGym accepted into optgym's.

    ``cbench-v1/crc32`` gains its scheme; ``benchmark://csmith-v0/42`` and
    ``generator://csmith-v0/42`` both name csmith's seed 42 (optgym's generators use the
    ``generator://`` scheme); ``file://`` URIs and paths pass through.
    """
    if isinstance(benchmark, Benchmark):
        return benchmark.uri
    uri = str(benchmark)
    scheme, dataset, path = parse_uri(uri)
    if scheme == "file" or (scheme is None and "/" not in uri):
        return uri
    if scheme not in (None, "benchmark", "generator"):
        return uri  # get_benchmark names the schemes it knows
    if not path:
        raise BenchmarkError(f"{uri}: no benchmark named; expected DATASET/NAME")
    return f"{get_dataset(dataset).uri_prefix}/{path}"


def resolve_benchmark(benchmark: str | Benchmark) -> Benchmark:
    """The :class:`~optgym.datasets.Benchmark` any CompilerGym URI form names."""
    if isinstance(benchmark, Benchmark):
        return benchmark
    return get_benchmark(resolve_uri(benchmark))


class CompatDataset:
    """One dataset as CompilerGym showed it: ``name`` is ``benchmark://cbench-v1``, ``len()``
    is its size (2^32 for a generator), ``benchmarks()`` and ``benchmark_uris()`` iterate.

    Every other attribute is the optgym :class:`~optgym.datasets.Dataset`'s.
    """

    def __init__(self, dataset: Dataset):
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
        return iter(self.dataset.benchmarks())

    def benchmark(self, uri: str | None = None) -> Benchmark:
        """A benchmark by URI or name; with none, a random one (as CompilerGym did)."""
        if uri is None:
            return self.random_benchmark()
        if "://" in uri or uri.startswith(f"{self.dataset.name}/"):
            return resolve_benchmark(uri)
        return self.dataset.benchmark(uri)

    def random_benchmark(self, random_state: np.random.Generator | None = None) -> Benchmark:
        """A benchmark drawn uniformly with ``random_state`` (a fresh generator if None)."""
        return self.dataset.random_benchmark(random_state or np.random.default_rng())

    def install(self) -> None:
        """Download the dataset if it is one of CompilerGym's published ones and missing."""
        if not self.dataset.installed:
            from optgym.datasets import download_dataset

            download_dataset(self.dataset.name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dataset, name)

    def __repr__(self) -> str:
        return f"CompatDataset({self.name!r})"


class CompatDatasets:
    """``env.datasets``: every dataset optgym knows, indexed by name or URI prefix."""

    def __getitem__(self, name: str) -> CompatDataset:
        return CompatDataset(get_dataset(name))

    def __contains__(self, name: object) -> bool:
        try:
            get_dataset(str(name))
        except BenchmarkError:
            return False
        return True

    def __iter__(self) -> Iterator[CompatDataset]:
        return self.datasets()

    def __len__(self) -> int:
        return len(list_datasets())

    def datasets(self, with_deprecated: bool = False) -> Iterator[CompatDataset]:
        """Every dataset, finite ones first (``with_deprecated`` is accepted and ignored:
        optgym deprecates none)."""
        return (CompatDataset(d) for d in list_datasets())

    def dataset(self, name: str) -> CompatDataset:
        """The dataset called ``name`` or with that URI prefix."""
        return self[name]

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
            yield get_benchmark(uri)

    def random_benchmark(self, random_state: np.random.Generator | None = None) -> Benchmark:
        """A benchmark of an installed dataset chosen uniformly, then drawn from it."""
        rng = random_state or np.random.default_rng()
        installed = [d for d in self.datasets() if d.installed]
        return installed[int(rng.integers(len(installed)))].random_benchmark(rng)
