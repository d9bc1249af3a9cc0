"""What one :class:`~optgym.envs.llvm.LlvmEnv` episode is: the benchmark, its module in the
compiler worker, the steps run on it and the reward so far, in one object that a fork copies.

Kept apart from the environment so that ``env.py`` reads as the Gymnasium env alone; nothing
here is public API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from optgym.datasets import Benchmark
from optgym.llvm.session import CompilerSession, ModuleHandle


class SharedSession:
    """A compiler session shared by an environment and its forks; closed by the last user."""

    def __init__(self, session: CompilerSession):
        self.session = session
        self.users = 1

    def acquire(self) -> SharedSession:
        """Count one more user (a fork or a sibling)."""
        self.users += 1
        return self

    def release(self) -> None:
        """Count one user fewer; the last one ends the worker."""
        self.users -= 1
        if self.users <= 0:
            self.session.close()


@dataclass
class Loaded:
    """The benchmark loaded in the worker, unmodified: every reset clones it."""

    benchmark: Benchmark
    module: ModuleHandle


@dataclass
class Episode:
    """One episode, from a reset to the next.

    ``observed`` holds the worker's values for the current module that came back with the last
    step (valid until the module changes again); ``costs`` the cost each reward space saw when
    it last gave a reward (absent: the benchmark's -O0 cost, where every episode starts).
    """

    benchmark: Benchmark
    module: ModuleHandle
    #: Pipeline texts run on the module, in order (the always-inliner included when it ran).
    steps: list[str] = field(default_factory=list)
    #: True until the first step decides whether the always-inliner runs before it.
    always_inline_due: bool = False
    observed: dict[str, Any] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    reward: float = 0.0
    started: float = field(default_factory=time.monotonic)
    #: A pass ran whose step was cut short (Ctrl-C): its reward is added at the next step.
    reward_due: bool = False

    def fork(self) -> Episode:
        """A copy whose module is cloned in the worker (the walltime keeps counting)."""
        return Episode(self.benchmark, self.module.fork(), list(self.steps),
                       self.always_inline_due, dict(self.observed), dict(self.costs),
                       self.reward, self.started, self.reward_due)

    def close(self) -> None:
        """Free the module in the worker."""
        self.module.close()
