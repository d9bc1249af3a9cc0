"""The built-in suite: every program present builds, and its output matches its recorded
``.out`` both at -O0 and after ``opt-19 -passes='default<Oz>'``."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from optgym.datasets import get_dataset
from optgym.datasets._util import optimize
from optgym.datasets.builtin_suite import PROGRAMS_DIR, BuiltinBenchmark


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTGYM_CACHE", str(tmp_path_factory.getbasetemp() / "optgym-cache-builtin"))


def _first_difference(got: str, want: str) -> str:
    g, w = got.splitlines(), want.splitlines()
    for i, (a, e) in enumerate(zip(g, w, strict=False)):
        if a != e:
            return f"line {i + 1}: got {a!r}, expected {e!r}"
    return f"got {len(g)} lines, expected {len(w)}"


def _check(b: BuiltinBenchmark) -> str | None:
    """Why ``b`` fails (or None): -O0 and -Oz must both reproduce the recorded output."""
    try:
        o0 = b.bitcode
        r0 = b.run(o0, timeout=30)
        if r0.timed_out or r0.returncode != 0 or r0.stdout != b.expected_output:
            return f"-O0 run: exit {r0.returncode}, timed out {r0.timed_out}, {_first_difference(r0.stdout, b.expected_output)}"
        oz = optimize(o0, "default<Oz>", what=b.uri)
        rz = b.run(oz, timeout=30)
        if rz.timed_out or rz.returncode != 0 or rz.stdout != b.expected_output:
            return f"-Oz run: exit {rz.returncode}, timed out {rz.timed_out}, {_first_difference(rz.stdout, b.expected_output)}"
    except Exception as exc:  # collect every failure, not only the first
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.mark.slow
def test_every_builtin_program_matches_its_output_at_O0_and_Oz() -> None:
    ds = get_dataset("builtin-v0")
    benches = list(ds.benchmarks())
    assert benches, f"no programs in {PROGRAMS_DIR}"
    # The work is in clang/llc/opt subprocesses, so threads run it in parallel.
    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = {b.name: why for b, why in zip(benches, pool.map(_check, benches), strict=True) if why}
    assert not failures, "\n".join(f"{n}: {w}" for n, w in sorted(failures.items()))


def test_every_program_has_a_header_and_an_output() -> None:
    sources = sorted(PROGRAMS_DIR.glob("*.c"))
    header = re.compile(r"^/\* optgym-builtin: .+\. Style: .+ \*/$")
    for src in sources:
        first = src.read_text(encoding="utf-8").splitlines()[0]
        assert header.match(first), f"{src.name}: first line is not the optgym-builtin header"
    names = get_dataset("builtin-v0").benchmark_names()
    for name in names:
        b = get_dataset("builtin-v0").benchmark(name)
        assert b.description and b.tags, name
        assert Path(b.output_path).read_text(), f"{name}.out is empty"
