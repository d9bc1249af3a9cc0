"""PPO on the pass-ordering environments: the observation wrapper and its action mask, the
Autophase and Programl features extractors, a short real training run, the trained model as
a policy whose results replay in opt-19, data-parallel PPO over two ranks, and Ray-parallel
evaluation on a local Ray instance."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optgym.agents import Budget, get_policy, policy_names
from optgym.agents.train import TrainContext, run
from optgym.envs.llvm import LlvmEnv
from optgym.errors import OptgymError

ROOT = Path(__file__).resolve().parent.parent
CRC = "benchmark://builtin-v0/crc32"
SMALL = {"n_envs": 2, "vec_env": "subproc", "total_timesteps": 256, "episode_length": 16,
         "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 2}, "net": {"hidden": 32},
         "checkpoint_every": 128, "eval": None}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ppo")
    summary = run("ppo-llvm", SMALL, out=out, progress=False)
    return out, summary


def test_ppo_is_registered_lazily():
    assert "ppo" in policy_names()
    code = ("import sys, optgym.agents, optgym.agents.ppo; "
            "print('optgym.agents.ppo.policy' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_wrapper_masks_a_pass_that_had_no_effect_until_the_module_changes():
    from optgym.agents.ppo.config import PpoConfig
    from optgym.agents.ppo.observation import make_env

    env = make_env(PpoConfig(benchmark=CRC, episode_length=10, vec_env="dummy"))
    try:
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert obs["size"][0] == pytest.approx(1.0) and obs["progress"][0] == 0.0
        actions = env.unwrapped.actions
        # -mem2reg changes a -O0 module; right after it, a second -mem2reg does nothing.
        m2r = next(i for i, a in enumerate(actions) if a.flag == "-mem2reg")
        obs, reward, *_ , info = env.step(m2r)
        assert reward > 0 and not info["action_had_no_effect"]
        assert env.action_masks().all()
        obs, reward, *_, info = env.step(m2r)
        assert info["action_had_no_effect"] and reward == 0.0
        mask = env.action_masks()
        assert not mask[m2r] and mask.sum() == len(actions) - 1
        assert obs["history"][m2r] == pytest.approx(2 / 10) and obs["size"][0] < 1.0
        oz = next(i for i, a in enumerate(actions) if a.pipeline == "default<Oz>")
        _, _, _, _, info = env.step(oz)
        assert not info["action_had_no_effect"] and env.action_masks()[m2r]
    finally:
        env.close()


def test_benchmark_mix_draws_episodes_from_its_list_across_datasets():
    from optgym.agents.ppo.observation import BenchmarkMix

    uris = [CRC, "generator://csmith-v0/1"]
    base = LlvmEnv(observation_space=None)
    with pytest.raises(OptgymError, match="at least one"):
        BenchmarkMix(base, [])
    env = BenchmarkMix(base, uris)
    try:
        seen = []
        for seed in range(8):
            env.reset(seed=seed)
            seen.append(env.unwrapped.benchmark.uri)
        assert set(seen) == set(uris)
        env.reset(seed=3)
        again = env.unwrapped.benchmark.uri
        assert again == seen[3]  # seeded: the same draw
        env.reset(options={"benchmark": "benchmark://builtin-v0/fir_fixed"})
        assert env.unwrapped.benchmark.uri == "benchmark://builtin-v0/fir_fixed"
    finally:
        env.close()


@pytest.mark.slow
def test_programl_graph_extractor_batches_real_graphs_and_trains(tmp_path):
    import torch

    from optgym.agents.ppo.config import PpoConfig
    from optgym.agents.ppo.extractor import PassOrderingExtractor
    from optgym.agents.ppo.observation import make_env, pad_graph

    config = {"benchmark": CRC, "observation": "programl", "episode_length": 4,
              "max_nodes": 2048, "max_edges": 6144}
    env = make_env(PpoConfig(**config))
    try:
        obs, _ = env.reset(seed=0)
        graph = env.unwrapped.observe("Programl")
        n, e = int(obs["graph_size"][0]), int(obs["graph_size"][1])
        assert n == len(graph.nodes) and e == len(graph.edge_links) and 0 < n <= 2048
        obs2, *_ = env.step(next(i for i, a in enumerate(env.unwrapped.actions)
                                 if a.flag == "-mem2reg"))
        assert int(obs2["graph_size"][0]) < n  # mem2reg removes allocas, loads and stores
        extractor = PassOrderingExtractor(env.observation_space, hidden=32, gnn_dim=16,
                                          gnn_layers=2)
        batch = {k: torch.as_tensor(np.stack([obs[k], obs2[k]])) for k in obs}
        features = extractor(batch)
        assert features.shape == (2, 32) and torch.isfinite(features).all()
        assert not torch.allclose(features[0], features[1])
        features.sum().backward()
        assert extractor.encoder.text.weight.grad.abs().sum() > 0
        assert extractor.encoder.layers[0].message.weight.grad.abs().sum() > 0
        # Cutting a graph keeps only edges between kept nodes.
        cut = pad_graph(graph, 100, 400)
        kept = cut["graph_edges"][: int(cut["graph_size"][1])]
        assert cut["graph_size"][0] == 100 and (kept[:, :2] < 100).all()
    finally:
        env.close()
    summary = run("ppo-llvm", {**SMALL, **config, "n_envs": 1, "vec_env": "dummy",
                               "total_timesteps": 32, "ppo": {"n_steps": 16, "batch_size": 16,
                                                              "n_epochs": 1},
                               "net": {"hidden": 32, "gnn_dim": 16, "gnn_layers": 2}},
                  out=tmp_path / "ppo-graph",
                  progress=False)
    assert summary["timesteps"] >= 32


@pytest.mark.slow
def test_ppo_trains_and_its_policy_returns_results_that_replay_in_opt(trained):
    out, summary = trained
    assert summary["timesteps"] >= 256
    assert (out / "checkpoints" / "ppo-latest.zip").exists()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = (out / "tensorboard").glob("events.out.tfevents.*")
    acc = EventAccumulator(str(events))
    acc.Reload()
    assert {"rollout/ep_rew_mean", "train/loss", "train/entropy_loss"} <= set(acc.Tags()["scalars"])
    policy = get_policy("ppo", checkpoint=out / "checkpoints" / "ppo.pt")
    env = LlvmEnv(observation_space=None)  # flags-v0: the policy brings its own action set
    try:
        for uri in (CRC, "benchmark://builtin-v0/fir_fixed"):
            env.reset(options={"benchmark": uri})
            result = policy.search(env, Budget(compilations=20))
            assert result.benchmark == uri and result.policy == "ppo"
            assert 1 <= result.compilations <= 20
            assert result.instruction_count <= result.oz_count  # the -Oz fallback
            validation = env.validate(result.state)
            assert validation.ok, validation.errors
            assert validation.instruction_count == result.instruction_count
    finally:
        env.close()
    # The same checkpoint as SB3's own zip gives the same greedy decisions.
    zipped = get_policy("ppo", checkpoint=out / "checkpoints" / "ppo-latest.zip",
                        fallback_oz=False)
    exported = get_policy("ppo", checkpoint=out / "checkpoints" / "ppo.pt", fallback_oz=False)
    env = LlvmEnv(observation_space=None, action_space="flags-safe-pipelines-v0")
    try:
        env.reset(options={"benchmark": CRC})
        a = zipped.search(env, Budget(compilations=8))
        env.reset(options={"benchmark": CRC})
        b = exported.search(env, Budget(compilations=8))
        assert a.steps == b.steps and a.compilations == b.compilations == 8
    finally:
        env.close()


def test_bad_checkpoints_are_named(tmp_path):
    from optgym.agents.ppo.policy import PpoPolicy

    with pytest.raises(OptgymError, match="does not exist"):
        PpoPolicy(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(OptgymError, match="junk.pt"):
        PpoPolicy(junk)


@pytest.mark.slow
def test_ray_parallel_evaluation_matches_the_serial_one(trained):
    import ray

    from optgym.agents.ppo.policy import evaluate

    out, _ = trained
    uris = [CRC, "benchmark://builtin-v0/fir_fixed", "benchmark://builtin-v0/huffman"]
    serial = evaluate(out / "checkpoints" / "ppo.pt", uris, budget=10)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ctx = TrainContext(ray_address="local", progress_bars=False)
        parallel = evaluate(out / "checkpoints" / "ppo.pt", uris, budget=10, ctx=ctx, chunks=2)
        ctx.close()
    finally:
        ray.shutdown()
    key = lambda rows: sorted((r["benchmark"], r["instruction_count"], tuple(r["steps"]))  # noqa: E731
                              for r in rows)
    assert key(parallel) == key(serial) and len(serial) == 3


@pytest.mark.slow
def test_data_parallel_ppo_keeps_both_ranks_identical(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(_free_port()), str(ROOT / "scripts" / "train.py"), "ppo-llvm",
           "--out", str(tmp_path), "--no-progress", "--set", "vec_env=dummy", "--set", "n_envs=1",
           "--set", "total_timesteps=64", "--set", "episode_length=8", "--set", "eval=null",
           "--set", "ppo={n_steps: 32, batch_size: 16, n_epochs: 2}", "--set", "net.hidden=32"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"summary-rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["param_digest"] == ranks[1]["param_digest"]
    assert ranks[0]["timesteps"] == ranks[1]["timesteps"] == 64
    assert (tmp_path / "checkpoints" / "ppo.pt").exists()


def test_the_shipped_model_is_small_safe_and_never_worse_than_oz():
    from optgym.agents.ppo.policy import SHIPPED_CHECKPOINT
    from optgym.llvm.passes import is_safe_pipeline

    assert SHIPPED_CHECKPOINT.stat().st_size < 5 * 2**20
    policy = get_policy("ppo")  # no checkpoint: the one in package data
    assert policy.info["action_space"] == "flags-safe-pipelines-v0"
    env = LlvmEnv(observation_space=None)
    try:
        # fir_fixed (test split, never trained on); clang-19 -Oz leaves 370 of 946 instructions.
        env.reset(options={"benchmark": "benchmark://builtin-v0/fir_fixed"})
        result = policy.search(env, Budget(compilations=45))
        assert result.compilations <= 45 and result.oz_ratio >= 1.0
        assert is_safe_pipeline(result.pipeline), result.pipeline
        assert env.validate(result.state).ok
    finally:
        env.close()


_SHARE_GRADIENTS = """
import json, sys, torch, torch.distributed as dist
from optgym.agents.train import TrainContext
rank = int(sys.argv[1])
dist.init_process_group("gloo", init_method="tcp://127.0.0.1:" + sys.argv[2], rank=rank,
                        world_size=2)
torch.manual_seed(rank)  # different weights: rank 0's must win
model = torch.nn.Linear(3, 1, bias=False)
TrainContext(rank=rank, world_size=2).share_gradients(model)
x = torch.full((1, 3), 10.0 if rank == 0 else -2.0)
model(x).sum().backward()
# Right after backward, before any clipping: the mean of the ranks' gradients (10 and -2).
print(json.dumps([model.weight.detach().tolist(), model.weight.grad.tolist()]))
torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
print(json.dumps(model.weight.grad.tolist()))
dist.destroy_process_group()
"""


def test_data_parallel_gradients_are_averaged_before_clipping():
    """Each rank's gradient is averaged inside backward (as DDP does), so clipping sees the
    mean: [4, 4, 4] clipped to norm 1, not the mean of each rank's clipped gradient."""
    port = str(_free_port())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _SHARE_GRADIENTS, str(r), port],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for r in (0, 1)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        outs.append([json.loads(line) for line in out.split("\n") if line.strip()])
    (w0, g0), (w1, g1) = outs[0][0], outs[1][0]
    assert w0 == w1  # rank 0's weights broadcast
    assert np.allclose(g0, [[4.0, 4.0, 4.0]]) and np.allclose(g1, g0)
    clipped = outs[0][1]
    assert np.allclose(clipped, [[1 / 3**0.5] * 3], atol=1e-4)


def test_old_or_foreign_model_files_are_refused_with_a_typed_error(tmp_path):
    import torch

    from optgym.agents.ppo.export import load_exported
    from optgym.agents.ppo.policy import SHIPPED_CHECKPOINT

    payload = torch.load(SHIPPED_CHECKPOINT, weights_only=False)
    for old in ("optgym-ppo-v1", "optgym-ppo-v2"):  # graph encoders before the current one
        torch.save({**payload, "format": old, "observation": "programl"}, tmp_path / "old.pt")
        with pytest.raises(OptgymError, match=f"old.pt is a {old} ProGraML policy.*retrain"):
            load_exported(tmp_path / "old.pt")
    wrong = {**payload, "net": {"hidden": 64, "gnn_dim": 64, "gnn_layers": 3}}
    torch.save(wrong, tmp_path / "wrong.pt")
    with pytest.raises(OptgymError, match="wrong.pt does not fit its own network"):
        load_exported(tmp_path / "wrong.pt")
