"""Memory mapping: workloads as data, tracers, segments, the timeline cost model, baselines, envs."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from optgym.errors import BenchmarkError, InvalidMappingError
from optgym.memory import MemoryMappingEnv, MemoryPackingEnv
from optgym.memory.baselines import (
    best_fit_packing,
    greedy_mapping,
    repack,
    xla_mapping,
)
from optgym.memory.check import check_mapping, check_timeline
from optgym.memory.graph import GraphBuilder, Workload
from optgym.memory.minimalloc import MINIMALLOC_NAMES, load_minimalloc, read_minimalloc_csv
from optgym.memory.problem import (
    PREFETCH,
    PRODUCE_EVICT,
    Hardware,
    MemoryProblem,
    build_problem,
    get_hardware,
    validate_mapping,
)
from optgym.memory.timeline import CostModel
from optgym.memory.workloads import load_problem, load_workload, workload_names

HW = get_hardware("tpu-like")


def test_shipped_workloads_are_data_split_by_family():
    from optgym.memory.workloads import workload_family

    splits = {k: workload_names(k) for k in ("train", "validation", "test")}
    assert all(len(v) >= 4 for v in splits.values()) and len(splits["train"]) >= 12
    family_split: dict[str, str] = {}
    for split, names in splits.items():
        for name in names:
            family = workload_family(name)
            assert family_split.setdefault(family, split) == split, f"{family} straddles splits"
    assert {"kv-decode", "rnn", "dlrm", "pointnet"} <= {f for f, s in family_split.items() if s == "test"}
    for name in workload_names():
        w = load_workload(name)
        assert w.n_ops > 3 and {"weight", "activation"} <= set(w.tensor_kinds), name
        assert set(w.tensor_dtypes) <= {"bfloat16", "int64"}, name  # traced in bf16
        p, _ = load_problem(name, HW)
        assert (p.lower < p.upper).all() and (p.upper <= p.n_ops).all(), name


def test_gathers_are_charged_the_rows_they_read():
    w = load_workload("dlrm-8x64")
    emb = [i for i, t in enumerate(w.op_types) if t == "embedding"]
    assert len(emb) == 8
    for i in emb:
        table = int(w.inputs_of(i)[0])
        read = int(w.op_in_bytes[w.op_in_ptr[i]])
        assert w.tensor_bytes[table] == 20000 * 64 * 2 and read == 128 * 64 * 2  # 128 rows, not the table
    assert w.op_transcendentals.sum() > 0  # the sigmoid


def test_resnet18_fusion_flops_and_bf16_bytes():
    w = load_workload("resnet18")
    # ~1.8 GMAC at 224x224; 11.7 M parameters in bf16 (+ batch-norm statistics)
    assert 3.4e9 < w.op_flops.sum() < 3.9e9
    weights = w.tensor_bytes[np.array(w.tensor_kinds) == "weight"].sum()
    assert 23.3e6 < weights < 23.6e6
    # batch norm, relu and the residual add are fused into the convolutions: no separate buffers
    assert not any(t in ("batch_norm", "relu", "add") for t in w.op_types)
    assert "conv2d+batch_norm+add+relu" in w.op_types
    assert sum(k == "activation" for k in w.tensor_kinds) == w.n_ops


def _view_module():
    """A module whose reads go through views: a slice, a transpose and a broadcast."""
    import torch

    class Views(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1, 64))

        def forward(self, x):
            half = x[:, :32]  # reads half of x
            y = torch.relu(half).transpose(0, 1)
            return torch.matmul(y, self.w.expand(16, 64))  # broadcast reads the base once

    return Views(), (torch.randn(16, 64),)


def test_tracer_counts_view_bytes_and_dtype():
    import torch

    from optgym.memory.trace import trace_module

    model, args = _view_module()
    w = trace_module(model, args, name="views", fuse=False)
    x = w.tensor_names.index("x")
    relu = next(i for i, t in enumerate(w.op_types) if t == "relu")
    reads = dict(zip(w.inputs_of(relu).tolist(), w.op_in_bytes[w.op_in_ptr[relu]:w.op_in_ptr[relu + 1]].tolist(),
                     strict=True))
    assert w.tensor_bytes[x] == 16 * 64 * 2 and reads[x] == 16 * 32 * 2  # bf16, half of x
    mm = next(i for i, t in enumerate(w.op_types) if t == "matmul")
    wt = w.tensor_names.index("w")
    reads = dict(zip(w.inputs_of(mm).tolist(), w.op_in_bytes[w.op_in_ptr[mm]:w.op_in_ptr[mm + 1]].tolist(),
                     strict=True))
    assert reads[wt] == 64 * 2  # the expanded weight is read once, not 16 times
    w32 = trace_module(*_view_module(), name="views32", dtype=torch.float32, fuse=False)
    assert w32.tensor_bytes.sum() == 2 * w.tensor_bytes.sum()
    fused = trace_module(*_view_module(), name="views")
    assert fused.n_ops == w.n_ops  # relu reads an input, not an op's output: nothing to fuse into
    assert Workload.from_json(fused.to_json()).to_json() == fused.to_json()


def test_trace_factory_cli_and_env_on_the_file(tmp_path, monkeypatch, capsys):
    from optgym.cli import main

    (tmp_path / "mymodels.py").write_text(
        "import torch\n"
        "def make():\n"
        "    m = torch.nn.Sequential(torch.nn.Linear(256, 1024), torch.nn.GELU(), torch.nn.Linear(1024, 256))\n"
        "    return m, (torch.randn(64, 256),)\n"
        "def broken():\n"
        "    return 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "mlp.json"
    assert main(["memory", "trace", "mymodels:make", "--out", str(out)]) == 0
    assert "2 ops" in capsys.readouterr().out  # linear+gelu fused, then linear
    env = MemoryMappingEnv(str(out), hardware=Hardware("tiny", 256 * 1024, 1e12, 1e11, 1e13))
    obs, info = env.reset()
    assert env.observation_space.contains(obs)
    with pytest.raises(BenchmarkError, match="must return"):
        from optgym.memory.trace import trace_factory

        trace_factory("mymodels:broken")
    with pytest.raises(BenchmarkError, match="cannot import"):
        trace_factory("no_such_module_xyz:make")


def _onnx_file(path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w1 = numpy_helper.from_array(np.zeros((64, 256), np.float32), "w1")
    w2 = numpy_helper.from_array(np.zeros((256, 64), np.float32), "w2")
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("Relu", ["h"], ["hr"], name="relu"),
        helper.make_node("MatMul", ["hr", "w2"], ["y"], name="fc2"),
        helper.make_node("Add", ["y", "x"], ["z"], name="residual"),
        helper.make_node("Reshape", ["z", "shape"], ["out"], name="flat"),
    ]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [32, 64])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2048])], [w1, w2, shape])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_onnx_import(tmp_path):
    from optgym.memory.onnx_import import read_onnx

    path = tmp_path / "mlp.onnx"
    _onnx_file(path)
    w = read_onnx(path)
    assert w.op_types == ["matmul+relu", "matmul+add"]  # relu and the residual add fused
    assert w.tensor_bytes.tolist() == [65536, 65536, 8192, 32768, 8192]  # w1, w2, x, hr, z (float32)
    assert w.op_flops.tolist() == [2 * 32 * 256 * 64 + 32 * 256, 2 * 32 * 64 * 256 + 32 * 64]
    assert w.tensor_is_output.tolist() == [False, False, False, False, True]  # out aliases z
    p, _ = load_problem(str(path), HW)
    assert p.n_ops == 2
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    with pytest.raises(BenchmarkError, match="not a readable ONNX"):
        read_onnx(tmp_path / "bad.onnx")


def _chain(gap_ops: int, weight_bytes: int = 1 << 20):
    """A weight read by op 0 and again after ``gap_ops`` compute-heavy ops."""
    b = GraphBuilder("chain")
    x = b.tensor("x", 1024, "input", "bfloat16")
    wt = b.tensor("w", weight_bytes, "weight", "bfloat16")
    prev = x
    for i in range(gap_ops + 2):
        out = b.tensor(f"a{i}", 1024, "activation", "bfloat16")
        reads = [(prev, 1024)] + ([(wt, weight_bytes)] if i in (0, gap_ops + 1) else [])
        b.op(f"op{i}", "matmul", 1e9, out, reads, False)
        prev = out
    b.mark_output(prev)
    return b.build()


def test_segments_follow_xla_residency_rule_and_prefetch_ahead():
    # residency limit: 10x the copy time of the whole fast memory (4 KiB at 0.5 TB/s: 82 ns)
    hw = Hardware("t", 4 << 10, 1e13, 1e12, 1e12, copy_bandwidth=5e11)
    p = build_problem(_chain(20, weight_bytes=1024), hw)
    segs = [i for i, n in enumerate(p.buffer_names) if n.startswith("w")]
    assert len(segs) == 2  # 20 ops of 1 ms between the uses: far past the limit, prefetched again
    second = segs[1]
    assert p.seg_kind[second] == PREFETCH and p.seg_first[second] == 21
    # the copy takes 2 ns; the preferred start overlaps 1.5 copy times: one op ahead
    assert p.lower[second] == 20 and p.upper[second] == 22
    big = Hardware("t", 4 << 30, 1e13, 1e12, 1e12, copy_bandwidth=5e11)  # limit 86 ms
    assert sum(n.startswith("w") for n in build_problem(_chain(20, weight_bytes=1024), big).buffer_names) == 1


def _one_op_hw(**kw):
    return Hardware("t", 4 << 20, 1e12, 1e11, 1e18, copy_bandwidth=1e11, **kw)


def test_timeline_stalls_on_an_unhidden_prefetch_and_overlaps_a_hidden_one():
    b = GraphBuilder("one")
    x = b.tensor("x", 1000, "input", "bfloat16")
    wt = b.tensor("w", 10**6, "weight", "bfloat16")
    b.op("op0", "matmul", 0.0, b.tensor("y", 1000, "activation", "bfloat16"), [(x, 1000), (wt, 10**6)], False)
    hw = _one_op_hw()
    p = build_problem(b.build(), hw)
    cost = CostModel(p, hw)
    w_seg = p.buffer_names.index("w")
    fast = np.zeros(p.n_buffers, dtype=bool)
    size = p.size[w_seg]
    assert cost.all_slow == pytest.approx((1000 + 10**6 + 1000) / 1e11)
    fast[w_seg] = True
    rt, waited, busy = cost.timeline(fast)
    assert busy == pytest.approx(size / 1e11) and waited == pytest.approx(size / 1e11)
    assert rt == pytest.approx(size / 1e11 + 10**6 / 1e12 + 2000 / 1e11)  # nothing to hide the copy behind
    # the same weight read after a compute-bound op is prefetched during it: no stall
    hw2 = Hardware("t", 4 << 20, 1e12, 1e11, 1e9, copy_bandwidth=1e11)
    b2 = GraphBuilder("two")
    x = b2.tensor("x", 1000, "input", "bfloat16")
    wt = b2.tensor("w", 10**6, "weight", "bfloat16")
    h = b2.tensor("h", 1000, "activation", "bfloat16")
    b2.op("op0", "matmul", 1e6, h, [(x, 1000)], False)  # 1 ms of compute
    b2.op("op1", "matmul", 0.0, b2.tensor("y", 1000, "activation", "bfloat16"), [(h, 1000), (wt, 10**6)], False)
    p2 = build_problem(b2.build(), hw2)
    c2 = CostModel(p2, hw2)
    fast2 = np.zeros(p2.n_buffers, dtype=bool)
    w2 = p2.buffer_names.index("w")
    fast2[w2] = True
    assert c2.timeline(fast2)[1] > 0  # XLA's default start: no time before the use to hide it in
    lo, hi = p2.default_intervals()
    assert p2.interval_range(w2)[0] == 0
    lo[w2] = 0  # issued before op0 instead
    rt2, waited2, _ = c2.timeline(fast2, (lo, hi))
    assert waited2 == 0.0 and rt2 < c2.all_slow


def _produce_then_read_later(out_is_returned: bool = False, gap: int = 10):
    """``a`` (1 MiB) is produced by op 0, read by op 1, then again after ``gap`` long ops."""
    b = GraphBuilder("ev")
    x = b.tensor("x", 1024, "input", "bfloat16")
    a = b.tensor("a", 1 << 20, "activation", "bfloat16")
    b.op("p", "matmul", 0.0, a, [(x, 1024)], False)
    b.op("r1", "add", 0.0, b.tensor("r", 1024, "activation", "bfloat16"), [(a, 1 << 20)], True)
    prev = None
    for i in range(gap):
        t = b.tensor(f"t{i}", 1024, "activation", "bfloat16")
        b.op(f"o{i}", "matmul", 1e9, t, [(x, 1024)], False)
        prev = t
    z = b.tensor("z", 1024, "activation", "bfloat16")
    b.op("use", "add", 1.0, z, [(a, 1 << 20), (prev, 1024)], True)
    b.mark_output(z)
    if out_is_returned:
        b.mark_output(a)
    return b.build()


def test_a_slow_read_of_evicted_data_waits_for_the_eviction():
    # issue 25's first finding: a later read of a segment kept in slow memory started before the
    # eviction that puts its data there had landed
    hw = Hardware("t", 4 << 10 << 10, 1e13, 1e12, 1e12, copy_bandwidth=1e11)
    p = build_problem(_produce_then_read_later(), Hardware("t", 4 << 10, 1e13, 1e12, 1e12, copy_bandwidth=1e11)
                      ).with_capacity(4 << 20)
    first, second = p.buffer_names.index("a@0"), p.buffer_names.index("a@1")
    assert p.seg_kind[first] == PRODUCE_EVICT and p.seg_kind[second] == PREFETCH and p.seg_dep[second] == first
    cost = CostModel(p, hw)
    m = np.full(p.n_buffers, -1)
    m[first] = 0  # produced in fast memory, read later from slow memory
    tl = cost.trace(m)
    use = p.n_ops - 1
    ev = int(np.flatnonzero(tl.copy_evict)[0])
    assert tl.copy_end[ev] <= tl.op_start[use]  # the read waited for the eviction
    assert check_timeline(p, hw, tl) == []
    # the old timeline let the read start first: the checker names it
    tl.copy_end[ev] = tl.op_start[use] + 1e-6
    hazards = check_timeline(p, hw, tl)
    assert any(h.kind == "read-before-land" and "slow memory" in h.message for h in hazards)


def test_outputs_are_written_back_before_the_program_ends():
    hw = Hardware("t", 4 << 20, 1e13, 1e12, 1e12, copy_bandwidth=1e11)
    b = GraphBuilder("out")
    x = b.tensor("x", 1024, "input", "bfloat16")
    y = b.tensor("y", 1 << 20, "activation", "bfloat16")
    b.op("last", "matmul", 0.0, y, [(x, 1024)], False)  # the last op writes the output
    b.mark_output(y)
    p = build_problem(b.build(), hw)
    seg = p.buffer_names.index("y")
    assert p.seg_kind[seg] == PRODUCE_EVICT and p.upper[seg] == p.n_ops  # done by the program's end
    cost = CostModel(p, hw)
    tl = cost.trace(np.array([0 if i == seg else -1 for i in range(p.n_buffers)]))
    assert tl.runtime == pytest.approx(tl.op_end[-1] + (1 << 20) / 1e11)  # the write-back is paid
    assert check_timeline(p, hw, tl) == []


def test_copies_share_slow_memory_bandwidth_with_the_ops():
    # op0 streams 10 MB from slow memory at its full bandwidth; a prefetch issued with it gets
    # nothing until op0 ends
    hw = Hardware("t", 4 << 20, 1e13, 1e11, 1e18, copy_bandwidth=1e11)
    b = GraphBuilder("share")
    big = b.tensor("big", 10**7, "input", "bfloat16")
    wt = b.tensor("w", 10**6, "weight", "bfloat16")
    h = b.tensor("h", 1000, "activation", "bfloat16")
    b.op("stream", "add", 0.0, h, [(big, 10**7)], True)
    b.op("use", "matmul", 0.0, b.tensor("y", 1000, "activation", "bfloat16"), [(h, 1000), (wt, 10**6)], False)
    p = build_problem(b.build(), hw)
    cost = CostModel(p, hw)
    m = np.full(p.n_buffers, -1)
    w = p.buffer_names.index("w")
    m[w] = 0
    lo, hi = p.default_intervals()
    lo[w] = 0  # issued before the streaming op
    tl = cost.trace(m, (lo, hi))
    assert tl.copy_begin[0] == 0.0
    assert tl.copy_end[0] == pytest.approx(tl.op_end[0] + p.size[w] / 1e11)  # moved nothing during op0
    assert tl.op_start[1] == pytest.approx(tl.copy_end[0])
    assert check_timeline(p, hw, tl) == []
    late = cost.trace(m, (lo, hi))
    late.op_start[1] = late.op_end[0]  # the old timeline: the use starts before its prefetch lands
    assert any(h.kind == "read-before-land" and "fast memory" in h.message for h in check_timeline(p, hw, late))
    tl.iv_rate[:] *= 2  # a timeline whose copy moved faster than the memory allows
    assert any(h.kind == "bandwidth" for h in check_timeline(p, hw, tl))


def test_checker_catches_two_segments_sharing_bytes():
    p, hw = load_problem("bert-small-layer", HW)
    x = xla_mapping(p, hw)
    fast = np.flatnonzero(x.mapping >= 0)
    m = x.mapping.copy()
    m[fast] = 0  # everything at offset 0: overlapping live segments share bytes
    hazards = check_mapping(p, hw, m, x.intervals)
    assert any(h.kind == "capacity" and "share" in h.message for h in hazards)


@pytest.mark.parametrize("preset", ["tpu-like", "edge-npu"])
def test_every_shipped_workload_and_baseline_passes_the_checker(preset):
    for name in workload_names():
        p, hw = load_problem(name, preset)
        cost = CostModel(p, hw)
        for res in (xla_mapping(p, hw, cost), xla_mapping(p, hw, cost, simulate=True), greedy_mapping(p, hw, cost)):
            validate_mapping(p, res.mapping, intervals=res.intervals)
            assert check_mapping(p, hw, res.mapping, res.intervals) == [], (name, res.agent)


def test_xla_baseline_plans_without_simulating():
    # XLA checks a prefetch against its copy resource (each op's estimated time), not against the
    # bandwidth the ops leave free, so on moe-8e its prefetches stall; xla-sim keeps only what the
    # timeline allows, and never ends slower than all-slow
    p, hw = load_problem("moe-8e", HW)
    cost = CostModel(p, hw)
    x, xs = xla_mapping(p, hw, cost), xla_mapping(p, hw, cost, simulate=True)
    assert x.runtime > cost.all_slow and cost.timeline(x.mapping >= 0, x.intervals)[1] > 1e-6
    assert xs.runtime < cost.all_slow
    # its prefetch starts are the picker's, not only the default preferred ones
    prefetched = np.flatnonzero((x.mapping >= 0) & (p.seg_kind == PREFETCH))
    assert len(prefetched) and (x.intervals[0][prefetched] >= p.seg_lo_min[prefetched]).all()
    # repacking is off (XLA's default) but the best-fit repacker is there
    q = MemoryProblem("frag", lower=[0, 0, 0], upper=[2, 2, 2], size=[2, 2, 4], capacity=8)
    offs = repack(q, np.array([0, 1, 2]))
    assert offs is not None
    validate_mapping(q, offs)
    assert repack(q.with_capacity(7), np.array([0, 1, 2])) is None


def test_hardware_from_a_toml_file(tmp_path):
    chip = tmp_path / "chip.toml"
    chip.write_text('name = "mychip"\nfast_capacity = "2 MiB"\nfast_bandwidth = 4e12\nslow_bandwidth = 8e11\n'
                    'peak_flops = 1e14\ncopy_bandwidth = 4e11\ncopy_engines = 2\n')
    hw = get_hardware(str(chip))
    assert hw.fast_capacity == 2 << 20 and hw.copy_engines == 2 and hw.trans_rate == 1e14 / 4
    p, _ = load_problem("conformer-144", str(chip))
    assert p.capacity == 2 << 20
    cost = CostModel(p, hw)
    x = xla_mapping(p, hw, cost)
    tl = cost.trace(x.mapping, x.intervals)
    assert check_timeline(p, hw, tl) == []
    assert max(np.diff(tl.iv_ptr)) <= 2
    (tmp_path / "bad.toml").write_text('fast_capacity = 1\nfast_bandwidth = 1\nslow_bandwidth = 1\npeak_flops = 1\nhbm = 3\n')
    with pytest.raises(BenchmarkError, match="unknown key"):
        get_hardware(str(tmp_path / "bad.toml"))
    (tmp_path / "neg.toml").write_text('fast_capacity = 1\nfast_bandwidth = -1\nslow_bandwidth = 1\npeak_flops = 1\n')
    with pytest.raises(BenchmarkError, match="positive"):
        get_hardware(str(tmp_path / "neg.toml"))


def test_unknown_names_raise_typed_errors():
    with pytest.raises(BenchmarkError, match="nope"):
        load_problem("nope")
    with pytest.raises(BenchmarkError, match="hardware"):
        get_hardware("abacus")
    with pytest.raises(BenchmarkError, match="Z"):
        load_minimalloc("Z")


def test_minimalloc_loader():
    for letter in MINIMALLOC_NAMES:
        p = load_minimalloc(letter)
        assert p.capacity == 1_048_576 and p.n_ops == 0
        assert p.peak_live_bytes() <= p.capacity
        res = best_fit_packing(p)
        validate_mapping(p, res.mapping, capacity=res.height, allow_slow=False)
    assert load_minimalloc("A").n_buffers == 154 and load_minimalloc("K").n_buffers == 454


def test_minimalloc_csv_errors(tmp_path):
    bad = tmp_path / "X.csv"
    bad.write_text("id,lower,upper,size\n0,0,1,5\n")
    with pytest.raises(BenchmarkError, match="capacity"):
        read_minimalloc_csv(bad)
    bad2 = tmp_path / "X.100.csv"
    bad2.write_text("id,lower,upper,size\n0,3,1,5\n")
    with pytest.raises(BenchmarkError, match="lower < upper"):
        read_minimalloc_csv(bad2)


def _toy() -> MemoryProblem:
    return MemoryProblem("toy", lower=[0, 0, 2], upper=[2, 3, 4], size=[4, 4, 8], capacity=10)


def test_validator_accepts_valid_and_names_violations():
    p = _toy()
    validate_mapping(p, np.array([0, 4, -1]))
    validate_mapping(p, np.array([0, -1, 2]))  # buffers 0 and 2 are never live together
    validate_mapping(p, np.array([-1, -1, -1]))
    with pytest.raises(InvalidMappingError, match="buffers 0 and 1"):
        validate_mapping(p, np.array([0, 2, -1]))
    with pytest.raises(InvalidMappingError, match="outside"):
        validate_mapping(p, np.array([0, 4, 3]))
    with pytest.raises(InvalidMappingError, match="overlap"):
        validate_mapping(p, np.array([-1, 4, 0]), capacity=20)
    with pytest.raises(InvalidMappingError, match="slow"):
        validate_mapping(p, np.array([0, 4, -1]), allow_slow=False)
    with pytest.raises(InvalidMappingError, match="shape"):
        validate_mapping(p, np.array([0, 4]))


@pytest.mark.parametrize("cls,kw", [
    (MemoryMappingEnv, {"workload": "resnet18"}),
    (MemoryMappingEnv, {"workload": "bert-small-layer", "hardware": "edge-npu"}),
    (MemoryPackingEnv, {"problem": "minimalloc/A"}),
    (MemoryPackingEnv, {"problem": "unet-16"}),
])
def test_check_env_passes(cls, kw):
    import gymnasium

    class ValidSample(gymnasium.ActionWrapper):
        """The checker samples any action; a masked env raises on invalid ones, so map a sample
        outside the mask to the first valid action (what a masked policy would do)."""

        def action(self, a):
            mask = self.env.unwrapped.action_masks()
            return a if mask[a] else int(np.flatnonzero(mask)[0])

    check_env(ValidSample(cls(**kw)), skip_render_check=True)


def test_gymnasium_make_registered_ids():
    import gymnasium

    import optgym.envs

    optgym.envs.register_envs()
    env = gymnasium.make("optgym/memory-v1", workload="llama-512")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env2 = gymnasium.make("optgym/memory-packing-v0")
    obs2, _ = env2.reset(seed=0)
    assert env2.observation_space.contains(obs2)


def test_mapping_env_replaying_the_baseline_earns_its_return():
    # Playing the baseline's own offsets (each is one of the candidates when its turn comes,
    # since the baseline placed them in this order) ends at the baseline's runtime, and the
    # return is (all-slow - final) / baseline as documented.
    env = MemoryMappingEnv("unet-16")
    obs, info = env.reset()
    done, ret = False, 0.0
    while not done:
        obs, r, done, _, info = env.step(env.baseline_action())
        ret += r
    assert ret == pytest.approx((env.cost.all_slow - info["runtime"]) / env.baseline_runtime)
    # the baseline repacks, so not all its offsets are offered in order; where they are, the
    # replay reaches its runtime exactly (unet-16 repacks; llama-512 ...)
    assert info["runtime"] < env.cost.all_slow
    env2 = MemoryMappingEnv("bert-small-layer")  # the baseline needs no repacking here
    env2.reset()
    done = False
    while not done:
        _, _, done, _, info = env2.step(env2.baseline_action())
    np.testing.assert_array_equal(info["mapping"], env2.baseline.mapping)
    assert info["runtime"] == pytest.approx(env2.baseline_runtime, rel=1e-12)


def test_mapping_env_random_valid_actions_and_invalid_ones_raise():
    env = MemoryMappingEnv("gcn-1k", k=4)
    rng = np.random.default_rng(3)
    obs, info = env.reset(seed=3)
    done, raised = False, 0
    while not done:
        mask = env.action_masks()
        np.testing.assert_array_equal(mask, info["action_mask"])
        bad = np.flatnonzero(~mask)
        if len(bad):
            with pytest.raises(ValueError, match="not valid"):
                env.step(int(bad[0]))
            raised += 1
        obs, r, done, _, info = env.step(int(rng.choice(np.flatnonzero(mask))))
        assert env.observation_space.contains(obs)
    assert raised
    validate_mapping(env.problem, info["mapping"])
    assert info["runtime"] == pytest.approx(env.cost.runtime(info["mapping"]), rel=1e-9)


def test_packing_env_replays_a_solution_order_with_lowest_offsets():
    # a packing found any way (here: best fit, unbounded) replays in the env when buffers arrive
    # by increasing offset and each takes action 0 (lowest offset): never higher than the original
    p = load_minimalloc("B")
    sol = best_fit_packing(p)
    env = MemoryPackingEnv(p)
    order = np.lexsort((p.lower, sol.mapping))
    obs, info = env.reset(options={"order": order})
    done = False
    while not done:
        obs, r, done, _, info = env.step(0)
    validate_mapping(p, info["mapping"], capacity=info["height"], allow_slow=False)
    assert info["height"] <= sol.height
    with pytest.raises(ValueError, match="order"):
        env.reset(options={"order": [0, 0, 1]})


def test_env_state_clone_restore_is_exact():
    env = MemoryMappingEnv("bert-small-layer")
    env.reset()
    env.step(1)
    snap = env.clone_state()
    obs_a, r_a, *_ = env.step(0)
    env.step(1)
    env.restore_state(snap)
    obs_b, r_b, *_ = env.step(0)
    np.testing.assert_array_equal(obs_a, obs_b)
    assert r_a == r_b
