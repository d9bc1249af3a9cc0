"""optgym.wrappers: CompilerGym's wrappers, pinned to the behaviour CompilerGym's own tests
pinned, under CompilerGym's API and composed with Gymnasium's wrappers under Gymnasium's."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from optgym import compat as compiler_gym
from optgym.compat.wrappers import (
    ActionWrapper,
    CommandlineWithTerminalAction,
    ConstrainedCommandline,
    CycleOverBenchmarks,
    ForkOnStep,
    IterateOverBenchmarks,
    ObservationWrapper,
    RandomOrderBenchmarks,
    RewardWrapper,
    TimeLimit,
)
from optgym.errors import OptgymError

A = "benchmark://builtin-v0/adler32_fletcher"
B = "benchmark://builtin-v0/crc32"
C = "benchmark://builtin-v0/bit_tricks"


@pytest.fixture
def env():
    e = compiler_gym.make("llvm-ic-v0", benchmark=A)
    yield e
    e.close()


def test_time_limit_ends_episodes_and_forks_keep_the_count(env):
    env = TimeLimit(env, max_episode_steps=3)
    env.reset()
    _, _, done, info = env.step(0)
    assert not done and "TimeLimit.truncated" not in info
    _, _, done, _ = env.step(0)
    fork = env.fork()
    _, _, done, info = env.step(0)
    assert done and info["TimeLimit.truncated"]
    _, _, done, _ = fork.step(0)  # the fork had taken two steps too
    assert done
    fork.close()
    env.reset()
    assert not env.step([0, 0])[2] and env.step(0)[2]  # a list counts each action


def test_iterate_over_benchmarks_then_stop(env):
    env = IterateOverBenchmarks(env, benchmarks=[A, B])
    env.reset()
    assert env.benchmark.uri == A
    env.reset()
    assert env.benchmark.uri == B
    with pytest.raises(StopIteration):
        env.reset()
    with pytest.raises(TypeError, match="takes none"):
        env.reset(benchmark=A)


def test_cycle_over_benchmarks_and_forks(env):
    env = CycleOverBenchmarks(env, benchmarks=[A, B, C])
    env.reset()
    fork = env.fork()  # an independent copy of what is left to iterate
    seen = []
    for _ in range(4):
        env.reset()
        seen.append(env.benchmark.uri)
    assert seen == [B, C, A, B]
    fork.reset()
    assert fork.benchmark.uri == B
    fork.close()
    shared = CycleOverBenchmarks(env.env, [A, B], fork_shares_iterator=True)
    shared.reset()
    other = shared.fork()
    other.reset()  # advances the shared iterator
    shared.reset()
    assert (other.benchmark.uri, shared.benchmark.uri) == (B, A)
    other.close()


def test_random_order_benchmarks_draws_from_the_list(env):
    env = RandomOrderBenchmarks(env, benchmarks=[A, B], rng=np.random.default_rng(0))
    seen = set()
    for _ in range(8):
        env.reset()
        seen.add(env.benchmark.uri)
    assert seen == {A, B}
    fork = env.fork()
    fork.reset()
    assert fork.benchmark.uri in (A, B)
    fork.close()


def test_constrained_commandline_translates_both_ways(env):
    env = ConstrainedCommandline(env, flags=["-mem2reg", "-gvn", "-sroa"])
    assert env.action_space.n == 3 and env.action_space.flags == ["-mem2reg", "-gvn", "-sroa"]
    env.reset()
    env.step(1)
    env.step([0, 2])
    inner = env.env.action_space
    assert env.env.actions == [inner["-gvn"], inner["-mem2reg"], inner["-sroa"]]
    assert env.actions == [1, 0, 2]
    assert env.reverse_action(inner["-sroa"]) == 2 and env.action([0, 1]) == \
        [inner["-mem2reg"], inner["-gvn"]]
    fork = env.fork()
    assert fork.actions == [1, 0, 2] and fork.action_space.flags == env.action_space.flags
    fork.close()
    with pytest.raises(TypeError):
        ConstrainedCommandline(env.env, flags=[])
    with pytest.raises(OptgymError, match="-prune-eh has no LLVM 19"):
        ConstrainedCommandline(env.env, flags=["-mem2reg", "-prune-eh"])


def test_terminal_action_ends_the_episode(env):
    env = CommandlineWithTerminalAction(env)
    assert env.action_space.n == 118 and env.action_space.flags[-1] == "# end-of-episode"
    env.reset()
    _, _, done, _ = env.step(env.action_space["-mem2reg"])
    assert not done
    _, _, done, info = env.step([env.action_space["-gvn"], 117, env.action_space["-sroa"]])
    assert done and info["terminal_action"]
    assert env.actions == [env.action_space["-mem2reg"], env.action_space["-gvn"]]


def test_fork_on_step_undo(env):
    env = ForkOnStep(env)
    env.reset()
    env.step(env.action_space["-mem2reg"])
    count = int(env.observation["IrInstructionCount"])
    env.step(env.action_space["-gvn"])
    assert len(env.stack) == 2 and len(env.actions) == 2
    env.undo()
    assert env.actions == [env.action_space["-mem2reg"]]
    assert int(env.observation["IrInstructionCount"]) == count
    env.reset()
    assert env.stack == [] and env.actions == []
    with pytest.raises(NotImplementedError):
        env.fork()
    with pytest.raises(TypeError, match="fork"):
        ForkOnStep(gym.make("optgym/llvm-ic-v0", benchmark=A))


class Doubled(RewardWrapper):
    def convert_reward(self, reward):
        return 2 * reward


class Normalized(ObservationWrapper):
    """CompilerGym's llvm_rl example: Autophase divided by its instruction count, in [0, 1]."""

    def __init__(self, env):
        super().__init__(env)
        self.env.observation_space = self.env.unwrapped.observation.spaces["Autophase"]
        self.env.observation_space_spec.space = gym.spaces.Box(0, 1, (56,), np.float32)

    def convert_observation(self, observation):
        total = np.float32(max(observation[51], 1))
        return np.clip(observation.astype(np.float32) / total, 0, 1)


class Reversed(ActionWrapper):
    def action(self, action):
        return self.env.action_space.n - 1 - action


def test_base_wrappers_transform_and_keep_episode_reward(env):
    env = Reversed(Normalized(Doubled(env)))
    assert env.observation_space == gym.spaces.Box(0, 1, (56,), np.float32)
    obs = env.reset()
    assert obs.dtype == np.float32 and obs.max() <= 1
    mem2reg = env.action_space["-mem2reg"]
    _, reward, _, _ = env.step(env.action_space.n - 1 - mem2reg)
    assert env.unwrapped.actions == [mem2reg]
    assert reward > 0 and env.episode_reward == pytest.approx(reward)
    o0, oz, now = (int(env.observation[n]) for n in (
        "IrInstructionCountO0", "IrInstructionCountOz", "IrInstructionCount"))
    assert reward == pytest.approx(2 * (o0 - now) / (o0 - oz))


def test_composes_with_gymnasium_wrappers():
    # Gymnasium's API all the way: optgym's wrappers between Gymnasium's own.
    env = gym.wrappers.RecordEpisodeStatistics(
        TimeLimit(CycleOverBenchmarks(
            gym.wrappers.TransformReward(gym.make("optgym/llvm-ic-v0"), lambda r: 10 * r),
            [A, B]), max_episode_steps=2))
    for expected in (A, B):
        _, info = env.reset()
        assert info["benchmark"] == expected
        _, _, terminated, truncated, _ = env.step(0)
        assert not (terminated or truncated)
        *_, truncated, info = env.step(0)
        assert truncated and info["episode"]["l"] == 2
    env.close()


def test_gymnasium_api_constrained_and_terminal():
    env = CommandlineWithTerminalAction(ConstrainedCommandline(
        gym.make("optgym/llvm-ic-v0", benchmark=A), ["-mem2reg", "-gvn"]))
    env.reset()
    obs, reward, terminated, truncated, _ = env.step(0)
    assert obs.shape == (70,) and reward > 0 and not terminated
    *_, terminated, truncated, info = env.step(2)
    assert terminated and info["terminal_action"]
    assert env.unwrapped.actions_taken == ["function(mem2reg)"]
    env.close()
