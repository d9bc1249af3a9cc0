"""Pictures of placements: buffers as rectangles over time (x) and fast-memory offset (y)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from optgym.memory.problem import MemoryProblem

_COLORS = {"weight": "#4c72b0", "activation": "#dd8452", "input": "#55a868", "buffer": "#8172b3"}


def save_placement_png(problem: MemoryProblem, mapping: np.ndarray, path: str | Path, *,
                       title: str | None = None, capacity: int | None = None) -> Path:
    """Draw the fast-memory buffers of ``mapping`` and write a PNG (atomically); returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    cap = problem.capacity if capacity is None else capacity
    m = np.asarray(mapping)
    fast = np.flatnonzero(m >= 0)
    fig, ax = plt.subplots(figsize=(10, 5), dpi=120)
    rects = [Rectangle((problem.lower[b], m[b]), problem.upper[b] - problem.lower[b], problem.size[b])
             for b in fast]
    colors = [_COLORS.get(problem.buffer_kinds[b], "#937860") for b in fast]
    ax.add_collection(PatchCollection(rects, facecolor=colors, edgecolor="black", linewidth=0.3, alpha=0.85))
    top = max(cap, int((m[fast] + problem.size[fast]).max()) if len(fast) else cap)
    ax.axhline(cap, color="red", linestyle="--", linewidth=1, label=f"capacity {cap:,} B")
    ax.set_xlim(0, max(problem.horizon, 1))
    ax.set_ylim(0, top * 1.05)
    ax.set_xlabel("time (op index; logical time for MiniMalloc problems)")
    ax.set_ylabel("fast-memory offset (bytes)")
    n_slow = problem.n_buffers - len(fast)
    ax.set_title(title or f"{problem.name}: {len(fast)} buffers in fast memory, {n_slow} in slow")
    handles = [Rectangle((0, 0), 1, 1, color=c) for k, c in _COLORS.items()
               if k in {problem.buffer_kinds[b] for b in fast}]
    labels = [k for k in _COLORS if k in {problem.buffer_kinds[b] for b in fast}]
    ax.legend(handles + ax.get_legend_handles_labels()[0], labels + [f"capacity {cap:,} B"],
              loc="upper right", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path
