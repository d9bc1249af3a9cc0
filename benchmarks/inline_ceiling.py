"""The room: how much smaller than clang-19 -Oz the best inlining decisions a long search finds
make realc-v0 modules, in ``.text`` bytes.

For each sampled module, a randomized local search over inlining decisions
(:func:`optgym.agents.inliner.search.local_search`) compiles ``--budget`` candidates with the
real opt-19 and clang -Oz's pipeline (each call site it does not decide left to LLVM, so the
empty decision set is clang -Oz), starting from the better of clang -Oz and the environment's
approximation of LLVM's heuristic, and keeps the smallest ``.text``. Results go to
``--out`` as JSON lines as they come, so a stopped run resumes. The summary is the geomean of
clang -Oz's ``.text`` over the best found, per project and over all modules, with a 95%
bootstrap interval over modules: the ceiling the learned inliner is judged against.

    .venv/bin/python benchmarks/inline_ceiling.py --per-project 2 --budget 1000 --jobs 2 \\
        --out ceiling.jsonl
    .venv/bin/python benchmarks/inline_ceiling.py --out ceiling.jsonl --summary
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path


def search_module(uri: str, budget: int, seed: int) -> dict:
    """Search one module; a JSON-able record of what clang -Oz and the search give."""
    from optgym.agents.inliner.search import Evaluator, heuristic_decisions, local_search
    from optgym.datasets import get_benchmark
    from optgym.envs.llvm.inline import InlineCompiler

    started = time.monotonic()
    compiler = InlineCompiler()
    try:
        evaluator = Evaluator(compiler, get_benchmark(uri))
        start = heuristic_decisions(evaluator.prepared)
        result = local_search(evaluator, budget, random.Random(f"{seed}:{uri}"), (start,))
        oz = evaluator.oz
        return {"uri": uri, "project": uri.split("/")[3], "oz_text": oz.objective,
                "oz_instructions": oz.instructions, "text": result.cost.objective,
                "instructions": result.cost.instructions, "compilations": result.compilations,
                "decisions": len(result.decisions), "trace": result.trace,
                "seconds": round(time.monotonic() - started, 1)}
    finally:
        compiler.close()


def offered_sites(uri: str) -> int:
    """How many call sites the environment offers for a module (0: nothing to search)."""
    from optgym.agents.inliner.search import heuristic_decisions
    from optgym.datasets import get_benchmark
    from optgym.envs.llvm.inline import InlineCompiler

    compiler = InlineCompiler()
    try:
        return len(heuristic_decisions(compiler.prepare(get_benchmark(uri))))
    finally:
        compiler.close()


def bootstrap(logs: list[float], n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of exp(mean(logs))."""
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(logs) for _ in logs) / len(logs) for _ in range(n))
    return math.exp(means[int(0.025 * n)]), math.exp(means[int(0.975 * n) - 1])


def summarize(rows: list[dict]) -> str:
    """Per-project and overall geomeans of clang -Oz's .text over the best found."""
    rows = [r for r in rows if r["oz_text"] > 0]
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["project"], []).append(r)
    lines = ["| project | modules | geomean -Oz / best | best module | modules smaller |",
             "|---|---|---|---|---|"]
    for project, rs in sorted(by.items()):
        logs = [math.log(r["oz_text"] / r["text"]) for r in rs]
        lines.append(f"| {project} | {len(rs)} | {math.exp(sum(logs) / len(logs)):.4f} | "
                     f"{max(math.exp(x) for x in logs):.4f} | "
                     f"{sum(r['text'] < r['oz_text'] for r in rs)} |")
    logs = [math.log(r["oz_text"] / r["text"]) for r in rows]
    if logs:
        lo, hi = bootstrap(logs)
        compilations = sum(r["compilations"] for r in rows) / len(rows)
        lines.append(f"| all | {len(rows)} | **{math.exp(sum(logs) / len(logs)):.4f}** "
                     f"[{lo:.4f}, {hi:.4f}] | {max(math.exp(x) for x in logs):.4f} | "
                     f"{sum(r['text'] < r['oz_text'] for r in rows)} |")
        lines.append(f"\nmean compilations per module: {compilations:.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="test", help="realc-v0 split (default test)")
    parser.add_argument("--per-project", type=int, default=2,
                        help="modules drawn per project (default 2)")
    parser.add_argument("--max-instructions", type=int, default=8000,
                        help="leave out modules larger than this before drawing (default 8000)")
    parser.add_argument("--budget", type=int, default=1000,
                        help="compilations per module (default 1000)")
    parser.add_argument("--jobs", type=int, default=1, help="modules searched at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="JSON lines of results (resumed)")
    parser.add_argument("--summary", action="store_true", help="only print the summary")
    args = parser.parse_args(argv)

    out = Path(args.out)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not args.summary:
        from optgym.datasets import get_dataset

        done = {r["uri"] for r in rows}
        uris = get_dataset("realc-v0").sample_uris(args.split, args.per_project,
                                                   max_instructions=args.max_instructions)
        todo = [u for u in uris if u not in done]
        todo = [u for u in todo if offered_sites(u) > 0]
        print(f"{len(uris)} modules sampled, {len(todo)} to search", file=sys.stderr)
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool, out.open("a") as log:
            futures = {pool.submit(search_module, u, args.budget, args.seed): u for u in todo}
            for future in as_completed(futures):
                row = future.result()
                rows.append(row)
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(f"{row['uri']}: -Oz {row['oz_text']} -> {row['text']} "
                      f"({row['compilations']} compilations, {row['seconds']} s)", file=sys.stderr)
    print(summarize(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
