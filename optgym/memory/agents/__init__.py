"""Memory-mapping agents: search, MCTS (with a shipped net), MaskablePPO, CP-SAT on the surrogate, the packing solver."""
