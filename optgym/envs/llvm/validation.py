"""Replaying an episode record with the real `opt-19`, the referee every result answers to."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from optgym.datasets import Benchmark
from optgym.envs.llvm.spaces import RewardSpec
from optgym.envs.llvm.state import CompilerEnvState, ValidationResult, replay_commands, steps_of
from optgym.errors import CompilerCrash, OptgymError, ParseError
from optgym.llvm import passes, toolchain
from optgym.llvm.session import CompilerSession
from optgym.scratch import scratch_dir


def validate_state(
    state: CompilerEnvState,
    *,
    session: CompilerSession,
    reward: RewardSpec | None,
    resolve: Callable[[str], Benchmark],
    baselines: Callable[[Benchmark, str], Mapping[str, float]],
    honor_always_inline: bool = False,
) -> ValidationResult:
    """Replay ``state`` with `opt-19` and check what it claims.

    The instruction count is measured on `opt-19`'s output (loaded in ``session``'s worker);
    the reward in space ``reward`` is recomputed against ``baselines(benchmark, cost)`` and
    compared with the state's; a runnable benchmark is built and run, and must print what its
    unoptimized build prints. With ``honor_always_inline``, the output may keep no more calls to
    ``always_inline`` functions than clang -Oz's does. ``resolve(uri)`` finds the benchmark.
    Problems are collected in the result's ``errors``, never raised. With ``reward`` None
    (or a state without a reward) the reward is not checked.
    """
    started = time.monotonic()
    result = _validate(state, session, reward, resolve, baselines, honor_always_inline)
    result.walltime = time.monotonic() - started
    return result


def _validate(
    state: CompilerEnvState, session: CompilerSession, reward: RewardSpec | None,
    resolve: Callable[[str], Benchmark], baselines: Callable[[Benchmark, str], Mapping[str, float]],
    honor_always_inline: bool,
) -> ValidationResult:
    result = ValidationResult(state)
    try:
        benchmark = resolve(state.benchmark)
        steps = steps_of(state.commandline)
        codegen = [s for s in steps if passes.is_codegen_step(s)]
    except OptgymError as exc:
        result.errors.append(str(exc))
        result.actions_replay_failed = True
        return result
    with scratch_dir("optgym-validate-") as tmp:
        (Path(tmp) / "input.bc").write_bytes(benchmark.bitcode)
        for words in replay_commands(steps):
            if not words[0].startswith("opt"):
                continue  # the objects are made below, in the worker, by the same llc-19
            # The words are our own rendering of the steps, never the submitted text; tools
            # by absolute path, files inside the scratch directory.
            argv = [toolchain.opt(), *(str(Path(tmp) / w) if w.endswith(".bc") else w
                                       for w in words[1:])]
            proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp)
            if proc.returncode != 0:
                result.errors.append(f"opt-19 failed: {proc.stderr.strip()[-500:]}")
                result.actions_replay_failed = True
                return result
        optimized = (Path(tmp) / "output.bc").read_bytes()
    try:
        module = session.load(optimized, f"{state.benchmark} (replayed)")
    except (ParseError, CompilerCrash) as exc:
        result.errors.append(f"opt-19's output does not load: {exc}")
        result.actions_replay_failed = True
        return result
    try:
        if codegen:  # the objects are made by llc-19 with the line's options, as it says
            module.run(passes.join_steps(codegen))
        result.instruction_count = module.instruction_count()
        result.always_inline_calls = int(module.observe("AlwaysInlineCalls")["AlwaysInlineCalls"])
        if honor_always_inline and result.always_inline_calls:
            oz_calls = baselines(benchmark, "AlwaysInlineCalls")["AlwaysInlineCallsOz"]
            if result.always_inline_calls > oz_calls:
                result.errors.append(
                    f"keeps {result.always_inline_calls} calls to always_inline functions where "
                    f"clang-19 -Oz keeps {oz_calls:g}: run the always-inliner first "
                    "(clang does at every -O level)")
        if reward is not None and reward.cost in ("IrInstructionCount", "ObjectTextSizeBytes"):
            cost = float(module.observe(reward.cost)[reward.cost])
            values = baselines(benchmark, reward.cost)
            start = values[f"{reward.cost}O0"]
            result.reproduced_reward = (start - cost) / reward.scale(values)
            result.reward_validated = state.reward is not None
            if state.reward is not None and not np.isclose(
                result.reproduced_reward, state.reward, rtol=1e-6, atol=1e-9
            ):
                result.reward_validation_failed = True
                result.errors.append(
                    f"reward {state.reward:.6g} is not reproduced (replay gives "
                    f"{result.reproduced_reward:.6g})"
                )
    finally:
        module.close()
    if benchmark.runnable:
        result.output_checked = result.benchmark_semantics_validated = True
        if not benchmark.check_output(optimized, codegen=passes.split_codegen(codegen)[1]):
            result.benchmark_semantics_validation_failed = True
            result.errors.append("the optimized program's output differs from the -O0 build's")
    return result
