"""Memory mapping agents: CP-SAT (surrogate), select-and-pack search, MCTS, MaskablePPO, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from optgym.memory.agents.cpsat import cpsat_mapping
from optgym.memory.agents.mcts import load_net, mcts_mapping, train_mcts
from optgym.memory.agents.search import search_mapping
from optgym.memory.baselines import greedy_mapping, xla_mapping
from optgym.memory.check import check_mapping
from optgym.memory.problem import validate_mapping
from optgym.memory.timeline import CostModel
from optgym.memory.workloads import load_problem


@pytest.fixture(scope="module")
def bert():
    return load_problem("bert-small-layer", "tpu-like")


@pytest.fixture(scope="module")
def unet():
    return load_problem("unet-16", "tpu-like")


def test_cpsat_optimizes_the_surrogate_and_bounds_it(bert):
    p, hw = bert
    cost = CostModel(p, hw)
    res = cpsat_mapping(p, hw, time_limit=10)
    validate_mapping(p, res.mapping)
    # CP-SAT's objective is the roofline surrogate (no copies); hinted with the greedy mapping
    assert cost.surrogate(res.mapping) <= cost.surrogate(greedy_mapping(p, hw).mapping) + 1e-12
    assert res.bound <= cost.surrogate(res.mapping) * (1 + 1e-6)
    assert res.runtime == pytest.approx(cost.runtime(res.mapping))


def test_search_beats_the_baselines_and_keeps_searching(bert, unet):
    for p, hw in (bert, unet):
        cost = CostModel(p, hw)
        res = search_mapping(p, hw, time_limit=1.5, cost=cost)
        validate_mapping(p, res.mapping, intervals=res.intervals)
        assert check_mapping(p, hw, res.mapping, res.intervals) == []
        x, xs = xla_mapping(p, hw, cost), xla_mapping(p, hw, cost, simulate=True)
        assert res.runtime <= min(x.runtime, xs.runtime) + 1e-15
        assert res.runtime == pytest.approx(cost.runtime(res.mapping, res.intervals))
    assert res.runtime < xs.runtime  # unet-16: the moves find something past both baselines
    # it spends its whole budget (restarts instead of stopping at a local optimum)
    assert "restarts" in res.note and res.seconds >= 1.4
    capped = search_mapping(p, hw, time_limit=60, max_evals=300)
    assert capped.seconds < 30 and "simulations" in capped.note


def test_mcts_keeps_the_baselines_as_candidates_and_counts_simulations(bert, unet):
    for p, hw in (bert, unet):
        res = mcts_mapping(p.name, hw, simulations=4, max_depth=8)
        validate_mapping(p, res.mapping, intervals=res.intervals)
        assert check_mapping(p, hw, res.mapping, res.intervals) == []
        cost = CostModel(p, hw)
        assert res.runtime <= xla_mapping(p, hw, cost, simulate=True).runtime + 1e-15
        assert res.runtime == pytest.approx(cost.runtime(res.mapping, res.intervals))
        assert res.simulations >= res.rollouts > 0


def test_mcts_self_play_training_and_reload(tmp_path, bert):
    out = tmp_path / "mcts.pt"
    net, log = train_mcts(["bert-small-layer"], iterations=2, simulations=4, epochs=5, out=out, progress=False)
    assert len(log) == 2 and all(np.isfinite(r["loss"]) for r in log)
    net2 = load_net(out)
    p, hw = bert
    res = mcts_mapping(p.name, hw, net=net2, simulations=4, max_depth=8)
    validate_mapping(p, res.mapping, intervals=res.intervals)


def test_expert_iteration_fits_the_best_mapping(tmp_path, bert):
    from optgym.memory.agents.mcts import _best_mapping_samples, train_mcts_on_best
    from optgym.memory.env import MemoryMappingEnv

    out = tmp_path / "best.pt"
    net, log = train_mcts_on_best(["bert-small-layer"], simulations=4, epochs=300, out=out, progress=False,
                                  max_depth=8)
    assert log[0]["samples"] == bert[0].n_buffers and np.isfinite(log[0]["loss"])
    # the net has learned the targets: its argmax matches the replayed decisions
    import torch

    env = MemoryMappingEnv("bert-small-layer")
    search = mcts_mapping("bert-small-layer", "tpu-like", simulations=4, max_depth=8,
                          env=MemoryMappingEnv("bert-small-layer"))
    samples = _best_mapping_samples(env, search.mapping)
    with torch.no_grad():
        logits, _ = load_net(out)(torch.as_tensor(np.stack([s[0] for s in samples])))
    logits = logits.numpy()
    logits[~np.stack([s[2] for s in samples])] = -np.inf
    hits = (logits.argmax(1) == np.stack([s[1] for s in samples]).argmax(1)).mean()
    assert hits >= 0.9


def test_ppo_trains_a_few_hundred_steps_and_maps(tmp_path, bert):
    from optgym.memory.agents.ppo import ppo_mapping, train_ppo

    out = tmp_path / "ppo.zip"
    train_ppo(["bert-small-layer", "llama-512"], steps=256, n_steps=64, out=out, progress=False,
              imitation_epochs=50)
    assert out.exists()
    p, hw = bert
    res = ppo_mapping(p.name, hw, model_path=out)
    validate_mapping(p, res.mapping, intervals=res.intervals)
    assert res.runtime == pytest.approx(CostModel(p, hw).runtime(res.mapping))


def test_cli_solve_show_and_list(tmp_path, capsys):
    from optgym.cli import main

    assert main(["memory", "list"]) == 0
    assert "minimalloc/K" in capsys.readouterr().out
    png = tmp_path / "bert.png"
    assert main(["memory", "show", "bert-small-layer", "--agent", "search", "--time-limit", "1", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "copy engine" in png.with_suffix(".html").read_text()
    mapping = tmp_path / "bert.json"
    assert main(["memory", "solve", "bert-small-layer", "--agent", "xla", "--out", str(mapping)]) == 0
    assert main(["memory", "check", "bert-small-layer", "--mapping", str(mapping)]) == 0
    assert "0 hazard(s)" in capsys.readouterr().out
    assert main(["memory", "check", "bert-small-layer", "--agent", "greedy"]) == 0
    js = tmp_path / "m.json"
    assert main(["memory", "solve", "minimalloc/C", "--agent", "best-fit", "--out", str(js)]) == 0
    assert "does not fit" in capsys.readouterr().out
    assert main(["memory", "solve", "resnet18", "--agent", "nope"]) == 2


def test_packing_solver_agent_plays_in_the_packing_env():
    from optgym.memory import MemoryPackingEnv
    from optgym.memory.agents.search import solve_packing_env

    env = MemoryPackingEnv("minimalloc/B")
    info = solve_packing_env(env, time_limit=10)
    validate_mapping(env.problem, info["mapping"], allow_slow=False)  # within the 1 MiB capacity
    assert info["success"] and info["height"] <= env.problem.capacity
