"""Search agents: anytime local search for mapping, and the packing-solver agent.

``search_mapping`` starts from the best of the baselines (XLA, XLA + simulation, greedy) and
improves the mapping with moves the timeline scores exactly: put a slow segment in fast memory
(best fit over its default interval, or over another valid prefetch start or eviction end),
make room for it by sending the fast segments in its way to slow memory, send a fast segment to
slow memory, or move a prefetch's start or an eviction's end. It keeps every move that makes the
timeline faster. When a whole round of moves finds nothing, it restarts from the best mapping with
a random part of its fast segments sent back to slow memory, so it searches until the time
limit, never stopping early. ``max_evals`` bounds the timeline simulations instead, counting
those its starting points spent (for comparisons at equal simulations).

``pack_problem`` runs the packing solver on a packing problem (every buffer in fast memory).
"""

from __future__ import annotations

import time

import numpy as np

from optgym.memory.baselines import MappingResult, greedy_mapping, place_in_order, xla_mapping
from optgym.memory.placement import Placement
from optgym.memory.problem import PREFETCH, PRODUCE_EVICT, Hardware, MemoryProblem, mapping_height
from optgym.memory.timeline import CostModel


def _greedy_pack(problem: MemoryProblem, subset: np.ndarray, capacity: int) -> np.ndarray | None:
    """Try a few greedy best-fit orders; offsets for ``subset`` (-1 elsewhere) or None."""
    p = problem
    orders = (
        np.lexsort((p.lower[subset], -p.size[subset])),
        np.lexsort((-p.size[subset], p.lower[subset])),
        np.lexsort((p.lower[subset], -(p.size[subset] * (p.upper[subset] - p.lower[subset])))),
    )
    for rule in ("best", "first"):
        for order in orders:
            offs = place_in_order(p, subset[order], rule)
            if (offs[subset] >= 0).all():
                return offs
    return None


def repack(problem: MemoryProblem, subset: np.ndarray, capacity: int, time_limit: float) -> np.ndarray | None:
    """Offsets placing every buffer of ``subset`` within ``capacity`` at default intervals (-1
    elsewhere), or None when neither the greedy packers nor the packing solver (within
    ``time_limit``) find one."""
    subset = np.asarray(subset, dtype=np.int64)
    if len(subset) == 0:
        return np.full(problem.n_buffers, -1, dtype=np.int64)
    offs = _greedy_pack(problem, subset, capacity)
    if offs is not None or time_limit <= 0:
        return offs
    from optgym.memory.agents.packing import pack

    res = pack(problem.lower[subset], problem.upper[subset], problem.size[subset], capacity,
               time_limit=time_limit)
    if res.status != "fit" or res.offsets is None:
        return None
    out = np.full(problem.n_buffers, -1, dtype=np.int64)
    out[subset] = np.asarray(res.offsets, dtype=np.int64)
    return out


class _Searcher:
    """The local search's state and moves (see the module docstring)."""

    def __init__(self, cost: CostModel, rng: np.random.Generator):
        self.cost, self.rng = cost, rng
        self.p = cost.problem
        self.evals = 0

    def score(self, pl: Placement) -> float:
        self.evals += 1
        return self.cost.timeline(pl.offset >= 0, pl.intervals)[0]

    def _random_interval(self, pl: Placement, b: int) -> tuple[int, int]:
        lo_min, lo_max, hi_min, hi_max = self.p.interval_range(b)
        if self.p.seg_kind[b] == PREFETCH:
            d = int(self.p.seg_dep[b])
            if d >= 0 and pl.offset[d] >= 0:
                lo_min = min(max(lo_min, int(pl.hi[d])), lo_max)
        return int(self.rng.integers(lo_min, lo_max + 1)), int(self.rng.integers(hi_min, hi_max + 1))

    def propose(self, pl: Placement, b: int) -> Placement | None:  # noqa: C901 - one move per case, side by side
        """A neighbour of ``pl`` that changes segment ``b`` (None when the move is impossible)."""
        p, rng = self.p, self.rng
        q = pl.copy()
        kind = int(p.seg_kind[b])
        if pl.offset[b] >= 0:
            if kind in (PREFETCH, PRODUCE_EVICT) and rng.random() < 0.5:
                lo, hi = self._random_interval(pl, b)
                lo = lo if kind == PREFETCH else int(pl.lo[b])
                hi = hi if kind == PRODUCE_EVICT else int(pl.hi[b])
                if (lo, hi) == (pl.lo[b], pl.hi[b]) or not q.fits_at(b, int(pl.offset[b]), lo, hi):
                    return None
                q.place(b, int(pl.offset[b]), lo, hi)
            else:
                q.place(b, -1, int(p.lower[b]), int(p.upper[b]))
            return q
        lo, hi = (int(p.lower[b]), int(p.upper[b])) if rng.random() < 0.5 else self._random_interval(pl, b)
        if kind == PREFETCH:
            d = int(p.seg_dep[b])
            if d >= 0 and pl.offset[d] >= 0 and lo < pl.hi[d]:
                return None
        off = q.best_fit(b, lo, hi)
        if off < 0:
            # make room: send the fast segments in the way to slow memory, then place it
            blockers = q.overlapping(b, lo, hi)
            if len(blockers) == 0:
                return None
            k = int(rng.integers(1, min(3, len(blockers)) + 1))
            for r in rng.choice(blockers, size=k, replace=False):
                q.place(int(r), -1, int(p.lower[r]), int(p.upper[r]))
            off = q.best_fit(b, lo, hi)
            if off < 0:
                return None
        q.place(b, off, lo, hi)
        return q


def search_mapping(problem: MemoryProblem, hardware: Hardware, *, time_limit: float = 10.0,
                   cost: CostModel | None = None, seed: int = 0, max_evals: int | None = None,
                   restart_fraction: float = 0.2) -> MappingResult:
    """Anytime local search with restarts (see the module docstring). ``time_limit`` is in CPU
    seconds of this process (as the packing solver's), so a busy machine does not change what it
    finds; ``max_evals``, when given, caps the timeline simulations."""
    t0 = time.perf_counter()
    deadline = time.process_time() + time_limit
    p = problem
    cost = cost or CostModel(p, hardware)
    sims0 = cost.simulations  # the starts' simulations (XLA + simulation) count too
    rng = np.random.default_rng(seed)
    searcher = _Searcher(cost, rng)
    starts = [xla_mapping(p, hardware, cost), xla_mapping(p, hardware, cost, simulate=True),
              greedy_mapping(p, hardware, cost)]
    start = min(starts, key=lambda r: r.runtime)
    best = Placement(p)
    best.offset = start.mapping.copy()
    if start.intervals is not None:
        best.lo, best.hi = start.intervals[0].copy(), start.intervals[1].copy()
    best_rt = searcher.score(best)
    cur, cur_rt = best.copy(), best_rt
    moves = restarts = stale = 0
    n = p.n_buffers

    def budget_left() -> bool:
        return time.process_time() < deadline and (max_evals is None or cost.simulations - sims0 < max_evals)

    while budget_left():
        b = int(rng.integers(n))
        q = searcher.propose(cur, b)
        if q is None:
            stale += 1
        else:
            rt = searcher.score(q)
            if rt < cur_rt - 1e-15:
                cur, cur_rt, stale = q, rt, 0
                moves += 1
                if rt < best_rt - 1e-15:
                    best, best_rt = cur.copy(), rt
            else:
                stale += 1
        if stale > 3 * n:
            # a local optimum: restart from the best with part of its fast segments sent back
            cur = best.copy()
            fast = np.flatnonzero(cur.offset >= 0)
            if len(fast):
                for r in rng.choice(fast, size=max(1, int(restart_fraction * len(fast))), replace=False):
                    cur.place(int(r), -1, int(p.lower[r]), int(p.upper[r]))
            cur_rt = searcher.score(cur)
            restarts += 1
            stale = 0
    mapping = best.offset.copy()
    lo, hi = best.lo.copy(), best.hi.copy()
    slow = mapping < 0
    lo[slow], hi[slow] = p.lower[slow], p.upper[slow]
    rt = cost.runtime(mapping, (lo, hi))
    return MappingResult(mapping, rt, time.perf_counter() - t0, "search", mapping_height(p, mapping),
                         f"start {start.agent}, {moves} improving moves, {restarts} restarts, "
                         f"{cost.simulations - sims0} simulations", (lo, hi))


def pack_problem(problem: MemoryProblem, *, time_limit: float = 30.0) -> MappingResult:
    """Every buffer in fast memory with the packing solver; ``height`` is the peak it reaches."""
    from optgym.memory.agents.packing import pack

    t0 = time.perf_counter()
    res = pack(problem.lower, problem.upper, problem.size, problem.capacity, time_limit=time_limit)
    if res.offsets is None:
        from optgym.memory.baselines import best_fit_packing

        fb = best_fit_packing(problem)
        return MappingResult(fb.mapping, 0.0, time.perf_counter() - t0, "pack", fb.height,
                             f"{res.status}; fell back to best fit")
    offs = np.asarray(res.offsets, dtype=np.int64)
    return MappingResult(offs, 0.0, time.perf_counter() - t0, "pack", mapping_height(problem, offs),
                         res.status)


def solve_packing_env(env, *, time_limit: float = 30.0) -> dict:
    """The packing-solver agent on ``optgym/memory-packing-v0``: solve the env's problem with the
    packing solver, then play the solution in the env (buffers by increasing offset, each at the
    lowest offset that fits, which is action 0), so the env itself checks it. Returns the final info."""
    res = pack_problem(env.problem, time_limit=time_limit)
    p = env.problem
    order = np.lexsort((p.lower, res.mapping))
    _, info = env.reset(options={"order": order})
    done = False
    while not done:
        _, _, done, _, info = env.step(0)
    info["solver_status"] = res.note
    return info
