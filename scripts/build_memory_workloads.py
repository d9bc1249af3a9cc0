"""Trace the model zoo (``optgym.memory.models.ZOO``) into the shipped workload JSON files.

The memory environments read workloads as data (``optgym/memory/data/workloads/``); this
script is how that data is made, with ``torch.export`` through the same tracer a user's model goes
through. Re-run it after changing the tracer or the zoo:

    .venv/bin/python scripts/build_memory_workloads.py [NAMES ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from optgym.cache import atomic_write
from optgym.memory.workloads import DATA_DIR, INDEX_PATH


def main(argv: list[str] | None = None) -> int:
    import torch

    from optgym.memory.models import FAMILY_SPLIT, ZOO
    from optgym.memory.trace import trace_module

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="zoo entries to (re)trace; default: all")
    args = parser.parse_args(argv)
    names = args.names or list(ZOO)
    unknown = [n for n in names if n not in ZOO]
    if unknown:
        print(f"unknown zoo entries {unknown}; known: {list(ZOO)}", file=sys.stderr)
        return 2
    index = {}
    for name, (factory, inputs, description, family) in ZOO.items():
        index[name] = {"family": family, "split": FAMILY_SPLIT[family], "description": description}
        if name not in names:
            continue
        t0 = time.perf_counter()
        torch.manual_seed(0)
        w = trace_module(factory(), inputs(), name=name, description=description)
        w.save(DATA_DIR / f"{name}.json")
        print(f"{name}: {w.n_ops} ops, {w.n_tensors} tensors ({time.perf_counter() - t0:.1f} s)")
    for stale in set(p.stem for p in DATA_DIR.glob("*.json")) - set(index) - {"index"}:
        (DATA_DIR / f"{stale}.json").unlink()  # a workload the zoo no longer has
    atomic_write(INDEX_PATH, (json.dumps(index, indent=1) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
