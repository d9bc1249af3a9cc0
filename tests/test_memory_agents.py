"""Memory mapping agents: CP-SAT exact, select-and-pack search, MCTS, MaskablePPO, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from optgym.agents.memory.cpsat import cpsat_mapping
from optgym.agents.memory.heuristics import xla_mapping
from optgym.agents.memory.mcts import load_net, mcts_mapping, train_mcts
from optgym.agents.memory.search import search_mapping
from optgym.envs.memory.problem import CostModel, validate_mapping
from optgym.envs.memory.workloads import load_problem


@pytest.fixture(scope="module")
def bert():
    return load_problem("bert-layer", "tpu-like")


@pytest.fixture(scope="module")
def unet():
    return load_problem("unet-small", "tpu-like")


def test_cpsat_is_valid_no_worse_than_xla_and_bounded(bert):
    p, hw = bert
    res = cpsat_mapping(p, hw, time_limit=10)
    validate_mapping(p, res.mapping)
    assert res.runtime <= xla_mapping(p, hw).runtime + 1e-12
    assert res.bound <= res.runtime * (1 + 1e-6)
    assert res.optimal  # 24 buffers: CP-SAT proves optimality in well under a second


def test_search_improves_on_xla_where_there_is_room(unet):
    p, hw = unet
    base = xla_mapping(p, hw)
    res = search_mapping(p, hw, time_limit=5, pack_time=0.0)
    validate_mapping(p, res.mapping)
    assert res.runtime < 0.8 * base.runtime  # XLA-style leaves most of unet's headroom unused


def test_search_never_worse_on_small_workloads(bert):
    p, hw = bert
    res = search_mapping(p, hw, time_limit=2, pack_time=0.0)
    validate_mapping(p, res.mapping)
    assert res.runtime <= xla_mapping(p, hw).runtime + 1e-12


def test_mcts_search_plays_better_than_xla(bert, unet):
    for p, hw in (bert, unet):
        res = mcts_mapping(p.name, hw, simulations=8)
        validate_mapping(p, res.mapping)
        base = xla_mapping(p, hw).runtime
        assert res.played_runtime < base  # its own moves, not only the best simulated completion
        assert res.runtime == pytest.approx(CostModel(p, hw).runtime(res.mapping))


def test_mcts_self_play_training_and_reload(tmp_path, bert):
    out = tmp_path / "mcts.pt"
    net, log = train_mcts(["bert-layer"], iterations=2, simulations=4, epochs=5, out=out, progress=False)
    assert len(log) == 2 and all(np.isfinite(r["loss"]) for r in log)
    net2 = load_net(out)
    p, hw = bert
    res = mcts_mapping(p.name, hw, net=net2, simulations=4)
    validate_mapping(p, res.mapping)


def test_ppo_trains_a_few_hundred_steps_and_maps(tmp_path, bert):
    from optgym.agents.memory.ppo import ppo_mapping, train_ppo

    out = tmp_path / "ppo.zip"
    train_ppo(["bert-layer", "gpt2-block"], steps=256, n_steps=64, out=out, progress=False,
              imitation_epochs=100)
    assert out.exists()
    p, hw = bert
    res = ppo_mapping(p.name, hw, model_path=out)
    validate_mapping(p, res.mapping)
    # the warm start on XLA-style decisions puts the policy at the baseline's level
    assert res.runtime <= xla_mapping(p, hw).runtime * 1.02


def test_ppo_distilled_from_mcts_beats_xla(tmp_path, bert):
    from optgym.agents.memory.ppo import ppo_mapping, train_ppo

    model = train_ppo(["bert-layer"], steps=128, n_steps=64, progress=False, imitation_epochs=300,
                      teacher="mcts", teacher_simulations=8)
    p, hw = bert
    res = ppo_mapping(p.name, hw, model=model)
    validate_mapping(p, res.mapping)
    assert res.runtime < xla_mapping(p, hw).runtime


def test_cli_solve_show_and_list(tmp_path, capsys):
    from optgym.cli import main

    assert main(["memory", "list"]) == 0
    assert "minimalloc/K" in capsys.readouterr().out
    png = tmp_path / "bert.png"
    assert main(["memory", "show", "bert-layer", "--agent", "search", "--time-limit", "2", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    js = tmp_path / "m.json"
    assert main(["memory", "solve", "minimalloc/C", "--agent", "best-fit", "--out", str(js)]) == 0
    assert "does not fit" in capsys.readouterr().out
    assert main(["memory", "solve", "resnet18", "--agent", "nope"]) == 2


def test_packing_solver_agent_plays_in_the_packing_env():
    from optgym.agents.memory.search import solve_packing_env
    from optgym.envs.memory import MemoryPackingEnv

    env = MemoryPackingEnv("minimalloc/B")
    info = solve_packing_env(env, time_limit=20)
    validate_mapping(env.problem, info["mapping"], allow_slow=False)  # within the 1 MiB capacity
    assert info["success"] and info["height"] <= env.problem.capacity
