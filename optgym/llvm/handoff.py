"""How the environment's process and its compiler worker hand a request back and forth.

A step is two wake-ups: the parent wakes the worker with a request, the worker wakes the parent
with the reply. On virtual machines a wake-up that lands on another, idle core costs 0.1-1 ms
(the idle virtual CPU has halted and the hypervisor must run it again), more than a small
pass. There are two cheap ways round it, and each is right in one situation:

* **spin**: when the machine has a core to spare for each side, the waiting side busy-polls
  its pipe for a short while instead of sleeping, so neither virtual CPU halts. The worker is
  kept off the parent's core, so the two never spin against each other.
* **follow**: when it does not (other processes want the cores, or the pass is long enough
  that spinning through it would waste a core), nobody spins: the worker is pinned to the core
  the parent runs on and the parent pins itself there while it waits, so each wake-up hands the
  core over directly instead of waking another one. The parent's own affinity is restored
  before the reply is returned.

:class:`Handoff` picks one of them before each request, from the runnable tasks the kernel
reports (``/proc/loadavg``, sampled at most every 20 ms) and how long recent requests took.
``OPTGYM_HANDOFF`` forces one (``spin``, ``follow``, or ``block``: sleep in the kernel with no
spinning or pinning, the plain pipe), ``OPTGYM_SPIN_US`` sets how long a side spins (default
300; 0 turns spinning off). ``benchmarks/handoff.py`` measures the choices.
"""

from __future__ import annotations

import ctypes
import os
import select
import time

#: How long a waiting side busy-polls before sleeping in the kernel, when spinning at all.
SPIN_SECONDS = float(os.environ.get("OPTGYM_SPIN_US", "300")) * 1e-6
MODES = ("auto", "spin", "follow", "block")
#: How often the runnable-task count is read (it costs a few microseconds).
_SAMPLE_SECONDS = 0.02


def wait_readable(fd: int, timeout: float | None, spin: float = 0.0) -> bool:
    """Wait until ``fd`` has data: busy-poll for ``spin`` seconds, then sleep in the kernel;
    False if ``timeout`` passes first."""
    start = time.perf_counter()
    if spin > 0:
        poll = select.poll()
        poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            if poll.poll(0):
                return True
            if time.perf_counter() - start >= spin:
                break
    while True:
        remaining = None if timeout is None else timeout - (time.perf_counter() - start)
        if remaining is not None and remaining <= 0:
            return False
        try:
            if select.select([fd], [], [], remaining)[0]:
                return True
        except InterruptedError:
            continue


def _getcpu() -> object:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.sched_getcpu
        fn.restype = ctypes.c_int
        fn.argtypes = []
        return fn if fn() >= 0 else None
    except (OSError, AttributeError):
        return None


_sched_getcpu = _getcpu()


class Handoff:
    """The parent side's choice of how to wait for each reply (see the module docstring)."""

    def __init__(self, mode: str | None = None, spin: float = SPIN_SECONDS):
        mode = mode or os.environ.get("OPTGYM_HANDOFF", "") or "auto"
        if mode not in MODES:
            raise ValueError(f"OPTGYM_HANDOFF={mode!r}: expected one of {', '.join(MODES)}")
        if mode == "follow" and (_sched_getcpu is None or not hasattr(os, "sched_setaffinity")):
            mode = "block"
        self.mode = mode
        self.spin = spin
        self._sampled = -1.0
        self._spare = False
        self._recent = 0.0  # smoothed duration of recent requests, seconds
        self._worker: int | None = None
        self._placement: tuple[str, int] | None = None  # how the worker is pinned now
        self._worker_spins_until = 0.0
        self._regime = "block"
        #: Requests answered in each regime (for benchmarks and tests).
        self.counts = {"spin": 0, "follow": 0, "block": 0}

    def new_worker(self, pid: int) -> None:
        """A worker (re)started: nothing is known about where it runs."""
        self._worker, self._placement, self._worker_spins_until = pid, None, 0.0

    # -- deciding -------------------------------------------------------------------------------
    def _spare_cores(self, now: float) -> bool:
        """Whether a core is free for each side to spin on, beyond what other tasks use."""
        if now - self._sampled < _SAMPLE_SECONDS:
            return self._spare
        self._sampled = now
        try:
            with open("/proc/loadavg", "rb") as f:
                running = int(f.read().split()[3].split(b"/")[0])
            cpus = len(os.sched_getaffinity(0))
        except (OSError, ValueError, IndexError):
            self._spare = False
            return False
        ours = 1 + (now < self._worker_spins_until)  # this thread, and the worker if spinning
        self._spare = cpus - max(0, running - ours) >= 2
        return self._spare

    def before_request(self) -> float:
        """Choose how this request is waited for; returns how long the worker should spin for
        the next request after replying (0: sleep at once)."""
        mode = self.mode
        now = time.perf_counter()
        if mode == "auto":
            if self.spin > 0 and self._recent < self.spin / 2 and self._spare_cores(now):
                mode = "spin"
            elif _sched_getcpu is not None:
                mode = "follow"
            else:
                mode = "block"
        self._regime = mode
        if mode in ("spin", "follow") and self._worker is not None:
            cpu = _sched_getcpu()
            want = (mode, cpu)
            if want != self._placement:
                try:
                    mask = os.sched_getaffinity(0)
                    cores = {cpu} if mode == "follow" else (mask - {cpu}) or mask
                    os.sched_setaffinity(self._worker, cores)
                    self._placement = want
                except OSError:  # the worker is gone; the exchange will say so
                    self._placement = None
        self._started = now
        return self.spin if mode == "spin" else 0.0

    # -- waiting --------------------------------------------------------------------------------
    def wait(self, fd: int, timeout: float | None) -> bool:
        """Wait for the reply to the request :meth:`before_request` prepared; False on time-out."""
        regime = self._regime
        if regime != "follow":
            ready = wait_readable(fd, timeout, self.spin if regime == "spin" else 0.0)
        else:
            mask = os.sched_getaffinity(0)
            cpu = self._placement[1] if self._placement else _sched_getcpu()
            try:
                os.sched_setaffinity(0, {cpu})
                pinned = True
            except OSError:
                pinned = False
            try:
                ready = wait_readable(fd, timeout)
            finally:
                if pinned:
                    os.sched_setaffinity(0, mask)
        if ready:
            end = time.perf_counter()
            self._recent = 0.7 * self._recent + 0.3 * (end - self._started)
            if regime == "spin":
                self._worker_spins_until = end + self.spin
            self.counts[regime] += 1
        return ready
