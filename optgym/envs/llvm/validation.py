"""Replaying an episode record with the real `opt-19`, the referee every result answers to."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from optgym.datasets import Benchmark
from optgym.envs.llvm.spaces import RewardSpec
from optgym.envs.llvm.state import CompilerEnvState, ValidationResult, pipeline_of
from optgym.errors import CompilerCrash, OptgymError, ParseError
from optgym.llvm import toolchain
from optgym.llvm.session import CompilerSession


def validate_state(
    state: CompilerEnvState,
    *,
    session: CompilerSession,
    reward: RewardSpec | None,
    resolve: Callable[[str], Benchmark],
    baselines: Callable[[Benchmark, str], dict[str, float]],
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
    resolve: Callable[[str], Benchmark], baselines: Callable[[Benchmark, str], dict[str, float]],
    honor_always_inline: bool,
) -> ValidationResult:
    result = ValidationResult(state)
    try:
        benchmark = resolve(state.benchmark)
        pipeline = pipeline_of(state.commandline)
    except OptgymError as exc:
        result.errors.append(str(exc))
        result.actions_replay_failed = True
        return result
    with tempfile.TemporaryDirectory(prefix="optgym-validate-") as tmp:
        source, out = Path(tmp) / "input.bc", Path(tmp) / "output.bc"
        source.write_bytes(benchmark.bitcode)
        if pipeline:
            proc = subprocess.run(
                [*toolchain.opt_argv(pipeline), str(source), "-o", str(out)],
                capture_output=True, text=True, cwd=tmp,  # side files stay in the scratch dir
            )
            if proc.returncode != 0:
                result.errors.append(f"opt-19 failed: {proc.stderr.strip()[-500:]}")
                result.actions_replay_failed = True
                return result
        else:
            shutil.copy(source, out)
        optimized = out.read_bytes()
    try:
        module = session.load(optimized, f"{state.benchmark} (replayed)")
    except (ParseError, CompilerCrash) as exc:
        result.errors.append(f"opt-19's output does not load: {exc}")
        result.actions_replay_failed = True
        return result
    try:
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
        if not benchmark.check_output(optimized):
            result.benchmark_semantics_validation_failed = True
            result.errors.append("the optimized program's output differs from the -O0 build's")
    return result
