"""The compiler worker: a child process that owns LLVM modules and answers requests over a pipe.

LLVM aborts the whole process on some inputs and passes, so modules live here rather than in
the environment's process. The protocol is length-prefixed pickles of ``(method, args)``; a reply
is ``("ok", value)`` or ``("err", error class name, message)``. Run as
``python -m optgym.llvm.worker`` by :class:`optgym.llvm.session.CompilerSession`, never by hand.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from typing import Any

_HEADER = struct.Struct("<Q")

#: How long a side of the pipe busy-polls for the next message before sleeping in the kernel.
#: On virtual machines waking a sleeping process on another core costs 50-100 us, more than a
#: whole pass on a small module; a short spin keeps a stepping loop's round trip near 5 us.
SPIN_SECONDS = float(os.environ.get("OPTGYM_SPIN_US", "300")) * 1e-6


def wait_readable(fd: int, timeout: float | None, spin: float = SPIN_SECONDS) -> bool:
    """Wait until ``fd`` has data: spin briefly, then block; False if ``timeout`` passes first."""
    start = time.perf_counter()
    while time.perf_counter() - start < spin:
        if select.select([fd], [], [], 0)[0]:
            return True
        os.sched_yield()  # on a loaded machine, let the process we wait for have the core
    while True:
        remaining = None if timeout is None else timeout - (time.perf_counter() - start)
        if remaining is not None and remaining <= 0:
            return False
        try:
            if select.select([fd], [], [], remaining)[0]:
                return True
        except InterruptedError:
            continue


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
        self.modules: dict[int, Any] = {}

    def _get(self, handle: int) -> Any:
        try:
            return self.modules[handle]
        except KeyError:
            raise KeyError(f"no module with handle {handle} in the worker") from None

    def ping(self) -> int:
        return os.getpid()

    def load(self, handle: int, data: bytes, name: str) -> None:
        from optgym.llvm.core import Module

        self.modules[handle] = Module.parse(data, name)

    def clone(self, src: int, dst: int) -> None:
        self.modules[dst] = self._get(src).clone()

    def free(self, handle: int) -> None:
        module = self.modules.pop(handle, None)
        if module is not None:
            module.close()

    def run(self, handle: int, pipeline: str, observe: tuple[str, ...]) -> tuple[bool, dict]:
        """Run a pipeline; return whether it changed the module and the observations asked for."""
        module = self._get(handle)
        before = module.fingerprint()
        module.run_passes(pipeline)
        changed = module.fingerprint() != before
        return changed, self.observe(handle, observe)

    def observe(self, handle: int, names: tuple[str, ...]) -> dict:
        from optgym.llvm.observers import observer

        module = self._get(handle)
        return {name: observer(name)(module) for name in names}

    def verify(self, handle: int) -> str | None:
        return self._get(handle).verify()

    def pipeline_result(
        self, handle: int, pipeline: str, observe: tuple[str, ...]
    ) -> tuple[bool, dict]:
        """Observe what a pipeline would give, leaving the module as it was (clone, run, drop)."""
        scratch = self._get(handle).clone()
        try:
            scratch.run_passes(pipeline)
            from optgym.llvm.observers import observer

            return True, {name: observer(name)(scratch) for name in observe}
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
    while True:
        try:
            wait_readable(fd_in, None)
            method, args = read_message(fd_in)
        except EOFError:
            return
        if method == "exit":
            return
        try:
            reply = ("ok", getattr(worker, method)(*args))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed reply
            reply = ("err", type(exc).__name__, str(exc))
        write_message(fd_out, reply)


if __name__ == "__main__":
    main()
    sys.exit(0)
