"""CompilerGym's spaces (``compiler_gym.spaces``) and space specs.

An :class:`ObservationSpaceSpec` or :class:`RewardSpaceSpec` describes one space of the LLVM
environment by CompilerGym's attributes (``id``, ``space``, ``deterministic``,
``platform_dependent``, ``range``, ``success_threshold``, ``reward_on_error``); the values are
optgym's (:mod:`optgym.envs.llvm.spaces`). The action space is optgym's
:class:`~optgym.envs.llvm.spaces.Commandline`, a ``Discrete`` with named flags. The rest are
Gymnasium's spaces under CompilerGym's names.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium.spaces import Box, Dict, Discrete, Space, Text, Tuple
from gymnasium.spaces import Sequence as _GymSequence

from optgym.envs.llvm.spaces import Commandline, ObservationSpec, RewardSpec

__all__ = [
    "Box", "Commandline", "CommandlineFlag", "Dict", "Discrete", "NamedDiscrete",
    "ObservationSpaceSpec", "Reward", "RewardSpaceSpec", "Scalar", "Sequence", "Space",
    "Text", "Tuple",
]

#: CompilerGym's name for one entry of a :class:`Commandline` (a flag and its description).
CommandlineFlag = tuple


def Scalar(min: float | None = None, max: float | None = None, dtype: type = np.float64,  # noqa: A002, N802
           name: str | None = None) -> Box:
    """CompilerGym's scalar space, as a Gymnasium ``Box`` of shape ``()``."""
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    space = Box(low, high, shape=(), dtype=dtype)
    space.name = name  # type: ignore[attr-defined]
    return space


def NamedDiscrete(items: list[str], name: str | None = None) -> Discrete:  # noqa: N802
    """CompilerGym's ``NamedDiscrete``: a ``Discrete`` whose values have names (``.names``)."""
    space = Discrete(len(items))
    space.names = list(items)  # type: ignore[attr-defined]
    space.name = name  # type: ignore[attr-defined]
    return space


def Sequence(name: str | None = None, size_range: tuple[int, int | None] = (0, None),  # noqa: N802
             dtype: type = bytes, opaque_data_format: str | None = None) -> Space:
    """CompilerGym's variable-length ``Sequence``: text for ``str``, bytes otherwise."""
    if dtype is str:
        space: Space = Text(max_length=size_range[1] or (1 << 30), min_length=size_range[0])
    else:
        space = _GymSequence(Discrete(256))
    space.name = name  # type: ignore[attr-defined]
    return space


@dataclass
class ObservationSpaceSpec:
    """One observation space, by CompilerGym's attributes. ``space`` may be replaced (a
    wrapper that transforms observations assigns its own), and ``translate`` turns the value
    of ``base_id`` into this space's (spaces made with ``add_derived_space``)."""

    id: str  # noqa: A003 - CompilerGym's attribute name
    space: Space
    deterministic: bool = True
    platform_dependent: bool = False
    default_value: Any = None
    base_id: str | None = None
    translate: Callable[[Any], Any] | None = None

    @property
    def name(self) -> str:
        """The space's name (the same as ``id``)."""
        return self.id

    @classmethod
    def of(cls, spec: ObservationSpec) -> ObservationSpaceSpec:
        """The spec of one of optgym's observation spaces (its space copied and named)."""
        space = copy.deepcopy(spec.space)
        space.name = space.id = spec.name  # type: ignore[attr-defined]
        return cls(spec.name, space, spec.deterministic, spec.platform_dependent)

    def __repr__(self) -> str:
        return f"ObservationSpaceSpec({self.id})"


@dataclass(eq=False)
class RewardSpaceSpec:
    """One reward space, by CompilerGym's attributes (``id``/``name``, ``range``,
    ``success_threshold``, ``deterministic``, ``platform_dependent``, ``reward_on_error``);
    ``spec`` is optgym's definition of the reward."""

    spec: RewardSpec
    default_value: float = 0.0
    default_negates_returns: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:  # noqa: A003 - CompilerGym's attribute name
        """The reward's name."""
        return self.spec.name

    @property
    def name(self) -> str:
        """The reward's name."""
        return self.spec.name

    @property
    def deterministic(self) -> bool:
        """Whether replaying the same actions gives the same reward."""
        return self.spec.deterministic

    @property
    def platform_dependent(self) -> bool:
        """Whether the reward depends on the machine."""
        return self.spec.platform_dependent

    @property
    def range(self) -> tuple[float, float]:  # noqa: A003 - CompilerGym's attribute name
        """The reward's range: a fraction of the -O0 cost is at most 1; the rest unbounded."""
        return (-np.inf, 1.0) if self.spec.baseline == "O0" else (-np.inf, np.inf)

    @property
    def success_threshold(self) -> float | None:
        """The episode reward that means "as good as the baseline" (1.0 against -O3/-Oz)."""
        return 1.0 if self.spec.baseline in ("O3", "Oz") else None

    def reward_on_error(self, episode_reward: float) -> float:
        """The reward of a step that failed: takes back the episode's reward so far."""
        if self.default_negates_returns:
            return self.default_value - episode_reward
        return self.default_value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RewardSpaceSpec):
            return other.spec == self.spec
        if isinstance(other, str):
            return other == self.spec.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.spec.name)

    def __str__(self) -> str:
        return f"RewardSpaceSpec({self.spec.name})"

    __repr__ = __str__


#: CompilerGym's ``Reward`` base class name, for type hints in ported code.
Reward = RewardSpaceSpec
