"""Fault injection: the worker killed, crashed or frozen mid-pass; Ctrl-C in the parent mid-step;
a failing reset; two processes on one transposition cache; the parent dying under a benchmark
program. After each fault, the environment's results must equal a fresh environment's."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import alive, wait_gone

from optgym.agents.transpositions import Transition, TranspositionCache
from optgym.datasets._util import compile_c_to_bitcode
from optgym.envs.llvm import LlvmEnv
from optgym.errors import BenchmarkError, CacheLockedError, CompilerCrash, PassTimeout
from optgym.llvm.session import CompilerSession

#: Steps taken after a fault, compared with a fresh environment's.
AFTER = ("-mem2reg", "-instcombine", "-simplifycfg", "-gvn", "-dce")




@pytest.fixture(scope="module")
def slow_module(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real C program on which -O3 runs for about half a second: a fault can land mid-pass."""
    directory = tmp_path_factory.mktemp("slow")
    functions = "".join(
        f"""
int f{k}(int *a, int n, int m) {{
  int s = {k};
  for (int i = 0; i < n; i++)
    for (int j = 0; j < m; j++) {{
      s += a[i] * a[j] ^ (i + {k});
      if (s & {k + 1}) a[j] = s - a[i]; else s ^= a[(i + j) % n];
    }}
  for (int i = 0; i < 16; i++) s = s * 31 + a[i];
  return s;
}}"""
        for k in range(48)
    )
    source = directory / "slow.c"
    source.write_text(functions + "\nint main(void) { int a[64] = {0}; return f0(a, 64, 3) & 1; }\n")
    path = directory / "slow.bc"
    path.write_bytes(compile_c_to_bitcode(source, what="slow.c"))
    return f"file://{path}"


def _env(benchmark: str, **kwargs) -> LlvmEnv:
    return LlvmEnv(benchmark, observation_space="IrInstructionCount",
                   reward_space="IrInstructionCount", action_space="flags-pipelines-v0", **kwargs)


def _trajectory(env: LlvmEnv, flags: tuple[str, ...] = AFTER) -> list[tuple[int, float]]:
    out = []
    for flag in flags:
        obs, reward, terminated, _, info = env.step(env.actions.index(flag))
        assert not terminated, info
        out.append((int(obs), reward))
    return out


@pytest.fixture(scope="module")
def fresh(slow_module: str) -> list[tuple[int, float]]:
    """What a fresh environment gives for the steps of AFTER."""
    env = _env(slow_module)
    try:
        env.reset()
        return _trajectory(env)
    finally:
        env.close()


def _later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_worker_killed_mid_pass(slow_module, fresh, sig):
    env = _env(slow_module)
    try:
        env.reset()
        pid = env.session.pid
        _later(0.15, lambda: os.kill(pid, sig))
        _, _, terminated, _, info = env.step(env.actions.index("-O3"))
        assert terminated and type(info["error"]) is CompilerCrash
        assert signal.Signals(sig).name in str(info["error"]) and "O3" in info["error"].passes
        assert wait_gone(pid) and env.session.pid != pid
        env.reset()
        assert _trajectory(env) == fresh
    finally:
        env.close()


def test_worker_frozen_mid_pass_times_out(slow_module, fresh):
    env = _env(slow_module, timeout=1.5)
    try:
        env.reset()
        pid = env.session.pid
        _later(0.15, lambda: os.kill(pid, signal.SIGSTOP))
        start = time.monotonic()
        _, _, terminated, _, info = env.step(env.actions.index("-O3"))
        assert terminated and isinstance(info["error"], PassTimeout)
        assert time.monotonic() - start < 10
        assert wait_gone(pid) and env.session.pid != pid  # the frozen worker is killed
        env.reset()
        assert _trajectory(env) == fresh
    finally:
        env.close()


@pytest.mark.parametrize("next_request", ["step", "fork", "observe"])
def test_a_worker_killed_while_idle_is_not_blamed_on_the_next_request(slow_module, fresh,
                                                                      next_request):
    """SIGKILL between steps: the next request never reached the worker, so nothing ran and
    nothing crashed; a new worker gets it (the audit saw "LLVM crashed running
    function(simplifycfg)" for the step after the kill)."""
    env = _env(slow_module)
    try:
        env.reset()
        env.step(env.actions.index(AFTER[0]))
        pid, restarts = env.session.pid, env.session.restarts
        os.kill(pid, signal.SIGKILL)
        assert wait_gone(pid)
        if next_request == "fork":
            env.fork().close()
        elif next_request == "observe":
            assert int(env.observe("IrInstructionCount")) == fresh[0][0]
        obs, reward, terminated, _, info = env.step(env.actions.index(AFTER[1]))
        assert "error" not in info and not terminated, info
        assert (int(obs), reward) == fresh[1]
        assert env.session.pid != pid and env.session.restarts == restarts + 1
        assert _trajectory(env, AFTER[2:]) == fresh[2:]
    finally:
        env.close()


def test_a_time_out_in_any_request_names_the_module(slow_module):
    """Every request about a module names it when it fails (was "module ?" for a clone)."""
    with CompilerSession(timeout=1.0) as session:
        data = Path(slow_module.removeprefix("file://")).read_bytes()
        module = session.load(data, name="slow-program")
        os.kill(session.pid, signal.SIGSTOP)
        with pytest.raises(PassTimeout, match=r"cloning ran past the 1 s time-out on module "
                                              r"slow-program \(state") as timeout:
            module.fork()
        assert timeout.value.passes is None and "?" not in str(timeout.value)
        assert module.instruction_count() > 0  # restored in a new worker


def test_a_frozen_worker_times_out_a_request_too_large_for_the_pipe(slow_module):
    """Sending a large module to a frozen worker fills the pipe: the send, too, ends at the
    time-out (it blocked for ever: the time-out only counted the wait for the reply)."""
    data = Path(slow_module.removeprefix("file://")).read_bytes()
    big = data * 8  # trailing bytes after bitcode are ignored; what matters is the size
    assert len(big) > 1 << 18
    with CompilerSession(timeout=1.0) as session:
        pid = session.pid
        os.kill(pid, signal.SIGSTOP)
        outcome: list[BaseException] = []

        def load() -> None:
            try:
                session.load(big, name="big-module")
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome.append(exc)

        loader = threading.Thread(target=load)
        loader.start()
        loader.join(timeout=15)
        if loader.is_alive():  # unblock it before failing
            os.kill(pid, signal.SIGKILL)
            loader.join()
            pytest.fail("the send to a frozen worker never timed out")
        assert len(outcome) == 1 and isinstance(outcome[0], PassTimeout), outcome
        assert "parsing big-module ran past the 1 s time-out" in str(outcome[0])
        assert wait_gone(pid) and session.ping() != pid


class _Alarm(Exception):
    pass


def _raise_alarm(signum, frame):
    raise _Alarm


@pytest.mark.parametrize("how", ["sigint", "signal-handler-exception"])
def test_interrupt_mid_step_never_desynchronizes(slow_module, fresh, how):
    """Ctrl-C (or any exception a signal handler raises) while the worker runs a pass: the
    interrupted step is not applied, and later steps get their own replies, not its."""
    env = _env(slow_module)
    previous = signal.getsignal(signal.SIGALRM), signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a plain `python` process
    try:
        env.reset()
        obs, reward, *_ = env.step(env.actions.index(AFTER[0]))
        assert (int(obs), reward) == fresh[0]
        if how == "sigint":
            _later(0.15, lambda: os.kill(os.getpid(), signal.SIGINT))
            expected = KeyboardInterrupt
        else:
            signal.signal(signal.SIGALRM, _raise_alarm)
            signal.setitimer(signal.ITIMER_REAL, 0.15)
            expected = _Alarm
        with pytest.raises(expected):
            env.step(env.actions.index("-O3"))
        assert env.actions_taken == [env.actions[env.actions.index(AFTER[0])].pipeline]
        assert _trajectory(env, AFTER[1:]) == fresh[1:]  # the next steps get their own replies
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
        env.close()


def test_interrupt_after_the_reply_never_desynchronizes(slow_module, fresh):
    """Ctrl-C landing after the worker ran the pass and before the env recorded it (found by
    benchmarks/fuzz_envs.py: the module had a step actions_taken did not). Injected exactly
    there: the module's run returns, then the interrupt. The episode is what the module holds."""
    env = _env(slow_module)
    try:
        env.reset()
        for flag in AFTER[:2]:
            env.step(env.actions.index(flag))
        module, run = env._episode.module, env._episode.module.run

        def run_then_interrupt(*args, **kwargs):
            run(*args, **kwargs)
            raise KeyboardInterrupt

        module.run = run_then_interrupt
        with pytest.raises(KeyboardInterrupt):
            env.step(env.actions.index(AFTER[2]))
        del module.run
        # The pass ran, so the step is applied; the rest follows as in a fresh env, rewards
        # included (the interrupted step's goes to the episode, not to the next step).
        taken = [env.actions[env.actions.index(p)].flag for p in env.actions_taken]
        assert taken == list(AFTER[:3])
        assert int(env.observe("IrInstructionCount")) == fresh[2][0]
        assert _trajectory(env, AFTER[3:]) == fresh[3:]
        assert env.episode_reward == pytest.approx(sum(r for _, r in fresh))
    finally:
        env.close()


def test_failed_reset_keeps_the_previous_benchmark(tmp_path, slow_module, fresh):
    bad = tmp_path / "bad.bc"
    bad.write_bytes(b"BC\xc0\xde" + os.urandom(256))  # looks like bitcode, does not parse
    env = _env(slow_module)
    try:
        env.reset()
        with pytest.raises(BenchmarkError, match="bad.bc"):
            env.reset(options={"benchmark": f"file://{bad}"})
        env.reset(options={"benchmark": slow_module})
        assert _trajectory(env) == fresh
    finally:
        env.close()


_HOLDER = textwrap.dedent("""
    import sys, time
    from optgym.agents.transpositions import Transition, TranspositionCache
    cache = TranspositionCache(path=sys.argv[1])
    for i in range(100):  # fewer than a batch: on the old code, an open write transaction
        cache.put(f"a{i}", "pass", Transition(f"b{i}", i, True))
    print("ready", flush=True)
    sys.stdin.readline()
    cache.close()
    print("closed", flush=True)
""")


def test_two_processes_share_one_transposition_cache(tmp_path):
    path = tmp_path / "tc.sqlite"
    other = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "ready"
        mine = TranspositionCache(path=path)
        start = time.monotonic()
        for i in range(300):  # more than a batch: this process writes while the other works
            mine.put(f"c{i}", "pass", Transition(f"d{i}", i, False))
        mine.flush()
        assert time.monotonic() - start < 3  # nobody waited for the other's queued rows
        other.stdin.write("\n")
        other.stdin.flush()
        assert other.stdout.readline().strip() == "closed"
        reader = TranspositionCache(path=path)
        assert reader.get("a7", "pass") == Transition("b7", 7, True)  # the other's rows
        assert reader.get("c250", "pass") == Transition("d250", 250, False)  # mine
        mine.close()
        reader.close()
    finally:
        other.kill()
        other.wait()


def test_a_held_lock_is_a_typed_error_and_rows_are_kept(tmp_path):
    path = tmp_path / "tc.sqlite"
    cache = TranspositionCache(path=path, busy_timeout=0.2)
    cache.put("s", "a", Transition("t", 3, True))
    blocker = sqlite3.connect(str(path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    with pytest.raises(CacheLockedError, match=str(path)):
        cache.flush()
    blocker.execute("COMMIT")
    blocker.close()
    cache.flush()  # the row waited in memory and is written now
    assert TranspositionCache(path=path).get("s", "a") == Transition("t", 3, True)
    cache.close()


_RUNNER = textwrap.dedent("""
    import signal, sys
    from pathlib import Path
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    from optgym.datasets._util import build_executable, compile_c_to_bitcode, run_executable
    d = Path(sys.argv[1])
    exe = d / "spin"
    build_executable(compile_c_to_bitcode(d / "spin.c", what="spin.c"), exe, what="spin.c")
    print("built", flush=True)
    run_executable(exe, timeout=600)
""")
_SPIN = r"""
#include <stdio.h>
#include <unistd.h>
int main(void) {
  FILE *f = fopen("pid.tmp", "w");
  fprintf(f, "%d", (int)getpid());
  fclose(f);
  rename("pid.tmp", "pid");
  for (volatile unsigned long i = 0;; i++) {}
}
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_benchmark_program_dies_with_its_owner(tmp_path, sig):
    (tmp_path / "spin.c").write_text(_SPIN)
    owner = subprocess.Popen([sys.executable, "-c", _RUNNER, str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    program = None
    try:
        assert owner.stdout.readline().strip() == "built"
        pid_file = tmp_path / "pid"
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        program = int(pid_file.read_text())
        assert alive(program)
        owner.send_signal(sig)
        owner.wait(timeout=10)
        assert wait_gone(program), f"the program outlived its owner ({signal.Signals(sig).name})"
    finally:
        owner.kill()
        owner.wait()
        if program is not None and alive(program):
            os.kill(program, signal.SIGKILL)
