"""Per-function steps: function passes on one chosen function after the module-level phase,
the same in the worker as in the documented opt-19 replay, and validated by the leaderboard."""

from __future__ import annotations

import re

import pytest

from optgym.datasets import get_benchmark
from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.state import commandline_of_steps, replay_commands, steps_of
from optgym.errors import LlvmError, OptgymError
from optgym.llvm import passes
from optgym.llvm.core import Module

URI = "benchmark://builtin-v0/json_lite"
SROA = ["function(sroa)", "function(instcombine<no-verify-fixpoint>)"]


def _functions(module: Module) -> dict[str, str]:
    """Each defined function's IR text, by name (struct types named as in the source: a second
    parse in one LLVM context renames them)."""
    out, current = {}, None
    for line in re.sub(r"(%struct\.\w+)\.\d+", r"\1", module.ir()).splitlines():
        if line.startswith("define "):
            current = line.split("@", 1)[1].split("(", 1)[0]
            out[current] = []
        if current is not None:
            out[current].append(line)
            if line == "}":
                current = None
    return {name: "\n".join(lines) for name, lines in out.items()}


def test_a_per_function_step_changes_that_function_only() -> None:
    bitcode = get_benchmark(URI).bitcode
    before = Module.parse(bitcode)
    after = Module.parse(bitcode)
    after.run_passes(passes.only_step("parse_string", SROA))
    old, new = _functions(before), _functions(after)
    changed = [name for name in old if old[name] != new[name]]
    assert changed == ["parse_string"]
    assert "optnone" not in after.ir()  # the other functions' optnone is gone again
    assert after.verify() is None
    with pytest.raises(LlvmError, match="no function"):
        after.run_passes(passes.only_step("no_such_function", SROA))


def test_steps_and_command_lines_round_trip_and_refuse_what_is_not_a_function_pass() -> None:
    steps = ["always-inline", "default<Oz>", passes.only_step("gen", SROA), "mergefunc",
             passes.only_step("walk", ["function(gvn)"]), "codegen<machine-outliner>"]
    line = commandline_of_steps(steps)
    assert steps_of(line) == steps
    commands = replay_commands(steps)
    assert [c[0] for c in commands] == ["opt-19"] * 6 + ["llc-19"]
    assert commands[1][-3:] == ["output.bc", "-o", "output.bc"]
    for bad in (["default<Oz>"], ["cgscc(inline)"], ["mergefunc"]):
        with pytest.raises(OptgymError):
            passes.only_step("gen", bad)
    with pytest.raises(OptgymError):
        passes.only_step("bad name; rm -rf /", SROA)
    tampered = line.replace("-force-remove-attribute=gen:optnone",
                            "-force-remove-attribute=gen:noinline")
    with pytest.raises(OptgymError):
        steps_of(tampered)


def test_the_env_replays_per_function_steps_exactly_with_opt19() -> None:
    with LlvmEnv(URI, observation_space=None, reward_space="ObjectTextSizeOz",
                 action_space="flags-safe-v1") as env:
        steps = ["default<Oz>", passes.only_step("gen", SROA),
                 passes.only_step("parse_value", ["function(gvn)"])]
        env.apply(CompilerEnvState(URI, commandline_of_steps(steps)))
        assert env.actions_taken == steps
        assert env.commandline().count("forceattrs") == 4
        result = env.validate()
        assert result.ok, result.errors
        assert result.instruction_count == env.observe("IrInstructionCount")
        assert result.output_checked


def test_the_leaderboard_accepts_per_function_steps_of_its_actions_only() -> None:
    from optgym.leaderboard import validate_states
    from optgym.leaderboard.tasks import get_task

    task = get_task("builtin-test-ic-v0")
    rows = []
    with LlvmEnv(task.benchmark_uris[0], observation_space=None, reward_space=task.reward) as env:
        for uri in task.benchmark_uris:
            env.apply(CompilerEnvState(uri, commandline_of_steps(
                ["default<Oz>", passes.only_step("main", ["function(gvn)"])])))
            rows.append(CompilerEnvState(uri, env.commandline(), 1.0, env.episode_reward))
    assert validate_states(task, rows, progress=False).ok
    foreign = [CompilerEnvState(r.benchmark, r.commandline.replace("function(gvn)",
                                                                   "function(no-op-function)"),
                                1.0, r.reward) for r in rows]
    report = validate_states(task, foreign, progress=False)
    assert not report.ok and "per-function step on main" in report.errors[0]
