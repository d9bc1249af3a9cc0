"""Observation and reward spaces of the pass-ordering environments, by CompilerGym's names.

Observation spaces are data: a name, the Gymnasium space of its values, and how the value is
obtained (from the compiler worker, from the per-benchmark baselines, or from running the
program). Reward spaces are data too: the cost they follow and what a change in it is divided
by; the episode remembers the cost each one last saw.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from optgym.envs.llvm.state import pipeline_of
from optgym.errors import UnknownNameError
from optgym.llvm.passes import ActionSet, split_steps

INT_MAX = np.iinfo(np.int64).max

INSTCOUNT_NAMES: tuple[str, ...] = ("TotalInsts", "TotalBlocks", "TotalFuncs") + tuple(
    f"{op}Count" for op in (
        "Ret Br Switch IndirectBr Invoke Resume Unreachable CleanupRet CatchRet CatchSwitch "
        "CallBr FNeg Add FAdd Sub FSub Mul FMul UDiv SDiv FDiv URem SRem FRem Shl LShr AShr And "
        "Or Xor Alloca Load Store GetElementPtr Fence AtomicCmpXchg AtomicRMW Trunc ZExt SExt "
        "FPToUI FPToSI UIToFP SIToFP FPTrunc FPExt PtrToInt IntToPtr BitCast AddrSpaceCast "
        "CleanupPad CatchPad ICmp FCmp PHI Call Select UserOp1 UserOp2 VAArg ExtractElement "
        "InsertElement ShuffleVector ExtractValue InsertValue LandingPad Freeze"
    ).split()
)
AUTOPHASE_NAMES: tuple[str, ...] = tuple(
    "BBNumArgsHi BBNumArgsLo onePred onePredOneSuc onePredTwoSuc oneSuccessor twoPred "
    "twoPredOneSuc twoEach twoSuccessor morePreds BB03Phi BBHiPhi BBNoPhi BeginPhi BranchCount "
    "returnInt CriticalCount NumEdges const32Bit const64Bit numConstZeroes numConstOnes "
    "UncondBranches binaryConstArg NumAShrInst NumAddInst NumAllocaInst NumAndInst BlockMid "
    "BlockLow NumBitCastInst NumBrInst NumCallInst NumGetElementPtrInst NumICmpInst "
    "NumLShrInst NumLoadInst NumMulInst NumOrInst NumPHIInst NumRetInst NumSExtInst "
    "NumSelectInst NumShlInst NumStoreInst NumSubInst NumTruncInst NumXorInst NumZExtInst "
    "TotalBlocks TotalInsts TotalMemInst TotalFuncs ArgsPhi testUnary".split()
)


def _scalar_int() -> spaces.Box:
    return spaces.Box(0, INT_MAX, shape=(), dtype=np.int64)


def _text() -> spaces.Text:
    return spaces.Text(max_length=1 << 30, min_length=0, charset=string.printable)


@dataclass(frozen=True)
class ObservationSpec:
    """One observation space: its Gymnasium space and where its value comes from.

    ``source`` is ``"worker"`` (computed from the module by the named worker observer),
    ``"baseline"`` (a per-benchmark constant: ``worker`` names the cost, ``pipeline`` the
    standard pipeline it is measured after), or ``"env"`` (computed by the environment itself).
    """

    name: str
    space: spaces.Space
    source: str
    worker: str = ""
    pipeline: str = ""

    @property
    def id(self) -> str:  # noqa: A003 - CompilerGym's attribute name
        """CompilerGym's name for :attr:`name`."""
        return self.name

    @property
    def deterministic(self) -> bool:
        """Whether the same module always gives the same value (false only for Runtime)."""
        return self.name != "Runtime"

    @property
    def platform_dependent(self) -> bool:
        """Whether the value depends on the machine (object sizes and runtimes do)."""
        return self.name.startswith(("ObjectTextSize", "Runtime"))


def _specs() -> dict[str, ObservationSpec]:
    specs = [
        ObservationSpec("Ir", _text(), "worker", "Ir"),
        ObservationSpec("Bitcode", spaces.Sequence(spaces.Discrete(256)), "worker", "Bitcode"),
        ObservationSpec("BitcodeFile", _text(), "env", "Bitcode"),
        ObservationSpec("IrHash", _text(), "worker", "IrHash"),
        ObservationSpec(
            "InstCount", spaces.Box(0, INT_MAX, shape=(70,), dtype=np.int64), "worker", "InstCount"
        ),
        ObservationSpec(
            "InstCountNorm", spaces.Box(0, 1, shape=(69,), dtype=np.float32), "env", "InstCount"
        ),
        ObservationSpec("InstCountDict", spaces.Dict(
            {n: _scalar_int() for n in INSTCOUNT_NAMES}), "env", "InstCount"),
        ObservationSpec(
            "Autophase", spaces.Box(0, INT_MAX, shape=(56,), dtype=np.int64), "worker", "Autophase"
        ),
        ObservationSpec("AutophaseDict", spaces.Dict(
            {n: _scalar_int() for n in AUTOPHASE_NAMES}), "env", "Autophase"),
        ObservationSpec("IrInstructionCount", _scalar_int(), "worker", "IrInstructionCount"),
        ObservationSpec("ObjectTextSizeBytes", _scalar_int(), "worker", "ObjectTextSizeBytes"),
        ObservationSpec("IsRunnable", spaces.Discrete(2), "env"),
        ObservationSpec(
            "Runtime", spaces.Box(0, np.inf, shape=(), dtype=np.float64), "env", "Bitcode"
        ),
    ]
    for level in ("O0", "O3", "Oz"):
        pipeline = "" if level == "O0" else f"default<{level}>"
        specs.append(ObservationSpec(
            f"IrInstructionCount{level}", _scalar_int(), "baseline", "IrInstructionCount", pipeline
        ))
        specs.append(ObservationSpec(
            f"ObjectTextSize{level}", _scalar_int(), "baseline", "ObjectTextSizeBytes", pipeline
        ))
    return {s.name: s for s in specs}


OBSERVATION_SPECS: dict[str, ObservationSpec] = _specs()


def programl_spec() -> ObservationSpec:
    """The ``Programl`` space, built on first use (it needs the program-graphs package)."""
    if "Programl" not in OBSERVATION_SPECS:
        from optgym.programgraphs import programl_space

        OBSERVATION_SPECS["Programl"] = ObservationSpec(
            "Programl", programl_space(), "worker", "Programl"
        )
    return OBSERVATION_SPECS["Programl"]


def observation_spec(name: str) -> ObservationSpec:
    """Look up an observation space by name, with a clear error naming the known ones."""
    if name == "Programl":
        return programl_spec()
    try:
        return OBSERVATION_SPECS[name]
    except KeyError:
        known = ", ".join(sorted([*OBSERVATION_SPECS, "Programl"]))
        raise UnknownNameError(f"unknown observation space {name!r}; known: {known}") from None


@dataclass(frozen=True)
class RewardSpec:
    """A reward: the change in a cost, divided by a per-benchmark scale.

    ``cost`` is an observation name (lower is better). ``baseline`` names how the scale is
    found: ``""`` (1), ``"O0"`` (the unoptimized cost), or ``"O3"``/``"Oz"`` (the unoptimized
    cost minus the cost after that pipeline, at least 1), so that an episode that ends at
    -Oz's cost has summed to 1.0 under ``IrInstructionCountOz``.
    """

    name: str
    cost: str
    baseline: str = ""
    runnable_only: bool = False

    @property
    def id(self) -> str:  # noqa: A003 - CompilerGym's attribute name
        """CompilerGym's older name for :attr:`name`."""
        return self.name

    @property
    def deterministic(self) -> bool:
        """Whether replaying the same actions gives the same reward (not for runtimes)."""
        return self.cost != "Runtime"

    @property
    def platform_dependent(self) -> bool:
        """Whether the reward depends on the machine (object sizes and runtimes do)."""
        return self.cost != "IrInstructionCount"

    def scale(self, baselines: dict[str, float]) -> float:
        """What a change in cost is divided by, from the benchmark's -O0/-O3/-Oz costs."""
        if not self.baseline:
            return 1.0
        start = baselines[f"{self.cost}O0"]
        if self.baseline == "O0":
            return max(start, 1.0)
        floor = 1e-9 if self.cost == "Runtime" else 1.0
        return max(start - baselines[f"{self.cost}{self.baseline}"], floor)


REWARD_SPECS: dict[str, RewardSpec] = {
    r.name: r
    for r in (
        RewardSpec("IrInstructionCount", "IrInstructionCount"),
        RewardSpec("IrInstructionCountNorm", "IrInstructionCount", "O0"),
        RewardSpec("IrInstructionCountO3", "IrInstructionCount", "O3"),
        RewardSpec("IrInstructionCountOz", "IrInstructionCount", "Oz"),
        RewardSpec("ObjectTextSizeBytes", "ObjectTextSizeBytes"),
        RewardSpec("ObjectTextSizeNorm", "ObjectTextSizeBytes", "O0"),
        RewardSpec("ObjectTextSizeO3", "ObjectTextSizeBytes", "O3"),
        RewardSpec("ObjectTextSizeOz", "ObjectTextSizeBytes", "Oz"),
        RewardSpec("RuntimeO3", "Runtime", "O3", runnable_only=True),
    )
}


def reward_spec(name: str) -> RewardSpec:
    """Look up a reward space by name, with a clear error naming the known ones."""
    try:
        return REWARD_SPECS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown reward space {name!r}; known: {', '.join(REWARD_SPECS)}"
        ) from None


class Commandline(spaces.Discrete):
    """A discrete action space whose actions are named pass flags (CompilerGym's ``Commandline``).

    It is a plain :class:`gymnasium.spaces.Discrete` to every learner; the extra names let
    code written for CompilerGym translate between indices, flags and command lines.
    """

    def __init__(self, actions: ActionSet, seed: int | None = None):
        super().__init__(len(actions), seed=seed)
        self.actions = actions

    @property
    def name(self) -> str:
        """The action set's name (``flags-v0``, ``flags-pipelines-v0`` or a subset's)."""
        return self.actions.name

    @property
    def flags(self) -> list[str]:
        """The flag of each action, by index (``-mem2reg``)."""
        return self.actions.flags

    @property
    def names(self) -> list[str]:
        """CompilerGym's ``names``: for LLVM, the flags themselves."""
        return self.actions.flags

    @property
    def descriptions(self) -> list[str]:
        """The LLVM 19 pipeline text each action runs."""
        return [a.pipeline for a in self.actions.actions]

    def __getitem__(self, flag: str) -> int:
        """The index of a flag (``space["-mem2reg"]``) or of a name (``space["mem2reg"]``)."""
        return self.actions.index(flag if flag.startswith("-") else f"-{flag}")

    def to_string(self, actions: list[int] | tuple[int, ...]) -> str:
        """CompilerGym's command line for these actions: ``opt -mem2reg -gvn input.bc -o output.bc``.

        :meth:`from_string`, ``env.apply()`` and :func:`~optgym.envs.llvm.state.pipeline_of`
        read it back; `opt-19` itself does not (its new pass manager takes ``-passes=``).
        """
        return " ".join(["opt", *(self.actions[int(a)].flag for a in actions),
                         "input.bc", "-o", "output.bc"])

    def from_string(self, commandline: str) -> list[int]:
        """The actions of a command line in any form: CompilerGym's ``opt -mem2reg -gvn
        input.bc -o output.bc``, its bare flags ``-mem2reg -gvn``, or ``opt-19 -passes=...``.

        Raises UnknownNameError (a LookupError) for a flag left out of LLVM 19, an unknown flag, or a step that is
        not an action of this space.
        """
        by_pipeline = {a.pipeline: i for i, a in enumerate(self.actions.actions)}
        words = commandline.split()
        if not words or words[0].startswith("-"):  # the bare flags: "-mem2reg -gvn"
            commandline = f"opt {commandline}"
        out = []
        for step in split_steps(pipeline_of(commandline)):
            if step not in by_pipeline:
                raise UnknownNameError(f"step {step!r} of {commandline!r} is not an action of "
                                  f"{self.name}")
            out.append(by_pipeline[step])
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Commandline) and other.actions == self.actions

    def __hash__(self) -> int:
        return hash(self.actions.name)

    def __repr__(self) -> str:
        return f"Commandline({self.name}, {self.n})"
