"""What the learned pass-ordering agent adds, measured on programs never used in training.

Program groups (none of them, nor any program of their projects, was used to train the
shipped models):

- ``realc test``: a fixed sample of ``--realc-per-project`` modules from every project of the
  realc-v0 test split (leave-project-out, so real code the models have never seen);
- ``builtin test``: the builtin-v0 test split;
- ``csmith test``: the first ``--csmith`` csmith-v0 test seeds.

Each program is measured once under -Oz (clang-19's: the env's ``IrInstructionCountOz``),
under every sequence of the shipped NVP coreset, and under ``--random`` random sequences
drawn as the pool draws them (1-20 steps of the safe flags and the -O pipelines, seeded by
the program). Every policy below is then exactly a choice among those measurements:

- ``nvp`` (the GNN) at budget B: the best of -Oz and the model's top B - 1 coreset
  sequences. This is what ``NvpPolicy.search`` does; its ranking is ``NvpPolicy.rank``.
  Its ranking is the greedy coverage of the training programs weighted by how like this
  program the model finds them (:mod:`optgym.agents.nvp.neighbours`).
- ``nvp-autophase``: the same with the Autophase-MLP encoder instead of the GNN.
- ``nvp, logit order``: the GNN's top B - 1 by its logits (the ranking before neighbours).
- ``training-set greedy order``: the greedy order over all training programs alike: the same
  rule as ``nvp`` with no model input, so the difference is what the model adds.
- ``coreset order``: the first B - 1 sequences in the coreset's own (greedy over the pool
  programs) order: no model.
- ``random``: the best of -Oz and the first B - 1 random sequences (random search with the
  same budget); ``random best of N``: of all ``--random`` of them.

Every figure is the geomean of Oz / ours (above 1: smaller than -Oz), by group and for the
realc test split by project; ``better`` is the share of programs strictly smaller than -Oz.
Nothing can be worse than -Oz: every policy keeps -Oz when it finds nothing smaller.

    .venv/bin/python benchmarks/nvp_report.py --json nvp_report.json
    .venv/bin/python benchmarks/nvp_report.py --realc-per-project 2 --csmith 5 --random 200
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import random
import statistics
import sys
import time
from typing import Any

BUDGETS = (2, 5, 10, 45)
ROW_ORDER = ["nvp", "nvp-autophase", "nvp, logit order", "training-set greedy order",
             "coreset order", "random"]


def measure(uri: str, n_random: int, reuse: dict[str, Any] | None = None) -> dict[str, Any]:
    """-Oz, every coreset sequence and ``n_random`` random sequences on one program; with
    ``reuse`` (a row of an earlier report on the same coreset) only the models' rankings are
    computed again."""
    import torch

    from optgym.agents.nvp.policy import NvpAutophasePolicy, NvpPolicy
    from optgym.agents.nvp.pool import ACTIONS
    from optgym.envs.llvm import LlvmEnv
    from optgym.errors import CompilerCrash, LlvmError

    torch.set_num_threads(1)
    started = time.monotonic()
    gnn, autophase = NvpPolicy(), NvpAutophasePolicy()
    # Ablations of the ranking: the model's own logits, and the greedy order over the training
    # programs with no model input.
    ablations = {"nvp, logit order": NvpPolicy(ranking="logits"),
                 "training-set greedy order": NvpPolicy(ranking="training-greedy")}
    env = LlvmEnv(observation_space=None)
    try:
        env.reset(options={"benchmark": uri})
        oz = int(env.observation["IrInstructionCountOz"])

        def count(steps: list[str]) -> int | None:
            try:
                return int(env.try_steps(steps)["IrInstructionCount"])
            except (CompilerCrash, LlvmError):
                return None

        sequences = gnn.coreset()
        index = {tuple(s): i for i, s in enumerate(sequences)}
        policies = {"nvp": gnn, "nvp-autophase": autophase, **ablations}
        orders = {name: [index[tuple(s)] for s in policy.rank(env)]
                  for name, policy in policies.items()
                  if (policy.model_dir / "model.pt").exists()
                  and (name != "training-set greedy order"
                       or (policy.model_dir / "neighbours.npz").exists())}
        if reuse is not None:
            return {**reuse, "orders": orders}
        coreset = [count(s) for s in sequences]
        digest = hashlib.sha256(f"nvp_report:{uri}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "little"))
        randoms = [count([rng.choice(ACTIONS) for _ in range(rng.randint(1, 20))])
                   for _ in range(n_random)]
    finally:
        env.close()
    return {"uri": uri, "oz": oz, "coreset": coreset, "orders": orders, "random": randoms,
            "seconds": time.monotonic() - started}


def best(oz: int, counts: list[int | None]) -> int:
    """The smallest of -Oz and the counts measured (None: the sequence failed)."""
    return min([oz] + [c for c in counts if c is not None])


def policy_counts(row: dict[str, Any], budget: int) -> dict[str, int]:
    """What each policy ends with on this program at ``budget`` compilations."""
    k = budget - 1  # -Oz is always one of the compilations
    out = {name: best(row["oz"], [row["coreset"][i] for i in order[:k]])
           for name, order in row["orders"].items()}
    out["coreset order"] = best(row["oz"], row["coreset"][:k])
    out["random"] = best(row["oz"], row["random"][:k])
    return out


def score(rows: list[dict[str, Any]], chosen: list[int]) -> dict[str, float]:
    """Geomean of Oz / ours and the share of programs smaller than -Oz."""
    pairs = list(zip(rows, chosen, strict=True))
    return {"geomean": math.exp(statistics.fmean(math.log(r["oz"] / max(c, 1)) for r, c in pairs)),
            "better": sum(c < r["oz"] for r, c in pairs) / len(pairs)}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geomean Oz/ours and share better than -Oz, per policy and budget."""
    table: dict[str, Any] = {"programs": len(rows)}
    for budget in BUDGETS:
        per = [policy_counts(r, budget) for r in rows]
        for name in per[0]:
            table[f"{name} @{budget}"] = score(rows, [p[name] for p in per])
    n = min(len(r["random"]) for r in rows)
    table[f"random best of {n}"] = score(rows, [best(r["oz"], r["random"]) for r in rows])
    table["whole coreset (oracle order)"] = score(rows, [best(r["oz"], r["coreset"]) for r in rows])
    return table


def print_table(title: str, table: dict[str, Any]) -> None:
    print(f"\n## {title} ({table['programs']} programs): geomean -Oz/ours (share smaller than -Oz)")
    names = sorted({key.split(" @")[0] for key in table if " @" in key}, key=ROW_ORDER.index)
    print("| policy | " + " | ".join(f"{b} compilations" for b in BUDGETS) + " |")
    print("| --- |" + " --- |" * len(BUDGETS))
    for name in names:
        cells = [table[f"{name} @{b}"] for b in BUDGETS]
        print(f"| {name} | " + " | ".join(f"{c['geomean']:.4f} ({c['better']:.0%})"
                                          for c in cells) + " |")
    for key in table:
        if key.startswith(("random best", "whole coreset")):
            print(f"| {key} | {table[key]['geomean']:.4f} ({table[key]['better']:.0%}) |")


def by_project(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Print and return the tables of each realc project at 45 compilations."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["uri"].split("realc-v0/", 1)[1].split("/", 1)[0], []).append(row)
    print("\n## realc test by project, 45 compilations: geomean -Oz/ours")
    print("| project | programs | nvp | coreset order | random | random best of N |")
    print("| --- | --- | --- | --- | --- | --- |")
    out = {}
    for project, members in sorted(groups.items()):
        t = out[project] = summarize(members)
        rb = next(v for k, v in t.items() if k.startswith("random best"))
        nvp = t.get("nvp @45", {"geomean": float("nan")})
        print(f"| {project} | {len(members)} | {nvp['geomean']:.4f} | "
              f"{t['coreset order @45']['geomean']:.4f} | {t['random @45']['geomean']:.4f} | "
              f"{rb['geomean']:.4f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realc-per-project", type=int, default=4,
                        help="realc-v0 test modules per project (default 4; 0: none)")
    parser.add_argument("--csmith", type=int, default=10, help="csmith test seeds (default 10)")
    parser.add_argument("--no-builtin", action="store_true", help="skip the builtin test split")
    parser.add_argument("--random", type=int, default=1000,
                        help="random sequences per program (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="programs measured in parallel")
    parser.add_argument("--json", default=None, help="write every measurement and the tables")
    parser.add_argument("--reuse", default=None, metavar="JSON",
                        help="take the measurements from this earlier --json report (same "
                             "coreset) and only rank again: to evaluate a retrained model")
    args = parser.parse_args(argv)
    if args.random < max(BUDGETS) - 1:
        parser.error(f"--random must be at least {max(BUDGETS) - 1} (the largest budget - 1)")

    from tqdm import tqdm

    from optgym.datasets import get_dataset

    groups: dict[str, list[str]] = {}
    if args.realc_per_project:
        realc = get_dataset("realc-v0")
        if not realc.manifests():
            parser.error("realc-v0 is not built; run: optgym datasets build realc-v0")
        groups["realc test"] = realc.sample_uris("test", args.realc_per_project)
    if not args.no_builtin:
        groups["builtin test"] = get_dataset("builtin-v0").benchmark_uris("test")
    if args.csmith:
        groups["csmith test"] = get_dataset("csmith-v0").first_uris(args.csmith, "test")
    uris = list(dict.fromkeys(u for g in groups.values() for u in g))
    from optgym.agents.nvp.policy import NvpPolicy

    coreset = NvpPolicy().coreset()
    earlier: dict[str, Any] = {}
    if args.reuse:
        old = json.loads(open(args.reuse).read())
        if old.get("coreset", coreset) != coreset:
            parser.error(f"{args.reuse} measured another coreset than the shipped model's")
        earlier = {r["uri"]: r for r in old["rows"]}
        missing = [u for u in uris if u not in earlier]
        if missing:
            parser.error(f"{args.reuse} has no measurements of {len(missing)} of the programs "
                         f"asked for (first: {missing[0]}); use the same program options")
    tasks = [(u, args.random, earlier.get(u)) for u in uris]
    tty = sys.stderr.isatty()
    bar = dict(total=len(tasks), desc="programs", disable=not tty)
    rows = []
    with multiprocessing.get_context("spawn").Pool(max(1, args.workers)) as pool:
        for row in tqdm(pool.imap_unordered(_task, tasks), **bar):
            rows.append(row)
            if not tty:  # a log still shows progress
                print(f"[{len(rows)}/{len(tasks)}] {row['uri']} {row['seconds']:.0f} s",
                      file=sys.stderr, flush=True)
    by_uri = {r["uri"]: r for r in rows}
    report: dict[str, Any] = {"coreset": coreset, "rows": rows, "tables": {}}
    for group, members in groups.items():
        report["tables"][group] = summarize([by_uri[u] for u in members])
        print_table(group, report["tables"][group])
    if "realc test" in groups:
        report["by_project"] = by_project([by_uri[u] for u in groups["realc test"]])
    if args.json:
        from optgym.cache import atomic_write

        atomic_write(args.json, json.dumps(report, indent=1).encode())
    return 0


def _task(task: tuple[str, int, dict[str, Any] | None]) -> dict[str, Any]:
    return measure(*task)


if __name__ == "__main__":
    sys.exit(main())
