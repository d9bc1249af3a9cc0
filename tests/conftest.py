"""Shared fixtures: real LLVM modules (the bundled demo, csmith programs) and compiler sessions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from optgym.llvm.cli import DEMO_IR
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
