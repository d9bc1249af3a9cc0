"""Pictures of placements: buffers as rectangles over time (x) and fast-memory offset (y)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from optgym.memory.problem import MemoryProblem

if TYPE_CHECKING:
    from optgym.memory.timeline import Timeline

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


# ------------------------------------------------------------------------------------------
# The time axis: a lane per engine (ops, stalls, copy engines) and fast-memory occupancy


def timeline_view(problem: MemoryProblem, tl: Timeline) -> dict:
    """What the time-axis view draws, in microseconds: ops, stalls, copies on engine lanes, and
    the bytes of fast memory allocated over time (a step function)."""
    from optgym.memory.problem import PREFETCH

    us = 1e6
    ops = []
    for i in range(problem.n_ops):
        ops.append({"i": i, "name": problem.op_names[i], "t0": tl.op_start[i] * us, "t1": tl.op_end[i] * us,
                    "slow": float(tl.op_slow_bytes[i]), "fast": float(tl.op_fast_bytes[i])})
    stalls = []
    prev = 0.0
    for i in range(problem.n_ops):
        if tl.op_start[i] > prev + 1e-15:
            stalls.append({"t0": prev * us, "t1": tl.op_start[i] * us, "before": i})
        prev = tl.op_end[i]
    if tl.runtime > prev + 1e-15:
        stalls.append({"t0": prev * us, "t1": tl.runtime * us, "before": problem.n_ops})
    # engine lanes: copies in order of their begin, each on the first engine free by then
    lanes_free: list[float] = []
    copies = []
    for j in np.argsort(tl.copy_begin, kind="stable"):
        t0, t1 = float(tl.copy_begin[j]), float(tl.copy_end[j])
        lane = next((k for k, f in enumerate(lanes_free) if f <= t0 + 1e-15), len(lanes_free))
        if lane == len(lanes_free):
            lanes_free.append(t1)
        lanes_free[lane] = t1
        b = int(tl.copy_seg[j])
        copies.append({"seg": problem.buffer_names[b], "kind": "eviction" if tl.copy_evict[j] else "prefetch",
                       "engine": lane, "issue": float(tl.copy_issue[j]) * us, "t0": t0 * us, "t1": t1 * us,
                       "bytes": int(problem.size[b])})
    events: list[tuple[float, int]] = []
    for b in np.flatnonzero(tl.mapping >= 0):
        if problem.seg_kind[b] == PREFETCH:
            j = np.flatnonzero((tl.copy_seg == b) & ~tl.copy_evict)
            start = float(tl.copy_issue[j[0]]) if len(j) else float(tl.op_start[tl.lo[b]])
        else:
            start = float(tl.op_start[problem.seg_first[b]])
        end = float(tl.op_start[tl.hi[b]]) if tl.hi[b] < problem.n_ops else tl.runtime
        events += [(start * us, int(problem.size[b])), (end * us, -int(problem.size[b]))]
    events.sort(key=lambda e: (e[0], e[1]))
    occ, level = [[0.0, 0]], 0
    for t, d in events:
        level += d
        if occ and abs(occ[-1][0] - t) < 1e-12:
            occ[-1][1] = level
        else:
            occ.append([t, level])
    occ.append([tl.runtime * us, level])
    return {"name": problem.name, "runtime": tl.runtime * us, "capacity": int(problem.capacity),
            "ops": ops, "stalls": stalls, "copies": copies, "engines": max(1, len(lanes_free)),
            "occupancy": occ, "stall_total": sum(s["t1"] - s["t0"] for s in stalls)}


def save_timeline_png(problem: MemoryProblem, tl: Timeline, path: str | Path, *,
                      title: str | None = None) -> Path:
    """Draw the time-axis view (lanes and occupancy) into a PNG (atomically); returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = timeline_view(problem, tl)
    lanes = ["ops", "stall"] + [f"copy engine {k}" for k in range(v["engines"])]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(12, 2.2 + 0.45 * len(lanes) + 2.2), dpi=120, sharex=True,
                                  gridspec_kw={"height_ratios": [len(lanes), 3]})
    y = {name: len(lanes) - 1 - k for k, name in enumerate(lanes)}
    for o in v["ops"]:
        ax.broken_barh([(o["t0"], o["t1"] - o["t0"])], (y["ops"] - 0.4, 0.8), facecolor="#4c72b0",
                       edgecolor="white", linewidth=0.3)
    for s in v["stalls"]:
        ax.broken_barh([(s["t0"], s["t1"] - s["t0"])], (y["stall"] - 0.4, 0.8), facecolor="#c44e52")
    for c in v["copies"]:
        ax.broken_barh([(c["t0"], c["t1"] - c["t0"])], (y[f"copy engine {c['engine']}"] - 0.4, 0.8),
                       facecolor="#55a868" if c["kind"] == "prefetch" else "#dd8452", edgecolor="white",
                       linewidth=0.3)
    ax.set_yticks([y[n] for n in lanes], lanes)
    ax.set_title(title or f"{v['name']}: {v['runtime']:.2f} us, {v['stall_total']:.2f} us stalled")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="#4c72b0", label="op"), Patch(color="#c44e52", label="stall"),
                       Patch(color="#55a868", label="prefetch"), Patch(color="#dd8452", label="eviction")],
              loc="upper right", fontsize=7, ncol=4)
    occ = np.array(v["occupancy"])
    ax2.step(occ[:, 0], occ[:, 1] / 2**10, where="post", color="#4c72b0")
    ax2.fill_between(occ[:, 0], occ[:, 1] / 2**10, step="post", alpha=0.3, color="#4c72b0")
    ax2.axhline(v["capacity"] / 2**10, color="red", linestyle="--", linewidth=1, label="capacity")
    ax2.set_ylabel("fast memory (KiB)")
    ax2.set_xlabel("time (us)")
    ax2.legend(loc="upper right", fontsize=7)
    ax2.set_xlim(0, max(v["runtime"], 1e-9))
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
svg{border:1px solid #ddd;background:#fff}
.op{fill:#4c72b0}.stall{fill:#c44e52}.prefetch{fill:#55a868}.eviction{fill:#dd8452}
.occ{fill:#4c72b0;fill-opacity:.3;stroke:#4c72b0}.cap{stroke:red;stroke-dasharray:4 3}
.lane{font-size:12px}#tip{position:fixed;background:#ffe;border:1px solid #999;padding:2px 6px;display:none}
</style></head><body>
<h1>__TITLE__</h1>
<p id="summary"></p>
<div id="view" data-ready="no"></div><div id="tip"></div>
<script id="data" type="application/json">__DATA__</script>
<script>
(function () {
  const v = JSON.parse(document.getElementById("data").textContent);
  const lanes = ["ops", "stall"].concat([...Array(v.engines).keys()].map(k => "copy engine " + k));
  const W = 1100, L = 110, H = 28 * lanes.length, OH = 160, T = v.runtime || 1;
  const x = t => L + (W - L - 10) * t / T;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H + OH + 40);
  const tip = document.getElementById("tip");
  function rect(cls, lane, t0, t1, text) {
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("class", cls); r.setAttribute("x", x(t0)); r.setAttribute("y", 28 * lane + 4);
    r.setAttribute("width", Math.max(x(t1) - x(t0), 0.5)); r.setAttribute("height", 20);
    r.addEventListener("mousemove", e => { tip.style.display = "block"; tip.style.left = (e.clientX + 12) + "px";
      tip.style.top = (e.clientY + 12) + "px"; tip.textContent = text; });
    r.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    const title = document.createElementNS(ns, "title"); title.textContent = text; r.appendChild(title);
    svg.appendChild(r);
  }
  lanes.forEach((name, k) => { const t = document.createElementNS(ns, "text"); t.setAttribute("class", "lane");
    t.setAttribute("x", 4); t.setAttribute("y", 28 * k + 19); t.textContent = name; svg.appendChild(t); });
  v.ops.forEach(o => rect("op", 0, o.t0, o.t1, `op ${o.i} ${o.name}: ${o.t0.toFixed(3)}-${o.t1.toFixed(3)} us`));
  v.stalls.forEach(s => rect("stall", 1, s.t0, s.t1, `stall before op ${s.before}: ${(s.t1 - s.t0).toFixed(3)} us`));
  v.copies.forEach(c => rect(c.kind, 2 + c.engine, c.t0, c.t1,
    `${c.kind} of ${c.seg} (${c.bytes} B): issued ${c.issue.toFixed(3)}, ${c.t0.toFixed(3)}-${c.t1.toFixed(3)} us`));
  const top = H + 20, maxB = Math.max(v.capacity, ...v.occupancy.map(p => p[1])) * 1.05;
  const yb = b => top + OH - OH * b / maxB;
  let d = `M ${x(0)} ${yb(0)}`;
  v.occupancy.forEach((p, k) => { const prev = k ? v.occupancy[k - 1][1] : 0;
    d += ` L ${x(p[0])} ${yb(prev)} L ${x(p[0])} ${yb(p[1])}`; });
  d += ` L ${x(T)} ${yb(0)} Z`;
  const path = document.createElementNS(ns, "path"); path.setAttribute("class", "occ"); path.setAttribute("d", d);
  svg.appendChild(path);
  const cap = document.createElementNS(ns, "line"); cap.setAttribute("class", "cap");
  cap.setAttribute("x1", L); cap.setAttribute("x2", W - 10); cap.setAttribute("y1", yb(v.capacity));
  cap.setAttribute("y2", yb(v.capacity)); svg.appendChild(cap);
  const lab = document.createElementNS(ns, "text"); lab.setAttribute("class", "lane"); lab.setAttribute("x", 4);
  lab.setAttribute("y", top + 14); lab.textContent = "fast memory"; svg.appendChild(lab);
  const view = document.getElementById("view");
  view.appendChild(svg);
  document.getElementById("summary").textContent =
    `${v.runtime.toFixed(3)} us, of which ${v.stall_total.toFixed(3)} us stalled; ${v.ops.length} ops, ` +
    `${v.copies.length} copies on ${v.engines} engine(s); fast memory ${v.capacity} B`;
  view.setAttribute("data-ready", "yes");
  view.setAttribute("data-rects", svg.querySelectorAll("rect").length);
})();
</script></body></html>
"""


def save_timeline_html(problem: MemoryProblem, tl: Timeline, path: str | Path, *,
                       title: str | None = None) -> Path:
    """Write the time-axis view as one self-contained HTML page (its script draws an SVG from the
    embedded data; hover for details); returns the path."""
    import html
    import json

    from optgym.cache import atomic_write

    v = timeline_view(problem, tl)
    title = title or f"{v['name']}: {v['runtime']:.2f} us"
    text = _HTML.replace("__TITLE__", html.escape(title)).replace(
        "__DATA__", json.dumps(v).replace("</", "<\\/"))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode())
    return path
