"""The build server behind ``optgym-cc``: one warm process per build that chooses passes for
every file, so Python, the policy's model and the compiler workers start once per build, not
once per file (as compiler caches such as ccache and sccache keep one server per build).

The first ``optgym-cc`` of a build starts the server; later ones connect to it. It listens on a
Unix socket inside the optgym cache (``<cache>/run/``, a directory only the user can enter),
answers only processes of the same user (checked with ``SO_PEERCRED``), and exits after
``OPTGYM_CC_SERVER_IDLE`` seconds (default 30) without a request, so it never outlives the
build by more than that. Its socket name is a hash of the Python, the optgym sources and the
``OPTGYM_*`` settings that change results, so an edited install or another setting gets a
fresh server instead of a stale one. Each request runs on one of the server's workers
(``OPTGYM_CC_SERVER_JOBS``, default the CPU count), each with its own compiler worker process
and policies.

A client that cannot reach a server, or whose server crashes, hangs past the request's deadline
or answers with an error, gets ``None`` back and ships clang's own object: a server problem never
fails a build. ``OPTGYM_CC_SERVER=0`` makes optgym-cc choose passes in its own process instead.

This module's client half imports nothing heavy: a compile step that reaches a running server
pays for a Python start and a few standard-library modules only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Seconds without a request after which the server exits.
DEFAULT_IDLE_SECONDS = 30.0
#: How long a client waits for a server it started to accept connections.
START_SECONDS = 30.0
#: Settings read per request (they do not change which server answers).
_PER_REQUEST = {"OPTGYM_CC_BUDGET", "OPTGYM_CC_SECONDS", "OPTGYM_CC_POLICY",
                "OPTGYM_CC_VERBOSE", "OPTGYM_CC_UNSAFE_PASSES", "OPTGYM_CC_TIME_FACTOR",
                "OPTGYM_CC_MIN_SECONDS",
                "OPTGYM_CC_SERVER", "OPTGYM_CC_SERVER_IDLE", "OPTGYM_CC_SERVER_JOBS",
                "OPTGYM_CC_SERVER_TIMEOUT"}
_HEADER = struct.Struct("<II")  # JSON length, payload length


@dataclass
class Request:
    """One file's pass choice: its bitcode clang -Oz would optimize, and how to search."""

    bitcode: bytes
    name: str
    policy: str | None
    compilations: int | None
    seconds: float | None
    unsafe_passes: bool

    def header(self) -> dict[str, Any]:
        return {"name": self.name, "policy": self.policy, "compilations": self.compilations,
                "seconds": self.seconds, "unsafe_passes": self.unsafe_passes}


@dataclass
class Reply:
    """What the server chose: the optimized bitcode and how it was made."""

    bitcode: bytes
    pipeline: str
    codegen: tuple[str, ...]
    policy: str


# -- wire format ----------------------------------------------------------------------------------
def _send(conn: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    head = json.dumps(header).encode()
    conn.sendall(_HEADER.pack(len(head), len(payload)) + head + payload)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], bytes]:
    sizes = _read_exact(conn, _HEADER.size)
    head_size, payload_size = _HEADER.unpack(sizes)
    header = json.loads(_read_exact(conn, head_size))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header, _read_exact(conn, payload_size)


def _read_exact(conn: socket.socket, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = conn.recv(min(remaining, 1 << 20))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# -- where the server lives -----------------------------------------------------------------------
def _run_dir() -> Path:
    from optgym.cache import cache_root

    run = cache_root() / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    info = run.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        os.chmod(run, 0o700)  # ours, and private: others must not reach the socket
    return run


def server_key() -> str:
    """A hash of what makes one server's answers differ from another's: this Python, optgym's
    sources (paths and modification times) and the ``OPTGYM_*`` settings not read per request."""
    package = Path(__file__).resolve().parent
    h = hashlib.blake2b(digest_size=8)
    h.update(sys.executable.encode() + b"\0" + str(package).encode())
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".c", ".pt", ".npz", ".json", ".yaml"):
            h.update(f"{path.relative_to(package)}:{path.stat().st_mtime_ns}".encode())
    for name in sorted(os.environ):
        if name.startswith("OPTGYM_") and name not in _PER_REQUEST:
            h.update(f"{name}={os.environ[name]}".encode())
    return h.hexdigest()


def socket_path() -> Path:
    """The socket of the server for this installation and these settings."""
    return _run_dir() / f"cc-{server_key()}.sock"


# -- client ---------------------------------------------------------------------------------------
def enabled() -> bool:
    """Whether optgym-cc should use a build server (``OPTGYM_CC_SERVER=0`` turns it off)."""
    return os.environ.get("OPTGYM_CC_SERVER", "1") not in ("0", "")


def request(req: Request, deadline: float) -> Reply | None:
    """Ask the build server (starting it if none runs) to choose passes for ``req``; None when
    no server could answer within ``deadline`` seconds, so the caller ships clang's object."""
    path = socket_path()
    try:
        conn = _connect_or_start(path)
    except OSError as exc:
        _warn(f"no build server ({exc})")
        return None
    with conn:
        try:
            conn.settimeout(deadline)
            _send(conn, req.header(), req.bitcode)
            header, payload = _receive(conn)
        except (OSError, ValueError, ConnectionError) as exc:
            what = "timed out" if isinstance(exc, TimeoutError) else f"failed ({exc})"
            _warn(f"the build server {what}")
            return None
    if not header.get("ok"):
        _warn(f"the build server could not optimize {req.name}: {header.get('error')}")
        return None
    return Reply(payload, str(header["pipeline"]), tuple(header["codegen"]), str(header["policy"]))


def _warn(message: str) -> None:
    print(f"optgym-cc: {message}; using clang -Oz's object", file=sys.stderr)


def _connect(path: Path) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        raise
    return conn


def _connect_or_start(path: Path) -> socket.socket:
    """A connection to the server at ``path``; the first client starts one (under a lock, so
    parallel compile steps start only one) and waits until it listens."""
    with contextlib.suppress(OSError):
        return _connect(path)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):
            return _connect(path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a dead server's socket
        log = open(path.with_suffix(".log"), "ab")  # noqa: SIM115 - handed to the server
        with log:
            subprocess.Popen(
                [sys.executable, "-m", "optgym.ccserver", str(path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                # Its own session: a Ctrl-C meant for the build's compile step does not end the
                # server mid-request for the other steps; it ends itself when the build is idle.
                start_new_session=True, close_fds=True,
            )
        started = time.monotonic()
        while True:
            try:
                return _connect(path)
            except OSError:
                if time.monotonic() - started > START_SECONDS:
                    raise
                time.sleep(0.02)


# -- server ---------------------------------------------------------------------------------------
class Server:
    """Serves pass choices on a Unix socket until idle for ``idle`` seconds."""

    def __init__(self, path: Path, idle: float, jobs: int):
        self.path = path
        self.idle = idle
        self.jobs = jobs
        self.last_request = time.monotonic()
        self.busy = 0
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.envs: list[Any] = []  # every worker's environments, closed on the way out

    def serve(self) -> None:
        """Listen, answer requests on ``jobs`` threads, and return once idle."""
        self.listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self.listener.listen(64)
        self.listener.settimeout(1.0)
        workers = [threading.Thread(target=self._work, daemon=True) for _ in range(self.jobs)]
        for worker in workers:
            worker.start()
        try:
            while True:
                time.sleep(0.5)
                with self.lock:
                    idle = self.busy == 0 and time.monotonic() - self.last_request > self.idle
                if idle:
                    return
        finally:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # no new client connects to a server on its way out
            self.listener.close()
            for worker in workers:
                worker.join(timeout=5)
            for env in self.envs:
                env.close()  # ends the compiler workers now, not when they notice we are gone

    def _work(self) -> None:
        from optgym.envs.llvm import LlvmEnv
        from optgym.llvm.passes import FLAGS, SAFE_FLAGS

        envs: dict[bool, Any] = {}
        while True:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener closed: the server is exiting
            with self.lock:
                self.busy += 1
                self.last_request = time.monotonic()
            try:
                with conn:
                    if not _same_user(conn):
                        continue
                    header, payload = _receive(conn)
                    unsafe = bool(header.get("unsafe_passes"))
                    if unsafe not in envs:
                        envs[unsafe] = LlvmEnv(observation_space=None, honor_always_inline=True,
                                               action_space=(FLAGS if unsafe else SAFE_FLAGS).name)
                        with self.lock:
                            self.envs.append(envs[unsafe])
                    self._answer(conn, header, payload, envs[unsafe])
            except Exception as exc:  # noqa: BLE001 - one bad request must not end the server
                print(f"optgym-cc server: request failed: {exc!r}", file=sys.stderr, flush=True)
            finally:
                with self.lock:
                    self.busy -= 1
                    self.last_request = time.monotonic()

    @staticmethod
    def _answer(conn: socket.socket, header: dict[str, Any], payload: bytes, env: Any) -> None:
        from optgym.agents.base import Budget
        from optgym.opt import optimize

        try:
            budget = Budget(compilations=header.get("compilations"), seconds=header.get("seconds"))
            output, choice = optimize(payload, str(header.get("name") or "input.bc"),
                                      policy=header.get("policy"), budget=budget, env=env,
                                      objective="text", codegen=True,
                                      unsafe_passes=bool(header.get("unsafe_passes")))
        except Exception as exc:  # noqa: BLE001 - the client ships clang's object
            _send(conn, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
            return
        _send(conn, {"ok": True, "pipeline": choice.pipeline, "codegen": list(choice.codegen),
                     "policy": choice.policy}, output)


def _same_user(conn: socket.socket) -> bool:
    """Whether the connecting process is this user's (the socket is private too)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def main(argv: list[str] | None = None) -> int:
    """``python -m optgym.ccserver SOCKET``: what the first optgym-cc of a build starts."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m optgym.ccserver SOCKET (started by optgym-cc)", file=sys.stderr)
        return 2
    idle = float(os.environ.get("OPTGYM_CC_SERVER_IDLE") or DEFAULT_IDLE_SECONDS)
    jobs = int(os.environ.get("OPTGYM_CC_SERVER_JOBS") or len(os.sched_getaffinity(0)))
    Server(Path(args[0]), idle, max(1, jobs)).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
