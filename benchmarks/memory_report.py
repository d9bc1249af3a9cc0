"""Memory-mapping report: timeline runtime per workload of the held-out test families for
all-slow, XLA, XLA+sim, greedy and the agents, paired bootstrap intervals over families, and
every mapping replayed by the checker. Same as ``optgym memory report``; the README's table is

    .venv/bin/python benchmarks/memory_report.py --split test --time-limit 5 --simulations 8 \\
        --max-depth 16 --prior-mix 0.5 --mcts-model optgym/memory/agents/model/mcts-net.pt --no-packing

(the settings come from ``benchmarks/memory_validation.py`` on the validation families).
"""

from __future__ import annotations

import sys

from optgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["memory", "report", *sys.argv[1:]]))
