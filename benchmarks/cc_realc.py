"""What `optgym-cc` ships against `clang-19 -Oz` on every module of the realc-v0 held-out projects.

For each module (the bitcode clang -Oz hands its optimizer, as optgym-cc's step 1 makes it):
clang -Oz's object is ``clang-19 -Oz -c`` of it, timed; optgym-cc's choice is made exactly as a
compile step makes it (:func:`optgym.opt.optimize` with the ``.text`` objective, the size
transformations, and optgym-cc's default budget given clang's time on the module, or
``--budget N`` compilations), its object by clang -Oz's code generator with the chosen
code-generation options, and the smaller of the two by optgym-cc's rule ships (less ``.text``
and no more ``size`` text, else clang's). Reported: ``.text`` geomean clang / shipped over
modules with code, totals, objects larger (0 by construction: the check is that it stays so),
always_inline calls left, and the time ratio, per project and in all.

Rows are journaled as they finish (``--journal``, default in the cache), so a killed run resumes.

    .venv/bin/python benchmarks/cc_realc.py                       # every test module (hours)
    .venv/bin/python benchmarks/cc_realc.py --per-project 10      # an even sample
    .venv/bin/python benchmarks/cc_realc.py --split validation    # tune on held-out projects
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from optgym.cache import cache_root
from optgym.datasets import get_benchmark, get_dataset
from optgym.llvm.core import elf_size_text, elf_text_size

_ENV: Any = None


def measure(uri: str, budget: int | None, policy: str | None = None) -> dict[str, Any]:
    """One module: clang -Oz's object and what optgym-cc would ship."""
    global _ENV
    from optgym.agents.base import Budget
    from optgym.cc import default_budget
    from optgym.envs.llvm import LlvmEnv
    from optgym.llvm.core import Module
    from optgym.opt import optimize

    if _ENV is None:
        _ENV = LlvmEnv(observation_space=None, action_space="flags-safe-v0",
                       honor_always_inline=True)
    bitcode = get_benchmark(uri).bitcode
    with tempfile.TemporaryDirectory(prefix="optgym-ccrealc-") as tmp:
        work = Path(tmp)
        source = work / "in.bc"
        source.write_bytes(bitcode)
        started = time.perf_counter()
        subprocess.run(["clang-19", "-Oz", "-w", "-c", str(source), "-o", str(work / "clang.o")],
                       check=True)
        clang_seconds = time.perf_counter() - started
        started = time.perf_counter()
        output, choice = optimize(bitcode, str(source), env=_ENV, objective="text", codegen=True,
                                  policy=policy,
                                  budget=Budget(compilations=budget) if budget
                                  else default_budget(clang_seconds))
        (work / "ours.bc").write_bytes(output)
        subprocess.run(["clang-19", "-Oz", "-w", *(w for o in choice.codegen for w in ("-mllvm", o)),
                        "-Xclang", "-disable-llvm-passes", "-c", str(work / "ours.bc"),
                        "-o", str(work / "ours.o")], check=True)
        our_seconds = time.perf_counter() - started
        theirs, ours = (work / "clang.o").read_bytes(), (work / "ours.o").read_bytes()
    shipped = ours if (elf_text_size(ours) < elf_text_size(theirs)
                       and elf_size_text(ours) <= elf_size_text(theirs)) else theirs
    calls = Module.parse(output).always_inline_calls()
    return {"uri": uri, "clang_text": elf_text_size(theirs), "text": elf_text_size(shipped),
            "clang_size": elf_size_text(theirs), "size": elf_size_text(shipped),
            "ours_won": shipped is ours, "pipeline": choice.pipeline, "codegen": choice.codegen,
            "inliner": shipped is ours and choice.inline is not None,
            "always_inline_calls": calls, "clang_seconds": clang_seconds,
            "seconds": clang_seconds + our_seconds}


def _task(task: tuple[str, int | None, str | None]) -> dict[str, Any]:
    try:
        return measure(*task)
    except Exception as exc:  # noqa: BLE001 - one module must not end a run of hours
        return {"uri": task[0], "error": f"{type(exc).__name__}: {exc}"}


def project(uri: str) -> str:
    return uri.split("realc-v0/", 1)[1].split("/", 1)[0]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geomean and totals of a group of rows."""
    code = [r for r in rows if r["clang_text"] and r["text"]]
    return {
        "modules": len(rows),
        "geomean": statistics.geometric_mean([r["clang_text"] / r["text"] for r in code])
        if code else 1.0,
        "clang_text": sum(r["clang_text"] for r in rows), "text": sum(r["text"] for r in rows),
        "larger": sum(r["text"] > r["clang_text"] or r["size"] > r["clang_size"] for r in rows),
        "won": sum(r["ours_won"] for r in rows),
        "inliner": sum(r.get("inliner", False) for r in rows),
        "always_inline_calls": sum(r["always_inline_calls"] for r in rows),
        "time_ratio": sum(r["seconds"] for r in rows) / max(sum(r["clang_seconds"] for r in rows),
                                                            1e-9),
    }


def print_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(project(r["uri"]), []).append(r)
    print(f"{'project':<16}{'modules':>8}{'won':>6}{'.text clang':>13}{'shipped':>10}"
          f"{'total':>8}{'geomean':>9}{'larger':>7}{'time':>7}")
    report = {}
    for name in sorted(groups):
        s = report[name] = summary(groups[name])
        print(f"{name:<16}{s['modules']:>8}{s['won']:>6}{s['clang_text']:>13,}{s['text']:>10,}"
              f"{s['clang_text'] / max(s['text'], 1):>8.4f}{s['geomean']:>9.4f}{s['larger']:>7}"
              f"{s['time_ratio']:>6.1f}x")
    s = report["all"] = summary(rows)
    per_project = statistics.geometric_mean([report[n]["geomean"] for n in groups])
    print(f"{'all':<16}{s['modules']:>8}{s['won']:>6}{s['clang_text']:>13,}{s['text']:>10,}"
          f"{s['clang_text'] / max(s['text'], 1):>8.4f}{s['geomean']:>9.4f}{s['larger']:>7}"
          f"{s['time_ratio']:>6.1f}x")
    print(f"geomean over modules {s['geomean']:.4f}, over projects (each weighed alike) "
          f"{per_project:.4f}; always_inline calls left: {s['always_inline_calls']}; "
          f"the learned inliner's candidate shipped on {s['inliner']}")
    report["projects_geomean"] = per_project
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--per-project", type=int, default=0,
                        help="modules per project, an even sample (default 0: every module)")
    parser.add_argument("--budget", type=int, default=None,
                        help="compilations per module (default: optgym-cc's default budget)")
    parser.add_argument("--policy", default=None,
                        help="the search policy (default: optgym-cc's, the shipped nvp model)")
    parser.add_argument("--jobs", type=int, default=2, help="modules at once (default 2)")
    parser.add_argument("--journal", type=Path, default=None,
                        help="rows file to resume from and append to (default in the cache)")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    realc = get_dataset("realc-v0")
    if not realc.manifests():
        parser.error("realc-v0 is not built; run: optgym datasets build realc-v0")
    uris = (realc.sample_uris(args.split, args.per_project) if args.per_project
            else realc.benchmark_uris(args.split))
    journal = args.journal or cache_root() / "benchmarks" / (
        f"cc_realc-{args.split}-{args.per_project}-{args.budget or 'default'}"
        f"-{args.policy or 'default'}.jsonl")
    journal.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if journal.exists():
        for line in journal.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line of a killed run
            done[row["uri"]] = row
    todo = [u for u in uris if u not in done]
    print(f"{len(uris)} modules of the realc-v0 {args.split} projects; {len(done)} from "
          f"{journal}, {len(todo)} to measure", file=sys.stderr, flush=True)
    started = time.monotonic()
    with open(journal, "a") as out, multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        tasks = [(u, args.budget, args.policy) for u in todo]
        for i, row in enumerate(pool.imap_unordered(_task, tasks), 1):
            done[row["uri"]] = row
            out.write(json.dumps(row) + "\n")
            out.flush()
            if i % 25 == 0 or i == len(todo):
                print(f"[{i}/{len(todo)}] {time.monotonic() - started:.0f} s", file=sys.stderr,
                      flush=True)
    rows = [done[u] for u in uris if u in done]
    errors = [r for r in rows if "error" in r]
    for r in errors[:10]:
        print(f"error: {r['uri']}: {r['error']}", file=sys.stderr)
    report = print_report([r for r in rows if "error" not in r])
    report["errors"] = len(errors)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
