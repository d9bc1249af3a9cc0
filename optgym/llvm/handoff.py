"""How the environment's process and its compiler worker hand a request back and forth.

A step is two wake-ups: the parent wakes the worker with a request, the worker wakes the parent
with the reply. On virtual machines a wake-up that lands on another, idle core costs 0.1-1 ms
(the idle virtual CPU has halted and the hypervisor must run it again), more than a small
pass. The regimes:

* **spin**: when the machine has a core to spare for each side, the waiting side busy-polls
  its pipe instead of sleeping, so neither virtual CPU halts: the parent for twice a typical
  recent request (at least ``OPTGYM_SPIN_US``, default 300 us, at most
  ``OPTGYM_SPIN_MAX_US``, default 2,000 us), the worker for ``OPTGYM_SPIN_US`` after each
  reply. The worker is kept off the parent's core, so the two never spin against each other.
  The price is a core busy while a pass runs, which only a quiet machine pays.
* **block**: sleep in the kernel (the plain pipe): when other processes want the cores, a
  spinning side would take a core from them and from its own partner.
* **follow** (only when asked for): no spinning; the worker is pinned to the core the parent
  runs on and the parent pins itself there while it waits, so each wake-up hands the core
  over. It costs two ``sched_setaffinity`` calls per request (about 38 us each on this VM),
  and measured on Linux 6.18 (``benchmarks/step_limit.py``) it was never faster than block,
  quiet or loaded, so ``auto`` does not choose it.

:class:`Handoff` picks spin or block before each request in ``auto`` mode: spin while the
last few readings of the runnable tasks (``/proc/loadavg`` less this thread and its worker,
sampled at most every 20 ms) left a core for each side and a typical recent
request was shorter than the longest spin. ``OPTGYM_HANDOFF`` forces
one (``spin``, ``follow``, ``block``); ``OPTGYM_SPIN_US=0`` turns spinning off.
``benchmarks/handoff.py`` measures the regimes alone.
"""

from __future__ import annotations

import collections
import ctypes
import os
import select
import time

from optgym.cores import allowed_cores, busy_elsewhere
from optgym.errors import OptgymError


def _microseconds(name: str, default: str) -> float:
    """The setting ``name`` (microseconds, >= 0) in seconds; a clear error if it is not one."""
    value = os.environ.get(name, "").strip() or default
    try:
        seconds = float(value) * 1e-6
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise OptgymError(f"{name}={value!r} must be a number of microseconds (>= 0)")
    return seconds

MODES = ("auto", "spin", "follow", "block")
#: How often the runnable-task count is read (it costs a few tens of microseconds).
_SAMPLE_SECONDS = 0.02
#: Readings the spin decision looks back over (60 ms).
_HISTORY = 3


def wait_readable(fd: int, timeout: float | None, spin: float = 0.0) -> bool:
    """Wait until ``fd`` has data: busy-poll for ``spin`` seconds, then sleep in the kernel;
    False if ``timeout`` passes first."""
    start = time.perf_counter()
    if timeout is not None:
        spin = min(spin, timeout)  # a spin never outlasts the time-out
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

    def __init__(self, mode: str | None = None, spin: float | None = None,
                 spin_max: float | None = None):
        """``spin``: how long a waiting side busy-polls before sleeping, when it spins at all
        (default ``OPTGYM_SPIN_US``, 300 us); ``spin_max``: the longest the parent spins for
        a reply, which it does for twice a typical recent request (default
        ``OPTGYM_SPIN_MAX_US``, 2,000 us); both in seconds."""
        spin = _microseconds("OPTGYM_SPIN_US", "300") if spin is None else spin
        if spin_max is None:
            spin_max = _microseconds("OPTGYM_SPIN_MAX_US", "2000")
        mode = mode or os.environ.get("OPTGYM_HANDOFF", "") or "auto"
        if mode not in MODES:
            raise ValueError(f"OPTGYM_HANDOFF={mode!r}: expected one of {', '.join(MODES)}")
        if mode == "follow" and (_sched_getcpu is None or not hasattr(os, "sched_setaffinity")):
            mode = "block"
        self.mode = mode
        self.spin = spin
        self.spin_max = max(spin, spin_max)
        self._spin_now = spin
        self._sampled = -1.0
        self._spare = False
        # Durations of the last few requests, seconds (their middle one sizes the spin).
        self._recent: collections.deque[float] = collections.deque(maxlen=8)
        self._worker: int | None = None
        self._placement: tuple[str, int] | None = None  # how the worker is pinned now
        self._busy: list[float] = []
        self._regime = "block"
        #: Requests answered in each regime (for benchmarks and tests).
        self.counts = {"spin": 0, "follow": 0, "block": 0}

    def new_worker(self, pid: int) -> None:
        """A worker (re)started: nothing is known about where it runs."""
        self._worker, self._placement = pid, None

    # -- deciding -------------------------------------------------------------------------------
    def _spare_cores(self, now: float) -> bool:
        """Whether a core is free for each side to spin on: the fewest other runnable tasks
        over the last :data:`_HISTORY` readings, so that a task that ran for a moment does not
        stop the spinning, while steady load does."""
        if now - self._sampled < _SAMPLE_SECONDS:
            return self._spare
        self._sampled = now
        # This process's other threads count: a spinning side would take a core from them as
        # from anyone (a learner training beside the env, say).
        busy = busy_elsewhere(1, () if self._worker is None else (self._worker,), threads=False)
        self._busy = [*self._busy[-(_HISTORY - 1):], busy]
        self._spare = allowed_cores() - min(self._busy) >= 2
        return self._spare

    def before_request(self) -> float:
        """Choose how this request is waited for; returns how long the worker should spin for
        the next request after replying (0: sleep at once)."""
        mode = self.mode
        now = time.perf_counter()
        typical = 0.0
        if mode in ("auto", "spin") and self._recent:
            typical = sorted(self._recent)[len(self._recent) // 2]
        if mode == "auto":
            # Requests longer than the longest spin (a search's whole pipelines) are slept
            # through anyway: spinning first would only take a core from the other workers.
            spin = self.spin > 0 and typical < self.spin_max and self._spare_cores(now)
            mode = "spin" if spin else "block"
        self._regime = mode
        if mode == "spin":
            # Long enough to cover a typical request, so that the reply finds this side awake:
            # a reply to a sleeping side costs the wake-up of a halted virtual CPU (0.1-0.4 ms
            # here), which spinning through a 0.5 ms pass avoids. Bounded, since a pass may
            # take seconds.
            self._spin_now = min(self.spin_max, max(self.spin, 2 * typical))
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
            ready = wait_readable(fd, timeout, self._spin_now if regime == "spin" else 0.0)
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
            self._recent.append(end - self._started)
            self.counts[regime] += 1
        return ready
