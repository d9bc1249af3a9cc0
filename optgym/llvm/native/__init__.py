"""Builds and loads optgym's native helper: our own C over the LLVM-C API (and, for the walk every
step makes, C++ over LLVM's classes), compiled with clang-19.

The helper computes what would be slow through ctypes (counts, features, program graphs, the
change fingerprint). It is compiled on first use into the cache directory, keyed by a hash of
its sources and the LLVM version, so an upgrade or an edit rebuilds it and concurrent processes
never see a partial file.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import hashlib
import subprocess
import tempfile
from pathlib import Path

from optgym import LLVM_VERSION
from optgym.cache import cache_root
from optgym.errors import ToolchainError
from optgym.llvm import toolchain

SOURCE_DIR = Path(__file__).parent


def _sources() -> list[Path]:
    return sorted([*SOURCE_DIR.glob("*.c"), *SOURCE_DIR.glob("*.cpp")])


def library_path() -> Path:
    """Where the helper for the current sources lives (it may not be built yet)."""
    digest = hashlib.sha256(LLVM_VERSION.encode())
    for src in _sources():
        digest.update(src.name.encode())
        digest.update(src.read_bytes())
    return cache_root() / "native" / digest.hexdigest()[:16] / "liboptgym_native.so"


def build() -> Path:
    """Compile the helper if it is not built for the current sources; return its path."""
    lib = library_path()
    if lib.exists():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    with open(lib.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if lib.exists():
            return lib
        tmp = lib.with_suffix(".so.tmp")
        libdir = toolchain.libllvm_path().parent
        include = f"-I{toolchain.include_dir()}"
        with tempfile.TemporaryDirectory(dir=lib.parent) as objdir:
            objects = []
            for src in _sources():
                obj = str(Path(objdir) / f"{src.name}.o")
                # C++ as LLVM itself is built (its headers assume these flags), C as plain C.
                cpp = src.suffix == ".cpp"
                lang = [*_config_flags("--cxxflags"), "-x", "c++"] if cpp else [include, "-x", "c"]
                _run([toolchain.tool("clang++") if cpp else toolchain.clang(), "-O2", "-fPIC",
                      "-Wall", *lang, "-c", str(src), "-o", obj], tmp)
                objects.append(obj)
            _run([toolchain.tool("clang++"), "-shared", *objects, f"-L{libdir}",
                  f"-Wl,-rpath,{libdir}", f"-lLLVM-{LLVM_VERSION}", "-o", str(tmp)], tmp)
        tmp.replace(lib)
    return lib


def _config_flags(flag: str) -> list[str]:
    return subprocess.run([toolchain.llvm_config(), flag], capture_output=True, text=True,
                          check=True).stdout.split()


def _run(cmd: list[str], tmp: Path) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ToolchainError(f"building the native helper failed:\n{proc.stderr}")


@functools.cache
def load() -> ctypes.CDLL:
    """Load the helper (building it first if needed), with argument types declared."""
    path = build()
    try:
        lib = ctypes.CDLL(str(path))
    except OSError:  # a damaged cache entry (truncated, overwritten): rebuild it once
        path.unlink(missing_ok=True)
        lib = ctypes.CDLL(str(build()))
    i64p = ctypes.POINTER(ctypes.c_int64)
    for name in ("optgym_counts", "optgym_instcount", "optgym_autophase", "optgym_step_stats"):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_void_p, i64p]
        fn.restype = ctypes.c_int
    lib.optgym_run_passes.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                      ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.optgym_run_passes.restype = ctypes.c_void_p
    lib.optgym_free_message.argtypes = [ctypes.c_void_p]
    lib.optgym_free_message.restype = None
    lib.optgym_fingerprint.argtypes = [ctypes.c_void_p]
    lib.optgym_fingerprint.restype = ctypes.c_uint64
    lib.optgym_always_inline_calls.argtypes = [ctypes.c_void_p]
    lib.optgym_always_inline_calls.restype = ctypes.c_int64
    lib.optgym_function_counts.argtypes = [ctypes.c_void_p, i64p, ctypes.c_int64]
    lib.optgym_function_counts.restype = ctypes.c_int64
    lib.optgym_inline_mark.argtypes = [ctypes.c_void_p]
    lib.optgym_inline_mark.restype = ctypes.c_int64
    lib.optgym_inline_table.argtypes = [ctypes.c_void_p, i64p, ctypes.c_int64, i64p,
                                        ctypes.c_int64, i64p, ctypes.c_int64, i64p]
    lib.optgym_inline_table.restype = ctypes.c_int
    lib.optgym_inline_call_functions.argtypes = [ctypes.c_void_p, i64p, ctypes.c_int64]
    lib.optgym_inline_call_functions.restype = ctypes.c_int64
    return lib
