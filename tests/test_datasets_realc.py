"""Datasets built from recipes (realc-v0, realc-fn-v0 and users' own): recipe parsing and
typed errors, fetching by URL and from a PyPI index (a local server on 127.0.0.1 serving a
tarball the test makes), sha256 refusal, per-file failures, resuming, splitting modules
into functions, leave-project-out splits and the CLI; plus one small real sdist from PyPI
when PyPI is reachable."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

import pytest

from optgym.datasets import get_benchmark, get_dataset, register_dataset, unregister_dataset
from optgym.datasets._util import SPLITS, cache_root
from optgym.datasets.realc import (
    MIN_FUNCTION_INSTRUCTIONS,
    RealCDataset,
    build_realc,
    project_split,
    split_functions,
)
from optgym.datasets.recipes import RecipeError, load_recipes, parse_recipes
from optgym.errors import BenchmarkError
from optgym.llvm.core import Module

GOOD = """
[[project]]
name = "demo"
version = "1.0"
license = "MIT"
source = { url = "https://example.org/demo-1.0.tar.gz", sha256 = "SHA_A" }
files = ["src/*.c"]
include_dirs = ["include"]
defines = ["X=1"]
[project.headers]
"config.h" = "#define Y 2\\n"

[[project]]
name = "other"
version = "2"
license = "BSD-3-Clause"
source = { pypi = "other", version = "2.0", filename = "other-2.0.tar.gz", sha256 = "SHA_B" }
files = ["**/*.c"]
python = true
""".replace("SHA_A", "a" * 64).replace("SHA_B", "b" * 64)


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTGYM_CACHE", str(tmp_path / "cache"))


def test_recipes_parse_into_typed_fields() -> None:
    demo, other = parse_recipes(GOOD, origin="t.toml")
    assert demo.name == "demo" and demo.source.url and demo.source.pypi is None
    assert demo.files == ("src/*.c",) and demo.defines == ("X=1",) and demo.headers == (("config.h", "#define Y 2\n"),)
    assert other.source.pypi == "other" and other.source.filename == "other-2.0.tar.gz" and other.python
    assert demo.fingerprint() != other.fingerprint()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('files = ["src/*.c"]\n', ""), r"t\.toml: project 'demo': missing field 'files'"),
    (lambda t: t.replace("a" * 64, "xyz"), r"project 'demo': field 'source': 'sha256' must be 64 hex"),
    (lambda t: t.replace('defines = ["X=1"]', 'defines = "X=1"'), r"project 'demo': field 'defines' must be a list"),
    (lambda t: t.replace('defines = ["X=1"]', 'define = ["X=1"]'), r"project 'demo' has unknown fields \['define'\]"),
    (lambda t: t.replace('files = ["src/*.c"]', 'files = ["../escape/*.c"]'), r"project 'demo': field 'files' has '\.\./escape"),
    (lambda t: t.replace('"config.h" =', '"/etc/config.h" ='), r"project 'demo': field 'headers' has '/etc/config.h'"),
    (lambda t: t.replace("https://example.org", "ftp://example.org"), r"project 'demo': field 'source': 'url' must start with"),
    (lambda t: t.replace('pypi = "other", ', 'pypi = "other", url = "https://x/y.tgz", '), r"project 'other': field 'source': give either"),
    (lambda t: t.replace('pypi = "other", version = "2.0", ', 'pypi = "other", '), r"project 'other': field 'source': missing field 'version'"),
    (lambda t: t.replace("python = true", 'python = "yes"'), r"project 'other': field 'python' must be true or false"),
    (lambda t: t.replace('name = "other"', 'name = "demo"'), r"project 'demo': field 'name' is used by two projects"),
    (lambda t: t.replace('name = "other"', 'name = "a b"'), r"field 'name' must be letters"),
    (lambda t: t + "\n[oops\n", r"t\.toml: not valid TOML"),
    (lambda t: "title = 'x'\n", r"unknown top-level keys \['title'\]"),
])
def test_bad_recipes_raise_typed_errors_naming_recipe_and_field(edit, message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        parse_recipes(edit(GOOD), origin="t.toml")
    assert issubclass(RecipeError, BenchmarkError)


def test_configure_text_fills_templates_like_cmake_and_autoheader() -> None:
    from optgym.datasets.recipes import configure_text

    text = configure_text("#cmakedefine HAVE_X 1\n#cmakedefine HAVE_Y\n#cmakedefine01 T\n#cmakedefine01 F\n"
                          "#define V @V@ ${V} @UNSET@\n#undef PACKAGE\n#undef OTHER\n/* mail@example.org */\n",
                          {"HAVE_X": "ON", "HAVE_Y": "OFF", "T": "1", "V": "4", "PACKAGE": '"p"'})
    assert text.splitlines() == ["#define HAVE_X 1", "/* #undef HAVE_Y */", "#define T 1", "#define F 0",
                                 "#define V 4 4 ", '#define PACKAGE "p"', "#undef OTHER", "/* mail@example.org */"]
    bad = GOOD.replace('[project.headers]', '[project.configure]\n"v.h" = { template = "../v.h.in" }\n[project.headers]')
    with pytest.raises(RecipeError, match=r"project 'demo': field 'configure' has '\.\./v\.h\.in'"):
        parse_recipes(bad, origin="t.toml")
    bad = GOOD.replace('[project.headers]', '[project.configure]\n"v.h" = "x"\n[project.headers]')
    with pytest.raises(RecipeError, match=r"project 'demo': field 'configure' must be a table"):
        parse_recipes(bad, origin="t.toml")


def test_shipped_recipes_parse_and_cover_25_projects_in_every_split() -> None:
    recipes = load_recipes()
    assert len(recipes) >= 25
    assert len({r.name for r in recipes}) == len(recipes)
    splits = {project_split(r.name) for r in recipes}
    assert splits == set(SPLITS)  # every split has at least one project
    with pytest.raises(RecipeError, match="cannot read"):
        load_recipes("/nonexistent/recipes.toml")


# -- a local server with a tiny C project --------------------------------------------------
HEADER = "static inline int clamp(int x, int lo, int hi) { if (x < lo) return lo; if (x > hi) return hi; return x; }\n"
FILES = {
    "tiny-1.0/include/tiny.h": HEADER,
    "tiny-1.0/include/ver.h.in": "#define TINY_VERSION @V@\n#cmakedefine HAVE_FOO 1\n#cmakedefine HAVE_BAR 1\n",
    "tiny-1.0/src/a.c": '#include "tiny.h"\n#include "conf.h"\nint scale(int x) { return clamp(x * SCALE * FACTOR, 0, 1000); }\n'
                        "int get(void) { return 1; }\n"
                        "static int helper(int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i] * p[i]; return s; }\n"
                        "int sumsq(int *p, int n) { return helper(p, n) + helper(p, n / 2); }\n",
    "tiny-1.0/src/b.c": '#include "tiny.h"\n#include "ver.h"\n#if defined(HAVE_FOO) && !defined(HAVE_BAR)\n'
                        "int clip(int x) { int y = clamp(x, -5, 5); return y * y + x * TINY_VERSION; }\n#endif\n",
    "tiny-1.0/src/broken.c": "int oops(void) { return missing_symbol; }\n",
    "tiny-1.0/other/c.c": "int loop(int n) { int s = 0; while (n > 0) { s += n % 7; n /= 3; } return s; }\n",
    "tiny-1.0/README": "not C\n",
}


def _tarball(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()




def _tiny_recipes(url: str, sha: str, names: tuple[str, ...] = ("tiny",)) -> str:
    out = []
    for i, name in enumerate(names):
        out.append(f"""
[[project]]
name = "{name}"
version = "1.0"
license = "MIT"
description = "a tiny test project"
source = {{ url = "{url}", sha256 = "{sha}" }}
files = ["src/*.c"]
include_dirs = ["include", "@gen/gen"]
defines = ["FACTOR={7 + i}"]
[project.headers]
"gen/conf.h" = "#define SCALE 3\\n"
[project.configure]
"ver.h" = {{ template = "include/ver.h.in", values = {{ V = "42", HAVE_FOO = "ON", HAVE_BAR = "OFF" }} }}
""")
    return "".join(out)


def _serve_tiny(root: Path) -> tuple[str, str]:
    data = _tarball(FILES)
    (root / "tiny-1.0.tar.gz").write_bytes(data)
    return "tiny-1.0.tar.gz", hashlib.sha256(data).hexdigest()


def test_url_recipe_builds_reports_failures_and_resumes(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    fname, sha = _serve_tiny(root)
    recipe_file = tmp_path / "r.toml"
    recipe_file.write_text(_tiny_recipes(f"{base}/{fname}", sha))
    recipes = load_recipes(recipe_file)
    report = build_realc(recipes, dataset="tiny-v0", progress=False)
    (p,) = report.projects
    assert p.error is None and p.modules == 2
    assert [f for f, _ in p.failures] == ["src/broken.c"] and "missing_symbol" in p.failures[0][1]

    ds = register_dataset(RealCDataset("tiny-v0", recipe_file), replace=True)
    try:
        assert ds.benchmark_names() == ["tiny/src/a", "tiny/src/b"] and ds.installed and ds.size == 2
        b = get_benchmark("benchmark://tiny-v0/tiny/src/a")
        m = Module.parse(b.bitcode)
        assert m.verify() is None
        ir = m.ir()
        assert "mul nsw i32 %" in ir and ", 3" in ir and ", 7" in ir  # generated header + define reached clang
        clip = Module.parse(get_benchmark("benchmark://tiny-v0/tiny/src/b").bitcode).ir()
        assert "@clip(" in clip and ", 42" in clip  # the configured header: @V@ and #cmakedefine
        assert b.instructions == m.instruction_count() > 0 and b.split == project_split("tiny")
        with pytest.raises(BenchmarkError, match="no such benchmark; names are PROJECT/PATH with PROJECT one of tiny"):
            ds.benchmark("tiny/src/zzz")
        with pytest.raises(BenchmarkError, match="realc-v0 is not built yet; run: optgym datasets build realc-v0"):
            get_benchmark("benchmark://realc-v0/lua/lapi")
        st = ds.stats()
        assert st["totals"]["modules"] == 2 and st["totals"]["failures"] == 1 and st["totals"]["licenses"] == ["MIT"]
        assert st["totals"]["empty_modules"] == 0
        assert st["projects"]["tiny"]["instructions"] == sum(x.instructions for x in ds.benchmarks())

        # Resume: a finished project is not rebuilt; with its manifest gone (a killed build),
        # the finished bitcode files are reused, not recompiled.
        bc_files = sorted((cache_root() / "tiny-v0" / "modules" / "tiny").glob("*.bc"))
        stamps = [f.stat().st_mtime_ns for f in bc_files]
        (cache_root() / "tiny-v0" / "projects" / "tiny.json").unlink()
        assert not ds.installed
        again = build_realc(recipes, dataset="tiny-v0", progress=False)
        assert again.projects[0].modules == 2
        assert [f.stat().st_mtime_ns for f in sorted(bc_files)] == stamps
        assert ds.installed
    finally:
        unregister_dataset("tiny-v0")


def test_sha256_mismatch_is_refused_and_nothing_is_unpacked(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    fname, sha = _serve_tiny(root)
    wrong = ("0" if sha[0] != "0" else "1") + sha[1:]
    recipes = parse_recipes(_tiny_recipes(f"{base}/{fname}", wrong))
    report = build_realc(recipes, dataset="tiny-v0", progress=False)
    (p,) = report.projects
    assert p.modules == 0 and p.error and "does not match" in p.error and wrong in p.error
    sources = cache_root() / "sources"
    assert not sources.exists() or not [d for d in sources.iterdir() if not d.name.startswith(".")]
    assert not (cache_root() / "tiny-v0" / "projects").exists()


def test_pypi_source_resolves_through_the_simple_json_api(server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    base, root = server
    fname, sha = _serve_tiny(root)
    (root / "simple" / "tiny-pkg").mkdir(parents=True)
    # Relative file URLs, as PyPI mirrors serve them, are resolved against the index page.
    index = {"meta": {"api-version": "1.0"}, "name": "tiny-pkg",
             "files": [{"filename": "tiny-0.9.tar.gz", "url": "../../nope.tar.gz", "hashes": {}},
                       {"filename": fname, "url": f"../../{fname}", "hashes": {"sha256": sha}}]}
    (root / "simple" / "tiny-pkg" / "index.html").write_text(json.dumps(index))
    monkeypatch.setenv("OPTGYM_PYPI_URL", base)
    text = _tiny_recipes("x", sha).replace('url = "x"', f'pypi = "Tiny_Pkg", version = "1.0", filename = "{fname}"')
    report = build_realc(parse_recipes(text), dataset="tiny-v0", progress=False)
    assert report.projects[0].modules == 2, report.projects[0].error
    missing = text.replace(f'filename = "{fname}"', 'filename = "tiny-2.0.tar.gz"')
    monkeypatch.setenv("OPTGYM_CACHE", str(tmp_path / "fresh"))  # the archive is cached by sha256 otherwise
    report = build_realc(parse_recipes(missing), dataset="tiny-v0", progress=False)
    assert "PyPI lists no file 'tiny-2.0.tar.gz'" in (report.projects[0].error or "")


def test_split_functions_verifies_each_piece_and_counts_add_up() -> None:
    from optgym.datasets._util import compile_c_to_bitcode

    code = (HEADER + "int table[4] = {1, 2, 3, 4};\n"
            "static int helper(int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i] * table[i & 3]; return s; }\n"
            "int api(int *p, int n) { return clamp(helper(p, n), 0, 99) + helper(p, n / 2); }\n"
            "int trivial(void) { return 4; }\n").encode()
    bc = compile_c_to_bitcode(None, code=code, what="t.c", extra_flags=("-g0",))
    whole = Module.parse(bc)
    pieces = split_functions(bc, what="t.c")
    assert sorted(p.function for p in pieces) == ["api", "clamp", "helper", "trivial"]
    assert sum(p.instructions for p in pieces) == whole.instruction_count()
    for p in pieces:
        m = Module.parse(p.bitcode)
        assert m.verify() is None
        assert m.counts()[2] == 1  # exactly one defined function: the one named
        ir = m.ir()
        assert f"@{p.function}(" in ir and "define" in ir
        if p.function == "api":  # its callees stay as declarations, its globals come along
            assert "declare" in ir and "@helper(" in ir and "@clamp(" in ir
        if p.function == "helper":
            assert "@table" in ir
    assert [p.instructions < MIN_FUNCTION_INSTRUCTIONS for p in pieces if p.function == "trivial"] == [True]


def test_function_pieces_match_llvm_extract(tmp_path: Path) -> None:
    """The in-process split makes what the real llvm-extract-19 --func makes: the same
    definitions and declarations (with the same linkage and visibility) and instructions."""
    from optgym.datasets._util import compile_c_to_bitcode
    from optgym.llvm.toolchain import tool

    code = (b"#include <stdio.h>\nstatic int counter = 5;\nstatic const int table[4] = {1, 2, 3, 4};\nint pub = 3;\n"
            b"static int helper(int x) { return table[x & 3] + counter++; }\n"
            b"int api(int x) { printf(\"%d\\n\", x); return helper(x) + pub; }\n"
            b"int other(int y) { return helper(y) * 2; }\n")
    bc = compile_c_to_bitcode(None, code=code, what="t.c", extra_flags=("-g0",))
    (tmp_path / "t.bc").write_bytes(bc)

    def globals_of(ir: str) -> list[str]:
        return sorted(line.split(" #")[0] for line in ir.splitlines() if line.startswith(("@", "declare", "define")))

    for p in split_functions(bc, what="t.c"):
        ref = subprocess.run([tool("llvm-extract"), f"--func={p.function}", str(tmp_path / "t.bc"), "-o", "-"],
                             capture_output=True, check=True).stdout
        ours, theirs = Module.parse(p.bitcode), Module.parse(ref)
        assert globals_of(ours.ir()) == globals_of(theirs.ir()), p.function
        assert ours.instruction_count() == theirs.instruction_count() == p.instructions
    from optgym.errors import LlvmError

    with pytest.raises(LlvmError, match="no function named 'missing'"):
        Module.parse(bc).extract_function("missing")


def test_function_dataset_and_leave_project_out_splits(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    fname, sha = _serve_tiny(root)
    # p0..p3 fall in train, test, train and validation by the sha256 of their names.
    names = tuple(f"p{i}" for i in range(4))
    recipe_file = tmp_path / "r.toml"
    recipe_file.write_text(_tiny_recipes(f"{base}/{fname}", sha, names))
    mods = register_dataset(RealCDataset("tinymods-v0", recipe_file), replace=True)
    fns = register_dataset(RealCDataset("tinyfn-v0", recipe_file, functions_of="tinymods-v0"), replace=True)
    try:
        report = fns.build(progress=False)
        assert mods.installed and fns.installed
        # Per project: get() (one instruction) is trivial and clamp(), a static inline from
        # the header, is defined in a.c and b.c alike: kept once.
        assert {p.modules for p in report.projects} == {5}
        n0 = sorted(n for n in fns.benchmark_names() if n.startswith("p0/"))
        assert n0 == ["p0/src/a/clamp", "p0/src/a/helper", "p0/src/a/scale", "p0/src/a/sumsq", "p0/src/b/clip"]
        # The projects differ only in FACTOR, so scale() is their own; the other functions of
        # the validation and test projects are the train projects' and are left out of them.
        assert sorted(n for n in fns.benchmark_names() if n.startswith(("p1/", "p3/"))) == ["p1/src/a/scale", "p3/src/a/scale"]
        tot = fns.stats()["totals"]
        assert tot["dropped_trivial"] == len(names) and tot["dropped_duplicates"] == len(names)
        assert tot["dropped_cross_split"] == 8 and tot["modules"] == 5 + 5 + 1 + 1
        for ds in (mods, fns):
            by_split = {s: {n.split("/")[0] for n in ds.benchmark_names(s)} for s in SPLITS}
            assert all(by_split.values()), by_split
            assert not (by_split["train"] & by_split["test"]) and not (by_split["train"] & by_split["validation"])
            assert not (by_split["validation"] & by_split["test"])
            assert set().union(*by_split.values()) == set(names)
            for s in SPLITS:
                for b in list(ds.benchmarks(s))[:3]:
                    assert b.split == s == project_split(b.project)
            assert ds.random_benchmark(__import__("numpy").random.default_rng(0), "test").project in by_split["test"]
    finally:
        unregister_dataset("tinymods-v0")
        unregister_dataset("tinyfn-v0")


def test_cli_build_show_list_recipe_dataset_without_progress_bars(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    fname, sha = _serve_tiny(root)
    recipe_file = tmp_path / "r.toml"
    # With HAVE_BAR configured on, b.c preprocesses to nothing: a module with no code.
    recipe_file.write_text(_tiny_recipes(f"{base}/{fname}", sha).replace('HAVE_BAR = "OFF"', 'HAVE_BAR = "ON"'))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "optgym.cli", "datasets", *args], capture_output=True, text=True,
                              env=dict(os.environ))

    r = cli("build", "mine-v0", "--recipes", str(recipe_file), "-v")
    assert r.returncode == 0, r.stderr
    assert "mine-v0: 2 modules from 1/1 projects" in r.stdout and "FAILED tiny/src/broken.c" in r.stderr
    assert "\r" not in r.stderr and "file/s" not in r.stderr  # no progress bar into a pipe
    r = cli("show", "mine-v0")
    assert r.returncode == 0 and "tiny" in r.stdout and "leave-project-out" in r.stdout
    assert "no code:     1 (modules without instructions" in r.stdout
    r = cli("list", "--benchmarks", "mine-v0")
    assert r.stdout.split() == ["benchmark://mine-v0/tiny/src/a", "benchmark://mine-v0/tiny/src/b"]
    r = cli("list")
    lines = {ln.split()[0]: ln for ln in r.stdout.splitlines()[1:]}
    assert "built" in lines["benchmark://mine-v0"] and "1/1 projects" in lines["benchmark://mine-v0"]
    assert "not built" in lines["benchmark://realc-v0"] and "benchmark://realc-fn-v0" in lines
    # A dataset's RUN column and its description agree (cbench-v1 cannot be run here).
    for line in lines.values():
        run = line.split()[2]
        assert not (run == "no" and "Runnable" in line), line
    bad = tmp_path / "bad.toml"
    bad.write_text("[[project]]\nname = 'x'\n")
    r = cli("build", "bad-v0", "--recipes", str(bad))
    assert r.returncode != 0 and "missing field" in r.stderr and "bad.toml" in r.stderr
    r = cli("build", "realc-v0", "--help")
    assert r.returncode == 0 and "--recipes" in r.stdout


def _pypi_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/xxhash/", timeout=10).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _pypi_reachable(), reason="PyPI is not reachable from here")
def test_real_sdist_from_pypi_builds() -> None:
    """One small shipped recipe end to end against the real PyPI (a 114 kB sdist)."""
    (xx,) = [r for r in load_recipes() if r.name == "xxhash"]
    report = build_realc([xx], dataset="realc-v0", progress=False)
    (p,) = report.projects
    assert p.error is None and p.modules >= 1 and p.instructions > 1000
    ds = get_dataset("realc-v0")
    names = [n for n in ds.benchmark_names() if n.startswith("xxhash/")]
    assert names and all(ds.benchmark(n).split == project_split("xxhash") for n in names)
