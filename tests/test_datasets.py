"""Datasets: URIs, the registry, splits, sampling, file:// benchmarks, the generators and
the error messages. Everything runs the real LLVM 19 tools and csmith."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optgym.datasets import (
    Dataset,
    get_benchmark,
    get_dataset,
    list_datasets,
    register_dataset,
    split_of,
    unregister_dataset,
)
from optgym.datasets._util import assemble_ll, cache_root, count_instructions, optimize
from optgym.datasets.core import Benchmark, GeneratorDataset
from optgym.datasets.generators import derived_seed
from optgym.errors import BenchmarkError

HELLO = """#include <stdio.h>
static int sq(int x) { return x * x; }
int main(void) { int s = 0; for (int i = 0; i < 10; i++) s += sq(i); printf("s=%d\\n", s); return 0; }
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    # One cache per module: generated programs are reused across tests, never the user's.
    d = tmp_path_factory.getbasetemp() / "optgym-cache-datasets"
    monkeypatch.setenv("OPTGYM_CACHE", str(d))
    return d


def test_cache_root_is_versioned(_cache: Path) -> None:
    assert cache_root() == _cache / "llvm19-v2"


def test_list_and_get_datasets() -> None:
    names = {d.name for d in list_datasets()}
    assert {"builtin-v0", "csmith-v0", "llvm-stress-v0", "cbench-v1"} <= names
    b = get_dataset("builtin-v0")
    assert get_dataset("benchmark://builtin-v0") is b
    assert b.runnable and b.license and b.description
    assert b.size == len(b.benchmark_uris()) > 0
    assert get_dataset("csmith-v0").size == 0 and get_dataset("csmith-v0").runnable
    assert get_dataset("llvm-stress-v0").size == 0 and not get_dataset("llvm-stress-v0").runnable


def test_unknown_uri_names_known_datasets() -> None:
    with pytest.raises(BenchmarkError, match="known datasets: .*builtin-v0.*csmith-v0"):
        get_benchmark("benchmark://no-such-dataset-v0/x")
    with pytest.raises(BenchmarkError, match="no such benchmark"):
        get_benchmark("benchmark://builtin-v0/not-a-program")
    with pytest.raises(BenchmarkError, match="seed"):
        get_benchmark("generator://csmith-v0/-3")
    with pytest.raises(BenchmarkError, match="generator://"):
        get_benchmark("benchmark://csmith-v0/3")
    with pytest.raises(BenchmarkError, match="scheme"):
        get_benchmark("https://example.com/x.c")
    with pytest.raises(BenchmarkError, match="not downloaded"):
        get_dataset("cbench-v1").benchmark_uris()


def test_splits_are_deterministic_disjoint_and_roughly_60_20_20() -> None:
    ds = get_dataset("builtin-v0")
    parts = {s: ds.benchmark_uris(s) for s in ("train", "validation", "test")}
    all_uris = ds.benchmark_uris()
    assert sorted(sum(parts.values(), [])) == sorted(all_uris)
    assert not set(parts["train"]) & set(parts["validation"])
    assert not set(parts["train"]) & set(parts["test"])
    assert not set(parts["validation"]) & set(parts["test"])
    # Across a large set of names the hash gives close to 60/20/20.
    counts = {s: 0 for s in ("train", "validation", "test")}
    for i in range(20000):
        counts[split_of(f"name{i}")] += 1
    assert abs(counts["train"] / 20000 - 0.6) < 0.02
    assert abs(counts["test"] / 20000 - 0.2) < 0.02
    # Stable across processes (hash() would not be).
    code = "from optgym.datasets import split_of; print([split_of(f'name{i}') for i in range(50)])"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == str([split_of(f"name{i}") for i in range(50)])
    with pytest.raises(ValueError):
        ds.benchmark_uris("training")


def test_generator_splits_and_first_uris() -> None:
    cs = get_dataset("csmith-v0")
    assert isinstance(cs, GeneratorDataset)
    train = cs.first_uris(30, "train")
    test = cs.first_uris(30, "test")
    assert len(train) == len(test) == 30
    assert not set(train) & set(test)
    assert cs.first_uris(30, "train") == train
    assert cs.first_uris(3) == ["generator://csmith-v0/0", "generator://csmith-v0/1", "generator://csmith-v0/2"]
    with pytest.raises(BenchmarkError, match="first_uris"):
        cs.benchmark_uris()


def test_seeded_random_sampling() -> None:
    ds = get_dataset("builtin-v0")
    a = [ds.random_benchmark(np.random.default_rng(7), "train").uri for _ in range(3)]
    b = [ds.random_benchmark(np.random.default_rng(7), "train").uri for _ in range(3)]
    assert a == b and all(u in ds.benchmark_uris("train") for u in a)
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    seq1 = [get_dataset("csmith-v0").random_benchmark(rng1, "test").uri for _ in range(5)]
    seq2 = [get_dataset("csmith-v0").random_benchmark(rng2, "test").uri for _ in range(5)]
    assert seq1 == seq2
    assert all(split_of(u.rsplit("/", 1)[1]) == "test" for u in seq1)


def test_builtin_benchmark_bitcode_is_cached_and_not_optnone() -> None:
    ds = get_dataset("builtin-v0")
    name = ds.benchmark_names()[0]
    b = get_benchmark(f"benchmark://builtin-v0/{name}")
    assert (b.uri, b.name, b.dataset) == (f"benchmark://builtin-v0/{name}", name, "builtin-v0")
    bc = b.bitcode
    assert bc[:4] == b"BC\xc0\xde"
    assert b.cache_path.is_file() and b.cache_path.read_bytes() == bc
    # Same bytes from a fresh object (read from the cache); no stray temp files.
    assert get_benchmark(b.uri).bitcode == bc
    assert not [p for p in b.cache_path.parent.iterdir() if p.name.startswith(".")]
    from optgym.datasets._util import disassemble

    ir = disassemble(bc)
    assert "optnone" not in ir and "define" in ir
    assert b.expected_output and b.check_output(bc)


def test_check_output_detects_changed_behaviour() -> None:
    b = get_benchmark(f"benchmark://builtin-v0/{get_dataset('builtin-v0').benchmark_names()[0]}")
    other = get_dataset("builtin-v0").benchmark_names()[1]
    assert not b.check_output(get_benchmark(f"benchmark://builtin-v0/{other}").bitcode)


def test_file_benchmarks(tmp_path: Path) -> None:
    c = tmp_path / "hello.c"
    c.write_text(HELLO)
    b = get_benchmark(c.as_uri())
    assert b.runnable and b.uri == c.as_uri()
    r = b.run()
    assert r.stdout == "s=285\n" and r.returncode == 0 and not r.timed_out and r.seconds > 0
    oz = optimize(b.bitcode, "default<Oz>")
    assert b.check_output(oz)
    assert count_instructions(oz) < count_instructions(b.bitcode)
    # .ll and .bc files
    ll = tmp_path / "f.ll"
    ll.write_text("define i32 @f(i32 %x) {\n  %y = add i32 %x, 1\n  ret i32 %y\n}\n")
    lb = get_benchmark(f"file://{ll}")
    assert not lb.runnable and count_instructions(lb.bitcode) == 2
    bcf = tmp_path / "f.bc"
    bcf.write_bytes(lb.bitcode)
    assert get_benchmark(bcf).bitcode == lb.bitcode
    with pytest.raises(BenchmarkError, match="not runnable"):
        lb.run()


def test_bad_files_give_diagnostics(tmp_path: Path) -> None:
    bad_c = tmp_path / "bad.c"
    bad_c.write_text("int main(void) { return undefined_thing; }\n")
    with pytest.raises(BenchmarkError, match="undefined_thing"):
        get_benchmark(bad_c.as_uri()).bitcode  # noqa: B018
    bad_ll = tmp_path / "bad.ll"
    bad_ll.write_text("define i32 @f() {\n  ret i64 0\n}\n")
    with pytest.raises(BenchmarkError, match="bad.ll.*result type"):
        get_benchmark(bad_ll.as_uri()).bitcode  # noqa: B018
    bad_bc = tmp_path / "bad.bc"
    bad_bc.write_bytes(b"not bitcode")
    with pytest.raises(BenchmarkError, match="not LLVM bitcode"):
        get_benchmark(bad_bc.as_uri()).bitcode  # noqa: B018
    with pytest.raises(BenchmarkError, match="no such file"):
        get_benchmark(f"file://{tmp_path}/missing.c")
    with pytest.raises(BenchmarkError, match="unsupported file type"):
        get_benchmark(f"file://{tmp_path}/x.cpp")


def test_instruction_count_of_bitcode() -> None:
    text = (
        "; comment\n@g = global i32 0\n"
        "define i32 @f(i32 %x) {\nentry:\n  %a = add i32 %x, 1\n  store i32 %a, ptr @g\n"
        "  br label %next\n\nnext:                 ; preds = %entry\n"
        "  ret i32 %a\n}\ndeclare void @h()\n"
    )
    assert count_instructions(assemble_ll(text.encode(), what="test")) == 4


def test_csmith_generates_runnable_programs_deterministically() -> None:
    for seed in (1, 2):
        b = get_benchmark(f"generator://csmith-v0/{seed}")
        assert b.runnable and b.dataset == "csmith-v0" and b.name == str(seed)
        assert b.expected_output.startswith("checksum = ")
        assert b.csmith_seed in (seed, *(derived_seed(seed, k) for k in range(1, 8)))
        assert "csmith" in b.source
        oz = optimize(b.bitcode, "default<Oz>")
        assert b.check_output(oz)
    # A second object reads the cache and agrees.
    again = get_benchmark("generator://csmith-v0/1")
    assert again.bitcode == get_benchmark("generator://csmith-v0/1").bitcode
    assert (cache_root() / "csmith-v0" / "1.json").is_file()


def test_csmith_skips_programs_that_do_not_terminate_quickly() -> None:
    from optgym.datasets.generators import CsmithDataset

    # With a time-out no program can meet, every attempt is skipped and the error lists them.
    impatient = CsmithDataset(run_timeout=1e-9, max_attempts=2)
    b = impatient.benchmark("123456")
    with pytest.raises(BenchmarkError, match="no usable csmith program in 2 attempts") as info:
        b.bitcode  # noqa: B018
    assert f"seed {derived_seed(123456, 1)}" in str(info.value)
    assert derived_seed(5, 0) == 5 and derived_seed(5, 1) == derived_seed(5, 1) != derived_seed(5, 2)


def test_llvm_stress_is_compile_only() -> None:
    a = get_benchmark("generator://llvm-stress-v0/7")
    b = get_benchmark("generator://llvm-stress-v0/8")
    assert not a.runnable
    assert a.bitcode[:4] == b"BC\xc0\xde" and a.bitcode != b.bitcode
    assert get_benchmark("generator://llvm-stress-v0/7").bitcode == a.bitcode
    assert count_instructions(a.bitcode) > 10
    assert optimize(a.bitcode, "default<Oz>")[:4] == b"BC\xc0\xde"
    with pytest.raises(BenchmarkError, match="not runnable"):
        a.check_output(a.bitcode)


def test_register_a_custom_dataset() -> None:
    class Tiny(Dataset):
        def _names(self) -> list[str]:
            return ["one"]

        def _make_benchmark(self, name: str) -> Benchmark:
            b = get_benchmark(f"benchmark://builtin-v0/{get_dataset('builtin-v0').benchmark_names()[0]}")
            out = Benchmark(f"benchmark://tiny-v0/{name}", "tiny-v0", name, runnable=False)
            out._bitcode = b.bitcode
            return out

    register_dataset(Tiny("tiny-v0", description="t", license="x", runnable=False))
    try:
        assert get_benchmark("benchmark://tiny-v0/one").bitcode[:4] == b"BC\xc0\xde"
        assert get_benchmark("tiny-v0/one").uri == "benchmark://tiny-v0/one"
        with pytest.raises(BenchmarkError, match="already registered"):
            register_dataset(Tiny("tiny-v0", description="t", license="x", runnable=False))
    finally:
        unregister_dataset("tiny-v0")
    with pytest.raises(BenchmarkError):
        get_dataset("tiny-v0")


def test_concurrent_builds_of_one_benchmark_are_safe(tmp_path: Path) -> None:
    # Several processes build the same uncached program at once: all succeed, one file results.
    name = get_dataset("builtin-v0").benchmark_names()[-1]
    env = dict(os.environ, OPTGYM_CACHE=str(tmp_path / "race"))
    code = f"from optgym.datasets import get_benchmark; print(len(get_benchmark('benchmark://builtin-v0/{name}').bitcode))"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs) and len(set(outs)) == 1
    files = list((tmp_path / "race" / "llvm19-v2" / "builtin-v0").iterdir())
    assert len(files) == 1 and files[0].suffix == ".bc"


def test_run_times_out_and_kills_the_program(tmp_path: Path) -> None:
    spin = tmp_path / "spin.c"
    spin.write_text("int main(void) { volatile unsigned x = 0; for (;;) x++; }\n")
    b = get_benchmark(spin.as_uri())
    r = b.run(timeout=0.5)
    assert r.timed_out and r.returncode != 0 and 0.4 < r.seconds < 10
    with pytest.raises(BenchmarkError, match="timed out"):
        b.check_output(b.bitcode, timeout=0.5)


def test_datasets_use_the_one_toolchain_and_its_overrides(tmp_path: Path, monkeypatch) -> None:
    import shutil

    from optgym.datasets import _util
    from optgym.llvm import toolchain

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "clang").symlink_to(shutil.which("clang-19"))
    monkeypatch.setenv("OPTGYM_LLVM_BINDIR", str(bindir))
    for cached in (toolchain.bindir, toolchain.tool):
        cached.cache_clear()
    try:
        assert _util.tool is toolchain.tool
        assert _util.tool("clang") == str(bindir / "clang")
    finally:
        monkeypatch.delenv("OPTGYM_LLVM_BINDIR")
        for cached in (toolchain.bindir, toolchain.tool):
            cached.cache_clear()
