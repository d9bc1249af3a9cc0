"""NVP on programs never used in training, against random search at the same budget and -Oz.

For each program of the builtin test split and the first csmith test seeds (the training
pool used csmith *train* seeds, validation used validation seeds), every policy gets the same
compilation budget (45 by default). Reported per policy: geomean of Oz / ours, share of
programs strictly smaller than -Oz, and seconds per program.

``random-seq`` is random search in NVP's own terms: B - 1 random sequences (1-20 steps of the
flags-and-pipelines action set), each one compilation, plus -Oz. ``random`` is the search
module's CompilerGym-style random search, where each step tried is one compilation.

    .venv/bin/python benchmarks/nvp_report.py --csmith 10 --budget 45 --json nvp_report.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import time
from typing import Any

OZ = "default<Oz>"


def random_sequences(env: Any, budget: int, seed: int) -> tuple[list[str], int, int]:
    """B - 1 random sequences and -Oz; the best steps, its count and compilations used."""
    from optgym.errors import CompilerCrash, LlvmError
    from optgym.llvm.passes import FLAGS_AND_PIPELINES

    actions = [a.pipeline for a in FLAGS_AND_PIPELINES.actions]
    rng = random.Random(seed)
    if env.actions_taken:
        env.reset(options={"benchmark": env.benchmark})
    best_steps = [OZ]
    best = env.try_steps([OZ])["IrInstructionCount"]
    for _ in range(budget - 1):
        steps = [rng.choice(actions) for _ in range(rng.randint(1, 20))]
        try:
            count = env.try_steps(steps)["IrInstructionCount"]
        except (CompilerCrash, LlvmError):
            continue
        if count < best:
            best_steps, best = steps, count
    return best_steps, best, budget


def run_program(uri: str, policies: list[str], budget: int, seed: int) -> dict[str, Any]:
    """Every policy on one program; counts and seconds."""
    import torch

    from optgym.agents import Budget, get_policy
    from optgym.envs.llvm import LlvmEnv

    torch.set_num_threads(1)
    env = LlvmEnv(observation_space=None)
    out: dict[str, Any] = {"uri": uri}
    try:
        env.reset(options={"benchmark": uri})
        out["o0_count"] = int(env.observation["IrInstructionCountO0"])
        out["oz_count"] = int(env.observation["IrInstructionCountOz"])
        for name in policies:
            env.reset(options={"benchmark": uri})
            started = time.monotonic()
            if name == "random-seq":
                steps, count, used = random_sequences(env, budget, seed)
                env.reset(options={"benchmark": uri, "replay": steps})
                count = int(env.observation["IrInstructionCount"])
            elif name == "oz":
                count, used = out["oz_count"], 1
            else:
                kwargs = {"seed": seed} if name == "random" else {}
                result = get_policy(name, **kwargs).search(env, Budget(compilations=budget))
                count, used = result.instruction_count, result.compilations
            out[name] = {"count": count, "compilations": used,
                         "seconds": time.monotonic() - started}
    finally:
        env.close()
    return out


def _task(args: tuple) -> dict[str, Any]:
    return run_program(*args)


def summarize(rows: list[dict[str, Any]], policies: list[str]) -> dict[str, dict[str, float]]:
    """Per policy: geomean Oz/ours, share improved over -Oz, mean seconds, max compilations."""
    table = {}
    for name in policies:
        ratios = [r["oz_count"] / max(r[name]["count"], 1) for r in rows]
        table[name] = {
            "geomean_oz_over_ours": statistics.geometric_mean(ratios),
            "improved": sum(r[name]["count"] < r["oz_count"] for r in rows) / len(rows),
            "worse": sum(r[name]["count"] > r["oz_count"] for r in rows) / len(rows),
            "seconds_per_program": sum(r[name]["seconds"] for r in rows) / len(rows),
            "max_compilations": max(r[name]["compilations"] for r in rows),
        }
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=45, help="compilations per program (45)")
    parser.add_argument("--csmith", type=int, default=10, help="csmith test seeds (default 10)")
    parser.add_argument("--no-builtin", action="store_true", help="skip the builtin test split")
    parser.add_argument("--policies", default="nvp,nvp-autophase,random-seq,random,oz",
                        help="comma-separated policies (random-seq is this script's own)")
    parser.add_argument("--workers", type=int, default=2, help="programs run in parallel (2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random searches")
    parser.add_argument("--json", default=None, help="write all rows and the summary here")
    args = parser.parse_args(argv)

    from optgym.agents.nvp import MODEL_DIR
    from optgym.datasets import get_dataset

    policies = [p for p in args.policies.split(",") if p]
    if "nvp-autophase" in policies and not (MODEL_DIR / "autophase" / "model.pt").exists():
        policies.remove("nvp-autophase")
    groups = {}
    if not args.no_builtin:
        groups["builtin test"] = get_dataset("builtin-v0").benchmark_uris("test")
    if args.csmith:
        groups["csmith test"] = get_dataset("csmith-v0").first_uris(args.csmith, "test")
    uris = [u for g in groups.values() for u in g]
    tasks = [(u, policies, args.budget, args.seed) for u in uris]
    from tqdm import tqdm

    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            rows = list(tqdm(pool.imap(_task, tasks), total=len(tasks), desc="programs"))
    else:
        rows = [_task(t) for t in tqdm(tasks, desc="programs")]
    by_uri = {r["uri"]: r for r in rows}
    report: dict[str, Any] = {"budget": args.budget, "rows": rows, "summary": {}}
    for group, members in [*groups.items(), ("all", uris)]:
        table = summarize([by_uri[u] for u in members], policies)
        report["summary"][group] = table
        print(f"\n{group} ({len(members)} programs, budget {args.budget})")
        print(f"{'policy':15} {'Oz/ours':>8} {'improved':>9} {'worse':>6} {'s/prog':>7} {'max comp':>8}")
        for name, t in table.items():
            print(f"{name:15} {t['geomean_oz_over_ours']:8.4f} {t['improved']:9.0%} "
                  f"{t['worse']:6.0%} {t['seconds_per_program']:7.2f} {t['max_compilations']:8d}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
