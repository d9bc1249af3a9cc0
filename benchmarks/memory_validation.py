"""Choose the memory agents' settings on the validation families (never on the test families).

For every validation workload, runs plain MCTS at each tree depth, MCTS with the trained net at
each prior mix (at the depth chosen for plain MCTS), and the search at each restart fraction, all
with the README's budgets (8 simulations per move; 5 CPU seconds of search), and prints per
setting the geometric-mean speedup over XLA+sim and the largest CPU time, then the choice: the
fastest setting whose CPU time stays within 10 s per model.

    .venv/bin/python benchmarks/memory_validation.py --mcts-model runs/memory/mcts-net.pt
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from optgym.memory.agents.mcts import load_net, mcts_mapping
    from optgym.memory.agents.search import search_mapping
    from optgym.memory.baselines import xla_mapping
    from optgym.memory.env import MemoryMappingEnv
    from optgym.memory.timeline import CostModel
    from optgym.memory.workloads import load_problem, workload_names

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mcts-model", required=True, help="the net trained on the train families")
    parser.add_argument("--hardware", default="tpu-like")
    parser.add_argument("--depths", default="16,32")
    parser.add_argument("--prior-mixes", default="0.25,0.5,0.75")
    parser.add_argument("--restart-fractions", default="0.1,0.2,0.4")
    parser.add_argument("--time-limit", type=float, default=5.0, help="CPU seconds of search")
    parser.add_argument("--simulations", type=int, default=8)
    args = parser.parse_args(argv)
    net = load_net(args.mcts_model)
    depths = [int(x) for x in args.depths.split(",")]
    mixes = [float(x) for x in args.prior_mixes.split(",")]
    fractions = [float(x) for x in args.restart_fractions.split(",")]
    results: dict[str, list[tuple[float, float]]] = {}

    def record(key: str, base: float, runtime: float, cpu: float) -> None:
        results.setdefault(key, []).append((base / runtime, cpu))

    names = workload_names("validation")
    for name in names:
        p, hw = load_problem(name, args.hardware)
        base = xla_mapping(p, hw, CostModel(p, hw), simulate=True).runtime
        for d in depths:
            t0 = time.process_time()
            r = mcts_mapping(name, hw, simulations=args.simulations, max_depth=d, env=MemoryMappingEnv(p, hw))
            record(f"mcts depth={d}", base, r.runtime, time.process_time() - t0)
        for d in depths:
            for mix in mixes:
                t0 = time.process_time()
                r = mcts_mapping(name, hw, net=net, simulations=args.simulations, max_depth=d, prior_mix=mix,
                                 env=MemoryMappingEnv(p, hw))
                record(f"mcts+net depth={d} prior_mix={mix}", base, r.runtime, time.process_time() - t0)
        for f in fractions:
            t0 = time.process_time()
            r = search_mapping(p, hw, time_limit=args.time_limit, restart_fraction=f)
            record(f"search restart_fraction={f}", base, r.runtime, time.process_time() - t0)
        print(f"{name} done", file=sys.stderr)
    print(f"validation families ({len(names)} workloads: {', '.join(names)}), speedup over XLA+sim")
    print("| setting | geomean speedup | min | max CPU s |\n|---|---|---|---|")
    for key, vals in results.items():
        s = np.array([v[0] for v in vals])
        print(f"| {key} | {np.exp(np.log(s).mean()):.4f} | {s.min():.4f} | {max(v[1] for v in vals):.1f} |")
    for prefix in ("mcts depth", "mcts+net", "search"):
        ok = {k: v for k, v in results.items() if k.startswith(prefix) and max(c for _, c in v) <= 10.0}
        if ok:
            best = max(ok, key=lambda k: (np.exp(np.log([v[0] for v in ok[k]]).mean()), -len(k)))
            print(f"chosen: {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
