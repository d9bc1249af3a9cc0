"""Search agents: select-and-pack local search for mapping, and the packing-solver agent.

``search_mapping`` treats memory mapping as choosing the set of buffers that go to fast memory,
ranked by the roofline surrogate and accepted only when the timeline runtime drops, with feasibility decided by re-packing the chosen set: cheap greedy
packings first, then the dedicated packing solver (:mod:`optgym.memory.agents.packing`) under a
small time limit. It starts from the best of several greedy selections and the XLA-style mapping and improves
by insertions and swaps while the time budget lasts.

``pack_problem`` runs the packing solver on a packing problem (every buffer in fast memory).
"""

from __future__ import annotations

import time

import numpy as np

from optgym.memory.baselines import MappingResult, place_in_order, xla_order
from optgym.memory.placement import Placement
from optgym.memory.problem import CostModel, Hardware, MemoryProblem, mapping_height


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
    """Offsets placing every buffer of ``subset`` within ``capacity`` (-1 elsewhere), or None when
    neither the greedy packers nor the packing solver (within ``time_limit``) find one."""
    subset = np.asarray(subset, dtype=np.int64)
    if len(subset) == 0:
        return np.full(problem.n_buffers, -1, dtype=np.int64)
    offs = _greedy_pack(problem, subset, capacity)
    if offs is not None or time_limit <= 0:
        return offs
    try:
        from optgym.memory.agents.packing import pack
    except ImportError:  # the packing solver is optional for mapping
        return None
    res = pack(problem.lower[subset], problem.upper[subset], problem.size[subset], capacity,
               time_limit=time_limit)
    if res.status != "fit" or res.offsets is None:
        return None
    out = np.full(problem.n_buffers, -1, dtype=np.int64)
    out[subset] = np.asarray(res.offsets, dtype=np.int64)
    return out


def search_mapping(  # noqa: C901 - one anytime search loop whose budget checks sit beside each move
    problem: MemoryProblem,
    hardware: Hardware,
    *,
    time_limit: float = 10.0,
    pack_time: float = 0.3,
    cost: CostModel | None = None,
) -> MappingResult:
    """Select-and-pack local search (see the module docstring)."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    p = problem
    cost = cost or CostModel(p, hardware)
    cap = p.capacity
    cand = np.flatnonzero((cost.solo_benefit > 0) & (p.size <= cap))
    length = (p.upper - p.lower).astype(np.float64)
    ben = cost.solo_benefit
    starts = {
        "xla": xla_order(cost),
        "density": cand[np.argsort(-ben[cand] / p.size[cand], kind="stable")],
        "area": cand[np.argsort(-ben[cand] / (p.size[cand] * np.sqrt(length[cand])), kind="stable")],
        "benefit": cand[np.argsort(-ben[cand], kind="stable")],
    }
    best, best_rt, best_from = None, np.inf, ""
    for name, order in starts.items():
        for rule in ("best", "first"):
            m = place_in_order(p, order, rule)
            rt = cost.runtime(m)
            if rt < best_rt - 1e-15:
                best, best_rt, best_from = m, rt, f"{name}/{rule}"
    from optgym.memory.baselines import xla_mapping

    base = xla_mapping(p, hardware, cost)
    if base.runtime <= best_rt:
        best, best_rt, best_from = base.mapping, base.runtime, "xla"
    mapping = best.copy()
    current = best_rt
    improved = True
    moves = 0
    while improved and time.perf_counter() < deadline:
        improved = False
        fast = mapping >= 0
        op_mem = cost.op_mem(fast)
        gains = np.array([-cost.delta(op_mem, int(b)) if not fast[b] else 0.0 for b in cand])
        out_idx = cand[gains > 0]
        out_idx = out_idx[np.argsort(-(gains[gains > 0] / p.size[out_idx]), kind="stable")]
        for b in out_idx:
            if time.perf_counter() >= deadline:
                break
            b = int(b)
            pl = Placement(p)
            pl.offset = mapping.copy()
            off = pl.best_fit(b)
            if off >= 0:
                trial = mapping.copy()
                trial[b] = off
                rt = cost.runtime(trial)
                if rt < current - 1e-15:
                    mapping, current, improved, moves = trial, rt, True, moves + 1
                    break
                continue  # helps by the surrogate, not on the timeline (copy contention)
            subset = np.flatnonzero(mapping >= 0)
            new = repack(p, np.append(subset, b), cap, min(pack_time, deadline - time.perf_counter()))
            if new is not None and cost.runtime(new) < current - 1e-15:
                mapping, current, improved, moves = new, cost.runtime(new), True, moves + 1
                break
            # swap: drop one fast buffer live at the same time whose loss is smaller than b's gain
            gain_b = -cost.delta(op_mem, b)
            inside = pl.overlapping(b)
            losses = []
            for r in inside:
                om = op_mem.copy()
                cost.apply(om, int(r), sign=-1.0)
                losses.append(cost.delta(om, int(r)) * -1.0)
            losses = np.array(losses)
            for k in np.argsort(losses, kind="stable"):
                if losses[k] >= gain_b or time.perf_counter() >= deadline:
                    break
                r = int(inside[k])
                trial = set(subset.tolist()) - {r} | {b}
                new = repack(p, np.array(sorted(trial)), cap,
                             min(pack_time, deadline - time.perf_counter()))
                if new is not None:
                    rt = cost.runtime(new)
                    if rt < current - 1e-15:
                        mapping, current, improved, moves = new, rt, True, moves + 1
                        break
            if improved:
                break
    rt = cost.runtime(mapping)
    return MappingResult(mapping, rt, time.perf_counter() - t0, "search", mapping_height(p, mapping),
                         f"start {best_from}, {moves} improving moves")


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
