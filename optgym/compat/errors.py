"""CompilerGym's error types (``compiler_gym.errors``), as optgym raises them.

Each is also the optgym error it stands for where there is one, so ``except OptgymError``
keeps working: an unknown benchmark is an :class:`~optgym.errors.UnknownBenchmarkError`
(a ``LookupError``), a benchmark that does not load a :class:`BenchmarkInitError` (a
``ValueError``). The gRPC service's errors exist so that code naming them imports; optgym
has no service, so only :class:`SessionNotFound` (a step before reset) is ever raised.
"""

from __future__ import annotations

from optgym.errors import BenchmarkError, OptgymError, UnknownBenchmarkError

__all__ = [
    "BenchmarkInitError", "DatasetInitError", "EnvironmentNotSupported", "ServiceError",
    "ServiceInitError", "ServiceIsClosed", "ServiceOSError", "ServiceTransportError",
    "SessionNotFound", "UnknownBenchmarkError", "ValidationError",
]


class BenchmarkInitError(BenchmarkError, ValueError):
    """A benchmark could not be loaded: its bitcode does not parse, or it does not compile."""


class DatasetInitError(BenchmarkError, OSError):
    """A dataset could not be installed."""


class ServiceError(OptgymError):
    """CompilerGym's base error of its gRPC service (optgym runs LLVM in a local worker)."""


class SessionNotFound(ServiceError, LookupError):
    """The environment has no episode: call ``reset()`` first."""


class ServiceInitError(ServiceError, OSError):
    """Never raised by optgym (no service to start); defined so that code naming it imports."""


class ServiceOSError(ServiceError, OSError):
    """Never raised by optgym (no service); defined so that code naming it imports."""


class ServiceTransportError(ServiceError, OSError):
    """Never raised by optgym (no service); defined so that code naming it imports."""


class ServiceIsClosed(ServiceError, TypeError):
    """Never raised by optgym (no service); defined so that code naming it imports."""


class EnvironmentNotSupported(ValueError):
    """An environment (``gcc-v0``, ``loop_tool-v0`` ...) optgym does not have."""


class ValidationError(OptgymError):
    """What :meth:`ValidationResult.errors` lists: an error ``type`` and its ``data``."""

    def __init__(self, type: str, data: dict[str, object] | None = None):  # noqa: A002
        super().__init__(type)
        self.type = type
        self.data = data or {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValidationError) and (other.type, other.data) == (
            self.type, self.data)

    def __lt__(self, other: ValidationError) -> bool:
        return self.type < other.type

    def __hash__(self) -> int:
        return hash(self.type)
