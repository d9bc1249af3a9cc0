"""The training framework: configs, the command line, DDP on CPU (gloo), checkpoints with
resume, and TensorBoard logs, all with the real autophase-oz recipe on real programs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from optgym.agents.config import ConfigError, load_config, to_dict
from optgym.agents.train import (
    RECIPES,
    TrainContext,
    config_class,
    load_recipe,
    recipe_names,
    resolve_config,
    run,
)
from optgym.cli import main as cli_main
from optgym.errors import OptgymError

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_recipe_has_a_typed_config_whose_defaults_are_the_only_ones():
    for name in recipe_names():
        cls = config_class(load_recipe(name))
        assert cls is not None, name
        config = resolve_config(name)
        assert isinstance(config, cls) and to_dict(config)["seed"] == 0
    config = resolve_config("ppo-llvm", {"net": {"hidden": 32}}, None,
                            ["ppo.n_steps=64", "eval.split=test", "eval.budget=9"])
    assert config.ppo.n_steps == 64 and config.ppo.batch_size == 256  # a section updates
    assert config.eval.split == "test" and config.eval.budget == 9 and config.net.hidden == 32
    assert resolve_config("ppo-llvm", None, None, ["eval=null"]).eval is None
    # The shipped NVP model's settings file fits the recipe's schema.
    from optgym.agents.nvp import MODEL_DIR
    from optgym.agents.nvp.config import NvpConfig

    shipped = load_config(NvpConfig, MODEL_DIR / "config.yaml")
    assert shipped.pool.matrix_max_o0 == 1500 and shipped.coreset.k == 50
    assert shipped.pool.realc == 2 and shipped.coreset.extra_realc_fn == 6  # trained on real code
    assert shipped.coreset.extra_csmith == 10 and shipped.pool.builtin_split == "train"


def test_unknown_keys_name_the_file_and_the_known_keys(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("total_timestep: 64\n")
    with pytest.raises(ConfigError, match=r"typo.yaml: unknown key 'total_timestep' for "
                                          r"PpoConfig; known: .*total_timesteps"):
        resolve_config("ppo-llvm", None, bad)
    with pytest.raises(ConfigError, match=r"--set: unknown key 'ppo.n_step'.*known: .*n_steps"):
        resolve_config("ppo-llvm", None, None, ["ppo.n_step=3"])
    with pytest.raises(ConfigError, match="unknown key 'pool.bogus'"):
        run("nvp", {"pool": {"bogus": 1}}, out=tmp_path / "never")
    with pytest.raises(ConfigError, match="total_timesteps must be int"):
        resolve_config("ppo-llvm", {"total_timesteps": "many"})
    with pytest.raises(ConfigError, match="observation must be one of"):
        resolve_config("ppo-llvm", None, None, ["observation=pixels"])
    with pytest.raises(ConfigError, match="workloads"):
        run("memory-ppo", {"workloads": []}, out=tmp_path / "none", progress=False)
    assert not (tmp_path / "never").exists() and not (tmp_path / "none").exists()
    # The command line says the same, as one line, with exit code 2.
    assert cli_main(["train", "autophase-oz", "--set", "epoch=3", "--print-config"]) == 2


def test_memory_ppo_recipe_and_memory_cli_share_their_defaults():
    from optgym.cli import build_parser
    from optgym.memory.agents.recipes import MemoryPpoConfig

    args = build_parser().parse_args(["memory", "train", "--agent", "ppo", "--out", "x.zip"])
    defaults = MemoryPpoConfig()
    assert args.imitation_epochs == defaults.imitation_epochs
    assert args.teacher == defaults.teacher and args.steps == defaults.steps
    config = resolve_config("memory-ppo", {"teacher": "mcts", "teacher_simulations": 4})
    assert config.teacher == "mcts" and config.teacher_simulations == 4


def test_bad_configs_and_recipes_are_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        resolve_config("autophase-oz", None, bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        resolve_config("autophase-oz", None, listy)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_config("autophase-oz", None, tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        resolve_config("autophase-oz", None, None, ["novalue"])
    with pytest.raises(OptgymError, match="unknown recipe 'nope'"):
        load_recipe("nope")
    with pytest.raises(OptgymError, match="cannot import"):
        load_recipe("optgym.no_such_module:f")
    assert set(RECIPES.names()) >= {"nvp", "ppo-llvm", "autophase-oz", "memory-ppo",
                                    "memory-mcts"}


def test_cli_prints_the_resolved_config(capsys):
    assert cli_main(["train", "autophase-oz", "--set", "epochs=3", "--seed", "7",
                     "--print-config"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["epochs"] == 3 and config["seed"] == 7 and config["split"] == "train"


def test_checkpoint_resume_continues_and_tensorboard_is_written(tmp_path):
    config = {"epochs": 4, "checkpoint_every": 2, "batch_size": 8}
    first = run("autophase-oz", config, out=tmp_path, progress=False)
    assert first["start_epoch"] == 0 and first["steps"] == 4 * 5  # 39 programs, batches of 8
    ckpts = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert ckpts == ["latest.pt", "step-000000010.pt", "step-000000020.pt"]
    ctx = TrainContext(checkpoint_dir=tmp_path / "checkpoints", resume=True)
    step, state = ctx.load_checkpoint()
    assert step == 20 and state["epoch"] == 4

    second = run("autophase-oz", {**config, "epochs": 8}, out=tmp_path, resume=True,
                 progress=False)
    assert second["start_epoch"] == 4 and second["steps"] == 40
    assert second["final_loss"] < first["first_loss"]
    # Without --resume the same directory starts over.
    third = run("autophase-oz", {**config, "epochs": 2}, out=tmp_path, progress=False)
    assert third["start_epoch"] == 0 and third["steps"] == 10

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert events
    steps = set()
    for event_file in events:
        acc = EventAccumulator(str(event_file))
        acc.Reload()
        steps |= {e.step for e in acc.Scalars("train/mse")}
    assert steps == set(range(1, 9))
    summary = json.loads((tmp_path / "summary-rank0.json").read_text())
    assert summary["recipe"] == "autophase-oz" and summary["world_size"] == 1


@pytest.mark.slow
def test_ddp_two_cpu_processes_end_with_identical_weights(tmp_path):
    """torchrun, two ranks, gloo: each rank trains on its own shard and DDP all-reduces the
    gradients, so both end with the same weights, which differ from a one-process run."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(_free_port()), str(ROOT / "scripts" / "train.py"),
           "autophase-oz", "--out", str(tmp_path / "ddp"), "--set", "epochs=6",
           "--set", "checkpoint_every=3", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / "ddp" / f"summary-rank{r}.json").read_text()) for r in (0, 1)]
    assert [s["world_size"] for s in ranks] == [2, 2]
    assert ranks[0]["param_digest"] == ranks[1]["param_digest"]
    # Each rank saw half the programs: 20 and 19 samples -> 3 batches of 8 per epoch.
    assert ranks[0]["steps"] == ranks[1]["steps"] == 6 * 3
    assert ranks[0]["final_loss"] < ranks[0]["first_loss"]
    single = run("autophase-oz", {"epochs": 6, "checkpoint_every": 3}, out=tmp_path / "one",
                 progress=False)
    assert single["param_digest"] != ranks[0]["param_digest"]
    # Only the main rank writes checkpoints and TensorBoard logs.
    assert (tmp_path / "ddp" / "checkpoints" / "latest.pt").exists()
    assert len(list((tmp_path / "ddp" / "tensorboard").glob("events.*"))) == 1


@pytest.mark.slow
def test_memory_recipes_train_through_the_framework(tmp_path):
    mcts = run("memory-mcts", {"workloads": ["resnet18"], "iterations": 1, "simulations": 2,
                               "epochs": 1}, out=tmp_path / "mcts", progress=False)
    assert mcts["iterations"] == 1 and Path(mcts["model"]).stat().st_size > 0
    ppo = run("memory-ppo", {"workloads": ["resnet18"], "steps": 128, "n_steps": 64,
                             "imitation_epochs": 1}, out=tmp_path / "ppo", progress=False)
    assert Path(ppo["model"]).stat().st_size > 0


@pytest.mark.slow
def test_nvp_recipe_runs_under_torchrun_with_two_ranks(tmp_path):
    """7a's coreset + NVP recipe through the framework: pool and coreset on the main rank,
    then DDP training on both (a tiny pool of four real programs)."""
    config = tmp_path / "nvp.yaml"
    config.write_text(f"""
workdir: {tmp_path / 'build'}
workers: 1
pool: {{programs: [benchmark://builtin-v0/crc32, benchmark://builtin-v0/avl_tree,
                   benchmark://builtin-v0/base64_codec, benchmark://builtin-v0/bank_ledger],
        seconds: 1.0, episodes: 3, keep: 1, candidates_per_program: 2}}
coreset: {{k: 3, extra_programs: [], validation_programs: [benchmark://builtin-v0/bfs_grid]}}
encoder: autophase
epochs: 2
batch_size: 2
""")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(_free_port()), str(ROOT / "scripts" / "train.py"), "nvp",
           "--config", str(config), "--out", str(tmp_path / "run"), "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / "run" / f"summary-rank{r}.json").read_text()) for r in (0, 1)]
    assert [s["world_size"] for s in ranks] == [2, 2]
    assert ranks[0]["steps"] == ranks[1]["steps"] > 0
    assert (tmp_path / "run" / "checkpoints" / "latest.pt").exists()


def test_checkpoint_files_appear_whole_with_ordinary_permissions(tmp_path):
    """TrainContext.atomic_path is cache.atomic_path: a failing writer leaves nothing, a
    finished one leaves the file readable as a plain open() would make it."""
    ctx = TrainContext(checkpoint_dir=tmp_path / "ckpt")
    with pytest.raises(RuntimeError), ctx.atomic_path("model.zip") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer died")
    assert not (tmp_path / "ckpt" / "model.zip").exists()
    assert list((tmp_path / "ckpt").iterdir()) == []
    with ctx.atomic_path("model.zip") as tmp:
        tmp.write_bytes(b"whole")
    final = tmp_path / "ckpt" / "model.zip"
    umask = os.umask(0)
    os.umask(umask)
    assert final.read_bytes() == b"whole" and final.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in final.parent.iterdir()] == ["model.zip"]


def plain_recipe(config, ctx):
    """A user's recipe without a config class: it gets the settings as a dict."""
    return {"got": config, "seed": ctx.seed}


def test_a_users_recipe_without_a_config_class_gets_a_dict(tmp_path):
    summary = run("test_train:plain_recipe", {"a": 1, "seed": 5}, out=tmp_path, progress=False)
    assert summary["got"] == {"a": 1, "seed": 5} and summary["seed"] == 5
    assert json.loads((tmp_path / "config.json").read_text())["config"] == {"a": 1, "seed": 5}
