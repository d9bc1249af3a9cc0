"""Episode records: :class:`CompilerEnvState` (CompilerGym's name) and :class:`ValidationResult`.

A state is what a leaderboard row holds: the benchmark, the episode reward, the wall time and
the `opt-19` command line that reproduces the final module. It round-trips through the result
CSV format ``benchmark,reward,walltime,commandline``. When the episode chose code-generation
options (``codegen<machine-outliner>``), the command line goes on to the ``llc-19`` run that
makes the object: ``opt-19 ... -o output.bc && llc-19 ... output.bc -o output.o``.
"""

from __future__ import annotations

import csv
import io
import shlex
from dataclasses import dataclass, field

from optgym.errors import OptgymError
from optgym.llvm import passes as pass_table
from optgym.llvm.toolchain import CODEGEN_FLAGS, OPT_TARGET_FLAGS

#: The code-generation options each code-generation step adds, inverted: option -> step.
_CODEGEN_OPTIONS = {option: step for step, options in pass_table.CODEGEN_STEPS.items()
                    for option in options}


@dataclass(frozen=True)
class CompilerEnvState:
    """The reproducible record of an episode."""

    benchmark: str
    commandline: str
    walltime: float = 0.0
    reward: float | None = None

    CSV_HEADER = ("benchmark", "reward", "walltime", "commandline")

    @property
    def pipeline(self) -> str:
        """The ``-passes=`` text of the commandline ('' when no pass was applied)."""
        return pipeline_of(self.commandline)

    def to_csv_row(self) -> list[str]:
        """The state as a row of the result CSV."""
        reward = "" if self.reward is None else repr(float(self.reward))
        return [self.benchmark, reward, repr(float(self.walltime)), self.commandline]

    @classmethod
    def from_csv_row(cls, row: dict[str, str]) -> CompilerEnvState:
        """Parse a row of the result CSV (as read by :class:`csv.DictReader`)."""
        missing = [k for k in cls.CSV_HEADER if k not in row or row[k] is None]
        if missing:
            raise OptgymError(f"result row lacks {', '.join(missing)}: {row}")
        try:
            reward = float(row["reward"]) if row["reward"] not in ("", None) else None
            walltime = float(row["walltime"])
        except ValueError as exc:
            raise OptgymError(f"result row for {row['benchmark']}: {exc}") from None
        if row["commandline"].startswith("optgym inline-mark"):
            # an inlining task's row (optgym.envs.llvm.inline): parsed strictly here too
            from optgym.llvm.inlining import parse_commandline

            parse_commandline(row["commandline"])
        else:
            _check_shape(row["commandline"])  # what it runs is checked by whoever replays it
        return cls(row["benchmark"], row["commandline"], walltime, reward)


def _check_shape(commandline: str) -> list[str]:
    """The words of the `opt` command (the first of the line)."""
    return _commands(commandline)[0]


def _commands(commandline: str) -> list[list[str]]:
    """The words of each command of ``opt ... [&& llc-19 ...]``; OptgymError for anything else."""
    try:
        words = shlex.split(commandline)
    except ValueError as exc:
        raise OptgymError(f"malformed command line {commandline!r}: {exc}") from None
    commands: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            commands.append([])
        else:
            commands[-1].append(word)
    if not commands[0] or not commands[0][0].startswith("opt"):
        raise OptgymError(f"not an opt command line: {commandline!r}")
    if len(commands) > 2 or (len(commands) == 2 and (not commands[1]
                                                     or not commands[1][0].startswith("llc"))):
        raise OptgymError(f"command line {commandline!r}: after `opt ...` only one "
                          "`&& llc-19 ...` (the code generation) may follow")
    return commands


def codegen_of(commandline: str) -> tuple[str, ...]:
    """The code-generation options a command line's ``llc-19`` run adds to clang -Oz's (those
    of code-generation steps); () without one. OptgymError for any other llc option."""
    commands = _commands(commandline)
    if len(commands) == 1:
        return ()
    words = commands[1][1:]
    expected_io = ["output.bc", "-o", "output.o"]
    fixed, rest = words[:len(CODEGEN_FLAGS)], words[len(CODEGEN_FLAGS):]
    if tuple(fixed) != CODEGEN_FLAGS or rest[-3:] != expected_io:
        raise OptgymError(f"command line {commandline!r}: the llc-19 run must read "
                          f"`llc-19 {' '.join(CODEGEN_FLAGS)} [OPTIONS] output.bc -o output.o`")
    options = tuple(rest[:-3])
    unknown = [o for o in options if o not in _CODEGEN_OPTIONS]
    if unknown:
        raise OptgymError(f"command line {commandline!r}: llc option {unknown[0]!r} is not one "
                          f"of the code-generation steps' ({', '.join(_CODEGEN_OPTIONS)})")
    return options


def steps_of(commandline: str) -> list[str]:
    """The steps a command line replays: its ``-passes=`` steps, then its code-generation
    steps (code generation follows every IR pass)."""
    steps = pass_table.split_steps(pipeline_of(commandline))
    for option in codegen_of(commandline):
        if _CODEGEN_OPTIONS[option] not in steps:
            steps.append(_CODEGEN_OPTIONS[option])
    return steps


def pipeline_of(commandline: str) -> str:
    """The LLVM 19 ``-passes=`` text an `opt` command line runs ('' when it runs none).

    Two forms are read: optgym's ``opt-19 --relocation-model=pic -passes=TEXT input.bc -o
    output.bc`` and
    CompilerGym's ``opt -mem2reg -gvn input.bc -o output.bc``, whose flags are translated
    through the pass table (:mod:`optgym.llvm.passes`) into one step each. A flag with no
    LLVM 19 counterpart, an unknown flag, or both forms on one line raise
    :class:`~optgym.errors.OptgymError`: nothing on the line is silently ignored.
    """
    words = _check_shape(commandline)
    passes: str | None = None
    steps: list[str] = []
    words = words[1:]
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-o":  # the output file's name follows
            i += 2
            continue
        if word in OPT_TARGET_FLAGS:  # the target options optgym's own lines carry
            i += 1
            continue
        if word.startswith("-passes="):
            if passes is not None:
                raise OptgymError(f"{commandline!r} has -passes= twice")
            passes = word[len("-passes="):]
        elif word.startswith("-") and "=" in word:
            raise OptgymError(f"command line {commandline!r}: option {word!r} is not a pass "
                              "flag; only -passes= and CompilerGym's pass flags are understood")
        elif word.startswith("-") and word != "-":
            step = pass_table.flag_pipeline(word)
            if pass_table.is_codegen_step(step):
                raise OptgymError(f"command line {commandline!r}: {word} is a code-generation "
                                  "step, not an opt pass; it belongs to the `&& llc-19 ...` run")
            steps.append(step)
        i += 1
    if passes is not None and steps:
        raise OptgymError(
            f"{commandline!r} mixes -passes= with legacy flags; use one form or the other"
        )
    return passes if passes is not None else pass_table.join_steps(steps)


def commandline_of(pipeline: str, codegen: tuple[str, ...] = ()) -> str:
    """The `opt-19` command line that applies ``pipeline`` to ``input.bc``, followed by the
    ``llc-19`` run that makes the object when there are ``codegen`` options."""
    passes = f" -passes={shlex.quote(pipeline)}" if pipeline else ""
    line = f"opt-19 {' '.join(OPT_TARGET_FLAGS)}{passes} input.bc -o output.bc"
    if codegen:
        line += f" && llc-19 {' '.join((*CODEGEN_FLAGS, *codegen))} output.bc -o output.o"
    return line


def commandline_of_steps(steps: list[str] | tuple[str, ...]) -> str:
    """The command line that replays ``steps`` (IR steps to opt-19, code-generation steps to
    llc-19): the inverse of :func:`steps_of`."""
    ir, codegen = pass_table.split_codegen(steps)
    return commandline_of(pass_table.join_steps(ir), codegen)


def states_to_csv(states: list[CompilerEnvState]) -> str:
    """Serialize states as the result CSV (with header)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CompilerEnvState.CSV_HEADER)
    for state in states:
        writer.writerow(state.to_csv_row())
    return out.getvalue()


@dataclass
class ValidationResult:
    """The outcome of replaying a state with the real `opt-19`."""

    state: CompilerEnvState
    errors: list[str] = field(default_factory=list)
    reproduced_reward: float | None = None
    instruction_count: int | None = None
    output_checked: bool = False
    #: Calls to ``always_inline`` functions left in the replayed module.
    always_inline_calls: int | None = None

    @property
    def ok(self) -> bool:
        """True when the replay reproduced the state and (if runnable) the program's output."""
        return not self.errors

    def okay(self) -> bool:
        """CompilerGym's name for :attr:`ok`."""
        return self.ok

    @property
    def error_details(self) -> str:
        """The errors as one string ('' when there are none), as CompilerGym gives them."""
        return "\n".join(self.errors)

    def __str__(self) -> str:
        if self.ok:
            return f"✅  {self.state.benchmark}: reproduced ({self.instruction_count} instructions)"
        return f"❌  {self.state.benchmark}: " + "; ".join(self.errors)
