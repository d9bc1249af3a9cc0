"""optgym-cc's build server: started by the first compile step, reused by the next, private to
the user, gone when the build is idle; a hung or killed server means clang's object ships and
the build goes on."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from optgym import ccserver
from optgym.datasets import get_benchmark
from optgym.llvm.core import elf_text_size

OPTGYM_CC = str(Path(sys.executable).parent / "optgym-cc")


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings that give this test a server of its own (any OPTGYM_ setting keys the server)."""
    tag = uuid.uuid4().hex[:8]
    monkeypatch.setenv("OPTGYM_TEST_SERVER_TAG", tag)
    env = dict(os.environ, OPTGYM_TEST_SERVER_TAG=tag, OPTGYM_CC_SERVER_IDLE="3",
               OPTGYM_CC_POLICY="oz", OPTGYM_CC_BUDGET="2", OPTGYM_CC_VERBOSE="1")
    yield env
    _stop(ccserver.socket_path())


def _server_pid(path: Path) -> int | None:
    """The pid of the process listening on ``path`` (from the kernel), or None."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[0]
    except OSError:
        return None
    finally:
        conn.close()


def _stop(path: Path) -> None:
    pid = _server_pid(path)
    if pid:
        os.kill(pid, signal.SIGKILL)


def _compile(tmp_path: Path, env: dict[str, str], name: str = "crc32") -> tuple[
        subprocess.CompletedProcess[str], Path]:
    source = get_benchmark(f"benchmark://builtin-v0/{name}").source_path
    obj = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}.o"
    proc = subprocess.run([OPTGYM_CC, "-Oz", "-c", str(source), "-o", str(obj)],
                          capture_output=True, text=True, env=env, timeout=300)
    return proc, obj


def test_one_server_serves_the_build_and_leaves_when_idle(settings, tmp_path: Path) -> None:
    path = ccserver.socket_path()
    assert _server_pid(path) is None
    first, _ = _compile(tmp_path, settings)
    assert first.returncode == 0, first.stderr
    pid = _server_pid(path)
    assert pid is not None
    second, obj = _compile(tmp_path, settings, "json_lite")
    assert second.returncode == 0, second.stderr
    assert _server_pid(path) == pid  # the same warm server answered
    assert elf_text_size(obj.read_bytes()) > 0
    # Private: the directory is the user's alone, and the socket too.
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    # Idle for OPTGYM_CC_SERVER_IDLE seconds: the server and its compiler workers exit.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (path.exists() or _alive(pid)):
        time.sleep(0.2)
    assert not path.exists() and not _alive(pid)


def test_a_killed_or_hung_server_never_fails_the_build(settings, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A server that outlives the hang: with the fixture's 3 s it could exit on its own, idle
    # while stopped, before it is killed (seen on a loaded machine), and leave no socket.
    settings = dict(settings, OPTGYM_CC_SERVER_IDLE="120")
    monkeypatch.setenv("OPTGYM_CC_SERVER_IDLE", "120")
    path = ccserver.socket_path()
    assert _compile(tmp_path, settings)[0].returncode == 0
    pid = _server_pid(path)
    # Hung: the compile step waits OPTGYM_CC_SERVER_TIMEOUT, then ships clang's object.
    os.kill(pid, signal.SIGSTOP)
    try:
        hung, obj = _compile(tmp_path, dict(settings, OPTGYM_CC_SERVER_TIMEOUT="3"))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert hung.returncode == 0 and "using clang -Oz's object" in hung.stderr
    reference = tmp_path / "clang.o"
    source = get_benchmark("benchmark://builtin-v0/crc32").source_path
    subprocess.run(["clang-19", "-Oz", "-c", str(source), "-o", str(reference)], check=True)
    assert obj.read_bytes() == reference.read_bytes()
    # Killed: its socket is left behind; the next step starts a new server and is served.
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid)
    assert path.exists()
    again, _ = _compile(tmp_path, settings)
    assert again.returncode == 0 and "using clang" not in again.stderr, again.stderr
    assert _server_pid(path) not in (None, pid)


def test_in_process_mode_needs_no_server(settings, tmp_path: Path) -> None:
    proc, obj = _compile(tmp_path, dict(settings, OPTGYM_CC_SERVER="0"))
    assert proc.returncode == 0, proc.stderr
    assert _server_pid(ccserver.socket_path()) is None
    assert elf_text_size(obj.read_bytes()) > 0


def test_other_settings_get_another_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTGYM_TEST_SERVER_TAG", "a")
    a = ccserver.socket_path()
    monkeypatch.setenv("OPTGYM_CC_BUDGET", "7")  # read per request: the same server
    assert ccserver.socket_path() == a
    monkeypatch.setenv("OPTGYM_TEST_SERVER_TAG", "b")
    assert ccserver.socket_path() != a


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie answers kill(0) too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
