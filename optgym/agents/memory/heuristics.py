"""Baselines for memory mapping: the XLA-style heuristic, random placement, best-fit packing.

The XLA-style heuristic follows the shape of XLA's memory-space assignment: every buffer gets a
benefit (the runtime it saves alone in fast memory, by the cost model), buffers are visited by
decreasing memory-boundedness ``benefit / sqrt(size)``, and each is placed by the global
decreasing-size best-fit heap's rule (the smallest free gap over its live range that holds it),
or left in slow memory when no gap holds it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optgym.envs.memory.placement import Placement
from optgym.envs.memory.problem import CostModel, Hardware, MemoryProblem, mapping_height


@dataclass
class MappingResult:
    """What every memory agent returns: the mapping, its estimated runtime, and the time spent."""

    mapping: np.ndarray  # offset per buffer, -1 = slow
    runtime: float  # seconds, by the cost model (0 for packing-only problems)
    seconds: float  # wall-clock time of the agent
    agent: str
    height: int = 0
    note: str = ""


def xla_order(cost: CostModel) -> np.ndarray:
    """Buffers with a positive benefit, by decreasing ``benefit / sqrt(size)`` (ties: larger first)."""
    p = cost.problem
    score = cost.solo_benefit / np.sqrt(p.size)
    cand = np.flatnonzero(cost.solo_benefit > 0)
    return cand[np.lexsort((-p.size[cand], -score[cand]))]


def place_in_order(problem: MemoryProblem, order: np.ndarray, rule: str = "best") -> np.ndarray:
    """Place buffers in ``order`` with best fit (or first fit); those that do not fit stay slow."""
    pl = Placement(problem)
    fit = pl.best_fit if rule == "best" else pl.first_fit
    for b in order:
        off = fit(int(b))
        if off >= 0:
            pl.place(int(b), off)
    return pl.offset


def xla_mapping(problem: MemoryProblem, hardware: Hardware, cost: CostModel | None = None) -> MappingResult:
    """The XLA-style baseline mapping."""
    t0 = time.perf_counter()
    cost = cost or CostModel(problem, hardware)
    mapping = place_in_order(problem, xla_order(cost))
    return MappingResult(mapping, cost.runtime(mapping), time.perf_counter() - t0, "xla",
                         mapping_height(problem, mapping))


def random_mapping(
    problem: MemoryProblem, hardware: Hardware, seed: int = 0, cost: CostModel | None = None
) -> MappingResult:
    """Random baseline: buffers in random order, each to fast memory with probability 1/2 at a
    random gap that holds it."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    cost = cost or CostModel(problem, hardware)
    pl = Placement(problem)
    for b in rng.permutation(problem.n_buffers):
        if rng.random() < 0.5:
            cands = pl.candidates(int(b), 8)
            if len(cands):
                pl.place(int(b), int(rng.choice(cands)))
    return MappingResult(pl.offset, cost.runtime(pl.offset), time.perf_counter() - t0, "random",
                         mapping_height(problem, pl.offset))


def best_fit_packing(problem: MemoryProblem) -> MappingResult:
    """Greedy packing of every buffer (decreasing size, each in the smallest free gap of an
    unbounded heap); its height is what a plain best-fit heap needs."""
    t0 = time.perf_counter()
    unbounded = int(problem.size.sum())
    pl = Placement(problem, capacity=unbounded)
    for b in np.lexsort((problem.lower, -problem.size)):
        pl.place(int(b), pl.best_fit(int(b)))
    h = mapping_height(problem, pl.offset)
    return MappingResult(pl.offset, 0.0, time.perf_counter() - t0, "best-fit", h)
