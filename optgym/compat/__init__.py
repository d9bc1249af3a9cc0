"""CompilerGym's API on optgym: ``from optgym import compat as compiler_gym``.

``compat.make("llvm-autophase-ic-v0", benchmark="cbench-v1/crc32")`` returns a
:class:`CompilerGymEnv` (CompilerGym's ``LlvmEnv``): spaces assigned by name, the
``observation``/``reward`` views, four-tuple steps, CompilerGym's states, validation results,
datasets and benchmarks, over one plain :class:`~optgym.envs.llvm.LlvmEnv`. The same object is
a Gymnasium env to Gymnasium's tooling (see :mod:`optgym.compat.env`). CompilerGym's wrappers
are :mod:`optgym.compat.wrappers`; its modules by their own names (``import compiler_gym``)
come with :func:`alias` or ``python -m optgym.compat script.py``.

Out of scope: the gRPC service (``env.service`` is the local worker's session, with no
connection settings), datasets that cannot be downloaded, and Inst2vec.
"""

from __future__ import annotations

from typing import Any

import gymnasium

import optgym
from optgym.compat.datasets import (
    Benchmark,
    BenchmarkUri,
    Dataset,
    Datasets,
    resolve_benchmark,
    resolve_uri,
)
from optgym.compat.env import DEFAULT_BENCHMARK, CompilerEnv, CompilerGymEnv, LlvmEnv
from optgym.compat.errors import ValidationError
from optgym.compat.ids import COMPILER_GYM_ENVS, COMPILERGYM_IDS
from optgym.compat.state import (
    CompilerEnvState,
    CompilerEnvStateReader,
    CompilerEnvStateWriter,
    ValidationResult,
)
from optgym.compat.util.runfiles_path import cache_path, site_data_path, transient_cache_path
from optgym.errors import OptgymError, UnknownNameError

__version__ = optgym.__version__

__all__ = [
    "COMPILERGYM_IDS", "COMPILER_GYM_ENVS", "DEFAULT_BENCHMARK", "Benchmark", "BenchmarkUri",
    "CompilerEnv", "CompilerEnvState", "CompilerEnvStateReader", "CompilerEnvStateWriter",
    "CompilerGymEnv", "Dataset", "Datasets", "LlvmEnv", "ValidationError", "ValidationResult",
    "__version__", "alias", "cache_path", "make", "resolve_benchmark", "resolve_uri",
    "site_data_path", "transient_cache_path",
]

#: Arguments of CompilerGym's make that chose a gRPC service to talk to, which optgym lacks.
_SERVICE_ARGS = ("service", "service_connection")
#: Arguments that tuned the service; accepted and ignored (optgym's worker needs none).
_IGNORED_ARGS = ("connection_settings", "service_message_converters", "logger")


def make(id: str, **kwargs: Any) -> CompilerGymEnv:  # noqa: A002 - CompilerGym's signature
    """Make a CompilerGym environment by its id (``llvm-v0``, ``llvm-ic-v0``,
    ``llvm-autophase-ic-v0``, ...).

    Keyword arguments are CompilerGym's (``benchmark``, ``observation_space``,
    ``reward_space``, ``action_space`` as a list of flags, ``logging_level``; the service's
    ``connection_settings`` are accepted and change nothing) plus any of
    :class:`~optgym.envs.llvm.LlvmEnv`'s (``timeout``, ``dataset``, ...).
    """
    bare = id.split(":", 1)[-1]
    if bare not in COMPILERGYM_IDS:
        raise UnknownNameError(f"unknown CompilerGym environment {id!r}; known: "
                               f"{', '.join(COMPILERGYM_IDS)} (for Gymnasium's API use "
                               "gymnasium.make('optgym/llvm-v0'))")
    for name in _SERVICE_ARGS:
        if kwargs.get(name) is not None:
            raise OptgymError(f"{name}= chose CompilerGym's gRPC service; optgym runs LLVM in "
                              "a local worker that each environment owns")
        kwargs.pop(name, None)
    for name in _IGNORED_ARGS:
        kwargs.pop(name, None)
    observation, reward = COMPILERGYM_IDS[bare]
    observation = kwargs.pop("observation_space", observation)
    reward = kwargs.pop("reward_space", reward)
    kwargs.setdefault("dataset", "builtin-v0")
    return CompilerGymEnv(observation_space=observation, reward_space=reward, env_id=bare,
                          **kwargs)


def alias(gym: bool = False) -> None:
    """Make ``import compiler_gym`` import this package (``gym=True``: and ``import gym``
    gym 0.21's API, :mod:`optgym.compat.gym`); see :mod:`optgym.compat.aliases`."""
    from optgym.compat import aliases

    aliases.install(gym=gym)


def _register_ids() -> None:
    """CompilerGym's ids in Gymnasium's registry too, so ``gymnasium.make("llvm-v0")`` and
    SB3's ``make_vec_env("llvm-autophase-ic-v0")`` make compat envs."""
    registry = gymnasium.envs.registration.registry
    for env_id in COMPILERGYM_IDS:
        if env_id not in registry:
            gymnasium.register(id=env_id, entry_point="optgym.compat:make",
                               kwargs={"id": env_id}, disable_env_checker=True,
                               order_enforce=False)


_register_ids()
