"""The step's fast path: the helper's pass runner, change reports, handoff modes, prestarted
workers. Real LLVM, real programs, real worker processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import wait_gone

from optgym.datasets import get_benchmark
from optgym.errors import LlvmError, OptgymError
from optgym.llvm.core import Module
from optgym.llvm.handoff import Handoff
from optgym.llvm.passes import ACTION_SETS
from optgym.llvm.session import CompilerSession
from optgym.llvm.worker import Worker

ACTIONS = ACTION_SETS["flags-pipelines-v0"]
PROGRAMS = ["benchmark://builtin-v0/crc32", "benchmark://builtin-v0/huffman",
            "generator://csmith-v0/5"]


def _same_ir(a: Module, b: Module) -> bool:
    # Modules parsed into one LLVM context get numbered copies of their struct types' names.
    def norm(ir: str) -> str:
        return re.sub(r"(%struct\.[A-Za-z_]\w*?)\.\d+\b", r"\1", ir)

    return norm(a.ir()) == norm(b.ir())


def test_the_helpers_pass_runner_is_llvm_c_s_and_its_change_reports_hold():
    rng = np.random.default_rng(7)
    reported_without_change = 0
    for uri in PROGRAMS:
        data = get_benchmark(uri).bitcode
        ours, theirs = Module.parse(data), Module.parse(data)
        for index in rng.integers(len(ACTIONS), size=25):
            pipeline = ACTIONS[int(index)].pipeline
            before = ours.step_stats()
            reported = ours.run_passes(pipeline)
            theirs.run_passes_llvm_c(pipeline)
            after = ours.step_stats()
            assert after[1] == ours.counts()  # the walk counts as optgym_counts does
            if not reported:  # a pass that says it changed nothing did not
                assert after == before, pipeline
            reported_without_change += reported and after[0] == before[0]
        assert _same_ir(ours, theirs), uri
    assert reported_without_change > 0  # so the fingerprint still has work to do


def test_no_action_changes_a_module_while_reporting_no_change(monkeypatch):
    # Every action once on two module states; the worker walks after every pass and raises
    # if a pass that reported no change changed the module.
    monkeypatch.setenv("OPTGYM_CHECK_PRESERVED", "1")
    worker = Worker()
    assert worker.check_preserved
    data = get_benchmark(PROGRAMS[0]).bitcode
    worker.load(1, data, "crc32")
    worker.run(1, "function(mem2reg)", ())
    for action in ACTIONS:
        for handle, start in ((10, None), (11, "function(sroa),function(instcombine"
                                               "<no-verify-fixpoint>)")):
            worker.clone(1, handle)
            if start:
                worker.run(handle, start, ())
            _, obs = worker.run(handle, action.pipeline, ("IrInstructionCount",))
            assert obs["IrInstructionCount"] == worker.modules[handle].instruction_count()
            worker.free(handle)
    monkeypatch.setenv("OPTGYM_CHECK_PRESERVED", "0")
    assert not Worker().check_preserved


def test_a_change_the_pass_did_not_report_is_an_error_under_the_check(monkeypatch):
    monkeypatch.setenv("OPTGYM_CHECK_PRESERVED", "1")
    worker = Worker()
    worker.load(1, get_benchmark(PROGRAMS[0]).bitcode, "crc32")
    module = worker.modules[1]
    # Change the module behind the pass manager's back, then run a pass that changes nothing.
    module.run_passes("function(mem2reg)")
    with pytest.raises(LlvmError, match="reported no change"):
        worker.run(1, "function(mem2reg)", ())


@pytest.mark.parametrize("mode", ["spin", "follow", "block", "auto"])
def test_every_handoff_mode_gives_the_same_steps(monkeypatch, mode):
    monkeypatch.setenv("OPTGYM_HANDOFF", mode)
    data = get_benchmark(PROGRAMS[1]).bitcode
    mask = os.sched_getaffinity(0)
    steps = [ACTIONS[int(i)].pipeline for i in np.random.default_rng(3).integers(
        len(ACTIONS), size=30)]
    expected = []
    module = Module.parse(data)
    for pipeline in steps:
        module.run_passes(pipeline)
        expected.append(module.instruction_count())
    with CompilerSession() as session:
        assert session.handoff.mode == mode
        handle = session.load(data, "huffman")
        got = [handle.run(p, observe=("IrInstructionCount",)).observations["IrInstructionCount"]
               for p in steps]
        assert got == expected
        assert os.sched_getaffinity(0) == mask  # the parent's own affinity is restored
        used = session.handoff.counts
        if mode == "follow" and len(mask) > 1:
            assert used["follow"] == len(steps) + 1
            assert len(os.sched_getaffinity(session.pid)) == 1  # the worker kept near us
        elif mode in ("spin", "block"):
            assert used[mode] == len(steps) + 1


def test_auto_sleeps_instead_of_spinning_while_other_processes_hold_the_cores(monkeypatch):
    # Spinning on a busy machine takes a core from the other processes and from the worker.
    cpus = len(os.sched_getaffinity(0))
    if cpus > 8:
        pytest.skip("would need a busy process per core")
    monkeypatch.setenv("OPTGYM_HANDOFF", "auto")
    hog = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(cpus)]
    try:
        time.sleep(0.3)  # until they run
        with CompilerSession() as session:
            handle = session.load(get_benchmark(PROGRAMS[0]).bitcode, "crc32")
            for i in range(20):
                handle.run(ACTIONS[i].pipeline)
            assert session.handoff.counts["spin"] == 0
            assert session.handoff.counts["block"] == 21
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def test_auto_does_not_spin_while_this_processs_own_threads_hold_the_cores(monkeypatch):
    # A learner training beside the environment wants its cores as much as anyone else does.
    import hashlib
    import threading

    cpus = len(os.sched_getaffinity(0))
    if cpus > 8:
        pytest.skip("would need a busy thread per core")
    monkeypatch.setenv("OPTGYM_HANDOFF", "auto")
    stop = threading.Event()
    data = bytes(1 << 24)

    def hash_until_stopped() -> None:  # hashlib lets go of the GIL on large buffers
        while not stop.is_set():
            hashlib.sha256(data).digest()

    busy = [threading.Thread(target=hash_until_stopped) for _ in range(cpus)]
    for t in busy:
        t.start()
    try:
        time.sleep(0.3)
        with CompilerSession() as session:
            handle = session.load(get_benchmark(PROGRAMS[0]).bitcode, "crc32")
            for i in range(20):
                handle.run(ACTIONS[i].pipeline)
            assert session.handoff.counts["spin"] == 0
    finally:
        stop.set()
        for t in busy:
            t.join()


@pytest.mark.parametrize("name", ["OPTGYM_SPIN_US", "OPTGYM_SPIN_MAX_US"])
@pytest.mark.parametrize("value", ["fast", "-5", "nan"])
def test_a_bad_spin_setting_is_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(OptgymError, match=f"{name}='{value}' must be a number of microseconds"):
        Handoff()


def test_an_unknown_handoff_mode_is_named(monkeypatch):
    monkeypatch.setenv("OPTGYM_HANDOFF", "fast")
    with pytest.raises(ValueError, match="OPTGYM_HANDOFF='fast'"):
        Handoff()


def test_a_prestarted_worker_is_adopted_and_one_never_adopted_ends_with_the_process(tmp_path):
    script = textwrap.dedent("""
        import sys
        from optgym.llvm.session import CompilerSession, prestart, _SPARES
        prestart(2)
        spares = [p.pid for p, _ in _SPARES]
        s = CompilerSession()
        assert s.pid == spares[0], (s.pid, spares)
        assert s.load(open(sys.argv[1], "rb").read(), "x").instruction_count() > 0
        print(spares[1], flush=True)
        """)
    bitcode = tmp_path / "crc32.bc"
    bitcode.write_bytes(get_benchmark(PROGRAMS[0]).bitcode)
    out = subprocess.run([sys.executable, "-c", script, str(bitcode)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert wait_gone(int(out.stdout))


def test_a_worker_serves_steps_without_loading_numpy(tmp_path):
    # numpy is a tenth of a second of every worker's start; a worker that only runs passes
    # and counts instructions (the drop-ins' searches) must not pay it.
    script = textwrap.dedent("""
        import sys
        from optgym.llvm.worker import Worker
        w = Worker()
        w.load(1, open(sys.argv[1], "rb").read(), "crc32")
        w.clone(1, 2)
        changed, obs = w.run(2, "function(mem2reg),function(instcombine<no-verify-fixpoint>)",
                             ("IrInstructionCount",))
        _, after = w.pipeline_result(1, "function(sroa)", ("IrInstructionCount",))
        assert changed and 0 < obs["IrInstructionCount"] and 0 < after["IrInstructionCount"]
        print("numpy" in sys.modules)
        """)
    bitcode = tmp_path / "crc32.bc"
    bitcode.write_bytes(get_benchmark(PROGRAMS[0]).bitcode)
    env = dict(os.environ, OPTGYM_WORKER="1")
    out = subprocess.run([sys.executable, "-c", script, str(bitcode)], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
