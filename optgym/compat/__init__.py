"""CompilerGym's API on optgym: ``from optgym import compat as compiler_gym``.

``compat.make("llvm-autophase-ic-v0", benchmark="cbench-v1/crc32")`` returns a
:class:`CompilerGymEnv`, CompilerGym's LLVM environment surface over optgym's Gymnasium
environment (one implementation: the compat env steps the Gymnasium env). CompilerGym's
wrappers are in :mod:`optgym.wrappers`.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from optgym.compat.datasets import CompatDataset, CompatDatasets, resolve_benchmark, resolve_uri
from optgym.compat.env import DEFAULT_BENCHMARK, CompilerGymEnv
from optgym.envs.llvm import CompilerEnvState, ValidationResult
from optgym.errors import OptgymError

__all__ = [
    "COMPILERGYM_IDS", "DEFAULT_BENCHMARK", "CompatDataset", "CompatDatasets",
    "CompilerEnvState", "CompilerGymEnv", "ValidationResult", "make", "resolve_benchmark",
    "resolve_uri",
]

#: CompilerGym's LLVM ids: (observation space, reward space). The codesize ids are those of
#: CompilerGym's earlier releases.
COMPILERGYM_IDS: dict[str, tuple[str | None, str | None]] = {
    "llvm-v0": (None, None),
    "llvm-ic-v0": (None, "IrInstructionCountOz"),
    "llvm-autophase-ic-v0": ("Autophase", "IrInstructionCountOz"),
    "llvm-ir-ic-v0": ("Ir", "IrInstructionCountOz"),
    "llvm-codesize-v0": (None, "ObjectTextSizeOz"),
    "llvm-autophase-codesize-v0": ("Autophase", "ObjectTextSizeOz"),
    "llvm-ir-codesize-v0": ("Ir", "ObjectTextSizeOz"),
}

#: Arguments of CompilerGym's make that configured its gRPC service, which optgym lacks.
_SERVICE_ARGS = ("service", "connection_settings", "service_connection", "logger",
                 "rewards", "derived_observation_spaces", "service_message_converters")


def make(id: str, **kwargs: Any) -> CompilerGymEnv:  # noqa: A002 - CompilerGym's signature
    """Make a CompilerGym environment by its id (``llvm-v0``, ``llvm-ic-v0``,
    ``llvm-autophase-ic-v0``, ...).

    Keyword arguments are CompilerGym's (``benchmark``, ``observation_space``,
    ``reward_space``, ``action_space`` as a list of flags) plus any of
    :class:`~optgym.envs.llvm.LlvmEnv`'s (``timeout``, ``transposition_cache``, ...).
    """
    bare = id.split(":", 1)[-1]
    if bare not in COMPILERGYM_IDS:
        raise OptgymError(f"unknown CompilerGym environment {id!r}; known: "
                          f"{', '.join(COMPILERGYM_IDS)} (for Gymnasium's API use "
                          "gymnasium.make('optgym/llvm-v0'))")
    for name in _SERVICE_ARGS:
        if name in kwargs:
            raise OptgymError(f"{name}= configured CompilerGym's gRPC service; optgym runs "
                              "LLVM in a local worker and has no such setting")
    observation, reward = COMPILERGYM_IDS[bare]
    observation = kwargs.pop("observation_space", observation)
    reward = kwargs.pop("reward_space", reward)
    benchmark = kwargs.pop("benchmark", None)
    kwargs.setdefault("dataset", "builtin-v0")
    env = gymnasium.make(
        "optgym/llvm-v0", disable_env_checker=True, max_episode_steps=-1,
        observation_space=None, reward_space="IrInstructionCount", **kwargs,
    ).unwrapped
    return CompilerGymEnv(env, env_id=bare, benchmark=benchmark,
                          observation_space=observation, reward_space=reward)
