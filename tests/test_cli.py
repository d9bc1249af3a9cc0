"""The command line as a user meets it."""

from __future__ import annotations

import subprocess
import sys

from optgym import __version__


def _optgym(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "optgym.cli", *args], capture_output=True, text=True, check=check
    )


def test_help_and_version():
    assert "demo" in _optgym("--help").stdout
    assert __version__ in _optgym("--version").stdout


def test_demo_prints_counts_and_a_reproducing_commandline():
    out = _optgym("demo").stdout
    o0 = int(out.split("instructions at -O0:")[1].split()[0])
    oz = int(out.split("instructions at -Oz:")[1].split()[0])
    assert 0 < oz < o0
    assert "opt-19 --relocation-model=pic -passes='function(mem2reg)," in out


def test_demo_on_missing_file_is_a_clear_error(tmp_path):
    proc = _optgym("demo", str(tmp_path / "nope.ll"), check=False)
    assert proc.returncode == 2
    assert "nope.ll: no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_on_invalid_ir_names_the_file(tmp_path):
    bad = tmp_path / "bad.ll"
    bad.write_text("define i32 @f( {\n")
    proc = _optgym("demo", str(bad), check=False)
    assert proc.returncode == 2
    assert "bad.ll" in proc.stderr and "error" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_passes_lists_the_table():
    out = _optgym("passes").stdout.splitlines()
    assert len(out) == 117
    assert "function(instcombine<no-verify-fixpoint>)" in "\n".join(out)
    assert "-prune-eh" in _optgym("passes", "--left-out").stdout
