"""One entry point for every memory agent: ``run_agent(name, problem, hardware)``."""

from __future__ import annotations

from optgym.errors import OptgymError
from optgym.memory.baselines import (
    MappingResult,
    best_fit_packing,
    greedy_mapping,
    random_mapping,
    xla_mapping,
)
from optgym.memory.problem import Hardware, MemoryProblem, validate_mapping
from optgym.memory.timeline import CostModel

MAPPING_AGENTS = ("xla", "xla-sim", "greedy", "random", "search", "mcts", "ppo", "cpsat")
PACKING_AGENTS = ("best-fit", "pack")


def run_agent(agent: str, problem: MemoryProblem, hardware: Hardware, *, time_limit: float = 10.0,
              model: str | None = None, simulations: int = 16, seed: int = 0,
              max_depth: int | None = None, max_evals: int | None = None,
              prior_mix: float = 0.5) -> MappingResult:
    """Run one agent and validate what it returns (packing agents: against their own height).
    ``max_depth``: the segments MCTS's tree decides (the rest by XLA's rules); ``max_evals``:
    the timeline simulations search may spend (besides its time limit)."""
    if agent in PACKING_AGENTS:
        if agent == "best-fit":
            res = best_fit_packing(problem)
        else:
            from optgym.memory.agents.search import pack_problem

            res = pack_problem(problem, time_limit=time_limit)
        validate_mapping(problem, res.mapping, capacity=max(res.height, problem.capacity), allow_slow=False)
        return res
    if agent not in MAPPING_AGENTS:
        raise OptgymError(f"unknown agent {agent!r}; choose one of {MAPPING_AGENTS + PACKING_AGENTS}")
    if problem.n_ops == 0:
        raise OptgymError(f"{problem.name} is a packing problem (no ops): use an agent of {PACKING_AGENTS}")
    cost = CostModel(problem, hardware)
    if agent == "xla":
        res = xla_mapping(problem, hardware, cost)
    elif agent == "xla-sim":
        res = xla_mapping(problem, hardware, cost, simulate=True)
    elif agent == "greedy":
        res = greedy_mapping(problem, hardware, cost)
    elif agent == "random":
        res = random_mapping(problem, hardware, seed, cost)
    elif agent == "search":
        from optgym.memory.agents.search import search_mapping

        res = search_mapping(problem, hardware, time_limit=time_limit, cost=cost, seed=seed,
                             max_evals=max_evals)
    elif agent == "cpsat":
        from optgym.memory.agents.cpsat import cpsat_mapping

        res = cpsat_mapping(problem, hardware, time_limit=time_limit, cost=cost)
    elif agent == "mcts":
        from optgym.memory.agents.mcts import mcts_mapping
        from optgym.memory.env import MemoryMappingEnv

        res = mcts_mapping(problem.name, hardware, model_path=model, simulations=simulations, seed=seed,
                           env=MemoryMappingEnv(problem, hardware), max_depth=max_depth,
                           prior_mix=prior_mix)
    else:
        from optgym.memory.agents.ppo import ppo_mapping
        from optgym.memory.env import MemoryMappingEnv

        if model is None:
            raise OptgymError("agent 'ppo' needs --model (train one with 'optgym memory train --agent ppo')")
        res = ppo_mapping(problem.name, hardware, model_path=model, env=MemoryMappingEnv(problem, hardware))
    validate_mapping(problem, res.mapping, intervals=res.intervals)
    return res
