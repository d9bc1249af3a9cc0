"""``optgym datasets ...``: list, inspect, build, import and download benchmark datasets."""

from __future__ import annotations

import argparse
import sys

_EPILOG = """\
examples:
  optgym datasets list
  optgym datasets show benchmark://builtin-v0/crc32 --run
  optgym datasets show generator://csmith-v0/42
  optgym datasets build builtin-v0
  optgym datasets build generator://csmith-v0/7 -o csmith7.bc
  optgym datasets build realc-v0            # fetch and compile ~40 real C projects
  optgym datasets build realc-fn-v0         # ... and split their modules into functions
  optgym datasets show realc-v0             # per-project statistics and splits
  optgym datasets build mycode-v0 --recipes my-recipes.toml
  optgym datasets add-project build/compile_commands.json --name myproj-v0
  optgym datasets add-project src/ --name kernels-v0
  optgym datasets download cbench-v1
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` command and its subcommands."""
    p = subparsers.add_parser(
        "datasets",
        help="list, inspect, build, import and download benchmark datasets",
        description=(
            "Benchmark datasets. URIs: benchmark://DATASET/NAME, generator://csmith-v0/SEED, "
            "generator://llvm-stress-v0/SEED, file:///abs/path.{c,ll,bc}. Bitcode is cached under "
            "$OPTGYM_CACHE (default ~/.cache/optgym)/llvm19-v1."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="datasets_command", metavar="SUBCOMMAND")
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])

    ls = sub.add_parser("list", help="list every dataset with its size, license and status",
                        description="List every known dataset: shipped, generated, downloadable and imported projects.")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.add_argument("--benchmarks", metavar="DATASET", help="list the benchmark URIs of DATASET instead")
    ls.add_argument("--split", choices=("train", "validation", "test"),
                    help="with --benchmarks: only this split (60/20/20 by a hash of the name)")
    ls.add_argument("-n", type=int, default=20, metavar="N",
                    help="with --benchmarks on a generator: how many seeds to list (default 20)")
    ls.set_defaults(handler=_list)

    sh = sub.add_parser("show", help="show one benchmark or dataset",
                        description="Show a dataset (by name) or a benchmark (by URI): its metadata, "
                                    "instruction count at -O0 and optionally its run.")
    sh.add_argument("uri", help="a dataset name (builtin-v0) or a benchmark URI / path to a .c/.ll/.bc file")
    sh.add_argument("--run", action="store_true", help="build and run the -O0 bitcode and compare with the expected output")
    sh.add_argument("--ir", action="store_true", help="print the -O0 IR text")
    sh.add_argument("--timeout", type=float, default=10.0, help="run time-out in seconds (default 10)")
    sh.set_defaults(handler=_show)

    bd = sub.add_parser("build", help="build (and cache) the bitcode of a dataset or one benchmark",
                        description="Compile the bitcode of every benchmark of a dataset (or of one URI) into the cache; "
                                    "with -o, write one benchmark's bitcode to a file.")
    bd.add_argument("name", help="a dataset name (builtin-v0) or a benchmark URI")
    bd.add_argument("-o", "--output", help="write the bitcode of the one benchmark named to this file")
    bd.add_argument("-j", "--jobs", type=int, default=2, help="parallel compile jobs (default 2)")
    bd.add_argument("--check", action="store_true", help="also run each runnable benchmark and compare its output")
    bd.add_argument("--force", action="store_true",
                    help="recipe datasets (realc-v0, ...): rebuild projects that are already built")
    bd.add_argument("--recipes", metavar="FILE",
                    help="build NAME from this TOML recipe file (see README 'Real code'); the dataset is remembered")
    bd.add_argument("--functions-of", metavar="DATASET",
                    help="with --recipes: make NAME the function-level split of DATASET (built from the same file)")
    bd.add_argument("-v", "--verbose", action="store_true", help="recipe datasets: print every failed file with clang's message")
    bd.set_defaults(handler=_build)

    ap = sub.add_parser("add-project", help="import a compile_commands.json or a directory of .c/.ll/.bc files as a dataset",
                        description=(
                            "Import your own code as a dataset. PATH is a compile_commands.json (or a directory holding one): "
                            "each translation unit is compiled with its own flags plus -O0 -Xclang -disable-O0-optnone "
                            "-emit-llvm -c (dropping -o, other -O levels and dependency-file flags). Otherwise PATH is a "
                            "directory whose .c, .ll and .bc files are imported. Failures are reported per file; the rest "
                            "imports. The dataset is stored in the cache directory and available to every process as "
                            "benchmark://NAME/<relative path without suffix>."))
    ap.add_argument("path", help="compile_commands.json, or a directory")
    ap.add_argument("--name", required=True, help="dataset name, e.g. myproject-v0 (letters, digits, - _ .)")
    ap.add_argument("--description", help="one-line description shown by 'datasets list'")
    ap.add_argument("--replace", action="store_true", help="replace an earlier import with the same name")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel compile jobs (default 2)")
    ap.set_defaults(handler=_add_project)

    rm = sub.add_parser("remove-project", help="delete an imported project dataset",
                        description="Delete a dataset made by add-project, with its cached bitcode.")
    rm.add_argument("name", help="the dataset name given to add-project")
    rm.set_defaults(handler=_remove_project)

    dl = sub.add_parser("download", help="download one of CompilerGym's published datasets (cbench-v1, ...)",
                        description=(
                            "Download a published dataset (LLVM 10 bitcode, which LLVM 19 reads), verify its sha256, and "
                            "unpack it atomically into the cache directory. A corrupt download is detected and nothing is "
                            "installed. Run 'optgym datasets list' to see which datasets are downloadable."))
    dl.add_argument("name", help="dataset name, e.g. cbench-v1")
    dl.add_argument("--url", help="download from this URL instead of the published one (a mirror)")
    dl.add_argument("--sha256", help="expected sha256 of the file at --url (default: the published sum)")
    dl.add_argument("--force", action="store_true", help="download again even if already installed")
    dl.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    dl.set_defaults(handler=_download)


def _list(args: argparse.Namespace) -> int:
    import json

    from optgym.datasets import get_dataset, list_datasets
    from optgym.datasets.core import GeneratorDataset

    if args.benchmarks:
        ds = get_dataset(args.benchmarks)
        uris = ds.first_uris(args.n, args.split) if isinstance(ds, GeneratorDataset) else ds.benchmark_uris(args.split)
        print(json.dumps(uris, indent=1) if args.json else "\n".join(uris))
        return 0
    from optgym.datasets.realc import RealCDataset

    rows = []
    for ds in list_datasets():
        row = {
            "uri": ds.uri_prefix,
            "size": ds.size,
            "runnable": ds.runnable,
            "installed": ds.installed,
            "license": ds.license,
            "description": ds.description,
        }
        if isinstance(ds, RealCDataset):
            row["stats"] = ds.stats()["totals"]
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    w = max(len(r["uri"]) for r in rows)
    print(f"{'DATASET':<{w}}  {'SIZE':>7}  {'RUN':<3}  {'STATUS':<14}  DESCRIPTION")
    for r in rows:
        size = "inf" if r["size"] == 0 and r["uri"].startswith("generator") else str(r["size"])
        description = r["description"]
        if "stats" in r:
            t = r["stats"]
            status = "built" if r["installed"] else ("partly built" if t["built_projects"] else "not built")
            description += (f" [{t['built_projects']}/{t['projects']} projects, {t['instructions']:,} instructions, "
                            f"{t['failures']} files failed]")
        else:
            status = "available" if r["installed"] else "not downloaded"
        print(f"{r['uri']:<{w}}  {size:>7}  {'yes' if r['runnable'] else 'no':<3}  {status:<14}  {description}")
    return 0


def _show_recipe_dataset(ds) -> None:  # noqa: ANN001 - a RealCDataset
    """Totals and one line per project of a dataset built from recipes."""
    st = ds.stats()
    t = st["totals"]
    print(f"projects:    {t['built_projects']} built of {t['projects']} ({ds.recipes_path})")
    print(f"modules:     {t['modules']}")
    print(f"instructions:{t['instructions']:>12,} (at the dataset's compile flags)")
    print(f"failures:    {t['failures']} files did not compile or split")
    if t["empty_modules"]:
        print(f"no code:     {t['empty_modules']} (modules without instructions: only data, or code "
              "for another architecture; kept, but there is nothing to optimize in them)")
    left_out = {"dropped_trivial": "trivial (< 5 instructions)", "dropped_duplicates": "duplicates in a project",
                "dropped_cross_split": "also in a project of an earlier split"}
    for k, what in left_out.items():
        if k in t:
            print(f"left out:    {t[k]} functions: {what}")
    print(f"licenses:    {', '.join(t['licenses'])}")
    print("splits:      by project (leave-project-out), sha256 of the project name, 60/20/20")
    for split, v in t["splits"].items():
        print(f"  {split + ':':<12}{v['projects']:>3} projects {v['modules']:>7} modules")
    print()
    print(f"{'PROJECT':<16} {'SPLIT':<10} {'MODULES':>7} {'INSTRS':>10} {'FAILED':>6}  LICENSE")
    for name, row in st["projects"].items():
        if not row["built"]:
            print(f"{name:<16} {row['split']:<10} {'-':>7} {'-':>10} {'-':>6}  {row['license']}  (not built)")
            continue
        print(f"{name:<16} {row['split']:<10} {row['modules']:>7} {row['instructions']:>10,} {row['failures']:>6}  {row['license']}")


def _show(args: argparse.Namespace) -> int:
    import os

    from optgym.datasets import count_instructions, get_benchmark, get_dataset
    from optgym.datasets._util import disassemble

    target = args.uri
    if "://" not in target and os.path.isfile(target):
        from pathlib import Path

        target = Path(target).resolve().as_uri()
    if "://" not in target and "/" not in target:
        ds = get_dataset(target)
        print(f"dataset:     {ds.uri_prefix}")
        print(f"description: {ds.description}")
        print(f"license:     {ds.license}")
        print(f"size:        {ds.size}{' (generator: unbounded)' if ds.scheme == 'generator' else ''}")
        print(f"runnable:    {ds.runnable}")
        print(f"installed:   {ds.installed}")
        from optgym.datasets.realc import RealCDataset

        if isinstance(ds, RealCDataset):
            _show_recipe_dataset(ds)
            return 0
        if ds.scheme != "generator" and ds.installed:
            for split in ("train", "validation", "test"):
                print(f"{split + ':':<12} {len(ds.benchmark_uris(split))}")
        return 0
    b = get_benchmark(target)
    bc = b.bitcode
    print(f"uri:          {b.uri}")
    print(f"dataset:      {b.dataset}")
    print(f"split:        {b.split}")
    for attr in ("description", "tags", "csmith_seed"):
        if hasattr(b, attr):
            print(f"{attr + ':':<14}{getattr(b, attr)}")
    print(f"runnable:     {b.runnable}")
    print(f"bitcode:      {len(bc)} bytes")
    print(f"instructions: {count_instructions(bc)} at -O0")
    if args.ir:
        print(disassemble(bc, what=b.uri))
    if args.run:
        r = b.run(timeout=args.timeout)
        print(f"run:          exit {r.returncode}{' (timed out)' if r.timed_out else ''} in {r.seconds:.3f} s")
        sys.stdout.write(r.stdout)
        if b.expected_output is not None:
            ok = not r.timed_out and r.returncode == b.expected_returncode and r.stdout == b.expected_output
            print(f"output:       {'matches' if ok else 'DIFFERS FROM'} the expected output")
            return 0 if ok else 1
    return 0


def _build(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    from optgym.datasets import get_benchmark, get_dataset
    from optgym.datasets._util import atomic_write_bytes
    from optgym.errors import BenchmarkError

    if "://" in args.name or "/" in args.name:
        b = get_benchmark(args.name)
        bc = b.bitcode
        if args.output:
            from pathlib import Path

            atomic_write_bytes(Path(args.output), bc)
            print(f"wrote {len(bc)} bytes of bitcode to {args.output}")
        else:
            print(f"{b.uri}: {len(bc)} bytes of bitcode (cached)")
        if args.check and b.runnable:
            ok = b.check_output(bc)
            print(f"{b.uri}: output {'matches' if ok else 'DIFFERS'}")
            return 0 if ok else 1
        return 0
    if args.output:
        print("optgym: error: -o needs a single benchmark URI, not a dataset", file=sys.stderr)
        return 2
    from optgym.datasets.realc import RealCDataset

    if args.recipes:
        from optgym.datasets.projects import register_recipe_dataset

        ds = register_recipe_dataset(args.name, args.recipes, functions_of=args.functions_of)
    else:
        ds = get_dataset(args.name)
    if isinstance(ds, RealCDataset):
        return _build_recipe_dataset(ds, args)
    if ds.scheme == "generator":
        print(f"optgym: error: {ds.name} is a generator; build single seeds by URI", file=sys.stderr)
        return 2
    benches = list(ds.benchmarks())

    def one(b):  # noqa: ANN001, ANN202 - local worker
        try:
            bc = b.bitcode
            if args.check and b.runnable and not b.check_output(bc):
                return b.uri, "output differs from the expected output"
            return b.uri, None
        except BenchmarkError as exc:
            return b.uri, str(exc)

    failures = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for uri, err in tqdm(pool.map(one, benches), total=len(benches), desc=f"build {ds.name}", unit="prog",
                             disable=not sys.stderr.isatty()):
            if err:
                failures.append((uri, err))
    for uri, err in failures:
        print(f"FAILED {uri}: {err}", file=sys.stderr)
    print(f"{len(benches) - len(failures)}/{len(benches)} benchmarks of {ds.name} built" + (" and checked" if args.check else ""))
    return 1 if failures else 0


def _build_recipe_dataset(ds, args: argparse.Namespace) -> int:  # noqa: ANN001 - a RealCDataset
    """Fetch and compile a recipe dataset, printing one line per project as it finishes."""
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = ds.build(jobs=args.jobs, force=args.force, log=log)
    for p in report.projects:
        if p.error:
            print(f"FAILED project {p.name}: {p.error}", file=sys.stderr)
        if args.verbose:
            for f, msg in p.failures:
                print(f"FAILED {p.name}/{f}:\n  " + "\n  ".join(msg.splitlines()), file=sys.stderr)
    built = [p for p in report.projects if not p.error]
    failed_files = sum(len(p.failures) for p in report.projects)
    totals = ds.stats()["totals"]
    print(f"{ds.name}: {totals['modules']} modules from {len(built)}/{len(report.projects)} projects in "
          f"{report.seconds:.0f} s; {failed_files} files failed" + ("" if args.verbose or not failed_files else " (-v lists them)"))
    dropped = [f"{totals[k]} {k.removeprefix('dropped_').replace('_', '-')}" for k in
               ("dropped_trivial", "dropped_duplicates", "dropped_cross_split") if k in totals]
    if dropped:
        print(f"left out: {', '.join(dropped)} functions")
    print(f"see: optgym datasets show {ds.name}")
    return 0 if built else 1


def _add_project(args: argparse.Namespace) -> int:
    from optgym.datasets.projects import add_project

    report = add_project(args.path, args.name, description=args.description, replace=args.replace, jobs=args.jobs,
                         progress=sys.stderr.isatty())
    for f, msg in report.failures:
        print(f"FAILED {f}:\n  " + "\n  ".join(msg.splitlines()[:12]), file=sys.stderr)
    print(f"imported {len(report.imported)} benchmarks as benchmark://{report.dataset}/ "
          f"({len(report.failures)} failed)")
    return 0


def _remove_project(args: argparse.Namespace) -> int:
    from optgym.datasets.projects import remove_project

    remove_project(args.name)
    print(f"removed {args.name}")
    return 0


def _download(args: argparse.Namespace) -> int:
    from optgym.datasets import download_dataset, get_dataset

    path = download_dataset(args.name, url=args.url, sha256=args.sha256, progress=not args.no_progress, force=args.force)
    ds = get_dataset(args.name)
    print(f"{ds.name}: {ds.size} benchmarks in {path}")
    return 0
