"""CompilerGym's ``compiler_gym.service``, as far as LLVM code outside the service used it.

optgym has no gRPC service: LLVM runs in a local worker process owned by the environment
(see :mod:`optgym.llvm.session`). The names here exist so that code that imports them keeps
importing: the message types a benchmark was made of (``Benchmark``, ``File``), the error
types, and ``ConnectionOpts`` / ``CompilerGymServiceConnection``, which raise a clear error
when used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from optgym.compat.errors import (
    ServiceError,
    ServiceInitError,
    ServiceIsClosed,
    ServiceOSError,
    ServiceTransportError,
    SessionNotFound,
)
from optgym.errors import OptgymError

__all__ = [
    "BenchmarkProto", "CompilerGymServiceConnection", "ConnectionOpts", "File",
    "ServiceError", "ServiceInitError", "ServiceIsClosed", "ServiceOSError",
    "ServiceTransportError", "SessionNotFound",
]

_NO_SERVICE = ("optgym has no gRPC compiler service: LLVM runs in a worker process that "
               "each environment owns (its time-out is LlvmEnv(timeout=...))")


@dataclass
class File:
    """A program's data: ``contents`` (bytes) or ``uri`` (``file:///path``)."""

    uri: str = ""
    contents: bytes = b""


@dataclass
class BenchmarkProto:
    """CompilerGym's benchmark message: a ``uri`` and its ``program``."""

    uri: str = ""
    program: File = field(default_factory=File)


class ConnectionOpts:
    """CompilerGym's service connection settings; optgym has no service to configure."""

    def __init__(self, **settings: object):
        self.settings = settings


class CompilerGymServiceConnection:
    """CompilerGym's connection to a gRPC service: raises, optgym has none."""

    def __init__(self, *args: object, **kwargs: object):
        raise OptgymError(_NO_SERVICE)


#: What ``from compiler_gym.service.proto import Benchmark`` names.
Benchmark = BenchmarkProto
