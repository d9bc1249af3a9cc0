"""``optgym-opt``: a drop-in for LLVM's ``opt`` that picks the passes, never worse than -Oz.

With ``-O0/-O1/-O2/-O3/-Os/-Oz``, ``-passes=...`` or any other `opt` option, it *is* `opt-19`:
the process is replaced by ``opt-19`` with the same arguments. Otherwise a policy searches a
pass sequence for the module within a budget (the shipped learned model when there is one,
else the best search policy), the real ``opt-19`` applies the chosen ``-passes=`` string, the
result is verified and measured, and whichever of it and -Oz is smaller is written: by IR
instructions (the default, the measure ``opt`` users compare) or, with ``--objective text``, by
the ``.text`` bytes of the object clang -Oz's code generator makes of it. Only passes that keep
every well-defined program's meaning run (:data:`optgym.llvm.passes.SAFE_FLAGS`) unless
``--unsafe-passes``. ``--print-pipeline`` prints the ``-passes=`` string with which plain
``opt-19`` reproduces the output module (the same IR).

:func:`optimize` is the same selection for Python callers (``optgym-cc`` uses it in-process).
"""

from __future__ import annotations

import functools
import os
import shlex
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optgym.cache import atomic_write
from optgym.errors import CompilerCrash, LlvmError, OptgymError
from optgym.llvm.passes import (
    CLANG_OZ_PIPELINE,
    is_codegen_step,
    join_steps,
    only_step,
    split_codegen,
)
from optgym.llvm.toolchain import OPT_TARGET_FLAGS
from optgym.scratch import scratch_dir

if TYPE_CHECKING:  # imported when used: optgym-opt starts fast
    from optgym.agents.base import Budget, Policy, SearchResult
    from optgym.envs.llvm import LlvmEnv
    from optgym.llvm.session import CompilerSession

#: The search policy used when no learned model ships: the best at small compilation budgets
#: in ``benchmarks/policies_report.py`` (45 compilations: oz-climb 1.129x -Oz, evolve 1.123x).
DEFAULT_SEARCH = "oz-climb"
#: Compilations per module when neither ``--budget`` nor ``--seconds`` is given.
DEFAULT_BUDGET = 60
OZ_PIPELINE = "default<Oz>"
#: What a selection minimizes, by ``--objective`` name: the worker observation that measures it.
OBJECTIVES = {"instructions": "IrInstructionCount", "text": "ObjectTextSizeBytes"}
#: LLVM's size transformations tried after the search, each on the best sequence so far (one
#: compilation each; kept when it makes the result smaller): merging identical functions and
#: outlining similar IR regions, and (where the object is ours to make: optgym-cc) the machine
#: outliner in code generation. See :data:`optgym.llvm.passes.SIZE_TRANSFORMS`.
IR_FINISHERS = ("mergefunc", "iroutliner")
CODEGEN_FINISHERS = ("codegen<machine-outliner>",)
#: Function-pass sequences the per-function phase tries on one function at a time, after the
#: module-level sequence (the cleanups of -Oz's function simplification pipeline, in short
#: forms): a module-level sequence suits some of a module's functions better than others.
FUNCTION_SEQUENCES: tuple[tuple[str, ...], ...] = (
    ("function(instcombine<no-verify-fixpoint>)", "function(simplifycfg)"),
    ("function(sroa)", "function(early-cse<memssa>)", "function(gvn)",
     "function(instcombine<no-verify-fixpoint>)", "function(simplifycfg)"),
    ("function(jump-threading)", "function(correlated-propagation)", "function(simplifycfg)"),
    ("function(loop-mssa(licm))", "function(loop(loop-deletion))", "function(simplifycfg)"),
    ("function(dse)", "function(adce)", "function(simplifycfg)"),
)

_HELP = f"""\
usage: optgym-opt [options] [INPUT] [-o OUTPUT] [-S]

A drop-in for LLVM's opt-19 that chooses the passes for you. Reads LLVM IR (.ll) or bitcode
(.bc) from INPUT, or stdin when INPUT is '-' or absent; writes bitcode (or IR text with -S) to
OUTPUT, or stdout ('-'). The output is verified and never larger than -Oz's, where -Oz is
`opt-19 --relocation-model=pic -Oz`: optgym-opt optimizes for position-independent code, as
clang does for Debian's default PIE builds.

opt's own options pass through: with -O0, -O1, -O2, -O3, -Os, -Oz, -passes=PIPELINE or any
other opt option, optgym-opt runs opt-19 with exactly the same arguments.

options:
  -o OUTPUT            output file ('-' for stdout, the default); written whole or not at all
  -S                   write LLVM IR text instead of bitcode
  -f                   write bitcode to a terminal anyway
  --policy NAME        policy that chooses the passes: evolve, oz-climb, random, greedy, beam,
                       oz, nvp (the learned model) or a module:function of your own
                       (default: nvp when its model ships, else {DEFAULT_SEARCH})
  --budget N           compilations the policy may spend (default {DEFAULT_BUDGET} when no
                       --seconds is given)
  --seconds S          wall-clock seconds the policy may spend; the whole run is capped by
                       $OPTGYM_OPT_MAX_SECONDS (default 120; 0: no cap): a large module gets
                       fewer compilations, and past the cap the output is plain opt-19 -Oz's
  --seed N             random seed of the policy (default 0)
  --objective WHAT     minimize 'instructions' (IR instructions, the default: what an opt user
                       measures, and cheap to evaluate) or 'text' (.text bytes of the object
                       clang -Oz's code generator makes; about 20 ms more per candidate)
  --unsafe-passes      let the policy use every pass of CompilerGym's action space, including
                       those that can change a program's behaviour (see `optgym passes --unsafe`)
  --print-pipeline     print the options (--relocation-model=pic -passes=...) with which
                       plain opt-19 produces the same output (to stderr)
  -h, --help           show this help
"""

_OWN_VALUED = ("--policy", "--budget", "--seconds", "--seed", "--objective")


@dataclass
class Selection:
    """The pass pipeline chosen for a module and what it achieves."""

    pipeline: str
    instruction_count: int
    o0_count: int
    oz_count: int
    policy: str
    compilations: int
    walltime: float
    objective: str = "instructions"
    cost: int = 0  # the objective's measure of the chosen pipeline
    oz_cost: int = 0  # and of -Oz
    #: ``llc-19`` options the object must be made with (code-generation steps chosen)
    codegen: tuple[str, ...] = ()
    #: When the learned inliner's candidate won: its decisions (call site -> inline), the
    #: steps run after clang -Oz's pipeline, and the marked module and replay file that make
    #: it (see :mod:`optgym.llvm.inlining`); ``pipeline`` is then clang -Oz's.
    inline: dict | None = None
    inline_steps: tuple[str, ...] = ()
    inline_replay: tuple[bytes, str] | None = None

    @property
    def commandline(self) -> str:
        """The commands that make the output with the real opt-19 from the input."""
        from optgym.llvm.inlining import replay_commandline

        if self.inline is None:
            return " ".join(["opt-19", *OPT_TARGET_FLAGS, shlex.quote(f"-passes={self.pipeline}"),
                             "input.bc", "-o", "output.bc"])
        line = replay_commandline(self.inline, output_name="inlined.bc")
        if self.inline_steps:
            line += " && " + " ".join(["opt-19", *OPT_TARGET_FLAGS,
                                       shlex.quote(f"-passes={join_steps(self.inline_steps)}"),
                                       "inlined.bc", "-o", "inlined.bc"])
        return line + " && opt-19 --strip-debug inlined.bc -o output.bc"

    @property
    def oz_ratio(self) -> float:
        """-Oz's instruction count over ours (at least 1.0)."""
        return self.oz_count / max(self.instruction_count, 1)


def _in_memory_benchmark(name: str, data: bytes) -> Any:
    """A module given as bytes (a file or stdin), as a benchmark an environment can load."""
    return _in_memory_benchmark_class()(name, data)


@functools.cache
def _in_memory_benchmark_class() -> type:
    # Made on first use: optgym.datasets (and numpy) load after the compiler worker has started.
    from optgym.datasets.core import Benchmark

    class InMemoryBenchmark(Benchmark):
        """A module given as bytes (a file or stdin), as a benchmark an environment can load."""

        uri_names_content = False  # every stdin module is optgym-opt://<stdin>

        def __init__(self, name: str, data: bytes):
            super().__init__(f"optgym-opt://{name}", "optgym-opt", name, runnable=False)
            self._data = data

        def _load_bitcode(self) -> bytes:
            return self._data

    InMemoryBenchmark.__module__ = __name__
    return InMemoryBenchmark


def __getattr__(name: str) -> Any:
    if name == "InMemoryBenchmark":
        return _in_memory_benchmark_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def start_workers(policy: str | None) -> None:
    """Start the compiler workers a search will use, before anything else loads: one, and a
    helper for the learned model's parallel measuring when a core is free (see
    :func:`optgym.llvm.session.prestart`)."""
    from optgym.cores import free_cores
    from optgym.llvm.session import prestart

    prestart(2 if policy in (None, "nvp") and free_cores() >= 2 else 1)


def default_policy() -> str:
    """``nvp`` when the learned model ships and its policy is registered, else the search."""
    try:
        import optgym.agents.nvp as nvp
        from optgym.agents.base import policy_names

        if "nvp" in policy_names() and nvp.shipped_model_available():
            return "nvp"
    except Exception:  # noqa: BLE001 - a missing or broken model must not break opt
        pass
    return DEFAULT_SEARCH


def select(data: bytes, name: str = "<stdin>", *, policy: str | None = None,
           budget: Budget | None = None, seed: int = 0, env: LlvmEnv | None = None,
           objective: str = "instructions", unsafe_passes: bool = False, codegen: bool = False,
           per_function: int = 0, inliner: bool | None = None) -> Selection:
    """Search a pipeline for the module ``data`` (IR text or bitcode); never worse than -Oz by
    ``objective`` (``instructions`` or ``text``, see :data:`OBJECTIVES`).

    The policy searches first, then LLVM's size transformations are tried on its best sequence
    (:data:`IR_FINISHERS`, and with ``codegen`` the code-generation ones, for callers that
    make the object themselves: optgym-cc), and with ``per_function`` that many compilations
    go to per-function sequences (:func:`per_function_phase`); all come out of ``budget``'s
    compilations. With ``inliner`` (default: when the learned inliner ships and
    ``$OPTGYM_INLINER`` is not 0), one more candidate is the shipped inliner's decisions with
    clang -Oz's pipeline, the size transformations tried on top (:func:`_inliner_candidate`);
    it also comes out of the budget.
    Raises :class:`~optgym.errors.BenchmarkError` when the module does not load. ``env`` is
    an :class:`~optgym.envs.llvm.LlvmEnv` to reuse (its compiler worker), else one is made.
    """
    from optgym.agents.base import Budget

    if objective not in OBJECTIVES:
        raise OptgymError(f"unknown objective {objective!r}; expected one of {', '.join(OBJECTIVES)}")
    budget = budget or Budget(compilations=DEFAULT_BUDGET)
    benchmark = _in_memory_benchmark(name, data)
    name = policy or default_policy()
    own = env is None
    env = env or _env(unsafe_passes)
    # A time budget bounds the whole selection: what follows the search (size transformations,
    # the inliner's candidate) runs only while it fits, so small files stay a bounded multiple
    # of clang's time.
    deadline = None if budget.seconds is None else time.monotonic() + budget.seconds
    try:
        env.reset(options={"benchmark": benchmark})
        o0 = int(env.observe("IrInstructionCount"))
        measure_name = OBJECTIVES[objective]
        measured = _Candidates(env, measure_name)
        started = time.monotonic()
        oz = measured([OZ_PIPELINE])  # -Oz as opt-19 -Oz makes it: the promise
        oz_seconds = time.monotonic() - started
        budget = fit_budget(budget, oz_seconds)
        if budget is None:  # the module is too large to search within the time cap
            return Selection(OZ_PIPELINE, oz["IrInstructionCount"], o0, oz["IrInstructionCount"],
                             "oz (module too large to search)", 0, 0.0, objective,
                             oz[measure_name], oz[measure_name])
        finishers = IR_FINISHERS + (CODEGEN_FINISHERS if codegen else ())
        inliner_policy = _inliner_policy() if inliner is not False else None
        if inliner and inliner_policy is None:
            raise OptgymError("no learned inliner ships with this optgym")
        inliner_cost = 1 + len(finishers) if inliner_policy is not None else 0
        search_budget = _reserve(budget, len(finishers) + per_function + inliner_cost)
        if inliner_cost and search_budget.seconds is not None:
            # the inliner's candidate comes after the search: its compilations, and the
            # analysis of the module's call sites, out of the time too
            search_budget = Budget(compilations=search_budget.compilations,
                                   seconds=max(oz_seconds, search_budget.seconds
                                               - (inliner_cost + 1) * oz_seconds))
        try:
            result = _search(env, name, seed, search_budget, objective)
        except OptgymError as exc:
            if policy is not None or name == DEFAULT_SEARCH:
                raise
            # The learned model failed on this module: the search still gives an answer.
            print(f"optgym-opt: {name} failed ({exc}); using {DEFAULT_SEARCH}", file=sys.stderr)
            name = DEFAULT_SEARCH
            env.reset(options={"benchmark": env.benchmark})
            result = _search(env, name, seed, search_budget, objective)
        steps = _with_size_transforms(measured, result.steps, finishers, deadline, oz_seconds)
        if per_function:
            steps = per_function_phase(measured, steps, per_function)
        compilations = result.compilations + len(finishers) + per_function
        ours = measured(steps)
        inlined = None
        if inliner_policy is not None and _fits(deadline, (inliner_cost + 1) * oz_seconds):
            inlined = _inliner_candidate(env, benchmark, inliner_policy, measured, finishers)
            compilations += inliner_cost
            if inlined is not None and _better(inlined[2], ours, measure_name):
                steps, ours = inlined[1], inlined[2]
            else:
                inlined = None
        if ours[measure_name] >= oz[measure_name]:
            # ties go to -Oz: LLVM's own pipeline, and its usual code quality
            steps, ours, inlined = [OZ_PIPELINE], oz, None
        if inlined is not None:
            decisions, inline_steps, _, replay = inlined
            ir, llc = split_codegen(inline_steps)
            return Selection(CLANG_OZ_PIPELINE, ours["IrInstructionCount"], o0,
                             oz["IrInstructionCount"], f"{name} + inliner", compilations,
                             result.walltime, objective, ours[measure_name], oz[measure_name],
                             llc, decisions, tuple(ir), replay)
        ir, llc = split_codegen(steps)
        return Selection(join_steps(ir), ours["IrInstructionCount"], o0,
                         oz["IrInstructionCount"], name, compilations, result.walltime,
                         objective, ours[measure_name], oz[measure_name], llc)
    finally:
        if own:
            env.close()


def _env(unsafe_passes: bool) -> LlvmEnv:
    from optgym.envs.llvm import LlvmEnv
    from optgym.llvm.passes import FLAGS, SAFE_FLAGS

    # Even with every pass allowed, what ships keeps clang's always_inline promise.
    return LlvmEnv(observation_space=None, honor_always_inline=True,
                   action_space=(FLAGS if unsafe_passes else SAFE_FLAGS).name)


#: Policies made in this process, by (name, seed, thread): a policy keeps nothing from one search
#: to the next but what it loaded (a model), so a process that optimizes many modules (the build
#: server, optgym-cc with several files) loads each once. Per thread, since a search sets ``cost``.
_POLICIES: dict[tuple[str, int, int], Policy] = {}


def _search(env: LlvmEnv, name: str, seed: int, budget: Budget, objective: str
            ) -> SearchResult:
    from optgym.agents.parallel import make_policy

    key = (name, seed, threading.get_ident())
    if key not in _POLICIES:
        _POLICIES[key] = make_policy(name, seed)
    chosen = _POLICIES[key]
    if hasattr(chosen, "cost"):  # policies that can judge candidates by the objective itself
        chosen.cost = OBJECTIVES[objective]
    return chosen.search(env, budget)


def _reserve(budget: Budget, compilations: int) -> Budget:
    """``budget`` less ``compilations`` for what follows the search (at least one is left)."""
    from optgym.agents.base import Budget

    if budget.compilations is None:
        return budget
    return Budget(compilations=max(1, budget.compilations - compilations), seconds=budget.seconds)


def _inliner_policy() -> Any:
    """The shipped learned inliner, or None when none ships or ``$OPTGYM_INLINER`` is 0."""
    if os.environ.get("OPTGYM_INLINER", "") == "0":
        return None
    try:
        from optgym.agents.inliner.policy import shipped_policy

        return shipped_policy()
    except OptgymError:  # a model this optgym cannot read must not break opt
        return None


def _better(candidate: dict[str, int], best: dict[str, int], measure: str) -> bool:
    """Whether a candidate beats the best so far: smaller by the objective and, judged by
    ``.text``, no larger in what ``size`` counts."""
    others = [n for n in candidate if n not in (measure, "IrInstructionCount")]
    return candidate[measure] < best[measure] and all(candidate[n] <= best[n] for n in others)


def _inliner_candidate(env: Any, benchmark: Any, policy: Any, measured: _Candidates,
                       finishers: tuple[str, ...]) -> tuple | None:
    """The learned inliner's candidate: its decisions (one episode of the inlining
    environment's model, no compilation), clang -Oz's pipeline with them (the real opt-19, as
    the replay runs it), then each size transformation kept when it makes that smaller (one
    compilation each). Returns (decisions, steps after the pipeline, measures, (marked module,
    replay file)); None when the module cannot be marked (it has debug information) or LLVM
    fails on the candidate."""
    from optgym.envs.llvm.inline import InlineCompiler
    from optgym.llvm import inlining

    try:
        prepared = InlineCompiler(session=env.session).prepare(benchmark)
        decisions = policy.decide(prepared)
        replay_text = inlining.replay_text(decisions, prepared.names)
        output = inlining.replay(prepared.marked, replay_text, what=benchmark.uri)
    except (OptgymError, OSError):
        return None
    handle = env.session.load(output, f"{benchmark.uri} (inlined)")
    try:
        values = {n: int(v) for n, v in handle.observe(*measured.names).items()}
        steps: list[str] = []
        for finisher in finishers:
            try:
                trial = {n: int(v) for n, v in
                         handle.try_pipeline(finisher, measured.names).items()}
            except (CompilerCrash, LlvmError):
                continue
            if _better(trial, values, measured.measure):
                handle.run(finisher)
                steps.append(finisher)
                values = trial
    finally:
        handle.close()
    return decisions, steps, values, (prepared.marked, replay_text)


class _Candidates:
    """Measures of pass sequences from the unoptimized module, each sequence compiled once:
    the objective's measure, the instruction count, and (judged by ``.text``) what ``size``
    counts."""

    def __init__(self, env: LlvmEnv, measure: str):
        self.env = env
        self.measure = measure
        self.names = tuple(dict.fromkeys((measure, "IrInstructionCount") + (
            ("ObjectSizeTextBytes",) if measure == "ObjectTextSizeBytes" else ())))
        self.memo: dict[tuple[str, ...], dict[str, int]] = {}
        self.hashes: dict[tuple[str, ...], str] = {}

    def __call__(self, steps: list[str]) -> dict[str, int]:
        key = tuple(steps)
        if key not in self.memo:
            self.env.reset(options={"benchmark": self.env.benchmark})
            # the IR's hash comes with the walk: a later "did a finisher change it?" is free
            values = self.env.try_steps(list(steps), (*self.names, "IrHash"))
            self.memo[key] = {n: int(values[n]) for n in self.names}
            self.hashes[key] = values["IrHash"]
        return self.memo[key]

    def unchanged(self, steps: list[str], base: list[str]) -> bool:
        """Whether ``steps`` (``base`` and more IR passes) leave ``base``'s module as it was:
        checked on the IR alone, so a pass with nothing to do costs no code generation."""
        return self._hash(steps) == self._hash(base)

    def _hash(self, steps: list[str]) -> str:
        key = tuple(steps)
        if key not in self.hashes:
            self.env.reset(options={"benchmark": self.env.benchmark})
            self.hashes[key] = self.env.try_steps(list(steps), ("IrHash",))["IrHash"]
        return self.hashes[key]


def _fits(deadline: float | None, seconds: float) -> bool:
    """Whether work of about ``seconds`` ends before ``deadline`` (None: no deadline)."""
    return deadline is None or time.monotonic() + seconds <= deadline


def _with_size_transforms(measured: _Candidates, steps: list[str], finishers: tuple[str, ...],
                          deadline: float | None = None, seconds: float = 0.0) -> list[str]:
    """The search's best ``steps`` with each finisher that makes them smaller added, in turn
    (one compilation each, of about ``seconds``; those that would end after ``deadline`` are
    not tried). Judged by ``.text``, a finisher must also not grow what ``size`` counts (unwind
    tables, read-only data): the machine outliner often shrinks ``.text`` and adds more in
    ``.eh_frame``, and such an object would not ship anyway."""
    first = measured.measure
    for finisher in finishers:
        if not _fits(deadline, seconds):
            break
        candidate = [*steps, finisher]
        try:
            if not is_codegen_step(finisher) and measured.unchanged(candidate, steps):
                continue  # nothing to merge or outline here
            cost, best = measured(candidate), measured(steps)
        except (CompilerCrash, LlvmError):
            continue  # LLVM rejects or dies on it here: not a candidate
        others = [n for n in cost if n not in (first, "IrInstructionCount")]
        if cost[first] < best[first] and all(cost[n] <= best[n] for n in others):
            steps = candidate
    return steps


#: How many candidates that turn out to change nothing the per-function phase may try per
#: compilation it may spend (each costs a pass run on one function and a hash).
UNCHANGED_PER_COMPILATION = 4


def per_function_phase(measured: _Candidates, steps: list[str], compilations: int) -> list[str]:
    """``steps`` followed by per-function steps that make the module smaller: the largest
    functions first, each :data:`FUNCTION_SEQUENCES` entry tried on one function at a time
    (``only<NAME>(...)``), kept when it helps. Candidates run on the module after ``steps``
    (not from the start); up to ``compilations`` of them are measured, and one that changes
    nothing (by IR hash) costs no code generation and is not counted (but no more than
    :data:`UNCHANGED_PER_COMPILATION` such per compilation are tried)."""
    env, first = measured.env, measured.measure
    env.reset(options={"benchmark": env.benchmark, "replay": steps})
    base = env.try_steps([], ("FunctionSizes", "IrHash", *measured.names))
    sizes = base["FunctionSizes"]
    spent = tried = 0
    for function in sorted(sizes, key=lambda f: -sizes[f]):
        try:
            candidates = [only_step(function, seq) for seq in FUNCTION_SEQUENCES]
        except OptgymError:
            continue  # a name opt's -force-attribute cannot name
        for step in candidates:
            tried += 1
            if spent >= compilations or tried > UNCHANGED_PER_COMPILATION * compilations:
                return steps
            try:
                if env.try_steps([step], ("IrHash",))["IrHash"] == base["IrHash"]:
                    continue
                spent += 1
                cost = env.try_steps([step], measured.names)
            except (CompilerCrash, LlvmError):
                continue
            others = [n for n in measured.names if n not in (first, "IrInstructionCount")]
            if cost[first] < base[first] and all(cost[n] <= base[n] for n in others):
                steps = [*steps, step]
                env.reset(options={"benchmark": env.benchmark, "replay": steps})
                base = env.try_steps([], ("FunctionSizes", "IrHash", *measured.names))
                measured.memo[tuple(steps)] = {n: int(base[n]) for n in measured.names}
    return steps


def fit_budget(budget: Budget, compile_seconds: float) -> Budget | None:
    """Shrink a search budget to the module: one compilation takes about ``compile_seconds``
    (timed on -Oz), and search plus the final opt-19 run must fit in ``$OPTGYM_OPT_MAX_SECONDS``
    (default 120; 0 for no cap). Large modules get fewer compilations; None when not even a
    few fit, and -Oz is used as it is."""
    from optgym import limits
    from optgym.agents.base import Budget

    cap = limits.get("OPTGYM_OPT_MAX_SECONDS")
    if not cap:
        return budget
    left = cap - 4 * compile_seconds  # the baselines just run, the final opt-19 and the check
    if left < 4 * compile_seconds:
        return None
    compilations = budget.compilations
    if compilations is not None:
        compilations = max(1, min(compilations, int(left / max(compile_seconds, 1e-6))))
    return Budget(compilations=compilations, seconds=min(budget.seconds or left, left))


def run_opt(data: bytes, source: str | None, pipeline: str, text: bool) -> bytes:
    """The output of the real ``opt-19 -passes=PIPELINE`` on the module (the input file itself
    when there is one, so the module's name is what plain opt would record)."""
    from optgym.llvm import toolchain

    with scratch_dir("optgym-opt-") as tmp:
        out = Path(tmp) / ("out.ll" if text else "out.bc")
        argv = [*toolchain.opt_argv(pipeline), source or "-", "-o", str(out)]
        if text:
            argv.append("-S")
        proc = subprocess.run(argv, input=None if source else data, capture_output=True)
        if proc.returncode != 0:
            raise OptgymError(f"opt-19 failed on {pipeline}: "
                              f"{proc.stderr.decode('utf-8', 'replace').strip()}")
        return out.read_bytes()


@dataclass(frozen=True)
class Measured:
    """What the drop-ins check of an output module before writing it."""

    instruction_count: int
    cost: int  # by the objective (an :data:`OBJECTIVES` value)
    always_inline_calls: int  # calls to always_inline functions left (clang leaves none)


def measure(output: bytes, session: CompilerSession, cost: str = "IrInstructionCount",
            codegen: tuple[str, ...] = ()) -> Measured:
    """Verify a module and measure it (see :class:`Measured`; objects made with the ``llc-19``
    options ``codegen`` added); OptgymError if the verifier objects."""
    module = session.load(output, "optgym-opt output")
    try:
        problem = module.verify()
        if problem:
            raise OptgymError(f"the optimized module does not verify: {problem}")
        if codegen:
            module.run(join_steps([_codegen_step(o) for o in codegen]))
        values = module.observe("IrInstructionCount", cost, "AlwaysInlineCalls")
        return Measured(int(values["IrInstructionCount"]), int(values[cost]),
                        int(values["AlwaysInlineCalls"]))
    finally:
        module.close()


def optimize(data: bytes, source: str | None = None, *, text: bool = False,
             policy: str | None = None, budget: Budget | None = None, seed: int = 0,
             env: LlvmEnv | None = None, objective: str = "instructions",
             unsafe_passes: bool = False, codegen: bool = False) -> tuple[bytes, Selection]:
    """Choose passes for a module and apply them with opt-19; returns the output and the choice.

    With ``codegen``, the choice may include options for making the object
    (``Selection.codegen``, ``llc-19`` options): the caller must make it with them.

    The output is verified and measured; -Oz's output is returned instead if it somehow were
    larger than -Oz's by the objective (opt-19 disagreeing with the in-process search), or if it
    left more calls to ``always_inline`` functions than -Oz does (clang inlines them at every
    level; the search runs the always-inliner first, so this is a guard, not a filter).
    """
    own = env is None
    env = env or _env(unsafe_passes)
    try:
        choice = select(data, source or "<stdin>", policy=policy, budget=budget, seed=seed,
                        env=env, objective=objective, codegen=codegen)
        output = (run_inlined(choice, text, env.session) if choice.inline is not None
                  else run_opt(data, source, choice.pipeline, text))
        ours = measure(output, env.session, OBJECTIVES[objective], choice.codegen)
        if choice.pipeline != OZ_PIPELINE and (
                ours.cost > choice.oz_cost or _breaks_always_inline(ours, data, source, env)):
            choice.pipeline, choice.codegen = OZ_PIPELINE, ()
            choice.inline, choice.inline_steps, choice.inline_replay = None, (), None
            output = run_opt(data, source, OZ_PIPELINE, text)
            ours = measure(output, env.session, OBJECTIVES[objective])
        choice.instruction_count, choice.cost = ours.instruction_count, ours.cost
        return output, choice
    finally:
        if own:
            env.close()


def run_inlined(choice: Selection, text: bool, session: Any) -> bytes:
    """The output of an inliner selection, made with the real opt-19: the marked module through
    clang -Oz's pipeline obeying the decisions, then the steps chosen after it, then without
    the synthetic debug locations that named the call sites."""
    from optgym.llvm import inlining, toolchain

    marked, replay_text = choice.inline_replay
    output = inlining.replay(marked, replay_text)
    if choice.inline_steps:
        output = run_opt(output, None, join_steps(list(choice.inline_steps)), False)
    module = session.load(output, "inlined output")
    try:
        output = module.observe("BitcodeWithoutDebugInfo")["BitcodeWithoutDebugInfo"]
    finally:
        module.close()
    if text:
        output = toolchain.run_tool([toolchain.opt(), "-S", "-", "-o", "-"], what="output",
                                    input=output, error=OptgymError)
    return output


def _codegen_step(option: str) -> str:
    """The code-generation step that adds the ``llc-19`` option."""
    from optgym.llvm.passes import CODEGEN_STEPS

    return next(step for step, options in CODEGEN_STEPS.items() if option in options)


def _breaks_always_inline(ours: Measured, data: bytes, source: str | None,
                          env: LlvmEnv) -> bool:
    """Whether an output keeps more calls to always_inline functions than -Oz's output."""
    if not ours.always_inline_calls:
        return False
    reference = measure(run_opt(data, source, OZ_PIPELINE, False), env.session)
    return ours.always_inline_calls > reference.always_inline_calls


def output_problem(path: str | None) -> str | None:
    """Why ``path`` cannot be written as the output (checked before any search), or None."""
    if path in (None, "-"):
        return None
    out = Path(path)
    parent = out.parent
    if not parent.exists():
        return f"cannot write {path}: the directory {parent} does not exist"
    if not parent.is_dir():
        return f"cannot write {path}: {parent} is not a directory"
    if out.is_dir():
        return f"cannot write {path}: it is a directory"
    if not os.access(parent, os.W_OK):
        return f"cannot write {path}: the directory {parent} is not writable"
    return None


def write_output(output: bytes, path: str | None) -> None:
    """Write to ``path`` atomically (temp file + rename), or to stdout for None or '-'.

    Never creates directories: OptgymError naming the path when it cannot be written.
    """
    if path in (None, "-"):
        sys.stdout.buffer.write(output)
        sys.stdout.buffer.flush()
        return
    problem = output_problem(path)
    if problem:
        raise OptgymError(problem)
    try:
        atomic_write(Path(path), output)
    except OSError as exc:
        raise OptgymError(f"cannot write {path}: {exc.strerror or exc}") from None


def _parse(argv: list[str]) -> tuple[dict[str, Any], list[str], list[str]]:
    """Split the arguments into ours, input files, and opt options to pass through."""
    own: dict[str, Any] = {"output": None, "text": False, "force": False,
                           "print_pipeline": False, "help": False, "unsafe_passes": False}
    inputs: list[str] = []
    foreign: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        key = arg.split("=", 1)[0]
        if key in _OWN_VALUED:
            if "=" in arg:
                value = arg.split("=", 1)[1]
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                raise OptgymError(f"{arg} needs a value")
            own[key[2:]] = value
        elif arg == "--print-pipeline":
            own["print_pipeline"] = True
        elif arg == "--unsafe-passes":
            own["unsafe_passes"] = True
        elif arg in ("-h", "--help"):
            own["help"] = True
        elif arg == "-o":
            if i + 1 >= len(argv):
                raise OptgymError("-o needs a file name")
            i += 1
            own["output"] = argv[i]
        elif arg.startswith("-o="):
            own["output"] = arg[3:]
        elif arg == "-S":
            own["text"] = True
        elif arg == "-f":
            own["force"] = True
        elif arg == "-" or not arg.startswith("-"):
            inputs.append(arg)
        else:
            foreign.append(arg)
        i += 1
    return own, inputs, foreign


def main(argv: list[str] | None = None) -> int:
    """Run ``optgym-opt``; returns the exit code (or replaces the process with opt-19).

    Ctrl-C exits 130 and SIGTERM or SIGHUP 128 + its number, at any moment, having written
    nothing and left no worker or temporary file behind (:mod:`optgym.interrupts`).
    """
    from optgym import interrupts

    with interrupts.handled(program=argv is None):
        started = time.monotonic()
        try:
            return _main(list(sys.argv[1:] if argv is None else argv), started)
        except KeyboardInterrupt as exc:  # Terminated (SIGTERM, SIGHUP) included
            return interrupts.exit_code(exc)
        except Exception:
            # A signal that lands inside a C extension's import (numpy's) comes out as that
            # import's ImportError: it is still the signal, and nothing was written.
            if interrupts.received():
                return interrupts.exit_code()
            raise


def _main(args: list[str], started: float) -> int:
    try:
        own, inputs, foreign = _parse(args)
    except OptgymError as exc:
        print(f"optgym-opt: {exc}", file=sys.stderr)
        return 2
    if own["help"]:
        print(_HELP, end="")
        return 0
    if foreign:
        mine = [k for k in ("policy", "budget", "seconds", "seed", "objective") if k in own]
        if mine or own["print_pipeline"]:
            print(f"optgym-opt: {' '.join(foreign)} runs opt-19's own passes; it cannot be "
                  f"combined with --{mine[0] if mine else 'print-pipeline'}", file=sys.stderr)
            return 2
        from optgym import interrupts
        from optgym.llvm import toolchain

        opt = toolchain.opt()
        sys.stdout.flush()
        interrupts.release()
        os.execv(opt, [opt, *args])  # exactly opt-19 with the same arguments
    if len(inputs) > 1:
        print(f"optgym-opt: one input file at a time, not {len(inputs)}", file=sys.stderr)
        return 2
    start_workers(own.get("policy"))  # they load LLVM while the module is read
    return _search_mode(own, inputs[0] if inputs else "-", started)


def _search_mode(own: dict[str, Any], source: str, started: float | None = None) -> int:
    """Search, within ``$OPTGYM_OPT_MAX_SECONDS`` of ``started``: past it, or when the search
    fails, the output is plain ``opt-19 -Oz``'s (or opt's own error), as if optgym-opt were
    opt."""
    from optgym import interrupts, limits
    from optgym.agents.base import Budget

    started = time.monotonic() if started is None else started
    to_terminal = own["output"] in (None, "-") and sys.stdout.isatty()
    if to_terminal and not own["text"] and not own["force"]:
        # What opt does: refuse to print bitcode to a terminal, and succeed doing nothing.
        print("WARNING: You're attempting to print out a bitcode file.\n"
              "This is inadvisable as it may cause display problems. If\n"
              "you REALLY want to taste LLVM bitcode first-hand, you\n"
              "can force output with the `-f' option.\n", file=sys.stderr)
        return 0
    problem = output_problem(own["output"])
    if problem:  # before the search, not after it
        print(f"optgym-opt: {problem}", file=sys.stderr)
        return 1
    try:
        budget = Budget(
            compilations=int(own["budget"]) if "budget" in own else (
                None if "seconds" in own else DEFAULT_BUDGET),
            seconds=float(own["seconds"]) if "seconds" in own else None,
        )
        seed = int(own.get("seed", 0))
        cap = limits.get("OPTGYM_OPT_MAX_SECONDS")
    except (ValueError, OptgymError) as exc:
        print(f"optgym-opt: bad budget: {exc}", file=sys.stderr)
        return 2
    if own.get("objective", "instructions") not in OBJECTIVES:
        print(f"optgym-opt: --objective must be one of {', '.join(OBJECTIVES)}, "
              f"not {own['objective']!r}", file=sys.stderr)
        return 2
    data, path = _read_input(source)
    if data is None:
        return 1
    shown = os.fsdecode(path) if path else "<stdin>"
    if not data.strip():  # what opt-19 does with an empty file: an empty module
        return _plain_oz(own, data, path)
    try:
        with interrupts.deadline(cap - (time.monotonic() - started) if cap else None):
            output, choice = optimize(data, path, text=own["text"], policy=own.get("policy"),
                                      budget=budget, seed=seed,
                                      objective=own.get("objective", "instructions"),
                                      unsafe_passes=own["unsafe_passes"])
    except interrupts.DeadlineReached:
        return _plain_oz(own, data, path, f"{shown}: the search did not finish within "
                                          f"OPTGYM_OPT_MAX_SECONDS={cap:g} s")
    except OptgymError as exc:  # the module does not load, or our machinery failed on it
        return _plain_oz(own, data, path, f"{shown}: {str(exc).splitlines()[0]}")
    return _finish(own, output, choice.pipeline,
                   choice.commandline if choice.inline is not None else None)


def _read_input(source: str) -> tuple[bytes | None, str | None]:
    """The input's bytes, and its path when opt-19 can read it again (a regular file: a pipe
    or a FIFO is read once, and then handed to opt-19 on its standard input)."""
    if source == "-":
        return sys.stdin.buffer.read(), None
    try:
        with open(source, "rb") as f:
            regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
            return f.read(), source if regular else None
    except OSError as exc:
        print(f"optgym-opt: {source}: {exc.strerror}", file=sys.stderr)
        return None, None


def _finish(own: dict[str, Any], output: bytes, pipeline: str,
            commandline: str | None = None) -> int:
    from optgym import interrupts

    if interrupts.received():  # an interrupt whose exception was swallowed on its way out
        return interrupts.exit_code()
    if own["print_pipeline"]:
        if commandline is not None:  # the learned inliner's: a marked module and a replay
            print(commandline, file=sys.stderr)
        else:
            print(" ".join([*OPT_TARGET_FLAGS, shlex.quote(f"-passes={pipeline}")]),
                  file=sys.stderr)
    try:
        with interrupts.committing():  # written whole, or not at all
            write_output(output, own["output"])
    except OptgymError as exc:
        print(f"optgym-opt: {exc}", file=sys.stderr)
        return 1
    return 0


def _plain_oz(own: dict[str, Any], data: bytes, path: str | None, why: str = "") -> int:
    """What plain ``opt-19 -Oz`` makes of the input (optgym-opt's -Oz: with
    ``--relocation-model=pic``): its output, or its own diagnostic and exit code. ``why``,
    when given, is said on stderr: what made optgym-opt fall back to it."""
    from optgym.llvm import toolchain

    with scratch_dir("optgym-opt-") as tmp:
        out = tmp / ("out.ll" if own["text"] else "out.bc")
        argv = [*toolchain.opt_argv(OZ_PIPELINE), path or "-", "-o", str(out)]
        if own["text"]:
            argv.append("-S")
        proc = subprocess.run(argv, input=None if path else data, capture_output=True)
        if proc.returncode != 0:
            sys.stderr.buffer.write(proc.stderr or b"optgym-opt: opt-19 -Oz failed\n")
            sys.stderr.flush()
            return proc.returncode if proc.returncode > 0 else 128 - proc.returncode
        if why:
            print(f"optgym-opt: {why}; writing plain opt-19 -Oz's output", file=sys.stderr)
        return _finish(own, out.read_bytes(), OZ_PIPELINE)


if __name__ == "__main__":
    sys.exit(main())
