"""Run the exact packing search on the eleven production buffer-allocation problems.

Prints one row per problem: buffers, the search's status, height, wall and CPU seconds and
nodes, next to the height of a greedy heap (decreasing size, lowest fitting offset) measured in
the same run. The time limit is CPU seconds of the search (see ``pack``). Every packing the
search returns is checked with ``validate_packing``. The problems ship with the package, so this
runs in a fresh clone.

    .venv/bin/python benchmarks/packing_report.py [--time-limit 10] [--data DIR] [NAMES ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from tqdm import tqdm

from optgym.memory.agents.packing import (
    greedy_best_fit,
    load_minimalloc_csv,
    pack,
    packing_height,
    validate_packing,
)
from optgym.memory.minimalloc import DATA_DIR

DEFAULT_DATA = DATA_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="problem names to run (e.g. A K); default: every CSV in --data")
    parser.add_argument("--time-limit", type=float, default=10.0, help="CPU seconds allowed per problem (default 10)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"directory of NAME.CAPACITY.csv files (default {DEFAULT_DATA})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the randomized restarts (default 0)")
    args = parser.parse_args(argv)
    paths = sorted(args.data.glob("*.csv"))
    if args.names:
        paths = [p for p in paths if p.name.split(".")[0] in set(args.names)]
    if not paths:
        print(f"no matching NAME.CAPACITY.csv files in {args.data}", file=sys.stderr)
        return 2
    rows = []
    for path in tqdm(paths, desc="packing", unit="problem", file=sys.stderr, disable=not sys.stderr.isatty()):
        lower, upper, size, cap = load_minimalloc_csv(path)
        t0 = time.perf_counter()
        greedy = packing_height(size, greedy_best_fit(lower, upper, size))
        greedy_s = time.perf_counter() - t0
        res = pack(lower, upper, size, cap, time_limit=args.time_limit, seed=args.seed)
        if res.status == "fit":
            problems = validate_packing(lower, upper, size, res.offsets, cap)
            if problems:
                raise SystemExit(f"{path.name}: invalid packing: {problems[:3]}")
        rows.append((path.name.split(".")[0], len(size), cap, res, greedy, greedy_s))
    print("| problem | buffers | capacity | status | height | seconds | CPU s | nodes | greedy height | greedy / capacity |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, n, cap, res, greedy, _ in rows:
        print(f"| {name} | {n} | {cap:,} | {res.status} | {res.height:,} | {res.seconds:.2f} | {res.cpu_seconds:.2f} | {res.nodes:,} "
              f"| {greedy:,} | {greedy / cap:.3f} |")
    fit = sum(r[3].status == "fit" for r in rows)
    greedy_fit = sum(r[4] <= r[2] for r in rows)
    cpu = sorted(r[3].cpu_seconds for r in rows)
    print(f"\nsearch fits {fit}/{len(rows)} (CPU seconds: max {cpu[-1]:.2f}, median {statistics.median(cpu):.2f}; "
          f"limit {args.time_limit:g} s each); greedy fits {greedy_fit}/{len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
