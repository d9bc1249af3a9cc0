"""gym 0.21's API, as CompilerGym code used it, over Gymnasium and :mod:`optgym.compat`.

CompilerGym ran on gym 0.21 (``reset()`` returning the observation, four-tuple ``step``).
``from optgym.compat import gym`` (or :func:`optgym.compat.alias` with ``gym=True``) gives
code written for it what it imported: ``gym.make`` makes CompilerGym's ids with
:func:`optgym.compat.make` (anything else with ``gymnasium.make``), ``gym.Env``,
``gym.Space`` and ``gym.spaces`` are Gymnasium's, and ``gym.Wrapper``,
``gym.ObservationWrapper``, ``gym.RewardWrapper`` and ``gym.ActionWrapper`` are CompilerGym's
wrappers, which speak the API of what they wrap and take Gymnasium's ``observation()`` /
``reward()`` / ``action()`` methods.
"""

from __future__ import annotations

from typing import Any

import gymnasium
from gymnasium import Env, Space, error, logger, spaces

from optgym.compat.ids import COMPILERGYM_IDS
from optgym.compat.wrappers import ActionWrapper, ObservationWrapper, RewardWrapper
from optgym.compat.wrappers import CompilerEnvWrapper as Wrapper

__all__ = ["ActionWrapper", "Env", "ObservationWrapper", "RewardWrapper", "Space", "Wrapper",
           "error", "logger", "make", "spaces"]


def make(id: str, **kwargs: Any) -> gymnasium.Env:  # noqa: A002 - gym's signature
    """CompilerGym's ids with :func:`optgym.compat.make`; any other with ``gymnasium.make``."""
    if id.split(":", 1)[-1] in COMPILERGYM_IDS:
        from optgym.compat import make as compat_make

        return compat_make(id, **kwargs)
    return gymnasium.make(id, **kwargs)
