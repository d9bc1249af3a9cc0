"""`LlvmEnv`: the pass-ordering environment. State: an LLVM 19 module; actions: LLVM passes.

One environment owns one compiler worker (forks share it). The module never leaves the worker:
a step sends the action's pipeline text and the names of the observations it needs, and gets
back numbers and arrays. Per-benchmark baselines (-O0, -O3, -Oz costs) are computed once and
cached in memory and on disk. With a :class:`~optgym.envs.llvm.cache.TranspositionCache`,
known transitions are answered without running LLVM at all; the passes are applied lazily, only
when an observation needs the module itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, SupportsInt

import gymnasium
import numpy as np
from gymnasium import spaces

from optgym import LLVM_VERSION
from optgym.cache import atomic_write, cache_root
from optgym.envs.llvm.cache import Transition, TranspositionCache
from optgym.envs.llvm.spaces import (
    AUTOPHASE_NAMES,
    INSTCOUNT_NAMES,
    ObservationSpec,
    RewardSpec,
    observation_spec,
    reward_spec,
)
from optgym.envs.llvm.state import (
    CompilerEnvState,
    ValidationResult,
    commandline_of,
    pipeline_of,
)
from optgym.errors import BenchmarkError, CompilerCrash, OptgymError, ParseError
from optgym.llvm import passes as pass_table
from optgym.llvm import toolchain
from optgym.llvm.session import CompilerSession, ModuleHandle

_BASELINE_FORMAT = 1


class _SharedSession:
    """A compiler session shared by an environment and its forks; closed by the last user."""

    def __init__(self, session: CompilerSession):
        self.session = session
        self.users = 1

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            self.session.close()


class LlvmEnv(gymnasium.Env):
    """LLVM 19 pass ordering as a Gymnasium environment (CompilerGym's ``llvm-v0``, ported).

    Args:
        benchmark: a benchmark URI (or :class:`~optgym.datasets.Benchmark`) to use on every
            reset; when None, each reset draws one at random from ``dataset`` (seeded by
            ``reset(seed=...)``), unless ``options={"benchmark": uri}`` names one.
        dataset: the dataset to draw from; ``split`` restricts it to train/validation/test.
        observation_space: name of the observation returned by reset and step (None: none).
        reward_space: name of the reward returned by step.
        action_space: ``"flags-v0"`` (CompilerGym's flags) or ``"flags-pipelines-v0"``.
        timeout: seconds one pass may run before the worker is killed.
        transposition_cache: share one between environments of a search to skip known steps.
        runtimes_per_observation: how many runs the ``Runtime`` observation takes the median of.
    """

    metadata = {"render_modes": ["human", "ansi"]}

    def __init__(
        self,
        benchmark: Any = None,
        *,
        dataset: str = "builtin-v0",
        split: str | None = None,
        observation_space: str | None = "Autophase",
        reward_space: str = "IrInstructionCountOz",
        action_space: str = "flags-v0",
        timeout: float = 60.0,
        transposition_cache: TranspositionCache | None = None,
        runtimes_per_observation: int = 3,
        render_mode: str | None = None,
        _shared: _SharedSession | None = None,
    ):
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.actions = pass_table.action_set(action_space)
        self.action_space = spaces.Discrete(len(self.actions))
        self.observation_space_spec: ObservationSpec | None = (
            observation_spec(observation_space) if observation_space else None
        )
        self.observation_space = (
            self.observation_space_spec.space if self.observation_space_spec else spaces.Discrete(1)
        )
        self.reward_space_spec: RewardSpec = reward_spec(reward_space)
        self.reward_range = (-np.inf, np.inf)
        self.dataset_name = dataset
        self.split = split
        self.runtimes_per_observation = runtimes_per_observation
        self.cache = transposition_cache
        self._fixed_benchmark = benchmark
        self._shared = _shared or _SharedSession(CompilerSession(timeout=timeout))
        self._benchmark: Any = None
        self._base: ModuleHandle | None = None  # the unmodified benchmark, for cheap resets
        self._module: ModuleHandle | None = None
        self._applied: list[str] = []  # pipelines run on self._module
        self._pending: list[str] = []  # pipelines known from the cache, not yet run
        self._hash: str | None = None
        self._count: int | None = None
        self._baselines: dict[str, dict[str, float]] = {}
        self._baseline_memo: tuple[Any, dict[str, float]] = (None, {})
        self._reward_prev: dict[str, float] = {}
        self.episode_reward = 0.0
        self.episode_walltime = 0.0
        self._reset_time = time.monotonic()
        self._tmpdir: Path | None = None
        # Observations the worker returned with the last step, valid until the module changes.
        self._step_obs: dict[str, Any] | None = None
        self.observation = _ObservationView(self)
        self.reward = _RewardView(self)

    # -- properties --------------------------------------------------------------------------
    @property
    def session(self) -> CompilerSession:
        """The compiler session whose worker holds this environment's module."""
        return self._shared.session

    @property
    def benchmark(self) -> Any:
        """The current :class:`~optgym.datasets.Benchmark` (None before the first reset)."""
        return self._benchmark

    @property
    def actions_taken(self) -> list[str]:
        """Pipeline texts of the actions of this episode, in order."""
        return self._applied + self._pending

    # -- gymnasium API -----------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode on a benchmark: the one in ``options["benchmark"]``, the one given
        to the constructor, or one drawn from the dataset with this env's seeded generator."""
        super().reset(seed=seed)
        options = options or {}
        benchmark = self._resolve_benchmark(options.get("benchmark") or self._fixed_benchmark)
        if self._module is not None:
            self._module.close()
            self._module = None
        if self._base is None or benchmark.uri != self._benchmark.uri:
            if self._base is not None:
                self._base.close()
            self._base = self._load(benchmark)
            self._benchmark = benchmark
        self._module = self._base.fork()
        self._applied, self._pending = [], []
        self._hash, self._count, self._step_obs = None, None, None
        self._reward_prev = {}
        self.episode_reward = 0.0
        self._reset_time = time.monotonic()
        for name in options.get("replay", ()):  # used by apply(): pipelines to re-run
            self._run_pipeline(name)
        self._reward_prev[self.reward_space_spec.name] = self._cost(self.reward_space_spec.cost)
        return self._observe_default(), {"benchmark": benchmark.uri}

    def step(self, action: SupportsInt) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Apply one pass. A pass that crashes LLVM ends the episode with ``info["error"]``."""
        if self._module is None:
            raise OptgymError("call reset() before step()")
        index = self._check_action(action)
        info: dict[str, Any] = {"action": self.actions[index].flag}
        terminated = False
        try:
            changed = self._run_pipeline(self.actions[index].pipeline)
            info["action_had_no_effect"] = not changed
        except CompilerCrash as crash:  # PassTimeout included; the module is as it was
            info["error"] = str(crash)
            terminated = True
            return self._observe_default(), 0.0, terminated, False, info
        reward = self._reward(self.reward_space_spec)
        self.episode_reward += reward
        return self._observe_default(), reward, terminated, False, info

    def render(self) -> str | None:
        """``ansi``: return the module's IR; ``human``: print it."""
        if self.render_mode is None or self._module is None:
            return None
        text = self.observation["Ir"]
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Free the module and, when no fork still uses it, end the compiler worker."""
        for handle in (self._module, self._base):
            if handle is not None:
                try:
                    handle.close()
                except OptgymError:
                    pass
        self._module = self._base = None
        if self._shared is not None:
            self._shared.release()
            self._shared = None  # type: ignore[assignment]
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        if self.cache is not None:
            self.cache.flush()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- episode tools -------------------------------------------------------------------------
    def fork(self) -> LlvmEnv:
        """An independent copy of this environment in its current state (cloned in the worker)."""
        if self._module is None:
            raise OptgymError("call reset() before fork()")
        self._materialize()
        other = self.sibling()
        # One clone only: the fork reloads the unmodified benchmark if it is ever reset.
        other._benchmark = self._benchmark
        other._module = self._module.fork()
        other._applied = list(self._applied)
        other._hash, other._count = self._hash, self._count
        other._baselines = self._baselines
        other._reward_prev = dict(self._reward_prev)
        other.episode_reward = self.episode_reward
        other._reset_time = self._reset_time
        other._np_random = self._np_random
        return other

    def sibling(self, **kwargs: Any) -> LlvmEnv:
        """A new environment on this one's compiler worker, with other settings.

        ``kwargs`` are constructor arguments (observation_space, reward_space, action_space,
        transposition_cache, ...); unspecified ones are this environment's. The sibling starts
        unreset and keeps the worker alive until it too is closed. Searches use it to step a
        private copy without a per-step observation, without starting another worker.
        """
        self._shared.users += 1
        settings = dict(
            benchmark=self._fixed_benchmark,
            dataset=self.dataset_name,
            split=self.split,
            observation_space=self.observation_space_spec.name
            if self.observation_space_spec else None,
            reward_space=self.reward_space_spec.name,
            action_space=self.actions.name,
            transposition_cache=self.cache,
            runtimes_per_observation=self.runtimes_per_observation,
            render_mode=self.render_mode,
        )
        settings.update(kwargs)
        benchmark = settings.pop("benchmark")
        return LlvmEnv(benchmark, _shared=self._shared, **settings)

    def try_steps(self, steps: list[str],
                  observations: tuple[str, ...] = ("IrInstructionCount",)) -> dict[str, Any]:
        """Worker observations of the current module after the pipelines ``steps``, leaving the
        episode as it is: one compilation, for policies that measure whole sequences. A
        sequence that crashes LLVM raises :class:`~optgym.errors.CompilerCrash`."""
        if self._module is None:
            raise OptgymError("call reset() before try_steps()")
        self._materialize()
        return self._module.try_pipeline(pass_table.join_steps(list(steps)), tuple(observations))

    def commandline(self) -> str:
        """An `opt-19` command line that turns the benchmark into the current module."""
        return commandline_of(pass_table.join_steps(self.actions_taken))

    @property
    def state(self) -> CompilerEnvState:
        """The episode so far as a reproducible record."""
        if self._benchmark is None:
            raise OptgymError("call reset() before reading the state")
        return CompilerEnvState(
            benchmark=self._benchmark.uri,
            commandline=self.commandline(),
            walltime=time.monotonic() - self._reset_time,
            reward=self.episode_reward,
        )

    def apply(self, state: CompilerEnvState) -> None:
        """Reset to the state's benchmark and replay its command line."""
        steps = pass_table.split_steps(pipeline_of(state.commandline))
        self.reset(options={"benchmark": state.benchmark, "replay": steps})
        self.episode_reward = self._episode_reward_from_start()

    def validate(self, state: CompilerEnvState | None = None) -> ValidationResult:
        """Replay a state (default: the current one) with the real `opt-19` binary.

        Checks that the instruction count and the reward are reproduced and, for runnable
        benchmarks, that the program prints what its unoptimized build prints.
        """
        state = state or self.state
        result = ValidationResult(state)
        try:
            benchmark = self._resolve_benchmark(state.benchmark)
        except OptgymError as exc:
            result.errors.append(str(exc))
            return result
        with tempfile.TemporaryDirectory(prefix="optgym-validate-") as tmp:
            source, out = Path(tmp) / "input.bc", Path(tmp) / "output.bc"
            source.write_bytes(benchmark.bitcode)
            pipeline = pipeline_of(state.commandline)
            if pipeline:
                proc = subprocess.run(
                    [toolchain.opt(), f"-passes={pipeline}", str(source), "-o", str(out)],
                    capture_output=True, text=True,
                )
                if proc.returncode != 0:
                    result.errors.append(f"opt-19 failed: {proc.stderr.strip()[-500:]}")
                    return result
            else:
                shutil.copy(source, out)
            optimized = out.read_bytes()
        try:
            module = self.session.load(optimized, f"{state.benchmark} (replayed)")
        except (ParseError, CompilerCrash) as exc:
            result.errors.append(f"opt-19's output does not load: {exc}")
            return result
        try:
            result.instruction_count = module.instruction_count()
            spec = self.reward_space_spec
            if spec.cost in ("IrInstructionCount", "ObjectTextSizeBytes"):
                cost = float(module.observe(spec.cost)[spec.cost])
                baselines = self._baselines_for(benchmark, spec.cost)
                start = baselines[f"{spec.cost}O0"]
                result.reproduced_reward = (start - cost) / self._scale(spec, baselines)
                if state.reward is not None and not np.isclose(
                    result.reproduced_reward, state.reward, rtol=1e-6, atol=1e-9
                ):
                    result.errors.append(
                        f"reward {state.reward:.6g} is not reproduced (replay gives "
                        f"{result.reproduced_reward:.6g})"
                    )
        finally:
            module.close()
        if benchmark.runnable:
            result.output_checked = True
            if not benchmark.check_output(optimized):
                result.errors.append("the optimized program's output differs from the -O0 build's")
        return result

    # -- internals ----------------------------------------------------------------------------
    def _resolve_benchmark(self, benchmark: Any) -> Any:
        from optgym.datasets import Benchmark, get_benchmark, get_dataset

        if isinstance(benchmark, Benchmark):
            return benchmark
        if benchmark is not None:
            return get_benchmark(str(benchmark))
        return get_dataset(self.dataset_name).random_benchmark(self.np_random, split=self.split)

    def _load(self, benchmark: Any) -> ModuleHandle:
        try:
            return self.session.load(benchmark.bitcode, benchmark.uri)
        except (ParseError, CompilerCrash) as exc:
            raise BenchmarkError(f"{benchmark.uri} does not load: {exc}") from None

    def _check_action(self, action: SupportsInt) -> int:
        try:
            index = int(action)
        except (TypeError, ValueError):
            raise ValueError(
                f"action {action!r} is not an integer index into {self.action_space}"
            ) from None
        if index != action or not 0 <= index < len(self.actions):
            raise ValueError(
                f"action {action!r} is not in the action space {self.action_space} "
                f"({self.actions.name}: 0..{len(self.actions) - 1})"
            )
        return index

    def _run_pipeline(self, pipeline: str) -> bool:
        """Advance the episode by one step; returns whether the module changed."""
        if self.cache is not None:
            state = self._current_hash()
            hit = self.cache.get(state, pipeline)
            self._step_obs = None
            if hit is not None:
                self._pending.append(pipeline)
                self._hash, self._count = hit.result_hash, hit.instruction_count
                return hit.changed
            self._materialize()
            result = self._module.run(pipeline, observe=("IrInstructionCount", "IrHash"))
            self._applied.append(pipeline)
            self._hash = result.observations["IrHash"]
            self._count = result.observations["IrInstructionCount"]
            self.cache.put(state, pipeline, Transition(self._hash, self._count, result.changed))
            return result.changed
        self._materialize()
        result = self._module.run(pipeline, observe=self._step_names)
        self._applied.append(pipeline)
        self._hash = None
        self._count = result.observations.get("IrInstructionCount")
        self._step_obs = result.observations
        return result.changed

    def _materialize(self) -> None:
        """Run the steps that were answered from the transposition cache."""
        while self._pending:
            pipeline = self._pending.pop(0)
            self._module.run(pipeline)
            self._applied.append(pipeline)

    def _current_hash(self) -> str:
        if self._hash is None:
            self._materialize()
            self._hash = self._module.hash()
        return self._hash

    @functools.cached_property
    def _step_names(self) -> tuple[str, ...]:
        """What the worker returns with each step: fixed by the env's observation and reward."""
        names = {"IrInstructionCount"}
        spec = self.observation_space_spec
        if spec is not None and spec.source == "worker":
            names.add(spec.worker)
        if self.reward_space_spec.cost != "Runtime":
            names.add(self.reward_space_spec.cost)
        return tuple(sorted(names))

    def _worker_observe(self, name: str) -> Any:
        if self._step_obs is not None and name in self._step_obs:
            return self._step_obs[name]
        if name == "IrInstructionCount" and self._count is not None:
            return self._count
        self._materialize()
        value = self._module.observe(name)[name]
        if name == "IrInstructionCount":
            self._count = value
        return value

    def _observe_default(self) -> Any:
        spec = self.observation_space_spec
        value = self._observe(spec.name) if spec else 0
        self._step_obs = None
        return value

    def _observe(self, name: str) -> Any:
        spec = observation_spec(name)
        if spec.source == "worker":
            value = self._worker_observe(spec.worker)
            if isinstance(spec.space, spaces.Box) and spec.space.shape == ():
                return np.asarray(value, dtype=np.int64)
            if name == "Programl":
                from optgym.programgraphs import to_graph_instance

                return to_graph_instance(value)
            return value
        if spec.source == "baseline":
            level = spec.name[-2:]  # O0 / O3 / Oz
            values = self._baselines_for(self._benchmark, spec.worker)
            return np.asarray(values[f"{spec.worker}{level}"], dtype=np.int64)
        return self._observe_env(spec)

    def _observe_env(self, spec: ObservationSpec) -> Any:
        if spec.name == "IsRunnable":
            return int(bool(self._benchmark.runnable))
        if spec.name == "InstCountNorm":
            counts = self._worker_observe("InstCount").astype(np.float32)
            return counts[1:] / max(counts[0], 1.0)
        if spec.name == "InstCountDict":
            counts = self._worker_observe("InstCount")
            return {n: np.asarray(v, dtype=np.int64) for n, v in zip(INSTCOUNT_NAMES, counts, strict=True)}
        if spec.name == "AutophaseDict":
            feats = self._worker_observe("Autophase")
            return {n: np.asarray(v, dtype=np.int64) for n, v in zip(AUTOPHASE_NAMES, feats, strict=True)}
        if spec.name == "BitcodeFile":
            if self._tmpdir is None:
                self._tmpdir = Path(tempfile.mkdtemp(prefix="optgym-env-"))
            path = self._tmpdir / f"state-{len(self.actions_taken)}.bc"
            atomic_write(path, self._worker_observe("Bitcode"))
            return str(path)
        if spec.name == "Runtime":
            return np.asarray(self._runtime(self._worker_observe("Bitcode")), dtype=np.float64)
        raise OptgymError(f"observation {spec.name} has no implementation")

    def _runtime(self, bitcode: bytes) -> float:
        from optgym.datasets._util import build_executable, run_executable

        if not self._benchmark.runnable:
            raise BenchmarkError(f"{self._benchmark.uri} is not runnable; no Runtime observation")
        with tempfile.TemporaryDirectory(prefix="optgym-run-") as tmp:
            exe = Path(tmp) / "a.out"
            build_executable(bitcode, exe, what=self._benchmark.uri)
            times = []
            for _ in range(self.runtimes_per_observation):
                run = run_executable(exe, timeout=60.0)
                if run.timed_out or run.returncode != self._benchmark.expected_returncode:
                    raise BenchmarkError(f"{self._benchmark.uri}: the program failed to run")
                times.append(run.seconds)
        return statistics.median(times)

    def _cost(self, cost: str) -> float:
        if cost == "Runtime":
            return float(self._observe("Runtime"))
        return float(self._worker_observe(cost))

    def _scale(self, spec: RewardSpec, baselines: dict[str, float]) -> float:
        if not spec.baseline:
            return 1.0
        start = baselines[f"{spec.cost}O0"]
        if spec.baseline == "O0":
            return max(start, 1.0)
        return max(start - baselines[f"{spec.cost}{spec.baseline}"], 1.0 if spec.cost !=
                   "Runtime" else 1e-9)

    def _reward(self, spec: RewardSpec) -> float:
        if spec.runnable_only and not self._benchmark.runnable:
            raise BenchmarkError(f"{self._benchmark.uri} is not runnable; no {spec.name} reward")
        baselines = self._baselines_for(self._benchmark, spec.cost)
        previous = self._reward_prev.get(spec.name, baselines[f"{spec.cost}O0"])
        cost = self._cost(spec.cost)
        self._reward_prev[spec.name] = cost
        return (previous - cost) / self._scale(spec, baselines)

    def _episode_reward_from_start(self) -> float:
        spec = self.reward_space_spec
        baselines = self._baselines_for(self._benchmark, spec.cost)
        cost = self._cost(spec.cost)
        self._reward_prev[spec.name] = cost
        return (baselines[f"{spec.cost}O0"] - cost) / self._scale(spec, baselines)

    def _baselines_for(self, benchmark: Any, cost: str) -> dict[str, float]:
        """The benchmark's cost at -O0, -O3 and -Oz, computed once (memory and disk cache).

        ``cost`` is ``IrInstructionCount``, ``ObjectTextSizeBytes`` or ``Runtime``; keys of the
        returned dict are the cost name followed by the level (``IrInstructionCountOz``).
        Runtimes are measurements, not facts about the module, so they are not kept on disk.
        """
        # The current benchmark's values are memoized by identity, so a step costs no hashing.
        memo_benchmark, values = self._baseline_memo
        if memo_benchmark is benchmark and f"{cost}Oz" in values:
            return values
        key = hashlib.blake2b(benchmark.bitcode, digest_size=16).hexdigest()
        path = cache_root() / f"llvm{LLVM_VERSION}-baselines-v{_BASELINE_FORMAT}" / f"{key}.json"
        values = self._baselines.get(key)
        if values is None:
            values = json.loads(path.read_text()) if path.exists() else {}
            self._baselines[key] = values
        self._baseline_memo = (benchmark, values)
        if f"{cost}Oz" in values:
            return values
        own = benchmark is self._benchmark and self._base is not None
        base = self._base if own else self._load(benchmark)
        try:
            if cost == "Runtime":
                values["RuntimeO0"] = self._runtime(benchmark.bitcode)
                for level in ("O3", "Oz"):
                    optimized = base.try_pipeline(f"default<{level}>", ("Bitcode",))["Bitcode"]
                    values[f"Runtime{level}"] = self._runtime(optimized)
                return values
            values[f"{cost}O0"] = base.observe(cost)[cost]
            for level in ("O3", "Oz"):
                values[f"{cost}{level}"] = base.try_pipeline(f"default<{level}>", (cost,))[cost]
        finally:
            if not own:
                base.close()
        on_disk = {k: v for k, v in values.items() if not k.startswith("Runtime")}
        atomic_write(path, json.dumps(on_disk, sort_keys=True).encode())
        return values


class _ObservationView:
    """``env.observation["Name"]``: any observation space, computed on demand."""

    def __init__(self, env: LlvmEnv):
        self._env = env

    def __getitem__(self, name: str) -> Any:
        if self._env._module is None:
            raise OptgymError("call reset() before asking for observations")
        return self._env._observe(name)


class _RewardView:
    """``env.reward["Name"]``: the change in that reward's cost since it was last asked."""

    def __init__(self, env: LlvmEnv):
        self._env = env

    def __getitem__(self, name: str) -> float:
        if self._env._module is None:
            raise OptgymError("call reset() before asking for rewards")
        return self._env._reward(reward_spec(name))
