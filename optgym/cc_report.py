"""`optgym cc-report`: what `optgym-cc` ships against `clang-19 -Oz`, program by program.

Each program's C source is compiled twice, as a build would: ``clang-19 -Oz -c`` and the
installed ``optgym-cc -Oz -c`` (its default policy and budget, its build server), both timed.
The report gives each object's ``.text`` bytes, links both into executables, runs them and
compares what they print with the program's recorded output: the measure a user of the drop-in
checks (``size``, their tests), with the real clang as the referee.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optgym.datasets import Benchmark


@dataclass
class Row:
    """One program: both objects' ``.text``, whether ``optgym-cc``'s behaves the same, times."""

    benchmark: str
    clang_text: int
    text: int
    same_output: bool
    clang_seconds: float
    seconds: float
    run_ratio: float  # the program's run time with optgym-cc's object over clang's

    @property
    def ratio(self) -> float:
        """clang -Oz's ``.text`` over optgym-cc's (above 1: smaller than clang -Oz)."""
        return self.clang_text / max(self.text, 1)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``optgym cc-report``."""
    p = subparsers.add_parser(
        "cc-report", help="optgym-cc against clang-19 -Oz on a dataset's C programs",
        description=__doc__.split("\n\n", 1)[1].strip().replace("``", "`"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  optgym cc-report --dataset builtin-v0 --split test")
    p.add_argument("--dataset", default="builtin-v0",
                   help="a dataset of runnable C programs (default builtin-v0)")
    p.add_argument("--split", choices=["train", "validation", "test"], default=None,
                   help="only this split")
    p.add_argument("-n", type=int, default=None, help="the first N programs")
    p.add_argument("--budget", type=int, default=None,
                   help="optgym-cc's compilations per file (OPTGYM_CC_BUDGET; default: its own)")
    p.set_defaults(handler=_run)


def _drop_in() -> list[str]:
    """The installed optgym-cc (beside this Python), else the module."""
    exe = Path(sys.executable).parent / "optgym-cc"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "optgym.cc"]


def _compile(argv: list[str], source: Path, out: Path, env: dict[str, str]) -> float:
    from optgym.errors import OptgymError

    started = time.perf_counter()
    proc = subprocess.run([*argv, "-Oz", "-g0", "-w", "-c", str(source), "-o", str(out)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise OptgymError(f"{source}: {Path(argv[0]).name} failed ({proc.returncode}): "
                          f"{proc.stderr.strip()[-500:]}")
    return time.perf_counter() - started


def measure(benchmark: Benchmark, work: Path, budget: int | None = None) -> Row:
    """Compile ``benchmark``'s C source with clang-19 -Oz and with optgym-cc in ``work``, link
    and run both; the row of the report."""
    from optgym.datasets import run_executable
    from optgym.errors import OptgymError
    from optgym.llvm.core import elf_text_size

    source = getattr(benchmark, "source_path", None)
    if source is None:
        raise OptgymError(f"{benchmark.uri}: no C source (cc-report compiles programs from C; "
                          "builtin-v0's have theirs)")
    env = dict(os.environ)
    if budget is not None:
        env["OPTGYM_CC_BUDGET"] = str(budget)
    objects = {"clang": work / "clang.o", "ours": work / "ours.o"}
    clang_seconds = _compile(["clang-19"], source, objects["clang"], env)
    seconds = _compile(_drop_in(), source, objects["ours"], env)
    runs = {}
    for name, obj in objects.items():
        exe = work / name
        subprocess.run(["clang-19", str(obj), "-o", str(exe), "-lm"], check=True)
        runs[name] = min((run_executable(exe, timeout=30.0) for _ in range(3)),
                         key=lambda r: r.seconds)
    expected, code = benchmark.expected_output, benchmark.expected_returncode
    if expected is None:  # no recorded output: clang -Oz's build is the reference
        expected, code = runs["clang"].stdout, runs["clang"].returncode
    ours = runs["ours"]
    same = not ours.timed_out and ours.returncode == code and ours.stdout == expected
    return Row(benchmark.uri, elf_text_size(objects["clang"].read_bytes()),
               elf_text_size(objects["ours"].read_bytes()), same, clang_seconds, seconds,
               ours.seconds / max(runs["clang"].seconds, 1e-9))


def table(rows: list[Row]) -> str:
    """The report: one line per program, then the geomeans and the contract counts."""
    width = max(len("benchmark"), *(len(r.benchmark) for r in rows))
    head = (f"{'benchmark':<{width}}  {'.text -Oz':>9}  {'optgym-cc':>9}  {'-Oz/ours':>8}  "
            f"{'output':>6}  {'build s -Oz':>11}  {'optgym-cc':>9}  {'run time':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.benchmark:<{width}}  {r.clang_text:>9}  {r.text:>9}  "
                     f"{r.ratio:>7.3f}x  {'same' if r.same_output else 'DIFF':>6}  "
                     f"{r.clang_seconds:>11.2f}  {r.seconds:>9.2f}  {r.run_ratio:>7.2f}x")
    geo = statistics.geometric_mean(r.ratio for r in rows)
    build = statistics.geometric_mean(r.seconds / max(r.clang_seconds, 1e-9) for r in rows)
    run = statistics.geometric_mean(r.run_ratio for r in rows)
    lines += ["-" * len(head),
              f"{'geomean':<{width}}  {'':>9}  {'':>9}  {geo:>7.3f}x  {'':>6}  {'':>11}  "
              f"{build:>8.1f}x  {run:>7.2f}x",
              f"{len(rows)} programs: .text smaller than clang -Oz on "
              f"{sum(r.text < r.clang_text for r in rows)}, larger on "
              f"{sum(r.text > r.clang_text for r in rows)}; output differs on "
              f"{sum(not r.same_output for r in rows)} (total .text "
              f"{sum(r.clang_text for r in rows) / max(sum(r.text for r in rows), 1):.3f}x; "
              "build and run times: optgym-cc's over clang's)"]
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from optgym.datasets import get_dataset
    from optgym.errors import OptgymError
    from optgym.scratch import scratch_dir

    dataset = get_dataset(args.dataset)
    if not dataset.runnable:
        raise OptgymError(f"{args.dataset} is compile-only: cc-report runs the programs it "
                          "builds (use builtin-v0, or benchmarks/cc_realc.py for real code)")
    names = dataset.benchmark_names(args.split)[:args.n]
    if not names:
        raise OptgymError(f"{args.dataset}: no programs in split {args.split!r}")
    rows = []
    for name in tqdm(names, desc="cc-report", unit="program", file=sys.stderr, disable=None):
        with scratch_dir("optgym-ccreport-") as work:
            rows.append(measure(dataset.benchmark(name), Path(work), args.budget))
    print(table(rows))
    broken = sum(r.text > r.clang_text or not r.same_output for r in rows)
    return 1 if broken else 0
