"""`LlvmEnv`: LLVM 19 pass ordering as a plain Gymnasium environment.

One environment owns one compiler worker (its forks share it). The module never leaves the
worker: a step sends the action's pipeline text and the names of what the step observes, and
gets back numbers and arrays in the same reply. CompilerGym's API (spaces assigned by name,
the ``observation``/``reward`` views, four-tuple steps, datasets) is a layer above this one,
:mod:`optgym.compat`; caching transitions across episodes is the search's business
(:mod:`optgym.agents.search`).
"""

from __future__ import annotations

import operator
import shutil
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsInt

import gymnasium
import numpy as np
from gymnasium import spaces

from optgym.cache import atomic_write
from optgym.datasets import Benchmark
from optgym.envs.llvm.baselines import BaselineCache
from optgym.envs.llvm.episode import Episode, Loaded, SharedSession
from optgym.envs.llvm.spaces import (
    AUTOPHASE_NAMES,
    INSTCOUNT_NAMES,
    Commandline,
    ObservationSpec,
    RewardSpec,
    observation_spec,
    reward_spec,
)
from optgym.envs.llvm.state import (
    CompilerEnvState,
    ValidationResult,
    commandline_of_steps,
    steps_of,
)
from optgym.envs.llvm.validation import validate_state
from optgym.errors import (
    ArgumentKindError,
    BenchmarkError,
    CompilerCrash,
    OptgymError,
    ParseError,
    RenderModeError,
)
from optgym.llvm import passes as pass_table
from optgym.llvm.session import CompilerSession, ModuleHandle
from optgym.scratch import scratch_dir

if TYPE_CHECKING:
    from optgym.programgraphs import ProgramGraph

#: What ``benchmark=`` and ``options["benchmark"]`` take: a URI (or a path to a .c/.ll/.bc
#: file) or a :class:`~optgym.datasets.Benchmark`.
BenchmarkLike = str | Path | Benchmark

#: The sibling() default meaning "as this environment has it".
_SAME: Any = object()


class LlvmEnv(gymnasium.Env):
    """LLVM 19 pass ordering as a Gymnasium environment (CompilerGym's ``llvm-v0``, ported).

    ## Description
    The state is an LLVM 19 module, held by a compiler worker process; each action runs one
    LLVM pass (or pass pipeline) on it. The task is to find a short sequence of passes that
    makes the program smaller (or faster) than LLVM's own ``-Oz`` (or ``-O3``) does.

    ## Action space
    ``Discrete(n)``, a :class:`~optgym.envs.llvm.spaces.Commandline` whose actions are named
    flags (``env.action_space.flags[i]``, ``env.action_space["-mem2reg"]``):

    | action set | n | actions |
    |---|---|---|
    | ``"flags-v0"`` (default) | 117 | CompilerGym's 124 LLVM-10 flags minus 7 LLVM 19 dropped |
    | ``"flags-pipelines-v0"`` | 122 | the same plus ``-O1 -O2 -O3 -Os -Oz`` |
    | ``"flags-safe-v0"``, ``"flags-safe-pipelines-v0"`` | 67, 72 | the passes that keep every well-defined program's meaning |
    | ``["-mem2reg", "-gvn", ...]`` | len | those flags, in that order |

    An action outside the space raises ``ValueError``.

    ## Observation space
    Fixed at construction by name (``observation_space="Autophase"``; ``None`` gives ``0``
    from a ``Discrete(1)``). The vectors:

    | name | space | content |
    |---|---|---|
    | ``Autophase`` | ``Box(0, 2^63-1, (56,), int64)`` | Autophase features; index i is ``AUTOPHASE_NAMES[i]`` (51: TotalInsts) |
    | ``InstCount`` | ``Box(0, 2^63-1, (70,), int64)`` | 0 TotalInsts, 1 TotalBlocks, 2 TotalFuncs, 3.. one count per opcode (``INSTCOUNT_NAMES``) |
    | ``InstCountNorm`` | ``Box(0, 1, (69,), float32)`` | ``InstCount[1:] / InstCount[0]`` |
    | ``IrInstructionCount`` | ``Box((), int64)`` | instructions now; ``...O0/O3/Oz``: the benchmark's after those levels |
    | ``ObjectTextSizeBytes`` | ``Box((), int64)`` | .text bytes of the object file ``llc-19`` makes; ``ObjectTextSizeO0/O3/Oz`` |
    | ``Runtime`` | ``Box((), float64)`` | median seconds of ``runtimes_per_observation`` runs (runnable benchmarks) |
    | ``Programl`` | ``Graph`` | ProGraML graph: nodes ``[type, text id]``, edges ``[flow, position]`` |
    | ``Ir``, ``IrHash``, ``BitcodeFile`` | ``Text`` | the IR, its hash, a path to the bitcode |
    | ``Bitcode`` | ``Sequence(Discrete(256))`` | the module's bitcode bytes |
    | ``InstCountDict``, ``AutophaseDict`` | ``Dict`` | the vectors keyed by feature name |
    | ``IsRunnable`` | ``Discrete(2)`` | 1 when the benchmark can be run |

    ``env.observe("Name")`` computes any of them, not only the chosen one, for the current
    module.

    ## Rewards
    Fixed at construction by name (``reward_space=...``). Each is the drop in a cost since the
    previous step, divided by a per-benchmark scale: ``IrInstructionCount`` (÷1),
    ``IrInstructionCountNorm`` (÷ the -O0 count), ``IrInstructionCountO3`` /
    ``IrInstructionCountOz`` (÷ max(C_O0 - C_O3/Oz, 1), so an episode ending at -Oz's count
    sums to 1.0), the same four for ``ObjectTextSize*``, and ``RuntimeO3`` (runnable
    benchmarks only). ``env.episode_reward`` is the sum so far.

    ## Starting state
    The benchmark's unoptimized module (clang's output before any LLVM pass). The benchmark is
    ``options["benchmark"]`` of ``reset``, else the constructor's ``benchmark``, else one drawn
    from ``dataset`` (and ``split``) with the env's generator, seeded by ``reset(seed=...)``.
    A C file takes compile flags in its URI: ``file:///path/x.c?copt=-std=gnu89&copt=-DN=4``.
    With ``honor_always_inline`` (on for the safe action sets), the episode's first action is
    preceded by LLVM's always-inliner, as clang runs it at every -O level, unless that action is
    a standard pipeline (``default<Oz>`` ...), which runs it itself; ``actions_taken`` and the
    command line show the ``always-inline`` step, so replays stay exact.

    ## Episode end
    Terminated when a pass crashes LLVM or runs past ``timeout``: ``info["error"]`` is the
    :class:`~optgym.errors.CompilerCrash` or :class:`~optgym.errors.PassTimeout` (its class says
    which, its ``passes`` the pipeline, its text the module and the cause); the module is as it
    was before the step, and the env works again after ``reset()``.
    Truncated after 200 steps when made with ``gymnasium.make`` (``max_episode_steps``);
    otherwise episodes never end by themselves.

    ## Arguments
    Args:
        benchmark: a benchmark URI (or :class:`~optgym.datasets.Benchmark`) to use on every
            reset; when None, each reset draws one at random from ``dataset``.
        dataset: the dataset to draw from; ``split`` restricts it to train/validation/test.
        observation_space: name of the observation returned by reset and step (None: none).
        reward_space: name of the reward returned by step.
        action_space: an action set's name or a list of flags (see the table above).
        timeout: seconds one pass may run before the worker is killed.
        runtimes_per_observation: how many runs the ``Runtime`` observation takes the median of.
        honor_always_inline: keep clang's ``always_inline`` promise (see Starting state); None
            (the default) turns it on for the safe action sets, whose results ship.
        render_mode: None, ``"ansi"`` (``render()`` returns the IR) or ``"human"`` (prints it);
            others raise :class:`~optgym.errors.RenderModeError`, a ``TypeError``, which is
            what Stable-Baselines3's ``make_vec_env`` expects when it offers ``"rgb_array"``.

    ``reset(options=...)`` understands ``{"benchmark": uri}`` (this episode's benchmark) and
    ``{"replay": [step, ...]}`` (pipeline texts, as in ``env.actions_taken``, to run right
    after the reset; ``apply()`` uses it). ``info`` of ``reset`` holds ``"benchmark"``; of
    ``step``, ``"action"`` (the flag), ``"action_had_no_effect"`` and, on a crash, ``"error"``.

    ## Beyond Gymnasium's API
    ``observe(name)`` (any observation now), ``fork()`` (an independent copy, cloned in the
    worker), ``state`` / ``apply(state)`` / ``validate(state)`` (the episode as a leaderboard
    record, replayed by the real ``opt-19``), ``commandline()``, ``actions_taken``,
    ``episode_reward``, ``benchmark``, ``try_steps(steps)`` (measure a sequence without
    leaving the episode), ``program_graph()``, ``sibling(...)`` (another env on this worker)
    and ``apply_action(action, observe)`` (a step without reward or observation, for the
    layers above: :mod:`optgym.compat`, the searches).

    ## Version history
    * v0: CompilerGym's ``llvm-v0`` spaces, names and reward definitions on LLVM 19; seven of
      its 124 flags have no LLVM 19 pass (``optgym.llvm.passes.LEFT_OUT`` says why). Since
      optgym 0.1 (the drop-ins issue), environments on the safe action sets run the
      always-inliner before the first action (``honor_always_inline``). Since the
      CompilerGym-conformance issue, spaces are fixed at construction (assigning them by name
      is :mod:`optgym.compat`'s) and the transposition cache lives in the searches.
    """

    metadata = {"render_modes": ["human", "ansi"]}

    def __init__(
        self,
        benchmark: BenchmarkLike | None = None,
        *,
        dataset: str = "builtin-v0",
        split: str | None = None,
        observation_space: str | None = "Autophase",
        reward_space: str = "IrInstructionCountOz",
        action_space: str | Sequence[str] | pass_table.ActionSet = "flags-v0",
        timeout: float = 60.0,
        runtimes_per_observation: int = 3,
        render_mode: str | None = None,
        honor_always_inline: bool | None = None,
        _shared: SharedSession | None = None,
    ):
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise RenderModeError(
                f"render_mode {render_mode!r} is not supported; use None or one of "
                f"{self.metadata['render_modes']}"
            )
        self.render_mode = render_mode
        self.actions = pass_table.action_set(action_space)
        self.action_space = Commandline(self.actions)
        self.observation_spec: ObservationSpec | None = (
            observation_spec(observation_space) if observation_space is not None else None)
        self._observation_space: spaces.Space = (
            self.observation_spec.space if self.observation_spec else spaces.Discrete(1))
        self.reward_spec: RewardSpec = reward_spec(reward_space)
        self.honor_always_inline = (self.actions.safe if honor_always_inline is None
                                    else bool(honor_always_inline))
        self.fixed_benchmark = benchmark
        self.dataset_name = dataset
        self.split = split
        self.runtimes_per_observation = runtimes_per_observation
        # What the worker sends back with every step: the instruction count, the observation's
        # and the reward's values. Fixed here, as the spaces are.
        needed = {"IrInstructionCount"}
        if self.observation_spec is not None and self.observation_spec.source == "worker":
            needed.add(self.observation_spec.worker)
        if self.reward_spec.cost != "Runtime":
            needed.add(self.reward_spec.cost)
        self._step_observations = tuple(sorted(needed))
        self._shared = _shared or SharedSession(CompilerSession(timeout=timeout))
        self._loaded: Loaded | None = None
        self._episode: Episode | None = None
        self._baselines = BaselineCache(self._runtime)
        self._tmpdir: Path | None = None

    @property
    def observation_space(self) -> spaces.Space:
        """The space of what reset and step return (fixed at construction)."""
        return self._observation_space

    @observation_space.setter
    def observation_space(self, value: object) -> None:
        raise ArgumentKindError(
            f"LlvmEnv's observation space is fixed at construction (LlvmEnv(observation_space="
            f"...), gymnasium.make(id, observation_space=...)), not assigned ({value!r}); "
            "CompilerGym's assignable spaces are optgym.compat.make(...)'s, and "
            "env.observe(name) computes any observation")

    @property
    def reward_space(self) -> RewardSpec:
        """The reward step returns (fixed at construction; :attr:`reward_spec`)."""
        return self.reward_spec

    @reward_space.setter
    def reward_space(self, value: object) -> None:
        raise ArgumentKindError(
            f"LlvmEnv's reward is fixed at construction (LlvmEnv(reward_space=...)), not "
            f"assigned ({value!r}); CompilerGym's assignable spaces are optgym.compat's")

    # -- Gymnasium's API ----------------------------------------------------------------------
    def step(self, action: SupportsInt) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Apply one pass. A pass that crashes LLVM ends the episode with ``info["error"]``."""
        episode = self._current("step()")
        index = self._check_action(action)
        info: dict[str, Any] = {"action": self.actions[index].flag}
        if episode.reward_due:  # the step before was interrupted after its pass ran
            episode.reward += self._reward(episode, self.reward_spec)
            episode.reward_due = False
        try:
            changed = self._advance(episode, self.actions[index].pipeline, self._step_observations)
        except CompilerCrash as crash:  # PassTimeout included; the module is as it was
            info["error"] = crash
            return self._observation(), 0.0, True, False, info
        info["action_had_no_effect"] = not changed
        reward = self._reward(episode, self.reward_spec)
        episode.reward += reward
        return self._observation(), reward, False, False, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode on a benchmark: the one in ``options["benchmark"]``, the one given
        to the constructor, or one drawn from the dataset with this env's seeded generator."""
        super().reset(seed=seed)
        options = options or {}
        chosen = options.get("benchmark")
        benchmark = self._resolve_benchmark(self.fixed_benchmark if chosen is None else chosen)
        loaded = self._loaded
        if loaded is None or self._is_new(benchmark, loaded.benchmark):
            # Load first: a benchmark that fails to load leaves the previous one usable.
            loaded = Loaded(benchmark, self._load(benchmark))
            if self._loaded is not None:
                self._loaded.module.close()
            self._loaded = loaded
        if self._episode is not None:
            self._episode.close()
        self._episode = episode = Episode(loaded.benchmark, loaded.module.fork(),
                                          always_inline_due=self.honor_always_inline)
        replay = options.get("replay", ())
        for pipeline in replay:  # used by apply(): pipelines to re-run
            self._advance(episode, pipeline, ())
        if replay:  # rewards count from here, not from the benchmark's -O0 cost
            episode.costs[self.reward_spec.name] = self._cost(episode, self.reward_spec.cost)
        return self._observation(), {"benchmark": loaded.benchmark.uri}

    def render(self) -> str | None:
        """``ansi``: return the module's IR; ``human``: print it."""
        if self.render_mode is None or self._episode is None:
            return None
        text = self.observe("Ir")
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Free the module and, when no fork still uses it, end the compiler worker."""
        for part in (self._episode, self._loaded):
            if part is not None:
                try:
                    part.module.close()
                except OptgymError:
                    pass
        self._episode = self._loaded = None
        if self._shared is not None:
            self._shared.release()
            self._shared = None  # type: ignore[assignment]
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- the episode --------------------------------------------------------------------------
    @property
    def session(self) -> CompilerSession:
        """The compiler session whose worker holds this environment's module."""
        return self._shared.session

    @property
    def benchmark(self) -> Benchmark | None:
        """The benchmark of the current episode (None before the first reset)."""
        return self._episode.benchmark if self._episode is not None else None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (a closed env cannot be reset)."""
        return self._shared is None

    @property
    def in_episode(self) -> bool:
        """Whether the environment has been reset (and not closed) since it was made."""
        return self._episode is not None

    @property
    def actions_taken(self) -> list[str]:
        """Pipeline texts of this episode's steps, in order (the always-inliner included)."""
        return list(self._episode.steps) if self._episode is not None else []

    @property
    def episode_reward(self) -> float:
        """The sum of this episode's rewards."""
        return self._episode.reward if self._episode is not None else 0.0

    @property
    def episode_walltime(self) -> float:
        """Seconds since the episode began (the last reset)."""
        return time.monotonic() - self._current("episode_walltime").started

    def observe(self, name: str) -> Any:
        """The value of any observation space for the current module (see the table above)."""
        episode = self._current("observe()")
        spec = observation_spec(name)
        if spec.source == "worker":
            value = self._worker_value(episode, spec.worker)
            if isinstance(spec.space, spaces.Box) and spec.space.shape == ():
                return np.asarray(value, dtype=np.int64)
            if name == "Programl":
                from optgym.programgraphs import to_graph_instance

                return to_graph_instance(value)
            return value
        if spec.source == "baseline":
            level = spec.name[-2:]  # O0 / O3 / Oz
            values = self.baselines(spec.worker)
            return np.asarray(values[f"{spec.worker}{level}"], dtype=np.int64)
        return self._observe_here(episode, spec)

    def baselines(self, cost: str) -> Mapping[str, float]:
        """The current benchmark's ``cost`` (``IrInstructionCount``, ``ObjectTextSizeBytes``,
        ``Runtime``) at -O0, -O3 and -Oz, as ``{"IrInstructionCountOz": ..., ...}``."""
        benchmark = self._current("baselines()").benchmark
        return self._baselines_for(benchmark, cost)

    def apply_action(self, action: SupportsInt, observe: Sequence[str] = ()) -> bool:
        """Run one action without a reward or an observation; returns whether the module
        changed. The worker values named in ``observe`` come back with it (``observe()``
        then reads them for free). For the layers above the env (:mod:`optgym.compat`, the
        searches); a crash raises :class:`~optgym.errors.CompilerCrash`, the module as it was.
        """
        episode = self._current("apply_action()")
        return self._advance(episode, self.actions[self._check_action(action)].pipeline,
                             tuple(observe))

    def fork(self) -> LlvmEnv:
        """An independent copy of this environment in its current state (cloned in the worker)."""
        episode = self._current("fork()")
        other = self.sibling()
        # One clone only: the fork loads the unmodified benchmark again if it is ever reset.
        other._episode = episode.fork()
        other._baselines = self._baselines
        # Its own generator, spawned from this one's: the fork's resets never move our draws.
        other._np_random = self.np_random.spawn(1)[0]
        return other

    def sibling(
        self, *, benchmark: BenchmarkLike | None = _SAME, observation_space: str | None = _SAME,
        reward_space: str = _SAME, action_space: str | Sequence[str] | pass_table.ActionSet = _SAME,
        honor_always_inline: bool | None = _SAME,
    ) -> LlvmEnv:
        """A new environment on this one's compiler worker; settings not given are this
        environment's. It starts unreset and keeps the worker alive until it too is closed."""
        def same(value: Any, mine: Any) -> Any:
            return mine if value is _SAME else value

        return LlvmEnv(
            same(benchmark, self.fixed_benchmark),
            dataset=self.dataset_name,
            split=self.split,
            observation_space=same(observation_space, self.observation_spec.name
                                   if self.observation_spec else None),
            reward_space=same(reward_space, self.reward_spec.name),
            action_space=same(action_space, self.actions),
            runtimes_per_observation=self.runtimes_per_observation,
            render_mode=self.render_mode,
            honor_always_inline=same(honor_always_inline, self.honor_always_inline),
            _shared=self._shared.acquire(),
        )

    def program_graph(self) -> ProgramGraph:
        """The module's :class:`~optgym.programgraphs.ProgramGraph`, texts and all: what the
        ``Programl`` observation encodes as a Gymnasium ``GraphInstance`` of vocabulary ids."""
        return self._worker_value(self._current("program_graph()"), "Programl")

    def try_steps(self, steps: Sequence[str],
                  observations: Sequence[str] = ("IrInstructionCount",)) -> dict[str, Any]:
        """Worker observations of the current module after the pipelines ``steps``, leaving the
        episode as it is: one compilation, for policies that measure whole sequences. A
        sequence that crashes LLVM raises :class:`~optgym.errors.CompilerCrash`."""
        episode = self._current("try_steps()")
        steps = self.episode_steps(steps) if episode.always_inline_due else list(steps)
        if not steps:
            return episode.module.observe(*observations)
        return episode.module.try_pipeline(pass_table.join_steps(steps), tuple(observations))

    def episode_steps(self, steps: Sequence[str]) -> list[str]:
        """The steps an episode from the benchmark runs for these actions: with
        ``honor_always_inline``, the always-inliner first where the actions do not run it
        themselves (:func:`~optgym.llvm.passes.with_always_inline`)."""
        if not self.honor_always_inline:
            return list(steps)
        return pass_table.with_always_inline(steps)

    def commandline(self) -> str:
        """An `opt-19` command line that turns the benchmark into the current module."""
        return commandline_of_steps(self.actions_taken)

    @property
    def state(self) -> CompilerEnvState:
        """The episode so far as a reproducible record."""
        episode = self._current("state")
        return CompilerEnvState(
            benchmark=episode.benchmark.uri,
            commandline=self.commandline(),
            walltime=time.monotonic() - episode.started,
            reward=episode.reward,
        )

    def apply(self, state: CompilerEnvState) -> None:
        """Reset to the state's benchmark and replay its command line.

        Both optgym's ``opt-19 -passes=...`` and CompilerGym's ``opt -mem2reg ...`` command
        lines are read; a flag LLVM 19 lacks, or an unknown one, raises OptgymError.
        """
        steps = steps_of(state.commandline)
        self.reset(options={"benchmark": state.benchmark, "replay": steps})
        episode = self._current("apply()")
        spec = self.reward_spec
        episode.costs.pop(spec.name, None)  # the episode's reward counts from the benchmark
        episode.reward = self._reward(episode, spec)

    def validate(self, state: CompilerEnvState | None = None, *,
                 reward_space: str | None = _SAME) -> ValidationResult:
        """Replay a state (default: the current one) with the real `opt-19`.

        Checks that the instruction count and the reward (in ``reward_space``, by default the
        env's; None: not checked) are reproduced, for runnable benchmarks that the program
        prints what its unoptimized build prints, and with ``honor_always_inline`` that no
        ``always_inline`` call is left that clang would inline. See
        :func:`~optgym.envs.llvm.validation.validate_state`.
        """
        reward = (self.reward_spec if reward_space is _SAME
                  else None if reward_space is None else reward_spec(reward_space))
        return validate_state(
            state or self.state, session=self.session, reward=reward,
            resolve=self._resolve_benchmark, baselines=self._baselines_for,
            honor_always_inline=self.honor_always_inline,
        )

    # -- internals ----------------------------------------------------------------------------
    def _current(self, what: str) -> Episode:
        if self._episode is None:
            raise OptgymError(f"call reset() before {what}")
        return self._episode

    def _advance(self, episode: Episode, pipeline: str, observe: tuple[str, ...]) -> bool:
        """The one way a module changes: run ``pipeline`` (the always-inliner first if it is
        due), keep what the worker observed with it, and return whether the module changed."""
        due, known = episode.always_inline_due, len(episode.steps)
        try:
            inlined = False
            if episode.always_inline_due:
                episode.always_inline_due = False
                if not pass_table.honors_always_inline(pipeline):
                    inlined = episode.module.run(pass_table.ALWAYS_INLINE).changed
                    episode.steps.append(pass_table.ALWAYS_INLINE)
                    episode.observed = {}
            result = episode.module.run(pipeline, observe=observe)
            episode.steps.append(pipeline)
            episode.observed = result.observations
        except BaseException:
            self._catch_up(episode, due, known)
            raise
        return result.changed or inlined

    @staticmethod
    def _catch_up(episode: Episode, due: bool, known: int) -> None:
        """After a step failed, or an exception a signal handler raised (Ctrl-C) cut it short:
        make the episode what its module holds. The session keeps the module's recipe and its
        worker in step, but the exception may land after the worker ran a pass and before the
        episode recorded it (found by benchmarks/fuzz_envs.py). A pass that ran is kept: its
        reward goes to the episode at the next step."""
        episode.steps.extend(episode.module.pipelines[len(episode.steps):])
        if len(episode.steps) == known:
            episode.always_inline_due = due  # nothing of the step ran
        else:
            episode.observed = {}
            episode.reward_due = True

    def _observation(self) -> Any:
        spec = self.observation_spec
        return self.observe(spec.name) if spec is not None else 0

    def _worker_value(self, episode: Episode, name: str) -> Any:
        value = episode.observed.get(name)
        if value is None:
            value = episode.module.observe(name)[name]
            episode.observed[name] = value
        return value

    def _observe_here(self, episode: Episode, spec: ObservationSpec) -> Any:
        """The observations the environment computes from worker values."""
        if spec.name == "IsRunnable":
            return int(bool(episode.benchmark.runnable))
        if spec.name == "InstCountNorm":
            counts = self._worker_value(episode, "InstCount").astype(np.float32)
            return counts[1:] / max(counts[0], 1.0)
        if spec.name in ("InstCountDict", "AutophaseDict"):
            source, names = (("InstCount", INSTCOUNT_NAMES) if spec.name == "InstCountDict"
                             else ("Autophase", AUTOPHASE_NAMES))
            values = self._worker_value(episode, source)
            return {n: np.asarray(v, dtype=np.int64) for n, v in zip(names, values, strict=True)}
        if spec.name == "BitcodeFile":
            if self._tmpdir is None:
                self._tmpdir = Path(tempfile.mkdtemp(prefix="optgym-env-"))
            path = self._tmpdir / f"state-{len(episode.steps)}.bc"
            atomic_write(path, self._worker_value(episode, "Bitcode"))
            return str(path)
        if spec.name == "Runtime":
            return np.asarray(self._cost(episode, "Runtime"), dtype=np.float64)
        raise OptgymError(f"observation {spec.name} has no implementation")

    def _cost(self, episode: Episode, cost: str) -> float:
        if cost == "Runtime":  # built as the episode's code-generation steps say
            codegen = pass_table.split_codegen(episode.steps)[1]
            return float(self._runtime(self._worker_value(episode, "Bitcode"), codegen))
        return float(self._worker_value(episode, cost))

    def _reward(self, episode: Episode, spec: RewardSpec) -> float:
        """``spec``'s reward since it last gave one (since the benchmark, the first time)."""
        if spec.runnable_only and not episode.benchmark.runnable:
            raise BenchmarkError(f"{episode.benchmark.uri} is not runnable; no {spec.name} reward")
        baselines = self._baselines_for(episode.benchmark, spec.cost)
        previous = episode.costs.get(spec.name, baselines[f"{spec.cost}O0"])
        cost = self._cost(episode, spec.cost)
        episode.costs[spec.name] = cost
        return (previous - cost) / spec.scale(baselines)

    def _runtime(self, bitcode: bytes, codegen: Sequence[str] = ()) -> float:
        from optgym.datasets import build_executable, run_executable

        benchmark = self._current("a runtime").benchmark
        if not benchmark.runnable:
            raise BenchmarkError(f"{benchmark.uri} is not runnable; no Runtime observation")
        with scratch_dir("optgym-run-") as tmp:
            exe = Path(tmp) / "a.out"
            build_executable(bitcode, exe, what=benchmark.uri, codegen=tuple(codegen))
            times = []
            for _ in range(self.runtimes_per_observation):
                run = run_executable(exe, timeout=60.0)
                if run.timed_out or run.returncode != benchmark.expected_returncode:
                    raise BenchmarkError(f"{benchmark.uri}: the program failed to run")
                times.append(run.seconds)
        return statistics.median(times)

    def _baselines_for(self, benchmark: Benchmark, cost: str) -> Mapping[str, float]:
        """The benchmark's ``cost`` at -O0, -O3 and -Oz (see :class:`BaselineCache`)."""
        own = self._loaded is not None and benchmark is self._loaded.benchmark
        return self._baselines.get(
            benchmark, cost, module=self._loaded.module if own else None,
            load=lambda: self._load(benchmark),
        )

    def _resolve_benchmark(self, benchmark: BenchmarkLike | None) -> Benchmark:
        from optgym.datasets import get_benchmark, get_dataset

        if isinstance(benchmark, Benchmark):
            return benchmark
        current = self._loaded.benchmark if self._loaded is not None else None
        if current is not None and benchmark == current.uri:  # also one made in memory
            return current
        if isinstance(benchmark, str) and not benchmark.strip():
            raise BenchmarkError(f"benchmark {benchmark!r} is empty; give a benchmark URI, "
                                 "or None to draw one from the dataset")
        if benchmark is not None:
            return get_benchmark(benchmark if isinstance(benchmark, Path) else str(benchmark))
        return get_dataset(self.dataset_name).random_benchmark(self.np_random, split=self.split)

    @staticmethod
    def _is_new(benchmark: Benchmark, current: Benchmark) -> bool:
        """Whether ``benchmark`` is another module than the loaded one: by URI, and by content
        for modules whose URI does not name it (``Benchmark.uri_names_content``: every
        ``optgym-opt`` stdin module is ``optgym-opt://<stdin>``)."""
        if benchmark.uri != current.uri:
            return True
        if benchmark is current or benchmark.uri_names_content:
            return False
        return benchmark.bitcode != current.bitcode

    def _load(self, benchmark: Benchmark) -> ModuleHandle:
        try:
            return self.session.load(benchmark.bitcode, benchmark.uri)
        except (ParseError, CompilerCrash) as exc:
            raise BenchmarkError(f"{benchmark.uri} does not load: {exc}") from None

    def _check_action(self, action: SupportsInt) -> int:
        if isinstance(action, np.ndarray) and action.size == 1:
            action = action.reshape(()).item()
        try:
            if isinstance(action, bool | np.bool_):  # True would otherwise be action 1
                raise TypeError
            index = operator.index(action)  # integers only: no floats, inf or strings
        except TypeError:
            raise ValueError(
                f"action {action!r} is not an integer index into {self.action_space}"
            ) from None
        if not 0 <= index < len(self.actions):
            raise ValueError(
                f"action {action!r} is not in the action space {self.action_space} "
                f"({self.actions.name}: 0..{len(self.actions) - 1})"
            )
        return index
