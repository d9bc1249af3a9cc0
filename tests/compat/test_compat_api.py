"""CompilerGym's getting-started code and LLVM-env surface, run on optgym.compat.

Each test is CompilerGym usage rewritten against ``from optgym import compat as compiler_gym``
with only the import (and, where CompilerGym used cBench, the benchmark) changed.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from optgym import compat as compiler_gym
from optgym.errors import BenchmarkError, OptgymError

SMALL = "benchmark://builtin-v0/adler32_fletcher"


@pytest.fixture
def env():
    e = compiler_gym.make("llvm-autophase-ic-v0", benchmark=SMALL)
    yield e
    e.close()


def test_readme_example(capsys):
    # CompilerGym's README: make, reset, render, one random step, close.
    env = compiler_gym.make("llvm-v0", benchmark="builtin-v0/crc32",
                            observation_space="Autophase", reward_space="IrInstructionCountOz")
    observation = env.reset()
    assert observation.shape == (56,)
    env.render()
    assert "define" in capsys.readouterr().out
    observation, reward, done, info = env.step(env.action_space.sample())
    assert observation.shape == (56,) and isinstance(reward, float) and done is False
    assert set(info) >= {"action_had_no_effect"}
    env.close()


def test_getting_started_episode_loop():
    # The getting-started guide: a with-block, an episode of random steps, the episode reward.
    with compiler_gym.make("llvm-autophase-ic-v0") as env:
        env.reset(benchmark="builtin-v0/crc32")
        total = 0.0
        for _ in range(5):
            _, reward, done, _ = env.step(env.action_space.sample())
            total += reward
            if done:
                break
        assert env.episode_reward == pytest.approx(total)
        assert env.benchmark.uri == "benchmark://builtin-v0/crc32"


def test_ids_set_spaces_as_compilergym_did():
    for env_id, observation, reward in [
        ("llvm-v0", None, None), ("llvm-ic-v0", None, "IrInstructionCountOz"),
        ("llvm-autophase-ic-v0", "Autophase", "IrInstructionCountOz"),
        ("llvm-ir-ic-v0", "Ir", "IrInstructionCountOz"),
        ("llvm-autophase-codesize-v0", "Autophase", "ObjectTextSizeOz"),
    ]:
        env = compiler_gym.make(env_id, benchmark=SMALL)
        try:
            assert env.spec.id == env_id
            spec = env.observation_space_spec
            assert (spec.id if spec else None) == observation
            assert (env.reward_space.name if env.reward_space else None) == reward
            obs = env.reset()
            _, r, _, _ = env.step(0)
            assert (obs is None) == (observation is None) and (r is None) == (reward is None)
        finally:
            env.close()
    with pytest.raises(OptgymError, match="llvm-autophase-ic-v0"):
        compiler_gym.make("llvm-nope-v0")
    with pytest.raises(LookupError, match="llvm-autophase-ic-v0"):
        compiler_gym.make("llvm-nope-v0")
    with pytest.raises(OptgymError, match="gRPC service"):
        compiler_gym.make("llvm-v0", service="localhost:5000")
    # The service's tuning is accepted (CompilerGym's env_from_flags passes it) and unused.
    compiler_gym.make("llvm-v0", benchmark=SMALL, connection_settings=object()).close()


def test_assigning_spaces_changes_what_step_returns(env):
    env.reset()
    env.observation_space = "InstCount"
    env.reward_space = "IrInstructionCount"
    before = int(env.observation["IrInstructionCount"])
    obs, reward, _, _ = env.step(env.action_space["-mem2reg"])
    assert obs.shape == (70,) and obs[0] == env.observation["IrInstructionCount"]
    assert reward == before - obs[0] and reward > 1  # a count, not a fraction of -Oz's gain
    env.observation_space = None
    assert env.step(env.action_space["-sroa"])[0] is None


def test_step_lists_multistep_and_per_step_spaces(env):
    env.reset()
    one = env.action_space["-mem2reg"]
    two = env.action_space["-gvn"]
    obs, rewards, done, _ = env.step([one, two], observation_spaces=["IrInstructionCount", "Ir"],
                                     reward_spaces=["IrInstructionCount"])
    assert env.actions == [one, two] and not done
    assert isinstance(obs, list) and int(obs[0]) == env.observation["IrInstructionCount"]
    assert "define" in obs[1] and rewards[0] > 0
    env.multistep([env.action_space["-sroa"]])
    assert env.actions == [one, two, env.action_space["-sroa"]]


def test_action_space_names_flags_and_strings(env):
    space = env.action_space
    assert space.n == 117 and space.flags[space["-mem2reg"]] == "-mem2reg"
    assert space.names.index("-sroa") == space["-sroa"]
    text = space.to_string([space["-mem2reg"], space["-gvn"]])
    assert text == "opt -mem2reg -gvn input.bc -o output.bc"
    assert space.from_string(text) == [space["-mem2reg"], space["-gvn"]]
    with pytest.raises(OptgymError, match="-prune-eh.*LLVM 16"):
        space.from_string("opt -prune-eh input.bc -o output.bc")


def test_datasets_view():
    env = compiler_gym.make("llvm-v0")
    try:
        builtin = env.datasets["builtin-v0"]
        assert builtin.name == "benchmark://builtin-v0"
        assert len(builtin) == 64 == len(list(builtin.benchmark_uris()))
        assert next(iter(builtin.benchmarks())).uri.startswith("benchmark://builtin-v0/")
        assert env.datasets["benchmark://builtin-v0"].name == builtin.name
        csmith = env.datasets["generator://csmith-v0"]
        assert len(csmith) == 2**32
        assert next(iter(csmith.benchmark_uris())) == "generator://csmith-v0/0"
        assert "builtin-v0" in env.datasets and "nope-v0" not in env.datasets
        names = [d.name for d in env.datasets]
        assert "benchmark://builtin-v0" in names and "generator://csmith-v0" in names
        assert env.datasets.benchmark("builtin-v0/crc32").uri == "benchmark://builtin-v0/crc32"
        drawn = env.datasets.random_benchmark(np.random.default_rng(0))
        assert "://" in drawn.uri
    finally:
        env.close()


@pytest.mark.parametrize("uri, expected", [
    ("benchmark://builtin-v0/crc32", "benchmark://builtin-v0/crc32"),
    ("builtin-v0/crc32", "benchmark://builtin-v0/crc32"),
    ("benchmark://csmith-v0/42", "generator://csmith-v0/42"),
    ("generator://csmith-v0/42", "generator://csmith-v0/42"),
])
def test_compilergym_uri_forms(uri, expected):
    assert compiler_gym.resolve_uri(uri) == expected


def test_unknown_benchmark_is_a_clear_error(env):
    with pytest.raises(BenchmarkError, match="nope-v0"):
        env.reset(benchmark="nope-v0/x")


def test_module_files_versions_and_times(env, tmp_path):
    env.reset()
    env.step(env.action_space["-mem2reg"])
    assert env.write_bitcode(tmp_path / "out.bc").read_bytes()[:4] == b"BC\xc0\xde"
    ir = env.write_ir(tmp_path / "out.ll").read_text()
    assert ir == env.ir and "define" in ir and len(env.ir_sha1) == 40
    assert "19." in env.compiler_version
    assert env.episode_walltime > 0
    first = env.episode_walltime
    assert env.episode_walltime >= first
    assert env.in_episode and env.version


def test_programl_as_networkx_and_json(env):
    env.reset()
    graph = env.observation["Programl"]
    assert isinstance(graph, nx.MultiDiGraph)
    instructions = sum(1 for _, d in graph.nodes(data=True) if d["type"] == 0)
    assert instructions > int(env.observation["IrInstructionCount"])  # plus root, declarations
    doc = env.observation["ProgramlJson"]
    assert len(doc["nodes"]) == graph.number_of_nodes()
    assert len(doc["links"]) == graph.number_of_edges()
    env.observation_space = "Programl"
    obs, *_ = env.step(env.action_space["-mem2reg"])
    assert isinstance(obs, nx.MultiDiGraph) and obs.number_of_nodes() < graph.number_of_nodes()


def test_spec_ids_and_reward_flags(env):
    assert env.observation_space_spec.id == "Autophase"
    assert env.observation.spaces["InstCount"].id == "InstCount"
    assert env.reward_space.deterministic and not env.reward_space.platform_dependent
    assert env.reward.spaces["ObjectTextSizeOz"].platform_dependent


def test_benchmark_setter_applies_at_next_reset(env):
    env.reset()
    with pytest.warns(UserWarning, match="no effect until reset"):
        env.benchmark = "builtin-v0/crc32"
    assert env.benchmark == SMALL  # this episode's, until the next reset (CompilerGym's rule)
    env.reset()
    assert env.benchmark == "benchmark://builtin-v0/crc32"
    env.reset()  # stays on it, as in CompilerGym
    assert env.benchmark.uri == "benchmark://builtin-v0/crc32"
    with pytest.raises(TypeError, match="Expected a Benchmark instance, received: 'int'"):
        env.benchmark = 10
    env.benchmark = None  # unset: each reset draws one from the dataset
    drawn = {str(env.reset() is not None and env.benchmark) for _ in range(6)}
    assert len(drawn) > 1


def test_make_benchmark_from_a_c_file(env, tmp_path):
    source = tmp_path / "tiny.c"
    source.write_text("int f(int x) { int y = x * 2; return y + 1; }\n")
    benchmark = env.make_benchmark(source)
    env.reset(benchmark=benchmark)
    assert env.benchmark.uri == benchmark.uri and int(env.observation["IrInstructionCount"]) > 0


def test_action_space_subset_through_make():
    env = compiler_gym.make("llvm-ic-v0", benchmark=SMALL, action_space=["-sroa", "-gvn"])
    try:
        assert env.action_space.flags == ["-sroa", "-gvn"] and env.action_space.n == 2
        env.reset()
        _, reward, _, _ = env.step(0)
        assert reward > 0 and env.action_space.to_string(env.actions) == \
            "opt -sroa input.bc -o output.bc"
    finally:
        env.close()
