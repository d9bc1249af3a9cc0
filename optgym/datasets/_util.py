"""Plumbing shared by the datasets: the cache directory, atomic writes, compiling C to
bitcode, giving bitcode -Oz's attributes, building and running executables, splits.

The toolchain itself (where the tools are, how they are run, the yardstick's flags) lives in
:mod:`optgym.llvm.toolchain`; this module only uses it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from optgym import LLVM_VERSION
from optgym.cache import atomic_write
from optgym.cache import cache_root as optgym_cache_root
from optgym.errors import BenchmarkError
from optgym.llvm import toolchain
from optgym.llvm.toolchain import FRONTEND_FLAGS, tool
from optgym.scratch import scratch_dir

#: Bumped whenever the layout or content of cached files changes, so old caches are ignored.
#: v2: bitcode carries clang -Oz's attributes (was -O0 without optnone).
CACHE_FORMAT_VERSION = 2

_BITCODE_MAGIC = b"BC\xc0\xde"
_BITCODE_WRAPPER_MAGIC = b"\xde\xc0\x17\x0b"


def cache_root() -> Path:
    """The versioned datasets cache: ``$OPTGYM_CACHE`` (or ``~/.cache/optgym``) plus
    ``llvm19-v2``. Read on every call so tests and users can redirect it at run time."""
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


def is_bitcode(data: bytes) -> bool:
    """Whether ``data`` starts like LLVM bitcode (raw or in the Darwin wrapper)."""
    return data[:4] in (_BITCODE_MAGIC, _BITCODE_WRAPPER_MAGIC)


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
    return toolchain.run_tool(argv, what=what, input=input, cwd=cwd, timeout=timeout,
                              error=BenchmarkError)


def compile_c_to_bitcode(
    source: Path | None,
    *,
    what: str,
    code: bytes | None = None,
    extra_flags: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 300.0,
) -> bytes:
    """Compile one C file (by path, or ``code`` read from stdin) to the bitcode clang -Oz hands
    its optimizer (:data:`~optgym.llvm.toolchain.FRONTEND_FLAGS`); BenchmarkError with
    clang's diagnostics when it does not compile."""
    argv = [tool("clang"), *FRONTEND_FLAGS, *extra_flags, "-o", "-"]
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
    return run_tool([*toolchain.opt_argv(pipeline), "-", "-o", "-"], what=what, input=bitcode)


def count_instructions(bitcode: bytes) -> int:
    """Instruction count of a bitcode module (CompilerGym's IrInstructionCount)."""
    from optgym.llvm.core import Module

    return Module.parse(bitcode, "bitcode").instruction_count()


def keep_attributes() -> bool:
    """Whether ``OPTGYM_KEEP_ATTRIBUTES=1`` asks to leave IR and bitcode as the user wrote
    them (no -Oz attributes added; see :func:`with_size_attributes`)."""
    return os.environ.get("OPTGYM_KEEP_ATTRIBUTES", "") not in ("", "0")


def user_module(data: bytes, *, what: str) -> bytes:
    """A .ll/.bc a user brings, as the bitcode benchmarks use: with -Oz's attributes unless
    :func:`keep_attributes`. Text IR is assembled either way."""
    if keep_attributes():
        return data if is_bitcode(data) else assemble_ll(data, what=what)
    return with_size_attributes(data, what=what)


def with_size_attributes(data: bytes, *, what: str) -> bytes:
    """IR or bitcode a user brings, as bitcode carrying what clang -Oz gives every function.

    Adds ``optsize`` and ``minsize`` to each function definition and removes ``optnone``;
    when every definition is ``noinline`` (the mark clang -O0 leaves on all of them), that goes
    too. The -Oz baseline and the policies then work on the same module that clang -Oz would
    have optimized. BenchmarkError when the input is not a valid module.
    """
    from optgym.errors import ParseError
    from optgym.llvm.core import Module

    try:
        module = Module.parse(data, what)
    except ParseError as exc:
        raise BenchmarkError(str(exc)) from None
    try:
        module.set_size_attributes()
        return module.bitcode()
    finally:
        module.close()


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


def build_executable(bitcode: bytes, out_path: Path, *, what: str, link_flags: Sequence[str] = ("-lm",),
                     codegen: Sequence[str] = ()) -> None:
    """Turn bitcode into an executable without touching its IR.

    The object comes from clang -Oz's code generator (:func:`optgym.llvm.toolchain.object_file`'s
    flags: ``llc-19 -O2``, PIC, plus ``codegen``: the options of code-generation steps) and
    ``clang-19`` only links it. llc runs no IR optimization pipeline, so the behaviour and the
    instructions we measure are the ones the passes produced, and the code is the code that
    ``.text`` sizes are measured on.
    """
    workdir = out_path.parent
    bc_path = workdir / "benchmark.bc"
    obj_path = workdir / "benchmark.o"
    bc_path.write_bytes(bitcode)
    run_tool(
        [tool("llc"), *toolchain.CODEGEN_FLAGS, *codegen, str(bc_path), "-o", str(obj_path)],
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


def build_and_run(bitcode: bytes, *, what: str, timeout: float, args: Sequence[str] = (),
                  codegen: Sequence[str] = ()) -> RunResult:
    """Build ``bitcode`` into a throw-away executable (``codegen``: more llc options) and run it
    once."""
    with scratch_dir("optgym-run-") as d:
        exe = Path(d) / "benchmark"
        build_executable(bitcode, exe, what=what, codegen=codegen)
        return run_executable(exe, timeout=timeout, args=args)
