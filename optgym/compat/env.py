"""CompilerGym's LLVM environment API, on top of optgym's Gymnasium environment.

:class:`CompilerGymEnv` holds one :class:`~optgym.envs.llvm.LlvmEnv` (made by
``gymnasium.make``) and speaks CompilerGym's dialect of it: ``reset()`` returns the observation,
``step()`` returns ``(observation, reward, done, info)``, actions can be lists, spaces can be
asked for per step, and everything CompilerGym's ``LlvmEnv`` had is an attribute of the
environment itself, with no ``.unwrapped``. Every step is the Gymnasium environment's step.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

import optgym
from optgym.cache import atomic_write
from optgym.compat.datasets import CompatDatasets, resolve_benchmark, resolve_uri
from optgym.datasets import Benchmark
from optgym.envs.llvm import CompilerEnvState, LlvmEnv, ValidationResult
from optgym.envs.llvm.spaces import (
    Commandline,
    ObservationSpec,
    RewardSpec,
    observation_spec,
)
from optgym.errors import OptgymError, RenderModeError
from optgym.llvm import toolchain

#: CompilerGym's default benchmark was cbench-v1/qsort; builtin-v0's quicksort needs no download.
DEFAULT_BENCHMARK = "benchmark://builtin-v0/sort_quick"

#: Observations CompilerGym returned as Python objects that optgym's Gymnasium space encodes
#: differently: computed here from the worker's program graph.
_GRAPH_OBSERVATIONS = ("Programl", "ProgramlJson")


@functools.cache
def _programl_json_spec() -> ObservationSpec:
    return ObservationSpec("ProgramlJson", gymnasium.spaces.Text(1 << 30), "env", "Programl")


def _spec(name: str | ObservationSpec) -> ObservationSpec:
    if isinstance(name, ObservationSpec):
        return name
    return _programl_json_spec() if name == "ProgramlJson" else observation_spec(name)


@functools.cache
def _compiler_version() -> str:
    out = subprocess.run([toolchain.opt(), "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    for line in out.splitlines():
        if "LLVM version" in line:
            return line.strip()
    return f"LLVM version {optgym.LLVM_VERSION}"


@dataclass
class ObservationSpaceSpec:
    """The default observation's description, as CompilerGym's (mutable) spec was.

    Wrappers that transform observations assign their new ``space`` to it, as CompilerGym's
    did; ``env.observation_space`` then reports that space.
    """

    id: str  # noqa: A003 - CompilerGym's attribute name
    space: gymnasium.Space
    deterministic: bool = True
    platform_dependent: bool = False

    @property
    def name(self) -> str:
        """The observation's name (the same as ``id``)."""
        return self.id

    @classmethod
    def of(cls, spec: ObservationSpec) -> ObservationSpaceSpec:
        return cls(spec.name, spec.space, spec.deterministic, spec.platform_dependent)


class CompatObservationView:
    """``env.observation["Name"]`` as CompilerGym gave it: ``Programl`` as a
    ``networkx.MultiDiGraph``, ``ProgramlJson`` as node-link JSON, every other space as the
    Gymnasium environment computes it."""

    def __init__(self, env: LlvmEnv):
        self._env = env

    def __getitem__(self, name: str | ObservationSpec | ObservationSpaceSpec) -> Any:
        name = name if isinstance(name, str) else name.name
        if name == "Programl":
            return self._env.program_graph().to_networkx()
        if name == "ProgramlJson":
            return self._env.program_graph().to_json()
        return self._env.observation[name]

    @property
    def spaces(self) -> dict[str, ObservationSpec]:
        """Every observation space, by name."""
        return {**self._env.observation.spaces, "ProgramlJson": _programl_json_spec()}


class CompilerGymEnv(gymnasium.Env):
    """An LLVM pass-ordering environment with CompilerGym's API (see the module docstring).

    Made by :func:`optgym.compat.make`. ``env.gymnasium_env`` is the
    :class:`~optgym.envs.llvm.LlvmEnv` underneath (Gymnasium's API); both see the same
    episode.
    """

    metadata = {"render_modes": ["human", "ansi"]}

    def __init__(self, env: LlvmEnv, *, env_id: str = "llvm-v0", benchmark: Any = None,
                 observation_space: str | None = None, reward_space: str | None = None,
                 owns: bool = True):
        self.gymnasium_env = env
        self._owns = owns
        self._benchmark_uri: str | None = resolve_uri(benchmark) if benchmark is not None \
            else None
        self._observation_spec: ObservationSpaceSpec | None = None
        self._has_reward = False
        self._actions: list[int] = []
        self.observation = CompatObservationView(env)
        self.datasets = CompatDatasets()
        self.spec = gymnasium.envs.registration.EnvSpec(
            id=env_id, entry_point="optgym.compat:make", max_episode_steps=None,
            disable_env_checker=True, order_enforce=False,
        )
        self.render_mode = None
        self.observation_space = observation_space
        self.reward_space = reward_space

    # -- spaces ----------------------------------------------------------------------------
    @property
    def action_space(self) -> Commandline:
        """The actions: a ``Discrete`` whose entries are named flags."""
        return self.gymnasium_env.action_space

    @action_space.setter
    def action_space(self, value: Any) -> None:
        if value is not None and value != self.gymnasium_env.action_space \
                and value != self.gymnasium_env.actions.name:
            raise OptgymError(
                "the action space is fixed when the environment is made: "
                "compat.make(id, action_space=[...flags...]) or 'flags-pipelines-v0'"
            )

    @property
    def action_spaces(self) -> list[Commandline]:
        """The action spaces this environment offers (one)."""
        return [self.action_space]

    @property
    def observation_space_spec(self) -> ObservationSpaceSpec | None:
        """The default observation's spec (``.id``, ``.space``), None when there is none."""
        return self._observation_spec

    @property
    def _observation_name(self) -> str | None:
        return self._observation_spec.id if self._observation_spec is not None else None

    @property
    def observation_space(self) -> gymnasium.Space | None:
        """The default observation's space; assign a name (or a spec, or None) to change it."""
        spec = self._observation_spec
        return spec.space if spec is not None else None

    @observation_space.setter
    def observation_space(self, name: str | ObservationSpec | ObservationSpaceSpec | None
                          ) -> None:
        if isinstance(name, ObservationSpaceSpec):
            name = name.id
        spec = _spec(name) if name is not None else None
        self._observation_spec = ObservationSpaceSpec.of(spec) if spec is not None else None
        # The graph forms are computed here from the worker's graph, not by the env's step.
        inner = None if spec is None or spec.name in _GRAPH_OBSERVATIONS else spec.name
        self.gymnasium_env.observation_space = inner

    @property
    def reward_space_spec(self) -> RewardSpec | None:
        """The default reward's spec, None when there is none."""
        return self.gymnasium_env.reward_space if self._has_reward else None

    @property
    def reward_space(self) -> RewardSpec | None:
        """The default reward (``.name``, ``.deterministic``); assign a name or None."""
        return self.reward_space_spec

    @reward_space.setter
    def reward_space(self, name: str | RewardSpec | None) -> None:
        self._has_reward = name is not None
        # Without a reward the env still counts instructions, the cheapest reward it has.
        self.gymnasium_env.reward_space = name if name is not None else "IrInstructionCount"

    @property
    def reward_range(self) -> tuple[float, float]:
        return self.gymnasium_env.reward_range

    @property
    def reward(self) -> Any:
        """``env.reward["Name"]``: any reward space's change since that space was last asked."""
        return self.gymnasium_env.reward

    # -- episode ---------------------------------------------------------------------------
    @property
    def benchmark(self) -> Benchmark:
        """The benchmark of this episode, or the one the next reset will use."""
        if self._benchmark_uri is not None:
            current = self.gymnasium_env.benchmark
            if current is not None and current.uri == self._benchmark_uri:
                return current
            return resolve_benchmark(self._benchmark_uri)
        if self.gymnasium_env.benchmark is not None:
            return self.gymnasium_env.benchmark
        return resolve_benchmark(DEFAULT_BENCHMARK)

    @benchmark.setter
    def benchmark(self, benchmark: str | Benchmark) -> None:
        self._benchmark_uri = resolve_uri(benchmark)

    def reset(self, benchmark: str | Benchmark | None = None, action_space: Any = None,
              observation_space: Any = ..., reward_space: Any = ..., *,
              seed: int | None = None, options: dict[str, Any] | None = None,
              retry_count: int = 0, timeout: float = 300) -> Any:
        """Start an episode (on ``benchmark`` from now on, when given) and return the
        observation; ``observation_space``/``reward_space`` given here change the defaults."""
        if benchmark is not None:
            self.benchmark = benchmark
        self.action_space = action_space
        if observation_space is not ...:
            self.observation_space = observation_space
        if reward_space is not ...:
            self.reward_space = reward_space
        uri = self._benchmark_uri or DEFAULT_BENCHMARK
        observation, _ = self.gymnasium_env.reset(
            seed=seed, options={**(options or {}), "benchmark": uri})
        self._benchmark_uri = uri
        self._actions = []
        return self._default_observation(observation)

    def step(self, action: Any, observation_spaces: Iterable[Any] | None = None,
             reward_spaces: Iterable[Any] | None = None, observations: Any = None,
             rewards: Any = None, timeout: float = 300) -> tuple[Any, Any, bool, dict]:
        """Apply one action (or a list, as :meth:`multistep`); return
        ``(observation, reward, done, info)``. With ``observation_spaces`` / ``reward_spaces``
        the observation / reward is a list, one per named space."""
        actions = list(action) if _is_sequence(action) else [action]
        return self.multistep(actions, observation_spaces or observations,
                              reward_spaces or rewards, timeout=timeout)

    def multistep(self, actions: Iterable[Any], observation_spaces: Iterable[Any] | None = None,
                  reward_spaces: Iterable[Any] | None = None, observations: Any = None,
                  rewards: Any = None, timeout: float = 300) -> tuple[Any, Any, bool, dict]:
        """Apply actions in order, stopping at one that ends the episode."""
        actions = list(actions)
        observation_spaces = observation_spaces or observations
        reward_spaces = reward_spaces or rewards
        env = self.gymnasium_env
        if not env.in_episode:
            raise OptgymError("call reset() before step()")
        total, done, last = 0.0, False, None
        info: dict[str, Any] = {"action_had_no_effect": True, "new_action_space": False}
        for action in actions:
            last, reward, done, _, step_info = env.step(action)
            total += reward
            if "error" in step_info:
                info["error_type"] = type(step_info["error"]).__name__
                info["error_details"] = str(step_info["error"])
                break
            self._actions.append(int(action))
            info["action_had_no_effect"] &= step_info["action_had_no_effect"]
            if done:
                break
        if observation_spaces is not None:
            observation: Any = [self.observation[s] for s in observation_spaces]
        else:
            observation = self._default_observation(last if actions else None)
        if reward_spaces is not None:
            reward: Any = [self.reward[r.name if isinstance(r, RewardSpec) else r]
                           for r in reward_spaces]
        else:
            reward = total if self._has_reward else None
        return observation, reward, done, info

    def _default_observation(self, computed: Any = None) -> Any:
        """The default observation; ``computed`` is what the Gymnasium env just returned,
        which is it unless the compat env computes that space itself (the graph forms)."""
        name = self._observation_name
        if name is None:
            return None
        if computed is not None and name not in _GRAPH_OBSERVATIONS:
            return computed
        return self.observation[name]

    @property
    def actions(self) -> list[int]:
        """The actions of this episode, as indices into the action space."""
        return list(self._actions)

    @property
    def in_episode(self) -> bool:
        """Whether reset() has been called."""
        return self.gymnasium_env.in_episode

    @property
    def episode_reward(self) -> float | None:
        """The sum of this episode's rewards (None without a reward space)."""
        return self.gymnasium_env.episode_reward if self._has_reward else None

    @episode_reward.setter
    def episode_reward(self, value: float) -> None:
        self.gymnasium_env.episode_reward = value

    @property
    def episode_walltime(self) -> float:
        """Seconds since the last reset."""
        return self.gymnasium_env.episode_walltime

    @property
    def state(self) -> CompilerEnvState:
        """The episode as a record: benchmark, reward, walltime and an `opt-19` command line."""
        state = self.gymnasium_env.state
        if not self._has_reward:
            state = CompilerEnvState(state.benchmark, state.commandline, state.walltime, None)
        return state

    def commandline(self) -> str:
        """An `opt-19` command line that reproduces the episode (runnable as it is)."""
        return self.gymnasium_env.commandline()

    def commandline_to_actions(self, commandline: str) -> list[int]:
        """The actions of a command line (``env.action_space.from_string``)."""
        return self.action_space.from_string(commandline)

    def apply(self, state: CompilerEnvState) -> None:
        """Reset to the state's benchmark and replay its command line (either form).

        A flag left out of LLVM 19, an unknown flag, or a step outside the action space
        raises OptgymError; nothing is skipped.
        """
        actions = self.action_space.from_string(state.commandline)
        self.benchmark = state.benchmark
        self.gymnasium_env.apply(CompilerEnvState(
            self._benchmark_uri, state.commandline, state.walltime, state.reward))
        self._actions = actions

    def validate(self, state: CompilerEnvState | None = None) -> ValidationResult:
        """Replay a state (default: this episode's) with the real `opt-19` and check it."""
        return self.gymnasium_env.validate(state or self.state)

    def fork(self) -> CompilerGymEnv:
        """An independent copy of this environment in its current state."""
        other = CompilerGymEnv(
            self.gymnasium_env.fork(), env_id=self.spec.id, benchmark=self._benchmark_uri,
            observation_space=self._observation_name,
            reward_space=self.reward_space.name if self._has_reward else None,
        )
        other._actions = list(self._actions)
        if self._observation_spec is not None:  # a wrapper may have set its own space on it
            other._observation_spec = dataclasses.replace(self._observation_spec)
        return other

    # -- the module ------------------------------------------------------------------------
    @property
    def ir(self) -> str:
        """The module's textual IR."""
        return self.gymnasium_env.observation["Ir"]

    @property
    def ir_sha1(self) -> str:
        """SHA-1 of the module's textual IR."""
        return hashlib.sha1(self.ir.encode()).hexdigest()

    def write_ir(self, path: str | Path) -> Path:
        """Write the module's IR to ``path`` (atomically); returns the path."""
        path = Path(path).expanduser()
        atomic_write(path, self.ir.encode())
        return path

    def write_bitcode(self, path: str | Path) -> Path:
        """Write the module's bitcode to ``path`` (atomically); returns the path."""
        path = Path(path).expanduser()
        atomic_write(path, bytes(self.gymnasium_env.observation["Bitcode"]))
        return path

    def make_benchmark(self, inputs: str | Path) -> Benchmark:
        """A benchmark from one C, .ll or .bc file (CompilerGym also took lists and flags)."""
        if not isinstance(inputs, (str, Path)):
            raise OptgymError("make_benchmark takes one .c, .ll or .bc file; for a project "
                              "use `optgym datasets add-project`")
        return resolve_benchmark(Path(inputs).resolve().as_uri())

    @property
    def compiler_version(self) -> str:
        """The LLVM release the worker and the referee run (``LLVM version 19.1.7``)."""
        return _compiler_version()

    @property
    def version(self) -> str:
        """optgym's version."""
        return optgym.__version__

    def render(self, mode: str | None = "human") -> str | None:
        """``human``: print the IR; ``ansi``: return it."""
        if mode not in self.metadata["render_modes"]:
            raise RenderModeError(f"render mode {mode!r} is not one of "
                                  f"{self.metadata['render_modes']}")
        text = self.ir
        if mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """End the episode and, when this env made it, the Gymnasium env and its worker."""
        if self._owns and self.gymnasium_env is not None:
            self.gymnasium_env.close()

    def __repr__(self) -> str:
        return f"CompilerGymEnv<{self.spec.id}>"


def _is_sequence(action: Any) -> bool:
    if isinstance(action, np.ndarray):
        return action.ndim > 0
    return isinstance(action, (list, tuple))
