"""The memory-mapping report: estimated runtime per workload for each agent, and the packing set."""

from __future__ import annotations

import time

import numpy as np


def mapping_table(hardware: str = "tpu-like", *, time_limit: float = 10.0, simulations: int = 16,
                  ppo_model: str | None = None, mcts_model: str | None = None,
                  workloads: list[str] | None = None,
                  progress: bool = True) -> tuple[str, list[dict]]:
    """Run every mapping agent on every traced workload; returns (Markdown table, rows)."""
    from tqdm import tqdm

    from optgym.agents.memory.run import run_agent
    from optgym.envs.memory.problem import CostModel
    from optgym.envs.memory.workloads import WORKLOAD_NAMES, load_problem

    agents = (["xla", "search", "mcts"] + (["mcts-net"] if mcts_model else [])
              + (["ppo"] if ppo_model else []) + ["cpsat"])
    rows = []
    for name in tqdm(workloads or list(WORKLOAD_NAMES), desc="workloads", disable=not progress):
        problem, hw = load_problem(name, hardware)
        row = {"workload": name, "buffers": problem.n_buffers, "all-slow": CostModel(problem, hw).all_slow}
        for agent in agents:
            res = run_agent(agent.removesuffix("-net"), problem, hw, time_limit=time_limit,
                            model={"ppo": ppo_model, "mcts-net": mcts_model}.get(agent),
                            simulations=simulations)
            row[agent] = res.runtime
            row[f"{agent}-seconds"] = res.seconds
            if agent.startswith("mcts"):
                row[f"{agent}-played"] = res.played_runtime
            if agent == "cpsat":
                row["cpsat-bound"] = res.bound
                row["cpsat-optimal"] = res.optimal
        rows.append(row)
    cols = ["all-slow", "xla"] + [a for a in agents if a != "xla"]
    head = "| workload | buffers | " + " | ".join(
        {"all-slow": "all-slow", "xla": "XLA-style", "search": "search", "mcts": "MCTS",
         "mcts-net": "MCTS+net",
         "ppo": "MaskablePPO", "cpsat": "CP-SAT (exact)"}[c] + " us" for c in cols) + " | best agent vs XLA |"
    lines = [head, "|" + "---|" * (len(cols) + 3)]
    gains = []
    for r in rows:
        best_agent = min(r[a] for a in agents if a not in ("xla", "cpsat"))
        gain = 1 - best_agent / r["xla"]
        gains.append(gain)
        cells = []
        for c in cols:
            v = f"{r[c] * 1e6:.2f}"
            if c == "cpsat":
                v += " (opt)" if r["cpsat-optimal"] else f" (bound {r['cpsat-bound'] * 1e6:.2f})"
            cells.append(v)
        lines.append(f"| {r['workload']} | {r['buffers']} | " + " | ".join(cells) + f" | {gain * 100:+.1f}% |")
    per_agent = []
    for a in agents:
        if a in ("xla",):
            continue
        g = np.mean([1 - r[a] / r["xla"] for r in rows])
        worse = sum(r[a] > r["xla"] * (1 + 1e-9) for r in rows)
        per_agent.append(f"{a}: mean {g * 100:+.1f}% vs XLA-style, worse on {worse}/{len(rows)}")
    text = "\n".join(lines) + "\n\n" + "; ".join(per_agent)
    for a in (x for x in agents if x.startswith("mcts")):
        text += f"\n\n{a} as played (its own move choices, not the best simulated completion): " + ", ".join(
            f"{r['workload']} {r[f'{a}-played'] * 1e6:.2f}" for r in rows) + " us"
    return text, rows


def packing_table(*, time_limit: float = 30.0, progress: bool = True) -> tuple[str, int]:
    """Best-fit and the packing solver on the eleven MiniMalloc problems; returns (table, fits)."""
    from tqdm import tqdm

    from optgym.agents.memory.run import run_agent
    from optgym.envs.memory.minimalloc import MINIMALLOC_NAMES, load_minimalloc
    from optgym.envs.memory.problem import get_hardware

    hw = get_hardware("tpu-like")
    lines = ["| problem | buffers | capacity | best-fit height | packing solver | status | seconds |",
             "|---|---|---|---|---|---|---|"]
    fits = 0
    for letter in tqdm(MINIMALLOC_NAMES, desc="packing", disable=not progress):
        p = load_minimalloc(letter)
        bf = run_agent("best-fit", p, hw)
        t0 = time.perf_counter()
        pk = run_agent("pack", p, hw, time_limit=time_limit)
        ok = pk.height <= p.capacity
        fits += ok
        lines.append(f"| {letter} | {p.n_buffers} | {p.capacity:,} | {bf.height:,} | {pk.height:,} | "
                     f"{'fits' if ok else 'no fit'} ({pk.note}) | {time.perf_counter() - t0:.1f} |")
    return "\n".join(lines) + f"\n\nfit within capacity: {fits}/11", fits
