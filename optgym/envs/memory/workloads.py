"""Workloads: memory-mapping problems traced from the project's PyTorch models, cached on disk.

A model is traced with ``torch.fx`` and run once through ``ShapeProp`` (batch 1). Every node that
computes a tensor becomes an op in execution order; its output is a new buffer live from the op
that writes it to one past the last op that reads it. View-like nodes (reshape, transpose views,
flatten, expand...) alias their input and cost nothing. Each module's parameters form one weight
buffer live over the ops that use it (as if prefetched just in time, which is what XLA's
memory-space assignment aims for). FLOPs come from the op type and shapes; bytes per operand are
the operand's tensor size.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from optgym.cache import atomic_write
from optgym.envs.memory.problem import Hardware, MemoryProblem, get_hardware
from optgym.errors import BenchmarkError

#: bump when the extraction changes, so stale caches are not reused
EXTRACT_VERSION = 1
ALIGN = 64  # bytes: buffer sizes are rounded up to a cache-line / DMA granule

WORKLOAD_NAMES = ("resnet18", "mobilenetv2", "bert-layer", "gpt2-block", "unet-small", "vit-tiny")


def cache_dir() -> Path:
    """``$OPTGYM_CACHE/memory`` (default ``~/.cache/optgym/memory``), created on demand."""
    root = Path(os.environ.get("OPTGYM_CACHE") or Path.home() / ".cache" / "optgym")
    d = root / "memory" / f"workloads-v{EXTRACT_VERSION}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, text.encode())


_VIEW_METHODS = {"view", "reshape", "flatten", "squeeze", "unsqueeze", "expand", "contiguous",
                 "transpose", "permute", "t", "expand_as", "view_as", "reshape_as"}
_VIEW_FUNCS = {"flatten", "reshape", "squeeze", "unsqueeze", "transpose", "permute", "t"}
_ELEMENTWISE_COST = {"gelu": 8, "softmax": 5, "layer_norm": 8, "batch_norm": 2, "silu": 4,
                     "sigmoid": 4, "tanh": 4}


def _numel(meta) -> int:
    n = 1
    for s in meta.shape:
        n *= int(s)
    return n


def _nbytes(meta) -> int:
    import torch

    return _numel(meta) * torch.empty((), dtype=meta.dtype).element_size()


def _target_name(node) -> str:
    t = node.target
    return t if isinstance(t, str) else getattr(t, "__name__", str(t))


def trace_workload(name: str) -> MemoryProblem:
    """Trace one of the project's models and extract its memory-mapping problem (capacity 0)."""
    import torch
    from torch import fx, nn
    from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

    from optgym.envs.memory.models import MODELS

    if name not in MODELS:
        raise BenchmarkError(f"unknown workload {name!r}; choose one of {sorted(MODELS)}")
    factory, shape, _ = MODELS[name]
    torch.manual_seed(0)
    with torch.no_grad():
        model = factory().eval()
        gm = fx.symbolic_trace(model)
        ShapeProp(gm).propagate(torch.randn(*shape))
    modules = dict(gm.named_modules())

    buf_size: list[int] = []
    buf_kind: list[str] = []
    buf_name: list[str] = []
    buf_uses: list[list[int]] = []  # op indices that touch the buffer (producer included)
    ops: list[tuple[str, float, list[tuple[int, int]]]] = []  # name, flops, [(buffer, bytes)]
    of_node: dict = {}  # fx node -> buffer id (aliases map to their base buffer)
    weight_of: dict[str, int] = {}

    def new_buffer(nm: str, kind: str, nbytes: int) -> int:
        buf_size.append(max(ALIGN, -(-nbytes // ALIGN) * ALIGN))
        buf_kind.append(kind)
        buf_name.append(nm)
        buf_uses.append([])
        return len(buf_size) - 1

    def tensor_args(node) -> list:
        out = []
        for a in node.all_input_nodes:
            if a in of_node:
                out.append(a)
        return out

    for node in gm.graph.nodes:
        meta = node.meta.get("tensor_meta")
        if node.op == "placeholder":
            of_node[node] = new_buffer(node.name, "input", _nbytes(meta))
            buf_uses[of_node[node]].append(0)
            continue
        if node.op == "get_attr":
            if isinstance(meta, TensorMetadata):
                of_node[node] = new_buffer(node.target, "weight", _nbytes(meta))
            continue
        if node.op == "output":
            continue
        tname = _target_name(node)
        args = tensor_args(node)
        is_tensor = isinstance(meta, TensorMetadata)
        is_view = (
            (node.op == "call_method" and tname in _VIEW_METHODS)
            or (node.op == "call_function" and tname in _VIEW_FUNCS)
            or (node.op == "call_function" and tname == "getitem")
            or (node.op == "call_method" and tname in {"chunk", "split"})
        )
        if is_view and args:
            of_node[node] = of_node[args[0]]
            continue
        if not is_tensor:
            continue  # size(), shape arithmetic: no data
        t = len(ops)
        operands: list[tuple[int, int]] = []
        for a in args:
            b = of_node[a]
            operands.append((b, buf_size[b]))
        flops = float(_numel(meta))
        if node.op == "call_module":
            mod = modules[node.target]
            params = list(mod.parameters(recurse=False)) + list(mod.buffers(recurse=False))
            if params:
                if node.target not in weight_of:
                    nb = sum(p.numel() * p.element_size() for p in params)
                    weight_of[node.target] = new_buffer(f"{node.target}.params", "weight", nb)
                wb = weight_of[node.target]
                operands.append((wb, buf_size[wb]))
            out_numel = _numel(meta)
            if isinstance(mod, nn.Conv2d | nn.ConvTranspose2d):
                k = mod.kernel_size[0] * mod.kernel_size[1]
                cin = mod.in_channels // mod.groups
                if isinstance(mod, nn.ConvTranspose2d):
                    flops = 2.0 * _numel(node.args[0].meta["tensor_meta"]) * mod.out_channels * k
                else:
                    flops = 2.0 * out_numel * cin * k
            elif isinstance(mod, nn.Linear):
                flops = 2.0 * out_numel * mod.in_features
            elif isinstance(mod, nn.LayerNorm):
                flops = 8.0 * out_numel
            elif isinstance(mod, nn.BatchNorm2d):
                flops = 2.0 * out_numel
            elif isinstance(mod, nn.MaxPool2d | nn.AdaptiveAvgPool2d):
                flops = float(_numel(node.args[0].meta["tensor_meta"]))
        elif tname in {"matmul", "bmm"} and len(args) == 2:
            kdim = int(args[0].meta["tensor_meta"].shape[-1])
            flops = 2.0 * _numel(meta) * kdim
        elif tname in _ELEMENTWISE_COST:
            flops = float(_ELEMENTWISE_COST[tname] * _numel(meta))
        elif tname in {"max_pool2d", "adaptive_avg_pool2d", "avg_pool2d"}:
            flops = float(_numel(args[0].meta["tensor_meta"]))
        out = new_buffer(node.name, "activation", _nbytes(meta))
        of_node[node] = out
        operands.append((out, buf_size[out]))
        for b, _ in operands:
            buf_uses[b].append(t)
        ops.append((node.name, flops, operands))

    n_ops = len(ops)
    output_node = next(n for n in gm.graph.nodes if n.op == "output")
    for a in output_node.all_input_nodes:
        if a in of_node:
            buf_uses[of_node[a]].append(n_ops - 1)
    keep = [b for b in range(len(buf_size)) if buf_uses[b]]
    remap = {b: i for i, b in enumerate(keep)}
    lower = np.array([min(buf_uses[b]) for b in keep], dtype=np.int64)
    upper = np.array([max(buf_uses[b]) + 1 for b in keep], dtype=np.int64)
    op_ptr = np.zeros(n_ops + 1, dtype=np.int64)
    op_buffers, op_bytes = [], []
    for t, (_, _, operands) in enumerate(ops):
        op_ptr[t + 1] = op_ptr[t] + len(operands)
        for b, nb in operands:
            op_buffers.append(remap[b])
            op_bytes.append(nb)
    return MemoryProblem(
        name=name,
        lower=lower,
        upper=upper,
        size=np.array([buf_size[b] for b in keep], dtype=np.int64),
        capacity=0,
        buffer_names=[buf_name[b] for b in keep],
        buffer_kinds=[buf_kind[b] for b in keep],
        op_names=[o[0] for o in ops],
        op_flops=np.array([o[1] for o in ops], dtype=np.float64),
        op_ptr=op_ptr,
        op_buffers=np.array(op_buffers, dtype=np.int64),
        op_bytes=np.array(op_bytes, dtype=np.float64),
    )


def traced_problem(name: str, *, refresh: bool = False) -> MemoryProblem:
    """The traced problem of a workload, from the disk cache when present (capacity 0)."""
    if name not in WORKLOAD_NAMES:
        raise BenchmarkError(f"unknown workload {name!r}; choose one of {list(WORKLOAD_NAMES)}")
    path = cache_dir() / f"{name}.json"
    if path.exists() and not refresh:
        try:
            return MemoryProblem.from_json(path.read_text())
        except (ValueError, KeyError, TypeError):
            pass  # a corrupt cache entry is rebuilt below
    problem = trace_workload(name)
    _atomic_write_text(path, problem.to_json())
    return problem


def load_problem(name: str, hardware: str | Hardware = "tpu-like") -> tuple[MemoryProblem, Hardware]:
    """A problem by name: a traced workload (capacity from the hardware) or ``minimalloc/X``.

    MiniMalloc problems keep their own capacity (1 MiB); they have no ops, so only packing applies.
    """
    hw = get_hardware(hardware)
    if name.startswith("minimalloc/"):
        from optgym.envs.memory.minimalloc import load_minimalloc

        return load_minimalloc(name.split("/", 1)[1]), hw
    return traced_problem(name).with_capacity(hw.fast_capacity), hw


def list_problems() -> list[str]:
    """Every problem name :func:`load_problem` accepts."""
    from optgym.envs.memory.minimalloc import MINIMALLOC_NAMES

    return list(WORKLOAD_NAMES) + [f"minimalloc/{n}" for n in MINIMALLOC_NAMES]


def trace_all(*, refresh: bool = False) -> dict[str, float]:
    """Trace (or load) every workload; returns seconds per workload."""
    out = {}
    for name in WORKLOAD_NAMES:
        t0 = time.perf_counter()
        traced_problem(name, refresh=refresh)
        out[name] = time.perf_counter() - t0
    return out
