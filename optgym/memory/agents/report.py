"""The memory-mapping report: timeline runtime per workload for each agent, paired bootstrap
intervals over families, the checker's verdict on every mapping, and the packing set."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

#: what the report's columns are called
NAMES = {"all-slow": "all-slow", "xla": "XLA", "xla-sim": "XLA+sim", "greedy": "greedy", "search": "search",
         "mcts": "MCTS", "mcts-net": "MCTS+net", "search-eq": "search (= MCTS sims)", "ppo": "MaskablePPO",
         "cpsat": "CP-SAT (surrogate)"}


def paired_bootstrap(a: np.ndarray, b: np.ndarray, groups: list[str], *, samples: int = 10000,
                     seed: int = 0) -> tuple[float, float, float]:
    """Geometric-mean speedup of ``a`` over ``b`` (``b / a`` runtimes, > 1: ``a`` faster) and its
    95% interval, resampling whole groups (model families) with replacement, since workloads of
    one family are not independent."""
    logs = np.log(np.asarray(b, dtype=np.float64) / np.asarray(a, dtype=np.float64))
    keys = sorted(set(groups))
    idx = [np.flatnonzero(np.array(groups) == k) for k in keys]
    rng = np.random.default_rng(seed)
    stats = np.empty(samples)
    for s in range(samples):
        pick = rng.integers(len(keys), size=len(keys))
        members = np.concatenate([idx[k] for k in pick])
        stats[s] = logs[members].mean()
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return float(np.exp(logs.mean())), float(np.exp(lo)), float(np.exp(hi))


def mapping_table(hardware: str = "tpu-like", *, time_limit: float = 10.0, simulations: int = 8,  # noqa: C901 - one loop over workloads and agents, then the summaries side by side
                  max_depth: int | None = 16, prior_mix: float = 0.5, ppo_model: str | None = None, mcts_model: str | None = None,
                  workloads: list[str] | None = None, cpsat: bool = False, check: bool = True,
                  progress: bool | None = None) -> tuple[str, list[dict]]:
    """Run the agents on the workloads (default: the held-out test families); returns (Markdown, rows).

    Besides each agent's runtime, ``search-eq`` is the search given exactly as many timeline
    simulations as plain MCTS used on that workload (the comparison at equal simulations).
    With ``check``, every mapping is replayed by the independent checker; a hazard raises."""
    from tqdm import tqdm

    from optgym.errors import OptgymError
    from optgym.memory.agents.run import run_agent
    from optgym.memory.check import check_mapping
    from optgym.memory.timeline import CostModel
    from optgym.memory.workloads import load_problem, workload_family, workload_names

    agents = (["xla-sim", "greedy", "mcts"] + (["mcts-net"] if mcts_model else []) + ["search-eq", "search"]
              + (["ppo"] if ppo_model else []) + (["cpsat"] if cpsat else []))
    rows = []
    bar = progress if progress is not None else sys.stderr.isatty()
    for name in tqdm(workloads or workload_names("test"), desc="workloads", disable=not bar):
        problem, hw = load_problem(name, hardware)
        row = {"workload": name, "family": workload_family(name) or name, "segments": problem.n_buffers,
               "all-slow": CostModel(problem, hw).all_slow, "hazards": 0}
        for agent in ["xla"] + agents:
            kind = {"mcts-net": "mcts", "search-eq": "search"}.get(agent, agent)
            t0 = time.process_time()
            res = run_agent(kind, problem, hw, time_limit=1e9 if agent == "search-eq" else time_limit,
                            model={"ppo": ppo_model, "mcts-net": mcts_model}.get(agent),
                            simulations=simulations, max_depth=max_depth, prior_mix=prior_mix,
                            max_evals=row.get("mcts-sims") if agent == "search-eq" else None)
            row[agent] = res.runtime
            row[f"{agent}-cpu"] = time.process_time() - t0
            if agent == "mcts":
                row["mcts-sims"] = int(getattr(res, "simulations", 0))
            if check:
                hazards = check_mapping(problem, hw, res.mapping, res.intervals)
                if hazards:
                    raise OptgymError(f"{name} [{agent}]: the checker found {len(hazards)} hazard(s): {hazards[0]}")
        rows.append(row)
    cols = ["all-slow", "xla"] + agents
    lines = ["| workload | family | segments | " + " | ".join(NAMES[c] + " us" for c in cols)
             + " | best vs XLA |", "|" + "---|" * (len(cols) + 4)]
    for r in rows:
        best = min(r[a] for a in agents if a not in ("greedy", "xla-sim"))
        cells = " | ".join(f"{r[c] * 1e6:.3f}" for c in cols)
        lines.append(f"| {r['workload']} | {r['family']} | {r['segments']} | {cells} | "
                     f"{(r['xla'] / best - 1) * 100:+.1f}% |")
    fam = [r["family"] for r in rows]

    def col(a: str) -> np.ndarray:
        return np.array([r[a] for r in rows])

    summary = []
    for a in agents:
        g, lo, hi = paired_bootstrap(col(a), col("xla"), fam)
        worse = sum(r[a] > r["xla"] * (1 + 1e-9) for r in rows)
        gs, los, his = paired_bootstrap(col(a), col("xla-sim"), fam)
        summary.append(f"{NAMES[a]}: geomean speedup vs XLA {g:.4f} (95% {lo:.4f}-{hi:.4f}), slower than XLA "
                       f"on {worse}/{len(rows)}; vs XLA+sim {gs:.4f} ({los:.4f}-{his:.4f}); CPU s max "
                       f"{max(r[f'{a}-cpu'] for r in rows):.1f}")
    g, lo, hi = paired_bootstrap(col("search-eq"), col("mcts"), fam)
    summary.append(f"search vs plain MCTS at equal simulations ({min(col('mcts-sims'))}-{max(col('mcts-sims'))} "
                   f"per workload): {g:.4f} (95% {lo:.4f}-{hi:.4f})")
    g, lo, hi = paired_bootstrap(col("search"), col("mcts"), fam)
    summary.append(f"search ({time_limit:g} s) vs plain MCTS: {g:.4f} (95% {lo:.4f}-{hi:.4f})")
    if "mcts-net" in agents:
        g, lo, hi = paired_bootstrap(col("mcts-net"), col("mcts"), fam)
        better = sum(r["mcts-net"] < r["mcts"] * (1 - 1e-9) for r in rows)
        worse = sum(r["mcts-net"] > r["mcts"] * (1 + 1e-9) for r in rows)
        summary.append(f"MCTS+net vs plain MCTS at {simulations} simulations/move: {g:.4f} (95% {lo:.4f}-{hi:.4f}); "
                       f"better on {better}, equal on {len(rows) - better - worse}, worse on {worse} of {len(rows)}")
    if check:
        summary.append(f"checker: 0 hazards in all {len(rows) * (len(agents) + 1)} mappings")
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
