"""The policy interface: budgets, results, lookup by name and by 'module:function'."""

from __future__ import annotations

import pytest

from optgym.agents import Budget, SearchResult, get_policy, policy_names
from optgym.envs.llvm import LlvmEnv
from optgym.errors import OptgymError


def test_budget_validation_and_clock():
    with pytest.raises(OptgymError):
        Budget()
    with pytest.raises(OptgymError):
        Budget(compilations=0)
    clock = Budget(compilations=3).clock()
    clock.spend(2)
    assert not clock.exhausted and clock.fraction == pytest.approx(2 / 3)
    clock.spend()
    assert clock.exhausted


def test_oz_policy_reproduces_with_opt():
    env = LlvmEnv("benchmark://builtin-v0/crc32")
    env.reset()
    result = get_policy("oz").search(env, Budget(compilations=1))
    assert result.reward == pytest.approx(1.0) and result.oz_ratio == pytest.approx(1.0)
    assert env.validate(result.state).ok
    env.close()


def user_policy(env, budget):
    """A user's policy as a plain function: mem2reg only."""
    env.step(env.actions.index("-mem2reg"))
    clock = budget.clock()
    clock.spend()
    from optgym.agents import result_from_env

    return result_from_env(env, list(env.actions_taken), clock, "mine")


def test_user_function_policy_and_unknown_names():
    policy = get_policy("test_agents_base:user_policy")
    env = LlvmEnv("benchmark://builtin-v0/crc32")
    env.reset()
    result = policy.search(env, Budget(compilations=1))
    assert isinstance(result, SearchResult) and result.steps == ["function(mem2reg)"]
    assert result.reward > 0
    env.close()
    assert "oz" in policy_names()
    with pytest.raises(OptgymError, match="unknown policy"):
        get_policy("no-such-policy")
    with pytest.raises(OptgymError, match="cannot load"):
        get_policy("no_such_module:f")


class UserPolicyClass:
    """A user's policy class, built by get_policy with keyword arguments."""

    def __init__(self, flag: str = "-mem2reg"):
        self.name = "mine"
        self.flag = flag

    def search(self, env, budget):
        return user_policy(env, budget)


def test_lazy_class_policies_are_instantiated():
    from optgym.agents import register_policy

    register_policy("test-lazy-class", "test_agents_base:UserPolicyClass")
    policy = get_policy("test-lazy-class", flag="-sroa")
    assert isinstance(policy, UserPolicyClass) and policy.flag == "-sroa"
    assert isinstance(get_policy("test_agents_base:UserPolicyClass"), UserPolicyClass)
