"""Search policies for pass ordering: random, greedy, beam, evolve and oz-climb.

Every policy searches on a private working environment that shares the caller's compiler worker,
and keeps a :class:`~optgym.agents.transpositions.TranspositionCache` (``cache=``, shared by a
process's searches in parallel runs, or a fresh one), so a transition met twice costs LLVM nothing. Every pass sequence evaluated (a whole
sequence replayed, or one action tried from a state) spends one compilation of the budget;
asking again for a sequence already measured is free, because nothing is compiled.

The policies and what they are for:

* ``random``: CompilerGym's random search. Episodes of random actions, each ended after
  ``patience`` steps without improvement; the best state of any episode wins.
* ``greedy``: at each step try every action (most promising first) and keep the best; stop when
  no action improves.
* ``beam``: greedy with the ``width`` best states kept at each depth.
* ``evolve``: a genetic search over sequences of actions *and* whole standard pipelines
  (``default<Oz>`` ...): a population seeded with sequences
  that do well on programs in general, tournament selection, cut-and-splice crossover, several
  mutations and elitism.
* ``oz-climb``: start from ``default<Oz>`` and hill-climb the passes around it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from optgym.agents.base import Budget, BudgetClock, SearchResult, register_policy, result_from_env
from optgym.agents.transpositions import Transition, TranspositionCache
from optgym.envs.llvm import LlvmEnv
from optgym.errors import CompilerCrash, LlvmError
from optgym.llvm.passes import FLAGS_AND_PIPELINES, Action, join_steps

OZ = "default<Oz>"

#: Passes that usually shrink a module or enable something that does (LLVM's -Oz pipeline is
#: built from these); search draws them more often than passes that mostly grow code
#: (unrolling, vectorizing, reg2mem, instrumentation).
SIZE_STEPS: tuple[str, ...] = (
    OZ,
    "default<Os>",
    "function(gvn)",
    "function(newgvn)",
    "function(early-cse<memssa>)",
    "function(early-cse)",
    "function(instcombine<no-verify-fixpoint>)",
    "function(simplifycfg)",
    "function(sroa)",
    "function(mem2reg)",
    "function(dse)",
    "function(adce)",
    "function(bdce)",
    "function(sccp)",
    "function(reassociate)",
    "function(instsimplify)",
    "function(memcpyopt)",
    "function(correlated-propagation)",
    "function(jump-threading)",
    "function(mldst-motion)",
    "function(loop(loop-deletion))",
    "function(loop(indvars))",
    "function(loop-mssa(licm))",
    "function(loop-simplify)",
    "function(tailcallelim)",
    "function(dce)",
    "function(aggressive-instcombine)",
    "function(div-rem-pairs)",
    "function(mergeicmps)",
    "attributor",
    "ipsccp",
    "globalopt",
    "globaldce",
    "deadargelim",
    "mergefunc",
    "constmerge",
    "cgscc(inline)",
    "cgscc(function-attrs)",
    "cgscc(argpromotion)",
    "partial-inliner",
    "called-value-propagation",
    "strip-dead-prototypes",
)

#: Sequences that beat or match -Oz on many programs (found on the builtin-v0 train split and
#: csmith train seeds); every evolve and oz-climb search measures these first, so even a budget
#: of a few compilations is spent well.
PORTFOLIO: tuple[tuple[str, ...], ...] = (
    (OZ,),
    (OZ, OZ),
    (OZ, "attributor", OZ),
    (OZ, "function(newgvn)"),
    (OZ, "ipsccp", "globalopt", "deadargelim", "globaldce", OZ),
    (OZ, "function(early-cse<memssa>)", "function(dse)", "function(adce)", OZ),
    (OZ, OZ, OZ),
    ("function(sroa)", OZ, "function(gvn)", "function(instcombine<no-verify-fixpoint>)"),
)


#: How much likelier evolve and oz-climb draw a step of :data:`SIZE_STEPS` than any other.
SIZE_WEIGHT = 4.0


class BudgetSpent(Exception):
    """Raised inside a search when the budget is used up; the search returns what it has."""


@dataclass(eq=False)
class Node:
    """A module state a search reached: the actions that lead to it from the benchmark (the
    pipeline text of each), its instruction count and content hash and, once it is needed, a
    working environment holding the module (``env``; None while the state is known only from
    the transposition cache)."""

    actions: tuple[str, ...]
    count: int
    digest: str
    parent: Node | None = None
    env: LlvmEnv | None = None

    @property
    def actions_taken(self) -> list[str]:
        """The actions that lead here, as pipeline texts."""
        return list(self.actions)

    def close(self) -> None:
        """Free the working environment (the state stays known; it is rebuilt if needed)."""
        if self.env is not None:
            self.env.close()
            self.env = None


#: What a working environment observes with every step: the count, and the hash that keys the
#: transposition cache.
_STEP_OBSERVATIONS = ("IrInstructionCount", "IrHash")


class SearchState:
    """The shared machinery of one search: a working environment, the clock, the best so far.

    ``evaluate(steps)`` measures the instruction count after a whole sequence (one compilation,
    free when the sequence was measured before); ``try_step(node, action)`` measures one
    action from a state (one compilation). Both consult the transposition cache (the policy's,
    or a fresh one) first: a known transition costs LLVM nothing, and a state reached only
    through known transitions is built (forked from its nearest built ancestor and replayed)
    only when a step from it is not known.
    """

    def __init__(self, env: LlvmEnv, budget: Budget, policy: str, seed: int | None = None,
                 action_space: str | None = None, snapshots: int = 48,
                 cache: TranspositionCache | None = None):
        if env.benchmark is None:
            raise LlvmError("reset the environment at a benchmark before searching")
        self.user_env = env
        self.policy = policy
        self.clock: BudgetClock = budget.clock()
        self.rng = np.random.default_rng(seed)
        self.cache = cache if cache is not None else TranspositionCache(max_entries=200_000)
        # A private environment on the caller's worker: no per-step observation, and a reward
        # that needs no runtime, so a step costs one pass and a hash.
        self.env = env.sibling(
            benchmark=env.benchmark,
            observation_space=None,
            reward_space="IrInstructionCount",
            action_space=action_space or env.actions,
        )
        self.benchmark = env.benchmark
        self.env.reset(options={"benchmark": self.benchmark})
        self.index = {a.pipeline: i for i, a in enumerate(self.env.actions.actions)}
        self.o0_count = int(self.env.observe("IrInstructionCount"))
        self.oz_count = int(self.env.observe("IrInstructionCountOz"))
        self.root = Node((), self.o0_count, str(self.env.observe("IrHash")), env=self.env)
        self.memo: dict[tuple[str, ...], int | None] = {(): self.o0_count}
        self.best: tuple[str, ...] = ()
        self.best_count = self.o0_count
        # States after recently measured sequences: a sequence that extends one of them (a
        # mutation near the end, the same leading -Oz) costs only its new steps.
        self.max_snapshots = snapshots
        self.snapshots: OrderedDict[tuple[str, ...], Node] = OrderedDict()

    # -- measuring ---------------------------------------------------------------------------
    def spend(self) -> None:
        """Take one compilation from the budget, or raise :class:`BudgetSpent`."""
        if self.clock.exhausted:
            raise BudgetSpent
        self.clock.spend()

    def offer(self, steps: Sequence[str], count: int | None) -> bool:
        """Keep ``steps`` if it beats the best so far (fewer instructions, then fewer steps)."""
        if count is None:
            return False
        if count < self.best_count or (count == self.best_count and len(steps) < len(self.best)):
            self.best, self.best_count = tuple(steps), count
            return True
        return False

    def evaluate(self, steps: Sequence[str]) -> int | None:
        """Instruction count after ``steps`` from the benchmark (None if LLVM fails on them).

        Steps must be pipeline texts of the working environment's action set.
        """
        key = tuple(steps)
        if key in self.memo:
            return self.memo[key]
        unknown = [p for p in key if p not in self.index]
        if unknown:
            raise LlvmError(f"{unknown[0]!r} is not an action of {self.env.actions.name}")
        self.spend()
        node, done = self.root, 0
        for i in range(len(key) - 1, 0, -1):
            snap = self.snapshots.get(key[:i])
            if snap is not None:
                self.snapshots.move_to_end(key[:i])
                node, done = snap, i
                break
        env: LlvmEnv | None = None
        count: int | None = None
        try:
            for i in range(done, len(key)):
                ran = self._ran(node, key[i])
                hit = self.cache.get(node.digest, ran)
                if hit is not None and env is None:  # known: no module needed yet
                    node = Node(key[:i + 1], hit.instruction_count, hit.result_hash, node)
                    continue
                if env is None:
                    env = self._build(node).fork()
                changed = env.apply_action(self.index[key[i]], _STEP_OBSERVATIONS)
                digest, now = str(env.observe("IrHash")), int(env.observe("IrInstructionCount"))
                if hit is None:
                    self.cache.put(node.digest, ran, Transition(digest, now, changed))
                node = Node(key[:i + 1], now, digest, node)
            count = node.count
        except (CompilerCrash, LlvmError):  # a pass LLVM rejects or dies on: not a candidate
            if env is not None:
                env.close()
        else:
            node.env = env
            self.snapshots[key] = node
            while len(self.snapshots) > self.max_snapshots:
                self.snapshots.popitem(last=False)[1].close()
        self.memo[key] = count
        self.offer(key, count)
        return count

    def start(self) -> Node:
        """The unmodified benchmark, as a state to step from (for step-by-step policies)."""
        return Node((), self.root.count, self.root.digest, self.root)

    def try_step(self, node: Node, action: int) -> tuple[Node | None, int | None]:
        """The state ``action`` leads to from ``node``, with its instruction count.

        The state is None when the action crashed LLVM.
        """
        self.spend()
        pipeline = self.env.actions[action].pipeline
        ran = self._ran(node, pipeline)
        hit = self.cache.get(node.digest, ran)
        actions = node.actions + (pipeline,)
        if hit is not None:
            child = Node(actions, hit.instruction_count, hit.result_hash, node)
        else:
            env: LlvmEnv | None = None
            try:
                env = self._build(node).fork()
                changed = env.apply_action(action, _STEP_OBSERVATIONS)
            except (CompilerCrash, LlvmError):
                if env is not None:
                    env.close()
                return None, None
            child = Node(actions, int(env.observe("IrInstructionCount")),
                         str(env.observe("IrHash")), node, env)
            self.cache.put(node.digest, ran, Transition(child.digest, child.count, changed))
        self.memo.setdefault(actions, child.count)
        self.offer(actions, child.count)
        return child, child.count

    def _ran(self, node: Node, pipeline: str) -> str:
        """What a step from ``node`` runs, as the cache's key: the always-inliner first, from
        the benchmark itself, where the environment keeps that promise."""
        if node.actions:
            return pipeline
        return join_steps(self.env.episode_steps([pipeline]))

    def _build(self, node: Node) -> LlvmEnv:
        """A working environment holding ``node``'s module: its own, or one forked from its
        nearest ancestor that has one and stepped through the actions in between."""
        if node.env is not None:
            return node.env
        base = node.parent
        while base.env is None:
            base = base.parent
        env = base.env.fork()
        try:
            for pipeline in node.actions[len(base.actions):]:
                env.apply_action(self.index[pipeline])
        except BaseException:
            env.close()
            raise
        node.env = env
        return env

    # -- the result --------------------------------------------------------------------------
    def result(self) -> SearchResult:
        """The best sequence, measured in the caller's environment."""
        steps = list(self.best)
        clock = self.clock
        self.close()
        return result_from_env(self.user_env, steps, clock, self.policy)

    def close(self) -> None:
        """Release the working environments (the worker stays with the caller)."""
        while self.snapshots:
            self.snapshots.popitem()[1].close()
        if self.env is not None:
            self.env.close()
            self.env = None  # type: ignore[assignment]
            self.root.env = None

    def action_order(self, actions: Sequence[Action]) -> list[int]:
        """Action indices, most promising for code size first (then the action set's order)."""
        rank = {p: i for i, p in enumerate(SIZE_STEPS)}
        return sorted(range(len(actions)), key=lambda i: (rank.get(actions[i].pipeline, 10**6), i))


def _run(state: SearchState, body: Callable[[SearchState], None]) -> SearchResult:
    """Run a search body until it finishes or the budget is spent, then return the best."""
    try:
        body(state)
    except BudgetSpent:
        pass
    except BaseException:
        state.close()
        raise
    return state.result()


class RandomSearch:
    """CompilerGym's random search: random episodes, each ended after ``patience`` steps
    without improvement (or ``max_length`` steps); keeps the best state seen."""

    name = "random"

    def __init__(self, patience: int = 10, max_length: int = 200, seed: int | None = None,
                 cache: TranspositionCache | None = None):
        self.patience = patience
        self.max_length = max_length
        self.seed = seed
        self.cache = cache

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        state = SearchState(env, budget, self.name, self.seed, cache=self.cache)
        n = len(state.env.actions)

        def body(s: SearchState) -> None:
            while True:
                current = s.start()
                try:
                    best_here, since = s.o0_count, 0
                    while since < self.patience and len(current.actions_taken) < self.max_length:
                        child, count = s.try_step(current, int(s.rng.integers(n)))
                        if child is None:
                            break
                        current.close()
                        current = child
                        if count < best_here:
                            best_here, since = count, 0
                        else:
                            since += 1
                finally:
                    current.close()

        return _run(state, body)


class GreedySearch:
    """At each step try every action and keep the one that shrinks the module most; stop when
    none does. Actions are tried most-promising first, so a budget that ends mid-sweep still
    takes the best of the likeliest ones."""

    name = "greedy"

    def __init__(self, seed: int | None = None, cache: TranspositionCache | None = None):
        self.seed = seed
        self.cache = cache

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        state = SearchState(env, budget, self.name, self.seed, cache=self.cache)

        def body(s: SearchState) -> None:
            order = s.action_order(s.env.actions)
            current, count = s.start(), s.o0_count
            try:
                while True:
                    best: tuple[int, Node] | None = None
                    try:
                        for a in order:
                            child, c = s.try_step(current, a)
                            if child is None:
                                continue
                            if c < count and (best is None or c < best[0]):
                                if best is not None:
                                    best[1].close()
                                best = (c, child)
                            else:
                                child.close()
                    except BudgetSpent:
                        pass
                    if best is None:
                        return
                    current.close()
                    count, current = best
                    if s.clock.exhausted:
                        return
            finally:
                current.close()

        return _run(state, body)


class BeamSearch:
    """Breadth-first search that keeps the ``width`` smallest distinct modules at each depth;
    stops when a depth improves on nothing or after ``max_depth`` steps."""

    name = "beam"

    def __init__(self, width: int = 4, max_depth: int = 40, seed: int | None = None,
                 cache: TranspositionCache | None = None):
        if width < 1:
            raise LlvmError(f"beam width must be at least 1, not {width}")
        self.width = width
        self.max_depth = max_depth
        self.seed = seed
        self.cache = cache

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        state = SearchState(env, budget, self.name, self.seed, cache=self.cache)

        def body(s: SearchState) -> None:
            order = s.action_order(s.env.actions)
            beam: list[tuple[int, Node]] = [(s.o0_count, s.start())]
            try:
                for _ in range(self.max_depth):
                    before = s.best_count
                    children: list[tuple[int, Node]] = []
                    seen: set[int] = set()
                    try:
                        # Interleave the beam's states so a budget ending mid-depth has tried
                        # the likeliest actions on every state.
                        for a in order:
                            for _, parent in beam:
                                child, c = s.try_step(parent, a)
                                if child is None:
                                    continue
                                # Equal counts from one depth are usually one module; keep one.
                                if c in seen:
                                    child.close()
                                    continue
                                seen.add(c)
                                children.append((c, child))
                    except BudgetSpent:
                        pass
                    children.sort(key=lambda t: t[0])
                    for _, child in children[self.width:]:
                        child.close()
                    for _, parent in beam:
                        parent.close()
                    beam = children[: self.width]
                    if not beam or s.best_count >= before or s.clock.exhausted:
                        return
            finally:
                for _, e in beam:
                    e.close()

        return _run(state, body)


def _vocabulary() -> tuple[list[str], np.ndarray]:
    """The steps evolve and oz-climb draw from (the flags and the standard pipelines) and the
    probability of drawing each: steps of :data:`SIZE_STEPS` are ``SIZE_WEIGHT`` times likelier."""
    steps = [a.pipeline for a in FLAGS_AND_PIPELINES.actions]
    favoured = set(SIZE_STEPS)
    weights = np.array([SIZE_WEIGHT if s in favoured else 1.0 for s in steps])
    return steps, weights / weights.sum()


class _Mutator:
    """Random edits of step sequences, shared by evolve and oz-climb."""

    def __init__(self, rng: np.random.Generator, max_length: int):
        self.rng = rng
        self.max_length = max_length
        self.steps, self.p = _vocabulary()

    def draw(self) -> str:
        return self.steps[int(self.rng.choice(len(self.steps), p=self.p))]

    def random_sequence(self, length: int) -> tuple[str, ...]:
        return tuple(self.draw() for _ in range(length))

    def mutate(self, seq: tuple[str, ...]) -> tuple[str, ...]:
        s = list(seq)
        op = int(self.rng.integers(6))
        if op == 0 or not s:  # insert
            s.insert(int(self.rng.integers(len(s) + 1)), self.draw())
        elif op == 1 and len(s) > 1:  # delete
            del s[int(self.rng.integers(len(s)))]
        elif op == 2:  # replace
            s[int(self.rng.integers(len(s)))] = self.draw()
        elif op == 3 and len(s) > 1:  # swap neighbours
            i = int(self.rng.integers(len(s) - 1))
            s[i], s[i + 1] = s[i + 1], s[i]
        elif op == 4:  # append (the tail after a pipeline is where most gains are)
            s.append(self.draw())
        else:  # end with -Oz again: it cleans up after whatever came before
            s.append(OZ)
        return tuple(s[: self.max_length])

    def crossover(self, a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        """Cut-and-splice: a prefix of one parent and a suffix of the other."""
        i = int(self.rng.integers(len(a) + 1))
        j = int(self.rng.integers(len(b) + 1))
        return (a[:i] + b[j:])[: self.max_length]


class EvolveSearch:
    """A genetic search over pass sequences (standard pipelines, flags and clean-ups).

    The first generation is :data:`PORTFOLIO` plus random sequences; each next generation keeps
    the ``elite`` best, and fills up with children of tournament-selected parents (crossover
    with probability ``crossover``, then one or more mutations).
    """

    name = "evolve"

    def __init__(self, population: int = 24, elite: int = 4, crossover: float = 0.5,
                 tournament: int = 3, max_length: int = 40, seed: int | None = None,
                 cache: TranspositionCache | None = None):
        self.population = population
        self.elite = elite
        self.crossover = crossover
        self.tournament = tournament
        self.max_length = max_length
        self.seed = seed
        self.cache = cache

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        state = SearchState(env, budget, self.name, self.seed, action_space=FLAGS_AND_PIPELINES.name,
                            cache=self.cache)

        def fitness(s: SearchState, seq: tuple[str, ...]) -> tuple[float, int]:
            c = s.memo.get(seq)
            return (math.inf if c is None else c, len(seq))

        def body(s: SearchState) -> None:
            mut = _Mutator(s.rng, self.max_length)
            pop: list[tuple[str, ...]] = []
            for seq in PORTFOLIO:
                s.evaluate(seq)
                pop.append(seq)
            while len(pop) < self.population:
                seq = mut.random_sequence(int(s.rng.integers(3, 12)))
                if s.rng.random() < 0.5:
                    seq = (OZ,) + seq
                s.evaluate(seq)
                pop.append(seq)
            stale = 0
            while True:
                pop.sort(key=lambda q: fitness(s, q))
                nxt = pop[: self.elite]
                seen = set(nxt)
                while len(nxt) < self.population:
                    child = self._child(s, pop, mut, fitness)
                    tries = 0
                    while (child in seen or child in s.memo) and tries < 20:
                        child = mut.mutate(child)
                        tries += 1
                    if child in s.memo:
                        stale += 1
                        if stale > 2000:  # the reachable space is exhausted
                            return
                    s.evaluate(child)
                    seen.add(child)
                    nxt.append(child)
                pop = nxt

        return _run(state, body)

    def _child(self, s: SearchState, pop: list[tuple[str, ...]], mut: _Mutator,
               fitness: Callable[[SearchState, tuple[str, ...]], tuple[float, int]]
               ) -> tuple[str, ...]:
        def pick() -> tuple[str, ...]:
            idx = s.rng.choice(len(pop), size=min(self.tournament, len(pop)), replace=False)
            return min((pop[int(i)] for i in idx), key=lambda q: fitness(s, q))

        child = pick()
        if s.rng.random() < self.crossover:
            child = mut.crossover(child, pick())
        child = mut.mutate(child)
        while s.rng.random() < 0.3:
            child = mut.mutate(child)
        return child


class OzClimbSearch:
    """Start from ``default<Oz>`` (and the :data:`PORTFOLIO` variations on it), then hill-climb:
    random edits of the best sequence, kept when they shrink the module (or keep its size with
    fewer steps). Restarts from a random portfolio entry after ``patience`` failed edits."""

    name = "oz-climb"

    def __init__(self, patience: int = 200, max_length: int = 40, seed: int | None = None,
                 cache: TranspositionCache | None = None):
        self.patience = patience
        self.max_length = max_length
        self.seed = seed
        self.cache = cache

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        state = SearchState(env, budget, self.name, self.seed, action_space=FLAGS_AND_PIPELINES.name,
                            cache=self.cache)

        def body(s: SearchState) -> None:
            mut = _Mutator(s.rng, self.max_length)
            for seq in PORTFOLIO:
                s.evaluate(seq)
            current = s.best if s.best else (OZ,)
            current_count = s.memo.get(current) or s.best_count
            failures, misses = 0, 0
            while True:
                cand = mut.mutate(current)
                if cand in s.memo:
                    misses += 1
                    if misses > 5000:
                        return
                    continue
                c = s.evaluate(cand)
                if c is not None and (c < current_count or (c == current_count and len(cand) < len(current))):
                    current, current_count, failures = cand, c, 0
                else:
                    failures += 1
                    if failures >= self.patience:
                        current = PORTFOLIO[int(s.rng.integers(len(PORTFOLIO)))]
                        current_count = s.memo.get(current) or math.inf
                        failures = 0

        return _run(state, body)


register_policy("random", RandomSearch)
register_policy("greedy", GreedySearch)
register_policy("beam", BeamSearch)
register_policy("evolve", EvolveSearch)
register_policy("oz-climb", OzClimbSearch)

__all__ = [
    "PORTFOLIO", "SIZE_STEPS", "BeamSearch", "BudgetSpent", "EvolveSearch",
    "GreedySearch", "Node", "OzClimbSearch", "RandomSearch", "SearchState",
]
