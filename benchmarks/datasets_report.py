"""Report on the built-in suite: how many programs, their size in C lines and in LLVM
instructions at -O0 and -Oz, their style tags, and how long the whole suite takes to
build from a cold cache.

    .venv/bin/python benchmarks/datasets_report.py            # summary
    .venv/bin/python benchmarks/datasets_report.py --per-program --json report.json

Instructions are counted by ``optgym.llvm`` (libLLVM-19): unoptimized (the bitcode clang -Oz
hands its optimizer) and at -Oz, which is what ``clang-19 -Oz`` makes of that bitcode (the
README's yardstick). The cold build uses a fresh temporary cache directory, so nothing the
user has cached is reused or touched.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import time


def _counts(bc: bytes) -> tuple[int, int]:
    """(instructions unoptimized, instructions after clang-19 -Oz) of a bitcode module."""
    from optgym.datasets import count_instructions
    from optgym.llvm.toolchain import clang_optimize

    return count_instructions(bc), count_instructions(clang_optimize(bc))


def _dist(values: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(values, n=10) if len(values) >= 2 else [values[0]] * 9
    return {
        "min": min(values),
        "p10": qs[0],
        "median": statistics.median(values),
        "mean": statistics.fmean(values),
        "p90": qs[8],
        "max": max(values),
        "total": sum(values),
    }


def main(argv: list[str] | None = None) -> int:
    """Build the suite from a cold cache, count instructions, print (and save) a report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel compile jobs for the cold build (default 2)")
    parser.add_argument("--per-program", action="store_true", help="also print one line per program")
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON to PATH")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="optgym-report-cache-") as cache:
        os.environ["OPTGYM_CACHE"] = cache
        from optgym.datasets import get_dataset

        ds = get_dataset("builtin-v0")
        n = ds.size
        if n == 0:
            print("no built-in programs found", file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        results = ds.build_all(jobs=args.jobs, progress=True)
        build_seconds = time.perf_counter() - t0
        failed = [(name, str(err)) for name, err in results if err is not None]

        counter_name, count = "clang-19 -Oz, counted by optgym.llvm", _counts
        rows = []
        from tqdm import tqdm

        for b in tqdm(list(ds.benchmarks()), desc="count", unit="prog"):
            if any(b.name == f for f, _ in failed):
                continue
            o0, oz = count(b.bitcode)
            rows.append({
                "name": b.name,
                "c_lines": len(b.source.splitlines()),
                "o0": o0,
                "oz": oz,
                "oz_over_o0": oz / o0 if o0 else 0.0,
                "tags": b.tags,
            })

    tags = collections.Counter(t for r in rows for t in r["tags"])
    report = {
        "programs": n,
        "built": n - len(failed),
        "failed": failed,
        "cold_build_seconds": build_seconds,
        "cold_build_jobs": args.jobs,
        "counter": counter_name,
        "c_lines": _dist([r["c_lines"] for r in rows]),
        "instructions_o0": _dist([r["o0"] for r in rows]),
        "instructions_oz": _dist([r["oz"] for r in rows]),
        "oz_over_o0": _dist([r["oz_over_o0"] for r in rows]),
        "style_tags": dict(tags.most_common()),
        "per_program": rows,
    }

    print(f"builtin-v0: {n} programs, {report['built']} built; cold build {build_seconds:.1f} s with {args.jobs} jobs "
          f"({build_seconds / max(n, 1) * args.jobs:.2f} s per program per job)")
    print(f"instruction counts by {counter_name}")
    print(f"{'':>14} {'min':>7} {'p10':>7} {'median':>7} {'mean':>7} {'p90':>7} {'max':>7} {'total':>8}")
    for key, label in (("c_lines", "C lines"), ("instructions_o0", "-O0 instrs"), ("instructions_oz", "-Oz instrs"), ("oz_over_o0", "-Oz / -O0")):
        d = report[key]
        fmt = (lambda v: f"{v:7.2f}") if key == "oz_over_o0" else (lambda v: f"{v:7.0f}")
        total = "" if key == "oz_over_o0" else f"{d['total']:8.0f}"
        print(f"{label:>14} {fmt(d['min'])} {fmt(d['p10'])} {fmt(d['median'])} {fmt(d['mean'])} {fmt(d['p90'])} {fmt(d['max'])} {total}")
    print("style tags: " + ", ".join(f"{t} {c}" for t, c in tags.most_common()))
    for name, err in failed:
        print(f"FAILED {name}: {err.splitlines()[0]}")
    if args.per_program:
        print(f"\n{'program':<24} {'lines':>5} {'-O0':>6} {'-Oz':>6} {'ratio':>6}  tags")
        for r in rows:
            print(f"{r['name']:<24} {r['c_lines']:>5} {r['o0']:>6} {r['oz']:>6} {r['oz_over_o0']:>6.2f}  {', '.join(r['tags'])}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
