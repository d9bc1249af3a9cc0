"""Memory-mapping environments (mallocGame-style): map the buffers of ML programs to fast and slow memory.

``optgym/memory-v0`` (:class:`MemoryMappingEnv`) maps the allocation segments of a workload (a
traced model, stored as data) onto fast and slow memory, scored by a timeline cost model with
asynchronous copies against an XLA-style memory-space-assignment baseline;
``optgym/memory-packing-v0`` (:class:`MemoryPackingEnv`) packs every buffer into fast memory (the
MiniMalloc production set). Bring your own model with :func:`trace_module` (``torch.export``) or
an ONNX file.
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


def trace_module(*args, **kwargs) -> Workload:
    """Trace a ``torch.nn.Module`` into a workload (see :func:`optgym.memory.trace.trace_module`)."""
    from optgym.memory.trace import trace_module as _trace

    return _trace(*args, **kwargs)

__all__ = [
    "HARDWARE",
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
