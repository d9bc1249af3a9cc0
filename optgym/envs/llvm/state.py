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
import json
import math
import shlex
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from optgym.errors import OptgymError
from optgym.llvm import passes as pass_table
from optgym.llvm.toolchain import CODEGEN_FLAGS, OPT_TARGET_FLAGS

#: The code-generation options each code-generation step adds, inverted: option -> step.
_CODEGEN_OPTIONS = {option: step for step, options in pass_table.CODEGEN_STEPS.items()
                    for option in options}


@dataclass(frozen=True, eq=False)
class CompilerEnvState:
    """The reproducible record of an episode.

    Two states are equal when they name the same benchmark and command line and, where both
    have a reward, the same reward (to 1e-6); the wall time is not compared (CompilerGym's
    rule: replaying a state reproduces it however long it took).
    """

    benchmark: str
    commandline: str
    walltime: float = 0.0
    reward: float | None = None

    CSV_HEADER = ("benchmark", "reward", "walltime", "commandline")

    def __post_init__(self) -> None:
        if self.walltime < 0:
            raise ValueError(f"Walltime cannot be negative: {self.walltime} (state of "
                              f"{self.benchmark})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompilerEnvState):
            return NotImplemented
        if (self.benchmark, self.commandline) != (other.benchmark, other.commandline):
            return False
        if self.reward is None or other.reward is None:
            return True
        return math.isclose(self.reward, other.reward, rel_tol=1e-6, abs_tol=1e-9)

    def __hash__(self) -> int:
        return hash((self.benchmark, self.commandline))

    @property
    def pipeline(self) -> str:
        """The ``-passes=`` text of the commandline ('' when no pass was applied)."""
        return pipeline_of(self.commandline)

    def json(self) -> str:  # noqa: A003 - CompilerGym's method name
        """The state as a JSON object with the four fields (CompilerGym's ``.json()``)."""
        return json.dumps({"benchmark": self.benchmark, "commandline": self.commandline,
                           "walltime": self.walltime, "reward": self.reward})

    def to_csv_row(self) -> list[str]:
        """The state as a row of the result CSV."""
        reward = "" if self.reward is None else repr(float(self.reward))
        return [self.benchmark, reward, repr(float(self.walltime)), self.commandline]

    def to_csv(self) -> str:
        """The state as one line of the result CSV (no header)."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(self.to_csv_row())
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> CompilerEnvState:
        """The state of one result-CSV line (as :meth:`to_csv` writes it; a header line
        before it is skipped)."""
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
        if rows and tuple(rows[0]) == cls.CSV_HEADER:
            rows = rows[1:]
        if len(rows) != 1 or len(rows[0]) != 4:
            raise OptgymError(f"expected one CSV row of 4 columns, got {text!r}")
        return cls.from_csv_row(dict(zip(cls.CSV_HEADER, rows[0], strict=True)))

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
    """The words of each command of ``opt ... [&& opt ...] [&& llc-19 ...]``; OptgymError for
    anything else."""
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
    tools = [c[0] if c else "" for c in commands]
    llc_at = [i for i, tool in enumerate(tools) if tool.startswith("llc")]
    if any(not (t.startswith("opt") or t.startswith("llc")) for t in tools) or (
            llc_at and llc_at != [len(commands) - 1]):
        raise OptgymError(f"command line {commandline!r}: only `opt ...` runs, then at most one "
                          "`&& llc-19 ...` (the code generation), may follow each other")
    return commands


def codegen_of(commandline: str) -> tuple[str, ...]:
    """The code-generation options a command line's ``llc-19`` run adds to clang -Oz's (those
    of code-generation steps); () without one. OptgymError for any other llc option."""
    last = _commands(commandline)[-1]
    if not last[0].startswith("llc"):
        return ()
    words = last[1:]
    expected_io = [_OUTPUT, "-o", _OBJECT]
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
    """The steps a command line replays: the ``-passes=`` steps of its opt runs (a pair of
    ``forceattrs`` runs is one per-function step), then its code-generation steps (code
    generation follows every IR pass). Read loosely; :func:`commandline_of_steps` of the
    result gives the line in its one exact form, which is what replays run."""
    commands = [c for c in _commands(commandline) if c[0].startswith("opt")]
    if len(commands) == 1:
        steps = pass_table.split_steps(_pipeline_of_words(commands[0], commandline))
    else:
        steps = []
        for words in commands:
            removal = [w for w in words if w.startswith("-force-remove-attribute=")]
            if removal == ["-force-remove-attribute=optnone"]:
                continue  # the second run of a per-function step: it only undoes the first
            if "-force-attribute=optnone" in words:
                steps.append(_only_of_words(words, removal, commandline))
            else:
                steps += pass_table.split_steps(_pipeline_of_words(words, commandline))
    for option in codegen_of(commandline):
        if _CODEGEN_OPTIONS[option] not in steps:
            steps.append(_CODEGEN_OPTIONS[option])
    return steps


def _only_of_words(words: list[str], removal: list[str], commandline: str) -> str:
    """The per-function step of the first ``forceattrs`` run of a pair."""
    passes = [w[len("-passes="):] for w in words if w.startswith("-passes=")]
    if len(removal) != 1 or not removal[0].endswith(":optnone") or len(passes) != 1 or \
            not passes[0].startswith("forceattrs,"):
        raise OptgymError(f"command line {commandline!r}: a per-function run must read "
                          "`opt-19 ... -force-attribute=optnone -force-remove-attribute=NAME:"
                          "optnone -passes=forceattrs,PASSES`")
    name = removal[0][len("-force-remove-attribute="):-len(":optnone")]
    return pass_table.only_step(name, pass_table.split_steps(passes[0][len("forceattrs,"):]))


def pipeline_of(commandline: str) -> str:
    """The LLVM 19 ``-passes=`` text an `opt` command line runs ('' when it runs none).

    Two forms are read: optgym's ``opt-19 --relocation-model=pic -passes=TEXT input.bc -o
    output.bc`` and
    CompilerGym's ``opt -mem2reg -gvn input.bc -o output.bc``, whose flags are translated
    through the pass table (:mod:`optgym.llvm.passes`) into one step each. A flag with no
    LLVM 19 counterpart, an unknown flag, or both forms on one line raise
    :class:`~optgym.errors.OptgymError`: nothing on the line is silently ignored. A line of
    several opt runs (per-function steps) has no single pipeline: use :func:`steps_of`.
    """
    commands = [c for c in _commands(commandline) if c[0].startswith("opt")]
    if len(commands) > 1:
        raise OptgymError(f"command line {commandline!r} runs opt {len(commands)} times (it "
                          "has per-function steps); read it with steps_of")
    return _pipeline_of_words(commands[0], commandline)


def _pipeline_of_words(words: list[str], commandline: str) -> str:
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


#: The file names replays use: the benchmark, the module after each opt run, the object.
_INPUT, _OUTPUT, _OBJECT = "input.bc", "output.bc", "output.o"


def replay_commands(steps: list[str] | tuple[str, ...]) -> list[list[str]]:
    """The commands, as words (``opt-19``/``llc-19`` and the files ``input.bc``,
    ``output.bc``, ``output.o``), that turn the benchmark into the state ``steps`` reach: one
    ``opt-19`` run of the IR steps, two for each per-function step (``forceattrs`` gives
    every other function ``optnone`` for the first and takes it away in the second), and
    ``llc-19`` with the options of the code-generation steps. What validation runs."""
    ir, codegen = pass_table.split_codegen(steps)
    commands: list[list[str]] = []

    def opt(*args: str) -> None:
        source = _OUTPUT if commands else _INPUT
        commands.append(["opt-19", *OPT_TARGET_FLAGS, *args, source, "-o", _OUTPUT])

    pending: list[str] = []
    for step in ir:
        only = pass_table.parse_only(step)
        if only is None:
            pending.append(step)
            continue
        if pending:
            opt(f"-passes={pass_table.join_steps(pending)}")
            pending = []
        name, inner = only
        opt("-disable-verify", "-force-attribute=optnone", f"-force-remove-attribute={name}:optnone",
            f"-passes=forceattrs,{pass_table.join_steps(inner)}")
        opt("-disable-verify", "-force-remove-attribute=optnone", "-passes=forceattrs")
    if pending or not commands:
        opt(*([f"-passes={pass_table.join_steps(pending)}"] if pending else []))
    if codegen:
        commands.append(["llc-19", *CODEGEN_FLAGS, *codegen, _OUTPUT, "-o", _OBJECT])
    return commands


def _render(words: list[str]) -> str:
    return " ".join(f"-passes={shlex.quote(w[len('-passes='):])}" if w.startswith("-passes=")
                    else shlex.quote(w) for w in words)


def commandline_of(pipeline: str, codegen: tuple[str, ...] = ()) -> str:
    """The `opt-19` command line that applies ``pipeline`` to ``input.bc``, followed by the
    ``llc-19`` run that makes the object when there are ``codegen`` options."""
    steps = pass_table.split_steps(pipeline) + [_CODEGEN_OPTIONS[o] for o in codegen]
    return commandline_of_steps(steps)


def commandline_of_steps(steps: list[str] | tuple[str, ...]) -> str:
    """The command line that replays ``steps`` (:func:`replay_commands`, joined by ``&&``):
    the inverse of :func:`steps_of`."""
    return " && ".join(_render(words) for words in replay_commands(steps))


def states_to_csv(states: list[CompilerEnvState]) -> str:
    """Serialize states as the result CSV (with header)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CompilerEnvState.CSV_HEADER)
    for state in states:
        writer.writerow(state.to_csv_row())
    return out.getvalue()


class CompilerEnvStateWriter:
    """Writes states as the result CSV, one row per :meth:`write_state` (CompilerGym's name).

    A context manager: the file is closed on exit.
    """

    def __init__(self, f: TextIO, header: bool = True):
        self.f = f
        self._writer = csv.writer(f, lineterminator="\n")
        self._header = header

    def write_state(self, state: CompilerEnvState, flush: bool = False) -> None:
        """Append one state (after the header, the first time)."""
        if self._header:
            self._writer.writerow(CompilerEnvState.CSV_HEADER)
            self._header = False
        self._writer.writerow(state.to_csv_row())
        if flush:
            self.f.flush()

    def __enter__(self) -> CompilerEnvStateWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


class CompilerEnvStateReader:
    """Reads states from a result CSV (with or without its header; a header may order the
    columns any way). Iterating yields :class:`CompilerEnvState`; the command lines are read
    as they are (checking what they run is the replay's job)."""

    def __init__(self, f: TextIO):
        self.f = f

    def __iter__(self) -> Iterator[CompilerEnvState]:
        rows = csv.reader(self.f)
        columns: tuple[str, ...] | None = None
        for row in rows:
            if not row:
                continue
            if columns is None:
                if len(row) != 4:
                    raise ValueError(f"Expected 4 columns in the first row of CSV: {row}")
                columns = CompilerEnvState.CSV_HEADER
                if set(row) == set(CompilerEnvState.CSV_HEADER):
                    columns = tuple(row)
                    continue
            fields = dict(zip(columns, row, strict=True))
            reward = fields["reward"]
            yield CompilerEnvState(
                benchmark=fields["benchmark"], commandline=fields["commandline"],
                walltime=float(fields["walltime"]),
                reward=float(reward) if reward not in ("", "None") else None)

    @staticmethod
    def read_paths(paths: Iterable[str]) -> Iterator[CompilerEnvState]:
        """The states of several CSVs: file paths, ``-`` (standard input) or http(s) URLs."""
        for path in paths:
            if path == "-":
                yield from CompilerEnvStateReader(sys.stdin)
            elif path.startswith(("http://", "https://")) and path.endswith(".csv"):
                import requests

                response = requests.get(path, timeout=60)
                if response.status_code != 200:
                    raise requests.exceptions.InvalidURL(
                        f"{path}: HTTP status {response.status_code}")
                yield from CompilerEnvStateReader(io.StringIO(response.text))
            else:
                with open(path) as f:
                    yield from CompilerEnvStateReader(f)


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
    # CompilerGym's fields: what was checked and what failed.
    #: Seconds the validation took.
    walltime: float = 0.0
    #: The command line could not be read or replayed by `opt-19`.
    actions_replay_failed: bool = False
    #: The state had a reward and it was recomputed.
    reward_validated: bool = False
    #: ... and it differed.
    reward_validation_failed: bool = False
    #: The program was built and run against its unoptimized build's output.
    benchmark_semantics_validated: bool = False
    #: ... and its output differed.
    benchmark_semantics_validation_failed: bool = False

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
