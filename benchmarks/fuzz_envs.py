"""Fuzz the pass-ordering environment: random episodes on llvm-stress and csmith programs, with
interrupts injected mid-step, and count what went wrong.

Each episode resets to a random program (alternating generator://llvm-stress-v0 and
generator://csmith-v0 seeds) and takes random actions of flags-pipelines-v0. Before some steps an
interval timer raises an exception inside the step (as Ctrl-C would) at a random moment. At the
end of the episode its final module is checked against a replay of the same actions in a second,
untouched environment: any difference means a reply was handed to the wrong request.

Printed: parent crashes (exceptions that are not optgym's typed errors), worker crashes caught
(LLVM aborts and time-outs turned into CompilerCrash), interrupts injected, desynchronized
episodes, failed resets, and orphans (worker processes still alive after every env is closed).
Not run in CI; a few minutes with the defaults:

    nice .venv/bin/python benchmarks/fuzz_envs.py [--episodes 120] [--steps 25] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import sys
import time
import traceback

import numpy as np

from optgym.envs.llvm import LlvmEnv
from optgym.errors import OptgymError, PassTimeout


class Interrupt(Exception):
    """Raised by the SIGALRM handler: stands for Ctrl-C landing inside a step."""


def _raise(signum, frame):
    raise Interrupt


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _children() -> list[int]:
    """Live processes whose parent is this one."""
    me, out = str(os.getpid()), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().split(")")[-1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                out.append(int(entry))
    return out


def _env(timeout: float) -> LlvmEnv:
    return LlvmEnv(observation_space="IrInstructionCount", reward_space="IrInstructionCountOz",
                   action_space="flags-pipelines-v0", timeout=timeout)


def run(args: argparse.Namespace) -> collections.Counter:  # noqa: C901 - one episode loop that injects every kind of fault and counts each outcome; split up, the counters would be scattered
    rng = np.random.default_rng(args.seed)
    counts: collections.Counter = collections.Counter()
    workers: set[int] = set()
    signal.signal(signal.SIGALRM, _raise)
    env, reference = _env(args.timeout), _env(args.timeout)
    start = time.monotonic()
    for episode in range(args.episodes):
        dataset = ("llvm-stress-v0", "csmith-v0")[episode % 2]
        uri = f"generator://{dataset}/{int(rng.integers(1 << 20))}"
        try:
            env.reset(options={"benchmark": uri})
        except OptgymError as exc:
            counts["failed resets"] += 1
            print(f"  failed reset {uri}: {str(exc).splitlines()[0][:120]}")
            continue
        except Exception:  # noqa: BLE001 - what the benchmark is looking for
            counts["parent crashes"] += 1
            traceback.print_exc()
            env.close()
            env = _env(args.timeout)
            continue
        counts["episodes"] += 1
        try:
            for _ in range(args.steps):
                workers.add(env.session.pid or 0)
                action = int(rng.integers(env.action_space.n))
                if rng.random() < args.interrupt_prob:
                    signal.setitimer(signal.ITIMER_REAL, float(rng.uniform(0.0002, 0.02)))
                try:
                    _, _, terminated, _, info = env.step(action)
                except Interrupt:
                    counts["interrupts injected"] += 1
                    continue
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                counts["steps"] += 1
                if "error" in info:
                    kind = "time-outs caught" if "time-out" in info["error"] else "worker crashes caught"
                    counts[kind] += 1
                if terminated:
                    break
            final = int(env.observe("IrInstructionCount"))
            reference.reset(options={"benchmark": uri})
            for pipeline in env.actions_taken:
                reference.step(reference.actions.index(pipeline))
            if int(reference.observe("IrInstructionCount")) != final:
                counts["desynchronized episodes"] += 1
                print(f"  DESYNC {uri}: {final} instructions, replay gives "
                      f"{int(reference.observe('IrInstructionCount'))}")
        except Interrupt:
            counts["interrupts injected"] += 1  # landed outside a step: harmless, but counted
        except PassTimeout:
            counts["time-outs caught"] += 1
        except OptgymError as exc:
            counts["typed errors outside steps"] += 1
            print(f"  {uri}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        except Exception:  # noqa: BLE001
            counts["parent crashes"] += 1
            traceback.print_exc()
            env.close()
            env = _env(args.timeout)
        if (episode + 1) % 20 == 0:
            print(f"{episode + 1} episodes, {time.monotonic() - start:.0f} s: {dict(counts)}",
                  flush=True)
    for e in (env, reference):
        workers.add(e.session.pid or 0)
        e.close()
    time.sleep(0.5)
    counts["worker processes seen"] = len(workers - {0})
    counts["orphans"] = sum(_alive(pid) for pid in workers - {0}) + len(_children())
    counts["seconds"] = round(time.monotonic() - start)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=120)
    parser.add_argument("--steps", type=int, default=25, help="actions per episode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="pass time-out, seconds")
    parser.add_argument("--interrupt-prob", type=float, default=0.05,
                        help="chance that a step is interrupted at a random moment")
    args = parser.parse_args()
    counts = run(args)
    print()
    for key in ("episodes", "steps", "parent crashes", "worker crashes caught",
                "time-outs caught", "interrupts injected", "desynchronized episodes",
                "failed resets", "typed errors outside steps", "worker processes seen",
                "orphans", "seconds"):
        print(f"{key:>28}: {counts.get(key, 0)}")
    return 1 if counts["parent crashes"] or counts["desynchronized episodes"] or counts["orphans"] else 0


if __name__ == "__main__":
    sys.exit(main())
