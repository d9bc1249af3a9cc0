"""The step handoff's options, measured alone: what a request-reply round trip between two
processes costs beyond the work it carries, on this machine, quiet or with ``--load N`` busy
processes beside it.

A child process answers each request after ``--work`` microseconds of busy work (a pass); the
parent does 30 us of its own between requests (an agent). Ways to wait, over a pipe unless
named otherwise:

* ``block``: sleep in the kernel (select) on both sides;
* ``spin-yield``: optgym's earlier handoff: poll for 300 us, calling sched_yield in between;
* ``spin``: poll for 300 us without yielding (what :mod:`optgym.llvm.handoff` does when the
  machine has a core to spare for each side);
* ``follow``: no spinning; the child is pinned to the parent's core and the parent pins itself
  there while it waits, so each wake-up hands the core over (only when asked for);
* ``auto``: :class:`optgym.llvm.handoff.Handoff` choosing between spin (for twice a typical
  request, 300 us to 2 ms) and block;
* ``eventfd``: eventfd wake-ups with the message in shared memory, sleeping;
* ``shm-spin``: a shared-memory sequence number both sides poll, never sleeping (a tenth of
  the requests, and at most 20 s of them: when the two share a core, each handoff waits out a
  scheduler time slice; the count measured is printed).

Prints the overhead (round trip minus the work): median, mean and 90th percentile, in us. Run:

    .venv/bin/python benchmarks/handoff.py [--work 100] [--requests 3000] [--load N]
"""

from __future__ import annotations

import argparse
import ctypes
import mmap
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _load import add_load_argument, busy_processes, describe  # noqa: E402

from optgym.llvm.handoff import Handoff, wait_readable  # noqa: E402

MODES = ("block", "spin-yield", "spin", "follow", "auto", "eventfd", "shm-spin")
_MSG = struct.Struct("<Qd")  # sequence number, spin seconds for the child


def set_slice(us: float) -> None:
    """Ask the scheduler for a time slice of ``us`` microseconds for this thread (Linux 6.12+,
    sched_setattr's sched_runtime for a normal task; no privilege needed); 0 leaves it."""
    if us <= 0:
        return
    attr = struct.pack("<IIQiIQQQII", 56, 0, 0, os.getpriority(os.PRIO_PROCESS, 0), 0,
                       int(us * 1000), 0, 0, 0, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(314, 0, ctypes.create_string_buffer(attr), 0) != 0:
        raise OSError(ctypes.get_errno(), "sched_setattr")


def busy(us: float) -> None:
    end = time.perf_counter() + us * 1e-6
    while time.perf_counter() < end:
        pass


def _spin_yield(fd: int) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < 300e-6:
        if select.select([fd], [], [], 0)[0]:
            return
        os.sched_yield()
    select.select([fd], [], [])


def child(mode: str, work: float, fds: list[int]) -> None:
    """Answer requests until the parent stops (or dies: the kernel then kills this process)."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    set_slice(float(os.environ.get("HANDOFF_SLICE_US", "0")))
    if mode in ("eventfd", "shm-spin"):
        req, rep, mem = fds
        shared = mmap.mmap(mem, 64)
        last = 0
        while True:
            if mode == "eventfd":
                os.eventfd_read(req)
            seq = _MSG.unpack_from(shared, 0)[0]
            while mode == "shm-spin" and seq == last:
                seq = _MSG.unpack_from(shared, 0)[0]
            if seq == 0:
                return
            last = seq
            busy(work)
            struct.pack_into("<Q", shared, 16, seq)
            if mode == "eventfd":
                os.eventfd_write(rep, 1)
    spin = 0.0
    while True:
        if mode == "spin-yield":
            _spin_yield(0)
        else:
            wait_readable(0, None, spin)
        data = os.read(0, _MSG.size)
        if not data:
            return
        seq, spin = _MSG.unpack(data)
        busy(work)
        os.write(1, data)


def parent(mode: str, work: float, requests: int) -> list[float]:
    """Round-trip times of ``requests`` requests."""
    script = [sys.executable, __file__, "--child", mode, "--work", str(work)]
    times = []
    if mode in ("eventfd", "shm-spin"):
        req, rep = os.eventfd(0), os.eventfd(0)
        mem = os.memfd_create("handoff")
        os.ftruncate(mem, 64)
        shared = mmap.mmap(mem, 64)
        proc = subprocess.Popen([*script, "--fds", f"{req},{rep},{mem}"], pass_fds=(req, rep, mem))
        deadline = time.perf_counter() + 20.0  # shm-spin can take a time slice per handoff
        for seq in range(1, requests + 1):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            _MSG.pack_into(shared, 0, seq, 0.0)
            if mode == "eventfd":
                os.eventfd_write(req, 1)
                os.eventfd_read(rep)
            else:
                while struct.unpack_from("<Q", shared, 16)[0] != seq:
                    if time.perf_counter() > deadline + 5.0:
                        proc.kill()
                        raise SystemExit("shm-spin: no reply within 5 s past its time")
            times.append(time.perf_counter() - started)
            busy(30)
        _MSG.pack_into(shared, 0, 0, 0.0)
        if mode == "eventfd":
            os.eventfd_write(req, 1)
        proc.wait()
        for fd in (req, rep, mem):
            os.close(fd)
        return times
    proc = subprocess.Popen(script, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, back = proc.stdin.fileno(), proc.stdout.fileno()
    handoff = Handoff({"block": "block", "spin": "spin", "follow": "follow", "auto": "auto",
                       "spin-yield": "block"}[mode])
    handoff.new_worker(proc.pid)
    for seq in range(1, requests + 1):
        started = time.perf_counter()
        spin = handoff.before_request()
        os.write(out, _MSG.pack(seq, spin))
        if mode == "spin-yield":
            _spin_yield(back)
        else:
            handoff.wait(back, None)
        os.read(back, _MSG.size)
        times.append(time.perf_counter() - started)
        busy(30)
    proc.stdin.close()
    proc.wait()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=float, default=100.0, help="us of work per request")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--slice-us", type=float, default=0.0,
                        help="scheduler time slice for both sides (default: the kernel's)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--fds", help=argparse.SUPPRESS)
    add_load_argument(parser)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.work, [int(f) for f in args.fds.split(",")] if args.fds else [])
        return
    os.environ["HANDOFF_SLICE_US"] = str(args.slice_us)
    set_slice(args.slice_us)
    with busy_processes(args.load):
        print(f"{describe(args.load)}; {args.work:g} us of work per request"
              + (f"; {args.slice_us:g} us time slices" if args.slice_us else ""))
        print(f"{'mode':<11} {'median us':>10} {'mean us':>9} {'p90 us':>9}")
        for mode in args.modes.split(","):
            n = args.requests // 10 if mode == "shm-spin" else args.requests
            times = sorted(t * 1e6 - args.work for t in parent(mode, args.work, n))
            print(f"{mode:<11} {statistics.median(times):>10.1f} {statistics.fmean(times):>9.1f} "
                  f"{times[int(0.9 * len(times))]:>9.1f}"
                  + (f"  ({len(times)} requests)" if len(times) < n else ""), flush=True)


if __name__ == "__main__":
    main()
