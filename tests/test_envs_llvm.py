"""The pass-ordering environments on real benchmarks, with the real opt-19 as referee."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import optgym  # noqa: F401 - registers the environments
from optgym.envs.llvm import CompilerEnvState, LlvmEnv, TranspositionCache
from optgym.envs.llvm.spaces import OBSERVATION_SPECS
from optgym.errors import BenchmarkError, PassTimeout

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
    assert env.observation["IrInstructionCount"] == env.observation["IrInstructionCountOz"]
    env.close()


def test_rewards_follow_their_definitions(env):
    env.reset()
    o0 = int(env.observation["IrInstructionCountO0"])
    oz = int(env.observation["IrInstructionCountOz"])
    o3 = int(env.observation["IrInstructionCountO3"])
    _, reward, *_ = env.step(env.actions.index("-mem2reg"))
    now = int(env.observation["IrInstructionCount"])
    assert reward == pytest.approx((o0 - now) / (o0 - oz))
    # Other reward spaces on demand: change since the start (first ask) ...
    assert env.reward["IrInstructionCount"] == o0 - now
    assert env.reward["IrInstructionCountO3"] == pytest.approx((o0 - now) / max(o0 - o3, 1))
    assert env.reward["IrInstructionCountNorm"] == pytest.approx((o0 - now) / o0)
    # ... then since they were last asked.
    assert env.reward["IrInstructionCount"] == 0
    env.step(env.actions.index("-sroa"))
    env.step(env.actions.index("-instcombine"))
    after = int(env.observation["IrInstructionCount"])
    assert env.reward["IrInstructionCount"] == now - after


def test_every_observation_space(env):
    env.reset()
    env.step(env.actions.index("-mem2reg"))
    for name, spec in OBSERVATION_SPECS.items():
        if name in ("Runtime", "Programl", "Bitcode"):
            continue  # Runtime and Programl have their own tests; Bitcode is checked below
        assert spec.space.contains(env.observation[name]), name
    assert env.observation["Bitcode"][:4] == b"BC\xc0\xde"
    assert env.observation["InstCount"][0] == env.observation["IrInstructionCount"]
    assert env.observation["Autophase"][51] == env.observation["IrInstructionCount"]
    assert env.observation["InstCountDict"]["TotalInsts"] == env.observation["IrInstructionCount"]
    assert env.observation["ObjectTextSizeBytes"] > 0
    assert env.observation["IsRunnable"] == 1
    with open(env.observation["BitcodeFile"], "rb") as f:
        assert f.read(4) == b"BC\xc0\xde"
    assert "define" in env.observation["Ir"]


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
    assert child.observation["IrInstructionCount"] < env.observation["IrInstructionCount"]
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
    assert result.instruction_count == env.observation["IrInstructionCount"]
    assert result.output_checked
    count = env.observation["IrInstructionCount"]
    env.reset()
    env.apply(state)
    assert env.observation["IrInstructionCount"] == count
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


def test_transposition_cache_gives_identical_episodes(tmp_path):
    rng = np.random.default_rng(0)
    actions = [int(a) for a in rng.integers(0, 117, size=25)]
    plain = LlvmEnv(SMALL, observation_space="IrInstructionCount")
    cache = TranspositionCache(path=tmp_path / "tt.sqlite")
    cached = LlvmEnv(SMALL, observation_space="IrInstructionCount", transposition_cache=cache)
    for env in (plain, cached):
        env.reset()
    for a in actions:
        a1 = plain.step(a)
        a2 = cached.step(a)
        assert a1[0] == a2[0] and a1[1] == pytest.approx(a2[1])
    assert cache.misses > 0 and cache.hits == 0
    cached.reset()
    for a in actions:
        cached.step(a)  # every transition is known now: no LLVM work until an observation asks
    assert cache.hits == len(actions)
    assert len(cached._pending) == len(actions)
    assert cached.observation["Autophase"][51] == plain.observation["IrInstructionCount"]
    cached.close()
    reopened = TranspositionCache(path=tmp_path / "tt.sqlite")
    env = LlvmEnv(SMALL, observation_space="IrInstructionCount", transposition_cache=reopened)
    env.reset()
    env.step(actions[0])
    assert reopened.hits == 1
    env.close()
    plain.close()


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
    # -gvn on the largest builtin program takes about 20 ms; the worker is given 0.1 ms (plus
    # the 0.3 ms it spins before blocking), so the time-out fires on any machine.
    env = LlvmEnv("benchmark://builtin-v0/interp_ast", observation_space="IrInstructionCount")
    env.reset()
    env.session.timeout = 0.0001
    obs, reward, terminated, truncated, info = env.step(env.actions.index("-gvn"))
    env.session.timeout = 60
    assert isinstance(info["error"], PassTimeout) and "time-out" in str(info["error"])
    assert terminated and not truncated and reward == 0.0
    assert obs == env.observation["IrInstructionCountO0"]  # the module is as it was
    obs, _ = env.reset()
    assert obs == env.observation["IrInstructionCountO0"]
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
    count = int(env.observation["IrInstructionCount"])
    # Instruction-type nodes (type 0): every instruction, plus ProGraML's root node and one
    # node per declared function, which mem2reg leaves alone.
    extra = int((obs.nodes[:, 0] == 0).sum()) - count
    assert 1 <= extra < 10
    obs, *_ = env.step(env.actions.index("-mem2reg"))
    after = int(env.observation["IrInstructionCount"])
    assert after < count and int((obs.nodes[:, 0] == 0).sum()) == after + extra
    check_env(env, skip_render_check=True)
    env.close()


def test_sibling_shares_the_worker_and_outlives_its_parent():
    parent = LlvmEnv(SMALL)
    parent.reset()
    sibling = parent.sibling(observation_space=None, reward_space="IrInstructionCount")
    assert sibling.session is parent.session and sibling.observation_space_spec is None
    parent.close()
    sibling.reset()
    _, reward, *_ = sibling.step(sibling.actions.index("-mem2reg"))
    assert reward > 0  # instructions removed, on the worker the parent started
    sibling.close()
