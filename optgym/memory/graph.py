"""Workloads as data: the tensors and scheduled ops of one ML program, before any memory decision.

A :class:`Workload` is what the tracers produce (``torch.export`` in :mod:`.trace`, JAX and HLO
in :mod:`.hlo_import`, ONNX in :mod:`.onnx_import`) and what ships on disk (versioned JSON):
tensors with their bytes (at their own dtype), kind and whether the program returns them; ops in
schedule order with FLOPs and transcendentals, the tensors they read (with the bytes each read
touches: a view reads only its own elements, a gather the rows it selects) and the tensor they
write. Views never appear: they alias their base tensor. :func:`fuse_elementwise` folds
elementwise consumers into their producer as XLA's loop/output fusion does, so a fused
intermediate is never a buffer. The memory problem (allocation segments, copies, capacity) is
derived from a workload and a hardware preset by :func:`optgym.memory.problem.build_problem`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optgym.errors import BenchmarkError

#: bump when the JSON layout changes
FORMAT_VERSION = 2
#: older layouts still read (version 1 had no transcendental counts)
READABLE_FORMATS = (1, 2)

TENSOR_KINDS = ("weight", "input", "activation")


@dataclass
class Workload:
    """Tensors and ops of one program (see the module docstring). Arrays are index-aligned."""

    name: str
    tensor_names: list[str]
    tensor_bytes: np.ndarray  # int64 [T]
    tensor_kinds: list[str]  # "weight" | "input" | "activation"
    tensor_dtypes: list[str]
    tensor_is_output: np.ndarray  # bool [T]
    op_names: list[str]
    op_types: list[str]  # e.g. "linear", "conv2d", "relu+add" (fused)
    op_flops: np.ndarray  # float64 [O]
    op_out: np.ndarray  # int64 [O], the tensor written (-1: none)
    op_in_ptr: np.ndarray  # int64 [O + 1], CSR into op_in / op_in_bytes
    op_in: np.ndarray  # int64, tensors read
    op_in_bytes: np.ndarray  # int64, bytes of each read
    op_elementwise: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    description: str = ""
    #: per op: transcendental operations (exp, tanh, erf, ...), charged at their own rate
    op_transcendentals: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    def __post_init__(self) -> None:
        self.tensor_bytes = np.asarray(self.tensor_bytes, dtype=np.int64)
        self.tensor_is_output = np.asarray(self.tensor_is_output, dtype=bool)
        self.op_flops = np.asarray(self.op_flops, dtype=np.float64)
        self.op_out = np.asarray(self.op_out, dtype=np.int64)
        self.op_in_ptr = np.asarray(self.op_in_ptr, dtype=np.int64)
        self.op_in = np.asarray(self.op_in, dtype=np.int64)
        self.op_in_bytes = np.asarray(self.op_in_bytes, dtype=np.int64)
        if len(self.op_elementwise) != len(self.op_flops):
            self.op_elementwise = np.zeros(len(self.op_flops), dtype=bool)
        self.op_elementwise = np.asarray(self.op_elementwise, dtype=bool)
        if len(self.op_transcendentals) != len(self.op_flops):
            self.op_transcendentals = np.zeros(len(self.op_flops))
        self.op_transcendentals = np.asarray(self.op_transcendentals, dtype=np.float64)
        self.check()

    @property
    def n_tensors(self) -> int:
        return len(self.tensor_bytes)

    @property
    def n_ops(self) -> int:
        return len(self.op_flops)

    def inputs_of(self, op: int) -> np.ndarray:
        return self.op_in[self.op_in_ptr[op]:self.op_in_ptr[op + 1]]

    def check(self) -> None:
        """Raise :class:`BenchmarkError` naming the first inconsistency."""
        t, o = self.n_tensors, self.n_ops
        where = f"workload {self.name!r}"
        if not (len(self.tensor_names) == len(self.tensor_kinds) == len(self.tensor_dtypes) == t
                == len(self.tensor_is_output)):
            raise BenchmarkError(f"{where}: tensor fields differ in length")
        if not (len(self.op_names) == len(self.op_types) == len(self.op_out) == o
                and len(self.op_in_ptr) == o + 1):
            raise BenchmarkError(f"{where}: op fields differ in length")
        if len(self.op_in) != len(self.op_in_bytes) or (o and self.op_in_ptr[-1] != len(self.op_in)):
            raise BenchmarkError(f"{where}: op_in, op_in_bytes and op_in_ptr disagree")
        bad = [k for k in self.tensor_kinds if k not in TENSOR_KINDS]
        if bad:
            raise BenchmarkError(f"{where}: unknown tensor kind {bad[0]!r}; expected one of {TENSOR_KINDS}")
        if t and self.tensor_bytes.min() <= 0:
            raise BenchmarkError(f"{where}: tensor {int(np.argmin(self.tensor_bytes))} has no bytes")
        if len(self.op_in) and (self.op_in.min() < 0 or self.op_in.max() >= t):
            raise BenchmarkError(f"{where}: an op reads a tensor id outside [0, {t})")
        if o and (self.op_out.max() >= t):
            raise BenchmarkError(f"{where}: an op writes a tensor id outside [0, {t})")
        producer = np.full(t, -1, dtype=np.int64)
        for i, out in enumerate(self.op_out):
            if out >= 0:
                if producer[out] >= 0:
                    raise BenchmarkError(f"{where}: tensor {out} is written by ops {producer[out]} and {i}")
                if self.tensor_kinds[out] != "activation":
                    raise BenchmarkError(f"{where}: op {i} writes {self.tensor_kinds[out]} tensor {out}")
                producer[out] = i
        for i in range(o):
            for x in self.inputs_of(i):
                if self.tensor_kinds[x] == "activation" and not (0 <= producer[x] < i):
                    raise BenchmarkError(f"{where}: op {i} ({self.op_names[i]}) reads tensor {x} before it is written")

    # ------------------------------------------------------------------ serialization
    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT_VERSION, "name": self.name, "description": self.description,
            "tensor_names": self.tensor_names, "tensor_bytes": self.tensor_bytes.tolist(),
            "tensor_kinds": self.tensor_kinds, "tensor_dtypes": self.tensor_dtypes,
            "tensor_is_output": self.tensor_is_output.astype(int).tolist(),
            "op_names": self.op_names, "op_types": self.op_types, "op_flops": self.op_flops.tolist(),
            "op_out": self.op_out.tolist(), "op_in_ptr": self.op_in_ptr.tolist(),
            "op_in": self.op_in.tolist(), "op_in_bytes": self.op_in_bytes.tolist(),
            "op_elementwise": self.op_elementwise.astype(int).tolist(),
            "op_transcendentals": self.op_transcendentals.tolist(),
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, where: str = "workload") -> Workload:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(f"{where}: not JSON: {exc}") from exc
        if not isinstance(d, dict) or d.get("format") not in READABLE_FORMATS:
            raise BenchmarkError(f"{where}: not an optgym workload of format {READABLE_FORMATS}")
        try:
            return cls(**{k: v for k, v in d.items() if k != "format"})
        except (TypeError, ValueError) as exc:
            raise BenchmarkError(f"{where}: malformed workload: {exc}") from exc

    def save(self, path: str | Path) -> Path:
        from optgym.cache import atomic_write

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, self.to_json().encode())
        return path

    @classmethod
    def load(cls, path: str | Path) -> Workload:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise BenchmarkError(f"{path}: cannot read workload: {exc}") from exc
        return cls.from_json(text, where=str(path))


class GraphBuilder:
    """Collects tensors and ops in schedule order (used by the tracers)."""

    def __init__(self, name: str, description: str = ""):
        self.name, self.description = name, description
        self.t_name: list[str] = []
        self.t_bytes: list[int] = []
        self.t_kind: list[str] = []
        self.t_dtype: list[str] = []
        self.t_out: list[bool] = []
        self.ops: list[tuple[str, str, float, int, list[tuple[int, int]], bool, float]] = []

    def tensor(self, name: str, nbytes: int, kind: str, dtype: str) -> int:
        self.t_name.append(name)
        self.t_bytes.append(max(int(nbytes), 1))
        self.t_kind.append(kind)
        self.t_dtype.append(dtype)
        self.t_out.append(False)
        return len(self.t_bytes) - 1

    def op(self, name: str, op_type: str, flops: float, out: int, reads: list[tuple[int, int]],
           elementwise: bool, transcendentals: float = 0.0) -> None:
        reads = [(t, min(int(b), self.t_bytes[t])) for t, b in reads]
        self.ops.append((name, op_type, float(flops), out, reads, elementwise, float(transcendentals)))

    def mark_output(self, t: int) -> None:
        self.t_out[t] = True

    def build(self) -> Workload:
        """The workload, keeping only tensors some op touches (or the program returns)."""
        used = {i for i in range(len(self.t_out)) if self.t_out[i]}
        for _, _, _, out, reads, _, _ in self.ops:
            if out >= 0:
                used.add(out)
            used.update(t for t, _ in reads)
        keep = sorted(used)
        remap = {t: i for i, t in enumerate(keep)}
        ptr = [0]
        ins, inb = [], []
        for _, _, _, _, reads, _, _ in self.ops:
            for t, b in reads:
                ins.append(remap[t])
                inb.append(b)
            ptr.append(len(ins))
        return Workload(
            name=self.name, description=self.description,
            tensor_names=[self.t_name[t] for t in keep],
            tensor_bytes=np.array([self.t_bytes[t] for t in keep], dtype=np.int64),
            tensor_kinds=[self.t_kind[t] for t in keep], tensor_dtypes=[self.t_dtype[t] for t in keep],
            tensor_is_output=np.array([self.t_out[t] for t in keep], dtype=bool),
            op_names=[o[0] for o in self.ops], op_types=[o[1] for o in self.ops],
            op_flops=np.array([o[2] for o in self.ops], dtype=np.float64),
            op_out=np.array([remap[o[3]] if o[3] >= 0 else -1 for o in self.ops], dtype=np.int64),
            op_in_ptr=np.array(ptr, dtype=np.int64), op_in=np.array(ins, dtype=np.int64),
            op_in_bytes=np.array(inb, dtype=np.int64),
            op_elementwise=np.array([o[5] for o in self.ops], dtype=bool),
            op_transcendentals=np.array([o[6] for o in self.ops], dtype=np.float64),
        )


def fuse_elementwise(w: Workload) -> Workload:  # noqa: C901 - one pass over the ops with the fusion rules side by side
    """Fold each elementwise op into the op producing one of its inputs when that input has no
    other reader and is not returned (XLA's loop and output fusion: conv + batch-norm + relu, a
    residual add, bias + gelu, ...). The fused op runs where its last member ran; the intermediate
    tensor disappears; the fused op reads the union of its members' outside inputs."""
    n = w.n_ops
    readers = np.zeros(w.n_tensors, dtype=np.int64)
    for i in range(n):
        for x in set(w.inputs_of(i).tolist()):
            readers[x] += 1
    producer = {int(o): i for i, o in enumerate(w.op_out) if o >= 0}
    group = list(range(n))  # op -> representative (its group's first op)

    def find(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    internal: set[int] = set()
    for i in range(n):
        if not w.op_elementwise[i]:
            continue
        for x in w.inputs_of(i):
            x = int(x)
            p = producer.get(x)
            if p is None or readers[x] != 1 or w.tensor_is_output[x] or x in internal:
                continue
            group[find(i)] = find(p)
            internal.add(x)
            break
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    b = GraphBuilder(w.name, w.description)
    for t in range(w.n_tensors):
        b.tensor(w.tensor_names[t], int(w.tensor_bytes[t]), w.tensor_kinds[t], w.tensor_dtypes[t])
        if w.tensor_is_output[t]:
            b.mark_output(t)
    for ops in sorted(members.values(), key=lambda m: m[-1]):
        written = {int(w.op_out[i]) for i in ops}
        reads: dict[int, int] = {}
        for i in ops:
            s, e = w.op_in_ptr[i], w.op_in_ptr[i + 1]
            for x, nb in zip(w.op_in[s:e].tolist(), w.op_in_bytes[s:e].tolist(), strict=True):
                if x not in written:
                    reads[x] = max(reads.get(x, 0), nb)
        out = int(w.op_out[ops[-1]])
        b.op(w.op_names[ops[-1]] if len(ops) == 1 else f"fusion.{w.op_names[ops[0]]}",
             "+".join(w.op_types[i] for i in ops), float(w.op_flops[ops].sum()), out,
             sorted(reads.items()), bool(all(w.op_elementwise[i] for i in ops)),
             float(w.op_transcendentals[ops].sum()))
    return b.build()
