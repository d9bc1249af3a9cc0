"""How many CPU cores this process can really use now: the ones it may run on, less those other
processes keep busy. Torch threads, parallel candidate evaluation and spare compiler workers are
sized from it, so that optgym does not fight the rest of a shared machine for cores (on a busy
2-core machine two torch threads train 2-3x slower per graph than one).

``OPTGYM_THREADS`` overrides the count for everything (an integer >= 1).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable

from optgym.errors import OptgymError


def allowed_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. from ``taskset`` or a cgroup)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def busy_elsewhere(samples: int = 1, ours: Iterable[int] = (), threads: bool = True) -> float:
    """Cores other processes keep busy now: the tasks the kernel reports running, besides the
    caller's threads (only the calling one with ``threads=False``) and the processes ``ours``
    (the caller's own helpers, e.g. compiler workers still loading LLVM: work for the caller,
    not competition), as the median of ``samples`` readings 10 ms apart, so that a process
    that ran for a moment does not count. The load average is not used: it trails new load by
    a minute."""
    ours = list(ours)
    readings = []
    for i in range(max(1, samples)):
        if i:
            time.sleep(0.01)
        try:
            with open("/proc/loadavg", "rb") as f:
                running = int(f.read().split()[3].split(b"/")[0])
            own = _own_running_threads() if threads else 1
            readings.append(running - own - sum(_running(f"/proc/{pid}/stat") for pid in ours))
        except (OSError, ValueError, IndexError):
            try:
                return max(0.0, os.getloadavg()[0])
            except OSError:
                return 0.0
    return max(0.0, statistics.median(readings))


def free_cores(override: int | None = None, samples: int = 1, ours: Iterable[int] = ()) -> int:
    """Cores worth using now: ``override`` if given, else ``OPTGYM_THREADS``, else the allowed
    cores less those busy elsewhere (rounded; ``samples`` and ``ours`` as
    :func:`busy_elsewhere`), at least 1."""
    if override is None:
        override = _from_environment()
    if override is not None:
        return override
    return max(1, allowed_cores() - int(busy_elsewhere(samples, ours) + 0.5))


def _running(stat: str) -> bool:
    """Whether the task whose ``stat`` file this is runs or waits to run now (False if it is
    gone)."""
    try:
        with open(stat, "rb") as f:
            # The state follows the command name, which is in parentheses and may hold spaces.
            return f.read().rsplit(b")", 1)[1].split()[0] == b"R"
    except (OSError, IndexError):
        return False


def _own_running_threads() -> int:
    """This process's threads that run now, the caller's included (at least 1): a numerical
    library's worker threads spinning after a matrix product are this process, not load."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    return max(1, sum(_running(f"/proc/self/task/{t}/stat") for t in tasks))


def _from_environment() -> int | None:
    value = os.environ.get("OPTGYM_THREADS", "").strip()
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        raise OptgymError(f"OPTGYM_THREADS={value!r} is not an integer") from None
    if n < 1:
        raise OptgymError(f"OPTGYM_THREADS={value!r} must be at least 1")
    return n


def set_torch_threads(override: int | None = None, share: int = 1) -> int:
    """Set torch's intra-op thread count and return it: ``override`` if given, else
    ``OPTGYM_THREADS``, else this process's ``1/share`` of the :func:`free_cores` (``share``:
    processes of one job on this machine, e.g. torchrun's local ranks), at least 1."""
    import torch

    if override is None:
        override = _from_environment()
    n = override if override is not None else max(1, free_cores(samples=5) // max(1, share))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
