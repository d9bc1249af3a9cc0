"""A trained PPO model as a pass-ordering policy (``get_policy("ppo")``), and its evaluation."""

from __future__ import annotations

import functools
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from optgym.agents.base import Budget, SearchResult, result_from_env
from optgym.agents.ppo.export import load_exported
from optgym.agents.ppo.observation import EpisodeTracker, encode_observation
from optgym.envs.llvm import LlvmEnv
from optgym.errors import OptgymError

#: The model that ships with the package (used when PpoPolicy gets no checkpoint).
SHIPPED_CHECKPOINT = Path(__file__).parent / "model" / "ppo-autophase.pt"


class PpoPolicy:
    """A trained PPO model as a pass-ordering policy.

    Spends the budget on a greedy rollout of the model (the most likely unmasked pass at each
    step), then on sampled rollouts, keeping the shortest best prefix seen; with
    ``fallback_oz`` one compilation is kept for -Oz, returned when it is smaller.

    Args:
        checkpoint: an exported ``.pt`` (see :func:`~optgym.agents.ppo.export.export_policy`)
            or an SB3 ``.zip``; default: the model shipped in the package.
        seed: seeds the sampled rollouts.
    """

    name = "ppo"

    def __init__(self, checkpoint: str | Path | None = None, *, device: str = "cpu",
                 fallback_oz: bool = True, seed: int = 0):
        path = Path(checkpoint) if checkpoint else SHIPPED_CHECKPOINT
        if checkpoint is None and not path.exists():
            raise OptgymError("no PPO model ships with this build; pass checkpoint=PATH "
                              "(train one with `optgym train ppo-llvm`)")
        self.policy, self.info = load_exported(path, device)
        self.fallback_oz = fallback_oz
        self.seed = seed

    def _act(self, obs: dict[str, np.ndarray], mask: np.ndarray, deterministic: bool) -> int:
        action, _ = self.policy.predict(obs, action_masks=mask, deterministic=deterministic)
        return int(np.asarray(action).reshape(-1)[0])

    def search(self, env: LlvmEnv, budget: Budget) -> SearchResult:
        """Roll the model out within ``budget`` on the benchmark ``env`` is reset at."""
        if env.benchmark is None:
            raise OptgymError("reset the environment at a benchmark before searching")
        clock = budget.clock()
        wanted = self.info.get("action_space") or env.actions.name
        # The model's own action set; a sibling shares env's compiler worker.
        work = env.sibling(observation_space=None, action_space=wanted)
        try:
            work.reset(options={"benchmark": env.benchmark})
            best_steps, best_count = self._rollouts(work, clock, budget)
            if self.fallback_oz:
                clock.spend()
                if int(work.observe("IrInstructionCountOz")) <= best_count:
                    best_steps = ["default<Oz>"]
        finally:
            work.close()
        return result_from_env(env, best_steps, clock, self.name)

    def _rollouts(self, work: Any, clock: Any, budget: Budget) -> tuple[list[str], int]:
        """A greedy rollout, then sampled ones while the budget lasts: the best prefix seen
        and its instruction count."""
        mode, length = self.info["observation"], int(self.info["episode_length"])
        tracker = EpisodeTracker(len(work.actions), length)
        reserve = 1 if self.fallback_oz else 0
        limit = budget.compilations

        def left() -> bool:
            return not clock.exhausted and (limit is None or clock.compilations < limit - reserve)

        best_count = int(work.observe("IrInstructionCount"))
        best_steps: list[str] = []
        rollout, generator = 0, torch.Generator().manual_seed(self.seed)
        while left():
            if rollout:
                work.reset(options={"benchmark": work.benchmark})
                torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            tracker.reset()
            steps: list[str] = []
            while left() and len(steps) < length:
                obs = encode_observation(work, tracker, mode, max_nodes=self.info["max_nodes"],
                                         max_edges=self.info["max_edges"])
                action = self._act(obs, tracker.mask(self.info.get("mask_no_ops", True)),
                                   deterministic=rollout == 0)
                _, _, terminated, _, info = work.step(action)
                clock.spend()
                if "error" in info:  # the pass crashed LLVM; the module is as it was
                    break
                steps.append(work.actions[action].pipeline)
                tracker.record(action, not info.get("action_had_no_effect", False))
                count = int(work.observe("IrInstructionCount"))
                if count < best_count:
                    best_count, best_steps = count, list(steps)
                if terminated:
                    break
            rollout += 1
        return best_steps, best_count


def ppo_policy(**kwargs: Any) -> PpoPolicy:
    """The factory behind ``get_policy("ppo", checkpoint=..., ...)``."""
    return PpoPolicy(**kwargs)


# -- evaluation --------------------------------------------------------------------------------
def evaluate_chunk(checkpoint: str, budget: int, fallback_oz: bool, uris: list[str]) -> list[dict]:
    """Run a checkpoint's policy on some benchmarks (one worker's share of an evaluation)."""
    from optgym.envs.llvm import LlvmEnv

    torch.set_num_threads(1)
    policy = PpoPolicy(checkpoint, fallback_oz=fallback_oz)
    env = LlvmEnv(observation_space=None, action_space=policy.info["action_space"])
    rows = []
    try:
        for uri in uris:
            env.reset(options={"benchmark": uri})
            started = time.monotonic()
            result = policy.search(env, Budget(compilations=budget))
            rows.append({"benchmark": uri, "instruction_count": result.instruction_count,
                         "oz_count": result.oz_count, "o0_count": result.o0_count,
                         "oz_ratio": result.oz_ratio, "compilations": result.compilations,
                         "seconds": time.monotonic() - started, "steps": result.steps})
    finally:
        env.close()
    return rows


def summarize(rows: list[dict]) -> dict[str, float]:
    """Geomean of -Oz/ours, share of programs better than -Oz, mean seconds per program."""
    if not rows:
        return {"programs": 0}
    ratios = [r["oz_ratio"] for r in rows]
    return {"programs": len(rows),
            "geomean_oz_over_ours": statistics.geometric_mean(ratios),
            "share_improved": sum(r > 1.0 for r in ratios) / len(ratios),
            "share_worse": sum(r < 1.0 for r in ratios) / len(ratios),
            "seconds_per_program": sum(r["seconds"] for r in rows) / len(rows)}


def evaluate(checkpoint: str | Path, uris: list[str], *, budget: int, fallback_oz: bool = True,
             ctx: Any = None, chunks: int = 4) -> list[dict]:
    """Evaluate a checkpoint on benchmarks, in parallel over Ray when ``ctx`` has an address."""
    fn = functools.partial(evaluate_chunk, str(checkpoint), budget, fallback_oz)
    if ctx is None:
        return fn(list(uris))
    n = max(1, min(chunks, len(uris)))
    parts = [list(uris[i::n]) for i in range(n)]
    return [row for part in ctx.map(fn, parts, desc="evaluate") for row in part]
