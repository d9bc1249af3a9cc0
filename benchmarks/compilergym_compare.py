"""optgym against CompilerGym 0.2.5, side by side in one run: reset, step (random actions, and
-gvn), fork and the ProGraML observation, on a small and a medium program, quiet or with
``--load N`` busy processes beside both.

The same C sources on both sides: ``benchmarks/programs/crc32.c`` (small, 214 instructions)
and csmith seed 38 (medium, about 3,000). optgym measures them as ``clang-19 -O0`` bitcode in
this process; CompilerGym (LLVM 10) in its own Python, as LLVM 10 bitcode of the same
program at -O0 (clang-14's typed-pointer IR, with the few attributes and metadata LLVM 10 does
not know dropped, assembled by llvmlite 0.35, which is LLVM 10.0.1). Both envs observe
IrInstructionCount with reward IrInstructionCountOz; random steps draw from the flags both
action spaces have, the same sequence on both sides. The two take turns round by round, so
machine load falls on both alike. Prints each metric's median on each side and the ratio
(CompilerGym / optgym: above 1, optgym is faster), and the floor under optgym's time: the same
LLVM 19 work in this process with no environment around it (a step's passes, a fork's or
reset's ``CloneModule``), timed item by item beside optgym's, with CompilerGym's time over it
as the ``ceiling`` any LLVM 19 environment could reach.

CompilerGym 0.2.5 needs Python 3.7-3.9 and fetches its LLVM 10 tools from
dl.fbaipublicfiles.com on first use. Where that host cannot be reached, ``--cg-tools DIR``
(default: LLVM 14's, ``/usr/lib/llvm-14/bin``, with ``clang-14``) stands in for them: the
environment itself runs LLVM 10 in its own service either way; the tools only compute .text
baselines at reset. Setup on Debian 12 (Python 3.8 from pyenv; ``libtinfo5``, which the
service binary links, and ``clang-14`` from Debian):

    apt-get install libtinfo5 clang-14 llvm-14
    ~/.pyenv/versions/3.8.18/bin/python -m venv /tmp/cg38
    /tmp/cg38/bin/pip install compiler_gym==0.2.5 "numpy<2" "pydantic<2" llvmlite==0.35.0
    .venv/bin/python benchmarks/compilergym_compare.py --python /tmp/cg38/bin/python [--load 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from _load import add_load_argument, busy_processes, describe  # noqa: E402
from _modules import c_source, sized_module  # noqa: E402

from optgym.cache import cache_root  # noqa: E402
from optgym.envs.llvm import LlvmEnv  # noqa: E402
from optgym.llvm.core import Module  # noqa: E402

SIZES = {"small": "crc32", "medium": "medium-3k"}
METRICS = ("reset", "step", "step-gvn", "fork", "programl")
#: Timings per metric and round (random steps: per round, this many steps).
PER_ROUND = {"reset": 10, "step": 60, "step-gvn": 10, "fork": 10, "programl": 5}
TOOLS = ("llc", "llvm-as", "llvm-dis", "llvm-link", "llvm-size", "opt", "lli", "llvm-diff",
         "llvm-objdump")


class CompilerGymSide:
    """The CompilerGym process (``_compilergym_side.py`` under the old Python)."""

    def __init__(self, python: str, site: Path):
        env = dict(os.environ, COMPILER_GYM_SITE_DATA=str(site),
                   COMPILER_GYM_CACHE=str(site / "cache"))
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).parent / "_compilergym_side.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def call(self, *command: object) -> object:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the CompilerGym side exited (see its messages above)")
        reply = json.loads(line)
        if "error" in reply:
            raise SystemExit(f"CompilerGym: {reply['error']}")
        return reply["ok"]

    def close(self) -> None:
        try:
            self.call("close")
        except (SystemExit, BrokenPipeError):
            pass
        self.proc.wait(timeout=30)


def site_data(root: Path, tools: Path, clang: str) -> Path:
    """A CompilerGym site-data directory whose LLVM tools are ``tools`` (LLVM 10 is CompilerGym's
    own; any later LLVM reads its bitcode), so that nothing is downloaded."""
    site = root / "compilergym-site"
    llvm = site / "llvm-v0"
    (llvm / "bin").mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        if (tools / tool).exists():
            (llvm / "bin" / tool).unlink(missing_ok=True)
            (llvm / "bin" / tool).symlink_to(tools / tool)
    (llvm / "bin" / "clang").unlink(missing_ok=True)
    (llvm / "bin" / "clang").symlink_to(shutil.which(clang) or clang)
    (llvm / "LICENSE").touch()
    (llvm / ".unpacked").touch()
    return site


def llvm10_bitcode(size: str, python: str, clang: str, work: Path) -> Path:
    """The program as LLVM 10 bitcode, for CompilerGym."""
    text, out = work / f"{size}.ll", work / f"{size}.bc"
    extra = [] if SIZES[size] == "crc32" else ["-w", "-I/usr/include/csmith"]
    subprocess.run([clang, "-O0", "-Xclang", "-disable-O0-optnone", *extra, "-emit-llvm", "-S",
                    str(c_source(SIZES[size])), "-o", str(text)], check=True)
    subprocess.run([python, str(Path(__file__).parent / "_compilergym_side.py"), "convert",
                    str(text), str(out)], check=True)
    return out


class OptgymSide:
    """The same measurements on optgym's environment, in this process, each interleaved item
    by item with its floor: the same LLVM 19 work in this process with no environment, worker
    or pipe (a step: the flag's passes on a mirror of the module; a fork or reset: one
    ``CloneModule``), the two taking turns at going first. CompilerGym's time over the floor is
    the most any LLVM 19 environment could reach against it (the ``ceiling`` column)."""

    def __init__(self) -> None:
        self.envs: dict[str, LlvmEnv] = {}
        self.modules: dict[str, Module] = {}

    def open(self, name: str) -> int:
        sized_module(SIZES[name])
        env = LlvmEnv(f"file://{cache_root() / 'benchmarks' / f'{SIZES[name]}.bc'}",
                      observation_space="IrInstructionCount", reward_space="IrInstructionCountOz")
        env.reset()
        self.envs[name] = env
        self.modules[name] = Module.parse(env.benchmark.bitcode, name)
        return int(env.observe("IrInstructionCount"))

    def measure(self, name: str, metric: str, n: int, flags: list[str]
                ) -> tuple[list[float], list[float]]:
        """``n`` timings of ``metric`` on the environment, and as many of its floor (none for
        ProGraML, whose work has no LLVM-only counterpart)."""
        env, base = self.envs[name], self.modules[name]
        index = {f: i for i, f in enumerate(env.action_space.flags)}
        ours: list[float] = []
        floor: list[float] = []
        mirror = None
        for i in range(n):
            if metric != "step" or i % 20 == 0:  # steps: a reset every 20, as CompilerGym's side
                env.reset()
                if mirror is not None:
                    mirror.close()
                mirror = base.clone()
            flag = flags[i] if metric == "step" else "-gvn"
            for first in ((0, 1) if i % 2 else (1, 0)):
                if first == 0:
                    ours.append(self._time_env(env, metric, index[flag]))
                elif metric != "programl":
                    floor.append(self._time_llvm(mirror, metric, env.actions[index[flag]].pipeline))
            if metric == "step-gvn":  # each -gvn on a fresh module
                mirror.close()
                mirror = None
        if mirror is not None:
            mirror.close()
        return ours, floor

    @staticmethod
    def _time_env(env: LlvmEnv, metric: str, action: int) -> float:
        other = None
        t = time.perf_counter()
        if metric == "reset":
            env.reset()
        elif metric in ("step", "step-gvn"):
            env.step(action)
        elif metric == "fork":
            other = env.fork()
        elif metric == "programl":
            env.observe("Programl")
        seconds = time.perf_counter() - t
        if other is not None:
            other.close()
        return seconds

    @staticmethod
    def _time_llvm(mirror: Module, metric: str, pipeline: str) -> float:
        t = time.perf_counter()
        if metric in ("reset", "fork"):
            copy = mirror.clone()
            seconds = time.perf_counter() - t
            copy.close()
            return seconds
        mirror.run_passes(pipeline)
        return time.perf_counter() - t

    def close(self) -> None:
        for env in self.envs.values():
            env.close()
        for module in self.modules.values():
            module.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", required=True,
                        help="a Python 3.7-3.9 with compiler_gym==0.2.5 and llvmlite==0.35.0")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per program (default 5)")
    parser.add_argument("--sizes", default="small,medium")
    parser.add_argument("--cg-tools", default="/usr/lib/llvm-14/bin",
                        help="LLVM tools standing in for CompilerGym's download")
    parser.add_argument("--cg-clang", default="clang-14",
                        help="a clang that writes typed-pointer IR (<= 14) for the LLVM 10 side")
    add_load_argument(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="optgym-vs-compilergym-") as tmp:
        work = Path(tmp)
        site = site_data(work, Path(args.cg_tools), args.cg_clang)
        bitcode = {size: llvm10_bitcode(size, args.python, args.cg_clang, work)
                   for size in args.sizes.split(",")}
        cg, ours = CompilerGymSide(args.python, site), OptgymSide()
        try:
            with busy_processes(args.load):
                print(describe(args.load))
                print(f"{'program':<8} {'instrs cg/ours':>15} {'metric':<9} {'CompilerGym ms':>15} "
                      f"{'optgym ms':>10} {'ratio':>7} {'LLVM 19 alone ms':>17} {'ceiling':>8}")
                for size, path in bitcode.items():
                    counts = (cg.call("open", size, str(path)), ours.open(size))
                    common = sorted(set(cg.call("flags", size)) & set(
                        ours.envs[size].action_space.flags))
                    rng = np.random.default_rng(0)
                    times: dict[str, tuple[list[float], ...]] = {
                        m: ([], [], []) for m in METRICS}
                    for round_ in range(args.rounds):
                        for metric in METRICS:
                            n = PER_ROUND[metric]
                            flags = [common[int(i)] for i in rng.integers(len(common), size=n)]
                            for which in ((1, 0) if round_ % 2 else (0, 1)):
                                if which == 0:
                                    times[metric][0].extend(
                                        cg.call("measure", size, metric, n, flags))
                                else:
                                    mine, floor = ours.measure(size, metric, n, flags)
                                    times[metric][1].extend(mine)
                                    times[metric][2].extend(floor)
                    for metric in METRICS:
                        theirs, mine = (statistics.median(t) * 1e3 for t in times[metric][:2])
                        floor = f"{'-':>17} {'-':>8}"
                        if times[metric][2]:
                            alone_ms = statistics.median(times[metric][2]) * 1e3
                            floor = f"{alone_ms:>17.3f} {theirs / alone_ms:>7.1f}x"
                        print(f"{size:<8} {counts[0]:>7}/{counts[1]:<7} {metric:<9} "
                              f"{theirs:>15.3f} {mine:>10.3f} {theirs / mine:>6.1f}x {floor}",
                              flush=True)
        finally:
            cg.close()
            ours.close()


if __name__ == "__main__":
    main()
