"""Run a policy on every benchmark of a task and record what it found as a result CSV + header."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optgym.agents.base import Budget, Policy, as_policy, get_policy
from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.state import commandline_of
from optgym.errors import OptgymError
from optgym.leaderboard.results import (
    ResultHeader,
    llvm_full_version,
    machine_info,
    now_iso,
    write_results,
)
from optgym.leaderboard.tasks import Task, budget_json, get_task


def evaluate(
    task: Task | str,
    policy: Policy | str,
    *,
    budget: Budget | None = None,
    policy_name: str | None = None,
    policy_args: dict[str, Any] | None = None,
    progress: bool = True,
    on_result: Callable[[CompilerEnvState], Any] | None = None,
) -> tuple[ResultHeader, list[CompilerEnvState]]:
    """Run ``policy`` (an object, a function as :func:`~optgym.agents.base.as_policy` takes, or a
    name for :func:`get_policy` with ``policy_args``) on each of the task's programs.

    Each benchmark gets a fresh episode and ``budget`` (default: the task's). The row's reward is
    recomputed in the task's reward space by replaying the policy's pass sequence, and its wall
    time is measured here around the policy's search. When the policy raises on a benchmark the
    row applies no passes (reward 0) and the header's ``failures`` names it with the error.
    """
    task = get_task(task) if isinstance(task, str) else task
    available, why = task.available()
    if not available:
        raise OptgymError(why)
    budget = budget or task.budget
    task.check_budget(budget)
    if task.environment == "inline":
        return _evaluate_inline(task, policy, budget, policy_name, policy_args, progress,
                                on_result)
    if isinstance(policy, str):
        policy_name = policy_name or policy
        policy = get_policy(policy, **(policy_args or {}))
    policy_name = policy_name or getattr(policy, "name", getattr(policy, "__name__",
                                                                 type(policy).__name__))
    policy = as_policy(policy, policy_name)
    header = ResultHeader(
        task=task.name, policy=policy_name, budget=budget_json(budget),
        llvm_full_version=llvm_full_version(), date=now_iso(), machine=machine_info(),
        policy_args=dict(policy_args or {}),
    )
    uris = task.benchmark_uris
    states: list[CompilerEnvState] = []
    env = LlvmEnv(uris[0], observation_space=None, reward_space=task.reward,
                  honor_always_inline=task.honor_always_inline)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(uris), desc=f"{task.name} / {policy_name}", unit="prog")
    try:
        for uri in uris:
            if bar is not None:
                bar.set_postfix_str(uri.rsplit("/", 1)[-1])
            state = _run_one(env, policy, budget, uri, header)
            states.append(state)
            if on_result is not None:
                on_result(state)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        env.close()
    return header, states


def _run_one(env: LlvmEnv, policy: Policy, budget: Budget, uri: str,
             header: ResultHeader) -> CompilerEnvState:
    env.reset(options={"benchmark": uri})
    started = time.monotonic()
    try:
        result = policy.search(env, budget)
        walltime = time.monotonic() - started
        if result.benchmark != uri:
            raise OptgymError(f"the policy returned a result for {result.benchmark}, not {uri}")
        state = CompilerEnvState(uri, result.commandline, walltime)
        env.apply(state)  # the reward in the task's space, from the sequence itself
    except Exception as exc:  # noqa: BLE001 - any failure of a user's policy is recorded
        walltime = time.monotonic() - started
        header.failures[uri] = f"{type(exc).__name__}: {exc}"
        state = CompilerEnvState(uri, commandline_of(""), walltime)
        env.reset(options={"benchmark": uri})
    return CompilerEnvState(uri, state.commandline, walltime, float(env.episode_reward))


def evaluate_to_file(task: Task | str, policy: Policy | str, output: str | os.PathLike[str],
                     **kwargs: Any) -> tuple[Path, Path]:
    """:func:`evaluate`, then write the result CSV and its header (atomically)."""
    header, states = evaluate(task, policy, **kwargs)
    return write_results(output, header, states)


def _evaluate_inline(task: Task, policy: Any, budget: Budget, policy_name: str | None,
                     policy_args: dict[str, Any] | None, progress: bool,
                     on_result: Callable[[Any], Any] | None) -> tuple[ResultHeader, list[Any]]:
    """:func:`evaluate` for an inlining task: the policy plays one episode of an
    :class:`~optgym.envs.llvm.inline.InliningEnv` per benchmark (see
    :mod:`optgym.agents.inliner.policies`); the row is the episode's state."""
    from optgym.agents.inliner.policies import get_inline_policy
    from optgym.envs.llvm.inline import InliningEnv, InliningState
    from optgym.llvm.inlining import replay_commandline

    if isinstance(policy, str):
        policy_name = policy_name or policy
        policy = get_inline_policy(policy, **(policy_args or {}))
    policy_name = policy_name or getattr(policy, "__name__", type(policy).__name__)
    header = ResultHeader(
        task=task.name, policy=policy_name, budget=budget_json(budget),
        llvm_full_version=llvm_full_version(), date=now_iso(), machine=machine_info(),
        policy_args=dict(policy_args or {}),
    )
    env = InliningEnv(reward_space="ObjectTextSize" if task.reward == "ObjectTextSizeOz"
                      else "IrInstructionCount", allow_defer=True)
    states = []
    uris = task.benchmark_uris
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(uris), desc=f"{task.name} / {policy_name}", unit="prog")
    try:
        for uri in uris:
            env.reset(options={"benchmark": uri})
            started = time.monotonic()
            try:
                policy(env, budget)
                if env.compiled is None:
                    raise OptgymError("the policy returned before the episode ended")
                state = env.state
                state = InliningState(uri, state.commandline, time.monotonic() - started,
                                      state.reward)
            except Exception as exc:  # noqa: BLE001 - any failure of a user's policy is recorded
                header.failures[uri] = f"{type(exc).__name__}: {exc}"
                state = InliningState(uri, replay_commandline({}), time.monotonic() - started, 0.0)
            states.append(state)
            if on_result is not None:
                on_result(state)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        env.close()
    return header, states
