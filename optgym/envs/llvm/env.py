"""`LlvmEnv`: the pass-ordering environment. State: an LLVM 19 module; actions: LLVM passes.

One environment owns one compiler worker (forks share it). The module never leaves the worker:
a step sends the action's pipeline text and the names of the observations it needs, and gets
back numbers and arrays. Per-benchmark baselines (-O0, -O3, -Oz costs) come from
:class:`~optgym.envs.llvm.baselines.BaselineCache`; replay with `opt-19` is
:func:`~optgym.envs.llvm.validation.validate_state`. With a
:class:`~optgym.envs.llvm.cache.TranspositionCache`, known transitions are answered without
running LLVM at all; the passes are applied lazily, only when an observation needs the module.
"""

from __future__ import annotations

import functools
import operator
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, SupportsInt

import gymnasium
import numpy as np
from gymnasium import spaces

from optgym.cache import atomic_write
from optgym.envs.llvm.baselines import BaselineCache
from optgym.envs.llvm.cache import Transition, TranspositionCache
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
from optgym.errors import BenchmarkError, CompilerCrash, OptgymError, ParseError, RenderModeError
from optgym.llvm import passes as pass_table
from optgym.llvm.session import CompilerSession, ModuleHandle
from optgym.scratch import scratch_dir


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
    | ``["-mem2reg", "-gvn", ...]`` | len | those flags, in that order |

    An action outside the space raises ``ValueError``.

    ## Observation space
    Chosen by name (``observation_space="Autophase"``; assign ``env.observation_space = "Ir"``
    to change it; ``None`` gives ``0`` from a ``Discrete(1)``). The vectors:

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

    Any space, not only the chosen one, is computed on demand by ``env.observation["Name"]``.

    ## Rewards
    Chosen by name (``reward_space=...``, or assign ``env.reward_space = "..."``). Each is the
    drop in a cost since the previous step, divided by a per-benchmark scale:
    ``IrInstructionCount`` (÷1), ``IrInstructionCountNorm`` (÷ the -O0 count),
    ``IrInstructionCountO3`` / ``IrInstructionCountOz`` (÷ max(C_O0 - C_O3/Oz, 1), so an episode
    ending at -Oz's count sums to 1.0), the same four for ``ObjectTextSize*``, and
    ``RuntimeO3`` (runnable benchmarks only). ``env.reward["Name"]`` gives any other space's
    reward since that space was last asked.

    ## Starting state
    The benchmark's unoptimized module (clang's output before any LLVM pass). The benchmark is
    ``options["benchmark"]`` of ``reset``, else the constructor's ``benchmark``, else one drawn
    from ``dataset`` (and ``split``) with the env's generator, seeded by ``reset(seed=...)``.
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
        transposition_cache: share one between environments of a search to skip known steps.
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

    ## Version history
    * v0: CompilerGym's ``llvm-v0`` spaces, names and reward definitions on LLVM 19; seven of
      its 124 flags have no LLVM 19 pass (``optgym.llvm.passes.LEFT_OUT`` says why). Since
      optgym 0.1 (the drop-ins issue), environments on the safe action sets run the
      always-inliner before the first action (``honor_always_inline``).
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
        action_space: str | list[str] | pass_table.ActionSet = "flags-v0",
        timeout: float = 60.0,
        transposition_cache: TranspositionCache | None = None,
        runtimes_per_observation: int = 3,
        render_mode: str | None = None,
        honor_always_inline: bool | None = None,
        _shared: _SharedSession | None = None,
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
        self.honor_always_inline = (self.actions.safe if honor_always_inline is None
                                    else bool(honor_always_inline))
        # True until the episode's first step decides whether the always-inliner runs first.
        self._always_inline_due = False
        self.observation_space_spec: ObservationSpec | None = None
        self._observation_space: spaces.Space = spaces.Discrete(1)
        self.observation_space = observation_space
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
        self._baselines = BaselineCache(self._runtime)
        self._reward_prev: dict[str, float] = {}
        self.episode_reward = 0.0
        self._reward_stale = False  # an interrupted step was applied; rewards catch up next step
        self._reset_time = time.monotonic()
        self._tmpdir: Path | None = None
        # Observations the worker returned with the last step, valid until the module changes.
        self._step_obs: dict[str, Any] | None = None
        self.observation = ObservationView(self._observation_in_episode)
        self.reward = RewardView(self._reward_in_episode)

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

    @property
    def in_episode(self) -> bool:
        """Whether the environment has been reset (and not closed) since it was made."""
        return self._module is not None

    @property
    def episode_walltime(self) -> float:
        """Seconds since the episode began (the last reset)."""
        return time.monotonic() - self._reset_time

    @property
    def observation_space(self) -> spaces.Space:
        """The space of what reset and step return; assign a name (or None) to change it."""
        return self._observation_space

    @observation_space.setter
    def observation_space(self, name: str | ObservationSpec | None) -> None:
        if isinstance(name, spaces.Space):
            raise OptgymError(
                "assign an observation space by name (env.observation_space = 'InstCount'), "
                f"not as a {type(name).__name__}; to transform observations, use a wrapper"
            )
        if isinstance(name, ObservationSpec):
            name = name.name
        spec = observation_spec(name) if name is not None else None
        self.observation_space_spec = spec
        self._observation_space = spec.space if spec is not None else spaces.Discrete(1)
        self.__dict__.pop("_step_names", None)  # what a step asks the worker for has changed

    @property
    def reward_space(self) -> RewardSpec:
        """The reward step returns; assign a name to change it from the next step on."""
        return self.reward_space_spec

    @reward_space.setter
    def reward_space(self, name: str | RewardSpec) -> None:
        spec = reward_spec(name.name if isinstance(name, RewardSpec) else name)
        self.reward_space_spec = spec
        self.__dict__.pop("_step_names", None)
        if self.in_episode:  # the next step's reward is the change from here
            self._reward_prev[spec.name] = self._cost(spec.cost)

    # -- gymnasium API -----------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode on a benchmark: the one in ``options["benchmark"]``, the one given
        to the constructor, or one drawn from the dataset with this env's seeded generator."""
        super().reset(seed=seed)
        options = options or {}
        chosen = options.get("benchmark")
        benchmark = self._resolve_benchmark(self._fixed_benchmark if chosen is None else chosen)
        if self._base is None or self._is_new(benchmark):
            # Load first: a benchmark that fails to load leaves the previous one usable.
            base = self._load(benchmark)
            if self._base is not None:
                self._base.close()
            self._base, self._benchmark = base, benchmark
        if self._module is not None:
            self._module.close()
        self._module = self._base.fork()
        self._applied, self._pending = [], []
        self._always_inline_due = self.honor_always_inline
        self._hash, self._count, self._step_obs = None, None, None
        self._reward_prev = {}
        self.episode_reward = 0.0
        self._reward_stale = False
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
        if self._reward_stale:  # the step before was interrupted after its pass ran
            self.episode_reward = self._episode_reward_from_start()
            self._reward_stale = False
        due, known = self._always_inline_due, len(self._module.pipelines)
        try:
            changed = self._run_pipeline(self.actions[index].pipeline)
            info["action_had_no_effect"] = not changed
        except CompilerCrash as crash:  # PassTimeout included; the module is as it was
            info["error"] = crash
            terminated = True
            return self._observe_default(), 0.0, terminated, False, info
        except BaseException:
            self._resync(due, known)
            raise
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
        other._continue_from(self)
        return other

    def _continue_from(self, parent: LlvmEnv) -> None:
        """Become a copy of ``parent``'s episode (used by :meth:`fork` on the new sibling).

        One clone only: the fork reloads the unmodified benchmark if it is ever reset. The
        fork gets a generator of its own, spawned from the parent's, so that the resets of
        one never move the other's draws.
        """
        self._benchmark = parent._benchmark
        self._module = parent._module.fork()
        self._applied = list(parent._applied)
        self._always_inline_due = parent._always_inline_due
        self._hash, self._count = parent._hash, parent._count
        self._baselines = parent._baselines
        self._reward_prev = dict(parent._reward_prev)
        self.episode_reward = parent.episode_reward
        self._reward_stale = parent._reward_stale
        self._reset_time = parent._reset_time
        self._np_random = parent.np_random.spawn(1)[0]

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
            action_space=self.actions,
            transposition_cache=self.cache,
            runtimes_per_observation=self.runtimes_per_observation,
            render_mode=self.render_mode,
            honor_always_inline=self.honor_always_inline,
        )
        settings.update(kwargs)
        benchmark = settings.pop("benchmark")
        return LlvmEnv(benchmark, _shared=self._shared, **settings)

    def program_graph(self) -> Any:
        """The module's :class:`~optgym.programgraphs.ProgramGraph`, texts and all: what the
        ``Programl`` observation encodes as a Gymnasium ``GraphInstance`` of vocabulary ids."""
        if not self.in_episode:
            raise OptgymError("call reset() before asking for the program graph")
        return self._worker_observe("Programl")

    def try_steps(self, steps: list[str],
                  observations: tuple[str, ...] = ("IrInstructionCount",)) -> dict[str, Any]:
        """Worker observations of the current module after the pipelines ``steps``, leaving the
        episode as it is: one compilation, for policies that measure whole sequences. A
        sequence that crashes LLVM raises :class:`~optgym.errors.CompilerCrash`."""
        if self._module is None:
            raise OptgymError("call reset() before try_steps()")
        self._materialize()
        steps = self.episode_steps(steps) if self._always_inline_due else list(steps)
        if not steps:
            return self._module.observe(*observations)
        return self._module.try_pipeline(pass_table.join_steps(steps), tuple(observations))

    def episode_steps(self, steps: list[str] | tuple[str, ...]) -> list[str]:
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
        if self._benchmark is None:
            raise OptgymError("call reset() before reading the state")
        return CompilerEnvState(
            benchmark=self._benchmark.uri,
            commandline=self.commandline(),
            walltime=time.monotonic() - self._reset_time,
            reward=self.episode_reward,
        )

    def apply(self, state: CompilerEnvState) -> None:
        """Reset to the state's benchmark and replay its command line.

        Both optgym's ``opt-19 -passes=...`` and CompilerGym's ``opt -mem2reg ...`` command
        lines are read; a flag LLVM 19 lacks, or an unknown one, raises OptgymError.
        """
        steps = steps_of(state.commandline)
        self.reset(options={"benchmark": state.benchmark, "replay": steps})
        self.episode_reward = self._episode_reward_from_start()

    def validate(self, state: CompilerEnvState | None = None) -> ValidationResult:
        """Replay a state (default: the current one) with the real `opt-19`.

        Checks that the instruction count and the reward are reproduced, for runnable
        benchmarks that the program prints what its unoptimized build prints, and with
        ``honor_always_inline`` that no ``always_inline`` call is left that clang would inline. See
        :func:`~optgym.envs.llvm.validation.validate_state`.
        """
        return validate_state(
            state or self.state, session=self.session, reward=self.reward_space_spec,
            resolve=self._resolve_benchmark, baselines=self._baselines_for,
            honor_always_inline=self.honor_always_inline,
        )

    # -- internals ----------------------------------------------------------------------------
    def _resolve_benchmark(self, benchmark: Any) -> Any:
        from optgym.datasets import Benchmark, get_benchmark, get_dataset

        if isinstance(benchmark, Benchmark):
            return benchmark
        if isinstance(benchmark, str) and not benchmark.strip():
            raise BenchmarkError(f"benchmark {benchmark!r} is empty; give a benchmark URI, "
                                 "or None to draw one from the dataset")
        if benchmark is not None:
            return get_benchmark(str(benchmark))
        return get_dataset(self.dataset_name).random_benchmark(self.np_random, split=self.split)

    def _is_new(self, benchmark: Any) -> bool:
        """Whether ``benchmark`` is another module than the loaded one: by URI, and by content
        for modules whose URI does not name it (``Benchmark.uri_names_content``: every
        ``optgym-opt`` stdin module is ``optgym-opt://<stdin>``)."""
        current = self._benchmark
        if benchmark.uri != current.uri:
            return True
        if benchmark is current or benchmark.uri_names_content:
            return False
        return benchmark.bitcode != current.bitcode

    def _load(self, benchmark: Any) -> ModuleHandle:
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

    def _run_pipeline(self, pipeline: str) -> bool:
        """Advance the episode by one step (the always-inliner first if it is due); returns
        whether the module changed."""
        if self._always_inline_due:
            self._always_inline_due = False
            if not pass_table.honors_always_inline(pipeline):
                inlined = self._run_one(pass_table.ALWAYS_INLINE, observe=())
                return self._run_one(pipeline) or inlined
        return self._run_one(pipeline)

    def _run_one(self, pipeline: str, observe: tuple[str, ...] | None = None) -> bool:
        """Run one pipeline on the episode's module (``observe``: the worker observations to
        return with it, by default those a step needs); returns whether the module changed."""
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
        result = self._module.run(pipeline, observe=self._step_names if observe is None else observe)
        self._applied.append(pipeline)
        self._hash = None
        self._count = result.observations.get("IrInstructionCount")
        self._step_obs = result.observations
        return result.changed

    def _resync(self, due: bool, known: int) -> None:
        """After an exception a signal handler raised mid-step (Ctrl-C): make the episode what
        the module holds. The session keeps the module's recipe and its worker in step, but the
        exception may land after the worker ran the pass and before this env recorded it (the
        step is then applied), or between the two halves of an always-inline step."""
        self._catch_up()
        if len(self._module.pipelines) == known:
            self._always_inline_due = due  # nothing of the step ran
        else:
            self._reward_stale = True  # it ran: the next step's reward starts after it
        self._hash, self._count, self._step_obs = None, None, None

    def _catch_up(self) -> None:
        """Record what the module ran and this env has not (an interrupt landed in between):
        steps answered from the cache first, then a step's own."""
        for pipeline in self._module.pipelines[len(self._applied):]:
            if self._pending and self._pending[0] == pipeline:
                self._pending.pop(0)
            self._applied.append(pipeline)

    def _materialize(self) -> None:
        """Run the steps that were answered from the transposition cache (each taken off the
        list once it ran, so an interrupt neither loses one nor runs one twice)."""
        self._catch_up()
        while self._pending:
            self._module.run(self._pending[0])
            self._applied.append(self._pending.pop(0))

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
            codegen = pass_table.split_codegen(self.actions_taken)[1]
            return np.asarray(self._runtime(self._worker_observe("Bitcode"), codegen),
                              dtype=np.float64)
        raise OptgymError(f"observation {spec.name} has no implementation")

    def _runtime(self, bitcode: bytes, codegen: tuple[str, ...] = ()) -> float:
        from optgym.datasets import build_executable, run_executable

        if not self._benchmark.runnable:
            raise BenchmarkError(f"{self._benchmark.uri} is not runnable; no Runtime observation")
        with scratch_dir("optgym-run-") as tmp:
            exe = Path(tmp) / "a.out"
            build_executable(bitcode, exe, what=self._benchmark.uri, codegen=codegen)
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

    def _reward(self, spec: RewardSpec) -> float:
        if spec.runnable_only and not self._benchmark.runnable:
            raise BenchmarkError(f"{self._benchmark.uri} is not runnable; no {spec.name} reward")
        baselines = self._baselines_for(self._benchmark, spec.cost)
        previous = self._reward_prev.get(spec.name, baselines[f"{spec.cost}O0"])
        cost = self._cost(spec.cost)
        self._reward_prev[spec.name] = cost
        return (previous - cost) / spec.scale(baselines)

    def _episode_reward_from_start(self) -> float:
        spec = self.reward_space_spec
        baselines = self._baselines_for(self._benchmark, spec.cost)
        cost = self._cost(spec.cost)
        self._reward_prev[spec.name] = cost
        return (baselines[f"{spec.cost}O0"] - cost) / spec.scale(baselines)

    def _baselines_for(self, benchmark: Any, cost: str) -> dict[str, float]:
        """The benchmark's ``cost`` at -O0, -O3 and -Oz (see :class:`BaselineCache`)."""
        own = benchmark is self._benchmark and self._base is not None
        return self._baselines.get(
            benchmark, cost, module=self._base if own else None,
            load=lambda: self._load(benchmark),
        )

    def _observation_in_episode(self, name: str) -> Any:
        if not self.in_episode:
            raise OptgymError("call reset() before asking for observations")
        return self._observe(name)

    def _reward_in_episode(self, name: str) -> float:
        if not self.in_episode:
            raise OptgymError("call reset() before asking for rewards")
        return self._reward(reward_spec(name))


class ObservationView:
    """``env.observation["Name"]``: any observation space, computed on demand."""

    def __init__(self, compute: Callable[[str], Any]):
        self._compute = compute

    def __getitem__(self, name: str) -> Any:
        return self._compute(name)

    @property
    def spaces(self) -> dict[str, ObservationSpec]:
        """Every observation space, by name (CompilerGym's ``env.observation.spaces``)."""
        from optgym.envs.llvm.spaces import OBSERVATION_SPECS, programl_spec

        programl_spec()
        return dict(OBSERVATION_SPECS)


class RewardView:
    """``env.reward["Name"]``: the change in that reward's cost since it was last asked."""

    def __init__(self, compute: Callable[[str], float]):
        self._compute = compute

    def __getitem__(self, name: str) -> float:
        return self._compute(name)

    @property
    def spaces(self) -> dict[str, RewardSpec]:
        """Every reward space, by name (CompilerGym's ``env.reward.spaces``)."""
        from optgym.envs.llvm.spaces import REWARD_SPECS

        return dict(REWARD_SPECS)


class NamedSpaces(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """The outermost wrapper of ``gymnasium.make("optgym/llvm-*")``: it passes assignments of
    an observation or reward space *by name* to the environment underneath.

    Without it, ``env.observation_space = "InstCount"`` would set an attribute of the outermost
    Gymnasium wrapper and change nothing the environment returns. Assigning a
    :class:`gymnasium.spaces.Space` keeps Gymnasium's meaning (this wrapper's own space).
    """

    def __init__(self, env: gymnasium.Env):
        gymnasium.utils.RecordConstructorArgs.__init__(self)
        gymnasium.Wrapper.__init__(self, env)

    @property
    def observation_space(self) -> spaces.Space:
        """The space of the observations (the environment's, unless a Space was assigned)."""
        return self._observation_space if self._observation_space is not None \
            else self.env.observation_space

    @observation_space.setter
    def observation_space(self, space: spaces.Space | str | None) -> None:
        if isinstance(space, spaces.Space):
            self._observation_space = space
        else:
            self.env.unwrapped.observation_space = space
            self._observation_space = None

    @property
    def reward_space(self) -> RewardSpec:
        """The reward the environment returns; assign a name to change it."""
        return self.env.unwrapped.reward_space

    @reward_space.setter
    def reward_space(self, name: str | RewardSpec) -> None:
        self.env.unwrapped.reward_space = name
