"""The memory-mapping report: timeline runtime per workload for each agent, and the packing set."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np


def mapping_table(hardware: str = "tpu-like", *, time_limit: float = 10.0, simulations: int = 16,
                  ppo_model: str | None = None, mcts_model: str | None = None,
                  workloads: list[str] | None = None, cpsat: bool = False,
                  progress: bool | None = None) -> tuple[str, list[dict]]:
    """Run the agents on the workloads (default: the held-out test split); returns (Markdown, rows).

    Every gain is relative to the XLA-style baseline: ``1 - agent runtime / baseline runtime``.
    """
    from tqdm import tqdm

    from optgym.memory.agents.run import run_agent
    from optgym.memory.timeline import CostModel
    from optgym.memory.workloads import load_problem, workload_names

    agents = (["greedy", "search", "mcts"] + (["mcts-net"] if mcts_model else [])
              + (["ppo"] if ppo_model else []) + (["cpsat"] if cpsat else []))
    rows = []
    bar = progress if progress is not None else sys.stderr.isatty()
    for name in tqdm(workloads or workload_names("test"), desc="workloads", disable=not bar):
        problem, hw = load_problem(name, hardware)
        row = {"workload": name, "segments": problem.n_buffers, "all-slow": CostModel(problem, hw).all_slow}
        for agent in ["xla"] + agents:
            res = run_agent(agent.removesuffix("-net"), problem, hw, time_limit=time_limit,
                            model={"ppo": ppo_model, "mcts-net": mcts_model}.get(agent),
                            simulations=simulations)
            row[agent] = res.runtime
            row[f"{agent}-seconds"] = res.seconds
        rows.append(row)
    names = {"all-slow": "all-slow", "xla": "XLA-style", "greedy": "greedy", "search": "search",
             "mcts": "MCTS", "mcts-net": "MCTS+net", "ppo": "MaskablePPO", "cpsat": "CP-SAT (surrogate)"}
    cols = ["all-slow", "xla"] + agents
    lines = ["| workload | segments | " + " | ".join(names[c] + " us" for c in cols) + " | best agent vs XLA |",
             "|" + "---|" * (len(cols) + 3)]
    for r in rows:
        best = min(r[a] for a in agents if a != "greedy")
        cells = " | ".join(f"{r[c] * 1e6:.2f}" for c in cols)
        lines.append(f"| {r['workload']} | {r['segments']} | {cells} | {(1 - best / r['xla']) * 100:+.1f}% |")
    summary = []
    for a in agents:
        g = [1 - r[a] / r["xla"] for r in rows]
        worse = sum(r[a] > r["xla"] * (1 + 1e-9) for r in rows)
        summary.append(f"{names[a]}: mean {np.mean(g) * 100:+.2f}%, worst {min(g) * 100:+.2f}%, "
                       f"worse than XLA-style on {worse}/{len(rows)}")
    if "mcts-net" in agents:
        better = sum(r["mcts-net"] < r["mcts"] * (1 - 1e-9) for r in rows)
        worse = sum(r["mcts-net"] > r["mcts"] * (1 + 1e-9) for r in rows)
        summary.append(f"MCTS+net vs MCTS at {simulations} simulations: better on {better}, equal on "
                       f"{len(rows) - better - worse}, worse on {worse} of {len(rows)}")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {s}" for s in summary), rows


def packing_table(*, time_limit: float = 10.0, progress: bool | None = None) -> tuple[str, int]:
    """Best-fit and the packing solver on the eleven MiniMalloc problems; returns (table, fits)."""
    from tqdm import tqdm

    from optgym.memory.agents.packing import pack, validate_packing
    from optgym.memory.baselines import best_fit_packing
    from optgym.memory.minimalloc import MINIMALLOC_NAMES, load_minimalloc

    lines = ["| problem | buffers | capacity | best-fit height | packing solver | CPU s |",
             "|---|---|---|---|---|---|"]
    fits, cpu = 0, []
    bar = progress if progress is not None else sys.stderr.isatty()
    for letter in tqdm(MINIMALLOC_NAMES, desc="packing", disable=not bar):
        p = load_minimalloc(letter)
        bf = best_fit_packing(p)
        t0 = time.process_time()
        res = pack(p.lower, p.upper, p.size, p.capacity, time_limit=time_limit)
        ok = res.status == "fit" and not validate_packing(p.lower, p.upper, p.size, res.offsets, p.capacity)
        fits += ok
        cpu.append(time.process_time() - t0)
        lines.append(f"| {letter} | {p.n_buffers} | {p.capacity:,} | {bf.height:,} | "
                     f"{'fits' if ok else res.status} | {cpu[-1]:.2f} |")
    return ("\n".join(lines) + f"\n\nfit within capacity: {fits}/{len(cpu)}; CPU seconds max "
            f"{max(cpu):.2f}, median {statistics.median(cpu):.2f}"), fits
