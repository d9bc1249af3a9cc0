"""Memory-mapping report: timeline runtime per held-out workload for all-slow, the XLA-style
baseline, the greedy baseline and the agents, then the MiniMalloc packing set. Same as
``optgym memory report``; run as

    .venv/bin/python benchmarks/memory_report.py --split test --simulations 8 --mcts-model mcts.pt
"""

from __future__ import annotations

import sys

from optgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["memory", "report", *sys.argv[1:]]))
