"""Memory mapping: problem model, cost model, validator, traced workloads, loaders, environments."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from optgym.agents.memory.heuristics import best_fit_packing, random_mapping, xla_mapping
from optgym.envs.memory import MemoryMappingEnv, MemoryPackingEnv
from optgym.envs.memory.minimalloc import MINIMALLOC_NAMES, load_minimalloc, read_minimalloc_csv
from optgym.envs.memory.problem import CostModel, MemoryProblem, get_hardware, validate_mapping
from optgym.envs.memory.workloads import WORKLOAD_NAMES, load_problem, traced_problem
from optgym.errors import BenchmarkError, InvalidMappingError

HW = get_hardware("tpu-like")


@pytest.fixture(scope="module")
def problems():
    return {name: load_problem(name, HW)[0] for name in WORKLOAD_NAMES}


def test_traced_workloads_have_sane_structure(problems):
    for name, p in problems.items():
        assert p.n_buffers > 10 and p.n_ops > 10, name
        assert (p.lower < p.upper).all() and (p.upper <= p.n_ops).all(), name
        assert set(p.buffer_kinds) >= {"weight", "activation", "input"}, name
        assert p.capacity == HW.fast_capacity
        # every op writes its own output buffer, and every buffer is touched by some op
        assert set(np.unique(p.op_buffers)) == set(range(p.n_buffers)), name


def test_traced_flops_match_published_counts(problems):
    # ResNet-18 at 224x224 is ~1.8 GMAC; a BERT-base layer at 128 tokens is ~0.93 GMAC
    assert 3.4e9 < problems["resnet18"].op_flops.sum() < 3.9e9
    assert 1.7e9 < problems["bert-layer"].op_flops.sum() < 2.1e9
    # ResNet-18 has 11.7 M float32 parameters (+ batch-norm statistics)
    p = problems["resnet18"]
    weights = sum(s for s, k in zip(p.size, p.buffer_kinds, strict=True) if k == "weight")
    assert 46e6 < weights < 47.5e6


def test_workload_cache_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTGYM_CACHE", str(tmp_path))
    first = traced_problem("gpt2-block")
    files = list(tmp_path.rglob("gpt2-block.json"))
    assert len(files) == 1 and not list(tmp_path.rglob("*.tmp"))

    def no_trace(name):
        raise AssertionError("re-traced despite the cache")

    monkeypatch.setattr("optgym.envs.memory.workloads.trace_workload", no_trace)
    again = traced_problem("gpt2-block")
    assert again.to_json() == first.to_json()


def test_unknown_names_raise_typed_errors():
    with pytest.raises(BenchmarkError, match="nope"):
        load_problem("nope")
    with pytest.raises(BenchmarkError, match="hardware"):
        get_hardware("abacus")
    with pytest.raises(BenchmarkError, match="Z"):
        load_minimalloc("Z")


def test_minimalloc_loader_and_best_fit_fails_all():
    for letter in MINIMALLOC_NAMES:
        p = load_minimalloc(letter)
        assert p.capacity == 1_048_576 and p.n_ops == 0
        assert p.peak_live_bytes() <= p.capacity
        res = best_fit_packing(p)
        validate_mapping(p, res.mapping, capacity=res.height, allow_slow=False)
        assert res.height > p.capacity  # the README: greedy best fit fits none of them
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


def test_cost_model_incremental_delta_is_exact(problems):
    rng = np.random.default_rng(0)
    for name in ("resnet18", "bert-layer"):
        p = problems[name]
        cost = CostModel(p, HW)
        fast = rng.random(p.n_buffers) < 0.3
        op_mem = cost.op_mem(fast)
        for b in np.flatnonzero(~fast)[:10]:
            m = np.where(fast, 0, -1)
            before = cost.runtime(m)
            m[b] = 0
            assert cost.delta(op_mem, int(b)) == pytest.approx(cost.runtime(m) - before, rel=1e-9, abs=1e-15)
        all_fast = cost.runtime(np.zeros(p.n_buffers, dtype=int))
        assert all_fast < cost.all_slow
        # the roofline floor: never faster than compute alone
        assert all_fast >= cost.op_compute.sum() - 1e-15


def test_baselines_are_valid_and_xla_beats_all_slow(problems):
    for name, p in problems.items():
        cost = CostModel(p, HW)
        x = xla_mapping(p, HW, cost)
        validate_mapping(p, x.mapping)
        assert x.runtime < cost.all_slow, name
        r = random_mapping(p, HW, 1, cost)
        validate_mapping(p, r.mapping)


@pytest.mark.parametrize("cls,kw", [
    (MemoryMappingEnv, {"workload": "resnet18"}),
    (MemoryMappingEnv, {"workload": "bert-layer", "hardware": "edge-npu"}),
    (MemoryPackingEnv, {"problem": "minimalloc/A"}),
    (MemoryPackingEnv, {"problem": "unet-small"}),
])
def test_check_env_passes(cls, kw):
    check_env(cls(**kw), skip_render_check=True)


def test_gymnasium_make_registered_ids():
    import gymnasium

    import optgym.envs

    optgym.envs.register_envs()
    env = gymnasium.make("optgym/memory-v0", workload="gpt2-block")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env2 = gymnasium.make("optgym/memory-packing-v0")
    obs2, _ = env2.reset(seed=0)
    assert env2.observation_space.contains(obs2)


def test_mapping_env_best_fit_policy_reproduces_xla_baseline():
    env = MemoryMappingEnv("unet-small")
    obs, info = env.reset()
    done, ret = False, 0.0
    while not done:
        obs, r, done, _, info = env.step(1 if info["action_mask"][1] else 0)
        ret += r
    assert info["runtime"] == pytest.approx(env.baseline_runtime, rel=1e-12)
    assert ret == pytest.approx((env.cost.all_slow - env.baseline_runtime) / env.baseline_runtime)
    np.testing.assert_array_equal(info["mapping"], env.baseline.mapping)


def test_mapping_env_random_and_invalid_actions_stay_valid():
    env = MemoryMappingEnv("mobilenetv2", k=4)
    rng = np.random.default_rng(3)
    obs, info = env.reset(seed=3)
    done, invalid_seen = False, False
    while not done:
        mask = env.action_masks()
        np.testing.assert_array_equal(mask, info["action_mask"])
        a = int(rng.integers(env.action_space.n))  # masked actions included on purpose
        obs, r, done, _, info = env.step(a)
        invalid_seen |= info["invalid_action"]
        assert env.observation_space.contains(obs)
    assert invalid_seen
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
    env = MemoryMappingEnv("bert-layer")
    env.reset()
    env.step(1)
    snap = env.clone_state()
    obs_a, r_a, *_ = env.step(0)
    env.step(1)
    env.restore_state(snap)
    obs_b, r_b, *_ = env.step(0)
    np.testing.assert_array_equal(obs_a, obs_b)
    assert r_a == r_b
