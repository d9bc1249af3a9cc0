"""The parent side of the compiler worker: :class:`CompilerSession` and its :class:`ModuleHandle`.

A session owns one worker process. Each handle names a module in that worker and remembers how
it was made (the input bytes and the pipelines applied since), so that when LLVM aborts the
worker, or a pass runs past the time-out, the session raises a typed error, starts a new worker
and rebuilds every live module as it was before the failing request. Nothing is lost but the
failing pass. A request interrupted in the parent (Ctrl-C, an exception raised by a signal
handler) ends the worker at once, and the next request starts a fresh one rebuilt the same way,
so no reply is ever read by the wrong request. A worker never outlives its session: closing,
garbage collection, interpreter exit and the parent's death all end it.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import itertools
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from optgym import errors
from optgym.llvm import native
from optgym.llvm.handoff import Handoff, wait_readable
from optgym.llvm.worker import frame_message, read_message, write_message

DEFAULT_TIMEOUT = 60.0
#: How long a new worker may take to start (load LLVM) whatever the request's time-out.
START_SECONDS = 10.0
_LIVE_SESSIONS: weakref.WeakSet[CompilerSession] = weakref.WeakSet()


@dataclass
class _Recipe:
    """How to rebuild a module: parse these bytes, then run these pipelines in order."""

    data: bytes
    name: str
    pipelines: list[str] = field(default_factory=list)
    data_digest: str = ""

    def digest(self) -> str:
        """A hash of the module's state: its input bytes and the pipelines applied since.

        Replays are deterministic, so this identifies the module exactly, and it can be
        computed in the parent even after LLVM has crashed the worker holding the module.
        """
        if not self.data_digest:
            self.data_digest = hashlib.blake2b(self.data, digest_size=16).hexdigest()
        h = hashlib.blake2b(self.data_digest.encode(), digest_size=8)
        for pipeline in self.pipelines:
            h.update(b"\0" + pipeline.encode())
        return h.hexdigest()


def _spawn() -> tuple[subprocess.Popen, Any]:
    """A new worker process and the temporary file its stderr goes to."""
    stderr = tempfile.TemporaryFile()
    env = dict(os.environ, OPTGYM_WORKER="1", OPTGYM_PARENT_PID=str(os.getpid()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "optgym.llvm.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        close_fds=True,
    )
    return proc, stderr


_SPARES: list[tuple[subprocess.Popen, Any]] = []
_SPARES_LOCK = threading.Lock()


def prestart(workers: int = 1) -> None:
    """Start up to ``workers`` compiler workers now, for the next sessions this process makes
    (each adopts one instead of starting its own).

    A worker takes a fifth of a second or more to load Python, numpy and LLVM. A program that
    will need one soon (``optgym-opt``, ``optgym-cc``) calls this first, so that the loading
    overlaps with its own imports and reading its input. Workers never adopted end with the
    process, as every worker does.
    """
    native.build()
    with _SPARES_LOCK:
        while len(_SPARES) < workers:
            _SPARES.append(_spawn())


def spare_pids() -> list[int]:
    """Process ids of the workers :func:`prestart` started that no session has adopted yet."""
    with _SPARES_LOCK:
        return [proc.pid for proc, _ in _SPARES if proc.poll() is None]


def _take_spare() -> tuple[subprocess.Popen, Any] | None:
    with _SPARES_LOCK:
        while _SPARES:
            proc, stderr = _SPARES.pop(0)
            if proc.poll() is None:
                return proc, stderr
            stderr.close()
    return None


@dataclass
class StepResult:
    """What running a pipeline did: whether the module changed, and the observations asked for."""

    changed: bool
    observations: dict[str, Any]


class _WorkerDied(Exception):
    pass


class CompilerSession:
    """Owns a compiler worker process and the modules inside it.

    >>> with CompilerSession() as session:
    ...     module = session.load(open("prog.bc", "rb").read(), name="prog")
    ...     module.run("mem2reg,instcombine<no-verify-fixpoint>", observe=("IrInstructionCount",))
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = timeout
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._handles: weakref.WeakValueDictionary[int, ModuleHandle] = (
            weakref.WeakValueDictionary()
        )
        self._proc: subprocess.Popen | None = None
        self._stderr: Any = None
        self.restarts = 0
        self._closed = False
        # True while the worker cannot be trusted to match the recipes (a request was
        # interrupted, or a restart was): the next request restarts it first.
        self._desynced = False
        #: How each reply is waited for (spin, follow the parent's core, or sleep).
        self.handoff = Handoff()
        native.build()  # compile the helper once here rather than racing in every worker
        self._start()
        _LIVE_SESSIONS.add(self)

    # -- process management -------------------------------------------------------------------
    def _start(self) -> None:
        """Start a worker (or adopt one :func:`prestart` started). It loads LLVM in the
        background while this process goes on; its greeting is read before the first request
        (:meth:`_await_greeting`)."""
        self._proc, self._stderr = _take_spare() or _spawn()
        self._fd_in = self._proc.stdout.fileno()
        self._fd_out = self._proc.stdin.fileno()
        os.set_blocking(self._fd_out, False)  # sends wait with a time-out (see _exchange)
        self._greeted = False
        self.handoff.new_worker(self._proc.pid)

    def _await_greeting(self, timeout: float) -> None:
        """Read the worker's start-up status; ToolchainError if it could not start, and
        TimeoutError if it says nothing within ``timeout`` (a frozen worker)."""
        if not wait_readable(self._fd_in, timeout):
            raise TimeoutError
        try:
            status = read_message(self._fd_in)
        except (_WorkerDied, EOFError, OSError) as exc:
            reason = str(exc) if isinstance(exc, _WorkerDied) else self._death_reason()
            self._kill()
            self._desynced = True
            raise errors.ToolchainError(f"the compiler worker failed to start: {reason}") from None
        if status[0] != "ok":
            self._kill()
            self._desynced = True
            raise errors.ToolchainError(f"the compiler worker failed to start: {status[2]}")
        self._greeted = True

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 2000))
        return self._stderr.read().decode("utf-8", "replace").strip()

    def _death_reason(self) -> str:
        code = self._proc.wait() if self._proc else None
        if code is not None and code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with status {code}"
        tail = self._stderr_tail()
        return f"{how}; LLVM said: {tail.splitlines()[-1]}" if tail else how

    @property
    def pid(self) -> int | None:
        """Process id of the current worker (changes after a restart)."""
        return self._proc.pid if self._proc else None

    def close(self) -> None:
        """End the worker; the session's handles become unusable."""
        with self._lock:
            self._closed = True
            if self._proc is None:
                return
            try:
                write_message(self._fd_out, ("exit", (), 0.0))
                self._proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._kill()

    def __enter__(self) -> CompilerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- requests -------------------------------------------------------------------------------
    def _receive(self, timeout: float) -> Any:
        if not self.handoff.wait(self._fd_in, timeout):
            raise TimeoutError
        try:
            return read_message(self._fd_in)
        except (EOFError, OSError) as exc:
            raise _WorkerDied(self._death_reason()) from exc

    def _exchange(self, method: str, args: tuple, timeout: float) -> Any:
        """Send one request and read its reply (no recovery: that is :meth:`_call`'s job).

        A worker that stops reading (frozen) times the request out while it is still being
        sent, as one that does not answer does: a large module does not fit the pipe.
        """
        spin = self.handoff.before_request()
        view = memoryview(frame_message((method, args, spin)))
        deadline = time.monotonic() + timeout
        while view:
            try:
                view = view[os.write(self._fd_out, view):]
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([], [self._fd_out], [], left)[1]:
                    raise TimeoutError from None
        if not self._greeted:  # the request waits in the pipe while the worker starts
            self._await_greeting(max(deadline - time.monotonic(), START_SECONDS))
        return self._receive(timeout)

    def _call(self, method: str, *args: Any, what: str = "",
              handle: ModuleHandle | None = None) -> Any:
        with self._lock:
            if self._closed:
                raise errors.OptgymError("the compiler session is closed")
            if self._desynced:
                self._restart()
            try:
                try:
                    reply = self._exchange(method, args, self.timeout)
                except (_WorkerDied, BrokenPipeError) as died:
                    if isinstance(died, _WorkerDied) and not self._unread_request():
                        raise
                    # The worker died before it had read this request (it was killed while
                    # idle): nothing of it ran, so no pass is to blame. A new worker gets it.
                    self._restart()
                    reply = self._exchange(method, args, self.timeout)
            except TimeoutError:
                # Described before the restart, while the recipe still names the failing state.
                module, module_hash = _describe(handle)
                self._restart()
                raise errors.PassTimeout(
                    f"{what or method} ran past the {self.timeout:g} s time-out{module}; the "
                    "worker was killed and restarted",
                    passes=what if method in _PASS_REQUESTS else None,
                    module_hash=module_hash,
                ) from None
            except (_WorkerDied, BrokenPipeError) as died:
                reason = str(died) if isinstance(died, _WorkerDied) else self._death_reason()
                module, module_hash = _describe(handle)
                self._restart()
                doing = f"running {what}" if method in _PASS_REQUESTS else what or method
                raise errors.CompilerCrash(
                    f"LLVM crashed {doing}{module} ({reason}); the worker was restarted and "
                    "the module restored",
                    passes=what if method in _PASS_REQUESTS else None,
                    module_hash=module_hash,
                ) from None
            except BaseException:
                # Ctrl-C, or any exception a signal handler raised, between sending the request
                # and reading the whole reply: the worker may still be running the request (and
                # changing a module the recipes say is unchanged) and its reply, or half of it,
                # is still in the pipe. Nothing it says can be trusted any more.
                self._abandon_worker()
                raise
            if reply[0] == "ok":
                return reply[1]
            _, kind, message = reply
            raise getattr(errors, kind, errors.LlvmError)(message) if hasattr(
                errors, kind
            ) else errors.LlvmError(f"{kind}: {message}")

    def _unread_request(self) -> bool:
        """Whether a dead worker left part of the last request unread in its pipe (FIONREAD
        counts the bytes still there): then it died before running it."""
        try:
            unread = fcntl.ioctl(self._fd_out, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return False
        return struct.unpack("i", unread)[0] > 0

    def _abandon_worker(self) -> None:
        """End the worker now; the next request starts a fresh one rebuilt from the recipes."""
        with self._lock:
            self._desynced = True
            self._kill()

    def _restart(self) -> None:
        """Start a fresh worker and rebuild every live module from its recipe."""
        self._desynced = True  # until every module is rebuilt: an interrupted restart resumes
        self._kill()
        self.restarts += 1
        self._start()
        for handle in list(self._handles.values()):
            handle._lost = not self._replay(handle)
        self._desynced = False

    def _replay(self, handle: ModuleHandle) -> bool:
        """Rebuild one module in a fresh worker from its recipe; False if that fails."""
        recipe = handle._recipe
        # These requests all succeeded before, so a short time-out meant for new passes must
        # not make the replay fail.
        timeout = max(self.timeout, DEFAULT_TIMEOUT)
        try:
            if self._exchange("load", (handle.id, recipe.data, recipe.name), timeout)[0] != "ok":
                return False
            for pipeline in recipe.pipelines:
                if self._exchange("apply", (handle.id, pipeline), timeout)[0] != "ok":
                    return False
        except (TimeoutError, _WorkerDied, OSError):
            return False
        return True

    # -- public API -----------------------------------------------------------------------------
    def load(self, data: bytes, name: str = "module") -> ModuleHandle:
        """Parse LLVM IR text or bitcode into a new module; raises ParseError with LLVM's message."""
        handle = ModuleHandle(self, next(self._ids), _Recipe(bytes(data), name))
        self._call("load", handle.id, handle._recipe.data, name, what=f"parsing {name}",
                   handle=handle)
        self._handles[handle.id] = handle
        return handle

    def ping(self) -> int:
        """Round-trip a no-op request; returns the worker's pid."""
        return self._call("ping")

    def worker_profile(self) -> dict[str, float]:
        """Seconds the worker spent answering requests (``busy``) and inside LLVM's pass
        manager (``passes``) since the last call; for benchmarks that separate the handoff's
        cost from the worker's."""
        return self._call("profile")


class ModuleHandle:
    """A module living in a session's worker; every method is one round trip."""

    def __init__(self, session: CompilerSession, handle_id: int, recipe: _Recipe):
        self.session = session
        self.id = handle_id
        self._recipe = recipe
        self._lost = False
        self._closed = False

    @property
    def name(self) -> str:
        """The name the module was loaded under (a benchmark URI or file name)."""
        return self._recipe.name

    @property
    def pipelines(self) -> tuple[str, ...]:
        """Every pipeline run on this module since it was loaded, in order."""
        return tuple(self._recipe.pipelines)

    def _check(self) -> None:
        if self._closed:
            raise errors.OptgymError(f"module {self.name} is closed")
        if self._lost:
            raise errors.CompilerCrash(f"module {self.name} could not be restored after a crash")

    def run(self, pipeline: str, observe: tuple[str, ...] = ()) -> StepResult:
        """Run a pass pipeline on the module; raises PipelineError, CompilerCrash or PassTimeout."""
        self._check()
        try:
            changed, obs = self.session._call(
                "run", self.id, pipeline, tuple(observe), what=pipeline, handle=self
            )
            self._recipe.pipelines.append(pipeline)
        except errors.OptgymError:
            raise
        except BaseException:
            # Interrupted after the worker ran the pipeline but before the recipe says so:
            # rebuilding from the recipe puts the module back where the caller thinks it is.
            self.session._abandon_worker()
            raise
        return StepResult(changed, obs)

    def try_pipeline(self, pipeline: str, observe: tuple[str, ...]) -> dict[str, Any]:
        """Observations of the module after ``pipeline``, leaving this module unchanged."""
        self._check()
        return self.session._call(
            "pipeline_result", self.id, pipeline, tuple(observe),
            what=pipeline, handle=self,
        )[1]

    def observe(self, *names: str) -> dict[str, Any]:
        """Compute observations (see :mod:`optgym.llvm.observers`) of the current module."""
        self._check()
        return self.session._call("observe", self.id, names, what="observing", handle=self)

    def fork(self) -> ModuleHandle:
        """An independent copy of this module in the same worker."""
        self._check()
        s = self.session
        recipe = _Recipe(self._recipe.data, self._recipe.name, list(self._recipe.pipelines),
                         self._recipe.data_digest)
        child = ModuleHandle(s, next(s._ids), recipe)
        s._call("clone", self.id, child.id, what="cloning", handle=self)
        s._handles[child.id] = child
        return child

    def verify(self) -> str | None:
        """None if the module passes LLVM's verifier, else the verifier's message."""
        self._check()
        return self.session._call("verify", self.id, what="verifying", handle=self)

    def ir(self) -> str:
        """The module as LLVM IR text."""
        return self.observe("Ir")["Ir"]

    def bitcode(self) -> bytes:
        """The module as bitcode."""
        return self.observe("Bitcode")["Bitcode"]

    def hash(self) -> str:
        """A digest of the module's bitcode."""
        return self.observe("IrHash")["IrHash"]

    def instruction_count(self) -> int:
        """Number of instructions in the module."""
        return self.observe("IrInstructionCount")["IrInstructionCount"]

    def object_text_size(self) -> int:
        """Bytes of ``.text`` in the object file for the module's target."""
        return self.observe("ObjectTextSizeBytes")["ObjectTextSizeBytes"]

    def close(self) -> None:
        """Free the module in the worker."""
        if self._closed:
            return
        self._closed = True
        s = self.session
        s._handles.pop(self.id, None)
        if s._proc is not None and not self._lost:
            try:
                s._call("free", self.id, what="freeing", handle=self)
            except errors.OptgymError:
                pass

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown or a dead session
            pass


#: Requests that run passes: their ``what`` is the pipeline, which errors carry as ``passes``.
_PASS_REQUESTS = frozenset({"run", "pipeline_result"})


def _describe(handle: ModuleHandle | None) -> tuple[str, str | None]:
    """How an error names a module (" on module NAME (state HASH: history)", or nothing for a
    request about no module); and the state hash alone."""
    if handle is None:
        return "", None
    digest = handle._recipe.digest()
    return (f" on module {handle.name} (state {digest}: input bytes + "
            f"{len(handle._recipe.pipelines)} pipelines applied)", digest)


@atexit.register
def _close_all_sessions() -> None:
    for session in list(_LIVE_SESSIONS):
        session._kill()
    while (spare := _take_spare()) is not None:
        spare[0].kill()
        spare[0].wait()
        spare[1].close()
