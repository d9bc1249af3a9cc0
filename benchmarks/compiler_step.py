"""One pass + instruction count: optgym's compiler worker vs an `opt-19` subprocess, side by side.

Both apply the same sequence of passes to an evolving module and count its instructions after
each pass; the worker does it over its pipe, `opt` by reading and writing bitcode files. Run:

    .venv/bin/python benchmarks/compiler_step.py [--rounds N] [--load N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _load import add_load_argument, busy_processes, describe  # noqa: E402
from _modules import sized_module  # noqa: E402

from optgym.llvm.core import Module  # noqa: E402
from optgym.llvm.passes import FLAGS  # noqa: E402
from optgym.llvm.session import CompilerSession  # noqa: E402

PASSES = ["-sroa", "-instcombine", "-simplifycfg", "-gvn", "-dce", "-licm", "-early-cse",
          "-reassociate", "-jump-threading", "-adce"]


def time_worker(data: bytes, rounds: int) -> list[float]:
    times = []
    with CompilerSession() as session:
        module = session.load(data, "bench")
        module.run(FLAGS[FLAGS.index("-mem2reg")].pipeline)
        for i in range(rounds):
            pipeline = FLAGS[FLAGS.index(PASSES[i % len(PASSES)])].pipeline
            start = time.perf_counter()
            module.run(pipeline, observe=("IrInstructionCount",))
            times.append(time.perf_counter() - start)
    return times


def time_opt(data: bytes, rounds: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.bc"
        path.write_bytes(data)
        subprocess.run(["opt-19", "-passes=function(mem2reg)", str(path), "-o", str(path)],
                       check=True)
        for i in range(rounds):
            pipeline = FLAGS[FLAGS.index(PASSES[i % len(PASSES)])].pipeline
            start = time.perf_counter()
            subprocess.run(["opt-19", f"-passes={pipeline}", str(path), "-o", str(path)],
                           check=True)
            Module.parse(path.read_bytes()).instruction_count()
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60, help="passes per size (default 60)")
    add_load_argument(parser)
    args = parser.parse_args()
    with busy_processes(args.load):
        print(describe(args.load))
        print(f"{'module':<8} {'instrs':>7} {'worker ms':>10} {'opt-19 ms':>10} {'speed-up':>9}")
        for size in ("small", "medium", "large"):
            data = sized_module(size)
            count = Module.parse(data).instruction_count()
            rounds = max(10, args.rounds // {"small": 1, "medium": 2, "large": 6}[size])
            worker = statistics.median(time_worker(data, rounds)) * 1e3
            opt = statistics.median(time_opt(data, max(10, rounds // 3))) * 1e3
            print(f"{size:<8} {count:>7} {worker:>10.3f} {opt:>10.3f} {opt / worker:>8.1f}x",
                  flush=True)


if __name__ == "__main__":
    main()
