"""Policies for pass ordering (search baselines, learned models) behind one interface."""

from optgym.agents.base import (
    Budget,
    BudgetClock,
    OzPolicy,
    Policy,
    SearchResult,
    get_policy,
    policy_names,
    register_policy,
    result_from_env,
)

__all__ = [
    "Budget", "BudgetClock", "OzPolicy", "Policy", "SearchResult", "get_policy", "policy_names",
    "register_policy", "result_from_env",
]
import optgym.agents.search  # noqa: E402,F401  (registers random, greedy, beam, evolve, oz-climb)

register_policy("ppo", "optgym.agents.ppo.policy:ppo_policy")  # lazy: torch loads only when used
import optgym.agents.nvp  # noqa: E402,F401  (registers nvp, nvp-autophase; torch loads only when used)
