"""What CompilerGym's API costs on top of the Gymnasium env: step time side by side.

The same random action sequences run on three faces of one implementation, interleaved in
rounds (each face first in turn) so that machine load falls on all alike: the plain
Gymnasium env (``LlvmEnv``), the ``gymnasium.make`` wrapper stack, and ``optgym.compat.make``
(CompilerGym's API: spaces by name, its views, four-tuple steps). Observation Autophase,
reward IrInstructionCountOz (``llvm-autophase-ic-v0``), csmith modules of about 300 and
3,000 instructions. Each size is measured twice: on a quiet machine, and with load beside
it (``--load N`` busy processes, default one per core less one, spinning for the whole
measurement). Prints median and mean step times and each face's ratio to ``LlvmEnv``.

    .venv/bin/python benchmarks/compat_step.py [--steps N] [--rounds R] [--load N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from _load import add_load_argument, busy_processes, describe  # noqa: E402
from _modules import sized_module  # noqa: E402

import optgym  # noqa: E402, F401 - registers the environments
from optgym import compat  # noqa: E402
from optgym.cache import cache_root  # noqa: E402
from optgym.envs.llvm import LlvmEnv  # noqa: E402

Env = gym.Env
#: Each face: how it is made, reset and stepped.
FACES: dict[str, tuple[Callable[[str], Env], Callable[[Env], object],
                       Callable[[Env, int], object]]] = {
    "LlvmEnv": (lambda uri: LlvmEnv(uri), lambda e: e.reset(), lambda e, a: e.step(a)),
    "gym.make": (lambda uri: gym.make("optgym/llvm-autophase-ic-v0", benchmark=uri,
                                      max_episode_steps=-1),
                 lambda e: e.reset(), lambda e, a: e.step(a)),
    "compat": (lambda uri: compat.make("llvm-autophase-ic-v0", benchmark=uri),
               lambda e: e.reset(), lambda e, a: e.step(a)),
}


def _episode_times(env: Env, reset: Callable[[Env], object],
                   step: Callable[[Env, int], object], actions: list[int]) -> list[float]:
    reset(env)
    times = []
    for action in actions:
        t = time.perf_counter()
        step(env, action)
        times.append(time.perf_counter() - t)
    return times


def measure(size: str, steps: int, rounds: int) -> dict[str, list[float]]:
    """Step times of each face on a module of ``size``, interleaved in ``rounds``."""
    sized_module(size)
    uri = f"file://{cache_root() / 'benchmarks' / f'{size}.bc'}"
    envs = {name: make(uri) for name, (make, _, _) in FACES.items()}
    for env in envs.values():
        env.reset()  # baselines computed and cached once
    rng = np.random.default_rng(0)
    times: dict[str, list[float]] = {name: [] for name in FACES}
    names = list(FACES)
    for r in range(rounds):
        actions = [int(a) for a in rng.integers(0, 117, size=steps)]
        for name in names[r % 3:] + names[:r % 3]:  # each face goes first in turn
            _, reset, step = FACES[name]
            times[name] += _episode_times(envs[name], reset, step, actions)
    for env in envs.values():
        env.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="steps per episode")
    parser.add_argument("--rounds", type=int, default=25, help="episodes per face and size")
    add_load_argument(parser)
    args = parser.parse_args()
    with busy_processes(args.load):
        print(describe(args.load))
        print(f"{'module':<8} {'face':<10} {'median ms':>10} {'mean ms':>9} {'vs LlvmEnv':>11}")
        for size in ("small", "medium"):
            times = measure(size, args.steps, args.rounds)
            base = statistics.median(times["LlvmEnv"])
            for name, values in times.items():
                median = statistics.median(values)
                print(f"{size:<8} {name:<10} {median * 1e3:>10.3f} "
                      f"{statistics.fmean(values) * 1e3:>9.3f} {median / base:>10.2f}x",
                      flush=True)


if __name__ == "__main__":
    main()
