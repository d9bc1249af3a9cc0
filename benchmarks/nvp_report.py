"""What the learned pass-ordering agent adds, measured on programs never used in training.

Program groups (none of them, nor any program of their projects, was used to train the
shipped models):

- ``realc test``: a fixed sample of ``--realc-per-project`` modules from every project of the
  realc-v0 test split (leave-project-out, so real code the models have never seen);
  ``--realc-split validation`` takes the validation projects instead, the held-out projects
  to choose ranking settings on without looking at the test projects;
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

A module that -Oz empties (an instruction count of 0: a translation unit whose code is all
for another architecture, say) has nothing to win and no ratio; it is left out of every
figure, and each table says how many were.

With ``--json`` every program's measurements are appended to ``JSON.rows.jsonl`` as they
finish, so a killed run started again with the same options measures only what is missing.

Whether the model adds anything is a paired question (the same programs under two rankings),
so each group ends with ``nvp`` against each no-model order: the geomean of their ratio with
a 95% bootstrap interval over programs, and on how many programs each one is smaller. An
interval that holds 1.0 means the difference is within what the sample can tell.

    .venv/bin/python benchmarks/nvp_report.py --json nvp_report.json    # about 45 minutes
    .venv/bin/python benchmarks/nvp_report.py --realc-per-project 4 --csmith 10 --random 1000

The defaults (30 modules per project, 30 csmith seeds, 44 random sequences) favour many
programs over a deep random ceiling: a few real-code modules win a lot (up to 3.8x), so 4 per
project measured 1.013 on the test split where 30 per project measure 1.032.
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
from pathlib import Path
from typing import Any

# A sibling module: found when this file is run as a script or loaded by path (the tests).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stats import paired_ratio  # noqa: E402

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
        oz = int(env.observe("IrInstructionCountOz"))

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


def nonempty(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The programs -Oz leaves some instructions in: the others have no ratio."""
    return [r for r in rows if r["oz"] > 0]


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geomean Oz/ours and share better than -Oz, per policy and budget."""
    kept = nonempty(rows)
    table: dict[str, Any] = {"programs": len(kept), "left out (empty at -Oz)": len(rows) - len(kept)}
    rows = kept
    if not rows:
        return table
    for budget in BUDGETS:
        per = [policy_counts(r, budget) for r in rows]
        for name in per[0]:
            table[f"{name} @{budget}"] = score(rows, [p[name] for p in per])
    n = min(len(r["random"]) for r in rows)
    table[f"random best of {n}"] = score(rows, [best(r["oz"], r["random"]) for r in rows])
    table["whole coreset (oracle order)"] = score(rows, [best(r["oz"], r["coreset"]) for r in rows])
    return table


def print_table(title: str, table: dict[str, Any]) -> None:
    empty = table.get("left out (empty at -Oz)", 0)
    print(f"\n## {title} ({table['programs']} programs" + (f"; {empty} empty at -Oz left out"
          if empty else "") + "): geomean -Oz/ours (share smaller than -Oz)")
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


#: The no-model orders the learned ranking is compared against, program by program.
BASELINES = ("coreset order", "training-set greedy order")


def paired(rows: list[dict[str, Any]], ours: str, theirs: str, budget: int) -> dict[str, Any]:
    """Policy ``ours`` against ``theirs`` on the same (non-empty) programs at ``budget``
    (:func:`_stats.paired_ratio`)."""
    counts = [policy_counts(r, budget) for r in rows]
    return paired_ratio([c[ours] for c in counts], [c[theirs] for c in counts])


def compare(title: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Print and return ``nvp`` against each no-model order at every budget, on the
    programs -Oz leaves some instructions in."""
    rows = nonempty(rows)
    have = policy_counts(rows[0], BUDGETS[0]) if rows else {}
    out: dict[str, Any] = {}
    if "nvp" not in have:
        return out
    print(f"\n## {title}: what the model adds, nvp against each no-model order "
          "(geomean theirs/nvp [95% interval], programs nvp smaller/larger)")
    print("| against | " + " | ".join(f"{b} compilations" for b in BUDGETS) + " |")
    print("| --- |" + " --- |" * len(BUDGETS))
    for theirs in (b for b in BASELINES if b in have):
        cells = [paired(rows, "nvp", theirs, b) for b in BUDGETS]
        out[theirs] = dict(zip(map(str, BUDGETS), cells, strict=True))
        print(f"| {theirs} | " + " | ".join(
            f"{c['ratio']:.4f} [{c['low']:.4f}, {c['high']:.4f}] "
            f"{c['ours smaller']}/{c['theirs smaller']}" for c in cells) + " |")
    return out


def by_project(title: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Print and return the tables of each realc project at 45 compilations."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in nonempty(rows):
        groups.setdefault(row["uri"].split("realc-v0/", 1)[1].split("/", 1)[0], []).append(row)
    print(f"\n## {title} by project, 45 compilations: geomean -Oz/ours")
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
    parser.add_argument("--realc-per-project", type=int, default=30,
                        help="realc-v0 modules per project (default 30; 0: none)")
    parser.add_argument("--realc-split", choices=("test", "validation"), default="test",
                        help="the realc-v0 projects to sample (default test; validation: the "
                             "held-out projects to tune ranking settings on)")
    parser.add_argument("--csmith", type=int, default=30, help="csmith test seeds (default 30)")
    parser.add_argument("--no-builtin", action="store_true", help="skip the builtin test split")
    parser.add_argument("--random", type=int, default=44,
                        help="random sequences per program (default 44, the fewest: random "
                             "search at 45 compilations)")
    parser.add_argument("--workers", type=int, default=2, help="programs measured in parallel")
    parser.add_argument("--json", default=None, help="write every measurement and the tables")
    parser.add_argument("--reuse", default=None, metavar="JSON",
                        help="take the measurements from this earlier --json report (same "
                             "coreset) and only rank again: to evaluate a retrained model")
    args = parser.parse_args(argv)
    if args.random < max(BUDGETS) - 1:
        parser.error(f"--random must be at least {max(BUDGETS) - 1} (the largest budget - 1)")

    from optgym.datasets import get_dataset

    groups: dict[str, list[str]] = {}
    if args.realc_per_project:
        realc = get_dataset("realc-v0")
        if not realc.manifests():
            parser.error("realc-v0 is not built; run: optgym datasets build realc-v0")
        groups[f"realc {args.realc_split}"] = realc.sample_uris(args.realc_split,
                                                                 args.realc_per_project)
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
    journal = Path(f"{args.json}.rows.jsonl") if args.json and not args.reuse else None
    rows = resumed(journal, coreset, args.random, set(uris))
    done = {r["uri"] for r in rows}
    tasks = [(u, args.random, earlier.get(u)) for u in uris if u not in done]
    if rows:
        print(f"resuming: {len(rows)} programs measured earlier in {journal}", file=sys.stderr)
    rows += run(tasks, len(uris), args.workers, journal,
                {"coreset": coreset, "random": args.random})
    by_uri = {r["uri"]: r for r in rows}
    report: dict[str, Any] = {"coreset": coreset, "rows": rows, "tables": {}, "paired": {}}
    for group, members in groups.items():
        report["tables"][group] = summarize([by_uri[u] for u in members])
        print_table(group, report["tables"][group])
        report["paired"][group] = compare(group, [by_uri[u] for u in members])
    realc_group = f"realc {args.realc_split}"
    if realc_group in groups:
        report["by_project"] = by_project(realc_group, [by_uri[u] for u in groups[realc_group]])
    if args.json:
        from optgym.cache import atomic_write

        atomic_write(args.json, json.dumps(report, indent=1).encode())
        if journal is not None:
            journal.unlink(missing_ok=True)
    return 0


def run(tasks: list[tuple[str, int, dict[str, Any] | None]], total: int, workers: int,
        journal: Path | None, stamp: dict[str, Any]) -> list[dict[str, Any]]:
    """Measure ``tasks`` in ``workers`` processes, appending each row (with ``stamp``: what the
    rows were measured with) to ``journal`` as it finishes."""
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    rows: list[dict[str, Any]] = []
    with multiprocessing.get_context("spawn").Pool(max(1, workers)) as pool:
        for row in tqdm(pool.imap_unordered(_task, tasks), total=len(tasks), desc="programs",
                        disable=not tty):
            rows.append(row)
            if journal is not None:
                with journal.open("a") as f:
                    f.write(json.dumps({**stamp, "row": row}) + "\n")
            if not tty:  # a log still shows progress
                print(f"[{total - len(tasks) + len(rows)}/{total}] {row['uri']} "
                      f"{row['seconds']:.0f} s", file=sys.stderr, flush=True)
    return rows


def resumed(journal: Path | None, coreset: list[list[str]], n_random: int,
            uris: set[str]) -> list[dict[str, Any]]:
    """The rows an earlier, unfinished run with the same coreset and ``--random`` appended to
    ``journal`` for these ``uris`` (a torn last line from a kill is skipped)."""
    if journal is None or not journal.is_file():
        return []
    rows: dict[str, dict[str, Any]] = {}
    for line in journal.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (entry.get("coreset") == coreset and entry.get("random") == n_random
                and entry["row"]["uri"] in uris):
            rows[entry["row"]["uri"]] = entry["row"]
    return list(rows.values())


def _task(task: tuple[str, int, dict[str, Any] | None]) -> dict[str, Any]:
    return measure(*task)


if __name__ == "__main__":
    sys.exit(main())
