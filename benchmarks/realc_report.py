"""Per-project statistics of the real-code datasets, and helpers for evaluating a policy on
their test split project by project.

    .venv/bin/python benchmarks/realc_report.py                 # per-project table (realc-v0 + realc-fn-v0)
    .venv/bin/python benchmarks/realc_report.py --json stats.json
    .venv/bin/python benchmarks/realc_report.py --uris test --per-project 5 > test-uris.txt
    optgym search --policy evolve --budget 45 $(sed 's/^/--benchmark /' test-uris.txt) -o res.csv
    .venv/bin/python benchmarks/realc_report.py --results res.csv   # group a search's results by project

Build the datasets first (``optgym datasets build realc-fn-v0`` builds both). The sample of
``--per-project`` is deterministic (seeded by ``--seed`` and the project name), so every
policy is evaluated on the same programs, and no project dominates the way it would with the
first N URIs of the sorted split.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys

from optgym.datasets import get_dataset
from optgym.datasets.realc import RealCDataset, project_split


def table(mods: RealCDataset, fns: RealCDataset) -> tuple[str, dict]:
    """The per-project table and the numbers behind it."""
    ms, fs = mods.stats(), fns.stats()
    rows = []
    for name, m in ms["projects"].items():
        f = fs["projects"].get(name, {})
        sizes = [e["instructions"] for e in mods.manifests().get(name, {}).get("modules", {}).values()]
        rows.append({
            "project": name, "split": m["split"], "license": m["license"], "source": m["source"],
            "modules": m.get("modules", 0), "instructions": m.get("instructions", 0),
            "median_module": statistics.median(sizes) if sizes else 0,
            "failures": m.get("failures", 0), "files": m.get("files", 0), "seconds": m.get("seconds", 0.0),
            "functions": f.get("modules", 0), "dropped_trivial": f.get("dropped_trivial", 0),
            "dropped_duplicates": f.get("dropped_duplicates", 0), "cross_split": f.get("dropped_cross_split", 0),
            "built": m["built"],
        })
    header = (f"{'project':<15} {'split':<10} {'files':>5} {'modules':>7} {'failed':>6} {'instrs':>9} "
              f"{'median':>6} {'functions':>9} {'trivial':>7} {'dups':>5} {'cross':>5} {'build s':>7}  license")
    lines = [header, "-" * len(header)]
    for r in sorted(rows, key=lambda r: (r["split"], r["project"])):
        lines.append(f"{r['project']:<15} {r['split']:<10} {r['files']:>5} {r['modules']:>7} {r['failures']:>6} "
                     f"{r['instructions']:>9} {r['median_module']:>6.0f} {r['functions']:>9} {r['dropped_trivial']:>7} "
                     f"{r['dropped_duplicates']:>5} {r['cross_split']:>5} {r['seconds']:>7.0f}  {r['license']}")
    t, ft = ms["totals"], fs["totals"]
    lines.append("-" * len(header))
    lines.append(f"{'total':<15} {'':<10} {sum(r['files'] for r in rows):>5} {t['modules']:>7} {t['failures']:>6} "
                 f"{t['instructions']:>9} {'':>6} {ft['modules']:>9} {ft.get('dropped_trivial', 0):>7} "
                 f"{ft.get('dropped_duplicates', 0):>5} {ft.get('dropped_cross_split', 0):>5} "
                 f"{sum(r['seconds'] for r in rows):>7.0f}")
    lines.append("")
    lines.append(f"projects built: {t['built_projects']}/{t['projects']}; licenses: {len(t['licenses'])} distinct")
    for split in ("train", "validation", "test"):
        ps = sorted(r["project"] for r in rows if r["split"] == split)
        lines.append(f"{split:<10} {t['splits'][split]['modules']:>6} modules {fs['totals']['splits'][split]['modules']:>7} "
                     f"functions  {len(ps):>2} projects: {', '.join(ps)}")
    return "\n".join(lines), {"modules": ms, "functions": fs, "rows": rows}


def group_results(path: str) -> str:
    """Rows of a search result CSV (``optgym search -o``) grouped by real-code project."""
    groups: dict[str, list[float]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            uri = row["benchmark"]
            rest = uri.split("://", 1)[-1].split("/")
            project = rest[1] if len(rest) > 2 else "?"
            groups.setdefault(project, []).append(float(row["reward"]))
    lines = [f"{'project':<15} {'split':<10} {'n':>4} {'mean reward':>11}"]
    for project, rewards in sorted(groups.items()):
        lines.append(f"{project:<15} {project_split(project):<10} {len(rewards):>4} {statistics.fmean(rewards):>11.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="realc-v0", help="module-level dataset (default realc-v0)")
    ap.add_argument("--functions", default="realc-fn-v0", help="function-level dataset (default realc-fn-v0)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    ap.add_argument("--uris", choices=("train", "validation", "test"), help="print the URIs of this split instead")
    ap.add_argument("--per-project", type=int, metavar="K", help="with --uris: at most K per project")
    ap.add_argument("--seed", type=int, default=0, help="with --per-project: sampling seed (default 0)")
    ap.add_argument("--of-functions", action="store_true", help="with --uris: from the function-level dataset")
    ap.add_argument("--results", metavar="CSV", help="group the rows of a search result CSV by project")
    args = ap.parse_args(argv)
    mods, fns = get_dataset(args.dataset), get_dataset(args.functions)
    if not isinstance(mods, RealCDataset) or not isinstance(fns, RealCDataset):
        print(f"error: {args.dataset} / {args.functions} are not recipe datasets", file=sys.stderr)
        return 2
    if args.results:
        print(group_results(args.results))
        return 0
    if args.uris:
        print("\n".join((fns if args.of_functions else mods).sample_uris(args.uris, args.per_project, args.seed)))
        return 0
    text, data = table(mods, fns)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
