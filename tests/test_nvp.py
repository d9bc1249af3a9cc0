"""Coreset + normalized value prediction: pool, coreset, training, the shipped model."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from optgym.agents.nvp.coreset import facility_location, greedy_coreset, reward_matrix
from optgym.errors import OptgymError

ROOT = Path(__file__).resolve().parents[1]
STRESS = [f"generator://llvm-stress-v0/{s}" for s in (0, 1, 2, 3)]


# -- reward matrix and coreset ------------------------------------------------------------------
def test_reward_matrix_normalizes_per_program_and_penalizes_failures():
    counts = np.array([[50, 100, -1], [900, 1000, 1100]])
    r = reward_matrix(counts, o0=np.array([200, 3000]), oz=np.array([100, 1000]))
    assert r[0, 0] == pytest.approx(math.log(2))
    assert r[0, 1] == pytest.approx(0.0) and r[1, 1] == pytest.approx(0.0)
    assert r[0, 2] == pytest.approx(math.log(100 / 200))  # a failed sequence counts as -O0
    assert r[1, 0] == pytest.approx(math.log(1000 / 900))
    with pytest.raises(OptgymError, match="programs × candidates"):
        reward_matrix(np.zeros(3), np.zeros(3), np.zeros(3))


# Column 0 is decent everywhere; columns 1 and 2 are excellent on disjoint halves of the
# programs; column 3 never beats -Oz.
HALVES = np.array([
    [0.4, 1.0, 0.0, -0.2],
    [0.4, 1.0, 0.0, -0.2],
    [0.4, 0.0, 1.0, -0.2],
    [0.4, 0.0, 1.0, -0.2],
])


def test_greedy_coreset_on_a_hand_made_matrix():
    # Greedy must take 1 and 2 (together 4.0) before 0.
    r = HALVES
    picks, trace = greedy_coreset(r, 3)
    assert picks[:2] in ([1, 2], [2, 1]) and picks[2] == 0
    assert trace == pytest.approx([2.0, 4.0, 4.0])
    assert all(b >= a for a, b in itertools.pairwise(trace))  # monotone
    assert trace[-1] == pytest.approx(facility_location(r, picks))
    with pytest.raises(OptgymError):
        greedy_coreset(r, 0)


def test_weighted_greedy_serves_the_programs_that_weigh_most():
    r = HALVES
    # Programs 2 and 3 dominate: column 2 first; uniform weights give the unweighted order.
    assert greedy_coreset(r, 4, np.array([0.05, 0.05, 0.45, 0.45]))[0][0] == 2
    assert greedy_coreset(r, 4, np.full(4, 0.25))[0] == greedy_coreset(r, 4)[0]
    with pytest.raises(OptgymError, match="one entry per program"):
        greedy_coreset(r, 2, np.ones(3))


def test_neighbours_rank_by_the_most_similar_programs_and_round_trip(tmp_path: Path):
    import math

    from optgym.agents.nvp.neighbours import Neighbours

    embeddings = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    rewards = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.9]])
    n = Neighbours(embeddings, rewards, temperature=0.05)
    assert n.order(np.array([3.0, 0.1]))[0] == 1  # like programs 0 and 1
    assert n.order(np.array([0.1, 3.0]))[0] == 2  # like programs 2 and 3
    assert n.weights(np.array([0.0, 1.0])).sum() == pytest.approx(1.0)
    n.temperature = math.inf
    assert n.weights(np.array([0.0, 1.0])) == pytest.approx(np.full(4, 0.25))
    n.save(tmp_path)
    back = Neighbours.load(tmp_path)
    assert back.temperature == math.inf and back.order(np.ones(2)) == n.order(np.ones(2))
    assert Neighbours.load(tmp_path / "nothing-here") is None
    (tmp_path / "neighbours.npz").write_bytes(b"not an npz")
    with pytest.raises(OptgymError, match="neighbours.npz is not a readable"):
        Neighbours.load(tmp_path)


def test_greedy_is_within_one_minus_one_over_e_of_the_best():
    rng = np.random.default_rng(0)
    for _ in range(20):
        r = rng.normal(0, 0.1, size=(12, 8))
        picks, trace = greedy_coreset(r, 3)
        best = max(facility_location(r, list(s)) for s in itertools.combinations(range(8), 3))
        assert trace[-1] >= (1 - 1 / math.e) * best - 1e-12
        assert all(b >= a - 1e-12 for a, b in itertools.pairwise(trace))
        assert len(set(picks)) == 3


# -- pool generation ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_pool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pool, coreset and measured extra/validation programs on tiny llvm-stress programs."""
    from optgym.agents.config import from_dict, to_dict
    from optgym.agents.nvp.config import NvpConfig
    from optgym.agents.nvp.train import prepare

    workdir = tmp_path_factory.mktemp("nvp")
    config = from_dict(NvpConfig, {
        "workdir": str(workdir), "workers": 1,
        "pool": {"programs": STRESS[:2] + ["benchmark://builtin-v0/crc32"], "seconds": 2.0,
                 "episodes": 40, "keep": 3, "candidates_per_program": 3},
        "coreset": {"k": 4, "extra_programs": [STRESS[2]], "validation_programs": [STRESS[3]]},
    })
    coreset = prepare(config, None)
    assert coreset is not None and len(coreset["sequences"]) == 4
    (workdir / "config.json").write_text(json.dumps(to_dict(config)))
    return workdir


def test_pool_search_keeps_best_prefixes_that_replay(tiny_pool: Path):
    from optgym.agents.nvp.store import PoolStore
    from optgym.datasets import get_benchmark
    from optgym.llvm.passes import join_steps
    from optgym.llvm.session import CompilerSession

    with PoolStore(tiny_pool / "pool.sqlite") as store:
        assert store.searched() == set(STRESS[:2] + ["benchmark://builtin-v0/crc32"])
        rows = store.best("benchmark://builtin-v0/crc32")
        program = store.program("benchmark://builtin-v0/crc32")
        assert set(program["features"]) == {"autophase", "nodes", "edges", "links"}
        counts = [c for _, _, _, c in rows]
        assert counts == sorted(counts) and len(set(counts)) == len(counts)
        assert counts[0] < program["o0"]
        # The count found stepwise is what the joined pipeline gives (as opt-19 would run it).
        with CompilerSession() as session:
            module = session.load(get_benchmark("benchmark://builtin-v0/crc32").bitcode)
            got = module.try_pipeline(join_steps(rows[0][2]), ("IrInstructionCount",))
        assert got["IrInstructionCount"] == counts[0]
        # Every pool program was measured under every candidate; the extra ones on the coreset.
        ids = [c for c, _ in store.candidates()]
        m = store.counts(sorted(store.searched()), ids)
        assert (m != 0).all() and m.shape[1] >= 4
        assert store.evaluated("coreset") == {STRESS[2], STRESS[3]}


@pytest.mark.slow
def test_killed_pool_run_resumes_without_losing_work(tmp_path: Path):
    cmd = [sys.executable, "scripts/train.py", "nvp", "--no-progress", "--out", str(tmp_path),
           "--set", "stop_after=pool", "--set", f"workdir={tmp_path}", "--set", "workers=1",
           "--set", "pool.seconds=1.5", "--set", "pool.episodes=1000",
           "--set", f"pool.programs={json.dumps(STRESS)}"]
    db = tmp_path / "pool.sqlite"
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first: list[tuple] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not first:
            time.sleep(0.3)
            if db.exists():
                try:
                    with sqlite3.connect(db) as con:
                        first = con.execute("SELECT uri, rank, steps, count FROM best").fetchall()
                except sqlite3.OperationalError:
                    pass
        assert first, "no program was stored within 90 s"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, worker processes included
        proc.wait()
    with sqlite3.connect(db) as con:
        done_before = {r[0] for r in con.execute("SELECT uri FROM programs WHERE episodes >= 0")}
    assert 1 <= len(done_before) < len(STRESS)
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"searched {len(STRESS) - len(done_before)} programs in this run" in out.stdout
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT uri, rank, steps, count FROM best").fetchall()
        done = {r[0] for r in con.execute("SELECT uri FROM programs WHERE episodes >= 0")}
        evaluated = {r[0] for r in con.execute("SELECT uri FROM evaluated WHERE tag='pool'")}
    assert done == evaluated == set(STRESS)
    assert set(first) <= set(rows)  # what the killed run stored is kept as it was


# -- training -----------------------------------------------------------------------------------
@pytest.mark.parametrize("encoder", ["gnn", "autophase"])
def test_a_few_training_steps_decrease_the_loss(tiny_pool: Path, encoder: str):
    import torch
    from torch_geometric.loader import DataLoader

    from optgym.agents.nvp.data import split_examples, to_data
    from optgym.agents.nvp.model import NvpModel
    from optgym.agents.nvp.store import PoolStore

    coreset = json.loads((tiny_pool / "coreset.json").read_text())
    with PoolStore(tiny_pool / "pool.sqlite") as store:
        train, _ = split_examples(store, coreset["candidate_ids"])
    assert len(train) == 4
    torch.manual_seed(0)
    batch = next(iter(DataLoader([to_data(e.features, e.rewards) for e in train], batch_size=4)))
    model = NvpModel(4, encoder, dim=32, layers=2, vocab_size=128, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    target = torch.softmax(batch.rewards / 0.02, dim=1)

    def loss() -> torch.Tensor:
        return -(target * torch.log_softmax(model(batch), dim=1)).sum(1).mean()

    # Cross-entropy cannot go below the target's entropy: learning shows as the gap closing
    # (the targets can be nearly uniform when the candidates tie on tiny programs).
    floor = -(target * torch.log(target.clamp_min(1e-12))).sum(1).mean().item()
    before = loss().item()
    for _ in range(15):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    assert loss().item() - floor < 0.5 * (before - floor) + 1e-3


def test_train_nvp_writes_a_model_the_policy_runs(tiny_pool: Path, tmp_path: Path):
    from optgym.agents import Budget, get_policy
    from optgym.agents.train import run
    from optgym.envs.llvm import LlvmEnv

    config = json.loads((tiny_pool / "config.json").read_text())
    config.update(epochs=3, dim=16, layers=1)
    summary = run("nvp", config, out=tmp_path / "run", progress=False)
    assert summary["train_programs"] == 4 and summary["validation_programs"] == 1
    assert summary["model_dir"] == str(tmp_path / "run" / "model")
    assert (tmp_path / "run" / "checkpoints" / "latest.pt").exists()
    # Resuming continues from the checkpoint instead of starting over.
    again = run("nvp", {**config, "epochs": 4}, out=tmp_path / "run", resume=True,
                progress=False)
    assert again["epochs_run"] == 1 and again["steps"] == summary["steps"] + 1
    policy = get_policy("nvp", model_dir=tmp_path / "run" / "model")
    env = LlvmEnv(observation_space="Autophase")
    try:
        env.reset(options={"benchmark": STRESS[3]})
        result = policy.search(env, Budget(compilations=3))
    finally:
        env.close()
    assert result.compilations <= 3 and result.instruction_count <= result.oz_count
    # The trainer fitted the neighbours' temperature on the validation program.
    meta = json.loads((tmp_path / "run" / "model" / "metadata.json").read_text())
    assert meta["neighbours"]["temperature"] in {"0.01", "0.02", "0.05", "0.1", "0.2", "inf"}
    assert (tmp_path / "run" / "model" / "neighbours.npz").is_file()


def test_bad_config_is_a_clear_error():
    from optgym.agents.config import ConfigError, from_dict
    from optgym.agents.nvp.config import NvpConfig

    with pytest.raises(ConfigError, match="unknown key 'epoch' for NvpConfig; known: .*epochs"):
        from_dict(NvpConfig, {"epoch": 3})
    with pytest.raises(ConfigError, match="unknown key 'pool.bogus'.*known: .*episodes"):
        from_dict(NvpConfig, {"pool": {"bogus": 1}})
    with pytest.raises(ConfigError, match="stop_after must be one of"):
        from_dict(NvpConfig, {"stop_after": "coresets"})


def test_a_model_file_of_another_format_is_a_typed_error(tmp_path: Path):
    import shutil

    import torch

    from optgym.agents.nvp import MODEL_DIR
    from optgym.agents.nvp.model import load_model

    for name in ("coreset.json", "metadata.json"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    blob = torch.load(MODEL_DIR / "model.pt", weights_only=True)
    # An older layout: the graph encoder's layers under another name.
    blob["state_dict"] = {k.replace("encoder.layers.", "encoder.convs."): v
                          for k, v in blob["state_dict"].items()}
    torch.save(blob, tmp_path / "model.pt")
    with pytest.raises(OptgymError, match="model.pt is not a model this version.*retrain"):
        load_model(tmp_path)


# -- the shipped model --------------------------------------------------------------------------
def test_import_registers_without_torch():
    code = ("import sys, optgym.agents.nvp as n; from optgym.agents import policy_names; "
            "assert 'nvp' in policy_names(); assert 'torch' not in sys.modules; "
            "print(n.shipped_model_available())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_numpy_ranking_equals_torch_ranking_on_real_programs():
    """The drop-ins rank with the numpy export (no torch); it must rank exactly as torch does."""
    from optgym.agents.nvp.data import features_from_env
    from optgym.agents.nvp.inference import NumpyNvp
    from optgym.agents.nvp.model import load_model
    from optgym.agents.nvp.policy import NvpAutophasePolicy, NvpPolicy
    from optgym.envs.llvm import LlvmEnv

    uris = ["benchmark://builtin-v0/crc32", "benchmark://builtin-v0/huffman",
            "benchmark://builtin-v0/json_lite", "generator://csmith-v0/5", STRESS[2]]
    policies = [cls(ranking=r) for cls in (NvpPolicy, NvpAutophasePolicy)
                for r in ("neighbours", "logits")]
    env = LlvmEnv(observation_space=None)
    try:
        for policy in policies:
            assert isinstance(policy._model()[0], NumpyNvp)  # the export is current
            torch_model, sequences, _ = load_model(policy.model_dir)
            for uri in uris:
                env.reset(options={"benchmark": uri})
                features = features_from_env(env, torch_model.hparams["encoder"])
                by_torch = [sequences[i] for i in policy._rank_with_torch(torch_model, features)]
                assert policy.rank(env) == by_torch, (policy.name, policy.ranking, uri)
    finally:
        env.close()


def test_an_export_of_another_model_pt_is_not_used(tmp_path: Path):
    import shutil

    import torch

    from optgym.agents.nvp import MODEL_DIR
    from optgym.agents.nvp.inference import NumpyNvp
    from optgym.agents.nvp.model import NvpModel, export_numpy
    from optgym.agents.nvp.policy import NvpPolicy

    for name in ("model.pt", "model.npz", "coreset.json", "metadata.json", "neighbours.npz"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    assert NumpyNvp.load(tmp_path) is not None
    blob = torch.load(tmp_path / "model.pt", weights_only=True)  # "retrained": other weights
    blob["state_dict"] = {k: v * 2 if v.is_floating_point() else v
                          for k, v in blob["state_dict"].items()}
    torch.save(blob, tmp_path / "model.pt")
    assert NumpyNvp.load(tmp_path) is None
    assert isinstance(NvpPolicy(tmp_path)._model()[0], NvpModel)  # torch, not the stale export
    export_numpy(tmp_path)
    assert isinstance(NvpPolicy(tmp_path)._model()[0], NumpyNvp)


def test_optgym_opt_runs_the_shipped_model_without_torch(tmp_path: Path):
    from conftest import compile_c

    bitcode = tmp_path / "crc32.bc"
    compile_c(ROOT / "benchmarks" / "programs" / "crc32.c", bitcode)
    code = ("import sys\nfrom optgym import opt\n"
            f"assert opt.main([{str(bitcode)!r}, '--budget', '4', '-o', {str(tmp_path / 'o.bc')!r}"
            "]) == 0\nassert opt.default_policy() == 'nvp'\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "o.bc").stat().st_size > 0


@pytest.mark.slow
def test_shipped_model_within_budget_and_never_worse_than_oz():
    from optgym.agents import Budget, get_policy
    from optgym.agents.nvp import MODEL_DIR
    from optgym.envs.llvm import LlvmEnv

    meta = json.loads((MODEL_DIR / "metadata.json").read_text())
    assert "benchmark://builtin-v0/crc32" not in meta["validation_programs"]
    assert (MODEL_DIR / "model.pt").stat().st_size < 5_000_000
    assert (MODEL_DIR / "neighbours.npz").is_file() and meta["neighbours"]["temperature"]
    policy = get_policy("nvp")
    with pytest.raises(OptgymError, match="unknown NVP ranking"):
        get_policy("nvp", ranking="best")
    env = LlvmEnv(observation_space=None)
    try:
        for uri, budget in [("benchmark://builtin-v0/crc32", 8), (STRESS[1], 1)]:
            env.reset(options={"benchmark": uri})
            result = policy.search(env, Budget(compilations=budget))
            assert result.compilations <= budget
            assert result.instruction_count <= result.oz_count
            assert result.policy == "nvp"
    finally:
        env.close()


def test_helper_workers_measure_the_same_choice_as_one_worker():
    # With helpers (started before ranking, one measuring -Oz meanwhile) the search must choose
    # what one worker measuring every candidate in turn chooses, within the same budget.
    from optgym.agents import Budget, get_policy
    from optgym.envs.llvm import LlvmEnv

    env = LlvmEnv(observation_space=None)
    try:
        env.reset(options={"benchmark": "benchmark://builtin-v0/huffman"})
        results = []
        for workers in (1, 3):
            policy = get_policy("nvp")
            policy.workers = workers
            results.append(policy.search(env, Budget(compilations=13)))
        one, three = results
        assert three.compilations == one.compilations == 13
        assert (three.steps, three.instruction_count) == (one.steps, one.instruction_count)
        assert one.instruction_count <= one.oz_count
    finally:
        env.close()


@pytest.mark.slow
def test_recipe_trains_data_parallel_on_two_gloo_processes(tiny_pool: Path, tmp_path: Path):
    import yaml

    config = json.loads((tiny_pool / "config.json").read_text())
    config.update(epochs=2, dim=16, layers=1, batch_size=2, torch_threads=1)
    (tmp_path / "nvp.yaml").write_text(yaml.safe_dump(config))
    out = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "scripts/train.py", "nvp", "--config", str(tmp_path / "nvp.yaml"),
         "--out", str(tmp_path / "run")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    ranks = [json.loads((tmp_path / "run" / f"summary-rank{r}.json").read_text()) for r in (0, 1)]
    assert all(s["world_size"] == 2 for s in ranks)
    # 4 programs over 2 ranks in batches of 2: one step per epoch on each rank.
    assert [s["steps"] for s in ranks] == [2, 2]
    assert (tmp_path / "run" / "model" / "model.pt").exists()


def test_try_steps_measures_a_sequence_and_leaves_the_episode_alone():
    """The public env method the NVP policy measures sequences with (one compilation each)."""
    from optgym.envs.llvm import LlvmEnv
    from optgym.errors import OptgymError as Error

    env = LlvmEnv("benchmark://builtin-v0/crc32", observation_space=None)
    try:
        with pytest.raises(Error, match="reset"):
            env.try_steps(["default<Oz>"])
        env.reset()
        env.step(env.actions.index("-mem2reg"))
        before = int(env.observe("IrInstructionCount"))
        tried = env.try_steps(["function(instcombine)", "function(simplifycfg)"],
                              ("IrInstructionCount", "Autophase"))
        assert env.actions_taken == ["function(mem2reg)"]
        assert int(env.observe("IrInstructionCount")) == before
        for flag in ("-instcombine", "-simplifycfg"):
            env.step(env.actions.index(flag))
        assert tried["IrInstructionCount"] == int(env.observe("IrInstructionCount")) < before
        assert list(tried["Autophase"]) == list(env.observe("Autophase"))
    finally:
        env.close()
