"""env.step against LLVM's own pass time for the same passes, side by side (the step limit).

Random episodes on a small (``benchmarks/programs/crc32.c``, 214 instructions) and a medium
(csmith seed 38, 3,024 instructions) module.
Each step is timed twice in turn: ``env.step(action)`` (reward IrInstructionCountOz,
observation IrInstructionCount: the step's own cost, with the compiler worker, its pipe and
change detection) and the same pipeline run by ``LLVMRunPasses`` in this process on a mirror of
the module (LLVM alone). Interleaving step by step puts both under the same machine load. The
figure of merit is total env.step time over total pass time (target <= 1.25); the median of the
per-step ratios and the medians are printed too, and where a step's time beyond LLVM goes: the
worker's own work per step (``worker us``: change detection, counts, dispatch; from the
worker's clock) and the rest (``rest us``: the env, pickling, the pipe and the wake-ups). With several ``--handoff`` modes the episodes
go round-robin over them (see :mod:`optgym.llvm.handoff`). Run:

    .venv/bin/python benchmarks/step_limit.py [--episodes 30] [--steps 30] [--load N]
        [--handoff auto,spin,follow,block]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from _load import add_load_argument, busy_processes, describe  # noqa: E402
from _modules import sized_module  # noqa: E402

from optgym.cache import cache_root  # noqa: E402
from optgym.envs.llvm import LlvmEnv  # noqa: E402
from optgym.llvm.core import Module  # noqa: E402
from optgym.llvm.handoff import MODES, Handoff  # noqa: E402

#: The two modules, by the name the table prints: :mod:`_modules` sizes.
PROGRAMS = {"small": "crc32", "medium": "medium-3k"}


def uri(size: str) -> str:
    """The benchmark URI of a module."""
    sized_module(PROGRAMS[size])
    return f"file://{cache_root() / 'benchmarks' / f'{PROGRAMS[size]}.bc'}"


def measure(size: str, modes: list[str], episodes: int, steps: int,
            seed: int) -> dict[str, dict[str, float]]:
    """Per handoff mode: total and median step and pass times, and their ratios."""
    envs = {}
    for mode in modes:
        env = LlvmEnv(uri(size), observation_space="IrInstructionCount",
                      reward_space="IrInstructionCountOz")
        env.session.handoff = Handoff(mode)
        env.reset()  # computes the baselines once
        envs[mode] = env
    first = envs[modes[0]]
    base = Module.parse(first.benchmark.bitcode, size)
    rng = np.random.default_rng(seed)
    times: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in modes}
    inside = {m: {"busy": 0.0, "passes": 0.0} for m in modes}  # the worker's own clock
    for episode in range(episodes):
        mode = modes[episode % len(modes)]
        env = envs[mode]
        actions = [int(a) for a in rng.integers(env.action_space.n, size=steps)]
        env.reset()
        env.session.worker_profile()
        mirror = base.clone()
        step_t, pass_t = times[mode]
        for i, action in enumerate(actions):
            pipeline = env.actions[action].pipeline
            pair = []
            for which in ((0, 1) if i % 2 else (1, 0)):  # alternate which goes first
                if which == 0:
                    t = time.perf_counter()
                    env.step(action)
                    pair.append((0, time.perf_counter() - t))
                else:
                    t = time.perf_counter()
                    mirror.run_passes(pipeline)
                    pair.append((1, time.perf_counter() - t))
            for which, seconds in pair:
                (step_t if which == 0 else pass_t).append(seconds)
        for key, seconds in env.session.worker_profile().items():
            inside[mode][key] += seconds
        got, want = int(env.observe("IrInstructionCount")), mirror.instruction_count()
        if got != want:
            raise SystemExit(f"{size}: the env has {got} instructions, LLVM alone {want}")
        mirror.close()
    out = {}
    for mode in modes:
        step_t, pass_t = times[mode]
        counts = dict(envs[mode].session.handoff.counts)
        out[mode] = {
            "instrs": base.instruction_count(),
            "total ratio": sum(step_t) / sum(pass_t),
            "median ratio": statistics.median(s / p for s, p in zip(step_t, pass_t, strict=True)),
            "step ms": statistics.median(step_t) * 1e3,
            "pass ms": statistics.median(pass_t) * 1e3,
            "step total ms": sum(step_t) * 1e3,
            "pass total ms": sum(pass_t) * 1e3,
            "regimes": counts,
            # Per step: the worker's own work besides LLVM (change detection, counts,
            # dispatch), and the rest of a step (the env, the pipe and the wake-ups).
            "worker us": (inside[mode]["busy"] - inside[mode]["passes"]) / len(step_t) * 1e6,
            "handoff us": (sum(step_t) - inside[mode]["busy"]) / len(step_t) * 1e6,
        }
        envs[mode].close()
    base.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=30, help="episodes per module and mode")
    parser.add_argument("--steps", type=int, default=30, help="random actions per episode")
    parser.add_argument("--handoff", default="auto", help=f"comma-separated: {', '.join(MODES)}")
    parser.add_argument("--sizes", default="small,medium")
    parser.add_argument("--seed", type=int, default=0)
    add_load_argument(parser)
    args = parser.parse_args(argv)
    modes = args.handoff.split(",")
    with busy_processes(args.load):
        print(describe(args.load))
        print(f"{'module':<8} {'instrs':>6} {'handoff':<7} {'step/pass':>9} {'median':>7} "
              f"{'step ms':>8} {'pass ms':>8} {'worker us':>9} {'rest us':>8}  "
              "requests by regime")
        for size in args.sizes.split(","):
            rows = measure(size, [m for m in modes], args.episodes * len(modes), args.steps,
                           args.seed)
            for mode, r in rows.items():
                regimes = " ".join(f"{k} {v}" for k, v in r["regimes"].items() if v)
                print(f"{size:<8} {r['instrs']:>6} {mode:<7} {r['total ratio']:>8.2f}x "
                      f"{r['median ratio']:>6.2f}x {r['step ms']:>8.3f} {r['pass ms']:>8.3f} "
                      f"{r['worker us']:>9.1f} {r['handoff us']:>8.1f}  {regimes}", flush=True)


if __name__ == "__main__":
    main()
