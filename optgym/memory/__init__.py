"""Memory mapping (mallocGame-style): map the buffers of ML programs to fast and slow memory.

Its own product beside pass ordering (it shares only the cache, the limits and the training
framework). ``optgym/memory-v1`` (:class:`MemoryMappingEnv`) maps the allocation segments of a
workload (a traced model, stored as data) onto fast and slow memory, scored by a hazard-free
timeline (:mod:`.timeline`; :mod:`.check` replays any timeline independently) against XLA's
memory-space assignment (:mod:`.baselines`); ``optgym/memory-packing-v0``
(:class:`MemoryPackingEnv`) packs every buffer into fast memory (the MiniMalloc production set).
Bring your own model with :func:`trace_module` (``torch.export``), a JAX function or HLO text
(:mod:`.hlo_import`) or an ONNX file, and your own chip as a TOML file (:mod:`.hardware`). Agents
live in :mod:`optgym.memory.agents`, the ``optgym memory`` command in :mod:`.cli`.
"""

from __future__ import annotations

from optgym.memory.env import MemoryMappingEnv, MemoryPackingEnv
from optgym.memory.graph import Workload
from optgym.memory.problem import (
    HARDWARE,
    Hardware,
    MemoryProblem,
    get_hardware,
    validate_mapping,
)
from optgym.memory.timeline import CostModel
from optgym.memory.workloads import list_problems, load_problem, load_workload, workload_names


def check_mapping(*args, **kwargs):
    """Simulate a mapping and list its hazards (see :func:`optgym.memory.check.check_mapping`)."""
    from optgym.memory.check import check_mapping as _check

    return _check(*args, **kwargs)


def trace_module(*args, **kwargs) -> Workload:
    """Trace a ``torch.nn.Module`` into a workload (see :func:`optgym.memory.trace.trace_module`)."""
    from optgym.memory.trace import trace_module as _trace

    return _trace(*args, **kwargs)

__all__ = [
    "HARDWARE",
    "check_mapping",
    "CostModel",
    "Hardware",
    "MemoryMappingEnv",
    "MemoryPackingEnv",
    "MemoryProblem",
    "get_hardware",
    "list_problems",
    "load_problem",
    "Workload",
    "load_workload",
    "trace_module",
    "validate_mapping",
    "workload_names",
]
