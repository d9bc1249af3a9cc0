"""How long an inlining episode takes, next to one ``clang-19 -Oz -c`` of the same module.

An episode of ``optgym/llvm-inline-text-v0``: reset (the module loaded into the compiler
worker, its call sites and features computed, the module marked), one step per call site
(decided by the shipped learned inliner, or ``--policy heuristic``; a step that does not
inline compiles nothing, and neither does one that does: the environment's model takes it),
and the one compilation at the end (clang -Oz's pipeline with the decisions, by the real opt-19,
then the object by llc-19 for ``.text``). Both are timed in interleaved rounds in one run, on a
fresh environment each round (nothing cached but clang -Oz's baseline ``.text``, which is on
disk after the first round), and the medians are compared.

    .venv/bin/python benchmarks/inline_episode.py                 # a ~5,000-instruction module
    .venv/bin/python benchmarks/inline_episode.py --benchmark benchmark://realc-v0/... --rounds 9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def pick_module(target: int) -> str:
    """The realc-v0 test module whose size is closest to ``target`` instructions (ties: the
    first by name)."""
    from optgym.datasets import get_dataset

    realc = get_dataset("realc-v0")
    sizes = {n: realc.benchmark(n).instructions for n in realc.benchmark_names("test")}
    name = min(sizes, key=lambda n: (abs(sizes[n] - target), n))
    return f"{realc.uri_prefix}/{name}"


def episode(uri: str, policy: object) -> tuple[float, int, list[float]]:
    """One episode on a fresh environment: (seconds, steps, seconds of each step)."""
    from optgym.envs.llvm.inline import InliningEnv

    env = InliningEnv(uri, reward_space="ObjectTextSize", allow_defer=True)
    try:
        env.compiler.session.ping()  # the worker is up before the clock starts
        started = time.perf_counter()
        env.reset()
        steps: list[float] = []
        terminated = False
        while not terminated:
            site = env.episode.current
            choice = None if site is None else policy(env.episode, site)
            t = time.perf_counter()
            _, _, terminated, _, _ = env.step(2 if choice is None else int(choice))
            steps.append(time.perf_counter() - t)
        return time.perf_counter() - started, len(steps), steps[:-1]
    finally:
        env.close()


def clang_oz(bitcode: bytes) -> float:
    """Seconds of one ``clang-19 -Oz -c`` of the module."""
    from optgym.llvm import toolchain

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.bc"
        src.write_bytes(bitcode)
        started = time.perf_counter()
        subprocess.run([toolchain.clang(), "-Oz", "-w", "-c", str(src), "-o",
                        str(Path(tmp) / "out.o")], check=True)
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", default=None,
                        help="module URI (default: the realc-v0 test module nearest --size)")
    parser.add_argument("--size", type=int, default=5000, help="instructions (default 5000)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--policy", default="inliner", choices=["inliner", "heuristic"])
    args = parser.parse_args(argv)

    from optgym.agents.inliner.policy import shipped_policy
    from optgym.datasets import get_benchmark

    uri = args.benchmark or pick_module(args.size)
    bench = get_benchmark(uri)
    if args.policy == "inliner" and shipped_policy() is not None:
        policy = shipped_policy()
    else:
        def policy(episode, site):  # noqa: ANN001, ANN202 - the environment's approximation
            return episode.heuristic_inlines(site)
    episode(uri, policy)  # warm the baseline cache and the native helper
    ours, theirs, per_step, steps = [], [], [], 0
    for _ in range(args.rounds):
        theirs.append(clang_oz(bench.bitcode))
        seconds, steps, step_times = episode(uri, policy)
        ours.append(seconds)
        per_step += step_times
    from optgym.llvm.core import Module

    n = Module.parse(bench.bitcode).instruction_count()
    med_ours, med_clang = statistics.median(ours), statistics.median(theirs)
    print(f"module: {uri} ({n} instructions, {steps - 1} call sites decided)")
    print("| | median wall time |")
    print("|---|---|")
    print(f"| clang-19 -Oz -c | {med_clang:.3f} s |")
    print(f"| inlining episode (reset, {steps - 1} steps, one compilation) | {med_ours:.3f} s "
          f"({med_ours / med_clang:.2f}x clang) |")
    if per_step:
        print(f"| one step (median / max) | {statistics.median(per_step) * 1e6:.0f} us / "
              f"{max(per_step) * 1e3:.2f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
