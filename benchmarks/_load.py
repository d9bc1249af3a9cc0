"""Busy processes beside a measurement (``--load N``), so speed is measured on a machine that is
doing something else too, as real machines are.

Each busy process is a Python loop that does nothing but compute, at normal priority, unpinned;
it exits by itself when the benchmark that started it dies, even by SIGKILL (it watches its
parent), and :func:`busy_processes` ends them when the measurement ends.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

_HOG = (
    "import os\n"
    "parent = os.getppid()\n"
    "while os.getppid() == parent:\n"
    "    for _ in range(200000):\n"
    "        pass\n"
)


@contextlib.contextmanager
def busy_processes(n: int) -> Iterator[list[int]]:
    """Run ``n`` busy processes for the duration of the ``with`` block; yields their pids."""
    procs = [subprocess.Popen([sys.executable, "-c", _HOG], stdin=subprocess.DEVNULL)
             for _ in range(max(0, n))]
    try:
        if procs:
            time.sleep(0.5)  # let the scheduler spread them before anything is timed
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def add_load_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--load N`` option every speed benchmark takes."""
    parser.add_argument("--load", type=int, default=0, metavar="N",
                        help="run N busy processes beside the measurement (default 0: quiet)")


def describe(load: int) -> str:
    """How a run's conditions are printed: the busy processes and the load average at start."""
    with open("/proc/loadavg") as f:
        avg = f.read().split()[0]
    cpus = len(os.sched_getaffinity(0))
    return (f"{load} busy process{'es' if load != 1 else ''} beside the measurement, {cpus} cores, "
            f"load average {avg} at start")
