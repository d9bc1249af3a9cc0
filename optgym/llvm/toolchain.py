"""The one place that knows the LLVM 19 toolchain: where its tools are, how optgym calls them,
and the flags that define the yardstick.

Every result optgym reports is tied to this LLVM version, so nothing here falls back to another
version. Environment variables override discovery: ``OPTGYM_LLVM_CONFIG`` (path to llvm-config),
``OPTGYM_LIBLLVM`` (path to the shared library) and ``OPTGYM_LLVM_BINDIR`` (tool directory).

**The -Oz yardstick is clang-19's -Oz.** In LLVM 19 much of -Oz's size behaviour (inlining and
unrolling thresholds, size-oriented code generation) keys off the ``optsize``/``minsize``
function attributes that clang sets, and clang runs ``default<Oz>`` with its own tuning (SLP
vectorization on, loop vectorization off, a PIC target). So C is compiled with
:data:`FRONTEND_FLAGS` (``-Oz -Xclang -disable-llvm-passes``: exactly what clang -Oz hands its
optimizer), and the -Oz baseline of a module is what ``clang-19 -Oz`` makes of that bitcode
(:func:`clang_optimize`), not ``default<Oz>`` run by another driver. Objects come from
:func:`object_file`, the code generator clang -Oz uses (``llc -O2``, PIC as Debian's PIE
default), so ``.text`` sizes agree byte for byte with ``clang-19 -Oz -c``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from optgym import LLVM_VERSION
from optgym.errors import OptgymError, ToolchainError

#: Flags that turn C into the bitcode clang -Oz would hand its optimizer: the module carries
#: -Oz's function attributes (``optsize``, ``minsize``), TBAA and lifetime markers, and no pass
#: has run yet.
FRONTEND_FLAGS: tuple[str, ...] = ("-Oz", "-Xclang", "-disable-llvm-passes", "-emit-llvm", "-c")
#: The target options `opt-19` needs to optimize for what clang builds on Debian: position-
#: independent code (PIE executables by default). Relocation model changes IR passes (switch
#: lookup tables, relative tables, global access): on csmith programs opt's default static
#: model left -Oz up to 17% larger than clang -Oz. The worker's target machine matches it.
OPT_TARGET_FLAGS: tuple[str, ...] = ("--relocation-model=pic",)
#: How a module becomes an object file: clang -Oz's code generator (-O2 code generation, with
#: ``minsize`` steering it per function) for Debian's default position-independent executables.
CODEGEN_FLAGS: tuple[str, ...] = ("-O2", "-relocation-model=pic", "-filetype=obj")

_INSTALL_HINT = (
    f"install it with `apt-get install clang-{LLVM_VERSION} llvm-{LLVM_VERSION} "
    f"llvm-{LLVM_VERSION}-dev` (or run scripts/setup.sh)"
)


@functools.cache
def llvm_config() -> str:
    """Path of the `llvm-config` binary for LLVM 19."""
    override = os.environ.get("OPTGYM_LLVM_CONFIG")
    candidates = [override] if override else [f"llvm-config-{LLVM_VERSION}", "llvm-config"]
    for candidate in candidates:
        path = shutil.which(candidate) if candidate else None
        if path and _config_major(path) == LLVM_VERSION:
            return path
    raise ToolchainError(f"llvm-config for LLVM {LLVM_VERSION} not found; {_INSTALL_HINT}")


def _config_major(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.strip().split(".")[0]


@functools.cache
def _config_query(flag: str) -> str:
    return subprocess.run(
        [llvm_config(), flag], capture_output=True, text=True, check=True
    ).stdout.strip()


@functools.cache
def bindir() -> Path:
    """Directory holding LLVM 19's tools (opt, llc, clang, llvm-link, ...)."""
    override = os.environ.get("OPTGYM_LLVM_BINDIR")
    return Path(override) if override else Path(_config_query("--bindir"))


@functools.cache
def libllvm_path() -> Path:
    """Path of the libLLVM-19 shared library that the in-process binding loads."""
    override = os.environ.get("OPTGYM_LIBLLVM")
    if override:
        return Path(override)
    libdir = Path(_config_query("--libdir"))
    for name in (f"libLLVM-{LLVM_VERSION}.so", "libLLVM.so", f"libLLVM.so.{LLVM_VERSION}.1"):
        if (libdir / name).exists():
            return libdir / name
    raise ToolchainError(f"libLLVM-{LLVM_VERSION}.so not found in {libdir}; {_INSTALL_HINT}")


@functools.cache
def include_dir() -> Path:
    """Directory of LLVM 19's C headers (needed to build the native helper)."""
    return Path(_config_query("--includedir"))


@functools.cache
def tool(name: str) -> str:
    """Absolute path of an LLVM 19 tool such as ``opt``, ``llc``, ``clang`` or ``llvm-link``
    (``OPTGYM_LLVM_BINDIR`` first, then ``NAME-19`` on PATH)."""
    try:
        path = bindir() / name
    except ToolchainError:
        path = None  # no llvm-config: the versioned names on PATH may still be there
    if path is not None and path.exists():
        return str(path)
    versioned = shutil.which(f"{name}-{LLVM_VERSION}")
    if versioned:
        return versioned
    raise ToolchainError(f"`{name}` of LLVM {LLVM_VERSION} not found; {_INSTALL_HINT}")


def csmith() -> str:
    """Path of csmith (not part of LLVM, but a compiler-testing tool the datasets use)."""
    found = shutil.which("csmith")
    if found is None:
        raise ToolchainError("csmith was not found on PATH; install it with: apt-get install csmith")
    return found


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
    error: type[OptgymError] = ToolchainError,
) -> bytes:
    """Run a compiler tool and return its stdout; a failure raises ``error`` naming ``what``
    (the input) and carrying the tool's diagnostics."""
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
        raise error(f"{what}: {Path(argv[0]).name} timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise error(f"{what}: cannot run {argv[0]}: {exc}") from exc
    if proc.returncode != 0:
        diag = truncate_diagnostics(proc.stderr.decode("utf-8", "replace"))
        raise error(f"{what}: {Path(argv[0]).name} failed with exit code {proc.returncode}:\n{diag}")
    return proc.stdout


def clang_optimize(bitcode: bytes, level: str = "z", *, what: str = "module",
                   error: type[OptgymError] = ToolchainError) -> bytes:
    """What ``clang-19 -O<level>`` makes of a module (its whole IR pipeline, with clang's
    tuning), as bitcode: the reference that -Oz and -O3 baselines are measured from."""
    return run_tool([tool("clang"), f"-O{level}", "-w", "-c", "-emit-llvm", "-x", "ir", "-",
                     "-o", "-"], what=what, input=bitcode, error=error)


def object_file(bitcode: bytes, *, what: str = "module",
                error: type[OptgymError] = ToolchainError, options: Sequence[str] = ()) -> bytes:
    """The ELF object clang -Oz's code generator makes of a module, IR left as it is
    (``options``: more ``llc-19`` options, from code-generation steps)."""
    return run_tool([tool("llc"), *CODEGEN_FLAGS, *options, "-", "-o", "-"], what=what,
                    input=bitcode, error=error)


def opt() -> str:
    """Path of LLVM 19's `opt`, the referee for every result."""
    return tool("opt")


def opt_argv(pipeline: str) -> list[str]:
    """``opt-19`` with the target options and ``-passes=PIPELINE``; add input and output."""
    return [opt(), *OPT_TARGET_FLAGS, f"-passes={pipeline}"]


def clang() -> str:
    """Path of clang 19."""
    return tool("clang")
