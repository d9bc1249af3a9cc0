"""Memory-mapping report: estimated runtime per traced workload for all-slow, XLA-style, the agents
and CP-SAT, then the MiniMalloc packing set. Same as ``optgym memory report``; run as
``.venv/bin/python benchmarks/memory_report.py [--hardware tpu-like] [--ppo-model M.zip]``."""

from __future__ import annotations

import sys

from optgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["memory", "report", *sys.argv[1:]]))
