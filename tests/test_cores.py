"""Sizing threads and workers from the cores really free (optgym.cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from optgym import cores
from optgym.errors import OptgymError

HOG = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"


def test_busy_processes_leave_fewer_free_cores():
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(2)]
    try:
        time.sleep(0.3)
        assert cores.busy_elsewhere(samples=5) >= 2
        assert cores.free_cores(samples=5) <= max(1, cores.allowed_cores() - 2)
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def test_the_callers_own_threads_and_helpers_are_not_load():
    # A drop-in's prestarted compiler workers and numpy's spinning BLAS threads are the caller's
    # own work: counting them as load once kept its search on one core of two free ones.
    import threading

    before = cores.busy_elsewhere(samples=5)  # whatever else this machine is doing
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(2)]
    stop = threading.Event()
    spinner = threading.Thread(target=lambda: [None for _ in iter(stop.is_set, True)])
    spinner.start()
    try:
        time.sleep(0.3)
        assert cores.busy_elsewhere(samples=5) >= before + 1.5  # the hogs, as others' work
        assert cores.busy_elsewhere(samples=5, ours=[h.pid for h in hogs]) <= before + 0.5
    finally:
        stop.set()
        spinner.join()
        for h in hogs:
            h.kill()
            h.wait()


def test_the_setting_overrides_and_bad_values_are_named(monkeypatch):
    import torch

    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OPTGYM_THREADS", "3")
        assert cores.free_cores() == 3
        assert cores.set_torch_threads() == 3 and torch.get_num_threads() == 3
        assert cores.set_torch_threads(2) == 2 and torch.get_num_threads() == 2  # argument wins
        monkeypatch.delenv("OPTGYM_THREADS")
        n = cores.set_torch_threads(share=64)
        assert n == 1 and torch.get_num_threads() == 1  # a 64th of this machine is one thread
    finally:
        torch.set_num_threads(before)
    for bad in ("two", "0"):
        monkeypatch.setenv("OPTGYM_THREADS", bad)
        with pytest.raises(OptgymError, match="OPTGYM_THREADS"):
            cores.free_cores()


@pytest.mark.parametrize("program", ["optgym-opt", "optgym-cc"])
def test_the_drop_ins_keep_openblas_to_one_thread_unless_told(program):
    # Its idle threads spin after each matrix product, on the cores the compiler workers need.
    script = (f"import sys; sys.argv[0] = {program!r}; import os, optgym, numpy; "
              "print(os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "1", out.stderr
    env["OPENBLAS_NUM_THREADS"] = "3"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "3", out.stderr
