"""``optgym search``: run a search policy on benchmarks and write leaderboard rows."""

from __future__ import annotations

import argparse
import statistics
import sys

_EPILOG = """\
examples:
  optgym search --policy evolve --benchmark benchmark://builtin-v0/crc32 --seconds 60
  optgym search --policy oz-climb --dataset builtin-v0 --split test --budget 45 -o results.csv
  optgym search --policy random --dataset csmith-v0 --split test -n 50 --seconds 60 --workers 2
  optgym search --policy evolve --dataset builtin-v0 --seconds 60 --ray-address auto
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``search`` command."""
    p = subparsers.add_parser(
        "search",
        help="search pass orderings for benchmarks with a policy; write leaderboard CSV rows",
        description=(
            "Search a pass sequence for each benchmark with a policy (random, greedy, beam, evolve, "
            "oz-climb, oz, any registered policy, or a 'module:function' of your own), print the "
            "best pipeline and its instruction count against -Oz, and a geometric-mean summary. "
            "Each result reproduces with plain opt-19 (the commandline column)."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--policy", default="evolve",
                   help="policy name or module:function (default evolve; 'optgym search --list' "
                        "names them all)")
    p.add_argument("--list", action="store_true", help="list the registered policies and exit")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--benchmark", action="append", metavar="URI",
                      help="a benchmark URI or a .c/.ll/.bc path (repeat for several)")
    what.add_argument("--dataset", metavar="NAME", help="search every benchmark of this dataset")
    p.add_argument("--split", choices=("train", "validation", "test"),
                   help="with --dataset: only this split")
    p.add_argument("-n", type=int, metavar="N",
                   help="with --dataset: the first N benchmarks (required for generators such as "
                        "csmith-v0, whose first N seeds of the split are used)")
    p.add_argument("--budget", type=int, metavar="N",
                   help="compilations per benchmark (pass sequences evaluated)")
    p.add_argument("--seconds", type=float, metavar="S", help="wall-clock seconds per benchmark")
    p.add_argument("--seed", type=int, default=0, help="random seed of the policy (default 0)")
    p.add_argument("--workers", type=int, default=None, metavar="K",
                   help="local worker processes (default: one per CPU, at most one per benchmark)")
    p.add_argument("--ray-address", metavar="A",
                   help="run the searches on this Ray cluster ('auto' for the local one)")
    p.add_argument("-o", "--output", metavar="CSV",
                   help="write results as leaderboard CSV: benchmark,reward,walltime,commandline")
    p.add_argument("--validate", action="store_true",
                   help="replay each result with opt-19 (and run runnable programs) to check it")
    p.add_argument("--show-pipelines", action="store_true",
                   help="print each benchmark's -passes= text as it finishes (the CSV has them too)")
    p.add_argument("--skip-always-inline", action="store_true",
                   help="let the policy skip the always-inliner (CompilerGym's free choice). By "
                        "default every result runs it first, as clang does at every -O level, so "
                        "the results keep the promise of always_inline as what ships must")
    p.add_argument("--text", action="store_true",
                   help="also measure each result's .text bytes (the object clang -Oz's code "
                        "generator makes) against clang-19 -Oz's")
    p.set_defaults(handler=_search)


def benchmark_uris(dataset: str, split: str | None, n: int | None) -> list[str]:
    """The URIs a ``--dataset`` run covers."""
    from optgym.datasets import GeneratorDataset, get_dataset
    from optgym.errors import OptgymError

    ds = get_dataset(dataset)
    if isinstance(ds, GeneratorDataset):
        if n is None:
            raise OptgymError(f"{dataset} is a generator: say how many seeds with -n N")
        return ds.first_uris(n, split)
    uris = ds.benchmark_uris(split)
    return uris[:n] if n is not None else uris


def _search(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from optgym.agents import Budget, policy_names
    from optgym.agents.parallel import SearchFailure, SearchTask, make_policy, run_searches
    from optgym.cache import atomic_write
    from optgym.envs.llvm.state import states_to_csv
    from optgym.errors import OptgymError

    if args.list:
        print("\n".join(policy_names()))
        return 0
    if args.budget is None and args.seconds is None:
        raise OptgymError("give a budget: --budget N (compilations) and/or --seconds S")
    budget = Budget(compilations=args.budget, seconds=args.seconds)
    if args.benchmark:
        uris = [_uri(b) for b in args.benchmark]
    elif args.dataset:
        uris = benchmark_uris(args.dataset, args.split, args.n)
    else:
        raise OptgymError("say what to search: --benchmark URI or --dataset NAME")
    make_policy(args.policy, args.seed)  # an unknown policy fails now, not in every worker
    tasks = [SearchTask(u, args.policy, budget, args.seed,
                        honor_always_inline=not args.skip_always_inline) for u in uris]
    results: list = [None] * len(tasks)
    failures = 0
    bar = tqdm(total=len(tasks), desc=f"{args.policy}", unit="benchmark", file=sys.stderr,
               disable=None)
    for i, outcome in run_searches(tasks, workers=args.workers, ray_address=args.ray_address):
        bar.update()
        if isinstance(outcome, SearchFailure):
            failures += 1
            bar.write(f"error: {outcome}", file=sys.stderr)
            continue
        results[i] = outcome
        if args.show_pipelines:
            bar.write(f"{outcome.benchmark}: -passes='{outcome.pipeline}'")
    bar.close()
    done = [r for r in results if r is not None]
    if args.validate and done:
        _validate(done)
    if done:
        print(results_table(done, args.policy, _text_sizes(done) if args.text else None))
        worse = sum(r.instruction_count > r.oz_count for r in done)
        print(f"{args.policy}: {len(done)} benchmarks, worse than -Oz on {worse}"
              + (f", {failures} failed" if failures else ""))
    if args.output:
        from pathlib import Path

        atomic_write(Path(args.output), states_to_csv([r.state for r in done]).encode())
        print(f"wrote {len(done)} rows to {args.output}")
    return 1 if failures else 0


def results_table(results: list, policy: str,
                  text_sizes: list[tuple[int, int]] | None = None) -> str:
    """Instruction counts of -O0, -Oz (clang-19's) and the policy per benchmark, with a
    geomean row; with ``text_sizes`` ((-Oz, ours) ``.text`` bytes per result) those too."""
    name_width = max(len("benchmark"), *(len(r.benchmark) for r in results))
    text_head = f"  {'.text -Oz':>9}  {'ours':>6}  {'-Oz/ours':>8}" if text_sizes else ""
    header = (f"{'benchmark':<{name_width}}  {'-O0':>6}  {'-Oz':>6}  {policy[:10]:>10}  "
              f"{'-Oz/ours':>8}{text_head}  {'compilations':>12}  {'seconds':>7}")
    lines = [header, "-" * len(header)]
    for i, r in enumerate(results):
        text = ""
        if text_sizes:
            oz, ours = text_sizes[i]
            text = f"  {oz:>9}  {ours:>6}  {oz / max(ours, 1):>7.3f}x"
        lines.append(
            f"{r.benchmark:<{name_width}}  {r.o0_count:>6}  {r.oz_count:>6}  "
            f"{r.instruction_count:>10}  {r.oz_ratio:>7.3f}x{text}  {r.compilations:>12}  "
            f"{r.walltime:>7.1f}"
        )
    geomean = statistics.geometric_mean(r.oz_ratio for r in results)
    walltime = sum(r.walltime for r in results) / len(results)
    text = ""
    if text_sizes:
        text_geomean = statistics.geometric_mean([oz / max(ours, 1) for oz, ours in text_sizes])
        text = f"  {'':>9}  {'':>6}  {text_geomean:>7.3f}x"
    lines.append("-" * len(header))
    lines.append(f"{'geomean (walltime: mean)':<{name_width}}  {'':>6}  {'':>6}  {'':>10}  "
                 f"{geomean:>7.3f}x{text}  {'':>12}  {walltime:>7.1f}")
    return "\n".join(lines)


def _text_sizes(results: list) -> list[tuple[int, int]]:
    """(clang-19 -Oz's, the result's) .text bytes of each result's module."""
    from optgym.envs.llvm import LlvmEnv

    env = LlvmEnv(observation_space=None)
    sizes = []
    try:
        for r in results:
            env.reset(options={"benchmark": r.benchmark, "replay": r.steps})
            sizes.append((int(env.observe("ObjectTextSizeOz")),
                          int(env.observe("ObjectTextSizeBytes"))))
    finally:
        env.close()
    return sizes


def _uri(text: str) -> str:
    from pathlib import Path

    if "://" in text:
        return text
    return Path(text).resolve().as_uri()


def _validate(results: list) -> None:
    from optgym.envs.llvm import LlvmEnv
    from optgym.errors import OptgymError

    env = LlvmEnv(observation_space=None)
    try:
        for r in results:
            v = env.validate(r.state)
            print(v)
            if not v.ok:
                raise OptgymError(f"{r.benchmark}: the result does not replay with opt-19")
    finally:
        env.close()
