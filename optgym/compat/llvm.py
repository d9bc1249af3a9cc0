"""CompilerGym's ``compiler_gym.envs.llvm``: the LLVM environment class, ``make_benchmark``
(C, C++, ``.ll`` and ``.bc`` files, compile flags with ``copt=``, several files linked),
``ClangInvocation``, ``make_benchmark_from_source`` and the space-name enums.

Benchmarks made here are read and compiled when they are made, and carry a fresh
``benchmark://user-v0/...`` URI (a ``.bc`` file keeps ``benchmark://file-v0/PATH``), as
CompilerGym's did; they live in this process. For a C file that a URI names reproducibly
(a result CSV, another process), use ``file:///path/x.c?copt=-std=gnu89``.
"""

from __future__ import annotations

import enum
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from optgym.compat.datasets import Benchmark, user_benchmark
from optgym.compat.env import CompilerGymEnv, LlvmEnv
from optgym.compat.errors import BenchmarkInitError
from optgym.datasets._util import is_bitcode
from optgym.envs.llvm.spaces import OBSERVATION_SPECS, REWARD_SPECS
from optgym.errors import BenchmarkError, OptgymError
from optgym.llvm import toolchain
from optgym.llvm.core import Module

__all__ = [
    "ClangInvocation", "CompilerGymEnv", "HostCompilerFailure", "LlvmEnv",
    "UnableToParseHostCompilerOutput", "get_system_library_flags", "make_benchmark",
    "make_benchmark_from_source", "merge_benchmarks", "observation_spaces", "reward_spaces",
    "split_benchmark_by_function",
]

_C_SUFFIXES = (".c",)
#: clang 19 rejects what clang 10 (CompilerGym's) only warned about in C.
_C89_LENIENCY = ("-Wno-error=implicit-function-declaration", "-Wno-error=implicit-int",
                 "-Wno-error=int-conversion", "-Wno-error=incompatible-pointer-types")
_CXX_SUFFIXES = (".cc", ".cpp", ".cxx", ".c++")

#: The observation spaces, by name (CompilerGym generated this enum from its service).
observation_spaces = enum.Enum("observation_spaces", {n: n for n in OBSERVATION_SPECS})
#: The reward spaces, by name.
reward_spaces = enum.Enum("reward_spaces", {n: n for n in REWARD_SPECS})


class HostCompilerFailure(OSError):
    """The host compiler could not be run (``get_system_library_flags``)."""


class UnableToParseHostCompilerOutput(HostCompilerFailure):
    """The host compiler's ``-v`` output named no ``#include <...>`` search paths."""


def get_system_library_flags(compiler: str | None = None) -> list[str]:
    """``-isystem DIR`` for each directory the host compiler searches for ``#include <...>``."""
    compiler = compiler or os.environ.get("CXX") or toolchain.clang()
    try:
        proc = subprocess.run([compiler, "-xc++", "-E", "-v", "-"], input="", capture_output=True,
                              text=True, timeout=60)
    except OSError as exc:
        raise HostCompilerFailure(f"Failed to invoke '{compiler}': {exc}") from None
    if proc.returncode != 0:
        raise HostCompilerFailure(f"Failed to invoke '{compiler}': exit status {proc.returncode}")
    text = proc.stdout + proc.stderr
    found = re.search(r"#include <...> search starts here:\n(.*?)End of search list",
                      text, re.DOTALL)
    if not found:
        raise UnableToParseHostCompilerOutput(
            f"Failed to parse '#include <...>' search paths from '{compiler}'")
    flags: list[str] = []
    for line in found.group(1).splitlines():
        path = line.strip().removesuffix(" (framework directory)")
        if path:
            flags += ["-isystem", path]
    return flags


class ClangInvocation:
    """A clang command line that makes one bitcode file (CompilerGym's ``ClangInvocation``)."""

    def __init__(self, args: Sequence[str], system_includes: bool = True, timeout: int = 600):
        self.args = list(args)
        self.system_includes = system_includes
        self.timeout = timeout

    def command(self, outpath: str | Path) -> list[str]:
        """The full command line, writing bitcode to ``outpath``. Without
        ``system_includes`` no system header is found (``-nostdinc``), as in CompilerGym,
        whose clang came without any. C is read as clang 10 read it: a call to an undeclared
        function or an implicit ``int`` is a warning, not the error clang 19 makes of it."""
        includes = get_system_library_flags() if self.system_includes else ["-nostdinc"]
        return [toolchain.clang(), *toolchain.FRONTEND_FLAGS, *_C89_LENIENCY, *includes,
                *self.args, "-o", str(outpath)]

    @classmethod
    def from_c_file(cls, path: str | Path, copt: Sequence[str] | None = None,
                    system_includes: bool = True, timeout: int = 600) -> ClangInvocation:
        """The invocation that compiles one C or C++ file with extra flags ``copt``."""
        return cls([*(copt or []), str(path)], system_includes=system_includes, timeout=timeout)

    def run(self) -> bytes:
        """Run it; OSError with clang's diagnostics when it fails."""
        with tempfile.TemporaryDirectory(prefix="optgym-clang-") as tmp:
            out = Path(tmp) / "out.bc"
            try:
                proc = subprocess.run(self.command(out), capture_output=True, text=True,
                                      timeout=self.timeout)
            except subprocess.TimeoutExpired:
                raise OSError(f"Compilation job timed out after {self.timeout} s") from None
            if proc.returncode != 0:
                raise OSError(f"Compilation job failed with returncode {proc.returncode}\n"
                              f"Command: {' '.join(self.command(out))}\n"
                              f"Stderr: {proc.stderr.strip()}")
            return out.read_bytes()


def _compile(path: Path, copt: Sequence[str], system_includes: bool, timeout: int) -> bytes:
    try:
        return ClangInvocation.from_c_file(path, copt, system_includes, timeout).run()
    except OSError as exc:
        raise BenchmarkInitError(f"Failed to make benchmark with compiler error: {exc}") from None


def _bitcode_of(item: str | Path | ClangInvocation, copt: Sequence[str],
                system_includes: bool, timeout: int) -> bytes:
    if isinstance(item, ClangInvocation):
        return item.run()
    path = Path(item).expanduser()
    if not path.is_file():
        raise FileNotFoundError(str(path))
    suffix = path.suffix.lower()
    if suffix == ".bc":
        return path.read_bytes()
    if suffix == ".ll":
        from optgym.datasets._util import assemble_ll

        try:
            return assemble_ll(path.read_bytes(), what=str(path))
        except BenchmarkError as exc:
            raise BenchmarkInitError(str(exc)) from None
    if suffix in _C_SUFFIXES or suffix in _CXX_SUFFIXES:
        return _compile(path.resolve(), copt, system_includes, timeout)
    raise ValueError(f"Unrecognized file type: {path.name} (expected .c, .cc, .cpp, .ll or .bc)")


def make_benchmark(inputs: str | Path | ClangInvocation | Sequence[str | Path | ClangInvocation],
                   copt: Sequence[str] | None = None, system_includes: bool = True,
                   timeout: int = 600) -> Benchmark:
    """A benchmark from one or more C / C++ / ``.ll`` / ``.bc`` files or clang invocations,
    compiled now (``copt``: extra compile flags, such as ``-std=gnu89``) and linked into one
    module when there are several."""
    single = isinstance(inputs, (str, Path, ClangInvocation))
    items = [inputs] if single else list(inputs)
    if not items:
        raise ValueError("No inputs")
    if single and isinstance(inputs, (str, Path)) and Path(inputs).suffix.lower() == ".bc":
        path = Path(inputs).expanduser()
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return Benchmark.from_file(f"benchmark://file-v0{path.resolve()}", path)
    modules = [_bitcode_of(item, copt or [], system_includes, timeout) for item in items]
    bitcode = modules[0] if len(modules) == 1 else _link(modules)
    return user_benchmark(bitcode, what=str(items[0]))


def make_benchmark_from_source(source: str, copt: Sequence[str] | None = None,
                               lang: str = "c++", system_includes: bool = True,
                               timeout: int = 600) -> Benchmark:
    """A benchmark from program text (``lang``: ``c`` or ``c++``)."""
    suffix = ".c" if lang == "c" else ".cc"
    with tempfile.TemporaryDirectory(prefix="optgym-source-") as tmp:
        path = Path(tmp) / f"source{suffix}"
        path.write_text(source)
        try:
            bitcode = ClangInvocation.from_c_file(path, copt, system_includes, timeout).run()
        except OSError as exc:
            raise BenchmarkInitError(
                f"Failed to make benchmark with compiler error: {exc}") from None
    return user_benchmark(bitcode, what="source")


def split_benchmark_by_function(benchmark: Benchmark,
                                maximum_function_count: int = 0) -> list[Benchmark]:
    """One benchmark per function defined in ``benchmark`` (the others declared), in the
    order they are defined; at most ``maximum_function_count`` when it is positive."""
    ir = Module.parse(benchmark.core.bitcode, str(benchmark.uri)).ir()
    names = re.findall(r"^define [^@]*@([-\w$.]+|\"[^\"]+\")\(", ir, re.MULTILINE)
    if not names:
        raise ValueError(f"No functions found in {benchmark.uri}")
    if maximum_function_count > 0:
        names = names[:maximum_function_count]
    out = []
    with tempfile.TemporaryDirectory(prefix="optgym-split-") as tmp:
        source = Path(tmp) / "in.bc"
        source.write_bytes(benchmark.core.bitcode)
        for name in names:
            target = Path(tmp) / "out.bc"
            proc = subprocess.run(
                [toolchain.tool("llvm-extract"), f"--func={name.strip(chr(34))}",
                 str(source), "-o", str(target)], capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                raise BenchmarkInitError(f"llvm-extract failed on {name}: {proc.stderr.strip()}")
            out.append(user_benchmark(target.read_bytes(), what=f"{benchmark.uri} {name}"))
    return out


def merge_benchmarks(benchmarks: Sequence[Benchmark]) -> Benchmark:
    """One benchmark of several linked together (``llvm-link``)."""
    try:
        return user_benchmark(_link([b.core.bitcode for b in benchmarks]), what="merged")
    except OptgymError as exc:
        raise ValueError(str(exc)) from None


def _link(modules: Sequence[bytes]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="optgym-link-") as tmp:
        paths = []
        for i, data in enumerate(modules):
            if not is_bitcode(data):
                raise BenchmarkInitError(f"input {i} is not bitcode")
            path = Path(tmp) / f"{i}.bc"
            path.write_bytes(data)
            paths.append(str(path))
        out = Path(tmp) / "linked.bc"
        proc = subprocess.run([toolchain.tool("llvm-link"), *paths, "-o", str(out)],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise BenchmarkInitError(f"llvm-link failed: {proc.stderr.strip()}")
        return out.read_bytes()
