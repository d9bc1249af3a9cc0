"""An independent checker of timelines: no read before its data lands, no byte shared, no memory
faster than its bandwidth.

:func:`check_timeline` takes what a simulation *claims* happened (a
:class:`~optgym.memory.timeline.Timeline`: when each op ran, when each copy was issued, got an
engine and landed, and the copy rate in every constant-rate interval) and replays it against the
problem and the machine without using the simulator's own bookkeeping:

* **data before reads.** It derives, from the problem alone, where every byte an op reads must
  come from (the producer op, a prefetch, or slow memory after an eviction) and fails when the op
  starts before that data has landed; a prefetch of an evicted tensor may not begin before the
  eviction landed; the program's outputs must be back in slow memory before it ends.
* **capacity at every moment.** Each fast segment *owns* its bytes from its allocation (the
  producer's start, or the prefetch's issue) to the start of the op at its allocation's end (the
  program's end for the last). Every access to the segment (its prefetch, its readers, its
  eviction) must lie inside that window, and two segments whose windows overlap in time may not
  share a byte or pass the capacity.
* **bandwidth.** In every interval, the op's own streaming rate plus the copies' rates must stay
  within each memory's bandwidth, each copy within its engine's, and no more copies in flight
  than engines; every copy must have moved exactly its bytes, every op must last at least its
  compute and memory time.

``optgym memory check`` runs it on any agent's mapping; the tests run it on every shipped workload.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optgym.memory.hardware import Hardware
from optgym.memory.problem import PREFETCH, PRODUCE_EVICT, MemoryProblem
from optgym.memory.timeline import Timeline

REL = 1e-6  # relative tolerance on times, rates and bytes (float rounding)


@dataclass(frozen=True)
class Hazard:
    """One violation: its kind (``read-before-land``, ``capacity``, ``bandwidth``, ``structure``)
    and a sentence naming the op, segment or interval."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def _late(a: float, b: float, scale: float) -> bool:
    """True when time ``a`` is after time ``b`` by more than rounding."""
    return a > b + REL * scale


def check_timeline(problem: MemoryProblem, hw: Hardware, tl: Timeline, *,  # noqa: C901 - one replay, the three families of checks side by side
                   limit: int = 50) -> list[Hazard]:
    """Every hazard in the timeline (empty when it is sound); at most ``limit`` are listed."""
    p = problem
    out: list[Hazard] = []

    def add(kind: str, msg: str) -> None:
        if len(out) < limit:
            out.append(Hazard(kind, msg))

    n_ops, n = p.n_ops, p.n_buffers
    m = np.asarray(tl.mapping)
    fast = m >= 0
    lo, hi = np.asarray(tl.lo), np.asarray(tl.hi)
    scale = max(tl.runtime, 1e-12)
    name = p.buffer_names
    # ---------------------------------------------------------------- ops: order and duration
    for i in range(n_ops):
        if i and _late(tl.op_end[i - 1], tl.op_start[i], scale):
            add("structure", f"op {i} starts at {tl.op_start[i]:.3e} s before op {i - 1} ends")
    slow_b = np.zeros(n_ops)
    fast_b = np.zeros(n_ops)
    for i in range(n_ops):
        for k in range(p.op_ptr[i], p.op_ptr[i + 1]):
            (fast_b if fast[p.op_buffers[k]] else slow_b)[i] += p.op_bytes[k]
    compute = np.maximum(p.op_flops / hw.peak_flops, p.op_trans / hw.trans_rate)
    need = np.maximum(compute, slow_b / hw.slow_bandwidth + fast_b / hw.fast_bandwidth)
    dur = tl.op_end - tl.op_start
    for i in np.flatnonzero(dur < need * (1 - REL) - 1e-18):
        add("bandwidth", f"op {i} ({p.op_names[i]}) lasts {dur[i]:.3e} s, less than its "
            f"{need[i]:.3e} s of compute or memory time")
    end_of_program = tl.runtime
    if n_ops and _late(tl.op_end[-1], end_of_program, scale):
        add("structure", "the program ends before its last op")

    def start_of(op: int) -> float:
        return float(tl.op_start[op]) if op < n_ops else end_of_program

    # ---------------------------------------------------------------- the copies that must exist
    expect = {(int(b), True) for b in np.flatnonzero(fast & (p.seg_kind == PRODUCE_EVICT))}
    expect |= {(int(b), False) for b in np.flatnonzero(fast & (p.seg_kind == PREFETCH))}
    got: dict[tuple[int, bool], int] = {}
    for j in range(len(tl.copy_seg)):
        key = (int(tl.copy_seg[j]), bool(tl.copy_evict[j]))
        if key in got:
            add("structure", f"segment {key[0]} is copied twice")
        got[key] = j
        if not np.isfinite(tl.copy_end[j]) or not np.isfinite(tl.copy_begin[j]):
            add("read-before-land", f"the {'eviction' if key[1] else 'prefetch'} of {name[key[0]]} never lands")
    for key in sorted(expect - set(got)):
        add("read-before-land", f"{name[key[0]]} is fast but its {'eviction' if key[1] else 'prefetch'} is missing")
    for key in sorted(set(got) - expect):
        add("structure", f"a copy of {name[key[0]]} that the mapping does not call for")

    # ---------------------------------------------------------------- where each tensor's data is
    produce_seg: dict[int, int] = {}
    for b in range(n):
        if p.seg_kind[b] != PREFETCH and p.buffer_kinds[b] == "activation":
            produce_seg[int(p.seg_tensor[b])] = b

    def slow_ready(t: int) -> float:
        """When tensor ``t``'s data is in slow memory (weights and inputs: from the start)."""
        b = produce_seg.get(t)
        if b is None:
            return 0.0
        if fast[b]:
            j = got.get((b, True))
            return float(tl.copy_end[j]) if j is not None and np.isfinite(tl.copy_end[j]) else np.inf
        return float(tl.op_end[p.seg_first[b]])

    def fast_ready(b: int) -> float:
        if p.seg_kind[b] == PREFETCH:
            j = got.get((b, False))
            return float(tl.copy_end[j]) if j is not None and np.isfinite(tl.copy_end[j]) else np.inf
        return float(tl.op_start[p.seg_first[b]])  # the producer writes it

    # ---------------------------------------------------------------- reads after the data lands
    seg_ops: dict[int, list[int]] = {}
    for i in range(n_ops):
        for k in range(p.op_ptr[i], p.op_ptr[i + 1]):
            b = int(p.op_buffers[k])
            t = int(p.seg_tensor[b])
            seg_ops.setdefault(b, []).append(i)
            if fast[b]:
                if not (lo[b] <= i < hi[b]):
                    add("capacity", f"op {i} uses {name[b]} outside its allocation [{lo[b]}, {hi[b]})")
                if p.seg_kind[b] != PREFETCH and i == p.seg_first[b]:
                    continue  # the producer writes it
                if _late(fast_ready(b), tl.op_start[i], scale):
                    add("read-before-land", f"op {i} ({p.op_names[i]}) reads {name[b]} in fast memory at "
                        f"{tl.op_start[i] * 1e6:.3f} us; it lands at {fast_ready(b) * 1e6:.3f} us")
            else:
                b0 = produce_seg.get(t)
                if b0 is not None and i == p.seg_first[b0] and b == b0:
                    continue  # writing it
                if _late(slow_ready(t), tl.op_start[i], scale):
                    add("read-before-land", f"op {i} ({p.op_names[i]}) reads {name[b]} in slow memory at "
                        f"{tl.op_start[i] * 1e6:.3f} us; it lands there at {slow_ready(t) * 1e6:.3f} us")
    for t in np.flatnonzero(p.tensor_is_output):
        if int(t) in produce_seg and _late(slow_ready(int(t)), end_of_program, scale):
            add("read-before-land", f"output {name[produce_seg[int(t)]]} is written back at "
                f"{slow_ready(int(t)) * 1e6:.3f} us, after the program ends")

    # ---------------------------------------------------------------- when each segment's bytes are in use
    # from the first write (the prefetch's first byte, or the producer's start) to the last access
    # (the last reader's end, or the eviction's last byte)
    own0 = np.full(n, np.nan)
    own1 = np.full(n, np.nan)
    for b in np.flatnonzero(fast):
        b = int(b)
        readers = seg_ops.get(b, [])
        last_read = max((float(tl.op_end[i]) for i in readers), default=np.nan)
        if p.seg_kind[b] == PREFETCH:
            j = got.get((b, False))
            if j is None:
                continue
            own0[b] = tl.copy_begin[j]
            if lo[b] > 0 and _late(tl.op_end[lo[b] - 1], tl.copy_issue[j], scale):
                add("capacity", f"the prefetch of {name[b]} is issued before op {lo[b] - 1} ends, "
                    "ahead of its allocation")
            if _late(tl.copy_issue[j], tl.copy_begin[j], scale):
                add("structure", f"the prefetch of {name[b]} begins before it is issued")
            d = p.seg_dep[b]
            if _late(slow_ready(int(p.seg_tensor[b])), tl.copy_begin[j], scale):
                add("read-before-land", f"the prefetch of {name[b]} begins at {tl.copy_begin[j] * 1e6:.3f} us, "
                    f"before its data is in slow memory ({slow_ready(int(p.seg_tensor[b])) * 1e6:.3f} us)"
                    + (f" (eviction of {name[d]})" if d >= 0 else ""))
            own1[b] = max(last_read, float(tl.copy_end[j])) if readers else float(tl.copy_end[j])
        else:
            own0[b] = tl.op_start[p.seg_first[b]]
            own1[b] = last_read
            if p.seg_kind[b] == PRODUCE_EVICT and (b, True) in got:
                j = got[(b, True)]
                if _late(tl.op_end[p.seg_first[b]], tl.copy_begin[j], scale):
                    add("read-before-land", f"the eviction of {name[b]} begins before its producer ends")
                own1[b] = max(own1[b], float(tl.copy_end[j]))
                if hi[b] < n_ops and _late(tl.copy_end[j], tl.op_start[hi[b]], scale):
                    add("read-before-land", f"the eviction of {name[b]} lands after op {hi[b]} starts, "
                        "which it must precede")
    idx = np.flatnonzero(fast & np.isfinite(own0))
    for b in idx:
        if m[b] < 0 or m[b] + p.size[b] > p.capacity:
            add("capacity", f"{name[b]} at [{m[b]}, {m[b] + p.size[b]}) is outside fast memory [0, {p.capacity})")
    order = idx[np.argsort(own0[idx], kind="stable")]
    for a_i, a in enumerate(order):
        for c in order[a_i + 1:]:
            if own0[c] >= own1[a] - REL * scale:
                break
            if own1[c] <= own0[a] + REL * scale:
                continue
            if m[a] < m[c] + p.size[c] and m[c] < m[a] + p.size[a]:
                add("capacity", f"{name[a]} and {name[c]} share fast-memory bytes while both own them "
                    f"({own0[a] * 1e6:.3f}-{own1[a] * 1e6:.3f} us and {own0[c] * 1e6:.3f}-{own1[c] * 1e6:.3f} us)")
    # live bytes at every window start (a direct capacity sum, besides the pairwise test)
    if len(idx):
        for t0 in np.unique(own0[idx]):
            live = idx[(own0[idx] <= t0) & (own1[idx] > t0 + REL * scale)]
            total = int(p.size[live].sum())
            if total > p.capacity:
                add("capacity", f"{total:,} bytes live in fast memory at {t0 * 1e6:.3f} us, capacity {p.capacity:,}")

    # ---------------------------------------------------------------- bandwidth
    moved = np.zeros(len(tl.copy_seg))
    bs, bf, cbw = hw.slow_bandwidth, hw.fast_bandwidth, hw.copy_bw
    op_time = np.zeros(n_ops)
    for v in range(len(tl.iv_t0)):
        dt = float(tl.iv_t1[v] - tl.iv_t0[v])
        if dt <= 0:
            continue
        i = int(tl.iv_op[v])
        copies = tl.iv_copies[tl.iv_ptr[v]:tl.iv_ptr[v + 1]]
        k, r = len(copies), float(tl.iv_rate[v])
        if i >= 0:
            op_time[i] += dt
            if _late(tl.op_start[i], tl.iv_t0[v], scale) or _late(tl.iv_t1[v], tl.op_end[i], scale):
                add("structure", f"interval {v} runs op {i} outside the op's own start and end")
        us = slow_b[i] / dur[i] if i >= 0 and dur[i] > 0 else 0.0
        uf = fast_b[i] / dur[i] if i >= 0 and dur[i] > 0 else 0.0
        if k > hw.copy_engines:
            add("bandwidth", f"{k} copies in flight at {tl.iv_t0[v] * 1e6:.3f} us on {hw.copy_engines} engine(s)")
        if k and r > cbw * (1 + REL):
            add("bandwidth", f"a copy moves {r:.3e} B/s at {tl.iv_t0[v] * 1e6:.3f} us, its engine allows {cbw:.3e}")
        if us + k * r > bs * (1 + REL):
            add("bandwidth", f"slow memory moves {us + k * r:.4e} B/s at {tl.iv_t0[v] * 1e6:.3f} us "
                f"(op {i}: {us:.3e}, {k} copies: {k * r:.3e}); its bandwidth is {bs:.3e}")
        if uf + k * r > bf * (1 + REL):
            add("bandwidth", f"fast memory moves {uf + k * r:.4e} B/s at {tl.iv_t0[v] * 1e6:.3f} us; "
                f"its bandwidth is {bf:.3e}")
        for j in copies:
            if _late(tl.copy_begin[j], tl.iv_t0[v], scale) or _late(tl.iv_t1[v], tl.copy_end[j], scale):
                add("structure", f"copy {j} moves data outside its own begin and end")
            moved[j] += r * dt
    for j in range(len(tl.copy_seg)):
        want = float(p.size[tl.copy_seg[j]])
        if abs(moved[j] - want) > REL * want + 1.0:
            add("bandwidth", f"the {'eviction' if tl.copy_evict[j] else 'prefetch'} of {name[tl.copy_seg[j]]} "
                f"moved {moved[j]:,.0f} of its {want:,.0f} bytes between its begin and end")
    for i in np.flatnonzero(np.abs(op_time - dur) > REL * scale):
        add("structure", f"op {i}'s intervals cover {op_time[i]:.3e} s of its {dur[i]:.3e} s")
    return out


def check_mapping(problem: MemoryProblem, hw: Hardware, mapping: np.ndarray,
                  intervals: tuple[np.ndarray, np.ndarray] | None = None) -> list[Hazard]:
    """Simulate a mapping and check its timeline (:func:`check_timeline`)."""
    from optgym.memory.timeline import CostModel

    return check_timeline(problem, hw, CostModel(problem, hw).trace(mapping, intervals))
