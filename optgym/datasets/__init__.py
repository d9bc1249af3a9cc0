"""Benchmark URIs and datasets: the built-in runnable C suite, csmith and llvm-stress
generators, single files, users' own projects and CompilerGym's published datasets.

>>> from optgym.datasets import get_benchmark, get_dataset
>>> b = get_benchmark("benchmark://builtin-v0/crc32")
>>> b.check_output(b.bitcode)
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optgym.datasets._util import (
    SPLITS,
    RunResult,
    build_executable,
    cache_root,
    count_instructions,
    run_executable,
    split_of,
)
from optgym.datasets.core import (
    Benchmark,
    Dataset,
    GeneratorDataset,
    get_benchmark,
    get_dataset,
    list_datasets,
    parse_uri,
    register_dataset,
    unregister_dataset,
)

if TYPE_CHECKING:
    from optgym.datasets.projects import ImportReport

__all__ = [
    "SPLITS",
    "Benchmark",
    "Dataset",
    "GeneratorDataset",
    "RunResult",
    "add_project",
    "build_executable",
    "cache_root",
    "count_instructions",
    "download_dataset",
    "get_benchmark",
    "get_dataset",
    "list_datasets",
    "parse_uri",
    "register_dataset",
    "run_executable",
    "split_of",
    "unregister_dataset",
]


def add_project(path: str | os.PathLike[str], name: str, **kwargs: Any) -> ImportReport:
    """Import a compile_commands.json or a directory of .c/.ll/.bc files as a persisted
    dataset; see :func:`optgym.datasets.projects.add_project`."""
    from optgym.datasets.projects import add_project as _add

    return _add(path, name, **kwargs)


def download_dataset(name: str, *, url: str | None = None, sha256: str | None = None, progress: bool = True, force: bool = False) -> Path:
    """Download, verify and unpack a published dataset (``cbench-v1``, ...); returns its
    directory. See :meth:`optgym.datasets.remote.RemoteDataset.download`."""
    from optgym.datasets.remote import RemoteDataset
    from optgym.errors import BenchmarkError

    ds = get_dataset(name)
    if not isinstance(ds, RemoteDataset):
        raise BenchmarkError(f"dataset {ds.name} is not downloadable (it ships with optgym or is generated)")
    return ds.download(url=url, sha256=sha256, progress=progress, force=force)
