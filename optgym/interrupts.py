"""Signals and deadlines for optgym's command-line tools, turned into exceptions so that every
``finally`` runs: compiler workers are ended and temporary files removed whatever stops a run.

Ctrl-C (SIGINT) raises :class:`KeyboardInterrupt`, also when the shell started the tool with
SIGINT ignored (as it does for background jobs; opt-19 too reacts to SIGINT then); SIGTERM and
SIGHUP (what ``timeout``, ``make`` and CI runners send) raise :class:`Terminated`, a
``KeyboardInterrupt``, so the same handlers clean up, unless they were ignored when the tool
started (``nohup``). :func:`exit_code` is the status to exit
with: 130 for Ctrl-C, 128 plus the signal's number otherwise. Only the tools install these
handlers (:func:`handled`); the library never changes a program's signal handling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

#: The signals :func:`handled` turns into exceptions.
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, exits with 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class DeadlineReached(BaseException):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """A :func:`deadline` passed. A BaseException, so no ``except Exception`` swallows it on
    the way out (exactly like KeyboardInterrupt, and for the same reason)."""


class _State:
    """What the handlers have seen: the first signal (the next one is ignored, so the clean-up
    the first one started runs to its end; a third ends the process at once) and whether the
    run's output is committed (after which a signal changes nothing)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.committed = False
        self.previous: dict[int, Any] = {}
        self.repeats = 0


_state = _State()


def _on_signal(signum: int, frame: Any) -> None:
    if _state.committed:
        return
    if _state.signum is not None:  # the clean-up the first one started is running
        _state.repeats += 1
        if _state.repeats >= 2:  # asked three times: leave now (the workers watch for it)
            os._exit(128 + signum)
        return
    _state.signum = signum
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextlib.contextmanager
def handled(program: bool = False) -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into exceptions for the duration of the block (in the
    main thread; elsewhere the block runs unchanged). The previous handlers come back after,
    except in a ``program`` (a tool's whole run) whose output was committed: the signals stay
    ignored while the interpreter shuts down, so a late one cannot turn a finished run into a
    killed one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for sig in SIGNALS:
        # A SIGTERM or SIGHUP ignored by whoever started us (nohup) stays ignored; SIGINT is
        # honoured even then, as opt-19 honours it.
        if sig == signal.SIGINT or signal.getsignal(sig) != signal.SIG_IGN:
            previous[sig] = signal.signal(sig, _on_signal)
    _state.signum, _state.committed, _state.previous = None, False, previous
    _state.repeats = 0
    try:
        yield
    finally:
        if program and _state.committed:
            for sig in SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
            _state.previous = {}
        else:
            release()


def release() -> None:
    """Put back the handlers :func:`handled` replaced (before ``exec``, so that the program
    that replaces this one inherits what this one did: an ignored SIGINT stays ignored)."""
    for sig, handler in _state.previous.items():
        signal.signal(sig, handler)
    _state.previous = {}


def received() -> int | None:
    """The signal that arrived inside :func:`handled`, if any: a tool checks this before it
    writes anything, in case the exception was swallowed on its way out (raised inside a
    ``__del__``, which Python reports and ignores)."""
    return _state.signum


def exit_code(exc: BaseException | None = None) -> int:
    """The exit status for an interrupted run: 130 for Ctrl-C, 128 + N for signal N."""
    signum = exc.signum if isinstance(exc, Terminated) else _state.signum
    return 128 + (signum or signal.SIGINT)


@contextlib.contextmanager
def committing() -> Iterator[None]:
    """Hold off the signals while the block writes the run's output (whole or not at all); once
    it is written, a signal no longer undoes the run, which then exits as having succeeded."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
        _state.committed = True
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`DeadlineReached` in the main thread when ``seconds`` have passed inside
    the block (0 or less: at once; None: never), wherever the block is: waiting for a compiler
    worker (which is then killed), for a subprocess (killed by ``subprocess.run``) or in
    Python. Uses SIGALRM and ITIMER_REAL; if the exception is swallowed (a ``__del__``), it is
    raised again every few seconds until the block ends."""
    if seconds is None:
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        if not _state.committed:
            raise DeadlineReached

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6), 5.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
