"""The compiler worker: a child process that owns LLVM modules and answers requests over a pipe.

LLVM aborts the whole process on some inputs and passes, so modules live here rather than in
the environment's process. The protocol is length-prefixed pickles of ``(method, args, spin)``; a
reply is ``("ok", value)`` or ``("err", error class name, message)``. ``spin`` is how long the
worker busy-polls for the next request after replying (see :mod:`optgym.llvm.handoff`). Run as
``python -m optgym.llvm.worker`` by :class:`optgym.llvm.session.CompilerSession`, never by hand.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
import time
from typing import Any

from optgym.errors import LlvmError
from optgym.llvm.handoff import wait_readable

_HEADER = struct.Struct("<Q")


def read_message(fd: int) -> Any:
    """Read one framed pickle from ``fd``; raise EOFError when the other side is gone."""
    header = _read_exact(fd, _HEADER.size)
    return pickle.loads(_read_exact(fd, _HEADER.unpack(header)[0]))


def frame_message(obj: Any) -> bytes:
    """One framed pickle: its length, then the pickle."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def write_message(fd: int, obj: Any) -> None:
    """Write one framed pickle to ``fd``."""
    view = memoryview(frame_message(obj))
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class Worker:
    """The request handlers; each public method is one request type."""

    def __init__(self) -> None:
        from optgym.llvm import native

        native.load()  # fail at start-up, not on the first request, if the helper is missing
        # Loaded here, before the greeting, so that a prestarted worker's first load request
        # does not pay for it.
        from optgym.llvm import core  # noqa: F401
        self.modules: dict[int, Any] = {}
        # Each module's fingerprint and counts as of its last walk, while they are current:
        # a step whose passes report no change needs no walk, and one that does walks once.
        self._stats: dict[int, tuple[int, tuple[int, int, int]]] = {}
        #: Walk after every pass and fail if a pass reported no change but changed the module
        #: (``OPTGYM_CHECK_PRESERVED=1``; tests run every action so).
        self.check_preserved = os.environ.get("OPTGYM_CHECK_PRESERVED", "") not in ("", "0")
        #: Seconds spent answering requests, and inside LLVMRunPasses (see :meth:`profile`).
        self.busy_seconds = self.pass_seconds = 0.0

    def _get(self, handle: int) -> Any:
        try:
            return self.modules[handle]
        except KeyError:
            raise KeyError(f"no module with handle {handle} in the worker") from None

    def ping(self) -> int:
        return os.getpid()

    def profile(self) -> dict[str, float]:
        """Seconds spent answering requests and running passes since the last call (a
        benchmark's view of the worker's own overhead), then zeroes them."""
        out = {"busy": self.busy_seconds, "passes": self.pass_seconds}
        self.busy_seconds = self.pass_seconds = 0.0
        return out

    def load(self, handle: int, data: bytes, name: str) -> None:
        from optgym.llvm.core import Module

        self._stats.pop(handle, None)
        module = Module.parse(data, name)
        self.modules[handle] = module
        self._stats[handle] = module.step_stats()

    def clone(self, src: int, dst: int) -> None:
        # A copy has new objects, so the source's fingerprint says nothing about it. Walking
        # it here keeps the walk out of the episode's first step (a reset clones).
        self._stats.pop(dst, None)
        copy = self._get(src).clone()
        self.modules[dst] = copy
        self._stats[dst] = copy.step_stats()

    def free(self, handle: int) -> None:
        self._stats.pop(handle, None)
        module = self.modules.pop(handle, None)
        if module is not None:
            module.close()

    def run(self, handle: int, pipeline: str, observe: tuple[str, ...]) -> tuple[bool, dict]:
        """Run a pipeline; return whether it changed the module and the observations asked for.

        When no pass reports a change, the module is as it was and so are its fingerprint and
        counts: nothing is walked. Otherwise one walk after the pass gives the fingerprint that
        tells whether the module really changed (a pass may report a change it did not make)
        and the counts (``IrInstructionCount`` needs no walk of its own).
        """
        module = self._get(handle)
        stats = self._stats.pop(handle, None)
        if stats is None:
            stats = module.step_stats()
        started = time.perf_counter()
        reported = module.run_passes(pipeline)
        self.pass_seconds += time.perf_counter() - started
        before = stats[0]
        if reported or self.check_preserved:
            stats = module.step_stats()
            if not reported and stats[0] != before:
                raise LlvmError(f"{pipeline} changed the module but reported no change")
        self._stats[handle] = stats
        return stats[0] != before, self._observe(module, observe, stats[1])

    def apply(self, handle: int, pipeline: str) -> None:
        """Run a pipeline with nothing measured (rebuilding a module from its recipe)."""
        self._stats.pop(handle, None)
        self._get(handle).run_passes(pipeline)

    @staticmethod
    def _observe(module: Any, names: tuple[str, ...],
                 counts: tuple[int, int, int] | None = None) -> dict:
        out = {}
        for name in names:
            if counts is not None and name == "IrInstructionCount":
                out[name] = counts[0]
            elif counts is not None and name == "Counts":
                out[name] = counts
            else:
                from optgym.llvm.observers import observer

                out[name] = observer(name)(module)
        return out

    def observe(self, handle: int, names: tuple[str, ...]) -> dict:
        return self._observe(self._get(handle), names)

    def verify(self, handle: int) -> str | None:
        return self._get(handle).verify()

    def pipeline_result(
        self, handle: int, pipeline: str, observe: tuple[str, ...]
    ) -> tuple[bool, dict]:
        """Observe what a pipeline would give, leaving the module as it was (clone, run, drop)."""
        scratch = self._get(handle).clone()
        try:
            scratch.run_passes(pipeline)
            return True, self._observe(scratch, observe)
        finally:
            scratch.close()


def _watch_parent(parent: int) -> None:
    # Reparenting means the owner died; a pass may be running, so a pipe EOF could come too late.
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def main() -> None:
    """Serve requests on stdin/stdout until the parent closes the pipe or says exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # Keep the protocol on private descriptors; stray prints from LLVM go to stderr.
    fd_in, fd_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    parent = int(os.environ.get("OPTGYM_PARENT_PID", os.getppid()))
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    try:
        worker = Worker()
        write_message(fd_out, ("ok", os.getpid()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        write_message(fd_out, ("err", type(exc).__name__, str(exc)))
        return
    spin = 0.0
    while True:
        try:
            wait_readable(fd_in, None, spin)
            method, args, spin = read_message(fd_in)
        except EOFError:
            return
        if method == "exit":
            # Nothing is left to flush, and tearing down Python and LLVM's globals takes a
            # tenth of a second that the parent, waiting for the exit, would pay.
            os._exit(0)
        started = time.perf_counter()
        try:
            reply = ("ok", getattr(worker, method)(*args))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed reply
            reply = ("err", type(exc).__name__, str(exc))
        worker.busy_seconds += time.perf_counter() - started
        write_message(fd_out, reply)


if __name__ == "__main__":
    main()
    sys.exit(0)
