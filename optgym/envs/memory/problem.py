"""The memory-mapping problem: buffers, ops, hardware, the roofline cost model and the validator.

A *mapping* is one integer per buffer: ``-1`` for slow memory, otherwise the byte offset of the
buffer in fast memory. The cost model follows the spirit of XLA's memory-space-assignment cost
analysis: an op takes ``max(compute time, memory time)``, where its memory time is the sum over its
operands of the operand's bytes divided by the bandwidth of the memory the operand lives in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

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


#: Hardware presets. Bytes are counted at the traced dtype (float32). The numbers are public,
#: rounded, per-core figures; they set the ratios that matter (fast/slow bandwidth, bytes/FLOP).
HARDWARE: dict[str, Hardware] = {
    "tpu-like": Hardware(
        name="tpu-like",
        fast_capacity=2**20,
        fast_bandwidth=9.6e12,
        slow_bandwidth=1.2e12,
        peak_flops=275e12,
        description=(
            "TPU-v4-like core: HBM2 at 1.2 TB/s, 275 TFLOP/s peak (bf16 MXU rate), on-chip "
            "memory at 8x HBM bandwidth (9.6 TB/s); 1 MiB of it for the program's buffers "
            "(below the batch-1 workloads' peak live bytes, so placement matters)."
        ),
    ),
    "edge-npu": Hardware(
        name="edge-npu",
        fast_capacity=512 * 2**10,
        fast_bandwidth=128e9,
        slow_bandwidth=17e9,
        peak_flops=4e12,
        description=(
            "Edge-NPU-like accelerator: LPDDR4X at 17 GB/s, 4 TOP/s peak (int8-class MAC "
            "array), 512 KiB of SRAM at 128 GB/s."
        ),
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
        )

    def with_capacity(self, capacity: int) -> MemoryProblem:
        """The same problem with another fast-memory capacity."""
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d["capacity"] = int(capacity)
        return MemoryProblem(**d)


class CostModel:
    """Roofline runtime estimate of a mapping, plus exact incremental updates for one buffer.

    Times are in seconds. ``op_compute[t] = flops / peak``; ``op_mem_slow[t]`` is the memory time
    with every operand in slow memory; moving buffer ``b`` to fast memory lowers the memory time of
    each op that touches it by ``bytes * (1/slow_bw - 1/fast_bw)``.
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
        self.all_slow = float(np.maximum(self.op_compute, self.op_mem_slow).sum())
        # the benefit of putting one buffer alone in fast memory (XLA's per-buffer benefit)
        self.solo_benefit = np.array(
            [-self.delta(self.op_mem_slow, b) for b in range(p.n_buffers)], dtype=np.float64
        )

    def op_mem(self, fast: np.ndarray) -> np.ndarray:
        """Per-op memory time for a boolean fast-memory mask over buffers."""
        p = self.problem
        s = np.bincount(
            self._op_of_entry, weights=self._saving * fast[p.op_buffers], minlength=p.n_ops
        )
        return self.op_mem_slow - s

    def runtime(self, mapping: np.ndarray) -> float:
        """Estimated runtime (seconds) of a mapping (offset per buffer, -1 for slow)."""
        if self.problem.n_ops == 0:
            return 0.0
        mem = self.op_mem(np.asarray(mapping) >= 0)
        return float(np.maximum(self.op_compute, mem).sum())

    def delta(self, op_mem: np.ndarray, b: int) -> float:
        """Change of total runtime if buffer ``b`` moves from slow to fast, given per-op memory times."""
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
