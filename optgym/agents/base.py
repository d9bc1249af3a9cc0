"""The policy interface: given an environment positioned at a benchmark and a budget, find a pass
sequence. Search baselines, learned models and users' own functions all implement it, and the
search command, `optgym-opt` and the leaderboard all call it.

A policy is any object with a ``name`` and ``search(env, budget) -> SearchResult``. The
environment has been reset at the benchmark; the policy may step, fork and reset it (with the
same benchmark), and counts every pass sequence it evaluates against ``budget.compilations``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from optgym.agents.registry import LazyRegistry
from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.envs.llvm.state import commandline_of_steps
from optgym.errors import OptgymError
from optgym.llvm.passes import join_steps, split_codegen


@dataclass(frozen=True)
class Budget:
    """How much a policy may spend on one benchmark: compilations (pass sequences evaluated,
    each a fresh episode or an action tried), wall-clock seconds, or both (whichever ends first).
    """

    compilations: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.compilations is None and self.seconds is None:
            raise OptgymError("a budget needs compilations, seconds, or both")
        if self.compilations is not None and self.compilations < 1:
            raise OptgymError(f"budget compilations must be at least 1, not {self.compilations}")
        if self.seconds is not None and self.seconds <= 0:
            raise OptgymError(f"budget seconds must be positive, not {self.seconds}")

    def clock(self) -> BudgetClock:
        """Start spending this budget."""
        return BudgetClock(self)


@dataclass
class BudgetClock:
    """Tracks what has been spent of a :class:`Budget`."""

    budget: Budget
    compilations: int = 0
    started: float = field(default_factory=time.monotonic)

    def spend(self, n: int = 1) -> None:
        """Record ``n`` compilations."""
        self.compilations += n

    @property
    def elapsed(self) -> float:
        """Seconds since the clock started."""
        return time.monotonic() - self.started

    @property
    def exhausted(self) -> bool:
        """True when either limit is reached."""
        b = self.budget
        return (b.compilations is not None and self.compilations >= b.compilations) or (
            b.seconds is not None and self.elapsed >= b.seconds
        )

    @property
    def fraction(self) -> float:
        """How much of the budget is spent, from 0 to 1 (the larger of the two limits)."""
        b = self.budget
        parts = []
        if b.compilations is not None:
            parts.append(self.compilations / b.compilations)
        if b.seconds is not None:
            parts.append(self.elapsed / b.seconds)
        return min(1.0, max(parts))


@dataclass
class SearchResult:
    """The best pass sequence a policy found for one benchmark, with the costs that judge it."""

    benchmark: str
    steps: list[str]  # pipeline text of each step, as LlvmEnv applies them
    instruction_count: int
    o0_count: int
    oz_count: int
    compilations: int
    walltime: float
    policy: str = ""

    @property
    def pipeline(self) -> str:
        """The ``-passes=`` text that reproduces the result's module with `opt-19`."""
        return join_steps(split_codegen(self.steps)[0])

    @property
    def codegen(self) -> tuple[str, ...]:
        """The ``llc-19`` options of the result's code-generation steps (usually none)."""
        return split_codegen(self.steps)[1]

    @property
    def commandline(self) -> str:
        """The `opt-19` (and `llc-19`) command line that reproduces the result."""
        return commandline_of_steps(self.steps)

    @property
    def reward(self) -> float:
        """The IrInstructionCountOz episode reward: 1.0 means as small as -Oz."""
        return (self.o0_count - self.instruction_count) / max(self.o0_count - self.oz_count, 1)

    @property
    def oz_ratio(self) -> float:
        """-Oz's instruction count over ours: above 1.0 is better than -Oz."""
        return self.oz_count / max(self.instruction_count, 1)

    @property
    def state(self) -> CompilerEnvState:
        """The result as a leaderboard record."""
        return CompilerEnvState(self.benchmark, self.commandline, self.walltime, self.reward)


class Policy(Protocol):
    """What every policy provides."""

    name: str

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        """Find a pass sequence for the benchmark ``env`` was reset at."""
        ...


def result_from_env(env: LlvmEnv, steps: list[str], clock: BudgetClock, policy: str) -> SearchResult:
    """Package a sequence as a :class:`SearchResult`, replaying it in ``env`` to measure it.

    The result's steps are those the episode ran (:meth:`LlvmEnv.episode_steps`: the
    always-inliner first where the env keeps that promise), so its command line is what ships.
    """
    steps = env.episode_steps(steps)
    if list(env.actions_taken) != steps:
        env.reset(options={"benchmark": env.benchmark, "replay": steps})
    return SearchResult(
        benchmark=env.benchmark.uri,
        steps=steps,
        instruction_count=int(env.observe("IrInstructionCount")),
        o0_count=int(env.observe("IrInstructionCountO0")),
        oz_count=int(env.observe("IrInstructionCountOz")),
        compilations=clock.compilations,
        walltime=clock.elapsed,
        policy=policy,
    )


class OzPolicy:
    """The baseline: LLVM's own -Oz pipeline, one compilation."""

    name = "oz"

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        clock = budget.clock()
        clock.spend()
        return result_from_env(env, ["default<Oz>"], clock, self.name)


#: Policy factories by name: a factory, or a lazy ``"module:attribute"`` imported when asked for.
POLICIES = LazyRegistry("policy", {"oz": OzPolicy})


def register_policy(name: str, factory: Callable[..., Policy] | str) -> None:
    """Make a policy available by name (a factory, or a lazy ``"module:attribute"`` path)."""
    POLICIES.register(name, factory)


def policy_names() -> list[str]:
    """Names of every registered policy."""
    return POLICIES.names()


def get_policy(name: str, **kwargs: Any) -> Policy:
    """A policy by registered name, or a user's ``module:function`` / ``module:Class``.

    A registered name's factory is called with ``kwargs``. A user's object may be a policy
    class or factory (called with ``kwargs``), a built policy object, or a plain function
    ``f(env, budget) -> SearchResult``.
    """
    obj = POLICIES.get(name)
    if POLICIES.is_registered(name) or isinstance(obj, type):
        return obj(**kwargs)
    return as_policy(obj, name)


def as_policy(obj: Any, name: str) -> Policy:
    """A policy from a policy object, an optgym function ``f(env, budget) -> SearchResult`` or a
    CompilerGym leaderboard function ``policy(env) -> None`` that steps the env it is given
    (told apart by how many required positional parameters the function has)."""
    if hasattr(obj, "search"):  # an already-built policy object
        return obj
    if not callable(obj):
        raise OptgymError(f"policy {name} is a {type(obj).__name__}, not a policy or a function")
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return _FunctionPolicy(name, obj)
    required = [p for p in params if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(required) == 1:
        return CompilerGymPolicy(name, obj)
    if len(required) == 2:
        return _FunctionPolicy(name, obj)
    raise OptgymError(
        f"policy {name} takes {len(required)} required arguments; a policy function is "
        "f(env, budget) -> SearchResult, or CompilerGym's policy(env) -> None"
    )


class CompilerGymPolicy:
    """Runs a CompilerGym leaderboard policy, ``policy(env) -> None``, which steps a
    CompilerGym-style env (:class:`optgym.compat.CompilerGymEnv`) positioned at the benchmark;
    the actions it leaves applied are its result. Budgets are not enforced inside the function
    (CompilerGym's policies keep their own time); the wall time is measured around it."""

    def __init__(self, name: str, fn: Callable[[Any], None]):
        self.name = name
        self._fn = fn

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        from optgym.compat.env import CompilerGymEnv

        clock = budget.clock()
        view = CompilerGymEnv(env.benchmark, env_id="llvm-ic-v0",
                              reward_space=env.reward_spec.name, gymnasium_env=env, owns=False)
        self._fn(view)
        steps = list(env.actions_taken)
        clock.spend()
        return result_from_env(env, steps, clock, self.name)


class _FunctionPolicy:
    """Adapts a plain ``f(env, budget) -> SearchResult`` function to the interface."""

    def __init__(self, name: str, fn: Callable[[LlvmEnv, Budget], SearchResult]):
        self.name = name
        self._fn = fn

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        result = self._fn(env, budget)
        if not isinstance(result, SearchResult):
            raise OptgymError(f"policy {self.name} returned {type(result).__name__}, "
                              "not a SearchResult")
        return result
