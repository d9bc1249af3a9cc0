"""Typed errors shared by every part of optgym, so callers can catch one family."""

from __future__ import annotations


class OptgymError(Exception):
    """Base class of every error optgym raises on purpose."""


class LlvmError(OptgymError):
    """LLVM reported a failure (bad IR, a pipeline it cannot parse, a failed verification)."""


class ParseError(LlvmError):
    """The bytes given as a module are not valid LLVM IR text or bitcode."""


class PipelineError(LlvmError):
    """The pass pipeline text is not one LLVM's new pass manager accepts."""


class CompilerCrash(OptgymError):
    """The compiler worker died (LLVM aborted) while running a pass; the session restarted it."""

    def __init__(self, message: str, *, passes: str | None = None, module_hash: str | None = None):
        super().__init__(message)
        self.passes = passes
        self.module_hash = module_hash


class PassTimeout(CompilerCrash):
    """A pass ran past the session's time-out; the worker was killed and restarted."""


class BenchmarkError(OptgymError):
    """A benchmark cannot be found, built or parsed; the message names it and says why."""


class ToolchainError(OptgymError):
    """A required LLVM 19 tool or library is missing; the message says how to install it."""


class InvalidMappingError(OptgymError):
    """A memory mapping breaks the rules: buffers overlap in fast memory or exceed its capacity."""


class RenderModeError(OptgymError, TypeError):
    """An environment was asked for a render mode it does not offer.

    A ``TypeError`` too, because that is what callers that probe render modes catch
    (Stable-Baselines3's ``make_vec_env`` offers ``"rgb_array"`` and retries without it).
    """


class ArgumentKindError(OptgymError, TypeError):
    """A call got an argument of a kind it does not take (a benchmark where the wrapper picks
    them, an empty flag list). A ``TypeError`` too, as CompilerGym raised in these cases."""


class CacheLockedError(OptgymError):
    """Another process held a shared cache file's write lock for longer than the busy time-out."""


class LimitExceeded(OptgymError):
    """An input is larger than a configured limit; the message names the limit and how to raise it."""


class UnknownNameError(OptgymError, LookupError):
    """A name (an observation or reward space, a flag, an action set, a dataset or benchmark)
    is not one optgym knows; the message names the known ones. A ``LookupError``, as
    CompilerGym's were."""


class UnknownBenchmarkError(BenchmarkError, UnknownNameError):
    """No dataset or benchmark has that name (a :class:`BenchmarkError` and a ``LookupError``)."""
