"""Leaderboard tasks: a fixed list of benchmarks, a reward, a budget and the LLVM version.

Tasks are data (``tasks.json`` beside this module), so adding one is an edit of that file. The
benchmark list is pinned by name rather than computed from a split: a task must mean the same
programs for every submission, even when the dataset gains programs later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from optgym import LLVM_VERSION
from optgym.agents.base import Budget
from optgym.errors import OptgymError

TASKS_FILE = Path(__file__).with_name("tasks.json")

#: Reward spaces a task may use, with the prefix of the observations holding the cost's -O0 and
#: -Oz values (``IrInstructionCountO0``, ``ObjectTextSizeOz``, ...).
REWARD_COSTS = {"IrInstructionCountOz": "IrInstructionCount", "ObjectTextSizeOz": "ObjectTextSize"}
#: What the cost of each reward is, for people.
COST_UNITS = {"IrInstructionCountOz": "IR instructions", "ObjectTextSizeOz": ".text bytes"}


@dataclass(frozen=True)
class Task:
    """One leaderboard task: which programs, scored how, with how much search per program."""

    name: str
    description: str
    dataset: str
    benchmarks: tuple[str, ...]  # benchmark names inside ``dataset``
    reward: str
    budget: Budget
    llvm_version: str = LLVM_VERSION
    #: The actions a submission's pipeline may be made of (validation refuses anything else).
    action_space: str = "flags-pipelines-v0"
    #: Whether results must keep clang's ``always_inline`` promise, as what ships must: the
    #: episode runs the always-inliner first, and validation refuses a replay that leaves more
    #: calls to ``always_inline`` functions than clang -Oz does.
    honor_always_inline: bool = False
    #: ``llvm`` (pass ordering: a row is an opt-19 command line) or ``inline`` (inlining: a row
    #: is the decisions of :mod:`optgym.envs.llvm.inline`, replayed by ``optgym inline-mark``
    #: and opt-19; its reward is the fraction of clang -Oz's cost saved).
    environment: str = "llvm"

    @property
    def benchmark_uris(self) -> list[str]:
        """The task's benchmarks as URIs, in the task's order."""
        from optgym.datasets import get_dataset

        prefix = get_dataset(self.dataset).uri_prefix
        return [f"{prefix}/{name}" for name in self.benchmarks]

    @property
    def baseline_prefix(self) -> str:
        """Prefix of the observations that hold the cost at -O0 and -Oz (add ``O0``/``Oz``)."""
        return REWARD_COSTS[self.reward]

    def available(self) -> tuple[bool, str]:
        """Whether this machine has the task's programs, and if not, why and how to get them."""
        from optgym.datasets import get_dataset

        try:
            dataset = get_dataset(self.dataset)
        except OptgymError as exc:
            return False, str(exc)
        if not dataset.installed:
            return False, (f"task {self.name} needs dataset {self.dataset}, which is not "
                           f"downloaded; run: optgym datasets download {self.dataset}")
        return True, ""

    def check_budget(self, budget: Budget) -> None:
        """Raise unless ``budget`` fits inside the task's (a submission may spend less)."""
        limit = self.budget
        if limit.seconds is not None and (budget.seconds is None or budget.seconds > limit.seconds):
            raise OptgymError(f"task {self.name} allows at most {limit.seconds:g} s per benchmark; "
                              f"the budget asked for is {budget_text(budget)}")
        if limit.compilations is not None and (
            budget.compilations is None or budget.compilations > limit.compilations
        ):
            raise OptgymError(f"task {self.name} allows at most {limit.compilations} compilations "
                              f"per benchmark; the budget asked for is {budget_text(budget)}")

    def to_json(self) -> dict[str, Any]:
        """The task as it is recorded in a result header."""
        return {
            "name": self.name, "dataset": self.dataset, "benchmarks": list(self.benchmarks),
            "reward": self.reward, "budget": budget_json(self.budget),
            "llvm_version": self.llvm_version, "honor_always_inline": self.honor_always_inline,
            "environment": self.environment,
        }


def budget_json(budget: Budget) -> dict[str, Any]:
    """A budget as JSON (only the limits that are set)."""
    out: dict[str, Any] = {}
    if budget.seconds is not None:
        out["seconds"] = budget.seconds
    if budget.compilations is not None:
        out["compilations"] = budget.compilations
    return out


def budget_from_json(data: Any, *, what: str = "budget") -> Budget:
    """Parse a budget written by :func:`budget_json`; OptgymError naming ``what`` if malformed."""
    if not isinstance(data, dict) or not set(data) <= {"seconds", "compilations"}:
        raise OptgymError(f"{what} must be an object with 'seconds' and/or 'compilations': {data!r}")
    try:
        seconds = data.get("seconds")
        compilations = data.get("compilations")
        return Budget(
            compilations=None if compilations is None else int(compilations),
            seconds=None if seconds is None else float(seconds),
        )
    except (TypeError, ValueError) as exc:
        raise OptgymError(f"{what} is malformed: {exc}") from None


def budget_text(budget: Budget) -> str:
    """A budget for people: ``10 s``, ``500 compilations``, ``60 s or 500 compilations``."""
    parts = []
    if budget.seconds is not None:
        parts.append(f"{budget.seconds:g} s")
    if budget.compilations is not None:
        plural = "" if budget.compilations == 1 else "s"
        parts.append(f"{budget.compilations} compilation{plural}")
    return " or ".join(parts)


#: Tasks added in this process with :func:`register_task` (users' own, tests').
_EXTRA_TASKS: dict[str, Task] = {}


def register_task(task: Task, *, replace: bool = False) -> Task:
    """Make a task of your own known by name in this process (for eval, validate, submit)."""
    if task.reward not in REWARD_COSTS:
        raise OptgymError(f"task {task.name}: reward must be one of {', '.join(REWARD_COSTS)}, "
                          f"not {task.reward!r}")
    if not task.benchmarks:
        raise OptgymError(f"task {task.name} has no benchmarks")
    if not replace and (task.name in _load_tasks() or task.name in _EXTRA_TASKS):
        raise OptgymError(f"a task named {task.name!r} exists already")
    _EXTRA_TASKS[task.name] = task
    return task


@cache
def _load_tasks() -> dict[str, Task]:
    data = json.loads(TASKS_FILE.read_text())
    tasks: dict[str, Task] = {}
    for entry in data["tasks"]:
        if entry["reward"] not in REWARD_COSTS:
            raise OptgymError(f"{TASKS_FILE}: task {entry['name']} has unknown reward "
                              f"{entry['reward']!r}")
        tasks[entry["name"]] = Task(
            name=entry["name"], description=entry["description"], dataset=entry["dataset"],
            benchmarks=tuple(entry["benchmarks"]), reward=entry["reward"],
            budget=budget_from_json(entry["budget"], what=f"task {entry['name']}'s budget"),
            action_space=entry.get("action_space", "flags-pipelines-v0"),
            honor_always_inline=bool(entry.get("honor_always_inline", False)),
            environment=entry.get("environment", "llvm"),
        )
        if tasks[entry["name"]].environment not in ("llvm", "inline"):
            raise OptgymError(f"{TASKS_FILE}: task {entry['name']} has unknown environment "
                              f"{tasks[entry['name']].environment!r}")
    return tasks


def task_names() -> list[str]:
    """Names of every leaderboard task: ``tasks.json``'s in its order, then registered ones."""
    return [*_load_tasks(), *(n for n in _EXTRA_TASKS if n not in _load_tasks())]


def get_task(name: str) -> Task:
    """A task by name; OptgymError listing the known ones otherwise."""
    tasks = {**_load_tasks(), **_EXTRA_TASKS}
    if name not in tasks:
        raise OptgymError(f"unknown leaderboard task {name!r}; known: {', '.join(tasks)}")
    return tasks[name]
