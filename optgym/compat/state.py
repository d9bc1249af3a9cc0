"""CompilerGym's episode records: ``CompilerEnvState`` (optgym's, which already follows
CompilerGym's rules), its CSV ``Writer``/``Reader``, and CompilerGym's ``ValidationResult``."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from optgym.compat.errors import ValidationError
from optgym.envs.llvm.state import (
    CompilerEnvState,
    CompilerEnvStateReader,
    CompilerEnvStateWriter,
)
from optgym.envs.llvm.state import ValidationResult as CoreValidationResult

__all__ = [
    "CompilerEnvState", "CompilerEnvStateReader", "CompilerEnvStateWriter", "ValidationError",
    "ValidationResult",
]


@dataclass
class ValidationResult:
    """The result of replaying a state with the real `opt-19`, by CompilerGym's fields.

    ``okay()`` is True unless the replay, the reward or the program's behaviour failed;
    ``errors`` are :class:`~optgym.compat.errors.ValidationError`; ``str()`` is CompilerGym's
    one-line summary. ``core`` is optgym's result (instruction count, always_inline calls).
    """

    state: CompilerEnvState
    walltime: float = 0.0
    reward_validated: bool = False
    actions_replay_failed: bool = False
    reward_validation_failed: bool = False
    benchmark_semantics_validated: bool = False
    benchmark_semantics_validation_failed: bool = False
    errors: list[ValidationError] = field(default_factory=list)
    core: CoreValidationResult | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, result: CoreValidationResult) -> ValidationResult:
        """CompilerGym's view of one of optgym's results."""
        errors = []
        for message in result.errors:
            if result.reward_validation_failed and "is not reproduced" in message:
                message = (f"Expected reward {_number(result.state.reward)} but received reward "
                           f"{result.reproduced_reward}")
            errors.append(ValidationError(message))
        return cls(
            state=result.state, walltime=result.walltime,
            reward_validated=result.reward_validated,
            actions_replay_failed=result.actions_replay_failed,
            reward_validation_failed=result.reward_validation_failed,
            benchmark_semantics_validated=result.benchmark_semantics_validated,
            benchmark_semantics_validation_failed=(
                result.benchmark_semantics_validation_failed
                or (bool(result.errors) and not (result.actions_replay_failed
                                                 or result.reward_validation_failed))),
            errors=errors, core=result,
        )

    def okay(self) -> bool:
        """Whether validation succeeded."""
        return not (self.actions_replay_failed or self.reward_validation_failed
                    or self.benchmark_semantics_validation_failed)

    @property
    def ok(self) -> bool:
        """optgym's name for :meth:`okay`."""
        return self.okay()

    @property
    def error_details(self) -> str:
        """The errors in one line: ``message``, ``3× message`` or ``[1/2] ..., [2/2] ...``."""
        if not self.errors:
            return ""
        counts = Counter(e.type for e in self.errors)
        if len(counts) == 1:
            message, n = next(iter(counts.items()))
            return message if n == 1 else f"{n}× {message}"
        ordered = sorted(counts.items(), key=lambda kv: -kv[1])
        return ", ".join(f"[{i}/{len(ordered)}] " + (f"{n}× {m}" if n > 1 else m)
                         for i, (m, n) in enumerate(ordered, start=1))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValidationResult):
            return False
        return (self.state == other.state and self.okay() == other.okay()
                and self.reward_validated == other.reward_validated
                and sorted(self.errors) == sorted(other.errors))

    def __str__(self) -> str:
        benchmark = re.sub(r"^benchmark://", "", self.state.benchmark)
        if not self.okay():
            message = ", ".join(self.error_details.strip().split("\n"))
            return f"❌  {benchmark}  {message[:200]}"
        if self.state.reward is None:
            return f"✅  {benchmark}"
        return f"✅  {benchmark}  {self.state.reward:.4f}"

    __repr__ = __str__

    @classmethod
    def join(cls, results: Iterable[ValidationResult]) -> ValidationResult:
        """One result for several validations of the same state."""
        results = list(results)
        if not results:
            raise ValueError("No states to join")
        if any(r.state != results[0].state for r in results[1:]):
            raise ValueError("All states must be the same")
        return cls(
            state=results[0].state, walltime=sum(r.walltime for r in results),
            reward_validated=any(r.reward_validated for r in results),
            actions_replay_failed=any(r.actions_replay_failed for r in results),
            reward_validation_failed=any(r.reward_validation_failed for r in results),
            benchmark_semantics_validated=any(r.benchmark_semantics_validated for r in results),
            benchmark_semantics_validation_failed=any(
                r.benchmark_semantics_validation_failed for r in results),
            errors=[e for r in results for e in r.errors],
        )


def _number(value: float | None) -> str:
    """A reward as CompilerGym printed it: ``1`` for an integral value, else ``repr``."""
    if value is None:
        return "None"
    return str(int(value)) if float(value).is_integer() else repr(value)
