"""The baselines that define ``optgym/memory-v1``'s reward, and simple reference policies.

**XLA's memory-space assignment** (:func:`xla_mapping`, agent ``xla``), after
``xla/service/memory_space_assignment`` (read, not copied), with its defaults:

* **cost analysis**: each op's elapsed time is ``max(compute, memory)`` with everything in slow
  memory, compute the larger of FLOPs at the peak rate and transcendentals at their own rate;
  the pipeline-overhead window is XLA's default, 0;
* **order**: tensors by *memory boundedness*: the time their definition and uses save in fast
  memory (summed over memory-bound ops; for compute-bound ones, how far they are from memory
  bound, which is negative), over the square root of the size; a tensor's segments in time order;
* **residency**: a tensor's accesses share one allocation while the time between them is under
  10x the copy time of the whole fast memory (:func:`~optgym.memory.problem.build_problem`);
* **prefetches**: the cost-analysis prefetch interval picker: start from the issue op whose
  overlap is closest to 1.5 copy times, then alternate later and earlier ones within
  ``[0.8 copy times, the residency limit]`` (earlier ones thinned to about 100 steps once the
  later ones run out) until one has a free chunk (best fit) over its interval *and* the copy
  resource (each op's estimated time, used up by the copies overlapping it) has room for it;
* **evictions**: end where 1.5 copy times have overlapped, shrunk until the allocation can be
  extended at the same offset; when the copy resource cannot take it, later end times are
  retried as XLA's retry rule widens them ((1 + 2 retry) x 1.5 copy times, 3 tries); a tensor
  whose eviction finds no room stays in slow memory;
* **repacking**: none (XLA's default ``max_repacks = 0``); **acceptance**: the heap and the copy
  resource only. It never simulates the program.

**XLA + simulation** (:func:`xla_sim_mapping`, agent ``xla-sim``) is a stronger baseline that XLA
does not have: the same choices, each kept only when the whole-program timeline does not get
slower.

**Greedy benefit heuristic** (:func:`greedy_mapping`, agent ``greedy``): the weaker baseline
this project used first: segments with a positive benefit by ``benefit / sqrt(size)``, best fit
at their default intervals, no copy-resource check, no repacking.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from optgym.memory.hardware import Hardware
from optgym.memory.placement import Placement
from optgym.memory.problem import (
    MAX_OVERLAP_TO_MEM_SIZE,
    PREFETCH,
    PRODUCE_EVICT,
    IntervalClock,
    MemoryProblem,
    mapping_height,
    preferred_eviction_end,
    prefetch_window,
)
from optgym.memory.timeline import CostModel

#: XLA's prefetch picker explores at most this many earlier start times once later ones run out
EXPLORED_DECREASING = 100
#: eviction attempts: XLA's retry rule widens the preferred eviction window on each retry
EVICTION_TRIES = 3


@dataclass
class MappingResult:
    """What every memory agent returns: the mapping, its estimated runtime, and the time spent."""

    mapping: np.ndarray  # offset per buffer, -1 = slow
    runtime: float  # seconds, by the cost model (0 for packing-only problems)
    seconds: float  # wall-clock time of the agent
    agent: str
    height: int = 0
    note: str = ""
    intervals: tuple[np.ndarray, np.ndarray] | None = None  # (lo, hi); None: the defaults


def greedy_order(cost: CostModel) -> np.ndarray:
    """Buffers with a positive benefit, by decreasing ``benefit / sqrt(size)`` (ties: larger first)."""
    p = cost.problem
    score = cost.solo_benefit / np.sqrt(p.size)
    cand = np.flatnonzero(cost.solo_benefit > 0)
    return cand[np.lexsort((-p.size[cand], -score[cand]))]


def place_in_order(problem: MemoryProblem, order: np.ndarray, rule: str = "best",
                   capacity: int | None = None, intervals: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> np.ndarray:
    """Place buffers in ``order`` with best fit (or first fit) at their intervals (default: the
    problem's); those that do not fit stay slow."""
    pl = Placement(problem, capacity)
    if intervals is not None:
        pl.lo, pl.hi = np.asarray(intervals[0]).copy(), np.asarray(intervals[1]).copy()
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


def xla_order(cost: CostModel) -> np.ndarray:
    """Every segment in XLA's order: tensors by decreasing memory boundedness (ties: larger
    first, then earlier), each tensor's segments in time order."""
    p = cost.problem
    mem_bound = cost.op_mem_slow > cost.op_compute
    alt = np.zeros(p.n_buffers)
    # XLA's alternate-memory benefit of one access, folded over the tensor's definition and uses
    benefit_t: dict[int, float] = {}
    first_access: dict[int, int] = {}
    size_t: dict[int, int] = {}
    for b in range(p.n_buffers):
        s, e = cost.buf_ops_ptr[b], cost.buf_ops_ptr[b + 1]
        t = int(p.seg_tensor[b])
        size_t[t] = int(p.size[b])
        first_access[t] = min(first_access.get(t, 1 << 60), int(p.seg_first[b]))
        acc = benefit_t.get(t, 0.0)
        for op, sav in zip(cost.buf_ops[s:e].tolist(), cost.buf_saving[s:e].tolist(), strict=True):
            use = sav if mem_bound[op] else cost.op_mem_slow[op] - cost.op_compute[op]
            acc = acc + use if acc > 0 and use > 0 else max(acc, use)
        benefit_t[t] = acc
    for b in range(p.n_buffers):
        t = int(p.seg_tensor[b])
        alt[b] = benefit_t[t] / np.sqrt(size_t[t])
    return np.lexsort((p.seg_first, -p.size, [first_access[int(t)] for t in p.seg_tensor], -alt)).astype(np.int64)


class CopyResource:
    """XLA's asynchronous-copy resources: each op offers its estimated time to prefetches and,
    separately, to evictions; a copy overlapping ops ``s .. e-1`` needs its copy time out of
    theirs (taken from the earliest first)."""

    def __init__(self, est: np.ndarray):
        self.prefetch = _Resource(est)
        self.eviction = _Resource(est)


class _Resource:
    def __init__(self, est: np.ndarray):
        self.left = np.asarray(est, dtype=np.float64).copy()

    def has(self, s: int, e: int, need: float) -> bool:
        return bool(self.left[s:e].sum() >= need * (1 - 1e-9))

    def consume(self, s: int, e: int, need: float) -> None:
        for i in range(s, e):
            take = min(self.left[i], need)
            self.left[i] -= take
            need -= take
            if need <= 0:
                break


class XlaPlanner:
    """XLA's per-segment decisions over one problem (see the module docstring), shared by the
    baselines and the agents' rollouts."""

    def __init__(self, cost: CostModel):
        self.cost = cost
        p, hw = cost.problem, cost.hardware
        self.clock = IntervalClock(cost.est)
        self.max_elapsed = MAX_OVERLAP_TO_MEM_SIZE * p.capacity / hw.copy_bw
        e = p.op_ptr
        # what each op would save with one operand fast (XLA's "instruction elapsed reduction")
        self._read = {(int(p.op_buffers[k]), i): float(p.op_bytes[k]) for i in range(p.n_ops)
                      for k in range(e[i], e[i + 1])}
        self._starts: dict[tuple[int, int], list[int]] = {}

    def resource_for(self, placement: Placement) -> CopyResource:
        """A copy resource with the copies of ``placement``'s fast segments already taken out."""
        res = CopyResource(self.cost.est)
        p = self.cost.problem
        for b in np.flatnonzero(placement.offset >= 0):
            if p.seg_kind[b] == PREFETCH:
                res.prefetch.consume(int(placement.lo[b]), int(p.seg_first[b]), float(self.cost.copy_time[b]))
            elif p.seg_kind[b] == PRODUCE_EVICT:
                res.eviction.consume(int(p.seg_first[b]) + 1, int(placement.hi[b]), float(self.cost.copy_time[b]))
        return res

    def prefetch_starts(self, b: int, lo_min: int) -> list[int]:
        """Issue ops for segment ``b``'s prefetch in the picker's order (cached: rollouts ask
        for the same segments again and again)."""
        key = (b, lo_min)
        hit = self._starts.get(key)
        if hit is None:
            hit = self._starts[key] = list(self._picker_order(b, lo_min))
        return hit

    def _picker_order(self, b: int, lo_min: int) -> Iterator[int]:
        cost, p = self.cost, self.cost.problem
        use = int(p.seg_first[b])
        op = use
        nb = self._read.get((b, op), 0.0)
        c, m = cost.op_compute[op], cost.op_mem_slow[op]
        saving = max(c, m) - max(c, m - nb * (1 / cost.hardware.slow_bandwidth - 1 / cost.hardware.fast_bandwidth))
        earliest, latest, pref = prefetch_window(self.clock, float(cost.copy_time[b]), lo_min, use,
                                                 self.max_elapsed, saving)
        if earliest > latest:
            return
        yield pref
        up, down = pref + 1, pref - 1
        span = self.clock.ops(earliest, use) / EXPLORED_DECREASING
        while up <= latest or down >= earliest:
            if up <= latest:
                yield up
                up += 1
            if down >= earliest:
                yield down
                target = self.clock.ops(down, use) + (span if up > latest else 0.0)
                down -= 1
                while down >= earliest and self.clock.ops(down, use) < target:
                    down -= 1

    def place(self, pl: Placement, res: CopyResource, b: int) -> bool:
        """Try XLA's allocation of segment ``b``; place it (and take its copy out of ``res``) and
        return True, or leave it slow and return False."""
        p = self.cost.problem
        kind, first, last = int(p.seg_kind[b]), int(p.seg_first[b]), int(p.seg_last[b])
        copy_t = float(self.cost.copy_time[b])
        if kind == PREFETCH:
            lo_min = int(p.seg_lo_min[b])
            d = int(p.seg_dep[b])
            if d >= 0 and pl.offset[d] >= 0:
                lo_min = max(lo_min, int(pl.hi[d]))  # after the eviction that puts its data there
            if pl.best_fit(b, first, last + 1) < 0:
                return False  # no room even over the shortest window: none of the longer ones has any
            for s in self.prefetch_starts(b, lo_min):
                if not res.prefetch.has(s, first, copy_t):
                    continue
                off = pl.best_fit(b, s, last + 1)
                if off >= 0:
                    pl.place(b, off, s, last + 1)
                    res.prefetch.consume(s, first, copy_t)
                    return True
            return False
        off = pl.best_fit(b, first, last + 1)
        if off < 0:
            return False
        if kind != PRODUCE_EVICT:
            pl.place(b, off, first, last + 1)
            return True
        hi_max = int(p.seg_hi_max[b])
        tried: set[int] = set()
        for retry in range(EVICTION_TRIES):
            end = max(last + 1, min(hi_max, preferred_eviction_end(self.clock, copy_t, first, hi_max, retry)))
            while end > last + 1 and not pl.fits_at(b, off, first, end):
                end -= 1  # shrink to where the allocation extends at the same offset
            if end in tried:
                continue
            tried.add(end)
            if res.eviction.has(first + 1, end, copy_t):
                pl.place(b, off, first, end)
                res.eviction.consume(first + 1, end, copy_t)
                return True
        return False


def xla_complete(cost: CostModel, placement: Placement, order: np.ndarray, *, simulate: bool = False,
                 planner: XlaPlanner | None = None) -> tuple[float, int]:
    """Decide the segments of ``order`` on top of ``placement`` (changed in place) by XLA's rules;
    with ``simulate``, keep each only when the timeline does not get slower (``xla-sim``).
    Returns ``(runtime, segments placed)``."""
    planner = planner or XlaPlanner(cost)
    res = planner.resource_for(placement)
    runtime = cost.timeline(placement.offset >= 0, placement.intervals)[0] if simulate else 0.0
    placed = 0
    for b in order:
        b = int(b)
        if placement.offset[b] >= 0:
            continue
        before = None
        if simulate:
            before = (res.prefetch.left.copy(), res.eviction.left.copy(), int(placement.lo[b]),
                      int(placement.hi[b]))
        if not planner.place(placement, res, b):
            continue
        if simulate:
            trial = cost.timeline(placement.offset >= 0, placement.intervals)[0]
            if trial > runtime:
                res.prefetch.left, res.eviction.left = before[0], before[1]
                placement.place(b, -1, before[2], before[3])
                continue
            runtime = trial
        placed += 1
    if not simulate:
        runtime = cost.timeline(placement.offset >= 0, placement.intervals)[0]
    return runtime, placed


def _reset_slow_intervals(problem: MemoryProblem, pl: Placement) -> tuple[np.ndarray, np.ndarray]:
    """The placement's intervals, with slow segments back at their defaults (so equal mappings
    compare equal)."""
    lo, hi = pl.lo.copy(), pl.hi.copy()
    slow = pl.offset < 0
    lo[slow], hi[slow] = problem.lower[slow], problem.upper[slow]
    return lo, hi


def xla_mapping(problem: MemoryProblem, hardware: Hardware, cost: CostModel | None = None, *,
                simulate: bool = False) -> MappingResult:
    """XLA's memory-space assignment (see the module docstring); ``simulate=True`` is ``xla-sim``."""
    t0 = time.perf_counter()
    cost = cost or CostModel(problem, hardware)
    pl = Placement(problem)
    runtime, placed = xla_complete(cost, pl, xla_order(cost), simulate=simulate)
    intervals = _reset_slow_intervals(problem, pl)
    return MappingResult(pl.offset.copy(), cost.runtime(pl.offset, intervals), time.perf_counter() - t0,
                         "xla-sim" if simulate else "xla", mapping_height(problem, pl.offset),
                         f"{placed} segments fast", intervals)


def xla_sim_mapping(problem: MemoryProblem, hardware: Hardware, cost: CostModel | None = None) -> MappingResult:
    """The stronger ``xla-sim`` baseline: XLA's choices, each kept only if the timeline allows."""
    return xla_mapping(problem, hardware, cost, simulate=True)


def repack(problem: MemoryProblem, subset: np.ndarray, capacity: int | None = None,
           intervals: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray | None:
    """Best-fit packing of ``subset`` by decreasing size then start (XLA's best-fit repacker,
    which its default never calls); offsets for the subset (-1 elsewhere), or None when it does
    not fit."""
    subset = np.asarray(subset, dtype=np.int64)
    lo = problem.lower if intervals is None else intervals[0]
    order = subset[np.lexsort((lo[subset], -problem.size[subset]))]
    offs = place_in_order(problem, order, "best", capacity, intervals)
    return offs if (offs[subset] >= 0).all() else None


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
