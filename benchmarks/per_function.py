"""What per-function pipelines add over one sequence per module, at the same compilations.

On an even sample of realc-v0 held-out modules, the drop-ins' selection (:func:`optgym.opt.select`,
``.text`` objective, size transformations, shipped policy) runs twice with the same budget of
``--budget`` compilations: once spending them all on module-level sequences, once keeping
``--per-function`` of them for per-function steps (each :data:`optgym.opt.FUNCTION_SEQUENCES`
entry on one function at a time, largest functions first, after the module-level sequence).
Reported: the paired geomean of module-only / per-function ``.text`` with a seeded 95% bootstrap
interval, on how many modules each is smaller, and how many kept a per-function step.

    .venv/bin/python benchmarks/per_function.py [--per-project 5] [--budget 20] [--per-function 6]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from pathlib import Path
from typing import Any

# A sibling module: found when this file is run as a script or loaded by path (the tests).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stats import paired_ratio  # noqa: E402

from optgym.datasets import get_benchmark, get_dataset

_ENV: Any = None


def measure(task: tuple[str, int, int]) -> dict[str, Any]:
    global _ENV
    from optgym.agents.base import Budget
    from optgym.envs.llvm import LlvmEnv
    from optgym.opt import select

    uri, budget, per_function = task
    if _ENV is None:
        _ENV = LlvmEnv(observation_space=None, action_space="flags-safe-v0",
                       honor_always_inline=True)
    bitcode = get_benchmark(uri).bitcode
    try:
        runs = {pf: select(bitcode, uri, budget=Budget(compilations=budget), env=_ENV,
                           objective="text", codegen=True, per_function=pf)
                for pf in (0, per_function)}
    except Exception as exc:  # noqa: BLE001 - one module must not end the report
        return {"uri": uri, "error": f"{type(exc).__name__}: {exc}"}
    return {"uri": uri, "oz": runs[0].oz_cost, "module": runs[0].cost,
            "per_function": runs[per_function].cost,
            "kept": runs[per_function].pipeline.count("only<")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--per-project", type=int, default=5)
    parser.add_argument("--budget", type=int, default=20, help="compilations per module")
    parser.add_argument("--per-function", type=int, default=6,
                        help="of which per-function steps may take (default 6)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    realc = get_dataset("realc-v0")
    if not realc.manifests():
        parser.error("realc-v0 is not built; run: optgym datasets build realc-v0")
    uris = realc.sample_uris(args.split, args.per_project)
    tasks = [(u, args.budget, args.per_function) for u in uris]
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        rows = list(pool.imap_unordered(measure, tasks))
    errors = [r for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r and r["oz"]]
    result = paired_ratio([r["per_function"] for r in rows], [r["module"] for r in rows])
    result.update(modules=len(rows), errors=len(errors),
                  kept=sum(r["kept"] > 0 for r in rows))
    print(f"{len(rows)} modules of realc-v0 {args.split} ({args.per_project} per project), "
          f"{args.budget} compilations each, {args.per_function} of them per-function:")
    print(f"module-only .text / with per-function steps: {result['ratio']:.4f} "
          f"[{result['low']:.4f}, {result['high']:.4f}], per-function smaller on "
          f"{result['ours smaller']}, larger on {result['theirs smaller']}; a per-function step "
          f"kept on {result['kept']}; {len(errors)} modules failed")
    for r in errors[:5]:
        print(f"error: {r['uri']}: {r['error']}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"summary": result, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
