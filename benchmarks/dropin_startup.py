"""The drop-ins' wall time on a small file, side by side with the LLVM tools they replace.

``optgym-opt FILE.bc -o OUT.bc`` (default settings: the shipped NVP model, 60 compilations)
against ``opt-19 -Oz``, and ``optgym-cc -Oz -c FILE.c -o OUT.o`` against ``clang-19 -Oz -c``, on
``benchmarks/programs/crc32.c`` (214 instructions; the bitcode is what clang -Oz hands its
optimizer). Each round runs the four commands in turn (rotating which goes first) as fresh
processes; each optgym run gets an empty cache directory (only the compiled native helper is
shared), so nothing is remembered from an earlier run of the same file, as in a real build.
Python writes its bytecode caches (as an installed package has them): the first round warms
them and is not counted. Prints the median and the fastest wall time of each. Run:

    .venv/bin/python benchmarks/dropin_startup.py [--rounds 7] [--load N] [--size crc32]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _load import add_load_argument, busy_processes, describe  # noqa: E402
from _modules import c_source  # noqa: E402

from optgym.llvm import native, toolchain  # noqa: E402

BIN = Path(sys.executable).parent


def commands(source: Path, bitcode: Path, out: Path, extra: list[str]) -> dict[str, list[str]]:
    """The four command lines, by the name the table prints."""
    return {
        "optgym-opt": [str(BIN / "optgym-opt"), str(bitcode), "-o", str(out / "a.bc")],
        "opt-19 -Oz": [toolchain.opt(), "-Oz", str(bitcode), "-o", str(out / "b.bc")],
        "optgym-cc -Oz -c": [str(BIN / "optgym-cc"), "-Oz", *extra, "-c", str(source),
                             "-o", str(out / "a.o")],
        "clang-19 -Oz -c": [toolchain.clang(), "-Oz", *extra, "-c", str(source),
                            "-o", str(out / "b.o")],
    }


def fresh_cache(root: Path) -> Path:
    """An empty optgym cache directory that shares only the built native helper."""
    cache = Path(tempfile.mkdtemp(dir=root))
    helper = native.build()
    (cache / "native").mkdir()
    (cache / "native" / helper.parent.name).symlink_to(helper.parent)
    return cache


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="counted rounds (default 7)")
    parser.add_argument("--size", default="crc32", help="crc32 (default) or a csmith size")
    add_load_argument(parser)
    args = parser.parse_args(argv)
    source = c_source(args.size)
    extra = [] if args.size == "crc32" else ["-w", "-I/usr/include/csmith"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="optgym-dropins-") as tmp, \
            busy_processes(args.load):
        work = Path(tmp)
        bitcode = work / "input.bc"
        subprocess.run([toolchain.clang(), *toolchain.FRONTEND_FLAGS, *extra, str(source),
                        "-o", str(bitcode)], check=True)
        print(f"{source.name}; {describe(args.load)}")
        cmds = commands(source, bitcode, work, extra)
        names = list(cmds)
        times: dict[str, list[float]] = {n: [] for n in names}
        for round_ in range(args.rounds + 1):
            order = names[round_ % len(names):] + names[:round_ % len(names)]
            for name in order:
                run_env = dict(env)
                if name.startswith("optgym"):
                    run_env["OPTGYM_CACHE"] = str(fresh_cache(work))
                started = time.perf_counter()
                proc = subprocess.run(cmds[name], env=run_env, cwd=work, capture_output=True)
                seconds = time.perf_counter() - started
                if proc.returncode != 0:
                    raise SystemExit(f"{name} failed: {proc.stderr.decode()[-2000:]}")
                if round_:  # round 0 warms Python's bytecode caches
                    times[name].append(seconds)
                if name.startswith("optgym"):
                    shutil.rmtree(run_env["OPTGYM_CACHE"])
        print(f"{'command':<18} {'median s':>9} {'fastest s':>9}")
        for name in names:
            print(f"{name:<18} {statistics.median(times[name]):>9.3f} {min(times[name]):>9.3f}")


if __name__ == "__main__":
    main()
