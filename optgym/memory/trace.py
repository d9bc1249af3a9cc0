"""Your own model in: trace any ``torch.nn.Module`` with ``torch.export`` into a :class:`Workload`.

``torch.export.export`` gives the ATen graph in execution order with a fake tensor (shape and
dtype) on every node, without running the model's arithmetic. Each call becomes an op; views
(``view``, ``reshape``, ``transpose``, ``permute``, ``expand``, ``slice``, ``chunk``, ...) alias
their base tensor and read only their own elements; parameters and buffers are weight tensors;
the example inputs are input tensors. Bytes are counted at each tensor's own dtype (the model and
its floating inputs are cast to ``dtype``, bf16 by default, as an accelerator would run it). FLOPs
follow the op: ``2 * out * K`` for matmul/linear, ``2 * out * Cin/groups * kh * kw`` for
convolutions, a few per element for normalizations and activations. Elementwise ops are then fused
into their producers (:func:`~optgym.memory.graph.fuse_elementwise`).

    optgym memory trace mypkg.models:make --out my.json     # FACTORY() -> (module, example args)
    trace_module(model, (x,), name="mine")                   # from Python
"""

from __future__ import annotations

import importlib
import math
import operator
from pathlib import Path

from optgym.errors import BenchmarkError
from optgym.memory.graph import GraphBuilder, Workload, fuse_elementwise

_VIEWS = {
    "view", "_unsafe_view", "reshape", "permute", "transpose", "t", "expand", "expand_as", "slice",
    "select", "unsqueeze", "squeeze", "alias", "detach", "flatten", "unflatten", "split",
    "split_with_sizes", "chunk", "unbind", "as_strided", "narrow", "view_as", "dropout",
    "contiguous", "lift_fresh_copy", "_assert_tensor_metadata", "movedim", "swapaxes",
}
#: elementwise ops (fusible) and their FLOPs per output element
_ELEMENTWISE = {
    "add": 1, "sub": 1, "mul": 1, "div": 1, "relu": 1, "relu_": 1, "hardtanh": 1, "clamp": 1,
    "gelu": 8, "silu": 4, "sigmoid": 4, "tanh": 4, "neg": 1, "exp": 4, "rsqrt": 2, "sqrt": 2,
    "pow": 2, "where": 1, "masked_fill": 1, "batch_norm": 2, "_native_batch_norm_legit_no_training": 2,
    "leaky_relu": 1, "elu": 4, "hardswish": 3, "hardsigmoid": 3, "abs": 1, "square": 1, "log": 4,
    "_to_copy": 1, "to": 1, "type_as": 1, "erf": 8, "reciprocal": 1, "softplus": 4, "mish": 8,
    "group_norm_affine": 2, "scalar_tensor": 0, "clone": 1, "copy": 1, "maximum": 1, "minimum": 1,
}
_PER_ELEMENT = {"softmax": 5, "_softmax": 5, "log_softmax": 5, "layer_norm": 8, "group_norm": 8,
                "rms_norm": 5, "mean": 1, "sum": 1, "amax": 1, "max": 1, "var": 3, "cumsum": 1,
                "embedding": 0, "cat": 0, "stack": 0, "index": 0, "gather": 0, "scatter_add": 1,
                "index_add": 1, "index_select": 0, "topk": 4, "sort": 8, "max_pool2d": 1,
                "avg_pool2d": 1, "adaptive_avg_pool2d": 1, "upsample_nearest2d": 0,
                "upsample_bilinear2d": 4, "pad": 0, "constant_pad_nd": 0, "roll": 0, "repeat": 0,
                "zeros_like": 0, "ones_like": 0, "full_like": 0, "new_zeros": 0, "arange": 0, "one_hot": 0}


#: transcendental operations per output element (exp, tanh, erf, ...: XLA counts them apart)
_TRANSCENDENTAL = {"exp": 1, "tanh": 1, "sigmoid": 1, "gelu": 1, "silu": 1, "softmax": 1, "_softmax": 1,
                   "log_softmax": 1, "log": 1, "erf": 1, "rsqrt": 1, "sqrt": 1, "softplus": 2, "mish": 3,
                   "elu": 1, "pow": 1}
#: ops that read only the rows their indices select from their first operand (a table)
GATHERS = {"embedding", "index_select", "gather", "index", "take", "embedding_bag"}
#: ops that write rows of their first operand at indices (functional here: the result is new)
SCATTERS = {"index_add", "scatter_add", "scatter", "index_put", "index_copy", "scatter_reduce"}


def _transcendentals(name: str, node, out) -> float:
    """Transcendental operations of one ATen call (XLA's cost analysis charges them apart)."""
    if name == "scaled_dot_product_attention":
        args = [a.meta.get("val") for a in node.args if hasattr(a, "meta")]
        if len(args) >= 2:
            q, k = args[0], args[1]
            return float(q.numel()) / float(q.shape[-1]) * float(k.shape[-2])  # exp of every score
    return _TRANSCENDENTAL.get(name, 0) * (float(out.numel()) if out is not None else 0.0)


def _op_name(target) -> str:
    if target is operator.getitem:
        return "getitem"
    name = getattr(target, "__name__", str(target))
    return name.split(".")[0]


def _tensors(val) -> list:
    import torch

    if isinstance(val, torch.Tensor):
        return [val]
    if isinstance(val, list | tuple):
        return [v for v in val if isinstance(v, torch.Tensor)]
    return []


def _nbytes(t) -> int:
    return int(t.numel()) * t.element_size()


def _flops(name: str, node, out) -> float:
    """FLOPs of one ATen call from its operand and result shapes."""
    args = [a.meta.get("val") for a in node.args if hasattr(a, "meta")]
    numel = float(out.numel()) if out is not None else 0.0
    if name in {"linear", "addmm", "mm", "bmm", "matmul", "baddbmm", "einsum"} and args:
        a = args[0] if name not in {"addmm", "baddbmm"} else args[1]
        return 2.0 * numel * float(a.shape[-1])
    if name in {"conv1d", "conv2d", "conv3d", "convolution", "_convolution"} and len(args) >= 2:
        w = args[1]
        transposed = name in {"convolution", "_convolution"} and len(node.args) > 6 and bool(node.args[6])
        if transposed:
            return 2.0 * float(args[0].numel()) * math.prod(w.shape[1:])
        return 2.0 * numel * math.prod(w.shape[1:])
    if name in {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"} and len(args) >= 2:
        return 2.0 * float(args[0].numel()) * math.prod(args[1].shape[1:])
    if name in {"max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "mean", "sum", "amax", "max"} and args:
        return float(args[0].numel())
    if name in {"scaled_dot_product_attention"} and len(args) >= 3:
        q, k = args[0], args[1]
        return 4.0 * float(q.numel()) * float(k.shape[-2]) + 5.0 * float(q.shape[-2]) * float(k.shape[-2])
    if name in _ELEMENTWISE:
        return _ELEMENTWISE[name] * numel
    return _PER_ELEMENT.get(name, 1) * numel


def trace_module(model, args: tuple, *, name: str, dtype=None, description: str = "",  # noqa: C901 - one walk over torch.export's node kinds, each with its own byte rule
                 fuse: bool = True) -> Workload:
    """Trace ``model(*args)`` with ``torch.export`` and return its workload.

    ``dtype`` (default ``torch.bfloat16``) is the dtype the model's floating parameters and
    inputs are cast to before export; pass ``torch.float32`` to keep float32.
    """
    import torch

    dtype = torch.bfloat16 if dtype is None else dtype
    if not isinstance(model, torch.nn.Module):
        raise BenchmarkError(f"{name}: expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    model = model.eval().to(dtype)
    args = tuple(a.to(dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args)
    try:
        with torch.no_grad():
            ep = torch.export.export(model, args)
    except Exception as exc:  # torch raises many types; name the model and the cause
        raise BenchmarkError(f"{name}: torch.export failed: {type(exc).__name__}: {exc}") from exc
    sig = ep.graph_signature
    weights = set(sig.inputs_to_parameters) | set(sig.inputs_to_buffers) | set(
        getattr(sig, "inputs_to_lifted_tensor_constants", {}) or {})
    b = GraphBuilder(name, description)
    base: dict = {}  # fx node -> tensor id (a view maps to its base) or a list of ids for tuples
    view_bytes: dict = {}  # fx node -> bytes a read of it touches
    for node in ep.graph.nodes:
        val = node.meta.get("val")
        if node.op == "placeholder":
            ts = _tensors(val)
            if not ts:
                continue
            kind = "weight" if node.name in weights else "input"
            label = sig.inputs_to_parameters.get(node.name) or sig.inputs_to_buffers.get(node.name) or node.name
            base[node] = b.tensor(label, _nbytes(ts[0]), kind, str(ts[0].dtype).replace("torch.", ""))
            view_bytes[node] = _nbytes(ts[0])
            continue
        if node.op == "output":
            for a in node.all_input_nodes:
                ids = base.get(a)
                for t in ids if isinstance(ids, list) else [ids]:
                    if t is not None:
                        b.mark_output(t)
            continue
        if node.op != "call_function":
            continue
        op = _op_name(node.target)
        ins = [a for a in node.all_input_nodes if a in base]
        outs = _tensors(val)
        if op == "getitem":
            src = node.args[0]
            ids = base.get(src)
            if isinstance(ids, list):
                idx = int(node.args[1])
                if idx < len(ids) and ids[idx] is not None:
                    base[node] = ids[idx]
                    view_bytes[node] = _nbytes(outs[0]) if outs else 0
            elif ids is not None:  # an element of a view tuple (chunk, split, unbind)
                base[node] = ids
                view_bytes[node] = _nbytes(outs[0]) if outs else view_bytes.get(src, 0)
            continue
        if op in _VIEWS and ins:
            src = ins[0]
            base[node] = base[src]
            if isinstance(val, list | tuple):
                view_bytes[node] = view_bytes[src]
            else:
                view_bytes[node] = _nbytes(outs[0]) if outs else view_bytes[src]
            continue
        if not outs:
            continue  # shape arithmetic, asserts: no data
        reads = []
        for pos, a in enumerate(ins):
            ids = base[a]
            for t in ids if isinstance(ids, list) else [ids]:
                if t is not None:
                    nb = view_bytes.get(a, 0) or b.t_bytes[t]
                    if pos == _table_position(op, node, ins):
                        # a gather reads the rows it selects, a scatter writes the rows it updates
                        nb = min(nb, _nbytes(outs[0]) if op in GATHERS else _updates_bytes(node))
                    reads.append((t, nb))
        out_ids = [b.tensor(f"{node.name}" if i == 0 else f"{node.name}.{i}", _nbytes(t), "activation",
                            str(t.dtype).replace("torch.", "")) for i, t in enumerate(outs)]
        # an op with several results writes the first; the others (e.g. pooling indices) are
        # only kept when read, as extra ops of no cost
        b.op(node.name, op, _flops(op, node, outs[0]), out_ids[0], reads, op in _ELEMENTWISE,
             _transcendentals(op, node, outs[0]))
        for extra in out_ids[1:]:
            b.op(f"{node.name}.out", op, 0.0, extra, [], True)
        base[node] = out_ids if isinstance(val, list | tuple) else out_ids[0]
        view_bytes[node] = _nbytes(outs[0])
    w = b.build()
    return fuse_elementwise(w) if fuse else w


def _table_position(op: str, node, ins: list) -> int:
    """Which traced operand of a gather or scatter is the table (-1: none). ``embedding`` takes
    (weight, indices); the others take the table first."""
    if op not in GATHERS and op not in SCATTERS:
        return -1
    return 0


def _updates_bytes(node) -> int:
    """Bytes a scatter writes: its last tensor operand (the updates or source)."""
    vals = [a.meta.get("val") for a in node.args if hasattr(a, "meta") and hasattr(a.meta.get("val"), "numel")]
    return _nbytes(vals[-1]) if vals else 0


def load_factory(spec: str, what: str = "(module, example_args)"):
    """Import ``MODULE:FACTORY`` and call it; it must return a pair ``what`` names."""
    if ":" not in spec:
        raise BenchmarkError(f"{spec!r}: expected MODULE:FACTORY, e.g. mypkg.models:make")
    mod_name, func_name = spec.split(":", 1)
    try:
        module = importlib.import_module(mod_name)
    except ImportError as exc:
        raise BenchmarkError(f"{spec}: cannot import {mod_name!r}: {exc}") from exc
    factory = getattr(module, func_name, None)
    if not callable(factory):
        raise BenchmarkError(f"{spec}: {mod_name!r} has no callable {func_name!r}")
    made = factory()
    if not (isinstance(made, tuple) and len(made) == 2):
        raise BenchmarkError(f"{spec}: the factory must return {what}, got {type(made).__name__}")
    return made


def trace_factory(spec: str, *, name: str | None = None, dtype=None) -> Workload:
    """Trace the model a ``MODULE:FACTORY`` spec builds (see :func:`load_factory`)."""
    model, args = load_factory(spec)
    return trace_module(model, args if isinstance(args, tuple) else (args,),
                        name=name or spec.split(":", 1)[1], dtype=dtype, description=f"traced from {spec}")


def trace_to_file(spec: str, out: str | Path, *, name: str | None = None) -> Path:
    """Trace a factory and write the workload JSON (atomically)."""
    return trace_factory(spec, name=name).save(out)
