"""Episode records: :class:`CompilerEnvState` (CompilerGym's name) and :class:`ValidationResult`.

A state is what a leaderboard row holds: the benchmark, the episode reward, the wall time and
the `opt-19` command line that reproduces the final module. It round-trips through the result
CSV format ``benchmark,reward,walltime,commandline``.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
from dataclasses import dataclass, field

from optgym.errors import OptgymError
from optgym.llvm.toolchain import OPT_TARGET_FLAGS

_PASSES = re.compile(r"-passes=(\S+)")


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
        pipeline_of(row["commandline"])  # validates the command line's shape
        return cls(row["benchmark"], row["commandline"], walltime, reward)


def pipeline_of(commandline: str) -> str:
    """Extract the ``-passes=`` text from an `opt` command line; '' when it has none."""
    try:
        words = shlex.split(commandline)
    except ValueError as exc:
        raise OptgymError(f"malformed command line {commandline!r}: {exc}") from None
    if not words or not words[0].startswith("opt"):
        raise OptgymError(f"not an opt command line: {commandline!r}")
    for word in words[1:]:
        if word.startswith("-passes="):
            return word[len("-passes="):]
    return ""


def commandline_of(pipeline: str) -> str:
    """The `opt-19` command line that applies ``pipeline`` to ``input.bc``."""
    passes = f" -passes={shlex.quote(pipeline)}" if pipeline else ""
    return f"opt-19 {' '.join(OPT_TARGET_FLAGS)}{passes} input.bc -o output.bc"


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

    @property
    def ok(self) -> bool:
        """True when the replay reproduced the state and (if runnable) the program's output."""
        return not self.errors

    def __str__(self) -> str:
        if self.ok:
            return f"✅  {self.state.benchmark}: reproduced ({self.instruction_count} instructions)"
        return f"❌  {self.state.benchmark}: " + "; ".join(self.errors)
