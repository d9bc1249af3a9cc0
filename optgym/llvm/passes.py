"""The action sets: CompilerGym's 124 LLVM-10 pass flags mapped to LLVM 19 pipeline text.

This module is data. Each row of :data:`FLAG_TABLE` is ``(flag, pipeline text or None, note)``:
the flag as CompilerGym's `llvm-v0` action space named it, the new-pass-manager text that does
the same in LLVM 19 (run by ``LLVMRunPasses`` in the worker, or by ``opt-19 -passes=...``), and,
for flags left out, why. Action indices follow the order of the kept rows, which is
CompilerGym's order, so an index sequence from CompilerGym maps by flag name, not by number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from optgym.errors import OptgymError, UnknownNameError

FLAG_TABLE: tuple[tuple[str, str | None, str], ...] = (
    ("-add-discriminators", "add-discriminators", ""),
    ("-adce", "adce", ""),
    ("-aggressive-instcombine", "aggressive-instcombine", ""),
    ("-alignment-from-assumptions", "alignment-from-assumptions", ""),
    ("-always-inline", "always-inline", ""),
    ("-argpromotion", "argpromotion", ""),
    ("-attributor", "attributor", ""),
    ("-barrier", None, "legacy-PM scheduling barrier that transforms nothing; no new-PM pass"),
    ("-bdce", "bdce", ""),
    ("-break-crit-edges", "break-crit-edges", ""),
    ("-simplifycfg", "simplifycfg", ""),
    ("-callsite-splitting", "callsite-splitting", ""),
    ("-called-value-propagation", "called-value-propagation", ""),
    ("-canonicalize-aliases", "canonicalize-aliases", ""),
    ("-consthoist", "consthoist", ""),
    ("-constmerge", "constmerge", ""),
    ("-constprop", None, "removed in LLVM 12; its constant folding is part of instsimplify"),
    ("-coro-cleanup", "coro-cleanup", ""),
    ("-coro-early", "coro-early", ""),
    ("-coro-elide", "coro-elide", ""),
    ("-coro-split", "coro-split", ""),
    ("-correlated-propagation", "correlated-propagation", ""),
    ("-cross-dso-cfi", "cross-dso-cfi", ""),
    ("-deadargelim", "deadargelim", ""),
    ("-dce", "dce", ""),
    ("-die", None, "removed in LLVM 13; dce subsumes dead instruction elimination"),
    ("-dse", "dse", ""),
    ("-reg2mem", "reg2mem", ""),
    ("-div-rem-pairs", "div-rem-pairs", ""),
    ("-early-cse-memssa", "early-cse<memssa>", ""),
    ("-early-cse", "early-cse", ""),
    ("-elim-avail-extern", "elim-avail-extern", ""),
    ("-ee-instrument", "ee-instrument", ""),
    ("-flattencfg", "flatten-cfg", ""),
    ("-float2int", "float2int", ""),
    ("-forceattrs", "forceattrs", ""),
    ("-inline", "inline", ""),
    ("-insert-gcov-profiling", None,
     "writes .gcno files into the working directory as a side effect and only adds code"),
    ("-gvn-hoist", "gvn-hoist", ""),
    ("-gvn", "gvn", ""),
    ("-globaldce", "globaldce", ""),
    ("-globalopt", "globalopt", ""),
    ("-globalsplit", "globalsplit", ""),
    ("-guard-widening", "guard-widening", ""),
    ("-hotcoldsplit", "hotcoldsplit", ""),
    ("-ipconstprop", None, "removed in LLVM 12; ipsccp subsumes it"),
    ("-ipsccp", "ipsccp", ""),
    ("-indvars", "indvars", ""),
    ("-irce", "irce", ""),
    ("-infer-address-spaces", "infer-address-spaces", ""),
    ("-inferattrs", "inferattrs", ""),
    ("-inject-tli-mappings", "inject-tli-mappings", ""),
    ("-instsimplify", "instsimplify", ""),
    # Debian's LLVM 19 aborts when instcombine's fixpoint check fails; opt's default is off too.
    ("-instcombine", "instcombine<no-verify-fixpoint>", ""),
    ("-instnamer", "instnamer", ""),
    ("-jump-threading", "jump-threading", ""),
    ("-lcssa", "lcssa", ""),
    # LICM needs MemorySSA in the new pass manager, which only the loop-mssa adaptor provides.
    ("-licm", "loop-mssa(licm)", ""),
    ("-libcalls-shrinkwrap", "libcalls-shrinkwrap", ""),
    ("-load-store-vectorizer", "load-store-vectorizer", ""),
    ("-loop-data-prefetch", "loop-data-prefetch", ""),
    ("-loop-deletion", "loop-deletion", ""),
    ("-loop-distribute", "loop-distribute", ""),
    ("-loop-fusion", "loop-fusion", ""),
    ("-loop-guard-widening", "loop(guard-widening)", ""),
    ("-loop-idiom", "loop-idiom", ""),
    ("-loop-instsimplify", "loop-instsimplify", ""),
    ("-loop-interchange", "loop-interchange", ""),
    ("-loop-load-elim", "loop-load-elim", ""),
    ("-loop-predication", "loop-predication", ""),
    ("-loop-reroll", None, "removed from LLVM in version 19 (unmaintained)"),
    ("-loop-rotate", "loop-rotate", ""),
    ("-loop-simplifycfg", "loop-simplifycfg", ""),
    ("-loop-simplify", "loop-simplify", ""),
    ("-loop-sink", "loop-sink", ""),
    ("-loop-reduce", "loop-reduce", ""),
    ("-loop-unroll-and-jam", "loop-unroll-and-jam", ""),
    ("-loop-unroll", "loop-unroll", ""),
    # Legacy loop-unswitch (removed in LLVM 15) unswitched non-trivial conditions too.
    ("-loop-unswitch", "loop-mssa(simple-loop-unswitch<nontrivial>)", ""),
    ("-loop-vectorize", "loop-vectorize", ""),
    ("-loop-versioning-licm", "loop-versioning-licm", ""),
    ("-loop-versioning", "loop-versioning", ""),
    ("-loweratomic", "lower-atomic", ""),
    ("-lower-constant-intrinsics", "lower-constant-intrinsics", ""),
    ("-lower-expect", "lower-expect", ""),
    ("-lower-guard-intrinsic", "lower-guard-intrinsic", ""),
    ("-lowerinvoke", "lower-invoke", ""),
    ("-lower-matrix-intrinsics", "lower-matrix-intrinsics", ""),
    ("-lowerswitch", "lower-switch", ""),
    ("-lower-widenable-condition", "lower-widenable-condition", ""),
    ("-memcpyopt", "memcpyopt", ""),
    ("-mergefunc", "mergefunc", ""),
    ("-mergeicmps", "mergeicmps", ""),
    ("-mldst-motion", "mldst-motion", ""),
    ("-sancov", "sancov-module", ""),
    ("-name-anon-globals", "name-anon-globals", ""),
    ("-nary-reassociate", "nary-reassociate", ""),
    ("-newgvn", "newgvn", ""),
    ("-pgo-memop-opt", "pgo-memop-opt", ""),
    ("-partial-inliner", "partial-inliner", ""),
    ("-partially-inline-libcalls", "partially-inline-libcalls", ""),
    ("-post-inline-ee-instrument", "ee-instrument<post-inline>", ""),
    ("-functionattrs", "function-attrs", ""),
    ("-mem2reg", "mem2reg", ""),
    ("-prune-eh", None, "removed in LLVM 16; function-attrs and simplifycfg do its work"),
    ("-reassociate", "reassociate", ""),
    ("-redundant-dbg-inst-elim", "redundant-dbg-inst-elim", ""),
    ("-rpo-functionattrs", "rpo-function-attrs", ""),
    ("-rewrite-statepoints-for-gc", "rewrite-statepoints-for-gc", ""),
    ("-sccp", "sccp", ""),
    ("-slp-vectorizer", "slp-vectorizer", ""),
    ("-sroa", "sroa", ""),
    ("-scalarizer", "scalarizer", ""),
    ("-separate-const-offset-from-gep", "separate-const-offset-from-gep", ""),
    ("-simple-loop-unswitch", "loop-mssa(simple-loop-unswitch)", ""),
    ("-sink", "sink", ""),
    ("-speculative-execution", "speculative-execution", ""),
    ("-slsr", "slsr", ""),
    ("-strip-dead-prototypes", "strip-dead-prototypes", ""),
    ("-strip-debug-declare", "strip-debug-declare", ""),
    ("-strip-nondebug", "strip-nondebug", ""),
    ("-strip", "strip", ""),
    ("-tailcallelim", "tailcallelim", ""),
    ("-mergereturn", "mergereturn", ""),
)

#: Pass names at module level and in the call-graph (CGSCC) and loop pass managers, as
#: `opt-19 --print-passes` lists them; every other pass in the table is a function pass.
MODULE_PASSES = frozenset({
    "always-inline", "attributor", "called-value-propagation", "canonicalize-aliases",
    "constmerge", "coro-cleanup", "coro-early", "cross-dso-cfi", "deadargelim",
    "elim-avail-extern", "forceattrs", "globaldce", "globalopt", "globalsplit", "hotcoldsplit",
    "inferattrs", "ipsccp", "iroutliner", "mergefunc", "name-anon-globals", "partial-inliner",
    "rewrite-statepoints-for-gc", "rpo-function-attrs", "sancov-module", "strip",
    "strip-dead-prototypes", "strip-debug-declare", "strip-nondebug",
})
CGSCC_PASSES = frozenset({"argpromotion", "coro-split", "function-attrs", "inline"})
LOOP_PASSES = frozenset({
    "indvars", "loop-deletion", "loop-idiom", "loop-instsimplify", "loop-interchange",
    "loop-predication", "loop-reduce", "loop-rotate", "loop-simplifycfg", "loop-unroll-and-jam",
    "loop-versioning-licm",
})


#: Steps that set an option of code generation (``llc-19``) instead of running an IR pass: the
#: step's text, and the ``llc-19`` options it adds. They change the object, not the module, so
#: a state's command line carries them to ``llc-19`` (see :mod:`optgym.envs.llvm.state`).
CODEGEN_STEPS: dict[str, tuple[str, ...]] = {
    # LLVM's machine outliner: repeated machine-instruction sequences become calls to one copy.
    # On by default at -Oz for AArch64; on x86-64 only when asked for.
    "codegen<machine-outliner>": ("-enable-machine-outliner",),
}


def is_codegen_step(step: str) -> bool:
    """Whether a step sets a code-generation option rather than running an IR pass."""
    return step.startswith("codegen<")


def codegen_step(step: str) -> tuple[str, ...]:
    """The ``llc-19`` options of a code-generation step; OptgymError for an unknown one."""
    try:
        return CODEGEN_STEPS[step]
    except KeyError:
        raise OptgymError(f"unknown code-generation step {step!r}; known: "
                          f"{', '.join(CODEGEN_STEPS)}") from None


def split_codegen(steps: list[str] | tuple[str, ...]) -> tuple[list[str], tuple[str, ...]]:
    """``steps`` as (IR steps, in order; ``llc-19`` options of the code-generation steps, in
    order, each once). Code generation follows every IR pass, so where a code-generation step
    stands among the IR steps does not matter."""
    ir, llc = [], []
    for step in steps:
        if is_codegen_step(step):
            llc.extend(o for o in codegen_step(step) if o not in llc)
        else:
            ir.append(step)
    return ir, tuple(llc)


#: A per-function step: the function passes in parentheses run on the named function only,
#: ``only<NAME>(function(sroa),invalidate<all>,function(gvn))``. In-process and in the replay
#: (two ``opt-19`` runs: ``forceattrs`` gives every other function ``optnone``, which the pass
#: manager's optnone instrumentation skips, then takes it away) the module is the same.
_ONLY = re.compile(r"^only<([A-Za-z_.$][A-Za-z0-9_.$]*)>\((.+)\)$")


def only_step(function: str, steps: list[str] | tuple[str, ...]) -> str:
    """The per-function step that runs ``steps`` (function passes) on ``function`` only;
    OptgymError for a name opt's ``-force-attribute`` cannot name, or a step that is not a
    function pass."""
    if not re.fullmatch(r"[A-Za-z_.$][A-Za-z0-9_.$]*", function):
        raise OptgymError(f"function {function!r}: per-function steps need a plain C name")
    for step in steps:
        if not step.startswith("function(") or "only<" in step:
            raise OptgymError(f"{step!r} is not a function pass; a per-function step runs "
                              "function passes only")
    if not steps:
        raise OptgymError(f"a per-function step on {function} needs at least one pass")
    return f"only<{function}>({join_steps(list(steps))})"


def parse_only(step: str) -> tuple[str, list[str]] | None:
    """``(function, its steps)`` of a per-function step, or None for any other step."""
    match = _ONLY.match(step)
    if not match:
        return None
    return match[1], split_steps(match[2])


def qualify(text: str) -> str:
    """Nest one pass's text in the pass managers it needs, so actions compose in any order.

    The new pass manager infers the nesting of a ``-passes=`` list from its first element, so
    ``mem2reg,strip`` is rejected; ``function(mem2reg),strip`` is not.
    """
    name = text.split("<")[0]
    if name.startswith(("default", "function(", "cgscc(", "module(")) or name in MODULE_PASSES:
        return text
    if name in CGSCC_PASSES:
        return f"cgscc({text})"
    if name.startswith(("loop(", "loop-mssa(")):
        return f"function({text})"
    if name in LOOP_PASSES:
        return f"function(loop({text}))"
    return f"function({text})"


#: Put between steps in a single ``-passes=`` string. Within one `opt` run, analyses cached by one
#: pass (MemorySSA, alias analysis, ...) carry over to the next, while an environment runs each
#: step on its own; the cached and fresh analyses can differ, and so can the result (seen on
#: csmith programs with licm followed by early-cse<memssa>). Invalidating all analyses between
#: steps makes one `opt-19` invocation reproduce the step-by-step result exactly.
STEP_SEPARATOR = "invalidate<all>"


def join_steps(steps: list[str] | tuple[str, ...]) -> str:
    """One ``-passes=`` string equivalent to running ``steps`` one `opt` invocation at a time."""
    return f",{STEP_SEPARATOR},".join(steps)


def split_steps(pipeline: str) -> list[str]:
    """Inverse of :func:`join_steps` (a separator inside parentheses, as in a per-function
    step's own steps, belongs to that step)."""
    separator = f",{STEP_SEPARATOR},"
    steps, depth, start, i = [], 0, 0, 0
    while i < len(pipeline):
        char = pipeline[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and pipeline.startswith(separator, i):
            steps.append(pipeline[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    steps.append(pipeline[start:])
    return [s for s in steps if s]


#: Whole standard pipelines, added in the larger action set.
PIPELINE_TABLE: tuple[tuple[str, str], ...] = (
    ("-O1", "default<O1>"),
    ("-O2", "default<O2>"),
    ("-O3", "default<O3>"),
    ("-Os", "default<Os>"),
    ("-Oz", "default<Oz>"),
)


@dataclass(frozen=True)
class Action:
    """One action: the flag users know it by and the LLVM 19 pipeline text it runs."""

    flag: str
    pipeline: str


@dataclass(frozen=True)
class ActionSet:
    """An ordered, named list of actions (an environment's ``action_space``).

    ``safe`` sets hold only passes that keep every well-defined program's meaning; what is
    built from them ships, so environments on them also keep clang's ``always_inline``
    promise (see :func:`honors_always_inline`).
    """

    name: str
    actions: tuple[Action, ...]
    safe: bool = False

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, index: int) -> Action:
        return self.actions[index]

    @property
    def flags(self) -> list[str]:
        """The flag names, by index (CompilerGym's ``action_space.names``)."""
        return [a.flag for a in self.actions]

    def index(self, flag: str) -> int:
        """Index of a flag such as ``"-mem2reg"``; raises a clear error for unknown flags."""
        for i, action in enumerate(self.actions):
            if action.flag == flag or action.pipeline == flag:
                return i
        raise UnknownNameError(f"{flag!r} is not an action of {self.name}")

    def pipeline(self, indices: list[int] | tuple[int, ...]) -> str:
        """The ``-passes=`` text that reproduces applying these actions one step at a time."""
        return join_steps([self.actions[i].pipeline for i in indices])


#: CompilerGym's flags with an LLVM 19 counterpart (the default action space).
FLAGS = ActionSet(
    "flags-v0", tuple(Action(f, qualify(p)) for f, p, _ in FLAG_TABLE if p is not None)
)
#: The flags plus the standard -O pipelines.
FLAGS_AND_PIPELINES = ActionSet(
    "flags-pipelines-v0", FLAGS.actions + tuple(Action(f, p) for f, p in PIPELINE_TABLE)
)
#: Flags of CompilerGym's list that have no LLVM 19 action here, with the reason.
LEFT_OUT: dict[str, str] = {f: why for f, p, why in FLAG_TABLE if p is None}

_INSTRUMENTATION = "instrumentation: adds code or metadata for a tool, never shrinks a program"
_OUTSIDE = "not run by LLVM's default -O1..-Oz pipelines, so far less tested"
#: Why each flag of :data:`FLAGS` is left out of :data:`SAFE_FLAGS`. A pass is *safe* when it
#: keeps the meaning of every well-defined program: the passes LLVM's own -O1, -O2, -O3, -Os
#: and -Oz pipelines run (LLVM tests and ships those orderings every day), minus
#: instrumentation, plus a few pure canonicalisations. The rest stay in the research action
#: space (CompilerGym's), but the drop-ins and the shipped models do not use them.
UNSAFE_REASONS: dict[str, str] = {
    "-add-discriminators": _INSTRUMENTATION + " (debug-info discriminators)",
    "-ee-instrument": _INSTRUMENTATION + " (mcount/entry-exit calls)",
    "-post-inline-ee-instrument": _INSTRUMENTATION + " (mcount/entry-exit calls)",
    "-sancov": _INSTRUMENTATION + " (sanitizer coverage)",
    "-pgo-memop-opt": "profile-guided; without a profile it only adds risk",
    "-cross-dso-cfi": "control-flow-integrity lowering: changes what indirect calls check",
    "-loweratomic": "drops atomicity: wrong for any program with threads",
    "-lowerinvoke": "turns invokes into calls: exceptions stop being caught",
    "-lower-guard-intrinsic": "lowers deoptimization guards: changes their semantics",
    "-lower-widenable-condition": "fixes widenable conditions: changes their semantics",
    "-rewrite-statepoints-for-gc": "garbage-collector statepoint rewriting, for managed runtimes",
    "-strip": "strips symbol names: breaks linking against the object",
    "-strip-nondebug": "strips symbol names: breaks linking against the object",
    "-strip-debug-declare": "removes debug information the user asked for",
    "-name-anon-globals": "renames anonymous globals (for ThinLTO); no optimization",
    "-instnamer": "renames values; no optimization",
    "-attributor": _OUTSIDE + "; made a depthwise-convolution kernel fail its self-check "
                   "after mem2reg (see the -Oz issue's findings)",
    "-newgvn": _OUTSIDE + "; a history of miscompile reports upstream",
    "-gvn-hoist": _OUTSIDE + "; disabled in LLVM's pipelines after miscompile reports",
    "-hotcoldsplit": _OUTSIDE + "; outlines code, needs profile data to be sound in size",
    "-loop-versioning-licm": _OUTSIDE + "; versions loops on run-time alias checks",
    "-mergefunc": _OUTSIDE + " unless -fmerge-functions; merging changes function identity",
    "-partial-inliner": _OUTSIDE,
    "-loop-fusion": _OUTSIDE,
    "-loop-interchange": _OUTSIDE,
    "-loop-unroll-and-jam": _OUTSIDE,
    "-loop-versioning": _OUTSIDE,
    "-loop-predication": _OUTSIDE,
    "-loop-guard-widening": _OUTSIDE,
    "-guard-widening": _OUTSIDE,
    "-irce": _OUTSIDE,
    "-loop-reduce": "a code-generation pass (LSR) meant to run after the IR pipeline",
    "-loop-data-prefetch": "inserts prefetches; a code-generation aid",
    "-consthoist": "a code-generation pass meant to run after the IR pipeline",
    "-separate-const-offset-from-gep": "a code-generation pass for GPU targets",
    "-slsr": "a code-generation pass for GPU targets",
    "-nary-reassociate": "a code-generation pass for GPU targets",
    "-infer-address-spaces": "a code-generation pass for GPU targets",
    "-scalarizer": "a code-generation pass for targets without vectors",
    "-load-store-vectorizer": "a code-generation pass for GPU targets",
    "-lower-matrix-intrinsics": _OUTSIDE,
    "-lowerswitch": "lowers switches to branch trees: a code-generation aid",
    "-mergeicmps": _OUTSIDE,
    "-flattencfg": _OUTSIDE,
    "-globalsplit": _OUTSIDE,
    "-partially-inline-libcalls": _OUTSIDE,
    "-redundant-dbg-inst-elim": _OUTSIDE,
    "-canonicalize-aliases": _OUTSIDE,
    "-reg2mem": "demotes registers to memory: the inverse of an optimization",
    "-sink": _OUTSIDE,
}
#: The flags of :data:`FLAGS` that the drop-ins and shipped models may use.
SAFE_FLAGS = ActionSet(
    "flags-safe-v0", tuple(a for a in FLAGS.actions if a.flag not in UNSAFE_REASONS), safe=True
)


def is_safe_pipeline(pipeline: str) -> bool:
    """Whether every step of a ``-passes=`` string is a safe action (or a whole -O pipeline),
    the steps of per-function steps included."""
    allowed = {a.pipeline for a in SAFE_FLAGS_AND_PIPELINES_V1.actions + SAFE_FLAGS.actions}

    def safe(step: str) -> bool:
        only = parse_only(step)
        return all(s in allowed for s in only[1]) if only else step in allowed

    return all(safe(step) for step in split_steps(pipeline))


#: The safe flags plus the standard -O pipelines: what the shipped PPO model acts with.
SAFE_FLAGS_AND_PIPELINES = ActionSet(
    "flags-safe-pipelines-v0", SAFE_FLAGS.actions + tuple(Action(f, p) for f, p in PIPELINE_TABLE),
    safe=True,
)

#: The pass clang runs at every -O level, -O0 included, before any other: it inlines every
#: call to an ``always_inline`` function. Whatever ships runs it first (see below).
ALWAYS_INLINE = "always-inline"


#: clang-19 -Oz's IR pipeline, as ``clang-19 -Oz -mllvm -print-pipeline-passes`` prints it (the
#: bitcode writer left out), one top-level pass per element: run as one ``-passes=`` string by
#: ``opt-19 --relocation-model=pic`` or in-process, it makes the same module as ``clang-19 -Oz``
#: does of the same bitcode (unlike ``default<Oz>``, which leaves out clang's SLP vectorizer;
#: tests/test_inline.py checks both). The inlining environment runs it after its decisions.
CLANG_OZ_STEPS: tuple[str, ...] = (
    "annotation2metadata",
    "forceattrs",
    "declare-to-assign",
    "inferattrs",
    "coro-early",
    ("function<eager-inv>(ee-instrument<>,lower-expect,"
     "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;no-switch-range-to-icmp;no-switch-to-lookup;keep-loops;no-hoist-common-insts;no-sink-common-insts;speculate-blocks;simplify-cond-branch;no-speculate-unpredictables>,"
     "sroa<modify-cfg>,early-cse<>)"),
    "openmp-opt",
    "ipsccp",
    "called-value-propagation",
    "globalopt",
    ("function<eager-inv>(mem2reg,"
     "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>,"
     "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;keep-loops;no-hoist-common-insts;no-sink-common-insts;speculate-blocks;simplify-cond-branch;no-speculate-unpredictables>)"),
    "always-inline",
    "require<globals-aa>",
    "function(invalidate<aa>)",
    "require<profile-summary>",
    ("cgscc(devirt<4>(inline,function-attrs<skip-non-recursive-function-attrs>,"
     "function<eager-inv;no-rerun>(sroa<modify-cfg>,early-cse<memssa>,"
     "speculative-execution<only-if-divergent-target>,jump-threading,correlated-propagation,"
     "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;keep-loops;no-hoist-common-insts;no-sink-common-insts;speculate-blocks;simplify-cond-branch;no-speculate-unpredictables>,"
     "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>,"
     "aggressive-instcombine,tailcallelim,"
     "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;keep-loops;no-hoist-common-insts;no-sink-common-insts;speculate-blocks;simplify-cond-branch;no-speculate-unpredictables>,"
     "reassociate,constraint-elimination,loop-mssa(loop-instsimplify,loop-simplifycfg,"
     "licm<no-allowspeculation>,loop-rotate<no-header-duplication;no-prepare-for-lto>,"
     "licm<allowspeculation>,simple-loop-unswitch<no-nontrivial;trivial>),"
     "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;keep-loops;no-hoist-common-insts;no-sink-common-insts;speculate-blocks;simplify-cond-branch;no-speculate-unpredictables>,"
     "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>,loop(loop-idiom,"
     "indvars,simple-loop-unswitch<no-nontrivial;trivial>,loop-deletion,loop-unroll-full),"
     "sroa<modify-cfg>,vector-combine,mldst-motion<no-split-footer-bb>,gvn<>,sccp,bdce,"
     "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>,jump-threading,"
     "correlated-propagation,adce,memcpyopt,dse,move-auto-init,"
     "loop-mssa(licm<allowspeculation>),coro-elide,"
     "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;keep-loops;hoist-common-insts;sink-common-insts;speculate-blocks;simplify-cond-branch;no-speculate-unpredictables>,"
     "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>),function-attrs,"
     "function(require<should-not-run-function-passes>),coro-split))"),
    "deadargelim",
    "coro-cleanup",
    "globalopt",
    "globaldce",
    "elim-avail-extern",
    "rpo-function-attrs",
    "recompute-globalsaa",
    ("function<eager-inv>(float2int,lower-constant-intrinsics,"
     "loop(loop-rotate<no-header-duplication;no-prepare-for-lto>,loop-deletion),"
     "loop-distribute,inject-tli-mappings,"
     "loop-vectorize<no-interleave-forced-only;vectorize-forced-only;>,infer-alignment,"
     "loop-load-elim,instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>,"
     "simplifycfg<bonus-inst-threshold=1;forward-switch-cond;switch-range-to-icmp;switch-to-lookup;no-keep-loops;hoist-common-insts;sink-common-insts;speculate-blocks;simplify-cond-branch;no-speculate-unpredictables>,"
     "slp-vectorizer,vector-combine,"
     "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>,loop-unroll<O2>,"
     "transform-warning,sroa<preserve-cfg>,infer-alignment,"
     "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>,"
     "loop-mssa(licm<allowspeculation>),alignment-from-assumptions,loop-sink,instsimplify,"
     "div-rem-pairs,tailcallelim,"
     "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;keep-loops;no-hoist-common-insts;no-sink-common-insts;speculate-blocks;simplify-cond-branch;speculate-unpredictables>)"),
    "globaldce",
    "constmerge",
    "cg-profile",
    "rel-lookup-table-converter",
    "function(annotation-remarks)",
)
#: The whole of :data:`CLANG_OZ_STEPS` as one pipeline.
CLANG_OZ_PIPELINE = ",".join(CLANG_OZ_STEPS)
#: Its module simplification before the call-graph inliner runs (up to and including the
#: always-inliner): what the inliner's first call sites look like.
CLANG_OZ_PREINLINE = ",".join(CLANG_OZ_STEPS[:CLANG_OZ_STEPS.index(ALWAYS_INLINE) + 1])
#: The call-graph part of :data:`CLANG_OZ_STEPS` without its inliner: what each function's
#: own simplification makes of it, bottom-up, as the inliner would find it as a callee.
CLANG_OZ_SIMPLIFY_NO_INLINE = next(
    s for s in CLANG_OZ_STEPS if s.startswith("cgscc(")).replace(
    "cgscc(devirt<4>(inline,", "cgscc(devirt<4>(", 1)


def honors_always_inline(first_step: str) -> bool:
    """Whether a sequence starting with ``first_step`` keeps clang's ``always_inline`` promise
    by itself: it starts with the always-inliner, or with a standard pipeline
    (``default<O1>`` ... ``default<Oz>``), which runs it first."""
    return first_step == ALWAYS_INLINE or first_step.startswith("default<O")


def with_always_inline(steps: list[str] | tuple[str, ...]) -> list[str]:
    """``steps`` as something that ships must run them: the always-inliner first, unless the
    sequence already keeps the promise (:func:`honors_always_inline`).

    clang inlines ``always_inline`` functions at every level, so a size search that skips the
    always-inliner can look far smaller than -Oz while breaking what the source asked for (and
    running several times slower): LZ4's force-inlined helpers left as calls did exactly that.
    """
    steps = list(steps)
    if steps and honors_always_inline(steps[0]):
        return steps
    return [ALWAYS_INLINE, *steps]


#: LLVM's size transformations that clang -Oz leaves off unless asked for, as actions: merging
#: identical functions (``clang -fmerge-functions``; a function whose address may be compared
#: keeps its own symbol, as a thunk), outlining similar IR regions into functions (``-mllvm
#: -ir-outliner``), and LLVM's machine outliner in code generation (``-mllvm
#: -enable-machine-outliner``, a code-generation step: it changes the object, not the module).
SIZE_TRANSFORMS: tuple[Action, ...] = (
    Action("-mergefunc", "mergefunc"),
    Action("-iroutliner", "iroutliner"),
    Action("-machine-outliner", "codegen<machine-outliner>"),
)

#: flags-safe-v0 plus LLVM's size transformations, admitted after differential testing
#: (``benchmarks/differential.py --transforms``): what the drop-ins search. flags-safe-v0 stays
#: as it was, because the shipped PPO model's action indices are its.
SAFE_FLAGS_V1 = ActionSet(
    "flags-safe-v1",
    tuple(a for a in SAFE_FLAGS.actions if a.flag != "-mergefunc") + SIZE_TRANSFORMS, safe=True
)
#: flags-safe-v1 plus the standard -O pipelines.
SAFE_FLAGS_AND_PIPELINES_V1 = ActionSet(
    "flags-safe-pipelines-v1",
    SAFE_FLAGS_V1.actions + tuple(Action(f, p) for f, p in PIPELINE_TABLE), safe=True,
)

ACTION_SETS = {s.name: s for s in (FLAGS, FLAGS_AND_PIPELINES, SAFE_FLAGS, SAFE_FLAGS_AND_PIPELINES,
                                   SAFE_FLAGS_V1, SAFE_FLAGS_AND_PIPELINES_V1)}


def flag_pipeline(flag: str) -> str:
    """The LLVM 19 step a CompilerGym flag (``-mem2reg``), a standard pipeline flag (``-Oz``)
    or a size transformation (``-iroutliner``, :data:`SIZE_TRANSFORMS`) runs; a flag left out of
    LLVM 19 or unknown raises an error that names it and says why."""
    for action in FLAGS_AND_PIPELINES.actions + SIZE_TRANSFORMS:
        if action.flag == flag:
            return action.pipeline
    if flag in LEFT_OUT:
        raise UnknownNameError(f"flag {flag} has no LLVM 19 counterpart: {LEFT_OUT[flag]}")
    raise UnknownNameError(
        f"unknown flag {flag!r}: not one of CompilerGym's LLVM flags nor -O1/-O2/-O3/-Os/-Oz "
        "(`optgym llvm actions` lists them)"
    )


def action_set(name: str | ActionSet | list[str] | tuple[str, ...]) -> ActionSet:
    """Look up an action set by name, or build a subset from a list of flags.

    A list such as ``["-mem2reg", "-gvn"]`` gives those actions, in that order (CompilerGym's
    ``action_space=[...]`` subsets); a flag left out of LLVM 19 or unknown raises.
    """
    if isinstance(name, ActionSet):
        return name
    if isinstance(name, (list, tuple)):
        if not name or not all(isinstance(f, str) for f in name):
            raise OptgymError(f"an action subset must be a non-empty list of flags, not {name!r}")
        if len(set(name)) != len(name):
            raise OptgymError(f"the action subset {list(name)} names a flag twice")
        actions = tuple(Action(f, flag_pipeline(f)) for f in name)
        return ActionSet(f"flags-v0[{','.join(name)}]", actions)
    try:
        return ACTION_SETS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"unknown action set {name!r}; known: {', '.join(ACTION_SETS)}, or a list of flags"
        ) from None
