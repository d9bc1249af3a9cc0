"""The yardstick: the environments' -Oz is what clang-19 -Oz does, in IR instructions and in
.text bytes, with the real clang-19 as the referee on every built-in program."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from optgym.datasets import get_dataset
from optgym.envs.llvm import LlvmEnv
from optgym.llvm.core import Module, elf_text_size


def _clang_oz(source: Path, *mode: str) -> bytes:
    return subprocess.run(["clang-19", "-Oz", "-w", *mode, str(source), "-o", "-"],
                          capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def env():
    env = LlvmEnv(observation_space=None)
    yield env
    env.close()


def test_every_builtin_program_oz_equals_clang_oz(env: LlvmEnv) -> None:
    mismatches = []
    for benchmark in get_dataset("builtin-v0").benchmarks():
        source = benchmark.source_path
        want_ir = Module.parse(_clang_oz(source, "-S", "-emit-llvm"), source.name).instruction_count()
        want_text = elf_text_size(_clang_oz(source, "-c"))
        env.reset(options={"benchmark": benchmark})
        got_ir = int(env.observe("IrInstructionCountOz"))
        got_text = int(env.observe("ObjectTextSizeOz"))
        if (got_ir, got_text) != (want_ir, want_text):
            mismatches.append(f"{benchmark.name}: env ({got_ir} instructions, {got_text} bytes), "
                              f"clang-19 -Oz ({want_ir}, {want_text})")
    assert not mismatches, "\n".join(mismatches)


def test_benchmarks_carry_clang_oz_attributes(env: LlvmEnv) -> None:
    env.reset(options={"benchmark": "benchmark://builtin-v0/crc32"})
    ir = env.observe("Ir")
    assert "minsize" in ir and "optsize" in ir and "optnone" not in ir


def test_user_ir_gets_size_attributes_unless_kept(tmp_path: Path, monkeypatch) -> None:
    from optgym.datasets import get_benchmark

    ll = tmp_path / "f.ll"
    ll.write_text("define i32 @f(i32 %x) #0 {\n  %y = add i32 %x, 1\n  ret i32 %y\n}\n"
                  "attributes #0 = { noinline nounwind optnone }\n")
    with_attrs = Module.parse(get_benchmark(ll.as_uri()).bitcode).ir()
    assert "minsize" in with_attrs and "optnone" not in with_attrs and "noinline" not in with_attrs
    monkeypatch.setenv("OPTGYM_KEEP_ATTRIBUTES", "1")
    kept = Module.parse(get_benchmark(ll.as_uri()).bitcode).ir()
    assert "minsize" not in kept and "optnone" in kept
