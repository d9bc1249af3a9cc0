"""Locates the LLVM 19 toolchain: `llvm-config-19`, libLLVM-19, and the `opt`/`clang`/`llc` binaries.

Every result optgym reports is tied to this LLVM version, so nothing here falls back to another
version. Environment variables override discovery: ``OPTGYM_LLVM_CONFIG`` (path to llvm-config),
``OPTGYM_LIBLLVM`` (path to the shared library) and ``OPTGYM_LLVM_BINDIR`` (tool directory).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from optgym import LLVM_VERSION
from optgym.errors import ToolchainError

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
    """Absolute path of an LLVM 19 tool such as ``opt``, ``llc``, ``clang`` or ``llvm-link``."""
    path = bindir() / name
    if path.exists():
        return str(path)
    versioned = shutil.which(f"{name}-{LLVM_VERSION}")
    if versioned:
        return versioned
    raise ToolchainError(f"`{name}` of LLVM {LLVM_VERSION} not found in {bindir()}; {_INSTALL_HINT}")


def opt() -> str:
    """Path of LLVM 19's `opt`, the referee for every result."""
    return tool("opt")


def clang() -> str:
    """Path of clang 19."""
    return tool("clang")
