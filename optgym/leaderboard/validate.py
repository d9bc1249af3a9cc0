"""Check a result file by replaying it: every row's command line is run by the real `opt-19`,
the reward is recomputed from opt's output, and runnable programs are built and run to check
they still print what they should. A file passes only if every task benchmark has exactly one
row and every row reproduces; otherwise each problem is reported with the benchmark it is about.
"""

from __future__ import annotations

import functools
import math
import os
import re
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from optgym import LLVM_VERSION, limits
from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.state import commandline_of, commandline_of_steps, steps_of
from optgym.errors import OptgymError
from optgym.leaderboard.results import ResultHeader, read_results
from optgym.leaderboard.tasks import Task, budget_from_json, get_task
from optgym.llvm import passes as pass_table
from optgym.llvm import toolchain

#: A row may report this much more wall time than the budget allows (a compilation that was
#: running when the time ran out finishes), as a factor and in seconds.
WALLTIME_SLACK = (1.5, 5.0)


@dataclass
class RowCheck:
    """The replay of one row: what the policy claimed and what `opt-19` gave."""

    state: CompilerEnvState
    errors: list[str] = field(default_factory=list)
    cost: float | None = None  # in the task's cost (instructions, .text bytes)
    o0_cost: float | None = None
    oz_cost: float | None = None
    output_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def oz_ratio(self) -> float | None:
        """-Oz's cost over this row's: 1.05 means 5% smaller than -Oz."""
        if self.cost is None or self.oz_cost is None:
            return None
        return self.oz_cost / max(self.cost, 1.0)


@dataclass
class ValidationReport:
    """The verdict on a whole result file."""

    task: Task
    header: ResultHeader | None
    rows: list[RowCheck] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # each names the benchmark or the file part

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def geomean_oz_ratio(self) -> float | None:
        """Geometric mean over benchmarks of -Oz's cost / ours (above 1: better than -Oz)."""
        ratios = [r.oz_ratio for r in self.rows if r.oz_ratio is not None and r.oz_ratio > 0]
        if not ratios or len(ratios) != len(self.rows):
            return None
        return statistics.geometric_mean(ratios)

    @property
    def mean_walltime(self) -> float | None:
        return statistics.fmean(r.state.walltime for r in self.rows) if self.rows else None

    def __str__(self) -> str:
        lines = []
        for row in self.rows:
            name = row.state.benchmark
            if row.ok:
                ran = ", program output checked" if row.output_checked else ""
                lines.append(f"ok    {name}: reward {row.state.reward:.4f}, {row.oz_ratio:.4f}x "
                             f"-Oz{ran}")
        shown = int(limits.get("OPTGYM_MAX_REPORTED_ERRORS")) or len(self.errors)
        lines.extend(f"FAIL  {e}" for e in self.errors[:shown])
        if len(self.errors) > shown:
            lines.append(f"FAIL  ... and {len(self.errors) - shown} more problems (set "
                         "OPTGYM_MAX_REPORTED_ERRORS to see more, 0 for all)")
        if self.ok:
            lines.append(f"valid: {len(self.rows)} benchmarks of task {self.task.name}, geomean "
                         f"{self.geomean_oz_ratio:.4f}x -Oz, mean walltime "
                         f"{self.mean_walltime:.2f} s")
        else:
            lines.append(f"INVALID: {len(self.errors)} problem(s)")
        return "\n".join(lines)


def validate_states(task: Task, states: list[CompilerEnvState], header: ResultHeader | None = None,
                    *, progress: bool = True) -> ValidationReport:
    """Replay ``states`` against ``task`` with `opt-19` and report every problem found."""
    report = ValidationReport(task, header)
    if header is not None:
        _check_header(task, header, report)
    expected = task.benchmark_uris
    by_uri: dict[str, CompilerEnvState] = {}
    for state in states:
        if state.benchmark not in expected:
            report.errors.append(f"{state.benchmark}: not a benchmark of task {task.name}")
        elif state.benchmark in by_uri:
            report.errors.append(f"{state.benchmark}: more than one row")
        else:
            by_uri[state.benchmark] = state
    report.errors.extend(f"{uri}: missing (no row for this task benchmark)"
                         for uri in expected if uri not in by_uri)
    available, why = task.available()
    if not available:
        report.errors.append(why)
        return report
    limit = _walltime_limit(task, header)
    if task.environment == "inline":
        _check_inline_rows(task, [by_uri[uri] for uri in expected if uri in by_uri], limit,
                           report, progress)
        return report
    env = LlvmEnv(expected[0], observation_space=None, reward_space=task.reward,
                  honor_always_inline=task.honor_always_inline)
    todo = [by_uri[uri] for uri in expected if uri in by_uri]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"replay with opt-{LLVM_VERSION}", unit="row")
    try:
        for state in todo:
            row = _check_row(env, task, state, limit)
            report.rows.append(row)
            report.errors.extend(f"{state.benchmark}: {e}" for e in row.errors)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        env.close()
    return report


def validate_file(path: str | os.PathLike[str], *, task: str | None = None,
                  progress: bool = True) -> ValidationReport:
    """Read a result CSV (and its JSON header) and validate it against its task.

    The task comes from the header, or from ``task`` when the file has no header; when both are
    given they must agree.
    """
    header, states, _ = read_results(path, require_header=task is None)
    name = task or header.task  # type: ignore[union-attr]
    if header is not None and task is not None and header.task != task:
        raise OptgymError(f"{Path(path)}: its header says task {header.task!r}, not {task!r}")
    return validate_states(get_task(name), states, header, progress=progress)


def _check_header(task: Task, header: ResultHeader, report: ValidationReport) -> None:
    if header.task != task.name:
        report.errors.append(f"header: task is {header.task!r}, not {task.name!r}")
    if header.llvm_version != task.llvm_version:
        report.errors.append(f"header: measured with LLVM {header.llvm_version or '?'}, the task "
                             f"is defined on LLVM {task.llvm_version}")
    try:
        task.check_budget(budget_from_json(header.budget, what="header budget"))
    except OptgymError as exc:
        report.errors.append(f"header: {exc}")
    if header.failures:
        names = ", ".join(sorted(header.failures))
        report.errors.append(f"header: the policy failed on {names}")


def _walltime_limit(task: Task, header: ResultHeader | None) -> float | None:
    seconds = task.budget.seconds
    if header is not None:  # the header's budget counts only where it is the tighter one
        try:
            claimed = budget_from_json(header.budget).seconds
        except OptgymError:
            claimed = None
        if claimed is not None:
            seconds = claimed if seconds is None else min(seconds, claimed)
    if seconds is None:
        return None
    factor, extra = WALLTIME_SLACK
    return seconds * factor + extra


def _check_row(env: LlvmEnv, task: Task, state: CompilerEnvState, walltime_limit: float | None
               ) -> RowCheck:
    row = RowCheck(state)
    try:
        steps = steps_of(state.commandline)
    except OptgymError as exc:
        row.errors.append(str(exc))
        return row
    problem = _foreign_step(task, steps)
    if problem:
        row.errors.append(problem)
        return row
    if state.commandline != commandline_of_steps(steps):
        # Only -passes= (and code-generation steps' llc options) are replayed; anything else on
        # the line would be claimed but not checked.
        row.errors.append(f"command line {state.commandline!r} is not of the form "
                          f"{commandline_of('PIPELINE')!r}")
        return row
    if state.reward is None or not math.isfinite(state.reward):
        row.errors.append("the row has no reward")
        return row
    if not math.isfinite(state.walltime) or state.walltime < 0:
        row.errors.append(f"walltime {state.walltime!r} is not a time")
    elif walltime_limit is not None and state.walltime > walltime_limit:
        row.errors.append(f"walltime {state.walltime:.1f} s exceeds the budget")
    try:
        env.reset(options={"benchmark": state.benchmark})
        prefix = task.baseline_prefix
        row.o0_cost = float(env.observe(f"{prefix}O0"))
        row.oz_cost = float(env.observe(f"{prefix}Oz"))
        result = env.validate(state)
    except OptgymError as exc:
        row.errors.append(f"replay failed: {exc}")
        return row
    row.errors.extend(result.errors)
    row.output_checked = result.output_checked
    if result.reproduced_reward is not None:
        scale = max(row.o0_cost - row.oz_cost, 1.0)
        row.cost = row.o0_cost - result.reproduced_reward * scale
    return row


def _check_inline_rows(task: Task, states: list, limit: float | None,
                       report: ValidationReport, progress: bool) -> None:
    """Replay an inlining task's rows (``optgym inline-mark`` + opt-19, in the inlining
    environment's :meth:`~optgym.envs.llvm.inline.InliningEnv.validate`)."""
    from optgym.envs.llvm.inline import InliningEnv, InliningState
    from optgym.llvm.inlining import parse_commandline

    text = task.reward == "ObjectTextSizeOz"
    env = InliningEnv(reward_space="ObjectTextSize" if text else "IrInstructionCount")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(states), desc=f"replay with opt-{LLVM_VERSION}", unit="row")
    try:
        for state in states:
            row = RowCheck(state)
            report.rows.append(row)
            try:
                parse_commandline(state.commandline)
            except OptgymError as exc:
                row.errors.append(str(exc))
            if not row.errors and (state.reward is None or not math.isfinite(state.reward)):
                row.errors.append("the row has no reward")
            if not math.isfinite(state.walltime) or state.walltime < 0:
                row.errors.append(f"walltime {state.walltime!r} is not a time")
            elif limit is not None and state.walltime > limit:
                row.errors.append(f"walltime {state.walltime:.1f} s exceeds the budget")
            if not row.errors:
                result = env.validate(InliningState(state.benchmark, state.commandline,
                                                    state.walltime, state.reward))
                row.errors.extend(result.errors)
                if result.ok:
                    row.oz_cost = float(result.oz_cost)
                    row.cost = float(result.text_size if text else result.instruction_count)
            report.errors.extend(f"{state.benchmark}: {e}" for e in row.errors)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        env.close()


def _foreign_step(task: Task, steps: list[str]) -> str | None:
    """Why ``steps`` is not a sequence of the task's actions, or None when it is.

    Only the action space's passes are replayed: any other pass (``dot-cfg`` writes files,
    ``print`` floods the log) is refused by name before anything runs, and a name LLVM does
    not know is called an unknown pass.
    """
    actions = pass_table.action_set(task.action_space)
    allowed = {a.pipeline for a in actions}
    for step in steps:
        only = pass_table.parse_only(step)
        if step in allowed or (only and all(s in allowed for s in only[1])):
            continue  # a per-function step is made of the task's function passes
        names = [n for n in re.split(r"[(),]+", re.sub(r"<[^<>]*>", "", step))
                 if n and n not in _PASS_MANAGERS]
        unknown = [n for n in names if n not in _llvm_pass_names()]
        if only:
            foreign = next(s for s in only[1] if s not in allowed)
            why = (f"the per-function step on {only[0]} runs {foreign!r}, which is not one of "
                   f"the {len(actions)} actions of {actions.name}")
        elif pass_table.is_codegen_step(step):
            why = (f"code-generation step {step!r} (the llc-19 options of the line) is not one "
                   f"of the {len(actions)} actions of {actions.name}")
        elif unknown:
            why = f"unknown pass {unknown[0]!r} (opt-{LLVM_VERSION} --print-passes has no such pass)"
        else:
            why = f"step {step!r} is not one of the {len(actions)} actions of {actions.name}"
        return (f"{why}; task {task.name} accepts only the passes of {actions.name} (see "
                f"'optgym passes'), one per step, joined by ',{pass_table.STEP_SEPARATOR},'")
    return None


#: Pipeline structure and whole pipelines, which --print-passes does not list as passes.
_PASS_MANAGERS = frozenset({"module", "cgscc", "function", "loop", "loop-mssa", "default",
                            "invalidate"})


@functools.cache
def _llvm_pass_names() -> frozenset[str]:
    """Every pass name LLVM's new pass manager knows (``opt-19 --print-passes``)."""
    proc = subprocess.run([toolchain.opt(), "--print-passes"], capture_output=True, text=True,
                          check=False)
    return frozenset(line.strip().split("<")[0] for line in proc.stdout.splitlines()
                     if line.startswith("  "))
