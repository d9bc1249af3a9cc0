"""The compiler worker: requests, fork, and what happens when LLVM crashes, hangs or gets garbage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import alive, wait_gone

from optgym.errors import CompilerCrash, ParseError, PassTimeout, PipelineError
from optgym.llvm.session import CompilerSession

CRASHING = "function(sroa),function(instcombine)"  # fixpoint verification aborts on csmith seed 1




def test_run_and_observe(session, demo_ir):
    module = session.load(demo_ir, "demo")
    before = module.instruction_count()
    result = module.run("function(mem2reg)", observe=("IrInstructionCount", "Autophase"))
    assert result.changed
    assert result.observations["IrInstructionCount"] < before
    assert result.observations["Autophase"].shape == (56,)
    assert module.pipelines == ("function(mem2reg)",)
    assert not module.run("function(mem2reg)").changed


def test_fork_is_independent(session, demo_ir):
    module = session.load(demo_ir, "demo")
    child = module.fork()
    child.run("default<Oz>")
    assert child.instruction_count() < module.instruction_count()
    assert child.pipelines == ("default<Oz>",) and module.pipelines == ()
    assert "default<Oz>" not in module.try_pipeline("default<Oz>", ("Ir",))["Ir"]
    assert module.pipelines == ()


def test_crash_raises_typed_error_and_restores_state(csmith_modules):
    with CompilerSession() as session:
        module = session.load(csmith_modules[1], "csmith-1")
        other = session.load(csmith_modules[3], "csmith-3")
        module.run("function(mem2reg)")
        count, other_count, pid = module.instruction_count(), other.instruction_count(), session.pid
        state = module._recipe.digest()
        with pytest.raises(CompilerCrash) as info:
            module.run(CRASHING)
        assert info.value.passes == CRASHING
        # The module is named by a hash of its state (input bytes + pipelines applied).
        assert info.value.module_hash == state and state in str(info.value)
        assert len(state) == 16 and int(state, 16) >= 0
        assert "csmith-1" in str(info.value) and "instcombine" in str(info.value)
        assert "fixpoint" in str(info.value)  # LLVM's own last words reach the user
        assert session.pid != pid and wait_gone(pid)
        # Both modules are back as they were before the crashing request.
        assert module.instruction_count() == count
        assert other.instruction_count() == other_count
        assert module.pipelines == ("function(mem2reg)",)
        module.run("function(instcombine<no-verify-fixpoint>)")
        assert module.instruction_count() < count


def test_timeout_kills_and_restarts(csmith_modules):
    with CompilerSession(timeout=0.005) as session:
        session.timeout = 60
        module = session.load(csmith_modules[5], "csmith-5")
        session.timeout = 0.005
        pid = session.pid
        with pytest.raises(PassTimeout, match="time-out"):
            # Far longer than the time-out, so that this process being descheduled for a few
            # milliseconds on a busy machine cannot let the reply in first.
            module.run(",".join(["default<O3>"] * 8))
        assert wait_gone(pid)
        session.timeout = 60
        assert module.pipelines == ()
        assert module.run("default<O3>").changed


@pytest.mark.parametrize(
    "data",
    [b"", os.urandom(4096), b"BC\xc0\xde" + os.urandom(64), b"define i32 @f( {"],
    ids=["empty", "random", "bitcode-magic-then-garbage", "bad-text"],
)
def test_garbage_input_is_a_parse_error_and_session_survives(session, demo_ir, data):
    with pytest.raises((ParseError, CompilerCrash)) as info:
        session.load(data, "junk.bc")
    assert "junk.bc" in str(info.value)
    assert session.load(demo_ir, "demo").instruction_count() > 0


def test_truncated_bitcode(session, csmith_modules):
    data = csmith_modules[3]
    with pytest.raises((ParseError, CompilerCrash), match="truncated.bc"):
        session.load(data[: len(data) // 2], "truncated.bc")
    assert session.ping() == session.pid


def test_bad_pipeline_is_typed_and_leaves_module_alone(session, demo_ir):
    module = session.load(demo_ir, "demo")
    with pytest.raises(PipelineError, match="bogus"):
        module.run("bogus")
    assert module.pipelines == ()


def test_close_and_gc_end_the_worker(demo_ir):
    session = CompilerSession()
    pid = session.pid
    session.close()
    assert wait_gone(pid)
    session = CompilerSession()
    pid = session.pid
    del session
    assert wait_gone(pid)


def _child_with_session(code: str) -> tuple[subprocess.Popen, int]:
    script = textwrap.dedent(
        """
        import sys, time
        from optgym.llvm.session import CompilerSession
        s = CompilerSession()
        print(s.pid, flush=True)
        """
    ) + textwrap.dedent(code)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def test_parent_death_ends_the_worker():
    proc, worker = _child_with_session("time.sleep(60)")
    assert alive(worker)
    proc.kill()
    proc.wait()
    assert wait_gone(worker)


def test_ctrl_c_ends_the_worker():
    proc, worker = _child_with_session("time.sleep(60)")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    assert wait_gone(worker)


def test_exit_without_close_ends_the_worker():
    proc, worker = _child_with_session("sys.exit(0)")
    proc.wait(timeout=10)
    assert wait_gone(worker)
