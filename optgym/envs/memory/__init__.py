"""Memory-mapping environments (mallocGame-style): map the buffers of ML programs to fast and slow memory.

``optgym/memory-v0`` (:class:`MemoryMappingEnv`) maps traced PyTorch workloads onto a two-level
memory scored by a roofline cost model against an XLA-style heuristic; ``optgym/memory-packing-v0``
(:class:`MemoryPackingEnv`) packs every buffer into fast memory (the MiniMalloc production set).
"""

from __future__ import annotations

from optgym.envs.memory.env import MemoryMappingEnv, MemoryPackingEnv
from optgym.envs.memory.problem import (
    HARDWARE,
    CostModel,
    Hardware,
    MemoryProblem,
    get_hardware,
    validate_mapping,
)
from optgym.envs.memory.workloads import WORKLOAD_NAMES, list_problems, load_problem

__all__ = [
    "HARDWARE",
    "WORKLOAD_NAMES",
    "CostModel",
    "Hardware",
    "MemoryMappingEnv",
    "MemoryPackingEnv",
    "MemoryProblem",
    "get_hardware",
    "list_problems",
    "load_problem",
    "validate_mapping",
]
