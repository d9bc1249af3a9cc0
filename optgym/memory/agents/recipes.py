"""The memory-mapping recipes of ``optgym train``: adapters over :mod:`optgym.memory.agents`'s
own training functions, with their typed settings (importing this module loads no torch).

:class:`MemoryPpoConfig` is also where ``optgym memory train --agent ppo`` and
:func:`optgym.memory.agents.ppo.train_ppo` take their defaults from, so the two ways of
training the same agent agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optgym.agents.config import ConfigError, RecipeConfig, check_choice
from optgym.agents.train import TrainContext

#: The traced workloads both recipes train on by default.
DEFAULT_WORKLOADS = ("resnet18", "mobilenetv2", "bert-base-layer", "gpt2-block")


@dataclass
class MemoryPpoConfig(RecipeConfig):
    """MaskablePPO on ``optgym/memory-v1`` (the ``memory-ppo`` recipe)."""

    workloads: list[str] = field(default_factory=lambda: list(DEFAULT_WORKLOADS))
    hardware: str = "tpu-like"
    steps: int = 20000  # environment steps of PPO
    n_steps: int = 256  # rollout length per env
    imitation_epochs: int = 500  # warm start on the teacher's decisions; 0 trains from scratch
    teacher: str = "xla"  # xla (the XLA-style rule) or mcts (distil the tree search)
    teacher_simulations: int = 8  # mcts teacher: simulations per move

    def __post_init__(self) -> None:
        if not self.workloads:
            raise ConfigError("workloads must be a non-empty list of traced workloads")
        check_choice("teacher", self.teacher, ("xla", "mcts"))


@dataclass
class MemoryMctsConfig(RecipeConfig):
    """AlphaZero-style self-play on ``optgym/memory-v1`` (the ``memory-mcts`` recipe)."""

    workloads: list[str] = field(default_factory=lambda: list(DEFAULT_WORKLOADS))
    hardware: str = "tpu-like"
    iterations: int = 4
    episodes_per_iteration: int = 1
    simulations: int = 8  # per move
    epochs: int = 20  # net fitting epochs per iteration
    max_seconds: float | None = 600.0  # stop self-play after this long

    def __post_init__(self) -> None:
        if not self.workloads:
            raise ConfigError("workloads must be a non-empty list of traced workloads")


def train_memory_ppo(config: MemoryPpoConfig, ctx: TrainContext) -> dict[str, Any]:
    """Train MaskablePPO (:func:`optgym.memory.agents.ppo.train_ppo`); the model is saved to
    ``checkpoints/memory-ppo.zip``."""
    from optgym.memory.agents.ppo import train_ppo

    out = ctx.checkpoint_dir / "memory-ppo.zip" if ctx.is_main else None
    train_ppo(config.workloads, config.hardware, steps=config.steps, seed=ctx.seed + ctx.rank,
              out=out, progress=ctx.progress_bars and ctx.is_main, n_steps=config.n_steps,
              imitation_epochs=config.imitation_epochs, teacher=config.teacher,
              teacher_simulations=config.teacher_simulations)
    return {"model": str(out) if out else None, "workloads": config.workloads}


def train_memory_mcts(config: MemoryMctsConfig, ctx: TrainContext) -> dict[str, Any]:
    """Self-play training (:func:`optgym.memory.agents.mcts.train_mcts`); the net goes to
    ``checkpoints/memory-mcts.pt``."""
    from optgym.memory.agents.mcts import train_mcts

    out = ctx.checkpoint_dir / "memory-mcts.pt" if ctx.is_main else None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    _, log = train_mcts(
        config.workloads, config.hardware, iterations=config.iterations,
        episodes_per_iteration=config.episodes_per_iteration, simulations=config.simulations,
        epochs=config.epochs, out=out, seed=ctx.seed + ctx.rank,
        progress=ctx.progress_bars and ctx.is_main, max_seconds=config.max_seconds,
    )
    for entry in log:
        ctx.log_scalars(int(entry["iteration"]), **{
            "mcts/loss": entry["loss"], "mcts/runtime_vs_baseline": entry["runtime_vs_baseline"]})
    return {"model": str(out) if out else None, "iterations": len(log),
            "final": log[-1] if log else None}
