"""Bad input and bounded resources: corrupted cache entries, the cache's size bound, result-file
caps, submissions naming passes outside the action space, optgym-opt's time cap and output
checks, and the environment's refusal of non-integer actions and empty benchmark names."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_gone

from optgym import cache as cache_mod
from optgym.agents import Budget
from optgym.cli import main as optgym_main
from optgym.datasets import get_benchmark
from optgym.envs.llvm import CompilerEnvState, LlvmEnv
from optgym.errors import BenchmarkError, LimitExceeded, OptgymError
from optgym.leaderboard.results import read_results
from optgym.leaderboard.tasks import Task, register_task
from optgym.leaderboard.validate import validate_states

OPTGYM_OPT = str(Path(sys.executable).parent / "optgym-opt")
ONE = register_task(Task(
    name="test-one-ic-v0", description="one small builtin program (tests only)",
    dataset="builtin-v0", benchmarks=("crc32",), reward="IrInstructionCountOz",
    budget=Budget(seconds=30),
), replace=True)
CRC32 = "benchmark://builtin-v0/crc32"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("OPTGYM_CACHE", str(root))
    monkeypatch.setattr(cache_mod, "_last_eviction", [0.0])
    return root


# -- 9: a corrupted cache entry is treated as missing and rebuilt -------------------------------
@pytest.fixture(scope="module")
def _own_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("own-cache")


@pytest.fixture
def own_cache(_own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache only this module's tests write (the native helper is built in it once)."""
    monkeypatch.setenv("OPTGYM_CACHE", str(_own_cache))
    return _own_cache


@pytest.mark.parametrize("garbage", [b"{not json", b'{"IrInstructionCountOz": "many"}', b"[1]"])
def test_corrupted_baselines_are_rebuilt(own_cache, garbage):
    cache = own_cache
    with LlvmEnv(CRC32, observation_space=None) as env:
        env.reset()
        good = env.step(env.actions.index("-mem2reg"))[1]
    [entry] = list(cache.glob("llvm*-baselines-v*/*.json"))
    entry.write_bytes(garbage)
    with LlvmEnv(CRC32, observation_space=None) as env:
        env.reset()
        assert env.step(env.actions.index("-mem2reg"))[1] == good
    assert isinstance(json.loads(entry.read_text())["IrInstructionCountOz"], int)


def test_corrupted_bitcode_entries_are_rebuilt(own_cache):
    cache = own_cache
    builtin = get_benchmark(CRC32)
    expected = builtin.bitcode
    builtin.cache_path.write_bytes(b"garbage, not bitcode")
    assert get_benchmark(CRC32)._load_bitcode() == expected
    stress = get_benchmark("generator://llvm-stress-v0/7")
    data = stress.bitcode
    [entry] = list(cache.glob("llvm*-v*/llvm-stress-v0/7-*.bc"))
    entry.write_bytes(data[: len(data) // 3][:3])  # truncated to less than the magic number
    assert get_benchmark("generator://llvm-stress-v0/7")._load_bitcode() == data


# -- 8: the cache is bounded, least recently used first ------------------------------------------
def _entry(path: Path, size: int, age: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_cache_evicts_least_recently_used_and_keeps_what_cannot_be_rebuilt(cache, monkeypatch):
    d = cache / "llvm19-v1"
    oldest = _entry(d / "csmith-v0" / "1.bc", 4000, 3000)
    old = _entry(d / "files" / "a.bc", 4000, 2000)
    recent = _entry(cache / "llvm19-baselines-v1" / "b.json", 4000, 1000)
    fresh = _entry(d / "builtin-v0" / "c.bc", 4000, 1)  # just written: in use
    writing = _entry(d / "files" / ".d.bc.x1.tmp", 4000, 1)  # a writer mid-write
    dead_writer = _entry(d / "files" / ".e.bc.x2.tmp", 4000, 2 * 3600)
    download = _entry(d / "downloads" / "cbench-v1" / "x.bc", 50_000, 9000)
    store = _entry(cache / "leaderboard.sqlite", 50_000, 9000)
    monkeypatch.setenv("OPTGYM_CACHE_MAX_BYTES", "10000")
    cache_mod.atomic_write(d / "llvm-stress-v0" / "new.bc", b"y" * 1000)  # triggers eviction
    assert not oldest.exists() and not old.exists() and not dead_writer.exists()
    assert recent.exists() and fresh.exists() and writing.exists()
    assert download.exists() and store.exists()
    assert (d / "llvm-stress-v0" / "new.bc").exists()


def test_cache_evicts_once_a_minute_across_processes(cache, monkeypatch):
    """A drop-in is a short process: the minute between scans is the machine's (a stamp in
    the cache root), not each process's, so a build's hundreds of them scan once a minute."""
    d = cache / "llvm19-v1"
    monkeypatch.setenv("OPTGYM_CACHE_MAX_BYTES", "10000")
    cache_mod.atomic_write(d / "files" / "first.bc", b"x")  # scans, and stamps
    assert (cache / ".last-eviction").exists()
    old = _entry(d / "csmith-v0" / "1.bc", 40_000, 3000)
    monkeypatch.setattr(cache_mod, "_last_eviction", [0.0])  # as a new process
    cache_mod.atomic_write(d / "files" / "second.bc", b"y")
    assert old.exists()  # within the minute: no scan
    os.utime(cache / ".last-eviction", (time.time() - 120, time.time() - 120))
    monkeypatch.setattr(cache_mod, "_last_eviction", [0.0])
    cache_mod.atomic_write(d / "files" / "third.bc", b"z")
    assert not old.exists()


def test_cache_cli_info_evict_clear(cache, capsys):
    d = cache / "llvm19-v1"
    _entry(d / "csmith-v0" / "1.bc", 3000, 5000)
    _entry(d / "files" / "a.bc", 3000, 100)
    download = _entry(d / "downloads" / "cbench-v1" / "x.bc", 5000, 9000)
    assert optgym_main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert str(cache) in out and "llvm19-v1/csmith-v0" in out and "rebuildable 5.9 KiB" in out
    assert optgym_main(["cache", "evict", "--max-bytes", "4K"]) == 0
    assert "evicted 1 files" in capsys.readouterr().out
    assert not (d / "csmith-v0" / "1.bc").exists() and (d / "files" / "a.bc").exists()
    assert optgym_main(["cache", "clear"]) == 0
    assert not (d / "files" / "a.bc").exists() and download.exists()
    assert optgym_main(["cache", "evict", "--max-bytes", "lots"]) == 2


# -- 6 and 7: result files are bounded; only the task's passes are replayed ----------------------
def _csv(path: Path, rows: list[tuple]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CompilerEnvState.CSV_HEADER)
        writer.writerows(rows)
    return path


def test_result_files_are_capped(tmp_path, monkeypatch):
    rows = [(f"benchmark://builtin-v0/x{i}", "0.0", "1.0", "opt-19 input.bc -o output.bc")
            for i in range(500)]
    path = _csv(tmp_path / "big.csv", rows)
    read_results(path, require_header=False)  # within the defaults
    monkeypatch.setenv("OPTGYM_MAX_RESULT_ROWS", "100")
    with pytest.raises(LimitExceeded, match="big.csv.*rows.*OPTGYM_MAX_RESULT_ROWS"):
        read_results(path, require_header=False)
    monkeypatch.setenv("OPTGYM_MAX_RESULT_BYTES", "4K")
    with pytest.raises(LimitExceeded, match="big.csv.*bytes.*OPTGYM_MAX_RESULT_BYTES"):
        read_results(path, require_header=False)


def _header(task: str = "test-one-ic-v0", **extra) -> dict:
    return {"format": "optgym-leaderboard-results-v1", "task": task, "policy": "p",
            "budget": {"seconds": 30}, **extra}


def _hostile_result_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """The audit's two small hostile files: (CSV path, the limit its refusal must name)."""
    nested = _csv(tmp_path / "nested.csv", [(CRC32, "0.0", "1.0", "opt-19 input.bc -o output.bc")])
    depth = 100_000  # 200 KB of [[[...]]]: a RecursionError in json
    header = json.dumps(_header(notes="x"))
    header_path = nested.with_suffix(".json")
    header_path.write_text(header.replace('"x"', "[" * depth + "]" * depth))
    wide = _csv(tmp_path / "wide.csv", [(CRC32, "0.0", "1.0", "opt-19 " + "x" * 200_000)])
    wide.with_suffix(".json").write_text(json.dumps(_header()))
    return {"nested": (nested, "OPTGYM_MAX_JSON_DEPTH"),
            "wide": (wide, "OPTGYM_MAX_RESULT_FIELD_BYTES")}


@pytest.mark.parametrize("kind", ["nested", "wide"])
def test_hostile_result_files_are_refused_naming_the_file_and_the_limit(tmp_path, capsys, kind):
    path, limit = _hostile_result_files(tmp_path)[kind]
    named = path.with_suffix(".json") if kind == "nested" else path
    with pytest.raises(LimitExceeded, match=re.escape(str(named)) + f".*{limit}"):
        read_results(path)
    # Both commands print one line naming the file and the limit: no traceback, nothing stored.
    assert optgym_main(["leaderboard", "validate", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert str(named) in err and limit in err and len(err.splitlines()) == 1
    store = tmp_path / "store.sqlite"
    assert optgym_main(["leaderboard", "submit", str(path), "--store", str(store),
                        "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "REFUSED" in out and str(named) in out and limit in out and len(out) < 1000


def test_result_field_and_depth_limits_are_settable(tmp_path, monkeypatch):
    nested, _ = _hostile_result_files(tmp_path)["nested"]
    _csv(tmp_path / "ok.csv", [(CRC32, "0.0", "1.0", "opt-19 " + "y" * 5000)])
    (tmp_path / "ok.json").write_text(json.dumps(_header(policy_args={"a": [[[1]]]})))
    header, states, _ = read_results(tmp_path / "ok.csv")  # within the defaults
    assert header.policy_args == {"a": [[[1]]]} and len(states[0].commandline) == 5007
    monkeypatch.setenv("OPTGYM_MAX_RESULT_FIELD_BYTES", "4K")
    with pytest.raises(LimitExceeded, match=r"ok.csv, line 2: a field.*4 KiB"):
        read_results(tmp_path / "ok.csv")
    monkeypatch.setenv("OPTGYM_MAX_RESULT_FIELD_BYTES", "0")
    monkeypatch.setenv("OPTGYM_MAX_JSON_DEPTH", "3")
    with pytest.raises(LimitExceeded, match=r"ok.json \(nested 5 deep\)"):
        read_results(tmp_path / "ok.csv")
    monkeypatch.setenv("OPTGYM_MAX_JSON_DEPTH", "0")  # off: json's own recursion guard, typed
    with pytest.raises(OptgymError, match="nested.json: not valid JSON"):
        read_results(nested)


def test_a_report_prints_a_bounded_number_of_problems():
    states = [CompilerEnvState(f"benchmark://builtin-v0/x{i}", "opt-19 input.bc -o output.bc",
                               1.0, 0.0) for i in range(300)]
    text = str(validate_states(ONE, states, progress=False))
    assert text.count("FAIL") == 51
    assert "... and 251 more problems" in text  # 300 foreign rows, and crc32 missing and "OPTGYM_MAX_REPORTED_ERRORS" in text


@pytest.mark.parametrize("commandline,why", [
    ("opt-19 -passes=function(dot-cfg) input.bc -o output.bc",
     r"step 'function\(dot-cfg\)' is not one of the \d+ actions of flags-pipelines-v0"),
    ("opt-19 -passes='function(mem2reg),invalidate<all>,print<domtree>' input.bc -o output.bc",
     "not one of the"),
    ("opt-19 -passes=no-such-pass input.bc -o output.bc", "unknown pass 'no-such-pass'"),
])
def test_validation_replays_only_the_tasks_passes(tmp_path, monkeypatch, commandline, why):
    monkeypatch.chdir(tmp_path)
    report = validate_states(ONE, [CompilerEnvState(CRC32, commandline, 1.0, 0.0)],
                             progress=False)
    assert not report.ok
    assert any(e.startswith(f"{CRC32}: ") for e in report.errors)
    assert re.search(why, "\n".join(report.errors))
    assert list(tmp_path.iterdir()) == []  # no .dot file, nothing written where it ran


def test_a_good_row_is_still_accepted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with LlvmEnv(CRC32, observation_space=None, action_space="flags-pipelines-v0") as env:
        env.reset()
        for flag in ("-mem2reg", "-instcombine", "-Oz"):
            env.step(env.actions.index(flag))
        state = env.state
    report = validate_states(ONE, [state], progress=False)
    assert report.ok, report.errors
    assert list(tmp_path.iterdir()) == []


# -- 6 and 10: optgym-opt ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def module_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("opt") / "crc32.bc"
    path.write_bytes(get_benchmark(CRC32).bitcode)
    return path


def test_optgym_opt_has_a_time_cap_and_falls_back_to_oz(module_file, monkeypatch):
    from optgym.opt import fit_budget, optimize

    small = fit_budget(Budget(compilations=60), 0.01)
    assert small.compilations == 60 and small.seconds == pytest.approx(119.96)
    assert fit_budget(Budget(compilations=60), 10.0) == Budget(compilations=8, seconds=80.0)
    assert fit_budget(Budget(seconds=500), 1.0) == Budget(seconds=116.0)
    assert fit_budget(Budget(compilations=60), 20.0) is None  # -Oz alone
    monkeypatch.setenv("OPTGYM_OPT_MAX_SECONDS", "0.001")
    output, choice = optimize(module_file.read_bytes(), str(module_file))
    assert choice.pipeline == "default<Oz>" and choice.compilations == 0
    assert "too large" in choice.policy
    monkeypatch.setenv("OPTGYM_OPT_MAX_SECONDS", "0")
    assert fit_budget(Budget(compilations=60), 1000.0) == Budget(compilations=60)


def _opt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([OPTGYM_OPT, "--budget", "3", *args], capture_output=True, text=True,
                          timeout=120)


def test_optgym_opt_checks_the_output_path_before_searching(module_file, tmp_path):
    missing = tmp_path / "missing" / "dir" / "o.bc"
    proc = _opt(str(module_file), "-o", str(missing))
    assert proc.returncode == 1 and str(missing) in proc.stderr and "does not exist" in proc.stderr
    assert not (tmp_path / "missing").exists()
    under_file = tmp_path / "real.bc"
    under_file.write_bytes(b"")
    proc = _opt(str(module_file), "-o", str(under_file / "x.bc"))
    assert proc.returncode == 1 and "is not a directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_optgym_opt_handles_empty_input_like_opt(tmp_path):
    empty = tmp_path / "empty.ll"
    empty.write_text("")
    out = tmp_path / "out.ll"
    proc = _opt(str(empty), "-S", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run(["opt-19", "-S", str(empty), "-o", "-"], capture_output=True,
                          check=True).returncode == 0
    assert "ModuleID" in out.read_text()


# -- 10: actions and benchmark names -----------------------------------------------------------
@pytest.fixture(scope="module")
def env():
    with LlvmEnv(CRC32, observation_space=None) as e:
        e.reset()
        yield e


@pytest.mark.parametrize("action", [float("inf"), 1.0, True, np.bool_(True), "1", None, -1, 10**6])
def test_non_integer_actions_are_value_errors(env, action):
    with pytest.raises(ValueError, match="action"):
        env.step(action)
    assert env.actions_taken == []


def test_integer_like_actions_are_accepted(env):
    for action in (np.int64(1), np.array(1), np.array([1])):
        env.step(action)
    assert len(env.actions_taken) == 3


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_benchmark_name_is_refused(env, name):
    with pytest.raises(BenchmarkError, match="empty"):
        env.reset(options={"benchmark": name})
    other = LlvmEnv(name, observation_space=None)
    try:
        with pytest.raises(BenchmarkError, match="empty"):
            other.reset()
    finally:
        other.close()


# -- interrupts: Ctrl-C and SIGTERM at any moment, in optgym-opt and optgym-cc --------------------
OPTGYM_CC = str(Path(sys.executable).parent / "optgym-cc")
PROGRAMS = Path(__file__).parent.parent / "optgym" / "datasets" / "builtin" / "programs"


def _processes() -> Iterator[tuple[int, list[str]]]:
    """Each live process's pid and the fields of its /proc stat after the command name (state,
    parent, process group, ...)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                yield int(entry), Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue


def _group(pgid: int) -> list[int]:
    """Live processes of a process group (the tool, its compiler worker, its opt-19 or clang)."""
    return [pid for pid, fields in _processes() if int(fields[2]) == pgid and fields[0] != "Z"]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _interrupted(argv: list[str], tmp: Path, moment: float, sig: int, ignore_sigint: bool,
                 after_worker: bool, env: dict[str, str] | None = None,
                 own_files: str = "") -> subprocess.CompletedProcess:
    """Run a tool in its own process group and temporary directory, send ``sig`` to the whole
    group (as a terminal's Ctrl-C, `timeout` or `make` do) ``moment`` seconds after it starts
    (or after it has a child: its compiler worker, or clang), and check that nothing of it is
    left running, and none of its temporary files (those starting with ``own_files``)."""
    def child() -> None:
        if ignore_sigint:  # what a shell does for a background job
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    tmp.mkdir()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=child,
                            env={**(env or os.environ), "TMPDIR": str(tmp)})
    try:
        # From when the tool runs: a signal between fork and exec is lost with the child's
        # copy of this process (no Ctrl-C can come before the tool exists).
        tool = os.fsencode(Path(argv[0]).name)
        while tool not in _cmdline(proc.pid) and proc.poll() is None:
            time.sleep(0.001)
        if after_worker:
            while len(_group(proc.pid)) < 2 and proc.poll() is None:
                time.sleep(0.01)
        time.sleep(moment)
        try:  # what the tool blocks and ignores, for a failure's message
            masks = [line for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                     if line.startswith(("SigBlk", "SigIgn"))]
        except OSError:
            masks = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 5
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group(proc.pid) == [], "a process of the tool outlived it"
    left = [p.name for p in tmp.iterdir() if p.name.startswith(own_files)]
    assert left == [], "temporary files left behind"
    return subprocess.CompletedProcess(argv, proc.returncode, masks,
                                       err.decode("utf-8", "replace"))


@pytest.mark.slow
@pytest.mark.parametrize("sig,ignore_sigint", [(signal.SIGINT, True), (signal.SIGINT, False),
                                               (signal.SIGTERM, False)],
                         ids=["sigint-inherited-ignored", "sigint", "sigterm"])
def test_optgym_opt_interrupted_at_any_moment_writes_nothing(module_file, tmp_path, sig,
                                                            ignore_sigint):
    argv = [OPTGYM_OPT, "--policy", "oz-climb", "--budget", "6", str(module_file)]
    start = time.monotonic()
    whole = subprocess.run([*argv, "-o", str(tmp_path / "whole.bc")], capture_output=True,
                           timeout=120)
    assert whole.returncode == 0, whole.stderr
    seconds = time.monotonic() - start
    # From right after the compiler worker starts (optgym-opt's own code is running; a SIGINT
    # the shell told Python to ignore is not seen before that) to the end, where opt-19 runs.
    for i, fraction in enumerate((0.0, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85)):
        out = tmp_path / f"out{i}.bc"
        done = _interrupted([*argv, "-o", str(out)], tmp_path / f"tmp{i}", fraction * seconds,
                            sig, ignore_sigint, after_worker=True)
        if done.returncode == 0 and fraction > 0.3:  # finished first: the output is whole
            assert out.read_bytes() == (tmp_path / "whole.bc").read_bytes()
            continue
        assert done.returncode == 128 + sig, (fraction, done.returncode, done.stderr)
        assert not out.exists() and "Traceback" not in done.stderr


@pytest.mark.slow
def test_optgym_opt_interrupted_during_start_up_writes_nothing(module_file, tmp_path):
    argv = [OPTGYM_OPT, "--policy", "oz-climb", "--budget", "6", str(module_file)]
    for i, moment in enumerate((0.0, 0.05, 0.2, 0.5)):
        out = tmp_path / f"out{i}.bc"
        done = _interrupted([*argv, "-o", str(out)], tmp_path / f"tmp{i}", moment,
                            signal.SIGINT, False, after_worker=False)
        # Before optgym-opt's own code runs, Python's default handling ends it: status 1 in
        # its own start-up, killed by SIGINT (the shell's 130) in the imports; then 130.
        assert done.returncode in (1, 130, -signal.SIGINT) and not out.exists(), \
            (done.returncode, done.stdout, done.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("server", ["0", "1"], ids=["in-process", "build-server"])
def test_optgym_cc_terminated_at_any_moment_leaves_nothing(tmp_path, monkeypatch, server):
    from optgym import ccserver

    source = PROGRAMS / "crc32.c"
    argv = [OPTGYM_CC, "-Oz", "-c", str(source)]
    # A build server of this test's own (every OPTGYM_ setting keys the server).
    monkeypatch.setenv("OPTGYM_TEST_SERVER_TAG", f"{os.getpid()}-{time.monotonic_ns()}")
    env = {**os.environ, "OPTGYM_CC_SERVER": server, "OPTGYM_CC_SERVER_IDLE": "2"}
    for i, moment in enumerate((0.0, 0.3, 0.8, 1.5, 2.5)):
        out = tmp_path / f"crc{i}.o"
        # The build server, in its own session, outlives a compile step by design (until the
        # build is idle): the compile step's own folders (optgym-cc-*) must not.
        done = _interrupted([*argv, "-o", str(out)], tmp_path / f"tmp{i}", moment,
                            signal.SIGTERM, False, after_worker=True, env=env,
                            own_files="optgym-cc-" if server == "1" else "")
        if done.returncode == 0 and moment > 1.0:  # finished first: the object is whole
            assert out.stat().st_size > 0
            continue
        assert done.returncode == 128 + signal.SIGTERM, done.stderr
        assert not out.exists() and "Traceback" not in done.stderr
    if server == "1":  # the server would go by itself 2 s after its last request
        with contextlib.suppress(OSError), \
                socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(ccserver.socket_path()))
            pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                      struct.calcsize("3i")))[0]
            os.kill(pid, signal.SIGKILL)


def test_runtime_folders_of_a_killed_process_are_removed_by_the_next_run(tmp_path):
    """SIGKILL cannot be handled: the `Runtime` observation's folder stays until the next run
    of a benchmark program removes it (its owner's lock is gone with the owner)."""
    code = textwrap.dedent(f"""
        from optgym.envs.llvm import LlvmEnv
        with LlvmEnv({CRC32!r}, observation_space="Runtime") as env:
            env.reset()
            print("running", flush=True)
            while True:
                env.observe("Runtime")
    """)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"running\n"
        while not list(tmp.glob("optgym-run-*")):
            assert proc.poll() is None
            time.sleep(0.01)
        proc.kill()
    finally:
        proc.kill()
        proc.wait()
    left = list(tmp.glob("optgym-run-*"))
    assert left  # what a SIGKILL leaves
    time.sleep(2.1)  # a lock file younger than 2 s may belong to a process about to lock it
    other = tmp / "optgym-run-other"
    other.mkdir()  # a folder without a lock file, recent: not ours to judge
    subprocess.run([sys.executable, "-c", "from optgym.datasets import get_benchmark\n"
                    f"get_benchmark({CRC32!r}).run()"], env=env, check=True, timeout=120)
    assert [p.name for p in tmp.iterdir()] == ["optgym-run-other"]


# -- optgym-opt: the time cap covers every phase; file names are bytes; FIFOs -------------------
def _plain_oz(path: Path, *args: str) -> bytes:
    return subprocess.run(["opt-19", "--relocation-model=pic", "-passes=default<Oz>", str(path),
                           "-o", "-", *args], capture_output=True, check=True).stdout


def _worker_of(pid: int) -> int | None:
    for child, fields in _processes():
        if int(fields[1]) == pid and "optgym.llvm.worker" in Path(
                f"/proc/{child}/cmdline").read_text(errors="replace"):
            return child
    return None


@pytest.mark.parametrize("stop_after", [0.0, 0.6], ids=["loading", "searching"])
def test_the_time_cap_holds_in_every_phase_and_falls_back_to_plain_oz(module_file, tmp_path,
                                                                      stop_after):
    """The compiler worker is frozen (SIGSTOP) while it loads the module, or mid-search: any
    phase that stalls past OPTGYM_OPT_MAX_SECONDS ends there, and the output is plain opt-19
    -Oz's (main waited for its internal 60 s time-out and then exited 1 with no output)."""
    out = tmp_path / "out.bc"
    proc = subprocess.Popen([OPTGYM_OPT, "--policy", "oz-climb", "--budget", "2000",
                             str(module_file), "-o", str(out)], stderr=subprocess.PIPE,
                            env={**os.environ, "OPTGYM_OPT_MAX_SECONDS": "4"})
    start = time.monotonic()
    try:
        while (worker := _worker_of(proc.pid)) is None:
            assert proc.poll() is None
            time.sleep(0.005)
        time.sleep(stop_after)
        os.kill(worker, signal.SIGSTOP)
        _, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
        proc.wait()
    took = time.monotonic() - start
    assert proc.returncode == 0, err
    assert f"{module_file}: the search did not finish within OPTGYM_OPT_MAX_SECONDS=4 s" in \
        err.decode()
    assert out.read_bytes() == _plain_oz(module_file)
    assert took < 4 + 15, took  # the cap, then plain opt-19 -Oz (main: 60 s, then exit 1)
    assert wait_gone(worker)  # the frozen worker was killed


def test_a_non_utf8_file_name_works_as_in_opt(module_file, tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9-\xff.bc"
    with open(name, "wb") as f:
        f.write(module_file.read_bytes())
    out = os.fsencode(tmp_path) + b"/out-\xe9.ll"
    proc = subprocess.run([os.fsencode(OPTGYM_OPT), b"--budget", b"3", name, b"-S", b"-o", out],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr  # main: an internal UnicodeEncodeError
    with open(out, "rb") as f:
        text = f.read()
    assert text.startswith(b"; ModuleID = '" + name + b"'")  # the OS's bytes, as opt-19 writes
    assert subprocess.run(["opt-19", name, "-disable-output"]).returncode == 0


def test_a_fifo_is_read_by_optgym_opt_and_refused_by_reset(module_file, tmp_path):
    fifo = tmp_path / "module.bc"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as f:
            f.write(module_file.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    # opt-19 reads a FIFO (a shell's <(...)): so does optgym-opt, once (main read it twice and
    # waited for a second writer forever).
    proc = subprocess.run([OPTGYM_OPT, "--budget", "3", str(fifo), "-o", str(tmp_path / "o.bc")],
                          capture_output=True, timeout=120)
    writer.join()
    assert proc.returncode == 0, proc.stderr
    # An environment does not block on it: it says what the file is, as archives do.
    with LlvmEnv(observation_space=None) as env:
        with pytest.raises(BenchmarkError, match=f"{fifo} is a FIFO; only regular files"):
            env.reset(options={"benchmark": f"file://{fifo}"})


def test_signal_handling_honours_nohup_and_a_background_sigint():
    """The tools' handlers: SIGINT is honoured even when inherited ignored (as opt-19 does);
    a SIGHUP ignored by nohup stays ignored; everything comes back as it was afterwards."""
    from optgym import interrupts

    before = {s: signal.getsignal(s) for s in interrupts.SIGNALS}
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        with interrupts.handled():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            with pytest.raises(interrupts.Terminated) as stopped:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            assert interrupts.exit_code(stopped.value) == 143
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        with interrupts.handled(), pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


@pytest.mark.parametrize("tool", ["optgym.opt", "optgym.cc"])
def test_a_signal_turned_into_an_import_error_still_exits_as_the_signal(tool, monkeypatch):
    """SIGTERM landing inside numpy's C import comes out as an ImportError (seen in CI): the
    drop-in exits 128 + 15 as for any SIGTERM, with no traceback."""
    import importlib

    module = importlib.import_module(tool)

    def interrupted_import(*_args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        except BaseException:  # what numpy's import does with the exception
            raise ImportError("PyCapsule_Import could not import module 'datetime'") from None
        return 0

    monkeypatch.setattr(module, "_main", interrupted_import)
    assert module.main(["x.bc"]) == 128 + signal.SIGTERM
