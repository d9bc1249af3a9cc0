"""Exact memory mapping with OR-Tools CP-SAT under a time limit.

Model: a presence literal and an offset per buffer (only buffers with a positive benefit are
candidates for fast memory); one NoOverlap2D constraint over (live interval x byte range) boxes of
the present buffers; per op, ``time_t >= compute_t`` and ``time_t >= slow memory time_t - savings
of its fast operands``, which is exactly the roofline ``max`` since the objective minimizes the
sum. Times are integers in picoseconds. Intervals are the segments' defaults. The solver gets the
greedy mapping (at those intervals) as a hint, so any answer it returns is at least as good on the
surrogate; the objective bound it proves is a lower bound on the surrogate of every mapping at
the default intervals (not on the timeline runtime: no copies, no stalls).
"""

from __future__ import annotations

import time

import numpy as np

from optgym.memory.baselines import MappingResult, greedy_mapping
from optgym.memory.problem import Hardware, MemoryProblem, mapping_height
from optgym.memory.timeline import CostModel

PICO = 1e12


def cpsat_mapping(
    problem: MemoryProblem,
    hardware: Hardware,
    *,
    time_limit: float = 20.0,
    workers: int = 2,
    cost: CostModel | None = None,
    hint: np.ndarray | None = None,
) -> MappingResult:
    """Best mapping CP-SAT finds within ``time_limit`` seconds (``note`` holds status and bound)."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    cost = cost or CostModel(problem, hardware)
    p = problem
    hint_intervals = None
    if hint is None:
        hint = greedy_mapping(p, hardware, cost).mapping
    cand = [int(b) for b in np.flatnonzero(cost.solo_benefit > 0) if p.size[b] <= p.capacity]
    m = cp_model.CpModel()
    x, o, xi, yi = {}, {}, [], []
    for b in cand:
        x[b] = m.NewBoolVar(f"fast{b}")
        o[b] = m.NewIntVar(0, int(p.capacity - p.size[b]), f"off{b}")
        xi.append(m.NewOptionalFixedSizeIntervalVar(int(p.lower[b]), int(p.upper[b] - p.lower[b]), x[b], f"t{b}"))
        yi.append(m.NewOptionalFixedSizeIntervalVar(o[b], int(p.size[b]), x[b], f"y{b}"))
        m.AddHint(x[b], int(hint[b] >= 0))
        m.AddHint(o[b], int(max(hint[b], 0)) if hint[b] >= 0 else 0)
    m.AddNoOverlap2D(xi, yi)
    # objective: sum over ops of max(compute, memory)
    comp = np.rint(cost.op_compute * PICO).astype(np.int64)
    mem_slow = np.rint(cost.op_mem_slow * PICO).astype(np.int64)
    terms: dict[int, list] = {}
    for b in cand:
        s, e = cost.buf_ops_ptr[b], cost.buf_ops_ptr[b + 1]
        for t, sav in zip(cost.buf_ops[s:e], cost.buf_saving[s:e], strict=True):
            terms.setdefault(int(t), []).append((x[b], int(round(sav * PICO))))
    objective = []
    constant = 0
    for t in range(p.n_ops):
        if t not in terms:
            constant += int(max(comp[t], mem_slow[t]))
            continue
        v = m.NewIntVar(int(comp[t]), int(max(comp[t], mem_slow[t])), f"op{t}")
        m.Add(v >= int(mem_slow[t]) - sum(c * lit for lit, c in terms[t]))
        objective.append(v)
    m.Minimize(sum(objective) + constant)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(workers)
    status = solver.Solve(m)
    mapping = np.full(p.n_buffers, -1, dtype=np.int64)
    intervals = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for b in cand:
            if solver.Value(x[b]):
                mapping[b] = solver.Value(o[b])
        bound = solver.BestObjectiveBound() / PICO
        note = f"{solver.StatusName(status).lower()}; lower bound {bound * 1e6:.3f} us"
    else:
        mapping, intervals = hint.copy(), hint_intervals
        bound = float("nan")
        note = f"{solver.StatusName(status).lower()}; kept the hint"
    rt = cost.runtime(mapping, intervals)
    res = MappingResult(mapping, rt, time.perf_counter() - t0, "cpsat", mapping_height(p, mapping), note,
                        intervals)
    res.bound = bound  # type: ignore[attr-defined]
    res.optimal = status == cp_model.OPTIMAL  # type: ignore[attr-defined]
    return res
