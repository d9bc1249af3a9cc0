"""Is the learned inliner's learning real? Its `.text` against clang-19 -Oz's own inliner and
against what needs no learning, on programs it was never trained on.

Program groups (none was used to train or choose the shipped model): ``realc test``, a fixed
sample of ``--realc-per-project`` modules of each realc-v0 *test* project (leave-project-out;
``--realc-split validation`` for the projects settings are chosen on); ``builtin test``, the
builtin-v0 test split; ``csmith test``, the first ``--csmith`` csmith-v0 test seeds. Modules
with no call site to decide (every call LLVM's by rule, or no call) are left out, and counted.

Each module is compiled (the real opt-19, clang -Oz's pipeline, the decisions replayed) under:

- ``inliner alone``: the shipped learned inliner at its ``alone`` operating point (the gate
  shift chosen on the validation projects for use without a fallback), one compilation;
- ``inliner, drop-in point``: the model as trained, the candidate the drop-ins use and keep
  only when it beats the others; ``-Oz or ...`` rows keep the smaller of clang -Oz and a
  method's one candidate (two compilations), the measure of a candidate's worth to a drop-in;
- ``..., features shuffled``: the same model fed the features of other call sites of the
  same module (drawn at random): what it gains from the features it reads;
- ``random``: one random decision vector (15% of the call sites forced to inline, 15% not, the
  rest LLVM's), the same single compilation; ``random, best of N``: the smallest of ``--random``
  such vectors (N compilations);
- ``heuristic``: every call site decided by the environment's approximation of LLVM's heuristic
  (what the features alone say, without learning);
- ``greedy``: flip the call sites LLVM reaches one at a time, keep what shrinks ``.text``
  (``--greedy`` compilations at most; it starts from clang -Oz, so it is never worse).

Reported per group: the geomean of clang -Oz's ``.text`` over each method's (above 1: smaller
than -Oz) and on how many modules it is smaller/larger; the learned inliner against each other
method on the same modules (geomean ratio, paired 95% bootstrap interval over modules, modules
each one wins); and for realc, per project. Rows go to ``--out`` (JSON lines) as they finish,
so a stopped run resumes; each row records the model (by content) and the ``--random`` and
``--greedy`` budgets, and a run with other settings refuses to add to that file.

    .venv/bin/python benchmarks/inliner_report.py --out inliner_report.jsonl --jobs 2
    .venv/bin/python benchmarks/inliner_report.py --out inliner_report.jsonl --summary
    .venv/bin/python benchmarks/inliner_report.py --model runs/inliner/model/inliner.npz \\
        --realc-split validation --out val.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _stats import paired_ratio  # noqa: E402

LABELS = {"inliner": "inliner alone (1 compilation)",
          "shuffled": "inliner alone, features shuffled",
          "random": "random vector (1 compilation)", "random_best": "random, best of N",
          "heuristic": "heuristic approximation (1 compilation)",
          "greedy": "greedy over call sites",
          "drop_in": "inliner, drop-in point (1 compilation)",
          "drop_in_shuffled": "inliner, drop-in point, features shuffled",
          "oz_or_inliner": "-Oz or inliner drop-in point, smaller (2 compilations)",
          "oz_or_random": "-Oz or a random vector, smaller (2 compilations)",
          "oz_or_heuristic": "-Oz or heuristic approximation, smaller (2 compilations)",
          "oz_or_shuffled": "-Oz or drop-in point shuffled, smaller (2 compilations)"}

_STATE: dict[str, Any] = {}


def measure_module(task: tuple[str, str, str | None, int, int]) -> dict[str, Any] | None:
    """Every method on one module; None when it has no call site to decide."""
    group, uri, model, n_random, greedy_budget = task
    from optgym.agents.inliner.policy import InlinerPolicy, shipped_policy
    from optgym.agents.inliner.search import Evaluator, greedy, random_decisions, walk
    from optgym.datasets import get_benchmark
    from optgym.envs.llvm.inline import InlineCompiler

    if "compiler" not in _STATE:
        _STATE["compiler"] = InlineCompiler(compile_timeout=300.0)
        _STATE["policy"] = InlinerPolicy.load(model) if model else shipped_policy()
    compiler, policy = _STATE["compiler"], _STATE["policy"]
    started = time.monotonic()
    evaluator = Evaluator(compiler, get_benchmark(uri))
    prepared = evaluator.prepared
    pool: list[Any] = []
    _, _ = walk(prepared, lambda episode, site: pool.append(episode.features(site)))
    if not pool or prepared.oz_text <= 0:
        return None
    oz = evaluator.oz.objective

    def cost(decisions: dict) -> int:
        result = evaluator(decisions)
        return result.objective if result is not None else round(oz * 1.05)

    rng = random.Random(uri)
    row: dict[str, Any] = {"group": group, "uri": uri, "project": uri.split("/")[3]
                           if uri.startswith("benchmark://realc") else group,
                           "oz": oz, "sites": len(pool)}
    alone, drop_in = policy.operating_point("alone"), policy.operating_point("drop_in")
    decisions = alone.decide(prepared)
    row["inliner"] = cost(decisions)
    row["inliner_decisions"] = len(decisions)
    row["shuffled"] = cost(alone.decide(prepared, lambda episode, site: rng.choice(pool)))
    decisions = drop_in.decide(prepared)
    row["drop_in"] = cost(decisions)
    row["drop_in_decisions"] = len(decisions)
    row["drop_in_shuffled"] = cost(drop_in.decide(prepared,
                                                  lambda episode, site: rng.choice(pool)))
    vectors = [random_decisions(prepared, random.Random(f"{uri}:{i}")) for i in range(n_random)]
    randoms = [cost(v) for v in vectors]
    row["random"], row["random_best"] = randoms[0], min(randoms)
    row["heuristic"] = cost(walk(prepared, lambda e, s: e.heuristic_inlines(s))[1])
    found = greedy(Evaluator(compiler, get_benchmark(uri)), greedy_budget)
    row["greedy"], row["greedy_compilations"] = found.cost.objective, found.compilations
    row["seconds"] = round(time.monotonic() - started, 1)
    return row


def _geo(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def summarize(rows: list[dict[str, Any]], n_random: int) -> str:
    """The report's tables (markdown)."""
    out = []
    for row in rows:
        row["oz_or_inliner"] = min(row["oz"], row["drop_in"])
        row["oz_or_random"] = min(row["oz"], row["random"])
        row["oz_or_heuristic"] = min(row["oz"], row["heuristic"])
        row["oz_or_shuffled"] = min(row["oz"], row["drop_in_shuffled"])
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    methods = ["inliner", "shuffled", "random", "drop_in", "drop_in_shuffled", "heuristic",
               "oz_or_inliner", "oz_or_shuffled", "oz_or_random", "oz_or_heuristic",
               "random_best", "greedy"]
    out.append("| method | " + " | ".join(f"{g} ({len(rs)})" for g, rs in groups.items()) + " |")
    out.append("|---|" + "---|" * len(groups))
    for m in methods:
        label = LABELS[m].replace("N", str(n_random)) if m == "random_best" else LABELS[m]
        cells = []
        for rs in groups.values():
            ratio = _geo([r["oz"] / r[m] for r in rs])
            cells.append(f"{ratio:.4f} ({sum(r[m] < r['oz'] for r in rs)} / "
                         f"{sum(r[m] > r['oz'] for r in rs)})")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    mean_greedy = {g: sum(r["greedy_compilations"] for r in rs) / len(rs)
                   for g, rs in groups.items()}
    out.append("\n(smaller / larger than clang -Oz in parentheses; greedy's mean compilations: "
               + ", ".join(f"{g} {c:.0f}" for g, c in mean_greedy.items()) + ")\n")
    comparisons = [("inliner", "oz"), ("inliner", "random"), ("inliner", "shuffled"),
                   ("inliner", "heuristic"), ("inliner", "greedy"),
                   ("oz_or_inliner", "oz"), ("oz_or_inliner", "oz_or_random"),
                   ("oz_or_inliner", "oz_or_shuffled"), ("oz_or_inliner", "oz_or_heuristic"),
                   ("oz_or_inliner", "random_best"), ("oz_or_inliner", "greedy")]
    out.append("| ours | against | " + " | ".join(groups) + " |")
    out.append("|---|---|" + "---|" * len(groups))
    for ours, other in comparisons:
        cells = []
        for rs in groups.values():
            p = paired_ratio([r[ours] for r in rs], [r[other] for r in rs])
            cells.append(f"{p['ratio']:.4f} [{p['low']:.4f}, {p['high']:.4f}], "
                         f"{p['ours smaller']} / {p['theirs smaller']}")
        label = "clang -Oz" if other == "oz" else LABELS[other].replace("N", str(n_random))
        out.append(f"| {LABELS[ours]} | {label} | " + " | ".join(cells) + " |")
    realc = [r for r in rows if r["uri"].startswith("benchmark://realc")]
    if realc:
        out.append("\n| project | modules | inliner alone | smaller / larger | -Oz or drop-in point "
                   "| greedy | random |")
        out.append("|---|---|---|---|---|---|---|")
        by: dict[str, list[dict[str, Any]]] = {}
        for r in realc:
            by.setdefault(r["project"], []).append(r)
        for project, rs in sorted(by.items()):
            out.append(f"| {project} | {len(rs)} | {_geo([r['oz'] / r['inliner'] for r in rs]):.4f} | "
                       f"{sum(r['inliner'] < r['oz'] for r in rs)} / "
                       f"{sum(r['inliner'] > r['oz'] for r in rs)} | "
                       f"{_geo([r['oz'] / r['oz_or_inliner'] for r in rs]):.4f} | "
                       f"{_geo([r['oz'] / r['greedy'] for r in rs]):.4f} | "
                       f"{_geo([r['oz'] / r['random'] for r in rs]):.4f} |")
    return "\n".join(out)


def _tasks(args: argparse.Namespace) -> list[tuple[str, str]]:
    from optgym.datasets import get_dataset

    tasks: list[tuple[str, str]] = []
    if args.realc_per_project:
        group = f"realc {args.realc_split}"
        tasks += [(group, u) for u in get_dataset("realc-v0").sample_uris(
            args.realc_split, args.realc_per_project, max_instructions=args.max_instructions)]
    if not args.no_builtin:
        tasks += [("builtin test", u) for u in get_dataset("builtin-v0").benchmark_uris("test")]
    if args.csmith:
        tasks += [("csmith test", u) for u in get_dataset("csmith-v0").first_uris(args.csmith,
                                                                                "test")]
    return tasks


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """What decides a row besides its module: the model (by content), and the random and
    greedy budgets."""
    from optgym.agents.inliner.policy import MODEL_FILE

    path = Path(args.model) if args.model else MODEL_FILE
    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()
    except OSError as exc:
        raise SystemExit(f"inliner_report: cannot read the model {path}: {exc}") from None
    return {"model": digest, "random": args.random, "greedy": args.greedy}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="JSON lines of rows (resumed)")
    parser.add_argument("--model", default=None, help="an inliner model (default: shipped)")
    parser.add_argument("--realc-per-project", type=int, default=12,
                        help="realc-v0 modules drawn per project (default 12)")
    parser.add_argument("--realc-split", default="test", choices=["test", "validation"])
    parser.add_argument("--max-instructions", type=int, default=20000,
                        help="leave out realc modules larger than this (default 20000)")
    parser.add_argument("--no-builtin", action="store_true")
    parser.add_argument("--csmith", type=int, default=30, help="csmith test seeds (default 30)")
    parser.add_argument("--random", type=int, default=10,
                        help="random decision vectors per module (default 10)")
    parser.add_argument("--greedy", type=int, default=40,
                        help="compilations of the greedy search per module (default 40)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--summary", action="store_true", help="only print the tables")
    args = parser.parse_args(argv)

    out = Path(args.out)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    settings = _settings(args)
    mixed = [r for r in rows if r.get("settings") != settings]
    if mixed:
        # A resumed run must not mix rows of another model or search budget into its tables.
        print(f"inliner_report: {out} holds {len(mixed)} rows measured with other settings "
              f"({mixed[0].get('settings', 'not recorded')}, not {settings}); give another "
              "--out, or the same --model, --random and --greedy", file=sys.stderr)
        if not args.summary:
            return 2
    if not args.summary:
        done = {(r["group"], r["uri"]) for r in rows}
        skipped_file = out.with_suffix(".skipped")
        skipped = set(skipped_file.read_text().split()) if skipped_file.exists() else set()
        todo = [t for t in _tasks(args) if t not in done and t[1] not in skipped]
        print(f"{len(todo)} programs to measure", file=sys.stderr)
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool, out.open("a") as log, \
                skipped_file.open("a") as skip_log:
            futures = {pool.submit(measure_module, (g, u, args.model, args.random, args.greedy)):
                       (g, u) for g, u in todo}
            for future in as_completed(futures):
                row = future.result()
                if row is None:
                    skip_log.write(futures[future][1] + "\n")
                    skip_log.flush()
                    continue
                row["settings"] = settings
                rows.append(row)
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(f"{row['uri']}: -Oz {row['oz']}, inliner {row['inliner']}, greedy "
                      f"{row['greedy']} ({row['seconds']} s)", file=sys.stderr)
    skipped_file = out.with_suffix(".skipped")
    skipped = len(skipped_file.read_text().split()) if skipped_file.exists() else 0
    print(summarize(rows, args.random))
    print(f"\n{len(rows)} programs measured; {skipped} left out (no call site to decide, or "
          "-Oz empties them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
