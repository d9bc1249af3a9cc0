"""The leaderboard as a static HTML site: ``index.html`` with a sortable table and two plots per
task, and one page per submission with its per-benchmark results.

Everything the pages need is inside them (CSS and JS inline, plots as inline SVG drawn with
matplotlib), so the site works from a file system, behind a firewall, or on a plain HTTP server,
and loads nothing from the network.
"""

from __future__ import annotations

import html
import io
import os
from pathlib import Path
from typing import Any

from optgym import LLVM_VERSION, __version__
from optgym.errors import OptgymError
from optgym.leaderboard.results import now_iso, write_public
from optgym.leaderboard.store import Store, Submission
from optgym.leaderboard.tasks import COST_UNITS, budget_text, get_task, task_names

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #1d2330; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 2px solid #dde2ea; }
.meta { color: #5a6475; font-size: 90%; }
table { border-collapse: collapse; width: 100%; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
th, td { padding: 0.35em 0.6em; border-bottom: 1px solid #e6e9ef; text-align: left; }
th { background: #f3f5f9; cursor: pointer; user-select: none; white-space: nowrap; }
th.sorted-asc::after { content: " \\25B2"; } th.sorted-desc::after { content: " \\25BC"; }
td.num, th.num { text-align: right; }
tr:hover td { background: #f8fafc; }
.better { color: #0b7a32; font-weight: 600; } .worse { color: #b42318; }
.ok { color: #0b7a32; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #5a6475; font-size: 90%; }
code { font-size: 85%; word-break: break-all; }
.empty { color: #5a6475; font-style: italic; }
"""

# Sorting: click a header; numbers sort by data-value. "?sort=KEY" (and "&dir=asc|desc") in the
# URL sorts every table that has that column when the page loads.
_JS = """
function sortTable(table, key, dir) {
  const th = table.querySelector('th[data-key="' + key + '"]');
  if (!th) return false;
  const index = Array.prototype.indexOf.call(th.parentNode.children, th);
  const numeric = th.dataset.type === 'num';
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort(function (a, b) {
    const x = a.cells[index].dataset.value ?? a.cells[index].textContent;
    const y = b.cells[index].dataset.value ?? b.cells[index].textContent;
    const c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
    return dir === 'asc' ? c : -c;
  });
  rows.forEach(function (r) { body.appendChild(r); });
  table.querySelectorAll('th').forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
  th.classList.add(dir === 'asc' ? 'sorted-asc' : 'sorted-desc');
  table.dataset.sortedBy = key + ':' + dir;
  return true;
}
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th[data-key]').forEach(function (th) {
    th.addEventListener('click', function () {
      const dir = th.classList.contains('sorted-desc') ? 'asc' : 'desc';
      sortTable(table, th.dataset.key, dir);
    });
  });
  table.dataset.ready = 'yes';
});
(function () {
  const params = new URLSearchParams(window.location.search);
  const key = params.get('sort');
  if (!key) return;
  const dir = params.get('dir') === 'asc' ? 'asc' : 'desc';
  document.querySelectorAll('table.sortable').forEach(function (t) { sortTable(t, key, dir); });
})();
"""

_COLORS = ["#2f6fdf", "#e0762b", "#2a9d5b", "#c23b5c", "#7e57c2", "#8d6e3f", "#d4a017",
           "#3aa6b9", "#6b7280", "#a1369a"]


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def submission_label(sub: Submission) -> str:
    """How a submission is named in tables and legends: policy and budget."""
    budget = budget_text_from_json(sub.budget)
    return f"{sub.policy} ({budget})" if budget else sub.policy


def budget_text_from_json(data: dict[str, Any]) -> str:
    from optgym.leaderboard.tasks import budget_from_json

    try:
        return budget_text(budget_from_json(data))
    except OptgymError:
        return ""


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG is inline


def _plain(text: str) -> str:
    """Text for a plot label, shown as written: no mathtext, no legend-hiding leading '_'."""
    return text.replace("$", r"\$").lstrip("_") or "?"


def _short(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _reduction_bars(subs: list[Submission], title: str) -> str:
    """Grouped bars: per benchmark, -Oz cost / ours for each submission (1 = -Oz)."""
    from matplotlib.figure import Figure

    benchmarks = sorted({r["benchmark"] for s in subs for r in s.rows})
    n = max(len(subs), 1)
    width = 0.8 / n
    fig = Figure(figsize=(max(6.0, 0.5 * len(benchmarks) * max(1, n / 3)), 3.8))
    ax = fig.add_subplot()
    for i, sub in enumerate(subs):
        ratios = {r["benchmark"]: r["oz_ratio"] for r in sub.rows}
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(benchmarks))]
        # Bars grow from -Oz's level: up when smaller than -Oz, down when larger.
        ax.bar(xs, [ratios.get(b, 1.0) - 1.0 for b in benchmarks], bottom=1.0, width=width,
               color=_COLORS[i % len(_COLORS)], label=_plain(submission_label(sub)))
    ax.axhline(1.0, color="#333", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(benchmarks)), [_plain(_short(b)) for b in benchmarks], rotation=40,
                  ha="right", fontsize=8)
    values = [r["oz_ratio"] for s in subs for r in s.rows] or [1.0]
    low, high = min(values + [1.0]), max(values + [1.0])
    pad = max(0.02, (high - low) * 0.15)
    ax.set_ylim(max(0.0, low - pad), high + pad)
    ax.set_ylabel("-Oz cost / policy's cost")
    ax.set_title(_plain(title), fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def _reduction_vs_walltime(subs: list[Submission], title: str) -> str:
    """Scatter: every benchmark of every submission, reduction against wall time (log scale)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 3.8))
    ax = fig.add_subplot()
    for i, sub in enumerate(subs):
        color = _COLORS[i % len(_COLORS)]
        ax.scatter([max(r["walltime"], 1e-3) for r in sub.rows], [r["oz_ratio"] for r in sub.rows],
                   s=16, alpha=0.55, color=color)
        ax.scatter([max(sub.mean_walltime, 1e-3)], [sub.geomean], s=90, marker="D", color=color,
                   edgecolor="black", label=_plain(f"{submission_label(sub)}: geomean"))
    ax.axhline(1.0, color="#333", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_xlabel("wall time per benchmark (s, log scale)")
    ax.set_ylabel("-Oz cost / policy's cost")
    ax.set_title(_plain(title), fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return _svg(fig)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>\n{body}\n"
        f"<script>{_JS}</script></body></html>\n"
    )


def _ratio_cell(value: float) -> str:
    cls = "better" if value > 1.0 + 1e-9 else "worse" if value < 1.0 - 1e-9 else ""
    return (f'<td class="num {cls}" data-value="{value:.6f}">{value:.4f}&times; '
            f'<span class="meta">({(value - 1) * 100:+.1f}%)</span></td>')


def _task_section(name: str, subs: list[Submission]) -> str:
    try:
        task = get_task(name)
        description = task.description
        about = (f"reward {task.reward} ({COST_UNITS[task.reward]}), {len(task.benchmarks)} "
                 f"programs of {task.dataset}, budget up to {budget_text(task.budget)} per "
                 f"program, LLVM {task.llvm_version}")
    except OptgymError:
        description, about = "(a task not defined in this optgym)", ""
    out = [f'<section class="task" id="task-{_esc(name)}"><h2>{_esc(name)}</h2>',
           f"<p>{_esc(description)}<br><span class=\"meta\">{_esc(about)}</span></p>"]
    if not subs:
        out.append('<p class="empty">No validated submissions yet.</p></section>')
        return "\n".join(out)
    out.append(
        f'<table class="sortable board" id="board-{_esc(name)}"><thead><tr>'
        '<th data-key="rank" data-type="num" class="num">#</th>'
        '<th data-key="policy">policy</th><th data-key="budget">budget</th>'
        '<th data-key="geomean" data-type="num" class="num">geomean reduction vs -Oz</th>'
        '<th data-key="walltime" data-type="num" class="num">mean walltime</th>'
        '<th data-key="benchmarks" data-type="num" class="num">programs</th>'
        '<th data-key="date">date</th><th data-key="validated">validated</th>'
        '</tr></thead><tbody>'
    )
    for rank, sub in enumerate(subs, 1):
        machine = sub.header.get("machine", {})
        where = f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores"
        label = f" <span class=\"meta\">[{_esc(sub.label)}]</span>" if sub.label else ""
        out.append(
            f'<tr class="entry" data-policy="{_esc(sub.policy)}" data-submission="{sub.id}">'
            f'<td class="num" data-value="{rank}">{rank}</td>'
            f'<td><a href="submission-{sub.id}.html">{_esc(sub.policy)}</a>{label}</td>'
            f"<td>{_esc(budget_text_from_json(sub.budget))}</td>"
            f"{_ratio_cell(sub.geomean)}"
            f'<td class="num" data-value="{sub.mean_walltime:.6f}">{sub.mean_walltime:.2f} s</td>'
            f'<td class="num" data-value="{sub.benchmarks}">{sub.benchmarks}</td>'
            f'<td data-value="{_esc(sub.date)}" title="{_esc(where)}">{_esc(sub.date[:10])}</td>'
            f'<td data-value="{_esc(sub.validated)}" class="ok" title="replayed with opt '
            f'{_esc(sub.validated_llvm)} on {_esc(sub.validated)}">&#10003; '
            f"{_esc(sub.validated[:10])}</td></tr>"
        )
    out.append("</tbody></table>")
    out.append('<figure class="plot bars">' + _reduction_bars(subs, f"{name}: reduction per program")
               + "<figcaption>Per program: -Oz's cost divided by the policy's (above the dashed "
               "line: smaller than -Oz).</figcaption></figure>")
    out.append('<figure class="plot scatter">'
               + _reduction_vs_walltime(subs, f"{name}: reduction vs wall time")
               + "<figcaption>Each dot is one program of one submission; diamonds are the "
               "geomean reduction at the mean wall time.</figcaption></figure>")
    out.append("</section>")
    return "\n".join(out)


def _submission_page(sub: Submission) -> str:
    header = sub.header
    machine = header.get("machine", {})
    rows = []
    for r in sub.rows:
        rows.append(
            f'<tr class="row" data-benchmark="{_esc(r["benchmark"])}">'
            f'<td>{_esc(r["benchmark"])}</td>'
            f'<td class="num" data-value="{r["reward"]:.6f}">{r["reward"]:.4f}</td>'
            f'{_ratio_cell(r["oz_ratio"])}'
            f'<td class="num" data-value="{r["cost"]}">{r["cost"]:g}</td>'
            f'<td class="num" data-value="{r["oz_cost"]}">{r["oz_cost"]:g}</td>'
            f'<td class="num" data-value="{r["walltime"]:.6f}">{r["walltime"]:.2f} s</td>'
            f'<td>{"&#10003; ran" if r["output_checked"] else "not runnable"}</td>'
            f'<td><code>{_esc(r["commandline"])}</code></td></tr>'
        )
    facts = [
        ("task", sub.task), ("policy", sub.policy), ("budget", budget_text_from_json(sub.budget)),
        ("geomean reduction vs -Oz", f"{sub.geomean:.4f}x"),
        ("mean walltime", f"{sub.mean_walltime:.2f} s"), ("measured", sub.date),
        ("machine", ", ".join(f"{k} {v}" for k, v in machine.items())),
        ("LLVM", header.get("llvm_full_version") or header.get("llvm_version", "")),
        ("optgym", header.get("optgym_version", "")),
        ("validated", f"{sub.validated} by replay with opt {sub.validated_llvm}"),
    ]
    if sub.label:
        facts.append(("label", sub.label))
    if header.get("notes"):
        facts.append(("notes", header["notes"]))
    body = [
        f'<p><a href="index.html">&larr; leaderboard</a></p><h1>#{sub.id}: '
        f"{_esc(submission_label(sub))} on {_esc(sub.task)}</h1>",
        "<table><tbody>" + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
                                   for k, v in facts) + "</tbody></table>",
        '<table class="sortable" id="rows"><thead><tr><th data-key="benchmark">benchmark</th>'
        '<th data-key="reward" data-type="num" class="num">reward</th>'
        '<th data-key="ratio" data-type="num" class="num">vs -Oz</th>'
        '<th data-key="cost" data-type="num" class="num">cost</th>'
        '<th data-key="oz" data-type="num" class="num">-Oz cost</th>'
        '<th data-key="walltime" data-type="num" class="num">walltime</th>'
        '<th data-key="output">output</th><th data-key="commandline">command line</th>'
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>",
        '<figure class="plot bars">' + _reduction_bars([sub], "reduction per program")
        + "</figure>",
    ]
    return _page(f"optgym leaderboard: #{sub.id} {sub.policy} on {sub.task}", "\n".join(body))


def render(store: Store, output: str | os.PathLike[str]) -> Path:
    """Write the site for everything in ``store`` into directory ``output``; returns index.html.

    Every task defined in this optgym gets a section (empty ones say so), plus any stored task
    that is not defined here.
    """
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    stored = store.tasks()
    names = [*task_names(), *(t for t in stored if t not in task_names())]
    sections = []
    count = 0
    for name in names:
        subs = store.submissions(name, rows=True)
        count += len(subs)
        sections.append(_task_section(name, subs))
        for sub in subs:
            write_public(out / f"submission-{sub.id}.html", _submission_page(sub).encode())
    body = (
        "<h1>optgym leaderboard</h1>"
        f'<p class="meta">LLVM {LLVM_VERSION} pass ordering. Every entry was validated by '
        "replaying each program's command line with the real <code>opt-19</code>, recomputing "
        "the reward and, for runnable programs, checking the optimized program's output. "
        "Reduction is -Oz's cost over the policy's (geometric mean over the task's programs; "
        "above 1 is better than -Oz). Click a column to sort. "
        f"{count} submission(s); rendered {now_iso()} by optgym {__version__}.</p>\n"
        + "\n".join(sections)
    )
    index = out / "index.html"
    write_public(index, _page("optgym leaderboard", body).encode())
    return index


def ensure_rendered(store: Store, output: str | os.PathLike[str]) -> Path:
    """The site's index.html, rendering it first if the directory has none."""
    index = Path(output) / "index.html"
    if not index.is_file():
        return render(store, output)
    return index
