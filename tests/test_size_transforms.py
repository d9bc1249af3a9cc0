"""LLVM's size transformations as actions (flags-safe-v1): merged functions, the IR outliner,
and the machine outliner as a code-generation step that a state's command line carries to
llc-19, so that .text rewards and replays stay exact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.state import codegen_of, commandline_of_steps, steps_of
from optgym.errors import OptgymError
from optgym.llvm import passes
from optgym.llvm.core import Module, elf_text_size

URI = "benchmark://builtin-v0/json_lite"
OUTLINER = "codegen<machine-outliner>"


def test_command_lines_carry_code_generation_to_llc_and_refuse_anything_else() -> None:
    steps = ["always-inline", "function(sroa)", OUTLINER, "mergefunc"]
    line = commandline_of_steps(steps)
    assert line.endswith("&& llc-19 -O2 -relocation-model=pic -filetype=obj "
                         "-enable-machine-outliner output.bc -o output.o")
    assert "codegen<" not in line.split("&&")[0]
    assert steps_of(line) == ["always-inline", "function(sroa)", "mergefunc", OUTLINER]
    assert codegen_of(line) == ("-enable-machine-outliner",)
    assert codegen_of(commandline_of_steps(["function(sroa)"])) == ()
    for bad in (line.replace("-enable-machine-outliner", "-O0"),
                line + " && rm -rf /",
                line.replace("llc-19", "sh"),
                line.replace("output.o", "/etc/passwd"),
                "opt -mem2reg -machine-outliner input.bc"):
        with pytest.raises(OptgymError):
            steps_of(bad)


def test_machine_outliner_step_changes_the_object_not_the_module() -> None:
    from optgym.datasets import get_benchmark

    module = Module.parse(get_benchmark(URI).bitcode)
    module.run_passes("default<Oz>")
    plain, outlined = module.clone(), module.clone()  # clones list uses alike: IR compares
    before_text, before_hash = plain.object_text_size(), plain.hash()
    fingerprint = outlined.fingerprint()
    outlined.run_passes(OUTLINER)
    assert outlined.codegen == ("-enable-machine-outliner",)
    assert outlined.ir() == plain.ir() and outlined.hash() != before_hash
    assert outlined.fingerprint() != fingerprint
    assert outlined.clone().codegen == outlined.codegen
    # The object is llc-19's with the option, byte for byte.
    by_llc = subprocess.run(["llc-19", "-O2", "-relocation-model=pic", "-filetype=obj",
                             "-enable-machine-outliner", "-", "-o", "-"],
                            input=module.bitcode(), capture_output=True, check=True).stdout
    assert outlined.object_text_size() == elf_text_size(by_llc) != before_text


def test_size_transform_actions_replay_exactly_with_opt_and_llc() -> None:
    with LlvmEnv(URI, observation_space=None, reward_space="ObjectTextSizeOz",
                 action_space="flags-safe-pipelines-v1") as env:
        assert env.honor_always_inline and env.actions.safe
        env.reset()
        for flag in ("-Oz", "-mergefunc", "-iroutliner", "-machine-outliner"):
            _, _, terminated, _, info = env.step(env.actions.index(flag))
            assert not terminated, info
        assert env.commandline().count("&& llc-19") == 1
        result = env.validate()
        assert result.ok, result.errors
        assert result.output_checked  # the program, built with the outliner, still prints the same
        replay = CompilerEnvState(URI, env.commandline(), 0.0, env.episode_reward)
        env.apply(replay)
        assert env.actions_taken == steps_of(replay.commandline)


def test_a_task_without_the_transforms_refuses_them(tmp_path: Path) -> None:
    from optgym.leaderboard import validate_states
    from optgym.leaderboard.tasks import get_task

    task = get_task("builtin-test-codesize-v0")
    steps = ["default<Oz>", OUTLINER]
    rows = [CompilerEnvState(uri, commandline_of_steps(steps), 1.0, 0.0)
            for uri in task.benchmark_uris]
    report = validate_states(task, rows, progress=False)
    assert not report.ok
    assert OUTLINER in report.errors[0] and "flags-pipelines-v0" in report.errors[0]


def test_safe_v1_keeps_v0_as_it_was() -> None:
    v0, v1 = passes.action_set("flags-safe-v0"), passes.action_set("flags-safe-v1")
    assert len(v0) == 67 and "-mergefunc" not in v0.flags  # the shipped PPO model's actions
    assert v1.flags[-3:] == ["-mergefunc", "-iroutliner", "-machine-outliner"]
    assert set(v0.flags) <= set(v1.flags)
    assert passes.is_safe_pipeline("always-inline,invalidate<all>,mergefunc")


def test_optgym_cc_ships_the_machine_outliner_when_it_wins(tmp_path: Path) -> None:
    """rpn_calc: -Oz's own passes, then the machine outliner, beat clang -Oz's object in .text
    and in what `size` counts; the object optgym-cc writes is made with the option and runs as
    the -O0 build does."""
    import os
    import sys

    from optgym.datasets import get_benchmark

    benchmark = get_benchmark("benchmark://builtin-v0/rpn_calc")
    obj, exe = tmp_path / "rpn_calc.o", tmp_path / "rpn_calc"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "optgym-cc"), "-Oz", "-c", str(benchmark.source_path),
         "-o", str(obj)], capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OPTGYM_CC_POLICY="oz", OPTGYM_CC_BUDGET="5", OPTGYM_CC_VERBOSE="1"))
    assert proc.returncode == 0, proc.stderr
    assert "-mllvm -enable-machine-outliner (oz)" in proc.stderr, proc.stderr
    reference = tmp_path / "clang.o"
    subprocess.run(["clang-19", "-Oz", "-w", "-c", str(benchmark.source_path), "-o",
                    str(reference)], check=True)
    assert elf_text_size(obj.read_bytes()) < elf_text_size(reference.read_bytes())
    subprocess.run(["clang-19", str(obj), "-o", str(exe), "-lm"], check=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.stdout == benchmark.expected_output


def test_a_time_budget_bounds_the_finishers_and_the_inliner_candidate() -> None:
    """With no time left after the search, select tries no size transformation and no learned
    inliner (it would overrun the file's share of the build); with no time budget it does."""
    from optgym.agents.base import Budget
    from optgym.datasets import get_benchmark
    from optgym.opt import select

    data = get_benchmark("benchmark://builtin-v0/rpn_calc").bitcode
    bounded = select(data, "rpn_calc", policy="oz", objective="text", codegen=True,
                     budget=Budget(compilations=5, seconds=1e-6))
    free = select(data, "rpn_calc", policy="oz", objective="text", codegen=True,
                  budget=Budget(compilations=5))
    # without a deadline the machine outliner wins here (see the test above)
    assert "-enable-machine-outliner" in free.codegen
    assert bounded.codegen == () and bounded.inline is None
