"""Searching inlining decisions by compiling them: random decision vectors, a greedy pass over
call sites, and a long local search (the ceiling a learned inliner is judged against).

Every candidate is a set of decisions (call site -> inline or not) compiled once with the real
opt-19 and clang -Oz's pipeline; call sites a candidate does not name are LLVM's to decide, so
the empty set is clang -Oz. A search learns which call sites LLVM reaches, and what it decides
there, from the remarks of the compilations it makes (:func:`optgym.llvm.inlining.
replay_with_remarks`), and flips those.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optgym.envs.llvm.inline import CallSite, Compiled, InlineCompiler, InlineEpisode
from optgym.errors import LlvmError, OptgymError
from optgym.llvm.inlining import Chain, LlvmDecisions


@dataclass(frozen=True, order=True)
class Cost:
    """What a candidate compiles to, ordered by the objective first (``.text`` bytes or IR
    instructions), then IR instructions."""

    objective: int
    instructions: int


@dataclass
class Evaluator:
    """Compiles candidates of one module (each distinct one once) and keeps what LLVM
    reported deciding."""

    compiler: InlineCompiler
    benchmark: Any
    text: bool = True
    remarks: bool = True
    compilations: int = 0
    known: LlvmDecisions = field(default_factory=LlvmDecisions)
    _memo: dict[frozenset, Cost] = field(default_factory=dict)
    _outputs: dict[str, Cost] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.prepared = self.compiler.prepare(self.benchmark)

    @property
    def oz(self) -> Cost:
        """clang -Oz's cost."""
        objective = self.prepared.oz_text if self.text else self.prepared.oz_count
        return Cost(objective, self.prepared.oz_count)

    def __call__(self, decisions: Mapping[Chain, bool]) -> Cost | None:
        """The cost of ``decisions`` (None when LLVM fails on them or runs out of time)."""
        key = frozenset(decisions.items())
        if key in self._memo:
            return self._memo[key]
        self.compilations += 1
        try:
            compiled = self._compile(decisions)
        except LlvmError:
            self._memo[key] = None  # type: ignore[assignment]
            return None
        if compiled.llvm_decisions:
            self.known.update(compiled.llvm_decisions)
        cost = self._memo[key] = self._cost(compiled)
        return cost

    def _compile(self, decisions: Mapping[Chain, bool]) -> Compiled:
        # Judged by .text, an output identical to one already measured costs no llc run.
        compiled = self.compiler.compile(self.prepared, decisions, text=False,
                                         what=self.benchmark.uri, remarks=self.remarks)
        if not self.text:
            return compiled
        digest = hashlib.blake2b(compiled.bitcode, digest_size=16).hexdigest()
        known = self._outputs.get(digest)
        if known is None:
            from optgym.llvm import toolchain
            from optgym.llvm.core import elf_text_size

            size = elf_text_size(toolchain.object_file(compiled.bitcode, what=self.benchmark.uri))
            known = self._outputs[digest] = Cost(size, compiled.instruction_count)
        return Compiled(compiled.bitcode, compiled.instruction_count, known.objective,
                        compiled.always_inline_calls, compiled.llvm_decisions)

    def _cost(self, compiled: Compiled) -> Cost:
        if self.text:
            return Cost(int(compiled.text_size), compiled.instruction_count)
        return Cost(compiled.instruction_count, compiled.instruction_count)


def walk(prepared: Any, choose: Callable[[InlineEpisode, CallSite], bool | None]
         ) -> tuple[InlineEpisode, dict[Chain, bool]]:
    """Run an episode's model with ``choose`` deciding each call site: True/False decide it,
    None leaves it to LLVM (the model then follows LLVM's heuristic as it approximates it).
    Returns the episode and the decisions that were made (None ones left out)."""
    episode = InlineEpisode(prepared.observation, prepared.names)
    while episode.current is not None:
        episode.decide(choose(episode, episode.current))
    return episode, dict(episode.decisions)


def heuristic_decisions(prepared: Any) -> dict[Chain, bool]:
    """Every call site decided by the environment's approximation of LLVM's heuristic."""
    return walk(prepared, lambda episode, site: episode.heuristic_inlines(site))[1]


def random_decisions(prepared: Any, rng: random.Random, share: float = 0.15
                     ) -> dict[Chain, bool]:
    """A random decision vector: ``share`` of the call sites forced to inline, as many forced
    not to, the rest left to LLVM (the blind search of the issue that measured the room)."""
    def choose(episode: InlineEpisode, site: CallSite) -> bool | None:
        r = rng.random()
        return True if r < share else False if r < 2 * share else None

    return walk(prepared, choose)[1]


def _effective(evaluator: Evaluator, decisions: Mapping[Chain, bool],
               episode: InlineEpisode, site: CallSite) -> bool:
    if site.chain in decisions:
        return decisions[site.chain]
    known = evaluator.known.get(site.chain, episode.functions[site.caller].name)
    return episode.heuristic_inlines(site) if known is None else known


def _sites(evaluator: Evaluator, decisions: Mapping[Chain, bool]
           ) -> list[tuple[Chain, bool, str, bool]]:
    """Call sites the model reaches under ``decisions`` (each decided as LLVM did where it
    told us), with their decision, callee's name and whether LLVM reported reaching them."""
    out: list[tuple[Chain, bool, str, bool]] = []

    def choose(episode: InlineEpisode, site: CallSite) -> bool:
        value = _effective(evaluator, decisions, episode, site)
        reached = evaluator.known.get(site.chain, episode.functions[site.caller].name) is not None
        out.append((site.chain, value, episode.functions[site.callee].name, reached))
        return value

    walk(evaluator.prepared, choose)
    return out


@dataclass
class SearchResult:
    """The best decisions a search found and their cost, with the compilations it made."""

    decisions: dict[Chain, bool]
    cost: Cost
    compilations: int
    trace: list[tuple[int, int]] = field(default_factory=list)  # (compilations, best objective)


def greedy(evaluator: Evaluator, budget: int | None = None) -> SearchResult:
    """One pass over the call sites LLVM reaches (bottom-up, as the inliner walks), flipping
    each one's decision and keeping the flip when the module gets smaller; at most ``budget``
    compilations (-Oz's included)."""
    best_decisions: dict[Chain, bool] = {}
    best = evaluator(best_decisions) or evaluator.oz
    trace = [(evaluator.compilations, best.objective)]
    done: set[Chain] = set()
    progress = True
    while progress:
        progress = False
        for chain, value, _, reached in _sites(evaluator, best_decisions):
            if budget is not None and evaluator.compilations >= budget:
                return SearchResult(best_decisions, best, evaluator.compilations, trace)
            if chain in done or not (reached or chain in best_decisions):
                continue  # a call site LLVM did not reach: flipping it changes nothing
            done.add(chain)
            candidate = {**best_decisions, chain: not value}
            cost = evaluator(candidate)
            if cost is not None and cost < best:
                best, best_decisions, progress = cost, candidate, True
                trace.append((evaluator.compilations, best.objective))
                break  # the walk changes after a kept flip: walk again from the start
    return SearchResult(best_decisions, best, evaluator.compilations, trace)


def local_search(evaluator: Evaluator, budget: int, rng: random.Random,
                 starts: tuple[Mapping[Chain, bool], ...] = ()) -> SearchResult:
    """A long randomized local search (the ceiling): from the best of clang -Oz and
    ``starts``, flip one call site, several, or every call site of one callee (inlining a
    local function into all its callers deletes it), or drop a decision; keep a candidate that
    is no larger (sideways moves let the search cross plateaus), remember the smallest.
    ``budget`` compilations in all."""
    current: dict[Chain, bool] = {}
    cost = evaluator(current)
    if cost is None:
        raise OptgymError(f"{evaluator.benchmark.uri}: clang -Oz's pipeline fails on it")
    for start in starts:
        start_cost = evaluator(start)
        if start_cost is not None and start_cost < cost:
            current, cost = dict(start), start_cost
    best, best_decisions = cost, dict(current)
    trace = [(evaluator.compilations, best.objective)]
    stale = 0
    while evaluator.compilations < budget and stale < 2000:
        sites = _sites(evaluator, current)
        reached = [s[:3] for s in sites if s[3] or s[0] in current]
        if not reached:
            break
        candidate = _move(rng, current, reached)
        before = evaluator.compilations
        new = evaluator(candidate)
        if evaluator.compilations == before:
            stale += 1  # a candidate already measured
        if new is None:
            continue
        if new <= cost:
            current, cost = candidate, new
        if new < best:
            best, best_decisions = new, dict(candidate)
            trace.append((evaluator.compilations, best.objective))
    return SearchResult(best_decisions, best, evaluator.compilations, trace)


def _move(rng: random.Random, current: dict[Chain, bool],
          reached: list[tuple[Chain, bool, str]]) -> dict[Chain, bool]:
    """One step of :func:`local_search` from ``current``."""
    move = rng.random()
    candidate = dict(current)
    if move < 0.5:
        chain, value, _ = rng.choice(reached)
        candidate[chain] = not value
    elif move < 0.7:
        for chain, value, _ in rng.sample(reached, min(len(reached), rng.randint(2, 4))):
            candidate[chain] = not value
    elif move < 0.9:
        callee = rng.choice(reached)[2]
        inline = rng.random() < 0.7
        for chain, _, name in reached:
            if name == callee:
                candidate[chain] = inline
    elif current:
        del candidate[rng.choice(sorted(current))]
    return candidate
