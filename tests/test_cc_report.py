"""`optgym cc-report`: the real optgym-cc against the real clang-19 -Oz, programs run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from optgym.cc_report import Row, table


def _optgym(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optgym.cli", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_a_program_is_built_both_ways_run_and_never_larger() -> None:
    done = _optgym("cc-report", "--split", "test", "-n", "1", "--budget", "4")
    assert done.returncode == 0, done.stderr
    row = done.stdout.splitlines()[2].split()
    assert row[0] == "benchmark://builtin-v0/csv_parse"
    clang_text, ours = int(row[1]), int(row[2])
    assert 0 < ours <= clang_text and row[4] == "same"
    assert "larger on 0; output differs on 0" in done.stdout


def test_a_broken_contract_is_counted() -> None:
    rows = [Row("a", 100, 90, True, 0.1, 1.0, 1.0), Row("b", 100, 120, False, 0.1, 1.0, 1.0)]
    out = table(rows)
    assert "DIFF" in out and "smaller than clang -Oz on 1, larger on 1; output differs on 1" in out


def test_a_compile_only_dataset_is_refused_by_name() -> None:
    done = _optgym("cc-report", "--dataset", "realc-v0")
    assert done.returncode != 0 and "realc-v0 is compile-only" in done.stderr
