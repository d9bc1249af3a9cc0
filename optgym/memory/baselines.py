"""The baselines that define ``optgym/memory-v0``'s reward, and simple reference policies.

**XLA-style memory-space assignment** (:func:`xla_mapping`, agent name ``xla``), after
``xla/service/memory_space_assignment`` (read, not copied). Modelled:

* the unit of allocation is the *use segment* (:func:`~optgym.memory.problem.build_problem`
  cuts tensors where their live range is too long to hold unused, as XLA's prefetch interval
  picker does), and segments of weights, inputs and long-idle activations are filled by
  asynchronous prefetches on a copy engine with its own bandwidth; evictions are copies too;
* segments are ranked by memory-boundedness (the timeline runtime saved by the segment alone,
  over the square root of its size), so compute-bound segments come last instead of being
  dropped;
* each segment goes to the smallest free gap over its interval (the global decreasing-size
  best-fit heap's rule); when none holds it, the allocations made so far are *repacked*
  (best fit by decreasing size, as XLA's best-fit repacker) and the segment retried, at most
  ``MAX_REPACKS`` times;
* an allocation is kept only if the timeline runtime does not grow (XLA checks that a prefetch
  can finish in time and that async-copy resources allow it; the timeline checks both at once).

Left out: cross-program prefetch, while-loop and conditional handling, sliced prefetches,
window prefetch, memory-bound loop optimization, scoped memory, retries with later prefetch
start times, and outstanding-copy limits other than the single in-order copy engine.

**Greedy benefit heuristic** (:func:`greedy_mapping`, agent name ``greedy``): the weaker
baseline this project used first: segments with a positive benefit by ``benefit / sqrt(size)``,
best fit, no repacking, no runtime check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optgym.memory.placement import Placement
from optgym.memory.problem import CostModel, Hardware, MemoryProblem, mapping_height


@dataclass
class MappingResult:
    """What every memory agent returns: the mapping, its estimated runtime, and the time spent."""

    mapping: np.ndarray  # offset per buffer, -1 = slow
    runtime: float  # seconds, by the cost model (0 for packing-only problems)
    seconds: float  # wall-clock time of the agent
    agent: str
    height: int = 0
    note: str = ""


def greedy_order(cost: CostModel) -> np.ndarray:
    """Buffers with a positive benefit, by decreasing ``benefit / sqrt(size)`` (ties: larger first)."""
    p = cost.problem
    score = cost.solo_benefit / np.sqrt(p.size)
    cand = np.flatnonzero(cost.solo_benefit > 0)
    return cand[np.lexsort((-p.size[cand], -score[cand]))]


def place_in_order(problem: MemoryProblem, order: np.ndarray, rule: str = "best",
                   capacity: int | None = None) -> np.ndarray:
    """Place buffers in ``order`` with best fit (or first fit); those that do not fit stay slow."""
    pl = Placement(problem, capacity)
    fit = pl.best_fit if rule == "best" else pl.first_fit
    for b in order:
        off = fit(int(b))
        if off >= 0:
            pl.place(int(b), off)
    return pl.offset


def greedy_mapping(problem: MemoryProblem, hardware: Hardware, cost: CostModel | None = None) -> MappingResult:
    """The weaker greedy-benefit baseline (see the module docstring)."""
    t0 = time.perf_counter()
    cost = cost or CostModel(problem, hardware)
    mapping = place_in_order(problem, greedy_order(cost))
    return MappingResult(mapping, cost.runtime(mapping), time.perf_counter() - t0, "greedy",
                         mapping_height(problem, mapping))


#: how often the XLA-style baseline may repack its allocations when a segment does not fit
MAX_REPACKS = 16


def xla_order(cost: CostModel) -> np.ndarray:
    """Every segment, most memory-bound first: timeline benefit over the square root of its
    size, decreasing (segments that save nothing alone come last, largest first). The square
    root, rather than the size, keeps large memory-bound segments ahead of many tiny ones
    (measured on the zoo: never worse than the greedy baseline, unlike benefit per byte)."""
    p = cost.problem
    ratio = cost.solo_benefit / np.sqrt(p.size)
    helpful = cost.solo_benefit > 0
    return np.lexsort((-p.size, -ratio, ~helpful)).astype(np.int64)


def repack(problem: MemoryProblem, subset: np.ndarray, capacity: int | None = None) -> np.ndarray | None:
    """Best-fit repacking of ``subset`` by decreasing size then start (XLA's best-fit repacker);
    offsets for the subset (-1 elsewhere), or None when it does not fit."""
    subset = np.asarray(subset, dtype=np.int64)
    order = subset[np.lexsort((problem.lower[subset], -problem.size[subset]))]
    offs = place_in_order(problem, order, "best", capacity)
    return offs if (offs[subset] >= 0).all() else None


def xla_complete(cost: CostModel, placement: Placement, order: np.ndarray,
                 max_repacks: int = MAX_REPACKS) -> tuple[float, int]:
    """Place the segments of ``order`` on top of ``placement`` (changed in place) by the
    XLA-style rule: best fit, repack when nothing fits, keep only what does not slow the
    timeline down. Returns ``(runtime, repacks used)``."""
    problem = cost.problem
    fast = placement.offset >= 0
    runtime = cost.timeline(fast)[0]
    repacks = 0
    for b in order:
        b = int(b)
        if fast[b]:
            continue
        before = None
        off = placement.best_fit(b)
        if off >= 0:
            placement.place(b, off)
        elif repacks < max_repacks:
            repacks += 1
            new = repack(problem, np.append(np.flatnonzero(fast), b))
            if new is None:
                continue
            before = placement.offset
            placement.offset = new
        else:
            continue
        fast[b] = True
        trial = cost.timeline(fast)[0]
        if trial <= runtime:
            runtime = trial
        else:
            fast[b] = False
            if before is not None:
                placement.offset = before
            else:
                placement.offset[b] = -1
    return runtime, repacks


def xla_mapping(problem: MemoryProblem, hardware: Hardware, cost: CostModel | None = None) -> MappingResult:
    """The XLA-style memory-space-assignment baseline (see the module docstring)."""
    t0 = time.perf_counter()
    cost = cost or CostModel(problem, hardware)
    pl = Placement(problem)
    _, repacks = xla_complete(cost, pl, xla_order(cost))
    mapping = pl.offset.copy()
    return MappingResult(mapping, cost.runtime(mapping), time.perf_counter() - t0, "xla",
                         mapping_height(problem, mapping),
                         f"{int((mapping >= 0).sum())} segments fast, {repacks} repacks")


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
