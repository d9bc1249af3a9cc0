"""CompilerGym's wrappers (``compiler_gym.wrappers``), same names and behaviour, for both
of optgym's APIs.

Each wrapper is a :class:`gymnasium.Wrapper` and speaks the API of what it wraps: around a
CompilerGym-style env (:func:`optgym.compat.make`) ``reset()`` returns the observation and
``step()`` returns ``(observation, reward, done, info)``, lists of actions included; around a
Gymnasium env (``gymnasium.make("optgym/llvm-v0")``, :class:`~optgym.envs.llvm.LlvmEnv`, or a
compat env whose episode Gymnasium's tooling started) they keep Gymnasium's five-tuple, so
Gymnasium's own wrappers stack above and below them. CompilerGym's attributes (``fork``,
``observation``, ``state``, ...) are reachable through any of these wrappers.
:class:`ObservationWrapper` and :class:`RewardWrapper` take CompilerGym's
``convert_observation``/``convert_reward`` or Gymnasium's ``observation``/``reward``.

>>> from optgym import compat
>>> from optgym.compat.wrappers import CycleOverBenchmarks, TimeLimit
>>> env = TimeLimit(compat.make("llvm-autophase-ic-v0"), max_episode_steps=10)
>>> env = CycleOverBenchmarks(env, ["builtin-v0/crc32", "builtin-v0/sort_quick"])
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import gymnasium
import numpy as np

from optgym.compat.datasets import Benchmark, resolve_uri
from optgym.compat.env import CompilerGymEnv
from optgym.envs.llvm.spaces import Commandline
from optgym.errors import ArgumentKindError, OptgymError
from optgym.llvm.passes import LEFT_OUT, Action, ActionSet

__all__ = [
    "ActionWrapper", "CommandlineWithTerminalAction", "CompilerEnvWrapper",
    "ConstrainedCommandline", "Counter", "CycleOverBenchmarks", "CycleOverBenchmarksIterator",
    "ForkOnStep", "IterateOverBenchmarks", "ObservationWrapper", "RandomOrderBenchmarks",
    "RewardWrapper", "RuntimePointEstimateReward", "TimeLimit", "ValidateBenchmarkAfterEveryStep",
]


def _as_list(action: Any) -> list[Any] | None:
    if isinstance(action, np.ndarray) and action.ndim > 0 or isinstance(action, (list, tuple)):
        return list(action)
    return None


class CompilerEnvWrapper(gymnasium.Wrapper):
    """The base of the wrappers: forwards everything, in the API of the wrapped env.

    Under CompilerGym's API, ``step`` is ``multistep`` of one action, so a subclass changes
    ``multistep`` for that API and ``step`` for Gymnasium's. Assigning an observation or reward
    space by name passes through to the env; assigning a ``Space`` sets this wrapper's own.
    """

    def __init__(self, env: gymnasium.Env):
        super().__init__(env)

    @property
    def compilergym_api(self) -> bool:
        """Whether the wrapped env speaks CompilerGym's API (else Gymnasium's): a compat env
        whose episode was not started by Gymnasium's tooling."""
        base = self.env.unwrapped
        return isinstance(base, CompilerGymEnv) and not base.gymnasium_api

    @property
    def benchmark(self) -> Benchmark | None:
        """The wrapped env's benchmark; assigning one sets the env's."""
        return self.env.unwrapped.benchmark

    @benchmark.setter
    def benchmark(self, benchmark: str | Benchmark | None) -> None:
        self.env.unwrapped.benchmark = benchmark

    def __getattr__(self, name: str) -> Any:
        # CompilerGym's extra surface; Gymnasium's wrappers below hide it, its env does not.
        if name.startswith("_") or name == "env":
            raise AttributeError(name)
        env = self.__dict__.get("env")
        if env is None:
            raise AttributeError(name)
        try:
            return getattr(env, name)
        except AttributeError:
            return getattr(env.unwrapped, name)

    @property
    def observation_space(self) -> Any:
        return self._observation_space if self._observation_space is not None \
            else self.env.observation_space

    @observation_space.setter
    def observation_space(self, space: Any) -> None:
        if isinstance(space, gymnasium.spaces.Space):
            self._observation_space = space
        else:  # a name, a spec or None: the env's default observation changes
            self._observation_space = None
            target = self.env if isinstance(self.env, CompilerEnvWrapper) else self.env.unwrapped
            target.observation_space = space

    @property
    def reward_space(self) -> Any:
        return self.env.reward_space if hasattr(self.env, "reward_space") \
            else self.env.unwrapped.reward_space

    @reward_space.setter
    def reward_space(self, name: Any) -> None:
        target = self.env if isinstance(self.env, CompilerEnvWrapper) else self.env.unwrapped
        target.reward_space = name

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        if self.compilergym_api:
            actions = _as_list(action)
            return self.multistep(actions if actions is not None else [action], *args, **kwargs)
        return self.env.step(action)

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        """Apply several actions (CompilerGym's API only)."""
        if not self.compilergym_api:
            raise OptgymError("multistep() is CompilerGym's API; wrap optgym.compat.make(...)")
        return self.env.multistep(list(actions), *args, **kwargs)

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        return self.env.reset(*args, **kwargs)

    def fork(self) -> CompilerEnvWrapper:
        """This wrapper around a fork of the wrapped env."""
        return type(self)(self.env.fork())


class ActionWrapper(CompilerEnvWrapper):
    """Translates actions from this wrapper's space to the wrapped env's."""

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        if self.compilergym_api:
            return super().step(action, *args, **kwargs)
        return self.env.step(self.action(action))

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        return self.env.multistep([self.action(a) for a in actions], *args, **kwargs)

    def action(self, action: Any) -> Any:
        """Translate an action of this space to the wrapped env's (the same, unless a
        subclass says otherwise)."""
        return action

    def reverse_action(self, action: Any) -> Any:
        """Translate an action of the wrapped env's space to this one's."""
        raise NotImplementedError


class ObservationWrapper(CompilerEnvWrapper):
    """Transforms every observation with :meth:`convert_observation` (CompilerGym's name) or
    :meth:`observation` (Gymnasium's); a subclass defines one of them (TypeError otherwise)."""

    def __init__(self, env: gymnasium.Env):
        if not _overrides(self, ObservationWrapper, ("convert_observation", "observation")):
            raise TypeError(f"{type(self).__name__} must define convert_observation() "
                            "(or Gymnasium's observation())")
        super().__init__(env)

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        out = self.env.reset(*args, **kwargs)
        if self.compilergym_api:
            return self.convert_observation(out)
        observation, info = out
        return self.convert_observation(observation), info

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        if self.compilergym_api:
            return super().step(action, *args, **kwargs)
        observation, *rest = self.env.step(action)
        return (self.convert_observation(observation), *rest)

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        observation, reward, done, info = self.env.multistep(list(actions), *args, **kwargs)
        return self.convert_observation(observation), reward, done, info

    def convert_observation(self, observation: Any) -> Any:
        """The observation in this wrapper's space (by default, a Gymnasium-style subclass's
        ``observation()``; the name is not defined here, so that ``env.observation["Ir"]``
        still reaches the env's observations through this wrapper)."""
        return type(self).observation(self, observation)


class RewardWrapper(CompilerEnvWrapper):
    """Transforms every reward with :meth:`convert_reward` (CompilerGym's name) or
    :meth:`reward` (Gymnasium's); ``episode_reward`` sums the converted rewards."""

    def __init__(self, env: gymnasium.Env):
        if not _overrides(self, RewardWrapper, ("convert_reward", "reward")):
            raise TypeError(f"{type(self).__name__} must define convert_reward() "
                            "(or Gymnasium's reward())")
        super().__init__(env)

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        if self.compilergym_api:
            return super().step(action, *args, **kwargs)
        observation, reward, *rest = self.env.step(action)
        return (observation, self.convert_reward(reward), *rest)

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        observation, reward, done, info = self.env.multistep(list(actions), *args, **kwargs)
        if not isinstance(reward, list):
            converted = self.convert_reward(reward)
            base = self.env.unwrapped
            if base.episode_reward is not None and reward is not None and converted is not None:
                base.episode_reward = base.episode_reward - reward + converted
            reward = converted
        return observation, reward, done, info

    def convert_reward(self, reward: float) -> float:
        """The reward in this wrapper's terms (by default, a Gymnasium-style subclass's
        ``reward()``; not defined here, so that ``env.reward["Name"]`` still works)."""
        return type(self).reward(self, reward)


def _overrides(obj: object, base: type, names: tuple[str, ...]) -> bool:
    """Whether ``obj``'s class defines one of ``names`` itself (not only ``base``)."""
    return any(getattr(type(obj), n, None) not in (None, getattr(base, n, None))
               for n in names)


class TimeLimit(CompilerEnvWrapper):
    """Ends an episode after ``max_episode_steps`` actions.

    CompilerGym's API: ``done`` becomes True and ``info["TimeLimit.truncated"]`` says whether
    the limit (rather than the env) ended it. Gymnasium's: ``truncated`` becomes True.
    Without ``max_episode_steps``, the env spec's limit is used.
    """

    def __init__(self, env: gymnasium.Env, max_episode_steps: int | None = None):
        super().__init__(env)
        if max_episode_steps is None and env.spec is not None:
            max_episode_steps = env.spec.max_episode_steps
        if max_episode_steps is None or max_episode_steps < 1:
            raise OptgymError(f"TimeLimit needs max_episode_steps >= 1, got {max_episode_steps}")
        self.max_episode_steps = max_episode_steps
        self._elapsed_steps: int | None = None

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        self._elapsed_steps = 0
        return self.env.reset(*args, **kwargs)

    def _count(self, n: int) -> bool:
        if self._elapsed_steps is None:
            raise OptgymError("call reset() before step()")
        self._elapsed_steps += n
        return self._elapsed_steps >= self.max_episode_steps

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        if self.compilergym_api:
            return super().step(action, *args, **kwargs)
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self._count(1):
            truncated = True
        return observation, reward, terminated, truncated, info

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        actions = list(actions)
        observation, reward, done, info = self.env.multistep(actions, *args, **kwargs)
        if self._count(len(actions)):
            info["TimeLimit.truncated"] = not done
            done = True
        return observation, reward, done, info

    def fork(self) -> TimeLimit:
        """A fork with the same limit and the same steps already taken."""
        other = TimeLimit(self.env.fork(), self.max_episode_steps)
        other._elapsed_steps = self._elapsed_steps
        return other


class _ThreadSafeIterator:
    def __init__(self, iterator: Iterator[Any]):
        self._it = iterator
        self._lock = threading.Lock()

    def __iter__(self) -> _ThreadSafeIterator:
        return self

    def __next__(self) -> Any:
        with self._lock:
            return next(self._it)


class IterateOverBenchmarks(CompilerEnvWrapper):
    """Each reset takes the next benchmark of an iterable; ``StopIteration`` once it is spent.

    ``reset`` may not be given a benchmark (ArgumentKindError, a TypeError). A fork shares the
    iterator when ``fork_shares_iterator``, otherwise it gets an independent copy of what is left.
    """

    def __init__(self, env: gymnasium.Env, benchmarks: Iterable[str | Benchmark],
                 fork_shares_iterator: bool = False):
        super().__init__(env)
        self.benchmarks: Iterator[Any] = iter(benchmarks)
        self.fork_shares_iterator = fork_shares_iterator

    def reset(self, benchmark: str | Benchmark | None = None, **kwargs: Any) -> Any:
        options = dict(kwargs.pop("options", None) or {})
        if benchmark is not None or "benchmark" in options:
            raise ArgumentKindError(f"{type(self).__name__} chooses the benchmarks; reset() "
                                    "takes none")
        chosen = next(self.benchmarks)
        if self.compilergym_api:
            return self.env.reset(benchmark=chosen, **kwargs)
        return self.env.reset(options={**options, "benchmark": resolve_uri(chosen)}, **kwargs)

    def fork(self) -> IterateOverBenchmarks:
        if self.fork_shares_iterator:
            other = self.benchmarks
        else:
            mine, theirs = itertools.tee(self.benchmarks)
            self.benchmarks, other = _ThreadSafeIterator(mine), _ThreadSafeIterator(theirs)
        return IterateOverBenchmarks(self.env.fork(), other, self.fork_shares_iterator)


class CycleOverBenchmarks(IterateOverBenchmarks):
    """Like :class:`IterateOverBenchmarks`, starting over when the list is spent."""

    def __init__(self, env: gymnasium.Env, benchmarks: Iterable[str | Benchmark],
                 fork_shares_iterator: bool = False):
        super().__init__(env, itertools.cycle(benchmarks), fork_shares_iterator)


class RandomOrderBenchmarks(IterateOverBenchmarks):
    """Each reset draws a benchmark uniformly from a list (drawn with ``rng``).

    A fork draws with a generator spawned from this one's (CompilerGym's forks iterated over
    the list in order instead).
    """

    def __init__(self, env: gymnasium.Env, benchmarks: Iterable[str | Benchmark],
                 rng: np.random.Generator | None = None):
        self._all_benchmarks = list(benchmarks)
        if not self._all_benchmarks:
            raise ArgumentKindError("RandomOrderBenchmarks needs at least one benchmark")
        self.rng = rng or np.random.default_rng()
        draws = (self._all_benchmarks[int(self.rng.integers(len(self._all_benchmarks)))]
                 for _ in itertools.count())
        super().__init__(env, draws, fork_shares_iterator=True)

    def fork(self) -> RandomOrderBenchmarks:
        return RandomOrderBenchmarks(self.env.fork(), self._all_benchmarks, self.rng.spawn(1)[0])


class CommandlineWithTerminalAction(CompilerEnvWrapper):
    """Adds one last action, ``# end-of-episode``, that ends the episode without a pass.

    Actions after it in a list are not run; ``info["terminal_action"]`` is True when it ended
    the episode.
    """

    def __init__(self, env: gymnasium.Env, terminal: str = "# end-of-episode"):
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, Commandline):
            raise ArgumentKindError(f"unsupported action space {type(space).__name__}; "
                                    "needs a Commandline")
        self.terminal = terminal
        self.action_space = Commandline(ActionSet(
            f"{type(self).__name__}<{space.name}>",
            (*space.actions.actions, Action(terminal, "")),
        ))

    @property
    def terminal_action(self) -> int:
        """The index of the terminal action (the last)."""
        return self.action_space.n - 1

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        if self.compilergym_api:
            return super().step(action, *args, **kwargs)
        if int(action) != self.terminal_action:
            return self.env.step(action)
        base = self.env.unwrapped
        if isinstance(base, CompilerGymEnv):
            observation = base._default_observation()
        else:
            spec = base.observation_spec
            observation = base.observe(spec.name) if spec is not None else 0
        return observation, 0.0, True, False, {"terminal_action": True}

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        actions = list(actions)
        ended = self.terminal_action in actions
        if ended:
            actions = actions[:actions.index(self.terminal_action)]
        observation, reward, done, info = self.env.multistep(actions, *args, **kwargs)
        if ended and not done:
            done = True
            info["terminal_action"] = True
        return observation, reward, done, info

    def fork(self) -> CommandlineWithTerminalAction:
        return CommandlineWithTerminalAction(self.env.fork(), self.terminal)


class ConstrainedCommandline(ActionWrapper):
    """Restricts the actions to a subset of the wrapped env's flags, in the given order."""

    def __init__(self, env: gymnasium.Env, flags: Iterable[str], name: str | None = None):
        super().__init__(env)
        flags = list(flags)
        if not flags:
            raise ArgumentKindError("ConstrainedCommandline needs at least one flag")
        space = env.action_space
        if not isinstance(space, Commandline):
            raise ArgumentKindError(f"can only constrain a Commandline action space, not "
                                    f"{type(space).__name__}")
        for flag in flags:
            if flag in LEFT_OUT:
                raise OptgymError(f"flag {flag} has no LLVM 19 counterpart: {LEFT_OUT[flag]}")
            if flag not in space.flags:
                raise OptgymError(f"flag {flag!r} is not an action of {space.name}")
        self._flags = flags
        self._forward = [space.flags.index(f) for f in flags]
        self._reverse = {v: i for i, v in enumerate(self._forward)}
        self.action_space = Commandline(ActionSet(
            f"{type(self).__name__}<{name or space.name}, {len(flags)}>",
            tuple(space.actions[i] for i in self._forward),
        ))

    def action(self, action: Any) -> Any:
        actions = _as_list(action)
        if actions is not None:
            return [self._forward[int(a)] for a in actions]
        return self._forward[int(action)]

    def reverse_action(self, action: Any) -> Any:
        actions = _as_list(action)
        if actions is not None:
            return [self._reverse[int(a)] for a in actions]
        return self._reverse[int(action)]

    @property
    def actions(self) -> list[int]:
        """The episode's actions, in this wrapper's space."""
        return self.reverse_action(self.env.actions)

    def fork(self) -> ConstrainedCommandline:
        return ConstrainedCommandline(self.env.fork(), self._flags, self.action_space.name)


class ForkOnStep(CompilerEnvWrapper):
    """Forks the env before every step, so that :meth:`undo` can take the step back.

    ``stack`` holds the forks, oldest first; reset empties it.
    """

    def __init__(self, env: gymnasium.Env):
        if not callable(getattr(env, "fork", None)):
            raise ArgumentKindError(
                "ForkOnStep needs an env with fork(): optgym.compat.make(...), an LlvmEnv or "
                "one of these wrappers around them"
            )
        super().__init__(env)
        self.stack: list[Any] = []

    def undo(self) -> Any:
        """Go back to the state before the last step; returns the env now wrapped."""
        if not self.stack:
            return self.env
        self.env.close()
        self.env = self.stack.pop()
        return self.env

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        self._drop_stack()
        return self.env.reset(*args, **kwargs)

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        self.stack.append(self.env.fork())
        if self.compilergym_api:
            return self.env.step(action, *args, **kwargs)
        return self.env.step(action)

    def _drop_stack(self) -> None:
        for env in self.stack:
            env.close()
        self.stack = []

    def close(self) -> None:
        self._drop_stack()
        self.env.close()

    def fork(self) -> Any:
        raise NotImplementedError("a ForkOnStep env cannot be forked; fork the env it wraps")


class Counter(CompilerEnvWrapper):
    """Counts the calls to ``close``, ``fork``, ``reset`` and ``step`` (``counters``)."""

    def __init__(self, env: gymnasium.Env):
        super().__init__(env)
        self.counters = {"close": 0, "fork": 0, "reset": 0, "step": 0}

    def close(self) -> None:
        self.counters["close"] += 1
        self.env.close()

    def fork(self) -> Counter:
        self.counters["fork"] += 1
        return Counter(self.env.fork())

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        self.counters["reset"] += 1
        return self.env.reset(*args, **kwargs)

    def step(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        self.counters["step"] += 1
        return super().step(action, *args, **kwargs)


class ValidateBenchmarkAfterEveryStep(CompilerEnvWrapper):
    """Runs the benchmark's validation callbacks after every step; an error ends the episode
    with ``reward_penalty`` as the reward and the error in ``info["error_details"]``."""

    def __init__(self, env: gymnasium.Env, reward_penalty: float = -1e3):
        super().__init__(env)
        self.reward_penalty = reward_penalty

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        observation, reward, done, info = self.env.multistep(list(actions), *args, **kwargs)
        errors = list(self.env.unwrapped.benchmark.ivalidate(self.env))
        if errors:
            return observation, self.reward_penalty, True, {**info, "error_details": errors[0]}
        return observation, reward, done, info

    def fork(self) -> ValidateBenchmarkAfterEveryStep:
        return ValidateBenchmarkAfterEveryStep(self.env.fork(), self.reward_penalty)


class CycleOverBenchmarksIterator(CompilerEnvWrapper):
    """Each reset takes the next benchmark of ``make_benchmark_iterator()``, starting it over
    when it is spent (for iterators too long to hold as a list)."""

    def __init__(self, env: gymnasium.Env,
                 make_benchmark_iterator: Callable[[], Iterable[str | Benchmark]]):
        super().__init__(env)
        self.make_benchmark_iterator = make_benchmark_iterator
        self.benchmarks: Iterator[Any] = iter(make_benchmark_iterator())

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        try:
            chosen = next(self.benchmarks)
        except StopIteration:
            self.benchmarks = iter(self.make_benchmark_iterator())
            chosen = next(self.benchmarks)
        if isinstance(self.env.unwrapped, CompilerGymEnv):
            return self.env.reset(*args, benchmark=chosen, **kwargs)
        options = dict(kwargs.pop("options", None) or {})
        return self.env.reset(options={**options, "benchmark": resolve_uri(chosen)}, **kwargs)

    def fork(self) -> CycleOverBenchmarksIterator:
        return CycleOverBenchmarksIterator(self.env.fork(), self.make_benchmark_iterator)


class RuntimeRewardSpec:
    """The reward of :class:`RuntimePointEstimateReward`: ``id`` ``runtime``, and how each
    runtime is estimated."""

    id = name = "runtime"  # noqa: A003 - CompilerGym's attribute name
    deterministic = False
    platform_dependent = True
    range = (-np.inf, np.inf)  # noqa: A003 - CompilerGym's attribute name

    def __init__(self, runtime_count: int, warmup_count: int,
                 estimator: Callable[[list[float]], float]):
        self.runtime_count = runtime_count
        self.warmup_count = warmup_count
        self.estimator = estimator


class RuntimePointEstimateReward(CompilerEnvWrapper):
    """Reward: the drop in the program's runtime since the previous step, each runtime the
    ``estimator`` of ``runtime_count`` runs after ``warmup_count`` unmeasured ones (runnable
    benchmarks only; builds with the code generator the ``Runtime`` observation uses)."""

    def __init__(self, env: gymnasium.Env, runtime_count: int = 30, warmup_count: int = 0,
                 estimator: Callable[[list[float]], float] = np.median):
        super().__init__(env)
        self.spec_ = RuntimeRewardSpec(runtime_count, warmup_count, estimator)
        self._previous: float | None = None

    @property
    def reward_space_spec(self) -> RuntimeRewardSpec:
        """The runtime reward's spec."""
        return self.spec_

    @property
    def reward_space(self) -> RuntimeRewardSpec:
        return self.spec_

    @reward_space.setter
    def reward_space(self, name: Any) -> None:
        raise OptgymError("RuntimePointEstimateReward fixes the reward to runtime")

    @property
    def reward_range(self) -> tuple[float, float]:
        return (-float("inf"), float("inf"))

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        spec = self.spec_
        if spec.runtime_count < 1:
            raise ValueError("runtimes_per_observation_count must be >= 1. "
                             f"Received: {spec.runtime_count}")
        if spec.warmup_count < 0:
            raise ValueError("warmup_runs_count_per_runtime_observation must be >= 0. "
                             f"Received: {spec.warmup_count}")
        out = self.env.reset(*args, **kwargs)
        base = self.env.unwrapped
        if not base.benchmark.core.runnable:
            from optgym.compat.errors import BenchmarkInitError

            raise BenchmarkInitError(f"Benchmark is not runnable: {base.benchmark.uri}")
        self._previous = self._runtime()
        base.episode_reward = 0.0
        return out

    def multistep(self, actions: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        observation, _, done, info = self.env.multistep(list(actions), *args, **kwargs)
        runtime = self._runtime()
        reward = float(self._previous - runtime)
        self._previous = runtime
        base = self.env.unwrapped
        base.episode_reward = (base.episode_reward or 0.0) + reward
        return observation, reward, done, info

    def _runtime(self) -> float:
        import tempfile
        from pathlib import Path

        from optgym.datasets import build_executable, run_executable

        base = self.env.unwrapped
        spec = self.spec_
        with tempfile.TemporaryDirectory(prefix="optgym-runtime-") as tmp:
            exe = Path(tmp) / "a.out"
            build_executable(bytes(base.gymnasium_env.observe("Bitcode")), exe,
                             what=str(base.benchmark.uri))
            times = []
            for i in range(spec.warmup_count + spec.runtime_count):
                run = run_executable(exe, timeout=60.0)
                if run.timed_out:
                    raise OptgymError(f"{base.benchmark.uri}: the program timed out")
                if i >= spec.warmup_count:
                    times.append(run.seconds)
        return float(spec.estimator(times))

    def fork(self) -> RuntimePointEstimateReward:
        spec = self.spec_
        other = RuntimePointEstimateReward(self.env.fork(), spec.runtime_count,
                                           spec.warmup_count, spec.estimator)
        other._previous = self._previous
        return other
