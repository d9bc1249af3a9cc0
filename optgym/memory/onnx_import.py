"""Import an ONNX graph (what most frameworks can export) as a :class:`Workload`.

ONNX nodes are already in a valid execution order. Shapes and dtypes come from the graph's
``value_info`` after ONNX shape inference; initializers are weight tensors, graph inputs that are
not initializers are input tensors. ``Reshape``, ``Flatten``, ``Squeeze``, ``Unsqueeze``,
``Identity`` and ``Dropout`` alias their input (no op, no buffer). FLOPs follow the op type as in
the ``torch.export`` tracer; elementwise ops are fused into their producers afterwards.
"""

from __future__ import annotations

import math
from pathlib import Path

from optgym.errors import BenchmarkError
from optgym.memory.graph import GraphBuilder, Workload, fuse_elementwise

_ALIASES = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
_ELEMENTWISE = {"Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Relu": 1, "Sigmoid": 4, "Tanh": 4, "Gelu": 8,
                "Erf": 8, "Exp": 4, "Sqrt": 2, "Pow": 2, "Neg": 1, "Clip": 1, "LeakyRelu": 1,
                "BatchNormalization": 2, "Cast": 1, "Where": 1, "HardSigmoid": 3, "HardSwish": 3,
                "Elu": 4, "Softplus": 4, "Reciprocal": 1, "Abs": 1}
_PER_ELEMENT = {"Softmax": 5, "LayerNormalization": 8, "ReduceMean": 1, "GlobalAveragePool": 1,
                "MaxPool": 1, "AveragePool": 1, "Concat": 0, "Transpose": 0, "Gather": 0,
                "Slice": 0, "Split": 0, "Resize": 1, "Pad": 0}


_TRANSCENDENTAL = {"Exp": 1, "Tanh": 1, "Sigmoid": 1, "Erf": 1, "Gelu": 1, "Softmax": 1, "Log": 1,
                   "Sqrt": 1, "Softplus": 2, "Elu": 1, "Pow": 1, "LogSoftmax": 1}
#: floating dtypes a model can be mapped at (``dtype=``), with their sizes in bytes
DTYPES = {"float32": 4, "bfloat16": 2, "float16": 2}


def _dtype_size(elem_type: int, dtype: str | None) -> tuple[str, int]:
    """Name and byte size of an ONNX element type; floating types become ``dtype`` when given
    (what an accelerator runs a float32 export at)."""
    import onnx

    if dtype is not None and elem_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE,
                                           onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16):
        return dtype, DTYPES[dtype]
    if elem_type == onnx.TensorProto.BFLOAT16:
        return "bfloat16", 2
    np_dtype = onnx.helper.tensor_dtype_to_np_dtype(elem_type)
    return str(np_dtype), np_dtype.itemsize


def read_onnx(path: str | Path, *, name: str | None = None, fuse: bool = True,  # noqa: C901 - one dispatch over ONNX op types, each with its own shape rule
              dtype: str | None = None) -> Workload:
    """Read an ``.onnx`` file (shapes must be static after shape inference). ``dtype``
    (``bfloat16``, ``float16`` or ``float32``) counts every floating tensor at that type, as a
    bf16 accelerator runs a float32 export; None keeps the file's types."""
    if dtype is not None and dtype not in DTYPES:
        raise BenchmarkError(f"unknown dtype {dtype!r}; choose one of {sorted(DTYPES)}")
    try:
        import onnx
    except ImportError as exc:
        raise BenchmarkError("reading ONNX needs the 'onnx' package: pip install onnx") from exc
    path = Path(path)
    try:
        model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    except Exception as exc:  # onnx raises its own and protobuf errors
        raise BenchmarkError(f"{path}: not a readable ONNX model: {exc}") from exc
    g = model.graph
    info: dict[str, tuple[list[int], str, int]] = {}
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
        name_t, size = _dtype_size(tt.elem_type, dtype)
        info[vi.name] = (dims, name_t, size)
    for init in g.initializer:
        name_t, size = _dtype_size(init.data_type, dtype)
        info[init.name] = (list(init.dims), name_t, size)

    def nbytes(tensor: str) -> int:
        if tensor not in info:
            raise BenchmarkError(f"{path}: no static shape for tensor {tensor!r} (run shape inference or "
                                 "export with fixed input sizes)")
        dims, _, size = info[tensor]
        if any(d < 0 for d in dims):
            raise BenchmarkError(f"{path}: tensor {tensor!r} has a dynamic shape {dims}; export with fixed sizes")
        return math.prod(dims) * size

    b = GraphBuilder(name or path.stem, f"imported from {path.name}")
    base: dict[str, int] = {}
    inits = {i.name for i in g.initializer}
    for init in g.initializer:
        base[init.name] = b.tensor(init.name, nbytes(init.name), "weight", info[init.name][1])
    for inp in g.input:
        if inp.name not in inits:
            base[inp.name] = b.tensor(inp.name, nbytes(inp.name), "input", info[inp.name][1])
    view_bytes = {t: b.t_bytes[i] for t, i in base.items()}
    for k, node in enumerate(g.node):
        ins = [x for x in node.input if x in base]
        if node.op_type in _ALIASES and ins:
            for out in node.output[:1]:
                base[out] = base[ins[0]]
                view_bytes[out] = view_bytes[ins[0]]
            continue
        if node.op_type == "Constant":
            continue
        outs = [o for o in node.output if o]
        if not outs:
            continue
        out_numel = nbytes(outs[0]) / info[outs[0]][2]
        op = node.op_type
        if op in {"MatMul", "Gemm"} and ins:
            flops = 2.0 * out_numel * info[ins[0]][0][-1 if op == "MatMul" else 1]
        elif op == "Conv" and len(ins) >= 2:
            flops = 2.0 * out_numel * math.prod(info[ins[1]][0][1:])
        elif op in _ELEMENTWISE:
            flops = _ELEMENTWISE[op] * out_numel
        else:
            flops = _PER_ELEMENT.get(op, 1) * out_numel
        reads = [(base[x], view_bytes[x]) for x in ins]
        if op in {"Gather", "GatherElements", "GatherND"} and reads and node.input[0] in base:
            reads[0] = (reads[0][0], min(reads[0][1], nbytes(outs[0])))  # only the rows selected
        out_id = b.tensor(outs[0], nbytes(outs[0]), "activation", info[outs[0]][1])
        b.op(node.name or f"{op}_{k}", op.lower(), flops, out_id, reads, op in _ELEMENTWISE,
             _TRANSCENDENTAL.get(op, 0) * out_numel)
        base[outs[0]] = out_id
        view_bytes[outs[0]] = b.t_bytes[out_id]
    for out in g.output:
        if out.name in base:
            b.mark_output(base[out.name])
    w = b.build()
    return fuse_elementwise(w) if fuse else w
