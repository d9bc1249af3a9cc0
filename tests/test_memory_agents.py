"""Memory mapping agents: CP-SAT (surrogate), select-and-pack search, MCTS, MaskablePPO, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from optgym.memory.agents.cpsat import cpsat_mapping
from optgym.memory.agents.mcts import load_net, mcts_mapping, train_mcts
from optgym.memory.agents.search import search_mapping
from optgym.memory.baselines import xla_mapping
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
    # CP-SAT's objective is the roofline surrogate (no copies); hinted with the baseline
    assert cost.surrogate(res.mapping) <= cost.surrogate(xla_mapping(p, hw).mapping) + 1e-12
    assert res.bound <= cost.surrogate(res.mapping) * (1 + 1e-6)
    assert res.runtime == pytest.approx(cost.runtime(res.mapping))


def test_search_never_worse_than_the_baseline(bert, unet):
    for p, hw in (bert, unet):
        res = search_mapping(p, hw, time_limit=2, pack_time=0.0)
        validate_mapping(p, res.mapping)
        assert res.runtime <= xla_mapping(p, hw).runtime + 1e-12


def test_mcts_keeps_the_baseline_as_a_candidate(bert, unet):
    for p, hw in (bert, unet):
        res = mcts_mapping(p.name, hw, simulations=4)
        validate_mapping(p, res.mapping)
        assert res.runtime <= xla_mapping(p, hw).runtime + 1e-12
        assert res.runtime == pytest.approx(CostModel(p, hw).runtime(res.mapping))


def test_mcts_self_play_training_and_reload(tmp_path, bert):
    out = tmp_path / "mcts.pt"
    net, log = train_mcts(["bert-small-layer"], iterations=2, simulations=4, epochs=5, out=out, progress=False)
    assert len(log) == 2 and all(np.isfinite(r["loss"]) for r in log)
    net2 = load_net(out)
    p, hw = bert
    res = mcts_mapping(p.name, hw, net=net2, simulations=4)
    validate_mapping(p, res.mapping)


def test_expert_iteration_fits_the_best_mapping(tmp_path, bert):
    from optgym.memory.agents.mcts import train_mcts_on_best

    out = tmp_path / "best.pt"
    net, log = train_mcts_on_best(["bert-small-layer"], simulations=4, epochs=200, out=out, progress=False)
    assert log[0]["samples"] == bert[0].n_buffers and np.isfinite(log[0]["loss"])
    # the net has learned the search's decisions: following its argmax reaches the same mapping
    import torch

    from optgym.memory.env import MemoryMappingEnv

    env = MemoryMappingEnv("bert-small-layer")
    search = mcts_mapping("bert-small-layer", "tpu-like", simulations=4, env=MemoryMappingEnv("bert-small-layer"))
    obs, info = env.reset()
    done = False
    while not done:
        with torch.no_grad():
            logits, _ = load_net(out)(torch.as_tensor(obs).unsqueeze(0))
        logits = logits[0].numpy()
        logits[~info["action_mask"]] = -np.inf
        obs, _, done, _, info = env.step(int(np.argmax(logits)))
    assert info["runtime"] == pytest.approx(search.runtime, rel=1e-6)


def test_ppo_trains_a_few_hundred_steps_and_maps(tmp_path, bert):
    from optgym.memory.agents.ppo import ppo_mapping, train_ppo

    out = tmp_path / "ppo.zip"
    train_ppo(["bert-small-layer", "llama-512"], steps=256, n_steps=64, out=out, progress=False,
              imitation_epochs=50)
    assert out.exists()
    p, hw = bert
    res = ppo_mapping(p.name, hw, model_path=out)
    validate_mapping(p, res.mapping)
    assert res.runtime == pytest.approx(CostModel(p, hw).runtime(res.mapping))


def test_cli_solve_show_and_list(tmp_path, capsys):
    from optgym.cli import main

    assert main(["memory", "list"]) == 0
    assert "minimalloc/K" in capsys.readouterr().out
    png = tmp_path / "bert.png"
    assert main(["memory", "show", "bert-small-layer", "--agent", "search", "--time-limit", "2", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
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
