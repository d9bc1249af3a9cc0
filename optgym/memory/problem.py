"""The memory-mapping problem: allocation segments, their copy windows, the validator.

A workload (:mod:`.graph`) becomes a :class:`MemoryProblem` for one machine by
:func:`build_problem`. As in XLA's memory-space assignment, the unit of decision is an
*allocation segment*: a run of a tensor's accesses that one fast-memory allocation can serve.
XLA keeps an allocation resident from one use to the next while the estimated time between them
stays under ``MAX_OVERLAP_TO_MEM_SIZE`` times the copy time of the *whole* fast memory (its
``CanAllocateInAlternateMemoryNoCopy``); a longer gap starts a new segment. There are three kinds:

* ``PRODUCE``: the first segment of an activation; it holds the op that writes the tensor.
* ``PRODUCE_EVICT``: the same, for a tensor read again later from slow memory or returned by the
  program: when this segment is fast, an *eviction* copies the tensor to slow memory. It is issued
  when the producer finishes; the op at the allocation's end index waits for it to land, and the
  allocation lasts until then (XLA extends an evicted allocation to the eviction's end).
* ``PREFETCH``: a later segment of an activation, or any segment of a weight or input (which
  live in slow memory): when fast, an asynchronous copy fills it. The copy is issued before the
  op at the allocation's start index; the segment's first use waits for it to land.

A *mapping* is one integer per segment: ``-1`` for slow memory, otherwise the byte offset of the
segment in fast memory. *Intervals* ``(lo, hi)`` give each fast segment its allocation interval in
op indices, ``[lo, hi)``: where a prefetch starts, or when an eviction must be done. Each segment
has a default (``lower``/``upper``: XLA's preferred prefetch start and eviction end) and a range
of valid choices (:meth:`MemoryProblem.interval_range`). Runtime is the timeline of
:mod:`optgym.memory.timeline`; :mod:`optgym.memory.check` replays a timeline independently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from optgym.errors import BenchmarkError, InvalidMappingError
from optgym.memory.hardware import HARDWARE, Hardware, get_hardware, load_hardware

__all__ = [
    "HARDWARE", "Hardware", "MemoryProblem", "build_problem", "get_hardware", "load_hardware",
    "mapping_height", "validate_mapping", "SLOW", "PRODUCE", "PRODUCE_EVICT", "PREFETCH",
]

SLOW = -1
PRODUCE, PRODUCE_EVICT, PREFETCH = 0, 1, 2

#: XLA's prefetch interval picker ratios (the values its own memory-space-assignment tests and
#: TPU setup pass): a prefetch overlaps at least 0.8x and preferably 1.5x its copy time of
#: estimated compute; an allocation stays resident without a copy while the gap between uses is
#: under 10x the copy time of the whole fast memory.
MIN_OVERLAP = 0.8
PREFERRED_OVERLAP = 1.5
MAX_OVERLAP_TO_MEM_SIZE = 10.0
ALIGN = 64  # bytes: fast-memory allocations are rounded up to a DMA granule

Intervals = tuple[np.ndarray, np.ndarray]


def _i64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


@dataclass
class MemoryProblem:
    """Buffers with half-open default live intervals ``[lower, upper)`` over the op schedule, plus ops.

    ``op_ptr``/``op_buffers``/``op_bytes`` list each op's operands (CSR layout): op ``t`` touches
    buffers ``op_buffers[op_ptr[t]:op_ptr[t+1]]``, moving ``op_bytes[...]`` bytes of each (its
    output included). Packing-only problems (the MiniMalloc set) have no ops and no segment data.
    """

    name: str
    lower: np.ndarray  # int64 [n]
    upper: np.ndarray  # int64 [n]
    size: np.ndarray  # int64 [n]
    capacity: int
    buffer_names: list[str] = field(default_factory=list)
    buffer_kinds: list[str] = field(default_factory=list)  # "weight" | "activation" | "input" | ...
    op_names: list[str] = field(default_factory=list)
    op_flops: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    op_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    op_buffers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    op_bytes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    op_trans: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    #: per segment: its tensor; kind (PRODUCE, PRODUCE_EVICT, PREFETCH); first and last access op
    seg_tensor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seg_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seg_first: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seg_last: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: per segment: the earliest allocation start (PREFETCH: earliest prefetch issue) and the
    #: latest allocation end (PRODUCE_EVICT: the op before which the eviction must have landed)
    seg_lo_min: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seg_hi_max: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: per PREFETCH segment: the same tensor's PRODUCE_EVICT segment (its data comes from that
    #: eviction when that segment is fast), else -1
    seg_dep: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tensor_is_output: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        self.lower, self.upper, self.size = _i64(self.lower), _i64(self.upper), _i64(self.size)
        n = len(self.size)
        if not (len(self.lower) == len(self.upper) == n):
            raise BenchmarkError(f"problem {self.name!r}: lower/upper/size lengths differ")
        if n and (np.any(self.upper <= self.lower) or np.any(self.size <= 0)):
            raise BenchmarkError(f"problem {self.name!r}: every buffer needs lower < upper and size > 0")
        if not self.buffer_names:
            self.buffer_names = [str(i) for i in range(n)]
        if not self.buffer_kinds:
            self.buffer_kinds = ["buffer"] * n
        self.op_flops = np.asarray(self.op_flops, dtype=np.float64)
        if len(self.op_trans) != len(self.op_flops):
            self.op_trans = np.zeros(len(self.op_flops))
        self.op_trans = np.asarray(self.op_trans, dtype=np.float64)
        for name in ("seg_tensor", "seg_kind", "seg_dep"):
            arr = _i64(getattr(self, name))
            setattr(self, name, arr if len(arr) == n else np.full(n, -1 if name != "seg_kind" else PRODUCE,
                                                                 dtype=np.int64))
        defaults = {"seg_first": self.lower, "seg_last": self.upper - 1, "seg_lo_min": self.lower,
                    "seg_hi_max": self.upper}
        for name, default in defaults.items():
            arr = _i64(getattr(self, name))
            setattr(self, name, arr if len(arr) == n else default.copy())
        self.tensor_is_output = np.asarray(self.tensor_is_output, dtype=bool)

    @property
    def n_buffers(self) -> int:
        return len(self.size)

    @property
    def n_ops(self) -> int:
        return len(self.op_flops)

    @property
    def horizon(self) -> int:
        """One past the last time step any buffer is live."""
        return int(max(self.upper.max(), self.seg_hi_max.max())) if self.n_buffers else 0

    def default_intervals(self) -> Intervals:
        """The default allocation interval of every segment (copies of ``lower``/``upper``)."""
        return self.lower.copy(), self.upper.copy()

    def interval_range(self, b: int) -> tuple[int, int, int, int]:
        """``(lo_min, lo_max, hi_min, hi_max)``: the valid allocation intervals of segment ``b``."""
        k, first, last = int(self.seg_kind[b]), int(self.seg_first[b]), int(self.seg_last[b])
        if k == PREFETCH:
            return int(self.seg_lo_min[b]), first, last + 1, last + 1
        if k == PRODUCE_EVICT:
            return first, first, last + 1, int(self.seg_hi_max[b])
        return int(self.lower[b]), int(self.lower[b]), int(self.upper[b]), int(self.upper[b])

    def peak_live_bytes(self) -> int:
        """The largest total size of buffers live at one time (a lower bound on any packing)."""
        if not self.n_buffers:
            return 0
        times = np.unique(self.lower)
        starts = np.sort(self.lower)
        ends = np.sort(self.upper)
        order_s = np.argsort(self.lower, kind="stable")
        order_e = np.argsort(self.upper, kind="stable")
        cs = np.concatenate([[0], np.cumsum(self.size[order_s])])
        ce = np.concatenate([[0], np.cumsum(self.size[order_e])])
        # live at t: started at or before t, not ended at or before t; peaks happen at starts
        live = cs[np.searchsorted(starts, times, "right")] - ce[np.searchsorted(ends, times, "right")]
        return int(live.max())

    _ARRAYS = ("lower", "upper", "size", "op_flops", "op_ptr", "op_buffers", "op_bytes", "op_trans",
               "seg_tensor", "seg_kind", "seg_first", "seg_last", "seg_lo_min", "seg_hi_max", "seg_dep",
               "tensor_is_output")

    def to_json(self) -> str:
        """Serialize (for the on-disk cache)."""
        d = {"name": self.name, "capacity": int(self.capacity), "buffer_names": self.buffer_names,
             "buffer_kinds": self.buffer_kinds, "op_names": self.op_names}
        d.update({k: np.asarray(getattr(self, k)).tolist() for k in self._ARRAYS})
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> MemoryProblem:
        d = json.loads(text)
        return cls(**{k: (np.asarray(v) if k in cls._ARRAYS else v) for k, v in d.items()})

    def with_capacity(self, capacity: int) -> MemoryProblem:
        """The same problem with another fast-memory capacity."""
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d["capacity"] = int(capacity)
        return MemoryProblem(**d)


def check_intervals(problem: MemoryProblem, mapping: np.ndarray, intervals: Intervals | None) -> Intervals:
    """The intervals to use for ``mapping`` (the defaults when None); raise
    :class:`InvalidMappingError` when a fast segment's interval is outside its valid range."""
    if intervals is None:
        return problem.lower, problem.upper
    lo, hi = _i64(intervals[0]), _i64(intervals[1])
    n = problem.n_buffers
    if lo.shape != (n,) or hi.shape != (n,):
        raise InvalidMappingError(f"{problem.name}: intervals must be two arrays of length {n}")
    for b in np.flatnonzero(np.asarray(mapping) >= 0):
        lo_min, lo_max, hi_min, hi_max = problem.interval_range(int(b))
        if not (lo_min <= lo[b] <= lo_max and hi_min <= hi[b] <= hi_max):
            raise InvalidMappingError(
                f"{problem.name}: segment {b} ({problem.buffer_names[b]}) has interval "
                f"[{lo[b]}, {hi[b]}); valid: start in [{lo_min}, {lo_max}], end in [{hi_min}, {hi_max}]")
    return lo, hi


def validate_mapping(problem: MemoryProblem, mapping: np.ndarray, capacity: int | None = None, *,
                     allow_slow: bool = True, intervals: Intervals | None = None) -> None:
    """Raise :class:`InvalidMappingError` unless the mapping is valid.

    Valid: one entry per buffer; each is ``-1`` (slow, when allowed) or an offset with
    ``0 <= offset`` and ``offset + size <= capacity``; every fast segment's interval is in its
    valid range; no two fast buffers whose intervals meet overlap in ``[offset, offset + size)``.
    """
    cap = problem.capacity if capacity is None else int(capacity)
    m = np.asarray(mapping)
    if m.shape != (problem.n_buffers,):
        raise InvalidMappingError(f"{problem.name}: mapping has shape {m.shape}, expected ({problem.n_buffers},)")
    m = m.astype(np.int64)
    lower, upper = check_intervals(problem, m, intervals)
    slow = m == SLOW
    if slow.any() and not allow_slow:
        raise InvalidMappingError(
            f"{problem.name}: buffer {int(np.flatnonzero(slow)[0])} is in slow memory, but every "
            "buffer must be in fast memory")
    bad = (~slow) & ((m < 0) | (m + problem.size > cap))
    if bad.any():
        b = int(np.flatnonzero(bad)[0])
        raise InvalidMappingError(f"{problem.name}: buffer {b} at offset {m[b]} with size {problem.size[b]} "
                                  f"lies outside fast memory [0, {cap})")
    idx = np.flatnonzero(~slow)
    if len(idx) < 2:
        return
    # sweep over time: check each buffer against buffers that start before it ends
    order = idx[np.argsort(lower[idx], kind="stable")]
    lo, up, off, sz = lower[order], upper[order], m[order], problem.size[order]
    for i in range(len(order)):
        j = i + 1 + np.searchsorted(lo[i + 1:], up[i], "left")  # starts before i ends
        if j == i + 1:
            continue
        o2, s2 = off[i + 1:j], sz[i + 1:j]
        clash = (o2 < off[i] + sz[i]) & (off[i] < o2 + s2)
        if clash.any():
            k = order[i + 1 + int(np.flatnonzero(clash)[0])]
            raise InvalidMappingError(
                f"{problem.name}: buffers {order[i]} and {k} are live at the same time and overlap "
                f"in fast memory ([{off[i]}, {off[i] + sz[i]}) and [{m[k]}, {m[k] + problem.size[k]}))")


def mapping_height(problem: MemoryProblem, mapping: np.ndarray) -> int:
    """The highest byte used in fast memory (0 when everything is slow)."""
    m = np.asarray(mapping)
    fast = m >= 0
    return int((m[fast] + problem.size[fast]).max()) if fast.any() else 0


# ------------------------------------------------------------------------------------------
# From a workload to a problem: XLA's cost analysis, segments and copy windows


def op_estimates(workload, hw: Hardware) -> np.ndarray:
    """XLA's cost-analysis elapsed time of every op with all its data in slow memory:
    ``max(compute, bytes / slow bandwidth + pipeline overhead)``, compute being the larger of
    FLOPs at the peak rate and transcendentals at their own rate."""
    w = workload
    n = w.n_ops
    read = np.bincount(np.repeat(np.arange(n), np.diff(w.op_in_ptr)), weights=w.op_in_bytes, minlength=n)
    out = np.where(w.op_out >= 0, w.tensor_bytes[np.maximum(w.op_out, 0)], 0)
    total = read + out
    compute = np.maximum(w.op_flops / hw.peak_flops, w.op_transcendentals / hw.trans_rate)
    overhead = np.where(total > 0, np.minimum(hw.pipeline_window, total) / np.maximum(total, 1) * compute, 0.0)
    return np.maximum(compute, total / hw.slow_bandwidth + overhead)


class IntervalClock:
    """Elapsed estimated time between ops, as XLA's prefetch interval picker measures it."""

    def __init__(self, est: np.ndarray):
        self.cum = np.concatenate([[0.0], np.cumsum(est)])

    def ops(self, lo: int, hi: int) -> float:
        """Estimated time of ops ``lo .. hi-1`` (what a copy issued before ``lo`` and needed by
        ``hi`` overlaps)."""
        return float(self.cum[hi] - self.cum[lo]) if hi > lo else 0.0


def prefetch_window(clock: IntervalClock, copy_time: float, lo_min: int, use: int, max_elapsed: float,
                    use_saving: float = 0.0) -> tuple[int, int, int]:
    """XLA's cost-analysis prefetch interval picker for one use: ``(earliest, latest, preferred)``
    issue ops (``earliest > latest`` when no window works). The latest start overlaps at least
    ``MIN_OVERLAP`` copy times (counting what the use saves); the earliest at most the
    resident-time limit; the preferred is the one closest to ``PREFERRED_OVERLAP`` copy times."""
    latest = use
    while latest >= lo_min and MIN_OVERLAP * copy_time > clock.ops(latest, use) + use_saving:
        latest -= 1
    earliest = lo_min
    while earliest < latest and max_elapsed < clock.ops(earliest, use):
        earliest += 1
    if earliest > latest:
        return earliest, latest, latest
    want = PREFERRED_OVERLAP * copy_time
    best, best_gap = earliest, abs(want - clock.ops(earliest, use))
    for s in range(earliest + 1, latest + 1):
        gap = abs(want - clock.ops(s, use))
        if gap < best_gap:
            best, best_gap = s, gap
    return earliest, latest, best


def preferred_eviction_end(clock: IntervalClock, copy_time: float, producer: int, latest: int,
                           retry: int = 0) -> int:
    """XLA's preferred eviction end: the first op after which the eviction (issued when the
    producer finishes) has overlapped ``(1 + 2 retry) * PREFERRED_OVERLAP`` copy times."""
    want = (1 + 2 * retry) * PREFERRED_OVERLAP * copy_time
    end = producer + 1
    while end < latest and clock.ops(producer + 1, end) < want:
        end += 1
    return end


def build_problem(workload, hardware: str | Hardware) -> MemoryProblem:  # noqa: C901 - one walk over tensors deciding segments, copies and windows together
    """Cut a :class:`~optgym.memory.graph.Workload` into allocation segments for one machine
    (see the module docstring); the capacity is the machine's fast memory."""
    hw = get_hardware(hardware)
    w = workload
    n_ops = w.n_ops
    if n_ops == 0:
        raise BenchmarkError(f"workload {w.name!r} has no ops")
    est = op_estimates(w, hw)
    clock = IntervalClock(est)
    max_elapsed = MAX_OVERLAP_TO_MEM_SIZE * hw.fast_capacity / hw.copy_bw
    producer = np.full(w.n_tensors, -1, dtype=np.int64)
    producer[w.op_out[w.op_out >= 0]] = np.flatnonzero(w.op_out >= 0)
    uses: list[list[int]] = [[] for _ in range(w.n_tensors)]
    read_bytes: dict[tuple[int, int], float] = {}
    for i in range(n_ops):
        s, e = w.op_in_ptr[i], w.op_in_ptr[i + 1]
        for x, nb in zip(w.op_in[s:e].tolist(), w.op_in_bytes[s:e].tolist(), strict=True):
            if (x, i) not in read_bytes:
                uses[x].append(i)
            read_bytes[(x, i)] = read_bytes.get((x, i), 0.0) + nb
    cols: dict[str, list] = {k: [] for k in ("lower", "upper", "size", "names", "kinds", "tensor", "kind",
                                             "first", "last", "lo_min", "hi_max", "dep")}
    seg_of: dict[tuple[int, int], int] = {}  # (tensor, op) -> segment serving that access
    for t in range(w.n_tensors):
        accesses = ([int(producer[t])] if producer[t] >= 0 else []) + uses[t]
        if not accesses:
            continue
        nbytes = int(-(-int(w.tensor_bytes[t]) // ALIGN) * ALIGN)
        copy_time = nbytes / hw.copy_bw
        groups: list[list[int]] = [[accesses[0]]]
        for a in accesses[1:]:
            # XLA keeps the allocation without a copy while the time from the previous access
            # (exclusive) to this one stays under the limit scaled to the whole fast memory
            if clock.ops(groups[-1][-1] + 1, a) < max_elapsed:
                groups[-1].append(a)
            else:
                groups.append([a])
        later_slow = len(groups) > 1 or bool(w.tensor_is_output[t])
        produce_seg = -1
        for g, ops in enumerate(groups):
            first, last = ops[0], ops[-1]
            if g == 0 and producer[t] >= 0:
                kind = PRODUCE_EVICT if later_slow else PRODUCE
                hi_max = groups[1][0] if len(groups) > 1 else n_ops
                if kind == PRODUCE_EVICT:
                    hi = max(last + 1, preferred_eviction_end(clock, copy_time, first, hi_max))
                else:
                    hi_max, hi = last + 1, last + 1
                lo, lo_min, dep = first, first, -1
                produce_seg = len(cols["size"])
            else:
                kind, hi, hi_max = PREFETCH, last + 1, last + 1
                lo_min = groups[g - 1][-1] + 1 if g > 0 else 0
                saving = read_bytes.get((t, first), 0.0) * (1 / hw.slow_bandwidth - 1 / hw.fast_bandwidth)
                earliest, latest, pref = prefetch_window(clock, copy_time, lo_min, first, max_elapsed, saving)
                lo = pref if earliest <= latest else max(lo_min, min(first, latest))
                lo = min(max(lo, lo_min), first)
                dep = produce_seg if produce_seg >= 0 and cols["kind"][produce_seg] == PRODUCE_EVICT else -1
            for k, v in (("lower", lo), ("upper", hi), ("size", nbytes), ("kinds", w.tensor_kinds[t]),
                         ("names", w.tensor_names[t] if len(groups) == 1 else f"{w.tensor_names[t]}@{g}"),
                         ("tensor", t), ("kind", kind), ("first", first), ("last", last), ("lo_min", lo_min),
                         ("hi_max", hi_max), ("dep", dep)):
                cols[k].append(v)
            for a in ops:
                seg_of[(t, a)] = len(cols["size"]) - 1
    op_ptr, op_buffers, op_bytes = [0], [], []
    for i in range(n_ops):
        acc: dict[int, float] = {}
        s, e = w.op_in_ptr[i], w.op_in_ptr[i + 1]
        for x, nb in zip(w.op_in[s:e].tolist(), w.op_in_bytes[s:e].tolist(), strict=True):
            seg = seg_of[(x, i)]
            acc[seg] = acc.get(seg, 0.0) + nb
        if w.op_out[i] >= 0:
            seg = seg_of[(int(w.op_out[i]), i)]
            acc[seg] = acc.get(seg, 0.0) + float(w.tensor_bytes[w.op_out[i]])
        for seg, nb in acc.items():
            op_buffers.append(seg)
            op_bytes.append(nb)
        op_ptr.append(len(op_buffers))
    return MemoryProblem(
        name=w.name, lower=_i64(cols["lower"]), upper=_i64(cols["upper"]), size=_i64(cols["size"]),
        capacity=hw.fast_capacity, buffer_names=cols["names"], buffer_kinds=cols["kinds"],
        op_names=list(w.op_names), op_flops=w.op_flops.copy(), op_ptr=_i64(op_ptr),
        op_buffers=_i64(op_buffers), op_bytes=np.array(op_bytes, dtype=np.float64),
        op_trans=w.op_transcendentals.copy(), seg_tensor=_i64(cols["tensor"]), seg_kind=_i64(cols["kind"]),
        seg_first=_i64(cols["first"]), seg_last=_i64(cols["last"]), seg_lo_min=_i64(cols["lo_min"]),
        seg_hi_max=_i64(cols["hi_max"]), seg_dep=_i64(cols["dep"]), tensor_is_output=w.tensor_is_output.copy(),
    )
