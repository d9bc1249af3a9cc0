"""How much smaller than clang-19 -Oz any pass sequence gets: the best of N random sequences per
program, with the safe passes the drop-ins use and with CompilerGym's full action space.

Each program of the builtin-v0 test split, the first ``--csmith`` csmith-v0 test seeds and
``--realc-per-project`` modules of each realc-v0 test project is
measured under N random sequences (1-20 steps, each a flag or a standard -O pipeline, seeded
by the program) from each action space; the table is the geomean of clang-19 -Oz's IR
instruction count over the best one found (never below 1: -Oz itself counts). It is the
ceiling that search and learned policies chase, and says how much of it needs the passes
that can change a program's behaviour.

    .venv/bin/python benchmarks/random_ceiling.py [--sequences 300] [--csmith 10]
    .venv/bin/python benchmarks/random_ceiling.py --realc-per-project 6 --no-builtin --csmith 0 --safe-only --sequences 200
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys


def best_ratio(env, oz: int, actions: list[str], seed_text: str, n: int) -> float:
    """-Oz's count over the smallest of -Oz and ``n`` random sequences of ``actions``."""
    from optgym.errors import CompilerCrash, LlvmError

    rng = random.Random(int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "little"))
    best = oz
    for _ in range(n):
        steps = [rng.choice(actions) for _ in range(rng.randint(1, 20))]
        try:
            best = min(best, int(env.try_steps(steps)["IrInstructionCount"]))
        except (CompilerCrash, LlvmError):
            pass  # a sequence LLVM rejects is no candidate
    return oz / max(best, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=300,
                        help="random sequences per program and action space (default 300)")
    parser.add_argument("--csmith", type=int, default=10, help="csmith test seeds (default 10)")
    parser.add_argument("--no-builtin", action="store_true", help="skip the builtin test split")
    parser.add_argument("--realc-per-project", type=int, default=0,
                        help="also this many modules of each realc-v0 test project (default 0; "
                             "modules -Oz empties are left out)")
    parser.add_argument("--safe-only", action="store_true",
                        help="only the safe action space (half the time)")
    args = parser.parse_args(argv)
    if args.sequences < 1:
        parser.error("--sequences must be at least 1")

    from optgym.datasets import get_dataset
    from optgym.envs.llvm import LlvmEnv
    from optgym.llvm.passes import FLAGS_AND_PIPELINES, SAFE_FLAGS_AND_PIPELINES

    spaces = {"safe (the drop-ins')": [a.pipeline for a in SAFE_FLAGS_AND_PIPELINES.actions],
              "full (unsafe included)": [a.pipeline for a in FLAGS_AND_PIPELINES.actions]}
    if args.safe_only:
        del spaces["full (unsafe included)"]
    groups: dict[str, list[str]] = {}
    if args.realc_per_project:
        realc = get_dataset("realc-v0")
        if not realc.manifests():
            parser.error("realc-v0 is not built; run: optgym datasets build realc-v0")
        groups["realc test"] = realc.sample_uris("test", args.realc_per_project)
    if not args.no_builtin:
        groups["builtin test"] = get_dataset("builtin-v0").benchmark_uris("test")
    if args.csmith:
        groups["csmith test"] = get_dataset("csmith-v0").first_uris(args.csmith, "test")
    if not groups:
        parser.error("no programs: every group is switched off")
    ratios: dict[tuple[str, str], list[float]] = {}
    env = LlvmEnv(observation_space=None, action_space=FLAGS_AND_PIPELINES.name)
    try:
        for group, uris in groups.items():
            for uri in uris:
                env.reset(options={"benchmark": uri})
                oz = int(env.observe("IrInstructionCountOz"))
                if oz == 0:
                    print(f"{uri}: -Oz empties it, left out", file=sys.stderr, flush=True)
                    continue
                for space, actions in spaces.items():
                    r = best_ratio(env, oz, actions, uri, args.sequences)
                    ratios.setdefault((group, space), []).append(r)
                print(f"{uri}: " + ", ".join(f"{s} {ratios[(group, s)][-1]:.4f}" for s in spaces),
                      file=sys.stderr, flush=True)
    finally:
        env.close()
    print(f"\nbest of {args.sequences} random sequences, geomean clang-19 -Oz / best")
    # a group's programs that -Oz did not empty: the ones measured in every space
    measured = {g: len(ratios.get((g, next(iter(spaces))), [])) for g in groups}
    groups = {g: u for g, u in groups.items() if measured[g]}
    print("| action space | " + " | ".join(f"{g} ({measured[g]})" for g in groups) + " |")
    print("|---|" + "---|" * len(groups))
    for space in spaces:
        print(f"| {space} | " + " | ".join(
            f"{statistics.geometric_mean(ratios[(g, space)]):.4f}" for g in groups) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
