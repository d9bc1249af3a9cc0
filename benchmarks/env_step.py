"""Environment speed: random-policy steps/s, step latency, fork and reset latency.

Reward IrInstructionCountOz, observation IrInstructionCount (the cheapest, so the numbers show
the environment's own overhead), on csmith modules of about 300, 3,000 and 30,000 instructions.
For reference, CompilerGym (LLVM 10) published 0.568 ms per step (crc32, globaldce) and
5.2 ms per fork; our targets are a median step <= 0.2 ms and fork <= 1 ms at ~300 instructions.

    .venv/bin/python benchmarks/env_step.py [--steps N] [--load N]

``--load N`` runs N busy processes beside the measurement (``benchmarks/step_limit.py`` times
steps against LLVM's own pass time side by side).
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


def measure(size: str, steps: int) -> dict[str, float]:
    path = cache_root() / "benchmarks" / f"{size}.bc"
    sized_module(size)
    env = LlvmEnv(f"file://{path}", observation_space="IrInstructionCount",
                  reward_space="IrInstructionCountOz")
    rng = np.random.default_rng(0)
    env.reset()  # computes and caches the baselines once
    step_times, reset_times, fork_times = [], [], []
    start = time.perf_counter()
    done = 0
    while done < steps:
        t = time.perf_counter()
        env.reset()
        reset_times.append(time.perf_counter() - t)
        for _ in range(min(20, steps - done)):
            action = int(rng.integers(env.action_space.n))
            t = time.perf_counter()
            env.step(action)
            step_times.append(time.perf_counter() - t)
            done += 1
        t = time.perf_counter()
        fork = env.fork()
        fork_times.append(time.perf_counter() - t)
        fork.close()
    total = time.perf_counter() - start
    count = int(env.observe("IrInstructionCountO0"))
    env.close()
    return {
        "instrs": count,
        "steps/s": steps / total,
        "step ms": statistics.median(step_times) * 1e3,
        "step p90 ms": float(np.percentile(step_times, 90)) * 1e3,
        "fork ms": statistics.median(fork_times) * 1e3,
        "reset ms": statistics.median(reset_times) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="steps on the small module")
    add_load_argument(parser)
    args = parser.parse_args()
    header = ["module", "instrs", "steps/s", "step ms", "step p90 ms", "fork ms", "reset ms"]
    with busy_processes(args.load):
        print(describe(args.load))
        print(" ".join(f"{h:>12}" for h in header))
        for size, divisor in (("small", 1), ("medium", 3), ("large", 20)):
            row = measure(size, max(40, args.steps // divisor))
            cells = [size] + [f"{row[h]:.0f}" if h in ("instrs", "steps/s") else f"{row[h]:.3f}"
                              for h in header[1:]]
            print(" ".join(f"{c:>12}" for c in cells), flush=True)
    print("CompilerGym (published, LLVM 10): 0.568 ms/step, 5.2 ms/fork")


if __name__ == "__main__":
    main()
