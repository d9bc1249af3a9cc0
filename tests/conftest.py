"""Shared fixtures: real LLVM modules (the bundled demo, csmith programs), compiler sessions,
a local static file server, and helpers that watch processes die."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# optgym-cc's build servers started by tests leave soon after the suite, not 30 s later.
os.environ.setdefault("OPTGYM_CC_SERVER_IDLE", "5")

# The tests send Ctrl-C as a terminal does. A runner that starts pytest in the background (a
# shell's `cmd &` ignores SIGINT) would pass the ignored SIGINT on to every tool they start; a
# handled SIGINT here is reset to the default in each child at exec, as under a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from optgym.llvm.cli import DEMO_IR  # noqa: E402
from optgym.llvm.session import CompilerSession
from optgym.llvm.toolchain import FRONTEND_FLAGS


def compile_c(source: Path, out: Path, *flags: str) -> bytes:
    """Compile C to bitcode the way optgym's datasets do (what clang -Oz hands its optimizer)."""
    subprocess.run(
        ["clang-19", *FRONTEND_FLAGS, "-w", *flags, str(source), "-o", str(out)],
        check=True,
    )
    return out.read_bytes()


def csmith_bitcode(seed: int, directory: Path) -> bytes:
    """Bitcode of the csmith program with this seed (csmith and clang-19 really run)."""
    source = directory / f"csmith{seed}.c"
    source.write_text(subprocess.run(  # in `directory`: csmith writes platform.info to its cwd
        ["csmith", "--seed", str(seed)], capture_output=True, text=True, check=True, cwd=directory
    ).stdout)
    return compile_c(source, directory / f"csmith{seed}.bc", "-I/usr/include/csmith")


@pytest.fixture(scope="session")
def demo_ir() -> bytes:
    return DEMO_IR.read_bytes()


@pytest.fixture(scope="session")
def csmith_modules(tmp_path_factory: pytest.TempPathFactory) -> dict[int, bytes]:
    """Three csmith programs; seed 1 makes `instcombine` with fixpoint checking abort LLVM."""
    directory = tmp_path_factory.mktemp("csmith")
    return {seed: csmith_bitcode(seed, directory) for seed in (1, 3, 5)}


@pytest.fixture(scope="module")
def session():
    with CompilerSession() as s:
        yield s


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A quiet static file server on an ephemeral 127.0.0.1 port; yields (base URL, dir)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a zombie still answers kill(0))."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    """Wait up to ``seconds`` for a process to be gone; whether it went."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False
