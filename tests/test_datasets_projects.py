"""Users' own code: add-project from a compile_commands.json (one file broken) and from a
directory of .c/.ll/.bc files, persisted across processes; and the CLI around it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from optgym.datasets import add_project, get_benchmark, get_dataset, list_datasets
from optgym.datasets._util import cache_root, disassemble
from optgym.datasets.projects import _filter_flags, remove_project
from optgym.errors import BenchmarkError


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPTGYM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _make_project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "include").mkdir()
    (root / "include" / "conf.h").write_text("#define SCALE 3\n")
    (root / "src" / "a.c").write_text("#include \"conf.h\"\nint scale(int x) { return x * SCALE * FACTOR; }\n")
    (root / "src" / "b.c").write_text("int twice(int x) { return x + x; }\nint main(void) { return twice(0); }\n")
    (root / "src" / "broken.c").write_text("int oops(void) { return missing_symbol; }\n")
    cmds = [
        {"directory": str(root), "file": "src/a.c",
         "arguments": ["gcc", "-Iinclude", "-DFACTOR=7", "-O2", "-g", "-MD", "-MF", "a.d", "-c", "src/a.c", "-o", "build/a.o"]},
        {"directory": str(root), "file": str(root / "src" / "b.c"),
         "command": f"cc -O3 -std=c99 -c {root / 'src' / 'b.c'} -o build/b.o"},
        {"directory": str(root), "file": "src/broken.c", "command": "cc -c src/broken.c -o build/broken.o"},
    ]
    cc = root / "compile_commands.json"
    cc.write_text(json.dumps(cmds))
    return cc


def test_filter_flags_keeps_user_flags_and_drops_output_and_O() -> None:
    d = Path("/p")
    got = _filter_flags(["-Iinc", "-DX=1", "-O2", "-Os", "-g", "-MD", "-MF", "x.d", "-c", "f.c", "-o", "f.o", "-ofoo", "-std=c11"], Path("/p/f.c"), d)
    assert got == ["-Iinc", "-DX=1", "-g", "-std=c11"]


def test_add_project_from_compile_commands(tmp_path: Path) -> None:
    cc = _make_project(tmp_path / "proj")
    report = add_project(cc, "myproj-v0")
    assert report.imported == ["src/a", "src/b"]
    assert len(report.failures) == 1
    failed_file, message = report.failures[0]
    assert failed_file.endswith("broken.c") and "missing_symbol" in message
    # No dependency file was written into the user's tree, and no build/ output either.
    assert not (tmp_path / "proj" / "a.d").exists() and not (tmp_path / "proj" / "build").exists()

    ds = get_dataset("myproj-v0")
    assert ds.size == 2 and not ds.runnable
    assert "benchmark://myproj-v0" in [d.uri_prefix for d in list_datasets()]
    a = get_benchmark("benchmark://myproj-v0/src/a")
    ir = disassemble(a.bitcode)
    # The user's -I (SCALE=3), -D (FACTOR=7) and -g were honoured; -O2 became -O0 without optnone.
    assert re.search(r"mul nsw i32 %\d+, 3", ir) and re.search(r"mul nsw i32 %\d+, 7", ir)
    assert "!DILocation" in ir
    assert "optnone" not in ir and "alloca" in ir
    assert set(ds.benchmark_uris("train")) | set(ds.benchmark_uris("validation")) | set(ds.benchmark_uris("test")) == set(ds.benchmark_uris())

    # Persisted: another process sees it.
    code = "from optgym.datasets import get_dataset; print(get_dataset('myproj-v0').benchmark_uris())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ)).stdout
    assert "benchmark://myproj-v0/src/b" in out

    # The name is taken now; --replace overwrites; remove deletes.
    with pytest.raises(BenchmarkError, match="already exists"):
        add_project(cc, "myproj-v0")
    add_project(cc, "myproj-v0", replace=True)
    assert not [p for p in (cache_root() / "projects").iterdir() if p.name.startswith(".")]
    remove_project("myproj-v0")
    with pytest.raises(BenchmarkError, match="unknown dataset"):
        get_dataset("myproj-v0")


def test_add_project_from_directory(tmp_path: Path) -> None:
    root = tmp_path / "files"
    (root / "sub").mkdir(parents=True)
    (root / "k.c").write_text("int k(int x) { return x - 1; }\n")
    (root / "sub" / "m.ll").write_text("define i32 @m(i32 %x) {\n  %y = mul i32 %x, 3\n  ret i32 %y\n}\n")
    (root / "bad.ll").write_text("this is not IR\n")
    (root / "notes.txt").write_text("ignored\n")
    get_benchmark((root / "sub" / "m.ll").as_uri())  # resolves before import too
    report = add_project(root, "files-v0")
    assert report.imported == ["k", "sub/m"]
    assert [f for f, _ in report.failures] == [str(root / "bad.ll")]
    assert get_benchmark("benchmark://files-v0/sub/m").bitcode[:4] == b"BC\xc0\xde"


def test_add_project_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="compile_commands.json or a directory"):
        add_project(tmp_path / "nothing-here", "x-v0")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchmarkError, match="nothing could be imported"):
        add_project(tmp_path / "empty", "empty-v0")
    with pytest.raises(BenchmarkError, match="invalid dataset name"):
        add_project(tmp_path / "empty", "bad name!")
    with pytest.raises(BenchmarkError, match="already exists"):
        add_project(tmp_path / "empty", "builtin-v0")
    # A failed import registers nothing and leaves no staging directory behind.
    assert "empty-v0" not in {d.name for d in list_datasets()}
    projects = cache_root() / "projects"
    assert not projects.exists() or not list(projects.iterdir())


def test_cli_add_project_list_show_build(tmp_path: Path) -> None:
    cc = _make_project(tmp_path / "proj")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "optgym.cli", "datasets", *args], capture_output=True, text=True, env=dict(os.environ))

    r = cli("add-project", str(cc), "--name", "cliproj-v0")
    assert r.returncode == 0, r.stderr
    assert "imported 2 benchmarks" in r.stdout and "missing_symbol" in r.stderr
    assert "\r" not in r.stderr and "file/s" not in r.stderr  # no progress bar printed into a pipe
    r = cli("list")
    assert r.returncode == 0 and "benchmark://cliproj-v0" in r.stdout and "benchmark://builtin-v0" in r.stdout
    r = cli("list", "--benchmarks", "cliproj-v0")
    assert r.stdout.split() == ["benchmark://cliproj-v0/src/a", "benchmark://cliproj-v0/src/b"]
    r = cli("show", "benchmark://cliproj-v0/src/b")
    assert r.returncode == 0 and "instructions:" in r.stdout
    out = tmp_path / "b.bc"
    r = cli("build", "benchmark://cliproj-v0/src/b", "-o", str(out))
    assert r.returncode == 0 and out.read_bytes()[:4] == b"BC\xc0\xde"
    r = cli("show", "benchmark://nope-v0/x")
    assert r.returncode == 2 and "known datasets" in r.stderr
    r = cli("list", "--benchmarks", "csmith-v0", "-n", "3", "--split", "test")
    assert r.returncode == 0 and len(r.stdout.split()) == 3
    for sub in ("list", "show", "build", "add-project", "download", "remove-project"):
        h = cli(sub, "--help")
        assert h.returncode == 0 and "usage:" in h.stdout
