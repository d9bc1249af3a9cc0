"""The ``ppo-llvm`` recipe: sb3-contrib's MaskablePPO on an ``optgym/llvm-*`` environment.

Read top to bottom: build the vectorized environments, build (or resume) the model, make it
data-parallel when there are several ranks, learn with a callback that draws progress,
checkpoints and stops on the wall-time limit, then export and evaluate the policy.
See :class:`~optgym.agents.ppo.config.PpoConfig` for every setting.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from typing import Any

import torch
from sb3_contrib import MaskablePPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecMonitor

from optgym.agents.config import to_dict
from optgym.agents.ppo.config import EvalConfig, PpoConfig
from optgym.agents.ppo.export import export_policy
from optgym.agents.ppo.extractor import policy_kwargs
from optgym.agents.ppo.observation import make_env
from optgym.agents.ppo.policy import evaluate, summarize
from optgym.agents.train import TrainContext, parameter_digest


def train_ppo(config: PpoConfig, ctx: TrainContext) -> dict[str, Any]:
    """Train, export to ``checkpoints/ppo.pt`` and evaluate; returns the run's summary.

    Under ``torchrun`` each rank collects its own rollouts (its own seeds) and gradients are
    averaged across ranks inside each backward pass, before SB3 clips them (as DDP does), so
    the ranks keep identical weights. The main rank writes TensorBoard logs and
    ``checkpoints/ppo-latest.zip`` (what ``--resume`` continues from).
    """
    torch.set_num_threads(config.torch_threads)
    seed = ctx.seed + 1000 * ctx.rank
    venv = _vec_env(config, seed)
    try:
        model = _model(config, ctx, venv, seed)
        start = int(model.num_timesteps)
        if ctx.distributed:
            ctx.share_gradients(model.policy)
        started = time.monotonic()
        with ctx.progress(total=config.total_timesteps, initial=start, desc="ppo-llvm") as bar:
            callback = _Callback(config, ctx, bar, start, started)
            if config.total_timesteps > start:
                model.learn(total_timesteps=config.total_timesteps - start, callback=callback,
                            reset_num_timesteps=False)
        seconds = time.monotonic() - started
        summary: dict[str, Any] = {
            "start_timesteps": start, "timesteps": int(model.num_timesteps),
            "train_seconds": round(seconds, 1),
            "env_steps_per_second": round((model.num_timesteps - start) * ctx.world_size
                                          / max(seconds, 1e-9), 1),
            "param_digest": parameter_digest(model.policy),
        }
        if ctx.is_main:
            summary.update(_export_and_evaluate(model, config, ctx, seconds))
        return summary
    finally:
        venv.close()


def _vec_env(config: PpoConfig, seed: int) -> VecEnv:
    """``n_envs`` environments (in subprocesses unless ``vec_env: dummy``), episode stats on."""
    factories = [functools.partial(make_env, config, seed + i) for i in range(config.n_envs)]
    subproc = config.vec_env == "subproc" and config.n_envs > 1
    return VecMonitor((SubprocVecEnv if subproc else DummyVecEnv)(factories))


def _model(config: PpoConfig, ctx: TrainContext, venv: VecEnv, seed: int) -> MaskablePPO:
    """The latest checkpoint when resuming, else a fresh model; logging to TensorBoard."""
    latest = ctx.checkpoint_dir / "ppo-latest.zip"
    if ctx.resume and latest.exists():
        model = MaskablePPO.load(latest, env=venv, device=ctx.device)
    else:
        hp = dataclasses.asdict(config.ppo)
        if ctx.distributed:
            hp["target_kl"] = None  # one rank stopping early would leave the others waiting
        model = MaskablePPO("MultiInputPolicy", venv, seed=seed, device=ctx.device,
                            policy_kwargs=policy_kwargs(config.net), verbose=0, **hp)
    model.set_logger(configure(str(ctx.log_dir), ["tensorboard"] if ctx.is_main else []))
    return model


class _Callback(BaseCallback):
    """Per step: advance the progress bar, checkpoint every ``checkpoint_every`` timesteps
    (main rank), stop every rank together once ``max_seconds`` have passed."""

    def __init__(self, config: PpoConfig, ctx: TrainContext, bar: Any, start: int,
                 started: float):
        super().__init__()
        self.config, self.ctx, self.bar, self.started = config, ctx, bar, started
        self.last_save = start

    def _on_step(self) -> bool:
        self.bar.update(self.training_env.num_envs)
        if self.ctx.is_main and self.num_timesteps - self.last_save >= self.config.checkpoint_every:
            self.last_save = self.num_timesteps
            with self.ctx.atomic_path("ppo-latest.zip") as tmp:
                self.model.save(tmp)
        if self.config.max_seconds is None:
            return True
        over = time.monotonic() - self.started > self.config.max_seconds
        if self.ctx.distributed:  # every rank must stop at the same step
            over = self.ctx.all_reduce_mean(float(over)) > 0
        return not over


def _export_and_evaluate(model: MaskablePPO, config: PpoConfig, ctx: TrainContext,
                         seconds: float) -> dict[str, Any]:
    """Save the resumable zip and the exported policy; evaluate it when the config says so."""
    with ctx.atomic_path("ppo-latest.zip") as tmp:
        model.save(tmp)
    exported = export_policy(model.policy, config, ctx.checkpoint_dir / "ppo.pt", {
        "timesteps": int(model.num_timesteps), "config": to_dict(config),
        "train_seconds": round(seconds, 1)})
    out: dict[str, Any] = {"policy": str(exported)}
    spec = config.eval
    uris = _benchmark_uris(spec) if spec is not None else []
    if spec is not None and uris:
        rows = evaluate(exported, uris, budget=spec.budget, fallback_oz=spec.fallback_oz,
                        ctx=ctx if ctx.ray_address else None)
        out["eval"] = summarize(rows)
        ctx.log_scalars(int(model.num_timesteps),
                        **{f"eval/{key}": value for key, value in out["eval"].items()})
        from optgym.cache import atomic_write

        atomic_write(ctx.checkpoint_dir.parent / "eval.json", json.dumps(rows, indent=1).encode())
    return out


def _benchmark_uris(spec: EvalConfig) -> list[str]:
    from optgym.datasets import get_dataset

    uris: list[str] = []
    if spec.split:
        uris += get_dataset(spec.dataset).benchmark_uris(spec.split)
    if spec.csmith:
        uris += get_dataset("csmith-v0").first_uris(spec.csmith, spec.csmith_split)
    return uris
