"""Program-graph build time and bytes over the worker pipe, for modules of ~300, ~3k and ~30k
instructions (csmith, see _modules.py) plus the built-in program closest to 1,000 instructions.

Columns: build in-process (the C builder plus copying the arrays out), the same with every
node's full text, the ``Programl`` observation through a real compiler worker (build, pickle,
pipe, unpickle), the pickled size of the observation, and the PyG conversion in the parent.
Times are the median (and min) of several runs, in ms. Run:

    .venv/bin/python benchmarks/programgraphs_build.py [--rounds N] [--load N]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _load import add_load_argument, busy_processes, describe  # noqa: E402
from _modules import sized_module  # noqa: E402

from optgym.llvm.core import Module  # noqa: E402
from optgym.llvm.session import CompilerSession  # noqa: E402
from optgym.programgraphs import build_arrays  # noqa: E402

PROGRAMS = Path(__file__).resolve().parents[1] / "optgym" / "datasets" / "builtin" / "programs"


def timed(fn: Callable[[], object], rounds: int) -> str:
    """"median (min)" in ms: the median is what a run sees; the min is the cost without
    interference from other processes on a shared machine."""
    fn()  # warm up (builds the native helper, faults pages in)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return f"{1e3 * statistics.median(times):.2f} ({1e3 * min(times):.2f})"


def builtin_near_1k() -> tuple[str, bytes] | None:
    """The built-in C program whose -O0 module is closest to 1,000 instructions."""
    best: tuple[int, str, bytes] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for src in sorted(PROGRAMS.glob("*.c")):
            out = Path(tmp) / f"{src.stem}.bc"
            subprocess.run(["clang-19", "-O0", "-Xclang", "-disable-O0-optnone", "-w",
                            "-emit-llvm", "-c", str(src), "-o", str(out)], check=True)
            data = out.read_bytes()
            n = Module.parse(data).instruction_count()
            if best is None or abs(n - 1000) < abs(best[0] - 1000):
                best = (n, src.stem, data)
    return (best[1], best[2]) if best else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20,
                        help="timed runs per measurement; the median is reported (default 20)")
    add_load_argument(parser)
    args = parser.parse_args()
    modules = [(size, sized_module(size)) for size in ("small", "medium", "large")]
    near = builtin_near_1k()
    if near:
        modules.insert(1, (f"builtin {near[0]}", near[1]))
    with busy_processes(args.load):
        print(describe(args.load))
        table(modules, args.rounds)
    return 0


def table(modules: list[tuple[str, bytes]], rounds_wanted: int) -> None:
    """Measure and print the table's rows."""
    print("| module | instructions | nodes | edges | build in-process, ms | with full text, ms "
          "| through the worker, ms | pickled bytes | to_pyg, ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with CompilerSession() as session:
        for name, data in modules:
            module = Module.parse(data, name)
            graph = build_arrays(module)
            rounds = (max(3, rounds_wanted // 4) if module.instruction_count() > 10_000
                      else rounds_wanted)
            lean = timed(lambda m=module: build_arrays(m), rounds)
            full = timed(lambda m=module: build_arrays(m, full_text=True), max(3, rounds // 4))
            handle = session.load(data, name)
            remote = timed(lambda h=handle: h.observe("Programl"), rounds)
            handle.close()
            pyg = timed(graph.to_pyg, rounds)
            size = len(pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
            print(f"| {name} | {module.instruction_count():,} | {graph.num_nodes:,} "
                  f"| {graph.num_edges:,} | {lean} | {full} | {remote} "
                  f"| {size:,} | {pyg} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
