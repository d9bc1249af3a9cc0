"""The pass-ordering environments on real benchmarks, with the real opt-19 as referee."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import optgym  # noqa: F401 - registers the environments
from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.spaces import OBSERVATION_SPECS
from optgym.errors import ArgumentKindError, BenchmarkError, OptgymError, PassTimeout

CRC = "benchmark://builtin-v0/crc32"
SMALL = "benchmark://builtin-v0/adler32_fletcher"


@pytest.fixture
def env():
    e = LlvmEnv(CRC, observation_space="Autophase", reward_space="IrInstructionCountOz")
    yield e
    e.close()


@pytest.mark.parametrize(
    "env_id",
    ["optgym/llvm-v0", "optgym/llvm-ic-v0", "optgym/llvm-autophase-ic-v0",
     "optgym/llvm-codesize-v0", "optgym/llvm-pipelines-ic-v0", "optgym/llvm-safe-ic-v0"],
)
def test_check_env(env_id):
    env = gym.make(env_id, benchmark=SMALL)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


def test_truncation_after_max_episode_steps():
    env = gym.make("optgym/llvm-ic-v0", benchmark=SMALL, max_episode_steps=3)
    env.reset(seed=1)
    truncated = [env.step(env.action_space.sample())[3] for _ in range(3)]
    assert truncated == [False, False, True]
    env.close()


def test_random_benchmarks_are_seeded():
    env = LlvmEnv(dataset="builtin-v0", split="test")
    firsts = [env.reset(seed=7)[1]["benchmark"] for _ in range(2)]
    assert firsts[0] == firsts[1]
    from optgym.datasets import get_dataset

    assert firsts[0] in get_dataset("builtin-v0").benchmark_uris("test")
    env.close()


def test_oz_reward_sums_to_one_at_oz():
    env = LlvmEnv(SMALL, action_space="flags-pipelines-v0", reward_space="IrInstructionCountOz")
    env.reset()
    _, reward, *_ = env.step(env.actions.index("-Oz"))
    assert reward == pytest.approx(1.0)
    assert env.observe("IrInstructionCount") == env.observe("IrInstructionCountOz")
    env.close()


def test_rewards_follow_their_definitions(env):
    env.reset()
    o0 = int(env.observe("IrInstructionCountO0"))
    oz = int(env.observe("IrInstructionCountOz"))
    o3 = int(env.observe("IrInstructionCountO3"))
    _, reward, *_ = env.step(env.actions.index("-mem2reg"))
    now = int(env.observe("IrInstructionCount"))
    assert reward == pytest.approx((o0 - now) / (o0 - oz))
    _, reward, *_ = env.step(env.actions.index("-sroa"))
    after = int(env.observe("IrInstructionCount"))
    assert reward == pytest.approx((now - after) / (o0 - oz))
    assert env.episode_reward == pytest.approx((o0 - after) / (o0 - oz))
    for name, scale in (("IrInstructionCount", 1), ("IrInstructionCountO3", max(o0 - o3, 1)),
                        ("IrInstructionCountNorm", o0)):
        other = LlvmEnv(CRC, observation_space=None, reward_space=name)
        other.reset()
        _, got, *_ = other.step(other.actions.index("-mem2reg"))
        assert got == pytest.approx((o0 - now) / scale), name
        other.close()


def test_spaces_are_fixed_at_construction(env):
    """A plain Gymnasium env: assigning a space by name is CompilerGym's (optgym.compat), and
    a silent no-op here would be worse than an error."""
    assert env.observation_space.shape == (56,) and env.reward_space.name == "IrInstructionCountOz"
    with pytest.raises(ArgumentKindError, match="fixed at construction.*optgym.compat"):
        env.observation_space = "InstCount"
    with pytest.raises(ArgumentKindError, match="fixed at construction"):
        env.reward_space = "IrInstructionCount"
    assert env.observation_space.shape == (56,)
    with pytest.raises(LookupError, match="unknown observation space 'Nope'"):
        LlvmEnv(CRC, observation_space="Nope")
    with pytest.raises(OptgymError, match="unknown reward space"):
        LlvmEnv(CRC, reward_space="Nope")


def test_apply_action_steps_without_reward_and_observe_reads_the_reply(env):
    env.reset()
    o0 = int(env.observe("IrInstructionCount"))
    assert env.apply_action(env.actions.index("-mem2reg"), ("IrInstructionCount", "IrHash"))
    assert env.episode_reward == 0.0 and env.actions_taken == ["function(mem2reg)"]
    digest = env.observe("IrHash")
    _, reward, *_ = env.step(env.actions.index("-sroa"))
    now = int(env.observe("IrInstructionCount"))
    # The step's reward counts from the benchmark: apply_action's change included.
    assert env.episode_reward == pytest.approx(reward)
    oz = int(env.observe("IrInstructionCountOz"))
    assert reward == pytest.approx((o0 - now) / (o0 - oz))
    assert isinstance(digest, str) and len(digest) == 32
    with pytest.raises(OptgymError, match="reset"):
        LlvmEnv(CRC).observe("Ir")


def test_c_file_compile_flags_in_the_uri(tmp_path):
    """A C file that needs flags (here, a K&R-era implicit declaration) loads with
    ``?copt=``, and the flags are part of the URI, so a result names its module."""
    source = tmp_path / "old.c"
    source.write_text("int main(void) { return twice(3) - 6; }\n"
                      "int twice(int x) { return 2 * x; }\n")
    env = LlvmEnv(observation_space=None)
    with pytest.raises(BenchmarkError, match="twice"):
        env.reset(options={"benchmark": f"file://{source}"})  # C99: an error in clang 19
    uri = f"file://{source}?copt=-std=gnu89&copt=-Wno-implicit-function-declaration"
    env.reset(options={"benchmark": uri})
    assert env.benchmark.uri.endswith("?copt=-std%3Dgnu89&copt=-Wno-implicit-function-declaration")
    env.step(env.actions.index("-mem2reg"))
    assert env.validate().ok  # replayed from the URI alone, program run and compared
    with pytest.raises(BenchmarkError, match="unknown URI parameter 'cflags'"):
        env.reset(options={"benchmark": f"file://{source}?cflags=-O2"})
    env.close()


def test_every_observation_space(env):
    env.reset()
    env.step(env.actions.index("-mem2reg"))
    for name, spec in OBSERVATION_SPECS.items():
        if name in ("Runtime", "Programl", "Bitcode"):
            continue  # Runtime and Programl have their own tests; Bitcode is checked below
        assert spec.space.contains(env.observe(name)), name
    assert env.observe("Bitcode")[:4] == b"BC\xc0\xde"
    assert env.observe("InstCount")[0] == env.observe("IrInstructionCount")
    assert env.observe("Autophase")[51] == env.observe("IrInstructionCount")
    assert env.observe("InstCountDict")["TotalInsts"] == env.observe("IrInstructionCount")
    assert env.observe("ObjectTextSizeBytes") > 0
    assert env.observe("IsRunnable") == 1
    with open(env.observe("BitcodeFile"), "rb") as f:
        assert f.read(4) == b"BC\xc0\xde"
    assert "define" in env.observe("Ir")


def test_runtime_observation_and_reward():
    env = LlvmEnv(SMALL, observation_space="Runtime", reward_space="RuntimeO3",
                  runtimes_per_observation=1)
    obs, _ = env.reset()
    assert 0 < obs < 60  # seconds of a real run of the built program
    _, reward, *_ = env.step(env.actions.index("-mem2reg"))
    # Two runs of different binaries never take exactly the same time; a reward of exactly 0
    # would mean the step's runtime was not measured.
    assert np.isfinite(reward) and reward != 0.0
    env.close()
    # A program that cannot run has no runtime, and the error names it.
    stress = "generator://llvm-stress-v0/0"
    env = LlvmEnv(stress, observation_space="Runtime")
    with pytest.raises(BenchmarkError, match="llvm-stress-v0/0 is not runnable"):
        env.reset()
    env.close()


def test_fork_is_independent(env):
    env.reset()
    env.step(env.actions.index("-mem2reg"))
    child = env.fork()
    child.step(env.actions.index("-instcombine"))
    assert child.observe("IrInstructionCount") < env.observe("IrInstructionCount")
    assert len(child.actions_taken) == 2 and len(env.actions_taken) == 1
    child.close()
    env.step(env.actions.index("-sroa"))  # the parent still works after its fork closed


def test_state_commandline_validate_and_apply(env):
    env.reset()
    for flag in ("-mem2reg", "-licm", "-early-cse-memssa", "-simplifycfg", "-inline"):
        env.step(env.actions.index(flag))
    state = env.state
    assert state.commandline.startswith("opt-19 --relocation-model=pic -passes=")
    assert "invalidate<all>" in state.commandline
    result = env.validate()
    assert result.ok, result.errors
    assert result.instruction_count == env.observe("IrInstructionCount")
    assert result.output_checked
    count = env.observe("IrInstructionCount")
    env.reset()
    env.apply(state)
    assert env.observe("IrInstructionCount") == count
    assert env.episode_reward == pytest.approx(state.reward)
    row = dict(zip(CompilerEnvState.CSV_HEADER, state.to_csv_row(), strict=True))
    assert CompilerEnvState.from_csv_row(row) == state


def test_validate_refuses_tampered_states(env):
    env.reset()
    env.step(env.actions.index("-mem2reg"))
    state = env.state
    forged = CompilerEnvState(state.benchmark, state.commandline, state.walltime, state.reward + 0.5)
    assert not env.validate(forged).ok
    assert "not reproduced" in str(env.validate(forged))
    bad_pass = CompilerEnvState(state.benchmark, "opt-19 --relocation-model=pic -passes=no-such-pass input.bc -o output.bc")
    assert not env.validate(bad_pass).ok


def test_no_effect_step_is_reported(env):
    env.reset()
    env.step(env.actions.index("-mem2reg"))
    *_, info = env.step(env.actions.index("-mem2reg"))
    assert info["action_had_no_effect"]


def test_bad_actions_raise_value_error(env):
    env.reset()
    for bad in (-1, 117, 3.5, "mem2reg", None):
        with pytest.raises(ValueError, match="action"):
            env.step(bad)


def test_unknown_benchmark_names_known_datasets(env):
    with pytest.raises(BenchmarkError, match="builtin-v0"):
        env.reset(options={"benchmark": "benchmark://nope-v0/x"})


def test_unparsable_benchmark_gives_llvm_message(tmp_path):
    bad = tmp_path / "bad.ll"
    bad.write_text("define i32 @f( {\n")
    env = LlvmEnv(f"file://{bad}")
    with pytest.raises(BenchmarkError, match="bad.ll"):
        env.reset()
    env.close()


def test_pass_timeout_ends_episode_and_env_recovers():
    # -gvn on the largest builtin program takes about 20 ms; the worker is given 0.1 ms, so
    # the time-out fires on any machine.
    env = LlvmEnv("benchmark://builtin-v0/interp_ast", observation_space="IrInstructionCount")
    env.reset()
    env.session.timeout = 0.0001
    obs, reward, terminated, truncated, info = env.step(env.actions.index("-gvn"))
    env.session.timeout = 60
    assert isinstance(info["error"], PassTimeout) and "time-out" in str(info["error"])
    assert terminated and not truncated and reward == 0.0
    assert obs == env.observe("IrInstructionCountO0")  # the module is as it was
    obs, _ = env.reset()
    assert obs == env.observe("IrInstructionCountO0")
    _, reward, _, _, info = env.step(env.actions.index("-mem2reg"))
    assert "error" not in info and reward > 0
    env.close()


def test_async_vector_env():
    envs = gym.vector.AsyncVectorEnv(
        [lambda: gym.make("optgym/llvm-autophase-ic-v0", benchmark=SMALL)] * 2
    )
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 56)
    obs, rewards, *_ = envs.step(np.array([envs.single_action_space.sample()] * 2))
    assert rewards.shape == (2,)
    envs.close()


def test_sb3_subproc_vec_env():
    from stable_baselines3.common.vec_env import SubprocVecEnv

    venv = SubprocVecEnv(
        [lambda: gym.make("optgym:optgym/llvm-autophase-ic-v0", benchmark=SMALL)] * 2
    )
    obs = venv.reset()
    assert obs.shape == (2, 56)
    ref = LlvmEnv(SMALL, observation_space="Autophase", reward_space="IrInstructionCountOz")
    actions = [ref.actions.index("-mem2reg"), ref.actions.index("-licm")]
    expected = []
    for action in actions:  # what each subprocess env must return for its action
        ref.reset()
        ref_obs, ref_reward, ref_done, _, _ = ref.step(action)
        expected.append((ref_obs, ref_reward, ref_done))
    ref.close()
    obs, rewards, dones, infos = venv.step(np.array(actions))
    venv.close()
    assert obs.shape == (2, 56) and rewards.shape == (2,) and len(infos) == 2
    for i, (ref_obs, ref_reward, ref_done) in enumerate(expected):
        assert np.array_equal(obs[i], ref_obs)
        assert rewards[i] == pytest.approx(ref_reward) and dones[i] == ref_done
    assert rewards[0] > 0  # mem2reg shrinks a -O0 module


def test_programl_observation():
    env = LlvmEnv(SMALL, observation_space="Programl")
    obs, _ = env.reset()
    assert env.observation_space.contains(obs)
    count = int(env.observe("IrInstructionCount"))
    # Instruction-type nodes (type 0): every instruction, plus ProGraML's root node and one
    # node per declared function, which mem2reg leaves alone.
    extra = int((obs.nodes[:, 0] == 0).sum()) - count
    assert 1 <= extra < 10
    obs, *_ = env.step(env.actions.index("-mem2reg"))
    after = int(env.observe("IrInstructionCount"))
    assert after < count and int((obs.nodes[:, 0] == 0).sum()) == after + extra
    check_env(env, skip_render_check=True)
    env.close()


def test_sibling_shares_the_worker_and_outlives_its_parent():
    parent = LlvmEnv(SMALL)
    parent.reset()
    sibling = parent.sibling(observation_space=None, reward_space="IrInstructionCount")
    assert sibling.session is parent.session and sibling.observation_spec is None
    parent.close()
    sibling.reset()
    _, reward, *_ = sibling.step(sibling.actions.index("-mem2reg"))
    assert reward > 0  # instructions removed, on the worker the parent started
    sibling.close()
