"""Inlining decisions as the learning problem: ``optgym/llvm-inline-v0`` and ``-text-v0``.

An episode is one module's inlining, as clang-19 -Oz's inliner would walk it: call sites come
bottom-up over the call graph's strongly connected components (callees before callers), each
caller's calls in order, and a call site that inlining copies into a caller comes after that
caller's own (LLVM's worklist). The agent says inline (1) or not (0) for every call site whose
fate LLVM leaves to its heuristic; ``always_inline`` and ``noinline`` functions and call sites,
recursive calls, and callees LLVM cannot inline (interposable, ``setjmp``, ``indirectbr``,
varargs, another target) are decided by those facts and never offered. After the last
decision the rest of clang-19 -Oz's pipeline runs on the module with the decisions, once.

How decisions reach LLVM, and why the replay is exact: see :mod:`optgym.llvm.inlining`. In
short, each decision names its call site by its chain of call ids (``12@5``: call 12 as
inlining call 5 copied it), LLVM's inliner obeys them through its replay advisor when it reaches
that call site in that context, and decides every call site the episode did not reach (a call
that simplification exposed, for one) as clang -Oz would. An episode that decides as LLVM would
everywhere is clang -Oz, byte for byte.

Between decisions nothing is compiled: the environment keeps its own model of the module
(:class:`InlineEpisode`): sizes start from the module as clang -Oz has simplified it when its
inliner starts, and each inlining adds the callee's size to the caller's, moves the callee's
remaining calls into the caller as new call sites and deletes a local callee whose last call
it was. The features and the per-step reward come from that model; the episode's last reward
corrects the sum to the exact saving, measured on the compiled module.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, SupportsInt

import gymnasium
import numpy as np
from gymnasium import spaces

from optgym.errors import BenchmarkError, CompilerCrash, OptgymError, ParseError
from optgym.llvm import inlining, toolchain
from optgym.llvm.core import elf_text_size
from optgym.llvm.inlining import FN, SITE, CallNames, Chain, format_chain
from optgym.llvm.session import CompilerSession, ModuleHandle

#: LLVM's inline cost model's constants, as our approximation of it uses them (InlineCost.cpp).
INSTR_COST, CALL_PENALTY, LAST_CALL_TO_STATIC_BONUS = 5, 25, 15000
#: clang -Oz's inline threshold (``minsize``: OptMinSizeThreshold), and the bonus a callee of a
#: single block gets (half of it).
OZ_THRESHOLD, SINGLE_BLOCK_BONUS = 5, 2

#: The features of a call site, in the order of the observation vector. Counts are given as
#: log(1 + n) and the cost estimate as sign(c) log(1 + |c|), so that one scale fits modules of
#: ten and of ten thousand instructions. MLGO's published features are here under these names:
#: callee/caller basic block counts, call-site height, node and edge counts of the call graph,
#: constant parameters, the cost estimate, caller/callee users and conditionally executed
#: blocks; the rest describe the call and the callee further.
FEATURES: tuple[str, ...] = (
    "callee_instructions", "callee_blocks", "caller_instructions", "caller_blocks",
    "callee_users", "caller_users", "callee_local", "callee_address_taken", "callsite_height",
    "callee_height", "loop_depth", "const_args", "alloca_args", "const_arg_uses", "args",
    "cost_estimate", "threshold", "heuristic_inlines", "callee_cond_blocks",
    "caller_cond_blocks", "callee_calls", "callee_max_loop_depth", "callee_top_loops",
    "inlined_depth", "node_count", "edge_count", "last_call_to_local", "entry_block",
    "cond_block", "callee_memory", "callee_single_block", "invoke", "size_change",
    "caller_calls",
)
N_FEATURES = len(FEATURES)
_F = {name: i for i, name in enumerate(FEATURES)}

#: The decisions of an episode may grow the module (by the model's estimate) to at most this
#: many times its size when the inliner starts; an inlining past it is taken as "do not
#: inline", as LLVM's ML inliner stops at twice the size (``-ml-advisor-size-increase-threshold``).
#: Forced inlining through a chain of functions that each call the next twice can otherwise
#: grow a module exponentially.
GROWTH_CAP = 2.0

# Why a call site is not offered.
OFFERED, MANDATORY, NEVER, RECURSIVE, NOT_INLINABLE = range(5)


def _log(x: float) -> float:
    return math.copysign(math.log1p(abs(x)), x)


@dataclass
class _Function:
    name: str
    defined: bool
    local: bool
    address_taken: bool
    inlinable: bool  # viable and not interposable
    noinline: bool
    alwaysinline: bool
    call_uses: int
    instructions: float
    blocks: float
    body_cost: float
    cond_blocks: float
    max_loop_depth: int
    top_loops: int
    level: int
    scc: int
    memory: float
    args: int
    calls: list[CallSite] = field(default_factory=list)  # calls it holds (decided or not)
    deleted: bool = False


@dataclass
class CallSite:
    """A call site of an episode: its chain of call ids, its caller and callee (indices into
    the episode's functions) and what the module tells about the call itself."""

    chain: Chain
    caller: int
    callee: int
    loop_depth: int
    args: int
    const_args: int
    alloca_args: int
    const_arg_uses: int
    invoke: bool
    noinline: bool
    alwaysinline: bool
    entry_block: bool
    cond_block: bool
    compatible: bool

    @property
    def name(self) -> str:
        """``12@5``: see :mod:`optgym.llvm.inlining`."""
        return format_chain(self.chain)


class InlineEpisode:
    """The environment's model of a module being inlined: which call site comes next, its
    features, and what a decision does to the module (no LLVM runs here).

    Built from the worker's ``InlineCallSites`` observation. ``current`` is the call site to
    decide (None at the end); :meth:`decide` records a decision and moves on; ``decisions``
    maps every decided call site to its decision.
    """

    def __init__(self, observation: Mapping[str, Any], names: CallNames | None = None):
        self.names = names or CallNames.of(observation["original"], observation["call_functions"])
        table = observation["simplified"]
        rows, names = table["functions"], table["names"]
        self.functions = [self._function(row, name) for row, name in zip(rows, names, strict=True)]
        chains = table["chains"]
        for row in table["sites"]:
            start, length = int(row[SITE["chain_start"]]), int(row[SITE["chain_len"]])
            chain = tuple(int(c) for c in chains[start:start + length])
            if chain[0] < 0:
                continue  # a call without a location (merged by simplification): LLVM's own
            site = CallSite(
                chain, int(row[SITE["caller"]]), int(row[SITE["callee"]]),
                int(row[SITE["loop_depth"]]), int(row[SITE["args"]]),
                int(row[SITE["const_args"]]), int(row[SITE["alloca_args"]]),
                int(row[SITE["const_arg_uses"]]), bool(row[SITE["invoke"]]),
                bool(row[SITE["noinline"]]), bool(row[SITE["alwaysinline"]]),
                bool(row[SITE["entry_block"]]), bool(row[SITE["cond_block"]]),
                bool(row[SITE["compatible"]]))
            self.functions[site.caller].calls.append(site)
        defined = [i for i, f in enumerate(self.functions) if f.defined]
        self.node_count = len(defined)
        self.edge_count = sum(len(self.functions[i].calls) for i in defined)
        by_scc: dict[int, list[int]] = {}
        for i in defined:
            by_scc.setdefault(self.functions[i].scc, []).append(i)
        self._sccs = [by_scc[k] for k in sorted(by_scc)]
        self._scc = -1
        self._work: list[CallSite] = []
        self._next = 0
        self.decisions: dict[Chain, bool] = {}
        self.steps = 0
        #: the model's size of the module (instructions of its live functions), at the start
        #: and now; and how many inlinings the growth cap turned down
        self.initial_size = sum(self.functions[i].instructions for i in defined)
        self.size = self.initial_size
        self.capped = 0
        self.current: CallSite | None = None
        self._advance()

    @staticmethod
    def _function(row: np.ndarray, name: str) -> _Function:
        return _Function(
            name, bool(row[FN["defined"]]), bool(row[FN["local"]]),
            bool(row[FN["address_taken"]]),
            bool(row[FN["viable"]]) and not row[FN["interposable"]] and not row[FN["varargs"]],
            bool(row[FN["noinline"]]), bool(row[FN["alwaysinline"]]), int(row[FN["call_uses"]]),
            float(row[FN["instructions"]]), float(row[FN["blocks"]]), float(row[FN["body_cost"]]),
            float(row[FN["cond_blocks"]]), int(row[FN["max_loop_depth"]]),
            int(row[FN["top_loops"]]), int(row[FN["level"]]), int(row[FN["scc"]]),
            float(row[FN["memory"]]), int(row[FN["args"]]))

    # -- the walk ----------------------------------------------------------------------------
    def status(self, site: CallSite) -> int:
        """Whether a call site is offered (:data:`OFFERED`), or why not."""
        caller, callee = self.functions[site.caller], self.functions[site.callee]
        if site.noinline or callee.noinline:
            return NEVER
        if site.alwaysinline or callee.alwaysinline:
            return MANDATORY
        if site.caller == site.callee:
            return RECURSIVE
        # a call that was not a direct call of this function in the module as written (a
        # call through a pointer that simplification resolved) has no name LLVM's replay can
        # match: LLVM decides it
        if any(self._callee_of_call(c) is None for c in site.chain) or \
                self._callee_of_call(site.chain[0]) != callee.name:
            return NOT_INLINABLE
        # LLVM's inline history: never inline a function into a copy of its own body
        if any(self._callee_of_call(c) == callee.name for c in site.chain[1:]):
            return RECURSIVE
        if not callee.inlinable or not site.compatible or not callee.defined or caller.deleted:
            return NOT_INLINABLE
        return OFFERED

    def _callee_of_call(self, call: int) -> str | None:
        return self.names.callee[call] if 0 <= call < len(self.names.callee) else None

    def _advance(self) -> None:
        """Move to the next call site to offer, keeping the ones that are not offered."""
        while True:
            while self._next < len(self._work):
                site = self._work[self._next]
                self._next += 1
                caller = self.functions[site.caller]
                if caller.deleted:
                    continue
                if self.status(site) == OFFERED:
                    self.current = site
                    return
                caller.calls.append(site)
            self._scc += 1
            if self._scc >= len(self._sccs):
                self.current = None
                return
            self._work, self._next = [], 0
            for i in self._sccs[self._scc]:
                f = self.functions[i]
                self._work.extend(f.calls)
                f.calls = []

    def decide(self, inline: bool | None) -> float:
        """Record the decision for :attr:`current` and move on; returns the change in the
        module's instruction count that the model estimates for it, against what LLVM's
        heuristic (as approximated) would have done. ``None`` leaves the call site to LLVM:
        nothing is recorded, and the model goes on as if LLVM's heuristic (as approximated)
        had decided it. An inlining asked for that would take the module past
        :data:`GROWTH_CAP` times its starting size is recorded as not inlined."""
        site = self.current
        if site is None:
            raise OptgymError("the episode is over: no call site is left to decide")
        estimate = self.size_change(site)
        heuristic = self.heuristic_inlines(site)
        recorded = inline is not None
        if inline is None:
            inline = heuristic
        if recorded and inline and self.size + estimate > GROWTH_CAP * max(self.initial_size, 1):
            inline = False
            self.capped += 1
        if recorded:
            self.decisions[site.chain] = bool(inline)
        self.steps += 1
        if inline:
            self.size += estimate
            self._inline(site)
        else:
            self.functions[site.caller].calls.append(site)
        self._advance()
        return (estimate if inline else 0.0) - (estimate if heuristic else 0.0)

    def _inline(self, site: CallSite) -> None:
        caller, callee = self.functions[site.caller], self.functions[site.callee]
        caller.instructions += callee.instructions - 1 - site.args
        caller.blocks += callee.blocks - 1
        caller.body_cost += callee.body_cost - self._call_cost(site)
        caller.cond_blocks += callee.cond_blocks
        caller.memory += callee.memory
        caller.max_loop_depth = max(caller.max_loop_depth, callee.max_loop_depth + site.loop_depth)
        copies = [self._copy(inner, site) for inner in callee.calls]
        for copy in copies:
            self.functions[copy.callee].call_uses += 1
        callee.call_uses -= 1
        if callee.local and callee.call_uses <= 0 and not callee.address_taken:
            callee.deleted = True
            for inner in callee.calls:
                self.functions[inner.callee].call_uses -= 1
            callee.calls = []
            # its pending calls in this SCC go with it
            self._work[self._next:] = [s for s in self._work[self._next:]
                                       if s.caller != site.callee]
        self._work.extend(reversed(copies))  # LLVM appends the new calls in reverse

    @staticmethod
    def _copy(inner: CallSite, through: CallSite) -> CallSite:
        return CallSite(
            inner.chain + through.chain, through.caller, inner.callee,
            inner.loop_depth + through.loop_depth, inner.args, inner.const_args,
            inner.alloca_args, inner.const_arg_uses, inner.invoke, inner.noinline,
            inner.alwaysinline, inner.entry_block and through.entry_block,
            inner.cond_block or through.cond_block, inner.compatible and through.compatible)

    # -- the model's estimates ----------------------------------------------------------------
    @staticmethod
    def _call_cost(site: CallSite) -> float:
        return INSTR_COST * (site.args + 1) + CALL_PENALTY

    def last_call(self, site: CallSite) -> bool:
        """Whether this is the last call to a local function (which inlining then deletes)."""
        callee = self.functions[site.callee]
        return callee.local and callee.call_uses <= 1 and not callee.address_taken

    def cost_estimate(self, site: CallSite) -> float:
        """An approximation of the cost LLVM's inline cost model computes at -Oz: the callee
        body's cost (InstrCost per instruction that is not free, call penalties, switch
        comparisons), less the call's own cost, less InstrCost per use of a parameter that
        gets a constant, less LLVM's bonus for the last call to a local function."""
        callee = self.functions[site.callee]
        cost = callee.body_cost - self._call_cost(site) - INSTR_COST * site.const_arg_uses
        if self.last_call(site):
            cost -= LAST_CALL_TO_STATIC_BONUS
        return cost

    def threshold(self, site: CallSite) -> float:
        """clang -Oz's threshold for the call site (with the single-block bonus)."""
        return OZ_THRESHOLD + (SINGLE_BLOCK_BONUS if self.functions[site.callee].blocks <= 1 else 0)

    def heuristic_inlines(self, site: CallSite) -> bool:
        """Whether LLVM's heuristic would inline the call site, by :meth:`cost_estimate`."""
        return self.cost_estimate(site) < max(1.0, self.threshold(site))

    def size_change(self, site: CallSite) -> float:
        """The model's estimate of what inlining the call site does to the module's
        instruction count: the callee's body is added, the call and its argument setup go,
        and the callee itself goes when this was its last call."""
        callee = self.functions[site.callee]
        grown = 0.0 if self.last_call(site) else callee.instructions
        return grown - 1 - site.args

    def features(self, site: CallSite | None = None) -> np.ndarray:
        """The observation vector of a call site (:data:`FEATURES`); zeros when there is none."""
        out = np.zeros(N_FEATURES, dtype=np.float32)
        site = site or self.current
        if site is None:
            return out
        caller, callee = self.functions[site.caller], self.functions[site.callee]
        cost = self.cost_estimate(site)
        values = {
            "callee_instructions": _log(callee.instructions), "callee_blocks": _log(callee.blocks),
            "caller_instructions": _log(caller.instructions), "caller_blocks": _log(caller.blocks),
            "callee_users": _log(callee.call_uses), "caller_users": _log(caller.call_uses),
            "callee_local": float(callee.local), "callee_address_taken": float(callee.address_taken),
            "callsite_height": _log(caller.level), "callee_height": _log(callee.level),
            "loop_depth": float(site.loop_depth), "const_args": float(site.const_args),
            "alloca_args": float(site.alloca_args), "const_arg_uses": _log(site.const_arg_uses),
            "args": float(site.args), "cost_estimate": _log(cost),
            "threshold": float(self.threshold(site)),
            "heuristic_inlines": float(cost < max(1.0, self.threshold(site))),
            "callee_cond_blocks": _log(callee.cond_blocks),
            "caller_cond_blocks": _log(caller.cond_blocks), "callee_calls": _log(len(callee.calls)),
            "callee_max_loop_depth": float(callee.max_loop_depth),
            "callee_top_loops": float(callee.top_loops), "inlined_depth": float(len(site.chain) - 1),
            "node_count": _log(self.node_count), "edge_count": _log(self.edge_count),
            "last_call_to_local": float(self.last_call(site)), "entry_block": float(site.entry_block),
            "cond_block": float(site.cond_block), "callee_memory": _log(callee.memory),
            "callee_single_block": float(callee.blocks <= 1), "invoke": float(site.invoke),
            "size_change": _log(self.size_change(site)), "caller_calls": _log(len(caller.calls)),
        }
        for name, value in values.items():
            out[_F[name]] = value
        return out

    def describe(self, site: CallSite | None = None) -> dict[str, Any]:
        """The call site in words: its name, caller, callee, and the model's estimates."""
        site = site or self.current
        if site is None:
            return {}
        return {"call_site": site.name, "caller": self.functions[site.caller].name,
                "callee": self.functions[site.callee].name,
                "cost_estimate": self.cost_estimate(site),
                "heuristic_inlines": self.heuristic_inlines(site),
                "size_change": self.size_change(site)}


# -- compiling an episode's decisions ---------------------------------------------------------

@dataclass(frozen=True)
class Compiled:
    """What the module with an episode's decisions compiles to."""

    bitcode: bytes  # opt-19's output (with the synthetic call-site locations)
    instruction_count: int
    text_size: int | None  # .text bytes, when asked for
    always_inline_calls: int
    #: what LLVM's inliner reported deciding (with ``remarks``; see
    #: :func:`optgym.llvm.inlining.replay_with_remarks`)
    llvm_decisions: inlining.LlvmDecisions | None = None


@dataclass
class _Prepared:
    """What an episode needs of a benchmark, computed once per benchmark."""

    observation: dict[str, Any]
    names: CallNames
    marked: bytes
    oz: Mapping[str, float]  # clang -Oz's costs (IrInstructionCountOz, ...), read when needed

    @property
    def oz_count(self) -> int:
        """clang -Oz's instruction count."""
        return int(self.oz["IrInstructionCountOz"])

    @property
    def oz_text(self) -> int:
        """clang -Oz's ``.text`` bytes."""
        return int(self.oz["ObjectTextSizeBytesOz"])

    @property
    def oz_always_inline(self) -> int:
        """Calls to ``always_inline`` functions clang -Oz leaves."""
        return int(self.oz["AlwaysInlineCallsOz"])


class _OzCosts(Mapping[str, float]):
    """A benchmark's clang -Oz costs from the baseline cache (on disk, computed when first
    read), under the names ``{cost}Oz``."""

    def __init__(self, compiler: InlineCompiler, benchmark: Any):
        self.compiler, self.benchmark = compiler, benchmark

    def __getitem__(self, name: str) -> float:
        if not name.endswith("Oz"):
            raise KeyError(name)
        cost = name[:-2]
        return self.compiler.baselines.get(
            self.benchmark, cost, module=None,
            load=lambda: self.compiler._load(self.benchmark))[name]

    def __iter__(self):
        return iter(("IrInstructionCountOz", "ObjectTextSizeBytesOz", "AlwaysInlineCallsOz"))

    def __len__(self) -> int:
        return 3


class InlineCompiler:
    """Prepares benchmarks for inlining episodes and compiles decisions, in one compiler
    worker (its session): shared by the environment, the training recipe and the drop-ins."""

    def __init__(self, session: CompilerSession | None = None, *, timeout: float = 60.0,
                 compile_timeout: float = 300.0, max_prepared: int = 256):
        from optgym.envs.llvm.baselines import BaselineCache

        self.compile_timeout = compile_timeout
        self._own = session is None
        self.session = session or CompilerSession(timeout=timeout)
        self.baselines = BaselineCache(lambda bitcode: float("nan"))
        self._prepared: OrderedDict[str, _Prepared] = OrderedDict()
        self._max = max_prepared

    def close(self) -> None:
        """End the worker (when this compiler made it)."""
        if self._own:
            self.session.close()

    def _load(self, benchmark: Any) -> ModuleHandle:
        try:
            return self.session.load(benchmark.bitcode, benchmark.uri)
        except (ParseError, CompilerCrash) as exc:
            raise BenchmarkError(f"{benchmark.uri} does not load: {exc}") from None

    def prepare(self, benchmark: Any) -> _Prepared:
        """The call sites and marked module of a benchmark (anything with ``uri`` and
        ``bitcode``), with its clang -Oz costs; cached by content."""
        key = hashlib.blake2b(benchmark.bitcode, digest_size=16).hexdigest()
        prepared = self._prepared.get(key)
        if prepared is not None:
            self._prepared.move_to_end(key)
            return prepared
        handle = self._load(benchmark)
        try:
            obs = handle.observe("InlineCallSites", "InlineMarkedBitcode")
        finally:
            handle.close()
        call_sites = obs["InlineCallSites"]
        names = CallNames.of(call_sites["original"], call_sites["call_functions"])
        prepared = _Prepared(call_sites, names, obs["InlineMarkedBitcode"],
                             _OzCosts(self, benchmark))
        self._prepared[key] = prepared
        while len(self._prepared) > self._max:
            self._prepared.popitem(last=False)
        return prepared

    def compile(self, prepared: _Prepared, decisions: Mapping[Chain, bool], *,
                text: bool = False, what: str = "module", remarks: bool = False) -> Compiled:
        """The module with ``decisions`` through clang -Oz's pipeline (the real opt-19, as the
        replay runs it), measured: instructions, ``.text`` when ``text``, and the calls to
        ``always_inline`` functions it keeps; with ``remarks``, also what LLVM decided."""
        replay_text = inlining.replay_text(decisions, prepared.names)
        llvm_decisions = None
        if remarks:
            output, llvm_decisions = inlining.replay_with_remarks(
                prepared.marked, replay_text, prepared.names, what=what,
                timeout=self.compile_timeout)
        else:
            output = inlining.replay(prepared.marked, replay_text, what=what,
                                     timeout=self.compile_timeout)
        handle = self.session.load(output, f"{what} (inlined)")
        try:
            values = handle.observe("IrInstructionCount", "AlwaysInlineCalls")
        finally:
            handle.close()
        size = None
        if text:
            size = elf_text_size(toolchain.object_file(output, what=what, error=BenchmarkError))
        return Compiled(output, int(values["IrInstructionCount"]), size,
                        int(values["AlwaysInlineCalls"]), llvm_decisions)


# -- the environment ---------------------------------------------------------------------------

@dataclass(frozen=True)
class InliningState:
    """The reproducible record of an inlining episode: a leaderboard row
    (``benchmark,reward,walltime,commandline``) whose command line is
    :func:`optgym.llvm.inlining.replay_commandline`'s."""

    benchmark: str
    commandline: str
    walltime: float = 0.0
    reward: float | None = None

    CSV_HEADER = ("benchmark", "reward", "walltime", "commandline")

    @property
    def decisions(self) -> dict[Chain, bool]:
        """The call sites decided and how (parsed strictly from the command line)."""
        return inlining.parse_commandline(self.commandline)[0]

    def to_csv_row(self) -> list[str]:
        """The state as a row of the result CSV."""
        reward = "" if self.reward is None else repr(float(self.reward))
        return [self.benchmark, reward, repr(float(self.walltime)), self.commandline]


@dataclass
class InliningValidation:
    """The outcome of replaying an inlining state with the real opt-19."""

    state: InliningState
    errors: list[str] = field(default_factory=list)
    reproduced_reward: float | None = None
    instruction_count: int | None = None
    text_size: int | None = None
    always_inline_calls: int | None = None
    oz_cost: int | None = None  # clang -Oz's, in the reward's unit

    @property
    def ok(self) -> bool:
        """True when the replay reproduced the state's reward and kept ``always_inline``."""
        return not self.errors

    def okay(self) -> bool:
        """CompilerGym's name for :attr:`ok`."""
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return f"✅  {self.state.benchmark}: reproduced (reward {self.reproduced_reward:.6f})"
        return f"❌  {self.state.benchmark}: " + "; ".join(self.errors)


REWARD_SPACES = {"IrInstructionCount": "IrInstructionCount",
                 "ObjectTextSize": "ObjectTextSizeBytes"}


class InliningEnv(gymnasium.Env):
    """Inline or not, call site by call site, as clang-19 -Oz's inliner walks a module.

    ## Observation
    A ``Box`` of :data:`N_FEATURES` float32 features of the call site to decide
    (:data:`FEATURES`, MLGO's set and more; counts as log(1 + n)); zeros after the last one.
    ``info`` names the call site (``call_site``, ``caller``, ``callee``) and gives the model's
    estimates. :meth:`program_graph` gives the module's ProGraML graph with the call site's
    node, for graph policies.

    ## Action
    ``Discrete(2)``: 1 inlines the call site, 0 does not. With ``allow_defer=True``,
    ``Discrete(3)``: 2 leaves the call site to LLVM's heuristic (MLGO's ``inlining_default``:
    nothing is recorded, so an episode of 2s is clang -Oz).

    ## Reward
    The fraction of clang-19 -Oz's size the decisions save: IR instructions
    (``reward_space="IrInstructionCount"``, ``optgym/llvm-inline-v0``) or ``.text`` bytes of
    the object clang -Oz's code generator makes (``"ObjectTextSize"``,
    ``optgym/llvm-inline-text-v0``). Each step gets the environment's estimate (the instruction
    change its model predicts, against what LLVM's heuristic as approximated would do, over
    -Oz's count); the last step adds the difference to the exact saving, so an episode's
    rewards sum to ``(Oz - ours) / Oz`` exactly.

    ## Episode
    Starts at a benchmark (``benchmark=``, ``reset(options={"benchmark": uri})``, or drawn from
    ``dataset``/``split``); ends when no call site is left: the module is then compiled once.
    A module with no call site to decide ends at its first step, whatever the action.

    ## Replay
    ``env.state`` holds the decisions as a command line (:mod:`optgym.llvm.inlining`);
    :meth:`validate` replays it with the real opt-19 and checks the reward and that no more
    calls to ``always_inline`` functions are left than clang -Oz leaves.

    ## Version history
    * v0: call sites in bottom-up SCC order, decisions through LLVM 19's replay inline advisor,
      clang-19 -Oz's pipeline.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, benchmark: Any = None, *, dataset: str = "builtin-v0",
                 split: str | None = None, reward_space: str = "IrInstructionCount",
                 timeout: float = 60.0, render_mode: str | None = None,
                 allow_defer: bool = False, compiler: InlineCompiler | None = None):
        super().__init__()
        if reward_space not in REWARD_SPACES:
            raise OptgymError(f"unknown reward space {reward_space!r} for the inlining "
                              f"environment; expected one of {', '.join(REWARD_SPACES)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            from optgym.errors import RenderModeError

            raise RenderModeError(f"render_mode {render_mode!r} is not supported; use None or "
                                  f"one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.reward_space_name = reward_space
        self.observation_space = spaces.Box(-np.inf, np.inf, (N_FEATURES,), np.float32)
        self.allow_defer = bool(allow_defer)
        self.action_space = spaces.Discrete(3 if self.allow_defer else 2)
        self.dataset_name, self.split = dataset, split
        self._fixed_benchmark = benchmark
        self.compiler = compiler or InlineCompiler(timeout=timeout)
        self._own_compiler = compiler is None
        self._benchmark: Any = None
        self._prepared: _Prepared | None = None
        self.episode: InlineEpisode | None = None
        self.episode_reward = 0.0
        self.compiled: Compiled | None = None
        self._estimates = 0.0
        self._reset_time = time.monotonic()
        self._walltime = 0.0
        self._graph: tuple[Any, Any, np.ndarray] | None = None

    @property
    def text(self) -> bool:
        """Whether rewards are in ``.text`` bytes (else IR instructions)."""
        return self.reward_space_name == "ObjectTextSize"

    @property
    def benchmark(self) -> Any:
        """The current benchmark (None before the first reset)."""
        return self._benchmark

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        unknown = set(options) - {"benchmark"}
        if unknown:
            raise OptgymError(f"unknown reset option(s) {sorted(unknown)}; known: benchmark")
        self._benchmark = self._resolve(options.get("benchmark", self._fixed_benchmark))
        self._prepared = self.compiler.prepare(self._benchmark)
        self.episode = InlineEpisode(self._prepared.observation, self._prepared.names)
        self.episode_reward, self._estimates, self.compiled = 0.0, 0.0, None
        self._reset_time = time.monotonic()
        return self.episode.features(), self._info()

    def step(self, action: SupportsInt) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.episode is None or self.compiled is not None:
            raise OptgymError("call reset() before step(): the episode is over or not started")
        action = self._check_action(action)
        reward = 0.0
        if self.episode.current is not None:
            choice = None if action == 2 else bool(action)
            reward = -self.episode.decide(choice) / max(self._prepared.oz_count, 1)
        terminated = self.episode.current is None
        if terminated:
            exact = self._finish()
            reward += exact - (self._estimates + reward)
        self._estimates += reward
        self.episode_reward += reward
        return self.episode.features(), float(reward), terminated, False, self._info()

    def _finish(self) -> float:
        self.compiled = self.compiler.compile(self._prepared, self.episode.decisions,
                                              text=self.text, what=self._benchmark.uri)
        self._walltime = time.monotonic() - self._reset_time
        return self._saving(self.compiled)

    def _saving(self, compiled: Compiled) -> float:
        if self.text:
            oz = self._prepared.oz_text
            return (oz - compiled.text_size) / max(oz, 1)
        oz = self._prepared.oz_count
        return (oz - compiled.instruction_count) / max(oz, 1)

    def _check_action(self, action: SupportsInt) -> int:
        if isinstance(action, np.ndarray) and action.size == 1:
            action = action.reshape(()).item()
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise ValueError(f"action {action!r} is not 0 or 1")
        if int(action) not in range(self.action_space.n):
            raise ValueError(f"action {action!r} is not 0 (do not inline), 1 (inline)"
                             + (" or 2 (LLVM decides)" if self.allow_defer else ""))
        return int(action)

    def _info(self) -> dict[str, Any]:
        info = self.episode.describe() if self.episode else {}
        if self.compiled is not None:
            info.update(instruction_count=self.compiled.instruction_count,
                        oz_instruction_count=self._prepared.oz_count,
                        always_inline_calls=self.compiled.always_inline_calls,
                        decisions=len(self.episode.decisions))
            if self.compiled.text_size is not None:
                info.update(text_size=self.compiled.text_size, oz_text_size=self._prepared.oz_text)
        return info

    def _resolve(self, benchmark: Any) -> Any:
        from optgym.datasets import Benchmark, get_benchmark, get_dataset

        if isinstance(benchmark, Benchmark):
            return benchmark
        if isinstance(benchmark, str) and not benchmark.strip():
            raise BenchmarkError(f"benchmark {benchmark!r} is empty")
        if benchmark is not None:
            return get_benchmark(str(benchmark))
        return get_dataset(self.dataset_name).random_benchmark(self.np_random, split=self.split)

    # -- records -------------------------------------------------------------------------------
    def commandline(self) -> str:
        """The command line that replays the decisions so far with the real opt-19."""
        decisions = self.episode.decisions if self.episode else {}
        return inlining.replay_commandline(decisions)

    @property
    def state(self) -> InliningState:
        """The episode's record (the command line of its decisions; the reward once over)."""
        if self._benchmark is None:
            raise OptgymError("call reset() first: there is no episode")
        done = self.compiled is not None
        return InliningState(self._benchmark.uri, self.commandline(),
                             self._walltime if done else time.monotonic() - self._reset_time,
                             self.episode_reward if done else None)

    def validate(self, state: InliningState | None = None) -> InliningValidation:
        """Replay a state (the current episode's by default) with the real opt-19 and check
        its reward and the ``always_inline`` promise."""
        state = state or self.state
        result = InliningValidation(state)
        try:
            decisions, _ = inlining.parse_commandline(state.commandline)
            benchmark = self._resolve(state.benchmark)
            prepared = self.compiler.prepare(benchmark)
            compiled = self.compiler.compile(prepared, decisions, text=self.text,
                                             what=benchmark.uri)
        except OptgymError as exc:
            result.errors.append(str(exc))
            return result
        saved_prepared, self._prepared = self._prepared, prepared
        try:
            result.reproduced_reward = self._saving(compiled)
        finally:
            self._prepared = saved_prepared
        result.instruction_count = compiled.instruction_count
        result.text_size = compiled.text_size
        result.oz_cost = prepared.oz_text if self.text else prepared.oz_count
        result.always_inline_calls = compiled.always_inline_calls
        if state.reward is not None and abs(result.reproduced_reward - state.reward) > 1e-9:
            result.errors.append(f"reward {state.reward:.6f} was not reproduced: replay gives "
                                 f"{result.reproduced_reward:.6f}")
        if compiled.always_inline_calls > prepared.oz_always_inline:
            result.errors.append(f"{compiled.always_inline_calls} calls to always_inline functions "
                                 f"are left (clang -Oz leaves {prepared.oz_always_inline})")
        return result

    def program_graph(self) -> tuple[Any, int]:
        """The benchmark's ProGraML graph and the node of the current call site (the call it
        was copied from, for a call site that inlining made; -1 after the last one)."""
        from optgym.programgraphs.builder import INSTRUCTION

        if self._graph is None or self._graph[0] is not self._benchmark:
            handle = self.compiler.session.load(self._benchmark.bitcode, self._benchmark.uri)
            try:
                graph = handle.observe("Programl")["Programl"]
            finally:
                handle.close()
            texts = np.asarray(graph.node_texts, dtype=object)
            calls = np.flatnonzero((graph.node_type == INSTRUCTION) & (graph.node_block >= 0)
                                   & np.isin(texts, ["call", "invoke", "callbr"]))
            self._graph = (self._benchmark, graph, calls)  # once per benchmark
        _, graph, calls = self._graph
        site = self.episode.current if self.episode else None
        return graph, -1 if site is None else int(calls[site.chain[0]])

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.episode is None:
            return None
        site = self.episode.describe()
        if not site:
            return f"{self._benchmark.uri}: done, {len(self.episode.decisions)} decisions"
        return (f"{self._benchmark.uri}: call site {site['call_site']} "
                f"({site['caller']} -> {site['callee']}), estimated cost "
                f"{site['cost_estimate']:.0f}, LLVM would {'' if site['heuristic_inlines'] else 'not '}"
                f"inline it")

    def close(self) -> None:
        if self._own_compiler:
            self.compiler.close()
        super().close()
