"""`optgym-opt` against `opt-19 -Oz` on programs no model or search was tuned on.

For each program: the real `opt-19 -Oz` and the `optgym-opt` command (default policy: the
shipped learned model) both optimize the -O0 bitcode; instruction counts of both outputs are
compared, and runnable programs are built and run to check that the output is unchanged.
csmith seeds come from the validation split past the first 100 (the learned models trained on
train-split seeds and were evaluated on test-split seeds); llvm-stress seeds likewise.

    .venv/bin/python benchmarks/opt_unseen.py [--csmith N] [--stress N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from optgym.datasets import get_benchmark, get_dataset
from optgym.llvm.core import Module


def measure(uri: str, work: Path) -> dict:
    bench = get_benchmark(uri)
    src = work / "in.bc"
    src.write_bytes(bench.bitcode)
    oz, ours = work / "oz.bc", work / "ours.bc"
    subprocess.run(["opt-19", "-passes=default<Oz>", str(src), "-o", str(oz)], check=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "optgym.opt", str(src), "-o", str(ours)], check=True)
    seconds = time.perf_counter() - start
    oz_count = Module.parse(oz.read_bytes()).instruction_count()
    our_count = Module.parse(ours.read_bytes()).instruction_count()
    output_ok = bench.check_output(ours.read_bytes()) if bench.runnable else None
    return {"uri": uri, "oz": oz_count, "ours": our_count, "seconds": seconds, "ok": output_ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csmith", type=int, default=10, help="csmith programs (default 10)")
    parser.add_argument("--stress", type=int, default=5, help="llvm-stress programs (default 5)")
    args = parser.parse_args()
    uris = get_dataset("csmith-v0").first_uris(100 + args.csmith, split="validation")[100:]
    uris += get_dataset("llvm-stress-v0").first_uris(100 + args.stress, split="validation")[100:]
    rows = []
    print(f"{'benchmark':<40} {'-Oz':>6} {'optgym-opt':>10} {'-Oz/ours':>8} {'seconds':>8} output")
    with tempfile.TemporaryDirectory() as tmp:
        for uri in uris:
            row = measure(uri, Path(tmp))
            rows.append(row)
            output = {None: "n/a", True: "same", False: "DIFFERENT"}[row["ok"]]
            print(f"{uri:<40} {row['oz']:>6} {row['ours']:>10} {row['oz'] / row['ours']:>7.3f}x "
                  f"{row['seconds']:>8.1f} {output}", flush=True)
    geomean = statistics.geometric_mean(r["oz"] / r["ours"] for r in rows)
    worse = sum(r["ours"] > r["oz"] for r in rows)
    wrong = sum(r["ok"] is False for r in rows)
    print(f"{len(rows)} programs: geomean -Oz/optgym-opt {geomean:.3f}x, larger than -Oz on {worse}, "
          f"output changed on {wrong}")


if __name__ == "__main__":
    main()
