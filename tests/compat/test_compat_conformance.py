"""CompilerGym's behaviour where its own tests pin it, in our words: the names its code
imports, scalar types, benchmarks that are their URIs, LookupErrors and warnings, rewards
asked per step, states and validation results by its fields, pickling, copies, derived
spaces, command lines, compile flags, and the same env handed to Gymnasium's tooling."""

from __future__ import annotations

import copy
import io
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from optgym import compat as compiler_gym
from optgym.compat.wrappers import ObservationWrapper, RewardWrapper, TimeLimit
from optgym.envs.llvm import CompilerEnvState

SMALL = "benchmark://builtin-v0/adler32_fletcher"


@pytest.fixture
def env():
    e = compiler_gym.make("llvm-v0", benchmark=SMALL)
    yield e
    e.close()


def test_compiler_gym_imports_by_its_own_names(tmp_path: Path) -> None:
    """`python -m optgym.compat` runs a script written for CompilerGym unchanged; the alias
    is not installed by importing optgym (a real CompilerGym is not shadowed)."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""\
        import gym
        import compiler_gym
        from compiler_gym.envs import CompilerEnv, LlvmEnv
        from compiler_gym.envs.llvm import make_benchmark
        from compiler_gym.datasets import Benchmark, Dataset, Datasets
        from compiler_gym.errors import BenchmarkInitError, SessionNotFound
        from compiler_gym.spaces import Commandline, Scalar
        from compiler_gym.util.flags.env_from_flags import env_from_flags
        from compiler_gym.util.timer import Timer
        from compiler_gym.util.shell_format import emph
        from compiler_gym.util.capture_output import capture_output
        from compiler_gym.wrappers import TimeLimit
        from compiler_gym import CompilerEnvState, CompilerEnvStateWriter
        env = gym.make("llvm-ic-v0", benchmark="builtin-v0/crc32")
        assert isinstance(env, LlvmEnv) and isinstance(env, CompilerEnv)
        with Timer() as t:
            env.reset()
            _, reward, done, info = env.step(env.action_space["-mem2reg"])
        print(type(reward).__name__, done, env.benchmark == "benchmark://builtin-v0/crc32")
        env.close()
        """))
    out = subprocess.run([sys.executable, "-m", "optgym.compat", str(script)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["float", "False", "True"]
    plain = subprocess.run([sys.executable, "-c", "import optgym.compat, compiler_gym"],
                           capture_output=True, text=True, timeout=120)
    assert "No module named 'compiler_gym'" in plain.stderr


def test_scalars_benchmarks_and_lookup_errors(env) -> None:
    env.reset()
    count = env.observation["IrInstructionCount"]
    assert type(count) is int and env.observation.IrInstructionCount() == count
    assert env.benchmark == SMALL and env.benchmark in {SMALL}
    assert json.loads(json.dumps({"b": env.benchmark}))["b"] == SMALL
    for bad in ("builtin-v0/nope", "nope-v0/x"):
        with pytest.raises(LookupError):
            env.reset(benchmark=bad)
    with pytest.raises(LookupError, match="Observation space not found: Nope"):
        env.observation_space = "Nope"
    with pytest.raises(LookupError, match="Reward space not found: Nope"):
        env.reward_space = "Nope"
    with pytest.raises(KeyError):
        env.reward["Nope"]
    with pytest.raises(LookupError):
        env.action_space.from_string("-no-such-pass")
    assert env.action_space.from_string("-mem2reg -gvn") == \
        [env.action_space["-mem2reg"], env.action_space["-gvn"]]


def test_rewards_per_step_leave_the_episode_reward_alone(env) -> None:
    env.reward_space = "IrInstructionCountOz"
    env.reset()
    _, rewards, _, _ = env.step(env.action_space["-mem2reg"], reward_spaces=["IrInstructionCount"])
    assert rewards[0] > 0 and env.episode_reward == 0
    # The default reward counts from the benchmark: the unrequested step is not lost.
    _, reward, _, _ = env.step(env.action_space["-sroa"])
    o0, oz, now = (env.observation[n] for n in ("IrInstructionCountO0", "IrInstructionCountOz",
                                                 "IrInstructionCount"))
    assert reward == pytest.approx((o0 - now) / (o0 - oz)) == env.episode_reward


def test_fork_before_reset_copies_and_pickles(env) -> None:
    assert not env.in_episode
    with env.fork() as fork:
        assert env.in_episode and fork.in_episode
    env.step(env.action_space["-mem2reg"])
    with copy.deepcopy(env) as twin:
        assert twin.state == env.state and twin.actions == env.actions
    with pytest.raises(TypeError, match="shallow copies"):
        copy.copy(env)
    dataset = env.datasets["builtin-v0"]
    assert pickle.loads(pickle.dumps(dataset)) == dataset
    benchmark = pickle.loads(pickle.dumps(next(dataset.benchmarks())))
    assert benchmark == benchmark.core.uri and benchmark.core.bitcode[:2] == b"BC"


def test_derived_space_and_warnings(env) -> None:
    env.observation.add_derived_space(
        "IrLines", base_id="Ir", space=gym.spaces.Box(0, np.inf, shape=(), dtype=np.int64),
        translate=lambda ir: ir.count("\n"))
    env.observation_space = "IrLines"
    lines = env.reset()
    assert lines == env.observation["Ir"].count("\n") > 10
    with pytest.warns(UserWarning, match="no effect until reset"):
        env.benchmark = "builtin-v0/crc32"


def test_states_validation_results_and_csv(env, tmp_path: Path) -> None:
    a = CompilerEnvState("benchmark://x/y", "opt -mem2reg input.bc -o output.bc", 5, 2.0)
    assert a == CompilerEnvState(a.benchmark, a.commandline, 9, None)  # walltime, one reward
    assert a != CompilerEnvState(a.benchmark, a.commandline, 5, 3.0)
    assert CompilerEnvState(**json.loads(a.json())) == a
    buf = io.StringIO()
    compiler_gym.CompilerEnvStateWriter(buf).write_state(a)
    assert list(compiler_gym.CompilerEnvStateReader(io.StringIO(buf.getvalue()))) == [a]
    with pytest.raises(ValueError, match="Walltime cannot be negative"):
        CompilerEnvState("benchmark://x/y", "", -1)
    env.reward_space = "IrInstructionCount"
    env.reset()
    env.step(env.action_space["-mem2reg"])
    result = env.validate()
    assert result.okay() and result.reward_validated and result.benchmark_semantics_validated
    assert str(result) == f"✅  builtin-v0/adler32_fletcher  {env.episode_reward:.4f}"
    wrong = env.validate(CompilerEnvState(SMALL, env.state.commandline, 0, 1.0))
    assert wrong.reward_validation_failed and not wrong.okay()
    assert str(wrong).startswith("❌  builtin-v0/adler32_fletcher  Expected reward 1 but")


def test_wrappers_take_gymnasium_style_methods(env) -> None:
    class Hello(ObservationWrapper):
        def observation(self, observation):
            return "hello"

    class One(RewardWrapper):
        def reward(self, reward):
            return 1.0

    with pytest.raises(TypeError, match="convert_observation"):
        ObservationWrapper(env)
    wrapped = One(Hello(env))
    assert wrapped.reset() == "hello"
    observation, reward, _, _ = wrapped.step(0)
    assert (observation, reward) == ("hello", 1.0)
    # The base classes leave the names free: through a reward wrapper, env.observation is
    # still the env's view (a subclass that defines observation() shadows it, as in gym).
    assert wrapped.env.env.observation["IrInstructionCount"] > 0
    assert One(env).observation["IrInstructionCount"] > 0


def test_c_files_take_compile_flags(tmp_path: Path) -> None:
    """A MiBench-era file: K&R definitions and no prototypes; clang 19 rejects it without
    -std=gnu89, so make_benchmark(copt=...) and the plain env's URI form carry the flag."""
    source = tmp_path / "old.c"
    source.write_text("main() { return twice(21) - 42; }\n"
                      "twice(x) int x; { return x + x; }\n")
    env = compiler_gym.make("llvm-v0")
    benchmark = env.make_benchmark(source, copt=["-std=gnu89"])
    env.reset(benchmark=benchmark)
    assert env.benchmark == benchmark and env.observation["IrInstructionCount"] > 0
    env.close()
    plain = compiler_gym.make("llvm-v0", benchmark=f"file://{source}?copt=-std=gnu89")
    plain.reset()
    assert plain.benchmark.startswith("file://") and plain.validate().okay()
    plain.close()


def test_gymnasium_tooling_accepts_the_compat_env() -> None:
    """What compat.make returns works in Gymnasium's wrappers, vector envs and SB3: a reset
    with Gymnasium's keywords starts an episode that speaks Gymnasium's API."""
    from stable_baselines3.common.env_util import make_vec_env

    def make():
        return compiler_gym.make("llvm-autophase-ic-v0", benchmark=SMALL)

    env = gym.wrappers.TimeLimit(make(), max_episode_steps=2)
    obs, info = env.reset(seed=0)
    assert obs.shape == (56,) and info["benchmark"] == SMALL
    _, reward, terminated, truncated, _ = env.step(0)
    *_, truncated, _ = env.step(0)
    assert truncated and isinstance(reward, float)
    env.close()
    vector = gym.vector.SyncVectorEnv([make, make])
    obs, _ = vector.reset(seed=1)
    assert obs.shape == (2, 56) and vector.step(np.array([0, 1]))[0].shape == (2, 56)
    vector.close()
    venv = make_vec_env(make, n_envs=2)
    assert venv.reset().shape == (2, 56)
    assert venv.step(np.array([0, 0]))[1].shape == (2,)
    venv.close()
    compat = TimeLimit(make(), max_episode_steps=3)  # CompilerGym's call keeps its API
    assert compat.reset().shape == (56,) and len(compat.step(0)) == 4
    compat.close()
