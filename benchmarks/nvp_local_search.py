"""Whether the compilations past nvp's top-ranked sequences are better spent on local search
around the best one found than on the rest of the coreset.

nvp at 45 compilations tries -Oz and 44 coreset sequences; on real code most of what it finds
it has found by 10. This measures the alternative on programs of an ``nvp_report.py --json``
report: -Oz and nvp's top ``--top`` sequences (taken from the report's measurements), then
``--mutations`` compilations of hill climbing from the best of them (each a random deletion,
insertion, replacement or appended step from the pool's actions; seeded by the program, kept
when smaller). It prints the geomean of -Oz over each policy's result:

- ``nvp @ top+1``: -Oz and the top ``--top`` sequences only;
- ``nvp @ 45``: the whole budget on coreset sequences (what ships);
- ``nvp @ top+1 + local search``: the same budget spent the other way.

    .venv/bin/python benchmarks/nvp_report.py --json report.json
    .venv/bin/python benchmarks/nvp_local_search.py report.json --programs 80
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
from typing import Any


def climb(env: Any, start: tuple[int, list[str]], actions: list[str], steps: int,
          seed: str) -> int:
    """The smallest count hill climbing from ``start`` (count, sequence) reaches in ``steps``
    compilations."""
    from optgym.errors import CompilerCrash, LlvmError

    rng = random.Random(seed)
    best_count, best = start
    for _ in range(steps):
        seq, move = list(best), rng.random()
        if move < 0.25 and len(seq) > 1:
            del seq[rng.randrange(len(seq))]
        elif move < 0.5:
            seq.insert(rng.randrange(len(seq) + 1), rng.choice(actions))
        elif move < 0.75:
            seq[rng.randrange(len(seq))] = rng.choice(actions)
        else:
            seq.append(rng.choice(actions))
        try:
            count = int(env.try_steps(seq)["IrInstructionCount"])
        except (CompilerCrash, LlvmError):
            continue  # a sequence LLVM rejects is no candidate
        if count < best_count or (count == best_count and len(seq) < len(best)):
            best_count, best = count, seq
    return best_count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", help="an nvp_report.py --json report")
    parser.add_argument("--group", default="realc-v0",
                        help="programs whose URI holds this text (default realc-v0)")
    parser.add_argument("--programs", type=int, default=80,
                        help="a fixed random sample of this many of them (default 80)")
    parser.add_argument("--top", type=int, default=9, help="nvp's top sequences (default 9)")
    parser.add_argument("--mutations", type=int, default=35,
                        help="local-search compilations after them (default 35)")
    args = parser.parse_args(argv)
    try:
        report = json.loads(open(args.report).read())
        coreset, rows = report["coreset"], report["rows"]
    except (OSError, ValueError, KeyError) as exc:
        parser.error(f"{args.report} is not an nvp_report.py --json report: {exc}")
    rows = [r for r in rows if args.group in r["uri"] and r["oz"] > 0 and "nvp" in r["orders"]]
    if not rows:
        parser.error(f"{args.report} has no non-empty programs of {args.group!r} ranked by nvp")
    random.Random(1).shuffle(rows)
    rows = rows[:args.programs]

    from tqdm import tqdm

    from optgym.agents.nvp.pool import ACTIONS
    from optgym.envs.llvm import LlvmEnv

    budget = args.top + 1 + args.mutations
    out: list[tuple[int, int, int, int]] = []
    env = LlvmEnv(observation_space=None)
    try:
        for row in tqdm(rows, desc="programs", disable=not sys.stderr.isatty()):
            env.reset(options={"benchmark": row["uri"]})
            top = [(row["coreset"][i], coreset[i]) for i in row["orders"]["nvp"][:args.top]
                   if row["coreset"][i] is not None]
            start = min([(row["oz"], ["default<Oz>"])] + top, key=lambda t: t[0])
            ranked = [row["coreset"][i] for i in row["orders"]["nvp"][:budget - 1]]
            full = min([row["oz"]] + [c for c in ranked if c is not None])
            out.append((row["oz"], start[0], full,
                        climb(env, start, list(ACTIONS), args.mutations, row["uri"])))
    finally:
        env.close()

    def geomean(k: int) -> float:
        return math.exp(statistics.fmean(math.log(o[0] / max(o[k], 1)) for o in out))

    print(f"{len(out)} programs of {args.group}: geomean -Oz / ours")
    print(f"| nvp @ {args.top + 1} | nvp @ {budget} | nvp @ {args.top + 1} + {args.mutations} "
          "local-search compilations |")
    print("|---|---|---|")
    print(f"| {geomean(1):.4f} | {geomean(2):.4f} | {geomean(3):.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
