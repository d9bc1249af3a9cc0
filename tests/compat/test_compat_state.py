"""States, command lines, apply and validate: CompilerGym's command lines load through the pass
table, nothing on them is silently dropped, and replays are checked by the real opt-19."""

from __future__ import annotations

import gymnasium as gym
import pytest

from optgym import compat as compiler_gym
from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.state import pipeline_of
from optgym.errors import OptgymError

SMALL = "benchmark://builtin-v0/adler32_fletcher"


@pytest.fixture
def env():
    e = compiler_gym.make("llvm-ic-v0", benchmark=SMALL)
    yield e
    e.close()


def test_apply_a_compilergym_commandline_really_applies_it(env):
    # The silent no-op of issue 13: this line used to replay nothing and validate "reproduced".
    env.reset()
    o0 = int(env.observation["IrInstructionCount"])
    state = CompilerEnvState(SMALL, "opt -mem2reg -gvn input.bc -o output.bc")
    env.apply(state)
    assert env.actions == [env.action_space["-mem2reg"], env.action_space["-gvn"]]
    assert int(env.observation["IrInstructionCount"]) < o0
    by_hand = compiler_gym.make("llvm-ic-v0", benchmark=SMALL)
    by_hand.reset()
    by_hand.multistep([by_hand.action_space["-mem2reg"], by_hand.action_space["-gvn"]])
    assert env.observation["IrInstructionCount"] == by_hand.observation["IrInstructionCount"]
    assert env.episode_reward == pytest.approx(by_hand.episode_reward)
    by_hand.close()
    result = env.validate(CompilerEnvState(SMALL, state.commandline, 0.0, env.episode_reward))
    assert result.okay(), result.error_details
    wrong = env.validate(CompilerEnvState(SMALL, state.commandline, 0.0, env.episode_reward + 1))
    assert not wrong.okay() and wrong.reward_validation_failed
    assert wrong.error_details.startswith("Expected reward")


@pytest.mark.parametrize("line, message", [
    ("opt -mem2reg -prune-eh input.bc -o output.bc", "-prune-eh has no LLVM 19.*LLVM 16"),
    ("opt -mem2reg -no-such-pass input.bc -o output.bc", "unknown flag '-no-such-pass'"),
    ("opt -passes=mem2reg -gvn input.bc -o output.bc", "mixes -passes= with legacy flags"),
    ("opt -mem2reg -debug-pass=Structure input.bc -o output.bc", "not a pass flag"),
    ("clang -O2 x.c", "not an opt command line"),
])
def test_commandlines_with_anything_unreplayable_raise(env, line, message):
    env.reset()
    with pytest.raises(OptgymError, match=message):
        env.apply(CompilerEnvState(SMALL, line))
    with pytest.raises(OptgymError, match=message):
        pipeline_of(line)


def test_gymnasium_env_applies_compilergym_lines_too():
    env = LlvmEnv(SMALL, observation_space=None)
    env.apply(CompilerEnvState(SMALL, "opt -sroa -instcombine input.bc -o output.bc"))
    assert env.actions_taken == [env.actions[env.actions.index("-sroa")].pipeline,
                                 env.actions[env.actions.index("-instcombine")].pipeline]
    with pytest.raises(OptgymError, match="-constprop"):
        env.apply(CompilerEnvState(SMALL, "opt -constprop input.bc -o output.bc"))
    env.close()


def test_state_round_trips_and_replays(env, tmp_path):
    # CompilerGym's state tests: a state serializes, reads back equal, and apply() rebuilds
    # the same module and reward in a fresh environment.
    env.reset()
    for flag in ("-mem2reg", "-licm", "-simplifycfg", "-instcombine"):
        env.step(env.action_space[flag])
    state = env.state
    assert state.benchmark == SMALL and state.reward == pytest.approx(env.episode_reward)
    # CompilerGym's command line; the Gymnasium env's is the runnable opt-19 one.
    assert state.commandline == "opt -mem2reg -licm -simplifycfg -instcombine input.bc -o output.bc"
    assert env.gymnasium_env.state.commandline.startswith("opt-19 --relocation-model=pic -passes=")
    row = dict(zip(CompilerEnvState.CSV_HEADER, state.to_csv_row(), strict=True))
    assert CompilerEnvState.from_csv_row(row) == state
    other = compiler_gym.make("llvm-ic-v0")
    try:
        other.apply(state)
        assert other.actions == env.actions
        assert other.observation["IrHash"] == env.observation["IrHash"]
        assert other.episode_reward == pytest.approx(state.reward)
        assert other.validate().okay()
    finally:
        other.close()
    # The opt-19 form of the same actions replays to the same module.
    env.apply(CompilerEnvState(SMALL, env.gymnasium_env.state.commandline))
    assert env.state == state


def test_state_without_a_reward_space_has_none():
    env = compiler_gym.make("llvm-v0", benchmark=SMALL)
    env.reset()
    env.step(env.action_space["-mem2reg"])
    assert env.state.reward is None and env.episode_reward is None
    assert env.validate().okay()
    env.close()


def test_gymnasium_make_is_plain_and_names_are_compats():
    """gymnasium.make gives Gymnasium's wrappers around a plain env whose spaces are fixed;
    assigning a space by name is CompilerGym's API, on the compat env (no silent no-op)."""
    env = gym.make("optgym/llvm-autophase-ic-v0", benchmark=SMALL)
    assert type(env).__name__ == "TimeLimit"  # Gymnasium's own stack, nothing of ours on top
    with pytest.raises(TypeError, match="fixed at construction"):
        env.unwrapped.observation_space = "InstCount"
    env.close()
    compat = compiler_gym.make("llvm-autophase-ic-v0", benchmark=SMALL)
    compat.reset()
    compat.observation_space = "InstCount"
    compat.reward_space = "IrInstructionCount"
    before = compat.observation["IrInstructionCount"]
    obs, reward, *_ = compat.step(compat.action_space["-mem2reg"])
    assert obs.shape == (70,) and compat.observation_space.shape == (70,)
    assert reward == before - obs[0]
    compat.close()


def test_action_subsets_by_flag_list():
    env = gym.make("optgym/llvm-ic-v0", benchmark=SMALL, action_space=["-mem2reg", "-gvn"])
    assert env.action_space.n == 2 and env.action_space.flags == ["-mem2reg", "-gvn"]
    env.reset()
    env.step(1)
    assert env.unwrapped.actions_taken == ["function(gvn)"]
    child = env.unwrapped.fork()  # a fork keeps the subset
    assert child.action_space.flags == ["-mem2reg", "-gvn"]
    child.close()
    env.close()
    with pytest.raises(OptgymError, match="-barrier has no LLVM 19"):
        LlvmEnv(SMALL, action_space=["-mem2reg", "-barrier"])
    with pytest.raises(OptgymError, match="unknown flag"):
        LlvmEnv(SMALL, action_space=["-mem2reg", "-bogus"])
