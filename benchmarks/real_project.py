"""`optgym-cc` against `clang-19 -Oz` on real C libraries fetched from the package registry.

Each library of a recipe file (default ``benchmarks/real_projects.toml``: LZ4, Munk2D, libbase64;
realc-v0's recipe format, every archive pinned by sha256, fetched into the optgym cache, never
committed) is compiled file by file three ways, as ``make -j JOBS`` would: ``clang-19 -O0``,
``clang-19 -Oz`` and ``optgym-cc -Oz`` (default policy and budget; its build server starts cold,
within the measured time). The clang -Oz and optgym-cc builds are timed side by side in one
run. The library's self-test (a test program of its own, or ours in ``benchmarks/selftests/``)
is built once at -O0 and linked against each build; the optimized builds must print what the
-O0 build prints, and the self-test's run time with optgym-cc's objects is compared with
clang -Oz's (size costs speed; this says how much).

    .venv/bin/python benchmarks/real_project.py [--project NAME ...] [--budget N] [--jobs 2]
    .venv/bin/python benchmarks/real_project.py --recipes my.toml   # your own libraries
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from optgym.datasets.realc import compile_flags, fetch_sources, select_files, write_headers
from optgym.datasets.recipes import Recipe, RecipeError, parse_recipe
from optgym.llvm.core import elf_size_text, elf_text_size

HERE = Path(__file__).resolve().parent
OPTGYM_CC = str(Path(sys.executable).parent / "optgym-cc")


@dataclass
class SelfTest:
    """How a library's objects are tested: a test program and how to build it."""

    sources: list[str]  # absolute paths, or globs under the source root
    include_dirs: list[str]
    defines: list[str]
    libs: list[str]


@dataclass
class Build:
    """One build of a library: per object (.text, size text), and the wall time."""

    sizes: dict[str, tuple[int, int]]
    seconds: float
    objects: list[Path]


def load(path: Path) -> list[tuple[Recipe, SelfTest | None]]:
    """The recipes of a recipe file, each with its self-test (None when it has none)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path}: {exc}") from None
    tests = data.get("selftest", {})
    out = []
    for raw in data.get("project", []):
        recipe = parse_recipe(raw, origin=str(path))
        spec = tests.get(recipe.name)
        test = None
        if spec is not None:
            sources = [str(path.parent / spec["driver"])] if "driver" in spec else []
            test = SelfTest(sources + list(spec.get("sources", [])),
                            list(spec.get("include_dirs", [])), list(spec.get("defines", [])),
                            list(spec.get("libs", [])))
        out.append((recipe, test))
    return out


def build(compiler: list[str], files: list[Path], root: Path, flags: list[str], out: Path,
          jobs: int, env: dict[str, str] | None = None) -> Build:
    """Compile every file with ``compiler`` (``jobs`` at a time, as make -j does)."""
    out.mkdir()

    def one(source: Path) -> Path:
        obj = out / (source.relative_to(root).as_posix().replace("/", "__")[:-2] + ".o")
        subprocess.run([*compiler, *flags, "-c", str(source), "-o", str(obj)], check=True,
                       env=env)
        return obj

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        objects = list(pool.map(one, files))
    seconds = time.perf_counter() - started
    sizes = {}
    for source, obj in zip(files, objects, strict=True):
        data = obj.read_bytes()
        sizes[source.relative_to(root).as_posix()] = (elf_text_size(data), elf_size_text(data))
    return Build(sizes, seconds, objects)


def self_test(test: SelfTest, root: Path, objects: list[Path], work: Path, tag: str,
              runs: int = 1) -> tuple[str, float]:
    """Build the test program against ``objects`` and run it; (its output, median seconds)."""
    sources = [s if Path(s).is_absolute() else str(p) for s in test.sources
               for p in (sorted(root.glob(s)) if not Path(s).is_absolute() else [Path(s)])]
    exe = work / f"selftest-{tag}"
    subprocess.run(["clang-19", "-O0", "-w", *(f"-I{root / d}" for d in test.include_dirs),
                    *(f"-D{d}" for d in test.defines), *sources, *map(str, objects),
                    "-o", str(exe), *test.libs], check=True)
    outputs, times = set(), []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600, cwd=work)
        times.append(time.perf_counter() - started)
        outputs.add(f"exit {proc.returncode}\n{proc.stdout}")
    if len(outputs) != 1:
        raise SystemExit(f"{tag}: the self-test's output changes from run to run")
    return outputs.pop(), statistics.median(times)


def measure(recipe: Recipe, test: SelfTest | None, budget: int | None, jobs: int) -> dict:
    """Build one library three ways and test it; a dict of what the report prints."""
    root = fetch_sources(recipe)
    gen = write_headers(recipe, "real-projects", root)
    flags = compile_flags(recipe, root, gen)
    files = select_files(recipe, root)
    env = dict(os.environ, **({"OPTGYM_CC_BUDGET": str(budget)} if budget else {}))
    with tempfile.TemporaryDirectory(prefix="optgym-real-") as tmp:
        work = Path(tmp)
        o0 = build(["clang-19", "-O0"], files, root, flags, work / "o0", jobs)
        theirs = build(["clang-19", "-Oz"], files, root, flags, work / "clang", jobs)
        ours = build([OPTGYM_CC, "-Oz"], files, root, flags, work / "optgym", jobs, env)
        result = {"name": recipe.name, "version": recipe.version, "files": len(files),
                  "theirs": theirs.sizes, "ours": ours.sizes,
                  "seconds": (theirs.seconds, ours.seconds)}
        if test is not None:
            reference, _ = self_test(test, root, o0.objects, work, "o0")
            clang_out, clang_s = self_test(test, root, theirs.objects, work, "clang", runs=3)
            ours_out, ours_s = self_test(test, root, ours.objects, work, "optgym", runs=3)
            result["same"] = (clang_out == reference, ours_out == reference)
            result["run_seconds"] = (clang_s, ours_s)
    return result


def report(r: dict, per_object: bool) -> None:
    theirs, ours = r["theirs"], r["ours"]
    print(f"\n{r['name']} {r['version']}: {r['files']} translation units")
    if per_object:
        print(f"  {'object':<40}{'clang -Oz .text':>16}{'optgym-cc':>11}{'ratio':>8}")
        for name in theirs:
            print(f"  {name:<40}{theirs[name][0]:>16,}{ours[name][0]:>11,}"
                  f"{theirs[name][0] / max(ours[name][0], 1):>8.3f}")
    with_code = [n for n in theirs if theirs[n][0] and ours[n][0]]
    geo = statistics.geometric_mean([theirs[n][0] / ours[n][0] for n in with_code])
    text = [sum(v[i] for v in d.values()) for d in (theirs, ours) for i in (0, 1)]
    larger = sum(ours[n][0] > theirs[n][0] or ours[n][1] > theirs[n][1] for n in theirs)
    print(f"  .text total {text[0]:,} -> {text[2]:,} ({text[0] / text[2]:.4f}x), geomean per "
          f"object {geo:.4f}x; size text {text[1]:,} -> {text[3]:,}; objects larger: {larger}")
    t_clang, t_ours = r["seconds"]
    print(f"  build: clang-19 -Oz {t_clang:.1f} s, optgym-cc {t_ours:.1f} s "
          f"({t_ours / t_clang:.1f}x)")
    if "same" in r:
        run_clang, run_ours = r["run_seconds"]
        print(f"  self-test output equals the -O0 build's: clang -Oz {r['same'][0]}, optgym-cc "
              f"{r['same'][1]}; its run time with optgym-cc's objects {run_ours:.3f} s against "
              f"clang -Oz's {run_clang:.3f} s ({run_ours / run_clang:.2f}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", type=Path, default=HERE / "real_projects.toml",
                        help="recipe file (default: benchmarks/real_projects.toml)")
    parser.add_argument("--project", action="append", help="only these projects (repeatable)")
    parser.add_argument("--budget", type=int, default=None,
                        help="optgym-cc compilations per file (default: optgym-cc's own)")
    parser.add_argument("--jobs", type=int, default=2, help="files compiled at once (default 2)")
    parser.add_argument("--per-object", action="store_true", help="print every object's .text")
    args = parser.parse_args(argv)
    try:
        chosen = [(r, t) for r, t in load(args.recipes)
                  if not args.project or r.name in args.project]
    except RecipeError as exc:
        raise SystemExit(str(exc)) from None
    if not chosen:
        raise SystemExit(f"no project of {args.recipes} matches {args.project}")
    results = [measure(r, t, args.budget, args.jobs) for r, t in chosen]
    for r in results:
        report(r, args.per_object)
    ok = all(r.get("same", (True, True))[1] for r in results) and all(
        r["ours"][n][0] <= r["theirs"][n][0] for r in results for n in r["theirs"])
    seconds = [sum(r["seconds"][i] for r in results) for i in (0, 1)]
    print(f"\nall: build time {seconds[1]:.1f} s against clang-19 -Oz's {seconds[0]:.1f} s "
          f"({seconds[1] / seconds[0]:.1f}x); self-tests and sizes {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
