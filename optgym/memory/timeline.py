"""The timeline cost model: what a mapping's program takes, copy by copy and op by op.

Ops run one at a time in schedule order. Op ``i`` takes ``max(compute, memory)``: compute is the
larger of its FLOPs at the peak rate and its transcendentals at their own rate; memory sums each
access's bytes over the bandwidth of the memory its segment is in (plus XLA's pipeline overhead
for slow-memory streaming, off by default). Copies run on the copy engines (``copy_engines`` at
once, each at most ``copy_bw``), in issue order, while ops run. **Copies and ops share each
memory's bandwidth**: an op streams at ``bytes / duration`` from each memory, and the copies in
flight split what is left of both memories' bandwidth (an op is not slowed by copies; copies slow
down under memory-bound ops and speed up while the core stalls).

No read happens before its data lands:

* a prefetch is issued before the op at its allocation's start, and the segment's first use
  waits until it has landed; a prefetch of an evicted tensor starts only once the eviction landed;
* an eviction is issued when its producer finishes; the op at the allocation's end waits for it,
  so a slow-memory read of that tensor, or the next tenant of those bytes, never comes early;
* the program's outputs are written back: the program ends when their evictions have landed.

:meth:`CostModel.runtime` is the fast path agents call; :meth:`CostModel.trace` records every
op, copy and constant-rate interval for :mod:`optgym.memory.check` and the time-axis view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from optgym.memory.hardware import Hardware
from optgym.memory.problem import (
    PREFETCH,
    PRODUCE_EVICT,
    SLOW,
    Intervals,
    MemoryProblem,
    check_intervals,
    op_estimates,  # noqa: F401 - re-exported for the baselines
)

INF = np.inf


@dataclass
class Timeline:
    """Everything one simulation did (seconds). Copies are listed in issue order."""

    runtime: float
    op_start: np.ndarray
    op_end: np.ndarray
    copy_seg: np.ndarray  # segment each copy fills (prefetch) or empties (eviction)
    copy_evict: np.ndarray  # bool
    copy_issue: np.ndarray  # when the copy was issued
    copy_begin: np.ndarray  # when it got an engine
    copy_end: np.ndarray  # when it landed
    iv_t0: np.ndarray  # constant-rate intervals: start
    iv_t1: np.ndarray  # end
    iv_op: np.ndarray  # the op running (-1: the core stalls or the program is writing back)
    iv_rate: np.ndarray  # bytes / second each copy in flight moves
    iv_ptr: np.ndarray  # CSR into iv_copies: the copies in flight during each interval
    iv_copies: np.ndarray
    op_slow_bytes: np.ndarray
    op_fast_bytes: np.ndarray
    mapping: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @property
    def stall(self) -> float:
        """Seconds the core waited for copies (between ops and at the end)."""
        busy = float((self.op_end - self.op_start).sum())
        return self.runtime - busy


@numba.njit(cache=True)
def _simulate(fast, lo, hi, kind, first, dep, size, compute, op_ptr, op_buf, op_bytes,  # noqa: C901
              bs, bf, cbw, engines, window, record):
    n_ops = compute.shape[0]
    n = fast.shape[0]
    sb = np.zeros(n_ops)
    fb = np.zeros(n_ops)
    for i in range(n_ops):
        for k in range(op_ptr[i], op_ptr[i + 1]):
            if fast[op_buf[k]]:
                fb[i] += op_bytes[k]
            else:
                sb[i] += op_bytes[k]
    dur = np.zeros(n_ops)
    us = np.zeros(n_ops)
    uf = np.zeros(n_ops)
    for i in range(n_ops):
        tot = sb[i] + fb[i]
        over = 0.0
        if window > 0 and tot > 0:
            over = min(window, sb[i]) / tot * compute[i]
        dur[i] = max(compute[i], sb[i] / bs + fb[i] / bf + over)
        if dur[i] > 0:
            us[i] = sb[i] / dur[i]
            uf[i] = fb[i] / dur[i]
    # copies: evictions of fast PRODUCE_EVICT segments, prefetches of fast PREFETCH segments
    m = 0
    for b in range(n):
        if fast[b] and (kind[b] == PRODUCE_EVICT or kind[b] == PREFETCH):
            m += 1
    c_seg = np.empty(m, np.int64)
    c_start = np.empty(m, np.int64)
    c_done = np.empty(m, np.int64)
    c_ev = np.zeros(m, np.bool_)
    evict_copy = np.full(n, -1, np.int64)
    j = 0
    for b in range(n):
        if fast[b] and kind[b] == PRODUCE_EVICT:
            c_seg[j], c_start[j], c_done[j], c_ev[j] = b, first[b] + 1, hi[b], True
            j += 1
        elif fast[b] and kind[b] == PREFETCH:
            c_seg[j], c_start[j], c_done[j], c_ev[j] = b, lo[b], first[b], False
            j += 1
    key = np.empty(m, np.int64)
    for j in range(m):  # by the op at whose boundary each copy is issued, evictions first
        key[j] = c_start[j] * 2 * (n + 1) + (0 if c_ev[j] else n + 1) + c_seg[j]
    order = np.argsort(key)
    c_seg, c_start, c_done, c_ev = c_seg[order], c_start[order], c_done[order], c_ev[order]
    for j in range(m):
        if c_ev[j]:
            evict_copy[c_seg[j]] = j
    c_dep = np.full(m, -1, np.int64)
    for j in range(m):
        if not c_ev[j]:
            d = dep[c_seg[j]]
            if d >= 0 and fast[d]:
                c_dep[j] = evict_copy[d]
    waiting = np.zeros(n_ops + 1, np.int64)  # unfinished copies each op (or the end) waits for
    waiting_ev = np.zeros(n_ops + 1, np.int64)  # ... of which evictions
    for j in range(m):
        waiting[c_done[j]] += 1
        if c_ev[j]:
            waiting_ev[c_done[j]] += 1
    remaining = size[c_seg].astype(np.float64)
    state = np.zeros(m, np.int64)  # 0 not issued, 1 issued, 2 in flight, 3 landed
    c_issue = np.full(m, np.nan)
    c_begin = np.full(m, np.nan)
    c_end = np.full(m, np.nan)
    fifo = np.empty(m, np.int64)  # issued copies in issue order
    n_fifo = 0
    op_start = np.zeros(n_ops)
    op_end = np.zeros(n_ops)
    cap = (n_ops + m + 2) * 2 if record else 1
    iv_t0 = np.zeros(cap)
    iv_t1 = np.zeros(cap)
    iv_op = np.zeros(cap, np.int64)
    iv_rate = np.zeros(cap)
    iv_ptr = np.zeros(cap + 1, np.int64)
    iv_copies = np.zeros(cap * engines if record else 1, np.int64)
    n_iv = 0
    t = 0.0
    i = 0
    running = False
    t_op_end = 0.0
    ip = 0  # next copy, in issue order, not yet issued
    active = np.full(engines, -1, np.int64)
    n_active = 0
    busy = 0.0
    while True:
        if not running and i <= n_ops:
            # the boundary before op i: evictions of the bytes being reused land first, then the
            # prefetches issued here start, then op i starts once everything it reads has landed
            while ip < m and c_start[ip] <= i and (c_ev[ip] or waiting_ev[i] == 0):
                state[ip] = 1
                c_issue[ip] = t
                fifo[n_fifo] = ip
                n_fifo += 1
                ip += 1
            if i < n_ops and waiting[i] == 0:
                running = True
                op_start[i] = t
                t_op_end = t + dur[i]
            elif i == n_ops and waiting[n_ops] == 0:
                break
        if n_active < engines:
            for q in range(n_fifo):
                if n_active >= engines:
                    break
                j = fifo[q]
                if state[j] == 1 and (c_dep[j] < 0 or state[c_dep[j]] == 3):
                    for e in range(engines):
                        if active[e] < 0:
                            active[e] = j
                            break
                    state[j] = 2
                    c_begin[j] = t
                    n_active += 1
        ls = bs - (us[i] if running else 0.0)
        lf = bf - (uf[i] if running else 0.0)
        r = 0.0
        if n_active > 0:
            r = min(cbw, max(ls, 0.0) / n_active, max(lf, 0.0) / n_active)
        dt_op = t_op_end - t if running else INF
        dt_c = INF
        jmin = -1
        if r > 0:
            for e in range(engines):
                j = active[e]
                if j >= 0 and remaining[j] / r < dt_c:
                    dt_c = remaining[j] / r
                    jmin = j
        dt = min(dt_op, dt_c)
        if dt == INF:
            return -1.0, 0.0, op_start, op_end, c_seg, c_ev, c_issue, c_begin, c_end, iv_t0[:0], iv_t1[:0], \
                iv_op[:0], iv_rate[:0], iv_ptr[:1], iv_copies[:0], sb, fb
        if record and dt > 0:
            iv_t0[n_iv] = t
            iv_t1[n_iv] = t + dt
            iv_op[n_iv] = i if running else -1
            iv_rate[n_iv] = r
            p = iv_ptr[n_iv]
            for e in range(engines):
                if active[e] >= 0:
                    iv_copies[p] = active[e]
                    p += 1
            iv_ptr[n_iv + 1] = p
            n_iv += 1
        if n_active > 0:
            busy += dt
        for e in range(engines):
            j = active[e]
            if j >= 0:
                remaining[j] -= r * dt
        if dt == dt_op:
            t = t_op_end
        else:
            t = t + dt
        for e in range(engines):
            j = active[e]
            if j >= 0 and (j == jmin and dt == dt_c or remaining[j] <= 1e-9 * size[c_seg[j]]):
                remaining[j] = 0.0
                state[j] = 3
                c_end[j] = t
                active[e] = -1
                n_active -= 1
                waiting[c_done[j]] -= 1
                if c_ev[j]:
                    waiting_ev[c_done[j]] -= 1
        if running and dt == dt_op:
            running = False
            op_end[i] = t
            i += 1
            # evictions of what op i-1 produced are issued as soon as it finishes
            while ip < m and c_ev[ip] and c_start[ip] <= i:
                state[ip] = 1
                c_issue[ip] = t
                fifo[n_fifo] = ip
                n_fifo += 1
                ip += 1
    return t, busy, op_start, op_end, c_seg, c_ev, c_issue, c_begin, c_end, iv_t0[:n_iv], iv_t1[:n_iv], \
        iv_op[:n_iv], iv_rate[:n_iv], iv_ptr[:n_iv + 1], iv_copies[:iv_ptr[n_iv]], sb, fb


class CostModel:
    """Timeline runtime of a mapping (see the module docstring), plus a roofline *surrogate*.

    :meth:`runtime` simulates the timeline (exact for this model). The surrogate (``op_compute``,
    ``op_mem_slow``, :meth:`op_mem`, :meth:`delta`, :meth:`apply`) is the per-op roofline
    without copies or stalls: additive per buffer, so search agents and CP-SAT use it to rank
    moves; every reported number comes from the timeline.
    """

    def __init__(self, problem: MemoryProblem, hardware: Hardware):
        self.problem = problem
        self.hardware = hardware
        p = problem
        self.op_compute = np.maximum(p.op_flops / hardware.peak_flops, p.op_trans / hardware.trans_rate)
        op_of_entry = np.repeat(np.arange(p.n_ops), np.diff(p.op_ptr))
        self.op_mem_slow = np.bincount(op_of_entry, weights=p.op_bytes / hardware.slow_bandwidth,
                                       minlength=p.n_ops)
        #: XLA's all-slow estimate of each op (what its prefetch picker and copy resource plan with)
        self.est = np.maximum(self.op_compute, self.op_mem_slow)
        saving = p.op_bytes * (1.0 / hardware.slow_bandwidth - 1.0 / hardware.fast_bandwidth)
        key = p.op_buffers * max(p.n_ops, 1) + op_of_entry
        uniq, inv = np.unique(key, return_inverse=True)
        pair_saving = np.bincount(inv, weights=saving, minlength=len(uniq))
        pair_buf = uniq // max(p.n_ops, 1)
        self.buf_ops = (uniq % max(p.n_ops, 1)).astype(np.int64)
        self.buf_saving = pair_saving
        self.buf_ops_ptr = np.zeros(p.n_buffers + 1, dtype=np.int64)
        np.cumsum(np.bincount(pair_buf, minlength=p.n_buffers), out=self.buf_ops_ptr[1:])
        self._op_of_entry = op_of_entry
        self._saving = saving
        self.copy_time = p.size / hardware.copy_bw
        #: timeline simulations run so far (what agents spend; compared at equal counts)
        self.simulations = 0
        self.all_slow = self.runtime(np.full(p.n_buffers, SLOW, dtype=np.int64)) if p.n_ops else 0.0
        # the runtime saved by putting one buffer alone in fast memory (at its default interval)
        self.solo_benefit = _solo_benefits(self)

    # ---------------------------------------------------------------- timeline
    def _run(self, fast: np.ndarray, intervals: Intervals | None, record: bool):
        p, hw = self.problem, self.hardware
        lo, hi = (p.lower, p.upper) if intervals is None else intervals
        return _simulate(np.asarray(fast, dtype=np.bool_), np.asarray(lo, dtype=np.int64),
                         np.asarray(hi, dtype=np.int64), p.seg_kind, p.seg_first, p.seg_dep, p.size,
                         self.op_compute, p.op_ptr, p.op_buffers, p.op_bytes, hw.slow_bandwidth,
                         hw.fast_bandwidth, hw.copy_bw, int(hw.copy_engines), float(hw.pipeline_window),
                         record)

    def runtime(self, mapping: np.ndarray, intervals: Intervals | None = None) -> float:
        """Timeline runtime (seconds) of a mapping (offset per buffer, -1 for slow)."""
        if self.problem.n_ops == 0:
            return 0.0
        return float(self.timeline(np.asarray(mapping) >= 0, intervals)[0])

    def timeline(self, fast: np.ndarray, intervals: Intervals | None = None) -> tuple[float, float, float]:
        """``(runtime, seconds the core waited for copies, seconds a copy was in flight)``."""
        self.simulations += 1
        out = self._run(fast, intervals, False)
        if out[0] < 0:
            raise RuntimeError(f"{self.problem.name}: the timeline deadlocked (a bug in the simulator)")
        busy_ops = float((out[3] - out[2]).sum())
        return float(out[0]), float(out[0]) - busy_ops, float(out[1])

    def trace(self, mapping: np.ndarray, intervals: Intervals | None = None) -> Timeline:
        """The full record of one simulation (for the checker and the time-axis view)."""
        mapping = np.asarray(mapping, dtype=np.int64)
        lo, hi = check_intervals(self.problem, mapping, intervals)
        out = self._run(mapping >= 0, (lo, hi), True)
        if out[0] < 0:
            raise RuntimeError(f"{self.problem.name}: the timeline deadlocked (a bug in the simulator)")
        (rt, _, op_start, op_end, c_seg, c_ev, c_issue, c_begin, c_end, t0, t1, iv_op, rate, ptr, cps,
         sb, fb) = out
        return Timeline(float(rt), op_start, op_end, c_seg, c_ev, c_issue, c_begin, c_end, t0, t1, iv_op,
                        rate, ptr, cps, sb, fb, mapping.copy(), np.asarray(lo).copy(), np.asarray(hi).copy())

    # ---------------------------------------------------------------- roofline surrogate
    def op_mem(self, fast: np.ndarray) -> np.ndarray:
        """Per-op surrogate memory time for a boolean fast-memory mask over buffers."""
        p = self.problem
        s = np.bincount(self._op_of_entry, weights=self._saving * fast[p.op_buffers], minlength=p.n_ops)
        return self.op_mem_slow - s

    def surrogate(self, mapping: np.ndarray) -> float:
        """Roofline surrogate runtime: sum over ops of ``max(compute, memory)``, no copies."""
        mem = self.op_mem(np.asarray(mapping) >= 0)
        return float(np.maximum(self.op_compute, mem).sum())

    def delta(self, op_mem: np.ndarray, b: int) -> float:
        """Surrogate change of runtime if buffer ``b`` moves from slow to fast."""
        s, e = self.buf_ops_ptr[b], self.buf_ops_ptr[b + 1]
        if s == e:
            return 0.0
        ops = self.buf_ops[s:e]
        old = op_mem[ops]
        c = self.op_compute[ops]
        return float((np.maximum(c, old - self.buf_saving[s:e]) - np.maximum(c, old)).sum())

    def apply(self, op_mem: np.ndarray, b: int, sign: float = 1.0) -> None:
        """Move buffer ``b`` to fast memory (``sign=-1``: back to slow) in ``op_mem``, in place."""
        s, e = self.buf_ops_ptr[b], self.buf_ops_ptr[b + 1]
        op_mem[self.buf_ops[s:e]] -= sign * self.buf_saving[s:e]


def _solo_benefits(cost: CostModel) -> np.ndarray:
    n = cost.problem.n_buffers
    out = np.zeros(n)
    if cost.problem.n_ops == 0:
        return out
    fast = np.zeros(n, dtype=np.bool_)
    for b in range(n):
        fast[b] = True
        out[b] = cost.all_slow - cost.timeline(fast)[0]
        fast[b] = False
    return out
