"""Plumbing shared by the datasets: the cache directory, atomic writes, the LLVM 19 tools,
compiling C to bitcode, building and running executables, splits and instruction counts.

Everything here shells out to Debian's LLVM 19 tools. That is deliberate: the datasets
part must work before (and independently of) the in-process binding in ``optgym.llvm``,
and compiling C or linking executables is subprocess work in any case.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from optgym.cache import atomic_write
from optgym.cache import cache_root as optgym_cache_root
from optgym.errors import BenchmarkError, ToolchainError

#: The LLVM major version every cached artefact belongs to.
LLVM_VERSION = 19
#: Bumped whenever the layout or content of cached files changes, so old caches are ignored.
CACHE_FORMAT_VERSION = 1

#: Flags that turn one C file into unoptimized bitcode that passes can still optimize
#: (``-O0`` alone would mark every function ``optnone``).
O0_FLAGS: tuple[str, ...] = ("-O0", "-Xclang", "-disable-O0-optnone", "-emit-llvm", "-c")

#: Code-generation level used to turn (possibly optimized) bitcode into an executable; see
#: :func:`build_executable` for why llc is used rather than clang.
CODEGEN_OPT_LEVEL = "-O2"

_BITCODE_MAGIC = b"BC\xc0\xde"
_BITCODE_WRAPPER_MAGIC = b"\xde\xc0\x17\x0b"


def cache_root() -> Path:
    """The versioned cache directory: ``$OPTGYM_CACHE`` (or ``~/.cache/optgym``) plus
    ``llvm19-v1``. Read on every call so tests and users can redirect it at run time."""
    return optgym_cache_root() / f"llvm{LLVM_VERSION}-v{CACHE_FORMAT_VERSION}"


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`optgym.cache.atomic_write`)."""
    atomic_write(path, data)


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock held for the duration of the ``with`` block.

    Used around read-modify-write of shared files (the user-dataset registry) and around
    downloads, where two processes doing the same work at once would waste it or race.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def tool(name: str) -> str:
    """Absolute path of an LLVM 19 tool (``clang``, ``llc``, ...), or ToolchainError."""
    versioned = name if name.endswith(f"-{LLVM_VERSION}") or name == "csmith" else f"{name}-{LLVM_VERSION}"
    found = shutil.which(versioned)
    if found is None:
        package = "csmith" if name == "csmith" else f"llvm-{LLVM_VERSION} clang-{LLVM_VERSION}"
        raise ToolchainError(
            f"{versioned} was not found on PATH; install it with: apt-get install {package}"
        )
    return found


def is_bitcode(data: bytes) -> bool:
    """Whether ``data`` starts like LLVM bitcode (raw or in the Darwin wrapper)."""
    return data[:4] in (_BITCODE_MAGIC, _BITCODE_WRAPPER_MAGIC)


def truncate_diagnostics(text: str, max_lines: int = 40) -> str:
    """The first ``max_lines`` lines of a tool's stderr, so errors stay readable."""
    lines = text.strip().splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
    return "\n".join(lines)


def run_tool(
    argv: Sequence[str],
    *,
    what: str,
    input: bytes | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 300.0,
) -> bytes:
    """Run a compiler tool and return its stdout; a failure becomes BenchmarkError naming
    ``what`` (the input) and carrying the tool's diagnostics."""
    try:
        proc = subprocess.run(
            list(argv),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            cwd=cwd,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"{what}: {Path(argv[0]).name} timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise BenchmarkError(f"{what}: cannot run {argv[0]}: {exc}") from exc
    if proc.returncode != 0:
        diag = truncate_diagnostics(proc.stderr.decode("utf-8", "replace"))
        raise BenchmarkError(
            f"{what}: {Path(argv[0]).name} failed with exit code {proc.returncode}:\n{diag}"
        )
    return proc.stdout


def compile_c_to_bitcode(
    source: Path | None,
    *,
    what: str,
    code: bytes | None = None,
    extra_flags: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 300.0,
) -> bytes:
    """Compile one C file (by path, or ``code`` read from stdin) to -O0 bitcode without
    ``optnone``; BenchmarkError with clang's diagnostics when it does not compile."""
    argv = [tool("clang"), *O0_FLAGS, *extra_flags, "-o", "-"]
    if source is not None:
        argv.append(str(source))
    else:
        argv += ["-x", "c", "-"]
    out = run_tool(argv, what=what, input=code, cwd=cwd, timeout=timeout)
    if not is_bitcode(out):
        raise BenchmarkError(f"{what}: clang produced no bitcode")
    return out


def assemble_ll(text: bytes, *, what: str) -> bytes:
    """Assemble LLVM IR text with llvm-as-19; BenchmarkError with its message on bad IR."""
    return run_tool([tool("llvm-as"), "-", "-o", "-"], what=what, input=text)


def disassemble(bitcode: bytes, *, what: str = "bitcode") -> str:
    """The IR text of a bitcode module (llvm-dis-19)."""
    return run_tool([tool("llvm-dis"), "-", "-o", "-"], what=what, input=bitcode).decode("utf-8", "replace")


def optimize(bitcode: bytes, pipeline: str, *, what: str = "bitcode") -> bytes:
    """Run ``opt-19 -passes=PIPELINE`` on bitcode; used by tests and reports (the
    environments use the in-process binding instead)."""
    return run_tool([tool("opt"), f"-passes={pipeline}", "-", "-o", "-"], what=what, input=bitcode)


_INSTRUCTION_LINE = re.compile(r"^  (?:%[-\w.$\"]+\s*=\s*)?[a-z]")


def count_instructions_ll(ir_text: str) -> int:
    """Number of instructions in IR text: the indented lines inside function bodies.

    llvm-dis prints every instruction of a ``define`` body on its own line indented by
    exactly two spaces; labels, comments and ``}`` are not indented, while continuation
    lines (``switch`` cases, landing-pad clauses) and LLVM 19's debug records
    (``#dbg_value``) are indented further. The in-process binding gives the same count
    faster.
    """
    count = 0
    in_body = False
    for line in ir_text.splitlines():
        if line.startswith("define "):
            in_body = True
        elif in_body and line.startswith("}"):
            in_body = False
        elif in_body and _INSTRUCTION_LINE.match(line):
            count += 1
    return count


def count_instructions(bitcode: bytes) -> int:
    """Instruction count of a bitcode module (see :func:`count_instructions_ll`)."""
    return count_instructions_ll(disassemble(bitcode))


SPLITS: tuple[str, ...] = ("train", "validation", "test")


def split_of(key: str) -> str:
    """The split a benchmark belongs to: 60/20/20 by the sha256 of its name (or seed).

    A cryptographic hash makes the assignment stable across Python versions, platforms
    and processes (``hash()`` is salted per process) and independent of which other
    benchmarks exist, so adding a program never moves another one between splits.
    """
    bucket = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % 100
    if bucket < 60:
        return "train"
    if bucket < 80:
        return "validation"
    return "test"


def check_split(split: str | None) -> None:
    """Raise ValueError for a split name that is not train/validation/test/None."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)} or None")


@dataclass(frozen=True)
class RunResult:
    """What one run of a benchmark's executable produced."""

    stdout: str
    stderr: str
    returncode: int
    seconds: float
    timed_out: bool = False


def build_executable(bitcode: bytes, out_path: Path, *, what: str, link_flags: Sequence[str] = ("-lm",)) -> None:
    """Turn bitcode into an executable without touching its IR.

    ``llc-19 -O2`` generates an object file and ``clang-19`` only links it. llc runs no
    IR optimization pipeline (only the code generator's own lowering), so the behaviour
    and the instructions we measure are the ones the passes produced; ``-O2`` code
    generation (register allocation, instruction selection) keeps run times meaningful,
    where ``clang -O0`` on the bitcode would use the fast, naive code generator and blur
    the effect of the IR passes on run time. PIC matches the PIE executables Debian's
    clang links by default.
    """
    workdir = out_path.parent
    bc_path = workdir / "benchmark.bc"
    obj_path = workdir / "benchmark.o"
    bc_path.write_bytes(bitcode)
    run_tool(
        [tool("llc"), CODEGEN_OPT_LEVEL, "-filetype=obj", "-relocation-model=pic", str(bc_path), "-o", str(obj_path)],
        what=what,
    )
    run_tool([tool("clang"), str(obj_path), "-o", str(out_path), *link_flags], what=what)


def _die_with_parent(parent: int) -> None:
    """In the child, between fork and exec: be killed when the parent dies.

    PR_SET_PDEATHSIG survives exec; the parent may already have died before the call, in which
    case the child was re-parented and must not run at all.
    """
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(137)


_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it


def run_executable(exe: Path, *, timeout: float, args: Sequence[str] = ()) -> RunResult:
    """Run an executable in its own directory and process group; nothing outlives the call.

    The whole group is killed on time-out and when the call is interrupted (Ctrl-C, any
    exception), and the program is killed by the kernel if the calling process dies (the same
    guarantee as the compiler worker).
    """
    start = time.perf_counter()
    parent = os.getpid()
    proc = subprocess.Popen(
        [str(exe), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=exe.parent,
        start_new_session=True,
        preexec_fn=functools.partial(_die_with_parent, parent),
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    seconds = time.perf_counter() - start
    return RunResult(
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        returncode=proc.returncode,
        seconds=seconds,
        timed_out=timed_out,
    )


def build_and_run(bitcode: bytes, *, what: str, timeout: float, args: Sequence[str] = ()) -> RunResult:
    """Build ``bitcode`` into a throw-away executable and run it once."""
    with tempfile.TemporaryDirectory(prefix="optgym-run-") as d:
        exe = Path(d) / "benchmark"
        build_executable(bitcode, exe, what=what)
        return run_executable(exe, timeout=timeout, args=args)
