"""Evaluate the search policies on held-out programs: the builtin-v0 test split and csmith test
seeds, at a compilation budget and/or a time budget per program.

For each policy and budget: geometric mean of -Oz's instruction count over ours, mean walltime,
and the number of programs where the policy ends larger than -Oz; plus the same for
``optgym-opt`` with that policy (which emits -Oz's output when the search does not beat it, so
it is never worse).

    python benchmarks/policies_report.py                               # the full run
    python benchmarks/policies_report.py --policies evolve,random --seconds 60 --no-compilations
    python benchmarks/policies_report.py --csmith 20 --workers 2 -o report.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from tqdm import tqdm

from optgym.agents import Budget
from optgym.agents.parallel import SearchFailure, SearchTask, run_searches
from optgym.datasets import get_dataset

POLICIES = ("oz", "random", "greedy", "beam", "evolve", "oz-climb")


def programs(csmith: int, split: str) -> list[str]:
    """The held-out programs: builtin-v0's split and the first ``csmith`` seeds of the split."""
    return get_dataset("builtin-v0").benchmark_uris(split) + get_dataset("csmith-v0").first_uris(
        csmith, split)


def evaluate(policy: str, budget: Budget, uris: list[str], workers: int) -> dict:
    """Run one policy at one budget on every program; summary numbers and per-program rows."""
    tasks = [SearchTask(u, policy, budget, seed=0) for u in uris]
    rows, failed = [], []
    label = f"{policy} {budget.compilations or ''}{'c' if budget.compilations else ''}" \
            f"{'' if budget.seconds is None else f' {budget.seconds:g}s'}"
    started = time.monotonic()
    for _, out in tqdm(run_searches(tasks, workers=workers), total=len(tasks), desc=label,
                       file=sys.stderr):
        (failed if isinstance(out, SearchFailure) else rows).append(out)
    ratios = [r.oz_ratio for r in rows]
    geo = statistics.geometric_mean(ratios) if ratios else float("nan")
    safe = statistics.geometric_mean(max(x, 1.0) for x in ratios) if ratios else 0
    return {
        "policy": policy, "budget": label.split(" ", 1)[1], "n": len(rows),
        "geomean": geo, "optgym_opt_geomean": safe,
        "walltime": sum(r.walltime for r in rows) / max(len(rows), 1),
        "worse": sum(r.instruction_count > r.oz_count for r in rows),
        "failed": [str(f) for f in failed], "elapsed": time.monotonic() - started,
        "builtin": _geo([r for r in rows if "builtin" in r.benchmark]),
        "csmith": _geo([r for r in rows if "csmith" in r.benchmark]),
    }


def _geo(rows: list) -> float:
    return statistics.geometric_mean(r.oz_ratio for r in rows) if rows else float("nan")


def table(summaries: list[dict]) -> str:
    """The report as a Markdown table."""
    lines = ["| policy | budget | programs | geomean Oz/ours | builtin test | csmith test | "
             "optgym-opt geomean | mean walltime | worse than -Oz |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        lines.append(f"| {s['policy']} | {s['budget']} | {s['n']} | {s['geomean']:.4f} | "
                     f"{s['builtin']:.4f} | {s['csmith']:.4f} | {s['optgym_opt_geomean']:.4f} | "
                     f"{s['walltime']:.1f} s | {s['worse']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policies", default=",".join(POLICIES),
                   help=f"comma-separated policies (default {','.join(POLICIES)})")
    p.add_argument("--budget", type=int, default=45, help="compilations per program (default 45)")
    p.add_argument("--no-compilations", action="store_true",
                   help="skip the compilation-budget run")
    p.add_argument("--seconds", type=float, default=None,
                   help="also run at this many seconds per program (the full report uses 60)")
    p.add_argument("--time-policies", default=None,
                   help="policies for the time-budget run (default: --policies)")
    p.add_argument("--csmith", type=int, default=50, help="csmith test seeds (default 50)")
    p.add_argument("--split", default="test", choices=("train", "validation", "test"))
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument("-o", "--output", help="also write the Markdown table to this file")
    args = p.parse_args(argv)

    uris = programs(args.csmith, args.split)
    summaries = []
    if not args.no_compilations:
        for policy in args.policies.split(","):
            summaries.append(evaluate(policy, Budget(compilations=args.budget), uris,
                                      args.workers))
            print(table(summaries[-1:]).splitlines()[-1], flush=True)
    if args.seconds:
        for policy in (args.time_policies or args.policies).split(","):
            summaries.append(evaluate(policy, Budget(seconds=args.seconds), uris, args.workers))
            print(table(summaries[-1:]).splitlines()[-1], flush=True)
    text = table(summaries)
    print(text)
    for s in summaries:
        for f in s["failed"]:
            print(f"failed ({s['policy']} {s['budget']}): {f}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
