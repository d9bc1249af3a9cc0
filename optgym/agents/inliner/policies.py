"""Inlining policies by name, for the leaderboard's inlining task and ``optgym`` commands.

An inlining policy is a function ``f(env, budget) -> None`` that plays one episode of an
:class:`~optgym.envs.llvm.inline.InliningEnv` (made with ``allow_defer=True``) to its end; the
environment's state is then the row. Registered names: ``inliner`` (the shipped learned
inliner, or ``model=PATH``), ``oz`` (every call site left to LLVM: clang -Oz), ``heuristic``
(every call site decided by the environment's approximation of LLVM's heuristic), ``random``
(``share`` of the call sites forced to inline, as many not, the rest LLVM's; ``seed``) and
``greedy`` (flip call sites one at a time, keep what shrinks ``.text``, within the budget's
compilations). A user's ``module:function`` is taken as it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from optgym.errors import OptgymError

InlinePolicy = Callable[[Any, Any], None]


def play(env: Any, choose: Callable[[Any, Any], bool | None]) -> None:
    """Step ``env`` to the end of its episode, ``choose(episode, site)`` deciding each call
    site (None: LLVM decides)."""
    while env.compiled is None:
        site = env.episode.current
        choice = None if site is None else choose(env.episode, site)
        env.step(2 if choice is None else int(choice))


def replaying(decisions: Mapping[Any, bool]) -> Callable[[Any, Any], bool | None]:
    """A chooser that takes ``decisions`` (call site chain -> inline) and leaves the rest."""
    return lambda episode, site: decisions.get(site.chain)


def _inliner(model: str | None = None, point: str = "alone") -> InlinePolicy:
    from optgym.agents.inliner.policy import InlinerPolicy, shipped_policy

    policy = InlinerPolicy.load(model) if model else shipped_policy()
    if policy is None:
        raise OptgymError("no inliner model ships with this optgym; train one with "
                          "`optgym train inliner` and pass model=OUT/model/inliner.npz")
    chosen = policy.operating_point(point)
    return lambda env, budget: play(env, chosen)


def _oz() -> InlinePolicy:
    return lambda env, budget: play(env, lambda episode, site: None)


def _heuristic() -> InlinePolicy:
    return lambda env, budget: play(env, lambda episode, site: episode.heuristic_inlines(site))


def _random(seed: int = 0, share: float = 0.15) -> InlinePolicy:
    def run(env: Any, budget: Any) -> None:
        rng = random.Random(f"{seed}:{env.benchmark.uri}")

        def choose(episode: Any, site: Any) -> bool | None:
            r = rng.random()
            return True if r < share else False if r < 2 * share else None

        play(env, choose)
    return run


def _greedy() -> InlinePolicy:
    def run(env: Any, budget: Any) -> None:
        from optgym.agents.inliner.search import Evaluator, greedy

        evaluator = Evaluator(env.compiler, env.benchmark, text=env.text)
        compilations = getattr(budget, "compilations", None)
        found = greedy(evaluator, None if compilations is None else max(1, compilations - 1))
        play(env, replaying(found.decisions))
    return run


INLINE_POLICIES: dict[str, Callable[..., InlinePolicy]] = {
    "inliner": _inliner, "oz": _oz, "heuristic": _heuristic, "random": _random,
    "greedy": _greedy,
}


def get_inline_policy(name: str, **kwargs: Any) -> InlinePolicy:
    """An inlining policy by registered name (with its keyword arguments) or ``module:function``."""
    if name in INLINE_POLICIES:
        return INLINE_POLICIES[name](**kwargs)
    if ":" in name:
        from optgym.agents.registry import import_target

        fn = import_target(name, "inlining policy")
        return fn(**kwargs) if kwargs else fn
    raise OptgymError(f"unknown inlining policy {name!r}; known: {', '.join(INLINE_POLICIES)}, "
                      "or a 'module:function' f(env, budget) that plays an episode")
