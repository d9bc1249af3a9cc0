"""The ``autophase-oz`` recipe: a small supervised MLP that regresses how much -O3 and -Oz
shrink a program from its Autophase features at -O0.

Small enough to run anywhere in seconds, it is the framework's reference recipe: DDP across
ranks (each rank trains on its shard, DistributedDataParallel all-reduces the gradients),
TensorBoard, checkpoint/resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optgym.agents.config import RecipeConfig
from optgym.agents.train import TrainContext, parameter_digest


@dataclass
class AutophaseOzConfig(RecipeConfig):
    """Settings of the ``autophase-oz`` recipe."""

    dataset: str = "builtin-v0"
    split: str = "train"
    csmith: int = 0  # extra csmith-v0 training seeds
    epochs: int = 60
    batch_size: int = 8
    lr: float = 0.001
    hidden: int = 64
    checkpoint_every: int = 10  # epochs


def autophase_oz_dataset(uris: list[str], progress: Any = None) -> tuple[Any, Any]:
    """Autophase features of each program at -O0 (log1p) and how much -O3 and -Oz shrink it.

    Targets are ``[C_O3 / C_O0, C_Oz / C_O0]``; the instruction counts come from the
    environment's per-benchmark baselines (cached on disk after the first time).
    """
    import numpy as np
    import torch

    from optgym.envs.llvm import LlvmEnv

    feats, targets = [], []
    env = LlvmEnv(observation_space="Autophase")
    try:
        for uri in (progress(uris) if progress else uris):
            obs, _ = env.reset(options={"benchmark": uri})
            o0 = max(int(env.observe("IrInstructionCountO0")), 1)
            feats.append(np.log1p(np.asarray(obs, dtype=np.float64)))
            targets.append([int(env.observe("IrInstructionCountO3")) / o0,
                            int(env.observe("IrInstructionCountOz")) / o0])
    finally:
        env.close()
    return (torch.tensor(np.stack(feats), dtype=torch.float32),
            torch.tensor(targets, dtype=torch.float32))


def train_autophase_oz(config: AutophaseOzConfig, ctx: TrainContext) -> dict[str, Any]:
    """Train the MLP; checkpoints every ``checkpoint_every`` epochs; returns the summary."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    from optgym.datasets import get_dataset

    torch.manual_seed(ctx.seed)
    uris = get_dataset(config.dataset).benchmark_uris(config.split)
    if config.csmith:
        uris += get_dataset("csmith-v0").first_uris(config.csmith, "train")
    x, y = autophase_oz_dataset(uris, lambda it: ctx.progress(it, desc="features"))
    mean, std = x.mean(0), x.std(0).clamp_min(1e-3)
    data = TensorDataset((x - mean) / std, y)
    sampler = DistributedSampler(data, num_replicas=ctx.world_size, rank=ctx.rank,
                                 shuffle=True, seed=ctx.seed) if ctx.distributed else None
    loader = DataLoader(data, batch_size=config.batch_size, sampler=sampler,
                        shuffle=sampler is None)
    model = nn.Sequential(nn.Linear(x.shape[1], config.hidden), nn.ReLU(),
                          nn.Linear(config.hidden, config.hidden), nn.ReLU(),
                          nn.Linear(config.hidden, y.shape[1])).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    start_epoch, step = 0, 0
    loaded = ctx.load_checkpoint()
    if loaded is not None:
        _, state = loaded
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, step = state["epoch"], state["step"]
    train_model: nn.Module = model
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(
            model, device_ids=[ctx.device] if ctx.device.startswith("cuda") else None)
    loss_value = float("nan")
    first_loss: float | None = None
    for epoch in ctx.progress(range(start_epoch, config.epochs), total=config.epochs,
                              initial=start_epoch, desc="autophase-oz"):
        if sampler is not None:
            sampler.set_epoch(epoch)
        total, n = 0.0, 0
        for xb, yb in loader:
            xb, yb = xb.to(ctx.device), yb.to(ctx.device)
            loss = nn.functional.mse_loss(train_model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            total, n = total + float(loss.detach()) * len(xb), n + len(xb)
        loss_value = ctx.all_reduce_mean(total / max(n, 1))
        first_loss = loss_value if first_loss is None else first_loss
        ctx.log_scalars(epoch + 1, **{"train/mse": loss_value})
        if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs:
            ctx.save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                 "epoch": epoch + 1, "step": step,
                                 "mean": mean, "std": std}, step)
    return {"epochs": config.epochs, "start_epoch": start_epoch, "steps": step,
            "programs": len(uris), "first_loss": first_loss, "final_loss": loss_value,
            "param_digest": parameter_digest(model)}
