"""Memory-mapping agents: XLA-style heuristic, random, CP-SAT exact, search, MaskablePPO, MCTS."""
