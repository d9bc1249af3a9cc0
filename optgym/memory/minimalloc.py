"""Loader of the eleven MiniMalloc production buffer-allocation problems shipped as package data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from optgym.errors import BenchmarkError
from optgym.memory.problem import MemoryProblem

DATA_DIR = Path(__file__).parent / "data" / "minimalloc"
MINIMALLOC_NAMES = tuple("ABCDEFGHIJK")


def read_minimalloc_csv(path: str | Path, name: str | None = None) -> MemoryProblem:
    """Read a MiniMalloc CSV (``id,lower,upper,size``; capacity in the file name ``X.CAP.csv``)."""
    path = Path(path)
    parts = path.name.split(".")
    if len(parts) < 3 or not parts[-2].isdigit():
        raise BenchmarkError(f"{path}: expected a file name like 'A.1048576.csv' (capacity in bytes)")
    capacity = int(parts[-2])
    ids, lo, up, sz = [], [], [], []
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or not {"lower", "upper", "size"} <= set(reader.fieldnames):
                raise BenchmarkError(f"{path}: header must contain lower, upper, size")
            for row in reader:
                ids.append(row.get("id", str(len(ids))))
                lo.append(int(row["lower"]))
                up.append(int(row["upper"]))
                sz.append(int(row["size"]))
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{path}: cannot read MiniMalloc CSV: {exc}") from exc
    return MemoryProblem(
        name=name or f"minimalloc/{parts[0]}",
        lower=np.array(lo),
        upper=np.array(up),
        size=np.array(sz),
        capacity=capacity,
        buffer_names=ids,
        buffer_kinds=["buffer"] * len(ids),
    )


def load_minimalloc(letter: str) -> MemoryProblem:
    """One of the shipped problems, ``'A'`` ... ``'K'``."""
    matches = sorted(DATA_DIR.glob(f"{letter}.*.csv"))
    if letter not in MINIMALLOC_NAMES or not matches:
        raise BenchmarkError(
            f"unknown MiniMalloc problem {letter!r}; choose one of {list(MINIMALLOC_NAMES)}"
        )
    return read_minimalloc_csv(matches[0], name=f"minimalloc/{letter}")
