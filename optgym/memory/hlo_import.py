"""Bring an XLA HLO module or a JAX function: read HLO text into a :class:`Workload`.

:func:`read_hlo` reads the entry computation of an HLO module in its text form (what
``jax.jit(f).lower(*args).compiler_ir("hlo").as_hlo_text()`` prints, or an ``.hlo`` file an XLA
dump wrote). Instructions are already in a valid order. Every value keeps its HLO element type
(``bf16`` stays two bytes). Parameters are input tensors, large constants weights. ``bitcast``,
``reshape``, ``transpose``, ``broadcast``, ``slice``, ``tuple`` and ``get-tuple-element`` alias
their operand (a slice reads only its elements, a broadcast reads its base once); scalar
constants and ``iota`` hold no data. FLOPs: ``2 * out * contracted`` for ``dot``, ``2 * out *
kernel / output features`` for ``convolution``, the operand's elements for reductions, one per
element otherwise; ``exponential``, ``tanh``, ``logistic``, ``log``, ``rsqrt``, ... count as
transcendentals. ``gather`` and ``dynamic-slice`` read only the rows they select;
``scatter`` and ``dynamic-update-slice`` write only their updates. Elementwise instructions are
then fused into their producers (:func:`~optgym.memory.graph.fuse_elementwise`), as XLA fuses them.

:func:`trace_jax` lowers a JAX function on the CPU (no accelerator needed) and reads its HLO:

    optgym memory trace --jax mypkg.models:make --out my.json   # make() -> (function, example_args)
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from optgym.errors import BenchmarkError
from optgym.memory.graph import GraphBuilder, Workload, fuse_elementwise

_BYTES = {"pred": 1, "s4": 1, "u4": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "f16": 2, "bf16": 2, "s32": 4,
          "u32": 4, "f32": 4, "s64": 8, "u64": 8, "f64": 8, "c64": 8, "c128": 16, "f8e4m3fn": 1, "f8e5m2": 1}
_DTYPE = {"bf16": "bfloat16", "f16": "float16", "f32": "float32", "f64": "float64", "s32": "int32",
          "s64": "int64", "s8": "int8", "u8": "uint8", "pred": "bool"}
_ALIAS = {"bitcast", "reshape", "transpose", "broadcast", "slice", "tuple", "get-tuple-element", "copy",
          "bitcast-convert"}
_NO_DATA = {"iota", "after-all", "partition-id", "replica-id"}
_ELEMENTWISE = {"add", "subtract", "multiply", "divide", "maximum", "minimum", "negate", "abs", "select",
                "compare", "convert", "and", "or", "not", "xor", "clamp", "sign", "floor", "ceil",
                "round-nearest-even", "round-nearest-afz", "remainder", "shift-left",
                "shift-right-logical", "shift-right-arithmetic", "is-finite", "real", "imag"}
_TRANSCENDENTAL = {"exponential", "tanh", "logistic", "log", "rsqrt", "sqrt", "cbrt", "power", "erf",
                   "exponential-minus-one", "log-plus-one", "cosine", "sine", "tan", "atan2"}
_GATHER = {"gather", "dynamic-slice"}
_SCATTER = {"scatter", "dynamic-update-slice"}
_SHAPE = re.compile(r"([a-z0-9]+)\[([0-9,]*)\]")


def _close(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "({[":
            depth += 1
        elif text[i] in ")}]":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced parentheses")


def _shape(text: str) -> list[tuple[str, list[int]]]:
    """``[(element type, dims), ...]`` of an HLO shape (one entry, or several for a tuple)."""
    return [(m.group(1), [int(d) for d in m.group(2).split(",") if d]) for m in _SHAPE.finditer(text)]


def _nbytes(parts: list[tuple[str, list[int]]]) -> int:
    return sum(_BYTES.get(t, 4) * math.prod(d) for t, d in parts)


def _entry_lines(text: str) -> list[str]:
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("ENTRY"):
            out = []
            for body in lines[k + 1:]:
                if body.strip() == "}":
                    return out
                if body.strip():
                    out.append(body.strip())
            return out
    raise BenchmarkError("no ENTRY computation in the HLO text")


def _parse(line: str) -> tuple[bool, str, str, str, list[str], str]:
    """``(is_root, name, shape, opcode, operands, attributes)`` of one instruction line."""
    root = line.startswith("ROOT ")
    if root:
        line = line[5:]
    name, rest = line.split("=", 1)
    rest = rest.strip()
    if rest.startswith("("):
        end = _close(rest, 0)
        shape, rest = rest[:end + 1], rest[end + 1:].strip()
    else:
        shape, rest = rest.split(" ", 1)
    paren = rest.index("(")
    opcode = rest[:paren].strip()
    end = _close(rest, paren)
    inside, attrs = rest[paren + 1:end], rest[end + 1:]
    operands = []
    if opcode not in ("constant", "parameter"):
        for op in inside.split(","):
            op = op.strip().split(" ")[-1].lstrip("%")
            if op:
                operands.append(op)
    return root, name.strip().lstrip("%"), shape, opcode, operands, attrs


def _attr(attrs: str, key: str) -> str | None:
    m = re.search(rf"{key}=(\{{[^}}]*\}}|[^,\s]+)", attrs)
    return m.group(1) if m else None


def _flops(opcode: str, out: list[tuple[str, list[int]]], ins: list[list[tuple[str, list[int]]]],
           attrs: str) -> float:
    numel = float(sum(math.prod(d) for _, d in out))
    if opcode == "dot" and ins:
        dims = _attr(attrs, "lhs_contracting_dims") or "{}"
        k = math.prod(ins[0][0][1][int(x)] for x in dims.strip("{}").split(",") if x)
        return 2.0 * numel * k
    if opcode == "convolution" and len(ins) >= 2:
        labels = _attr(attrs, "dim_labels") or ""
        rhs = labels.split("_")[1].split("->")[0] if "_" in labels else ""
        kdims = ins[1][0][1]
        o = kdims[rhs.index("o")] if "o" in rhs and len(rhs) == len(kdims) else 1
        return 2.0 * numel * math.prod(kdims) / max(o, 1)
    if opcode in ("reduce", "reduce-window") and ins:
        return float(math.prod(ins[0][0][1]))
    return numel


def read_hlo(text: str, *, name: str = "hlo", description: str = "", fuse: bool = True) -> Workload:  # noqa: C901 - one dispatch over HLO opcodes, each with its own byte rule
    """Read the entry computation of an HLO module (text form) as a workload."""
    b = GraphBuilder(name, description)
    base: dict[str, int | list[int] | None] = {}  # value -> tensor id (or ids, for tuples); None: no data
    view: dict[str, int] = {}  # value -> bytes a read of it touches
    shapes: dict[str, list[tuple[str, list[int]]]] = {}
    roots: list[str] = []
    try:
        lines = [_parse(line) for line in _entry_lines(text)]
    except (ValueError, IndexError) as exc:
        raise BenchmarkError(f"{name}: cannot parse the HLO text: {exc}") from exc
    for root, val, shape_text, opcode, operands, attrs in lines:
        parts = _shape(shape_text)
        shapes[val] = parts
        nbytes = _nbytes(parts)
        if root:
            roots.append(val)
        dtype = _DTYPE.get(parts[0][0], parts[0][0]) if parts else "tuple"
        if opcode == "parameter":
            base[val] = b.tensor(val, nbytes, "input", dtype)
            view[val] = nbytes
            continue
        if opcode == "constant":
            base[val] = b.tensor(val, nbytes, "weight", dtype) if nbytes > 64 else None
            view[val] = nbytes
            continue
        if opcode in _NO_DATA:
            base[val] = None
            continue
        known = [o for o in operands if base.get(o) is not None]
        if opcode in _ALIAS:
            if opcode == "tuple":
                ids = []
                for o in operands:
                    x = base.get(o)
                    ids.extend(x if isinstance(x, list) else [x] if x is not None else [])
                base[val] = ids
            elif opcode == "get-tuple-element" and isinstance(base.get(operands[0] if operands else ""), list):
                idx = int(_attr(attrs, "index") or 0)
                ids = base[operands[0]]
                base[val] = ids[idx] if idx < len(ids) else None
            elif known:
                base[val] = base[known[0]]
            else:
                base[val] = None
            src = known[0] if known else None
            view[val] = nbytes if opcode == "slice" else view.get(src, nbytes) if src else nbytes
            continue
        reads = []
        for pos, o in enumerate(operands):
            x = base.get(o)
            for t in x if isinstance(x, list) else [x] if x is not None else []:
                nb = view.get(o, b.t_bytes[t])
                if pos == 0 and opcode in _GATHER:
                    nb = min(nb, nbytes)
                elif pos == 0 and opcode in _SCATTER:
                    nb = min(nb, _nbytes(shapes.get(operands[-1], [])))
                reads.append((t, nb))
        out = b.tensor(val, nbytes, "activation", dtype)
        trans = float(sum(math.prod(d) for _, d in parts)) if opcode in _TRANSCENDENTAL else 0.0
        b.op(val, opcode, _flops(opcode, parts, [shapes.get(o, []) for o in operands], attrs), out, reads,
             opcode in _ELEMENTWISE or opcode in _TRANSCENDENTAL, trans)
        base[val] = out
        view[val] = nbytes
    for r in roots:
        x = base.get(r)
        for t in x if isinstance(x, list) else [x] if x is not None else []:
            b.mark_output(t)
    w = b.build()
    if w.n_ops == 0:
        raise BenchmarkError(f"{name}: the HLO entry computation has no instructions that compute")
    return fuse_elementwise(w) if fuse else w


def read_hlo_file(path: str | Path, *, name: str | None = None) -> Workload:
    """Read an ``.hlo`` / ``.txt`` HLO module dump."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot read the HLO module: {exc}") from exc
    return read_hlo(text, name=name or path.stem.split(".")[0], description=f"read from {path.name}")


def trace_jax(spec: str, *, name: str | None = None) -> Workload:
    """Lower the JAX function a ``MODULE:FACTORY`` builds (``FACTORY() -> (function,
    example_args)``) with jax on the CPU and read its HLO. The arguments' dtypes are kept."""
    try:
        import jax
    except ImportError as exc:
        raise BenchmarkError("tracing a JAX function needs jax: pip install 'optgym[jax]'") from exc
    from optgym.memory.trace import load_factory

    fn, args = load_factory(spec, what="(function, example_args)")
    if not callable(fn):
        raise BenchmarkError(f"{spec}: the factory's first element must be a function, got {type(fn).__name__}")
    args = args if isinstance(args, tuple) else (args,)
    with jax.default_device(jax.devices("cpu")[0]):
        try:
            text = jax.jit(fn).lower(*args).compiler_ir("hlo").as_hlo_text()
        except Exception as exc:  # jax raises many types while tracing; name the function and the cause
            raise BenchmarkError(f"{spec}: jax could not lower the function: {type(exc).__name__}: {exc}") from exc
    return read_hlo(text, name=name or spec.split(":", 1)[1], description=f"lowered with jax from {spec}")
