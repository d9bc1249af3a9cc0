"""The memory-mapping problem: allocation segments, hardware, the timeline cost model, the validator.

A workload (:mod:`.graph`) becomes a :class:`MemoryProblem` for one hardware preset by
:func:`build_problem`. Following XLA's memory-space assignment, the unit of decision is not a
tensor but an *allocation segment*: a stretch of a tensor's life between accesses that are close
in time. A tensor whose next use comes after a gap long enough to hide a copy back in (by the
estimated op times) starts a new segment there ("live range too long" to hold without use). The
first segment of an activation holds its producing op; a later segment, or any segment of a
weight or input (which live in slow memory), is filled by a *prefetch*: an asynchronous copy
issued at the segment's start, as early before the use as XLA's preferred overlap asks (the copy
time times ``PREFERRED_OVERLAP`` of estimated compute), and never before the previous segment
ended. An activation written to fast memory that is read again from slow memory, or returned, is
*evicted* by a copy right after it is produced.

A *mapping* is one integer per segment: ``-1`` for slow memory, otherwise the byte offset of the
segment in fast memory for its whole interval ``[lower, upper)``.

Runtime (:class:`CostModel`) is a timeline: ops run one after another, each taking
``max(compute, memory)`` where memory time sums each access's bytes over the bandwidth of the
level the segment is in; copies run on a separate copy engine (its own bandwidth, in issue order)
overlapping the ops; an op waits for the prefetches it reads. Modelled: overlap of copies with
compute, copy bandwidth and queueing, stalls, evictions, per-tensor dtypes, alias-aware bytes
(through the tracer), fusion (through the tracer). Not modelled: contention between copies and
ops for slow-memory bandwidth, the copy engine's own latency, memory levels between the
scratchpad and the slow memory (the presets' descriptions name them), fragmentation inside a
segment's interval while an eviction is still running, op-level parallelism (ops are serial).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numba
import numpy as np

from optgym.errors import BenchmarkError, InvalidMappingError

SLOW = -1


@dataclass(frozen=True)
class Hardware:
    """A two-level memory machine: a small fast scratchpad, a big slow memory, a peak compute rate."""

    name: str
    fast_capacity: int  # bytes
    fast_bandwidth: float  # bytes / second
    slow_bandwidth: float  # bytes / second
    peak_flops: float  # FLOP / second
    description: str = ""
    copy_bandwidth: float = 0.0  # bytes / second of the copy (DMA) engine; 0: slow_bandwidth
    sources: str = ""  # where the figures come from

    @property
    def copy_bw(self) -> float:
        return self.copy_bandwidth or self.slow_bandwidth


#: Hardware presets. Bytes are counted at each tensor's traced dtype (bf16 for the shipped
#: workloads). The numbers are public, rounded, per-core figures; they set the ratios that matter
#: (fast/slow bandwidth, bytes per FLOP, copy bandwidth). Real chips have more levels than the two
#: modelled here; each description names them.
HARDWARE: dict[str, Hardware] = {
    "tpu-like": Hardware(
        name="tpu-like",
        fast_capacity=2**20,
        fast_bandwidth=9.6e12,
        slow_bandwidth=1.2e12,
        peak_flops=275e12,
        copy_bandwidth=0.6e12,
        description=(
            "TPU-v4-like core: HBM2 at 1.2 TB/s, 275 TFLOP/s peak (bf16 MXU rate), on-chip "
            "memory at 8x HBM bandwidth (9.6 TB/s); 1 MiB of it for the program's buffers "
            "(below the batch-1 workloads' peak live bytes, so placement matters); copies run on "
            "a DMA engine at half the HBM rate. Real levels: vector memory (modelled as fast), "
            "128 MiB CMEM (not modelled), HBM (modelled as slow)."
        ),
        sources=("Jouppi et al., 'TPU v4: An Optically Reconfigurable Supercomputer...', ISCA 2023 "
                 "(275 TFLOP/s bf16, 1.2 TB/s HBM, 128 MiB CMEM); the on-chip bandwidth ratio and "
                 "copy rate are our assumptions."),
    ),
    "edge-npu": Hardware(
        name="edge-npu",
        fast_capacity=512 * 2**10,
        fast_bandwidth=128e9,
        slow_bandwidth=17e9,
        peak_flops=4e12,
        copy_bandwidth=8.5e9,
        description=(
            "Edge-NPU-like accelerator: LPDDR4X at 17 GB/s, 4 TOP/s peak (int8-class MAC "
            "array), 512 KiB of SRAM at 128 GB/s; a DMA engine at half the DRAM rate. Real "
            "levels: SRAM (fast), a system cache on some SoCs (not modelled), LPDDR4X (slow)."
        ),
        sources=("LPDDR4X-4266 on a 32-bit bus = 17 GB/s (JEDEC JESD209-4-1); 4 TOP/s is the "
                 "Coral Edge TPU's published peak; SRAM size and bandwidth are our assumptions."),
    ),
}


def get_hardware(name: str | Hardware) -> Hardware:
    """Look up a hardware preset by name (or pass a :class:`Hardware` through)."""
    if isinstance(name, Hardware):
        return name
    try:
        return HARDWARE[name]
    except KeyError:
        raise BenchmarkError(
            f"unknown hardware preset {name!r}; choose one of {sorted(HARDWARE)}"
        ) from None


@dataclass
class MemoryProblem:
    """Buffers with half-open live intervals ``[lower, upper)`` over the op schedule, plus ops.

    ``op_ptr``/``op_buffers``/``op_bytes`` list each op's operands (CSR layout): op ``t`` touches
    buffers ``op_buffers[op_ptr[t]:op_ptr[t+1]]``, moving ``op_bytes[...]`` bytes of each.
    Packing-only problems (the MiniMalloc set) have no ops.
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
    #: per segment: the op at whose start its prefetch is issued when it is fast (-1: no prefetch,
    #: the segment holds the tensor's producer)
    seg_copy_at: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: per segment: the op at whose start the tensor is evicted to slow memory when this segment
    #: is fast (-1: no eviction needed)
    seg_evict_at: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seg_tensor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        self.lower = np.asarray(self.lower, dtype=np.int64)
        self.upper = np.asarray(self.upper, dtype=np.int64)
        self.size = np.asarray(self.size, dtype=np.int64)
        n = len(self.size)
        if not (len(self.lower) == len(self.upper) == n):
            raise BenchmarkError(f"problem {self.name!r}: lower/upper/size lengths differ")
        if n and (np.any(self.upper <= self.lower) or np.any(self.size <= 0)):
            raise BenchmarkError(
                f"problem {self.name!r}: every buffer needs lower < upper and size > 0"
            )
        if not self.buffer_names:
            self.buffer_names = [str(i) for i in range(n)]
        if not self.buffer_kinds:
            self.buffer_kinds = ["buffer"] * n
        for name in ("seg_copy_at", "seg_evict_at", "seg_tensor"):
            arr = np.asarray(getattr(self, name), dtype=np.int64)
            setattr(self, name, arr if len(arr) == n else np.full(n, -1, dtype=np.int64))

    @property
    def n_buffers(self) -> int:
        return len(self.size)

    @property
    def n_ops(self) -> int:
        return len(self.op_flops)

    @property
    def horizon(self) -> int:
        """One past the last time step any buffer is live."""
        return int(self.upper.max()) if self.n_buffers else 0

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

    def to_json(self) -> str:
        """Serialize (for the on-disk cache)."""
        d = {
            "name": self.name,
            "capacity": int(self.capacity),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "size": self.size.tolist(),
            "buffer_names": self.buffer_names,
            "buffer_kinds": self.buffer_kinds,
            "op_names": self.op_names,
            "op_flops": self.op_flops.tolist(),
            "op_ptr": self.op_ptr.tolist(),
            "op_buffers": self.op_buffers.tolist(),
            "op_bytes": self.op_bytes.tolist(),
            "seg_copy_at": self.seg_copy_at.tolist(),
            "seg_evict_at": self.seg_evict_at.tolist(),
            "seg_tensor": self.seg_tensor.tolist(),
        }
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> MemoryProblem:
        d = json.loads(text)
        return cls(
            name=d["name"],
            lower=np.array(d["lower"], dtype=np.int64),
            upper=np.array(d["upper"], dtype=np.int64),
            size=np.array(d["size"], dtype=np.int64),
            capacity=int(d["capacity"]),
            buffer_names=list(d["buffer_names"]),
            buffer_kinds=list(d["buffer_kinds"]),
            op_names=list(d["op_names"]),
            op_flops=np.array(d["op_flops"], dtype=np.float64),
            op_ptr=np.array(d["op_ptr"], dtype=np.int64),
            op_buffers=np.array(d["op_buffers"], dtype=np.int64),
            op_bytes=np.array(d["op_bytes"], dtype=np.float64),
            seg_copy_at=np.array(d.get("seg_copy_at", []), dtype=np.int64),
            seg_evict_at=np.array(d.get("seg_evict_at", []), dtype=np.int64),
            seg_tensor=np.array(d.get("seg_tensor", []), dtype=np.int64),
        )

    def with_capacity(self, capacity: int) -> MemoryProblem:
        """The same problem with another fast-memory capacity."""
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d["capacity"] = int(capacity)
        return MemoryProblem(**d)


class CostModel:
    """Timeline runtime of a mapping (see the module docstring), plus a roofline *surrogate*.

    :meth:`runtime` simulates the op timeline with the copy engine (exact for this model).
    The surrogate (``op_compute``, ``op_mem_slow``, :meth:`op_mem`, :meth:`delta`, :meth:`apply`)
    is the per-op roofline without copies or stalls: additive per buffer, so search agents and
    CP-SAT use it to rank moves; every reported number comes from :meth:`runtime`.
    """

    def __init__(self, problem: MemoryProblem, hardware: Hardware):
        self.problem = problem
        self.hardware = hardware
        p = problem
        self.op_compute = p.op_flops / hardware.peak_flops
        op_of_entry = np.repeat(np.arange(p.n_ops), np.diff(p.op_ptr))
        self.op_mem_slow = np.bincount(
            op_of_entry, weights=p.op_bytes / hardware.slow_bandwidth, minlength=p.n_ops
        )
        saving = p.op_bytes * (1.0 / hardware.slow_bandwidth - 1.0 / hardware.fast_bandwidth)
        # per buffer: the distinct ops it touches and the memory time it saves on each when fast
        # (an op reading one buffer twice gets one entry with the summed saving)
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
        # copies in issue order: (op index, segment, is eviction)
        cand = [(int(p.seg_copy_at[b]), 0, b) for b in range(p.n_buffers) if p.seg_copy_at[b] >= 0]
        cand += [(int(p.seg_evict_at[b]), 1, b) for b in range(p.n_buffers) if p.seg_evict_at[b] >= 0]
        cand.sort()
        self._copy_op = np.array([c[0] for c in cand], dtype=np.int64)
        self._copy_seg = np.array([c[2] for c in cand], dtype=np.int64)
        self._copy_time = np.array([p.size[c[2]] / hardware.copy_bw for c in cand], dtype=np.float64)
        self._is_prefetch = (p.seg_copy_at >= 0)
        self._fast_time = p.op_bytes / hardware.fast_bandwidth
        self._slow_time = p.op_bytes / hardware.slow_bandwidth
        self.all_slow = self.runtime(np.full(p.n_buffers, SLOW, dtype=np.int64))
        # the runtime saved by putting one buffer alone in fast memory (XLA's per-buffer benefit)
        self.solo_benefit = _solo_benefits(self)

    # ---------------------------------------------------------------- timeline
    def runtime(self, mapping: np.ndarray) -> float:
        """Timeline runtime (seconds) of a mapping (offset per buffer, -1 for slow)."""
        if self.problem.n_ops == 0:
            return 0.0
        return float(self.timeline(np.asarray(mapping) >= 0)[0])

    def timeline(self, fast: np.ndarray) -> tuple[float, float, float]:
        """``(runtime, seconds ops waited for prefetches, seconds the copy engine was busy)``."""
        p = self.problem
        return _simulate(np.asarray(fast, dtype=np.bool_), self.op_compute, p.op_ptr, p.op_buffers,
                         self._fast_time, self._slow_time, self._is_prefetch, self._copy_op,
                         self._copy_seg, self._copy_time)

    # ---------------------------------------------------------------- roofline surrogate
    def op_mem(self, fast: np.ndarray) -> np.ndarray:
        """Per-op surrogate memory time for a boolean fast-memory mask over buffers."""
        p = self.problem
        s = np.bincount(
            self._op_of_entry, weights=self._saving * fast[p.op_buffers], minlength=p.n_ops
        )
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


@numba.njit(cache=True)
def _simulate(fast, compute, op_ptr, op_buf, fast_time, slow_time, is_prefetch, copy_op, copy_seg,
              copy_time):
    n_ops = compute.shape[0]
    ready = np.zeros(fast.shape[0])
    now = 0.0
    engine = 0.0  # when the copy engine is free
    busy = 0.0
    waited = 0.0
    c = 0
    for i in range(n_ops):
        while c < copy_op.shape[0] and copy_op[c] <= i:
            b = copy_seg[c]
            if fast[b]:
                start = max(engine, now)
                engine = start + copy_time[c]
                busy += copy_time[c]
                if is_prefetch[b] and copy_op[c] >= 0:
                    ready[b] = max(ready[b], engine)
            c += 1
        start = now
        mem = 0.0
        for k in range(op_ptr[i], op_ptr[i + 1]):
            b = op_buf[k]
            if fast[b]:
                mem += fast_time[k]
                if is_prefetch[b] and ready[b] > start:
                    start = ready[b]
            else:
                mem += slow_time[k]
        waited += start - now
        now = start + max(compute[i], mem)
    return now, waited, busy


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


def validate_mapping(
    problem: MemoryProblem, mapping: np.ndarray, capacity: int | None = None, *, allow_slow: bool = True
) -> None:
    """Raise :class:`InvalidMappingError` unless the mapping is valid.

    Valid: one entry per buffer; each is ``-1`` (slow, when allowed) or an offset with
    ``0 <= offset`` and ``offset + size <= capacity``; no two buffers live at the same time
    overlap in ``[offset, offset + size)``.
    """
    cap = problem.capacity if capacity is None else int(capacity)
    m = np.asarray(mapping)
    if m.shape != (problem.n_buffers,):
        raise InvalidMappingError(
            f"{problem.name}: mapping has shape {m.shape}, expected ({problem.n_buffers},)"
        )
    m = m.astype(np.int64)
    slow = m == SLOW
    if slow.any() and not allow_slow:
        raise InvalidMappingError(
            f"{problem.name}: buffer {int(np.flatnonzero(slow)[0])} is in slow memory, but every "
            "buffer must be in fast memory"
        )
    bad = (~slow) & ((m < 0) | (m + problem.size > cap))
    if bad.any():
        b = int(np.flatnonzero(bad)[0])
        raise InvalidMappingError(
            f"{problem.name}: buffer {b} at offset {m[b]} with size {problem.size[b]} lies outside "
            f"fast memory [0, {cap})"
        )
    idx = np.flatnonzero(~slow)
    if len(idx) < 2:
        return
    # sweep over time: check each buffer against buffers that start before it ends
    order = idx[np.argsort(problem.lower[idx], kind="stable")]
    lo, up, off, sz = problem.lower[order], problem.upper[order], m[order], problem.size[order]
    for i in range(len(order)):
        j = i + 1 + np.searchsorted(lo[i + 1 :], up[i], "left")  # starts before i ends
        if j == i + 1:
            continue
        o2, s2 = off[i + 1 : j], sz[i + 1 : j]
        clash = (o2 < off[i] + sz[i]) & (off[i] < o2 + s2)
        if clash.any():
            k = order[i + 1 + int(np.flatnonzero(clash)[0])]
            raise InvalidMappingError(
                f"{problem.name}: buffers {order[i]} and {k} are live at the same time and overlap "
                f"in fast memory ([{off[i]}, {off[i] + sz[i]}) and [{m[k]}, {m[k] + problem.size[k]}))"
            )


def mapping_height(problem: MemoryProblem, mapping: np.ndarray) -> int:
    """The highest byte used in fast memory (0 when everything is slow)."""
    m = np.asarray(mapping)
    fast = m >= 0
    return int((m[fast] + problem.size[fast]).max()) if fast.any() else 0


# ------------------------------------------------------------------------------------------
# From a workload to a problem: allocation segments

#: A prefetch starts early enough that the estimated compute before its use is this many times
#: the copy's duration (XLA's "preferred overlap to async copy ratio"; the value is ours).
PREFERRED_OVERLAP = 1.5
ALIGN = 64  # bytes: fast-memory allocations are rounded up to a DMA granule


def build_problem(workload, hardware: str | Hardware) -> MemoryProblem:  # noqa: C901 - one walk over tensors deciding segments, copies and aliases together
    """Cut a :class:`~optgym.memory.graph.Workload` into allocation segments for one
    hardware preset (see the module docstring); the capacity is the preset's fast memory."""
    hw = get_hardware(hardware)
    w = workload
    n_ops = w.n_ops
    if n_ops == 0:
        raise BenchmarkError(f"workload {w.name!r} has no ops")
    # all-slow roofline estimate of each op (what the prefetch picker plans with)
    read_bytes = np.bincount(np.repeat(np.arange(n_ops), np.diff(w.op_in_ptr)), weights=w.op_in_bytes,
                             minlength=n_ops)
    out_bytes = np.where(w.op_out >= 0, w.tensor_bytes[np.maximum(w.op_out, 0)], 0)
    est = np.maximum(w.op_flops / hw.peak_flops, (read_bytes + out_bytes) / hw.slow_bandwidth)
    cum = np.concatenate([[0.0], np.cumsum(est)])  # cum[j] - cum[i]: estimated time of ops i..j-1
    producer = np.full(w.n_tensors, -1, dtype=np.int64)
    producer[w.op_out[w.op_out >= 0]] = np.flatnonzero(w.op_out >= 0)
    uses: list[list[int]] = [[] for _ in range(w.n_tensors)]
    for i in range(n_ops):
        for x in np.unique(w.inputs_of(i)):
            uses[int(x)].append(i)
    lower, upper, size, names, kinds, copy_at, evict_at, seg_tensor = [], [], [], [], [], [], [], []
    seg_of: dict[tuple[int, int], int] = {}  # (tensor, op) -> segment serving that access
    for t in range(w.n_tensors):
        accesses = ([int(producer[t])] if producer[t] >= 0 else []) + uses[t]
        if not accesses:
            continue
        nbytes = int(-(-int(w.tensor_bytes[t]) // ALIGN) * ALIGN)
        copy_time = nbytes / hw.copy_bw
        groups: list[list[int]] = [[accesses[0]]]
        for a in accesses[1:]:
            gap = cum[a] - cum[groups[-1][-1] + 1]
            if gap > PREFERRED_OVERLAP * copy_time:
                groups.append([a])  # live range too long to hold unused: release, prefetch again
            else:
                groups[-1].append(a)
        for g, ops in enumerate(groups):
            holds_producer = g == 0 and producer[t] >= 0
            if holds_producer:
                lo = ops[0]
                copy_at.append(-1)
            else:
                earliest = groups[g - 1][-1] + 1 if g > 0 else 0
                lo = ops[0]
                while lo > earliest and cum[ops[0]] - cum[lo] < PREFERRED_OVERLAP * copy_time:
                    lo -= 1
                copy_at.append(lo)
            lower.append(lo)
            upper.append(ops[-1] + 1)
            size.append(nbytes)
            names.append(w.tensor_names[t] if len(groups) == 1 else f"{w.tensor_names[t]}@{g}")
            kinds.append(w.tensor_kinds[t])
            seg_tensor.append(t)
            evict = holds_producer and (len(groups) > 1 or bool(w.tensor_is_output[t]))
            evict_at.append(ops[0] + 1 if evict else -1)
            for a in ops:
                seg_of[(t, a)] = len(size) - 1
    op_ptr = [0]
    op_buffers: list[int] = []
    op_bytes: list[float] = []
    for i in range(n_ops):
        s, e = w.op_in_ptr[i], w.op_in_ptr[i + 1]
        acc: dict[int, float] = {}
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
        name=w.name, lower=np.array(lower, dtype=np.int64), upper=np.array(upper, dtype=np.int64),
        size=np.array(size, dtype=np.int64), capacity=hw.fast_capacity, buffer_names=names,
        buffer_kinds=kinds, op_names=list(w.op_names), op_flops=w.op_flops.copy(),
        op_ptr=np.array(op_ptr, dtype=np.int64), op_buffers=np.array(op_buffers, dtype=np.int64),
        op_bytes=np.array(op_bytes, dtype=np.float64), seg_copy_at=np.array(copy_at, dtype=np.int64),
        seg_evict_at=np.array(evict_at, dtype=np.int64), seg_tensor=np.array(seg_tensor, dtype=np.int64),
    )
