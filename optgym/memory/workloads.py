"""Workloads as data: the shipped model zoo (split by family), user files, MiniMalloc.

Every workload is a JSON file (:class:`~optgym.memory.graph.Workload`) under
``data/workloads/``, listed with its family and split in ``data/workloads/index.json``; the files
are made by ``scripts/build_memory_workloads.py`` with the same ``torch.export`` tracer a user's
model goes through (:mod:`.trace`). Splits hold whole families: ``train`` families train the
learned agents, ``validation`` families choose every setting, ``test`` families are only
measured. :func:`load_problem` also takes a path to a workload JSON, an ONNX file or an HLO text
file, and ``minimalloc/A`` ... ``minimalloc/K`` (packing problems, no ops).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from optgym.errors import BenchmarkError
from optgym.memory.graph import Workload
from optgym.memory.problem import Hardware, MemoryProblem, build_problem, get_hardware

DATA_DIR = Path(__file__).parent / "data" / "workloads"
INDEX_PATH = DATA_DIR / "index.json"


@lru_cache(maxsize=1)
def _index() -> dict:
    try:
        return json.loads(INDEX_PATH.read_text())
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{INDEX_PATH}: cannot read the workload index: {exc}") from exc


SPLITS = ("train", "validation", "test")


def workload_names(split: str | None = None) -> list[str]:
    """Names of the shipped workloads, optionally only one split (``train``, ``validation`` or ``test``)."""
    if split not in (None, *SPLITS):
        raise BenchmarkError(f"unknown split {split!r}; choose one of {SPLITS}")
    return [n for n, e in _index().items() if split is None or e["split"] == split]


def workload_split(name: str) -> str | None:
    """The split (``train``, ``validation``, ``test``) of a shipped workload, ``None`` otherwise."""
    entry = _index().get(name)
    return entry["split"] if entry else None


def workload_family(name: str) -> str | None:
    """The model family of a shipped workload (its split holds the whole family), ``None`` otherwise."""
    entry = _index().get(name)
    return entry.get("family") if entry else None


def load_workload(name: str | Path) -> Workload:
    """A shipped workload by name, or a workload JSON / ONNX file by path."""
    text = str(name)
    if text in _index():
        return Workload.load(DATA_DIR / f"{text}.json")
    path = Path(text)
    if path.suffix == ".onnx":
        from optgym.memory.onnx_import import read_onnx

        return read_onnx(path)
    if path.suffix == ".json" and path.exists():
        return Workload.load(path)
    if path.suffix in (".hlo", ".txt") and path.exists():
        from optgym.memory.hlo_import import read_hlo_file

        return read_hlo_file(path)
    raise BenchmarkError(
        f"unknown workload {text!r}: not a shipped workload ({', '.join(workload_names())}), "
        "nor an existing .json workload, .onnx or .hlo file (make one with 'optgym memory trace')"
    )


def load_problem(name: str, hardware: str | Hardware = "tpu-like") -> tuple[MemoryProblem, Hardware]:
    """A problem by name (shipped workload, ``minimalloc/X``) or by file path.

    Workloads are cut into allocation segments for the hardware (capacity = its fast memory);
    MiniMalloc problems keep their own capacity (1 MiB) and have no ops, so only packing applies.
    """
    hw = get_hardware(hardware)
    if str(name).startswith("minimalloc/"):
        from optgym.memory.minimalloc import load_minimalloc

        return load_minimalloc(str(name).split("/", 1)[1]), hw
    return build_problem(load_workload(name), hw), hw


def list_problems() -> list[str]:
    """Every problem name :func:`load_problem` accepts (besides file paths)."""
    from optgym.memory.minimalloc import MINIMALLOC_NAMES

    return workload_names() + [f"minimalloc/{n}" for n in MINIMALLOC_NAMES]
