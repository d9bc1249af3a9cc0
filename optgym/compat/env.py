"""CompilerGym's LLVM environment API on optgym's Gymnasium environment.

:class:`CompilerGymEnv` (also ``optgym.compat.LlvmEnv``) holds one plain
:class:`~optgym.envs.llvm.LlvmEnv` and speaks CompilerGym's dialect of it: observation and
reward spaces assigned by name at any time, ``env.observation["Name"]`` and
``env.reward["Name"]``, ``reset()`` returning the observation, ``step()`` returning ``(obs,
reward, done, info)`` and taking lists of actions, CompilerGym's command lines, states,
validation results, datasets and benchmarks. A step is one
:meth:`~optgym.envs.llvm.LlvmEnv.apply_action` of the env underneath, which brings back what
this step observes in the same reply: the compat env costs what the plain one does
(``benchmarks/compat_step.py``).

Gymnasium tooling gets Gymnasium's API from the same object: a ``reset`` called with
Gymnasium's keywords (``seed=`` or ``options=``, as Gymnasium's wrappers, vector envs and
Stable-Baselines3 call it) returns ``(observation, info)``, and that episode's steps return
Gymnasium's five-tuple. CompilerGym's ``reset`` never took those keywords.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, SupportsInt

import gymnasium
import numpy as np

import optgym
from optgym.cache import atomic_write
from optgym.compat.datasets import Benchmark, Datasets, resolve_benchmark
from optgym.compat.errors import BenchmarkInitError, SessionNotFound
from optgym.compat.spaces import ObservationSpaceSpec, RewardSpaceSpec
from optgym.compat.state import ValidationResult
from optgym.compat.util.debug import get_logging_level
from optgym.envs.llvm import CompilerEnvState
from optgym.envs.llvm import LlvmEnv as GymnasiumLlvmEnv
from optgym.envs.llvm.spaces import (
    OBSERVATION_SPECS,
    REWARD_SPECS,
    Commandline,
    programl_spec,
    reward_spec,
)
from optgym.errors import BenchmarkError, OptgymError, RenderModeError
from optgym.llvm import passes as pass_table
from optgym.llvm import toolchain

#: CompilerGym's default benchmark was cbench-v1/qsort; builtin-v0's quicksort needs no download.
DEFAULT_BENCHMARK = "benchmark://builtin-v0/sort_quick"

#: Observations CompilerGym gave as Python objects that optgym's Gymnasium spaces encode
#: differently; computed here from the worker's program graph.
_GRAPH_OBSERVATIONS = ("Programl", "ProgramlJson")

#: Spaces CompilerGym had that are computed here from optgym's.
_EXTRA_OBSERVATIONS = ("IrSha1", "InstCountNormDict", "ProgramlJson")

#: What a spec or a name may be given as.
SpaceName = str | ObservationSpaceSpec | RewardSpaceSpec


@functools.cache
def _compiler_version() -> str:
    """The version of the LLVM that `opt-19` is (``19.1.7``)."""
    import subprocess

    out = subprocess.run([toolchain.opt(), "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    for line in out.splitlines():
        if "LLVM version" in line:
            return line.split("LLVM version", 1)[1].strip()
    return optgym.LLVM_VERSION


def _python_value(value: Any) -> Any:
    """CompilerGym's scalar observations were Python numbers, not 0-d arrays."""
    if isinstance(value, np.ndarray) and value.shape == ():
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


class _EnvSpec(gymnasium.envs.registration.EnvSpec):
    """Gymnasium's spec, with gym 0.21's name for its arguments (``spec._kwargs``)."""

    @property
    def _kwargs(self) -> dict[str, Any]:
        return self.kwargs


class ObservationView:
    """``env.observation["Name"]``: any observation space of the current module, as CompilerGym
    gave it (``Programl`` a ``networkx.MultiDiGraph``, scalars Python numbers);
    ``env.observation.Name()`` is the same; ``spaces`` lists them; ``add_derived_space``
    defines new ones from old."""

    def __init__(self, env: CompilerGymEnv):
        self._env = env
        self.derived: dict[str, ObservationSpaceSpec] = {}

    def __getitem__(self, name: SpaceName) -> Any:
        name = name if isinstance(name, str) else name.id
        env = self._env
        plain = env.gymnasium_env
        if not plain.in_episode:
            raise SessionNotFound("call reset() before asking for an observation")
        derived = self.derived.get(name)
        if derived is not None:
            return derived.translate(self[derived.base_id])
        if name == "Programl":
            return plain.program_graph().to_networkx()
        if name == "ProgramlJson":
            return plain.program_graph().to_json()
        if name == "IrSha1":
            return hashlib.sha1(plain.observe("Ir").encode()).hexdigest()
        if name == "InstCountNormDict":
            from optgym.envs.llvm.spaces import INSTCOUNT_NAMES

            values = plain.observe("InstCountNorm")
            return {_norm_name(n): float(v)
                    for n, v in zip(INSTCOUNT_NAMES[1:], values, strict=True)}
        if name not in OBSERVATION_SPECS and name != "Programl":
            raise KeyError(name)
        return _python_value(plain.observe(name))

    def __getattr__(self, name: str) -> Callable[[], Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self.spaces:
            raise AttributeError(f"no observation space {name!r}")
        return lambda: self[name]

    @property
    def spaces(self) -> dict[str, ObservationSpaceSpec]:
        """Every observation space, by name (CompilerGym's ``env.observation.spaces``)."""
        return {**_base_observation_specs(), **self.derived}

    def add_derived_space(
        self, id: str, base_id: str, space: gymnasium.Space,  # noqa: A002
        translate: Callable[[Any], Any], deterministic: bool | None = None,
        platform_dependent: bool | None = None, default_value: Any = None,
    ) -> None:
        """A new observation space ``id``: ``translate`` of the value of ``base_id``."""
        base = self.spaces.get(base_id)
        if base is None:
            raise LookupError(f"Observation space not found: {base_id}")
        self.derived[id] = ObservationSpaceSpec(
            id, space,
            base.deterministic if deterministic is None else deterministic,
            base.platform_dependent if platform_dependent is None else platform_dependent,
            default_value, base_id, translate)


@functools.cache
def _base_observation_specs() -> dict[str, ObservationSpaceSpec]:
    programl_spec()
    specs = {name: ObservationSpaceSpec.of(spec) for name, spec in OBSERVATION_SPECS.items()}
    text = gymnasium.spaces.Text(max_length=1 << 30, min_length=0)
    specs["IrSha1"] = ObservationSpaceSpec("IrSha1", text)
    specs["ProgramlJson"] = ObservationSpaceSpec("ProgramlJson", text)
    from optgym.envs.llvm.spaces import INSTCOUNT_NAMES

    specs["InstCountNormDict"] = ObservationSpaceSpec("InstCountNormDict", gymnasium.spaces.Dict(
        {_norm_name(n): gymnasium.spaces.Box(0, 1, shape=(), dtype=np.float32)
         for n in INSTCOUNT_NAMES[1:]}))
    return specs


def _norm_name(name: str) -> str:
    """CompilerGym's key of an InstCountNormDict entry (``RetCount`` -> ``RetNorm``)."""
    return name.replace("Count", "Norm") if name.endswith("Count") else f"{name}Norm"


class RewardView:
    """``env.reward["Name"]``: any reward space's reward since that space last gave one (since
    the episode began, the first time); ``env.reward.Name()`` is the same; ``spaces`` lists
    them."""

    def __init__(self, env: CompilerGymEnv):
        self._env = env

    def __getitem__(self, name: SpaceName) -> float:
        name = name if isinstance(name, str) else name.id
        if name not in REWARD_SPECS:
            raise KeyError(name)
        if not self._env.gymnasium_env.in_episode:
            raise SessionNotFound("call reset() before asking for a reward")
        return self._env._reward(reward_spec(name))

    def __getattr__(self, name: str) -> Callable[[], float]:
        if name.startswith("_") or name not in REWARD_SPECS:
            raise AttributeError(name)
        return lambda: self[name]

    @property
    def spaces(self) -> dict[str, RewardSpaceSpec]:
        """CompilerGym's reward spaces, by name (``env.reward.spaces``); optgym's
        ``RuntimeO3`` is left out of the list but can be asked for by name."""
        return {name: RewardSpaceSpec(spec) for name, spec in REWARD_SPECS.items()
                if name != "RuntimeO3"}


class CompilerEnv(gymnasium.Env):
    """CompilerGym's base class of compiler environments (``compiler_gym.envs.CompilerEnv``);
    optgym's only one is :class:`CompilerGymEnv`, its LLVM environment."""


class CompilerGymEnv(CompilerEnv):
    """CompilerGym's LLVM environment (``compiler_gym.envs.LlvmEnv``) on optgym's.

    Made by :func:`optgym.compat.make` or directly: ``LlvmEnv(benchmark=...,
    observation_space="Autophase", reward_space="IrInstructionCountOz")``; other keyword
    arguments go to :class:`~optgym.envs.llvm.LlvmEnv` (``action_space``, ``timeout``, ...).
    ``env.gymnasium_env`` is the plain environment underneath; both see the same episode.
    """

    metadata = {"render_modes": ["human", "ansi"], "render.modes": ["human", "ansi"]}

    def __init__(self, benchmark: str | Benchmark | None = None, *,
                 observation_space: SpaceName | None = None,
                 reward_space: SpaceName | None = None,
                 action_space: str | Sequence[str] | None = None,
                 env_id: str = "llvm-v0", logging_level: int | None = None,
                 gymnasium_env: GymnasiumLlvmEnv | None = None, owns: bool = True,
                 **llvm_kwargs: Any):
        if action_space is not None:
            llvm_kwargs["action_space"] = action_space
        self._llvm_kwargs = dict(llvm_kwargs, observation_space=None,
                                 reward_space="IrInstructionCount")
        self.gymnasium_env = gymnasium_env or GymnasiumLlvmEnv(**self._llvm_kwargs)
        self._owns = owns
        self._benchmark: Benchmark | None = (
            resolve_benchmark(benchmark) if benchmark is not None else None)
        self._episode_benchmark: Benchmark | None = None
        self._draw_benchmarks = False
        self._observation_spec: ObservationSpaceSpec | None = None
        self._reward_spec: RewardSpaceSpec | None = None
        self._step_observations: tuple[str, ...] = ("IrInstructionCount",)
        self._actions: list[int] = []
        self._costs: dict[str, float] = {}
        self._gymnasium_api = False
        self.episode_reward: float | None = None
        self.observation = ObservationView(self)
        self.reward = RewardView(self)
        self.datasets = Datasets()
        self.logger = logging.getLogger("compiler_gym")
        self.logger.setLevel(get_logging_level() if logging_level is None else logging_level)
        self.spec = _EnvSpec(
            id=env_id, entry_point="optgym.compat:make", max_episode_steps=None,
            disable_env_checker=True, order_enforce=False, kwargs={"id": env_id},
        )
        self.render_mode = None
        self.observation_space = observation_space
        self.reward_space = reward_space
        if self.gymnasium_env.in_episode:  # an env handed over mid-episode: carry on from here
            self._episode_benchmark = Benchmark(self.gymnasium_env.benchmark)
            self._benchmark = self._benchmark or self._episode_benchmark
            self.episode_reward = 0.0 if self._reward_spec is not None else None

    # -- spaces ----------------------------------------------------------------------------
    @property
    def action_space(self) -> Commandline:
        """The actions: a ``Discrete`` whose entries are named flags."""
        return self.gymnasium_env.action_space

    @action_space.setter
    def action_space(self, value: object) -> None:
        if value is not None and value != self.gymnasium_env.action_space \
                and value != self.gymnasium_env.actions.name:
            raise OptgymError(
                "the action space is fixed when the environment is made: "
                "compat.make(id, action_space=[...flags...]) or 'flags-pipelines-v0'")

    @property
    def action_spaces(self) -> list[Commandline]:
        """The action spaces this environment offers (one)."""
        return [self.action_space]

    @property
    def observation_space_spec(self) -> ObservationSpaceSpec | None:
        """The default observation's spec (``.id``, ``.space``), None when there is none."""
        return self._observation_spec

    @property
    def observation_space(self) -> gymnasium.Space | None:
        """The default observation's space; assign a name (or a spec, or None) to change it."""
        spec = self._observation_spec
        return spec.space if spec is not None else None

    @observation_space.setter
    def observation_space(self, name: SpaceName | None) -> None:
        if isinstance(name, gymnasium.Space) and getattr(name, "name", None):
            name = name.name
        if isinstance(name, ObservationSpaceSpec):
            name = name.id
        if name is None:
            self._observation_spec = None
        else:
            spec = self.observation.spaces.get(name)
            if spec is None:
                raise LookupError(f"Observation space not found: {name}")
            self._observation_spec = ObservationSpaceSpec(**vars(spec))
        self._update_step_observations()

    @property
    def reward_space_spec(self) -> RewardSpaceSpec | None:
        """The default reward's spec, None when there is none."""
        return self._reward_spec

    @property
    def reward_space(self) -> RewardSpaceSpec | None:
        """The default reward (``.name``, ``.deterministic``); assign a name, spec or None."""
        return self._reward_spec

    @reward_space.setter
    def reward_space(self, name: SpaceName | None) -> None:
        if isinstance(name, RewardSpaceSpec):
            name = name.id
        if name is None:
            self._reward_spec = None
        else:
            if name not in REWARD_SPECS:
                raise LookupError(f"Reward space not found: {name}")
            self._reward_spec = RewardSpaceSpec(reward_spec(name))
            if self.gymnasium_env.in_episode:  # the next step's reward is the change from here
                spec = self._reward_spec.spec
                self._costs[spec.name] = self._cost(spec.cost)
        self._update_step_observations()

    @property
    def reward_range(self) -> tuple[float, float]:
        """The default reward's range."""
        if self._reward_spec is None:
            return (-np.inf, np.inf)
        low, high = self._reward_spec.range
        return float(low), float(high)

    def _update_step_observations(self) -> None:
        """What the worker sends back with each step: the default observation's and reward's
        values (the instruction count always: it is free)."""
        names = {"IrInstructionCount"}
        spec = self._observation_spec
        base = spec.base_id if spec is not None and spec.base_id else (spec.id if spec else None)
        if base in OBSERVATION_SPECS and OBSERVATION_SPECS[base].source != "baseline":
            worker = OBSERVATION_SPECS[base].worker
            if worker:
                names.add(worker)
        elif base in _GRAPH_OBSERVATIONS:
            names.add("Programl")
        elif base in ("IrSha1", "InstCountNormDict"):
            names.add("Ir" if base == "IrSha1" else "InstCount")
        if self._reward_spec is not None and self._reward_spec.spec.cost != "Runtime":
            names.add(self._reward_spec.spec.cost)
        self._step_observations = tuple(sorted(names))

    @property
    def gymnasium_api(self) -> bool:
        """Whether this episode speaks Gymnasium's API (its reset had ``seed=``/``options=``)."""
        return self._gymnasium_api

    @property
    def _eager_observation(self) -> bool:
        return self._observation_spec is not None

    # -- episode ---------------------------------------------------------------------------
    @property
    def benchmark(self) -> Benchmark | None:
        """The benchmark of this episode (before the first reset, the one it will use)."""
        plain = self.gymnasium_env
        if not plain.in_episode:
            if self._benchmark is None and not self._draw_benchmarks:
                return resolve_benchmark(DEFAULT_BENCHMARK)
            return self._benchmark
        current = self._episode_benchmark
        if current is not None and current == plain.benchmark:
            return current
        return Benchmark(plain.benchmark)

    @benchmark.setter
    def benchmark(self, benchmark: str | Benchmark | None) -> None:
        if benchmark is not None and not isinstance(benchmark, (str, Benchmark)):
            raise TypeError(f"Expected a Benchmark instance, received: "
                            f"'{type(benchmark).__name__}'")
        chosen = resolve_benchmark(benchmark) if benchmark is not None else None
        if self.gymnasium_env.in_episode and chosen != self.gymnasium_env.benchmark:
            warnings.warn("Changing the benchmark has no effect until reset() is called",
                          stacklevel=2)
        self._benchmark = chosen
        self._draw_benchmarks = chosen is None  # None: each reset draws one (CompilerGym's)

    def reset(self, benchmark: str | Benchmark | None = None, action_space: object = None,
              observation_space: SpaceName | None = ..., reward_space: SpaceName | None = ...,
              timeout: float = 300, retry_count: int = 0, **gymnasium_kwargs: Any) -> Any:
        """Start an episode (on ``benchmark`` from now on, when given) and return the
        observation; ``observation_space``/``reward_space`` given here change the defaults.

        Called with Gymnasium's ``seed=`` or ``options=`` (as Gymnasium's wrappers, vector envs
        and Stable-Baselines3 call it), returns ``(observation, info)``, and the episode's
        steps return Gymnasium's five-tuple.
        """
        unknown = set(gymnasium_kwargs) - {"seed", "options"}
        if unknown:
            raise TypeError(f"reset() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        self._gymnasium_api = bool(gymnasium_kwargs)
        options = dict(gymnasium_kwargs.get("options") or {})
        if "benchmark" in options:
            benchmark = options.pop("benchmark")
        if benchmark is not None:
            self._benchmark = resolve_benchmark(benchmark)
        self.action_space = action_space
        if observation_space is not ...:
            self.observation_space = observation_space
        if reward_space is not ...:
            self.reward_space = reward_space
        if self.gymnasium_env.closed:  # closed: start over, as CompilerGym did
            self.gymnasium_env = GymnasiumLlvmEnv(**self._llvm_kwargs)
        chosen = self._benchmark
        if chosen is None and not self._draw_benchmarks:
            chosen = resolve_benchmark(DEFAULT_BENCHMARK)
        if chosen is not None:
            options["benchmark"] = chosen.core
        try:
            _, info = self.gymnasium_env.reset(seed=gymnasium_kwargs.get("seed"), options=options)
        except BenchmarkError as exc:
            if isinstance(exc, LookupError):
                raise
            raise BenchmarkInitError(str(exc)) from None
        self._episode_benchmark = chosen
        self._actions = []
        self._costs = {}
        self.episode_reward = 0.0 if self._reward_spec is not None else None
        observation = self._default_observation()
        if self._gymnasium_api:
            return observation, info
        return observation

    def step(self, action: SupportsInt | Iterable[SupportsInt],
             observation_spaces: Iterable[SpaceName] | None = None,
             reward_spaces: Iterable[SpaceName] | None = None, observations: Any = None,
             rewards: Any = None, timeout: float = 300) -> tuple[Any, ...]:
        """Apply one action (or a list, as :meth:`multistep`); return ``(observation, reward,
        done, info)``. With ``observation_spaces`` / ``reward_spaces`` the observation / reward
        is a list, one per named space, and ``episode_reward`` is left alone."""
        if isinstance(action, (int, np.integer)):  # the common case, first
            actions: list[Any] = [action]
        elif _is_sequence(action):
            actions = list(action)
        else:
            actions = [action]
        return self.multistep(actions, observation_spaces or observations,
                              reward_spaces or rewards, timeout=timeout)

    def multistep(self, actions: Iterable[SupportsInt],
                  observation_spaces: Iterable[SpaceName] | None = None,
                  reward_spaces: Iterable[SpaceName] | None = None, observations: Any = None,
                  rewards: Any = None, timeout: float = 300) -> tuple[Any, ...]:
        """Apply actions in order, stopping at one that ends the episode."""
        plain = self.gymnasium_env
        if not plain.in_episode:
            raise SessionNotFound("Must call reset() before step()")
        observation_spaces = observation_spaces if observation_spaces is not None \
            else observations
        reward_spaces = reward_spaces if reward_spaces is not None else rewards
        info: dict[str, Any] = {"action_had_no_effect": True, "new_action_space": False}
        done = False
        for action in actions:
            try:
                changed = plain.apply_action(action, self._step_observations)
            except OptgymError as crash:  # LLVM crashed or timed out, or the worker is gone
                info["error_type"] = type(crash).__name__
                info["error_details"] = str(crash)
                done = True
                break
            self._actions.append(int(action))
            if changed:
                info["action_had_no_effect"] = False
        if observation_spaces is not None:
            observation: Any = [self.observation[s] for s in observation_spaces]
        else:
            observation = self._default_observation()
        if reward_spaces is not None:
            reward: Any = [self.reward[s] for s in reward_spaces]
        elif self._reward_spec is None:
            reward = None
        elif "error_type" in info:
            reward = self._reward_spec.reward_on_error(self.episode_reward or 0.0)
            self.episode_reward = (self.episode_reward or 0.0) + reward
        else:
            reward = self._reward(self._reward_spec.spec)
            self.episode_reward += reward
        if self._gymnasium_api:
            return observation, 0.0 if reward is None else reward, done, False, info
        return observation, reward, done, info

    def _default_observation(self) -> Any:
        spec = self._observation_spec
        return self.observation[spec.id] if spec is not None else None

    def _cost(self, cost: str) -> float:
        return float(self.gymnasium_env.observe(cost))

    def _reward(self, spec: Any) -> float:
        """``spec``'s reward since it last gave one (since the benchmark, the first time)."""
        plain = self.gymnasium_env
        if spec.runnable_only and not plain.benchmark.runnable:
            raise BenchmarkError(f"{plain.benchmark.uri} is not runnable; no {spec.name} reward")
        baselines = plain.baselines(spec.cost)
        previous = self._costs.get(spec.name, baselines[f"{spec.cost}O0"])
        cost = self._cost(spec.cost)
        self._costs[spec.name] = cost
        return float((previous - cost) / spec.scale(baselines))

    @property
    def actions(self) -> list[int]:
        """The actions of this episode, as indices into the action space."""
        return list(self._actions)

    @property
    def in_episode(self) -> bool:
        """Whether reset() has been called (and the env not closed since)."""
        return self.gymnasium_env.in_episode

    @property
    def episode_walltime(self) -> float:
        """Seconds since the last reset."""
        return self.gymnasium_env.episode_walltime

    @property
    def service(self) -> object | None:
        """What runs the compiler: the worker's session (None once closed). CompilerGym's was
        a gRPC service; optgym's worker is a local process with no connection settings."""
        return self.gymnasium_env.session if not self.gymnasium_env.closed else None

    def commandline(self) -> str:
        """CompilerGym's command line for this episode: ``opt -mem2reg -gvn input.bc -o
        output.bc`` (:meth:`gymnasium_env.commandline() <optgym.envs.llvm.LlvmEnv.commandline>`
        is the `opt-19` one)."""
        flags = _flags_of(self.gymnasium_env.actions_taken)
        return f"opt {' '.join(flags)} input.bc -o output.bc"

    def commandline_to_actions(self, commandline: str) -> list[int]:
        """The actions of a command line (``env.action_space.from_string``)."""
        return self.action_space.from_string(commandline)

    @property
    def state(self) -> CompilerEnvState:
        """The episode as a record: benchmark, reward, walltime and the command line."""
        plain = self.gymnasium_env
        if not plain.in_episode:
            raise SessionNotFound("call reset() before reading the state")
        return CompilerEnvState(str(plain.benchmark.uri), self.commandline(),
                                plain.episode_walltime, self.episode_reward)

    def apply(self, state: CompilerEnvState) -> None:
        """Reset to the state's benchmark and replay its command line (either form).

        A flag left out of LLVM 19, an unknown flag, or a step outside the action space
        raises; nothing is skipped.
        """
        actions = self.action_space.from_string(state.commandline)
        self.reset(benchmark=state.benchmark)
        if actions:
            _, _, done, info = self.multistep(actions)
            if done:
                raise ValueError(f"replaying {state.commandline!r} ended the episode: "
                                 f"{info.get('error_details')}")

    def validate(self, state: CompilerEnvState | None = None) -> ValidationResult:
        """Replay a state (default: this episode's) with the real `opt-19` and check it; the
        reward is checked when the state has one and this env has a reward space."""
        if state is None:
            if not self.in_episode:
                raise SessionNotFound("call reset() before validate()")
            state = self.state
        if not self.gymnasium_env.in_episode:
            self.reset(benchmark=state.benchmark)
        reward = self._reward_spec.name if self._reward_spec is not None else None
        result = self.gymnasium_env.validate(state, reward_space=reward)
        if self._benchmark is not None and self._benchmark == state.benchmark:
            for callback in self._benchmark.validation_callbacks:
                result.errors.extend(callback(self))
        return ValidationResult.of(result)

    def fork(self) -> CompilerGymEnv:
        """An independent copy of this environment in its current state (reset first when
        no episode has begun, as CompilerGym did)."""
        if self.gymnasium_env.closed and self._episode_benchmark is not None:
            self._resume()  # CompilerGym restarted its service and replayed the episode
        if not self.in_episode:
            self.reset()
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.gymnasium_env = self.gymnasium_env.fork()
        other._owns = True
        other._actions = list(self._actions)
        other._costs = dict(self._costs)
        other.observation = ObservationView(other)
        other.observation.derived = dict(self.observation.derived)
        other.reward = RewardView(other)
        other.datasets = self.datasets
        if self._observation_spec is not None:  # a wrapper may have set its own space on it
            other._observation_spec = ObservationSpaceSpec(**vars(self._observation_spec))
        return other

    def _resume(self) -> None:
        """After close(): a new worker, this episode's benchmark and actions replayed."""
        actions, costs, reward = list(self._actions), dict(self._costs), self.episode_reward
        self.reset(benchmark=self._episode_benchmark)
        for action in actions:
            self.gymnasium_env.apply_action(action)
        self._actions, self._costs, self.episode_reward = actions, costs, reward

    def __copy__(self) -> CompilerGymEnv:
        raise TypeError("CompilerEnv instances do not support shallow copies. Use deepcopy()")

    def __deepcopy__(self, memo: dict[int, object]) -> CompilerGymEnv:
        return self.fork()

    # -- the module ------------------------------------------------------------------------
    @property
    def ir(self) -> str:
        """The module's textual IR."""
        return self.observation["Ir"]

    @property
    def ir_sha1(self) -> str:
        """SHA-1 of the module's textual IR."""
        return self.observation["IrSha1"]

    def write_ir(self, path: str | Path) -> Path:
        """Write the module's IR to ``path`` (atomically); returns the path."""
        path = Path(path).expanduser()
        atomic_write(path, self.ir.encode())
        return path

    def write_bitcode(self, path: str | Path) -> Path:
        """Write the module's bitcode to ``path`` (atomically); returns the path."""
        path = Path(path).expanduser()
        atomic_write(path, bytes(self.gymnasium_env.observe("Bitcode")))
        return path

    def make_benchmark(self, inputs: Any, copt: Sequence[str] | None = None,
                       system_includes: bool = True, timeout: int = 600) -> Benchmark:
        """A benchmark from C, C++, .ll or .bc files (CompilerGym's ``make_benchmark``)."""
        from optgym.compat.llvm import make_benchmark

        return make_benchmark(inputs, copt=copt, system_includes=system_includes,
                              timeout=timeout)

    def require_dataset(self, name: str) -> None:
        """CompilerGym's older ``env.require_dataset``: ``env.datasets.require``."""
        self.datasets.require(name)

    def get_benchmark(self) -> Benchmark | None:
        """CompilerGym's older name for :attr:`benchmark`."""
        return self.benchmark

    @property
    def compiler_version(self) -> str:
        """The LLVM release the worker and the referee run (``19.1.7``)."""
        return _compiler_version()

    @property
    def version(self) -> str:
        """optgym's version."""
        return optgym.__version__

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Seed the draws of benchmarks and of ``action_space.sample()`` (CompilerGym's)."""
        self.gymnasium_env.np_random = np.random.default_rng(seed)
        self.action_space.seed(seed)
        return [seed]

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


#: CompilerGym's class name for the LLVM environment.
LlvmEnv = CompilerGymEnv


@functools.cache
def _flag_by_pipeline() -> dict[str, str]:
    table = {a.pipeline: a.flag for a in pass_table.FLAGS_AND_PIPELINES.actions}
    table.setdefault(pass_table.ALWAYS_INLINE, "-always-inline")
    return table


def _flags_of(steps: Sequence[str]) -> list[str]:
    table = _flag_by_pipeline()
    return [table.get(step, f"-passes={step}") for step in steps]


def _is_sequence(action: object) -> bool:
    if isinstance(action, np.ndarray):
        return action.ndim > 0
    return isinstance(action, Iterable) and not isinstance(action, (str, bytes))
