"""PPO at a fixed compilation budget against -Oz and random search, on unseen programs.

For each program of the built-in test split and of held-out csmith seeds, runs the trained
PPO policy (greedy rollout, then sampled rollouts, best prefix, -Oz fallback), the same
policy without the -Oz fallback, and random search with the same budget. Prints geomean
-Oz/ours (above 1 is better than -Oz), the share of programs better and worse than -Oz, and
the time per program. -Oz itself is 1.000 by definition.

    .venv/bin/python benchmarks/ppo_report.py --checkpoint runs/ppo/checkpoints/ppo.pt
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _row(result, seconds: float) -> dict:
    return {"benchmark": result.benchmark, "oz_ratio": result.oz_ratio,
            "instruction_count": result.instruction_count, "oz_count": result.oz_count,
            "compilations": result.compilations, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="exported PPO policy (.pt) or SB3 zip "
                        "(default: the model shipped in the package)")
    parser.add_argument("--budget", type=int, default=45, help="compilations per program (45)")
    parser.add_argument("--csmith", type=int, default=20,
                        help="how many held-out csmith seeds (test split) to add (20)")
    parser.add_argument("--no-random", action="store_true", help="skip random search")
    parser.add_argument("--seed", type=int, default=0, help="seed of random search (0)")
    parser.add_argument("--validate", action="store_true",
                        help="replay every PPO result with opt-19 (and check the program's "
                             "output when it runs) and count failures")
    parser.add_argument("--json", metavar="FILE", help="also write every row as JSON")
    args = parser.parse_args(argv)

    import torch
    from tqdm import tqdm

    from optgym.agents import Budget, get_policy
    from optgym.agents.ppo.policy import summarize
    from optgym.datasets import get_dataset
    from optgym.envs.llvm import LlvmEnv

    torch.set_num_threads(1)
    sets = {"builtin-v0 test": get_dataset("builtin-v0").benchmark_uris("test")}
    if args.csmith:
        sets["csmith-v0 held-out"] = get_dataset("csmith-v0").first_uris(args.csmith, "test")
    kwargs = {"checkpoint": args.checkpoint} if args.checkpoint else {}
    policies = {"ppo": get_policy("ppo", **kwargs),
                "ppo (no -Oz fallback)": get_policy("ppo", fallback_oz=False, **kwargs)}
    if not args.no_random:
        policies["random search"] = get_policy("random", seed=args.seed)
    env = LlvmEnv(observation_space=None, action_space="flags-pipelines-v0")
    rows: dict[str, dict[str, list[dict]]] = {}
    try:
        for set_name, uris in sets.items():
            for uri in tqdm(uris, desc=set_name):
                for name, policy in policies.items():
                    env.reset(options={"benchmark": uri})
                    started = time.monotonic()
                    result = policy.search(env, Budget(compilations=args.budget))
                    row = _row(result, time.monotonic() - started)
                    if args.validate and name == "ppo":
                        validation = env.validate(result.state)
                        row["validated"] = validation.ok
                        if not validation.ok:
                            print(f"validation failed: {validation}", file=sys.stderr)
                    rows.setdefault(set_name, {}).setdefault(name, []).append(row)
    finally:
        env.close()
    print(f"\nbudget {args.budget} compilations; geomean -Oz/ours (>1: better than -Oz)\n")
    print("| programs | policy | geomean Oz/ours | better than -Oz | worse | s/program |")
    print("|---|---|---|---|---|---|")
    for set_name, by_policy in rows.items():
        n = len(next(iter(by_policy.values())))
        print(f"| {set_name} ({n}) | -Oz | 1.000 | 0% | 0% | - |")
        for name, policy_rows in by_policy.items():
            s = summarize(policy_rows)
            print(f"| {set_name} ({n}) | {name} | {s['geomean_oz_over_ours']:.3f} | "
                  f"{s['share_improved']:.0%} | {s['share_worse']:.0%} | "
                  f"{s['seconds_per_program']:.2f} |")
    if args.validate:
        checked = [r for by in rows.values() for r in by["ppo"]]
        print(f"\nopt-19 replay of the PPO results: {sum(r['validated'] for r in checked)}"
              f"/{len(checked)} reproduced")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
