"""Training the NVP model: ``train_nvp(config, ctx)``, the ``nvp`` recipe of ``optgym train``.

The recipe runs whatever steps of the build are missing in ``config.workdir`` (pool, coreset,
training; ``stop_after`` ends it early), so one command goes from nothing to a model
directory, and a rerun resumes. Pool work runs on the main rank (over Ray when the context has
an address); the training loop is data-parallel under ``torchrun`` (DistributedDataParallel, a
DistributedSampler per rank). The loss is the cross-entropy between the model's K logits and
``softmax(R[i] / temperature)``, where ``R[i]`` is the program's log(Oz / count) under each
coreset sequence.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from optgym.agents.config import to_dict
from optgym.agents.nvp.config import NvpConfig
from optgym.agents.nvp.coreset import order_scores
from optgym.agents.train import TrainContext
from optgym.errors import OptgymError


def _programs(split: str, n_csmith: int, n_stress: int, builtin: bool = True,
              skip: set[str] | None = None) -> list[str]:
    from optgym.datasets import get_dataset

    uris = get_dataset("builtin-v0").benchmark_uris(split) if builtin else []
    if n_csmith:
        uris += get_dataset("csmith-v0").first_uris(n_csmith, split)
    if n_stress:
        uris += get_dataset("llvm-stress-v0").first_uris(n_stress, split)
    return [u for u in uris if not skip or u not in skip]


def _realc(name: str, split: str, per_project: int, skip: int = 0) -> list[str]:
    """A fixed per-project sample of a real-code dataset's split (built on first use)."""
    if per_project <= 0:
        return []
    from optgym.datasets import get_dataset

    dataset = get_dataset(name)
    if not dataset.manifests():
        # A project that fails to build is reported by the build and left out here.
        print(f"building {name} (once; see `optgym datasets build --help`)", flush=True)
        dataset.build()
    return dataset.sample_uris(split, per_project, skip=skip)


def prepare(config: NvpConfig, ctx: TrainContext | None = None,
            pool_only: bool = False) -> dict[str, Any] | None:
    """Run the missing pool and coreset steps in ``config.workdir``; returns the coreset
    (None when ``pool_only``: stop after the pool's reward matrix)."""
    from optgym.agents.nvp import pool as pool_mod
    from optgym.agents.nvp.data import select_coreset
    from optgym.agents.nvp.store import PoolStore

    workdir = Path(config.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ray_address = ctx.ray_address if ctx is not None else None
    workers = config.workers
    quiet = ctx is not None and not (ctx.progress_bars and ctx.is_main)
    p, c = config.pool, config.coreset
    with PoolStore(workdir / "pool.sqlite") as store:
        uris = json.loads(store.get_meta("pool_programs") or "null") or p.programs or (_programs(
            p.builtin_split or "train", p.csmith, p.stress, builtin=bool(p.builtin_split))
            + _realc("realc-v0", "train", p.realc))
        store.set_meta("pool_programs", json.dumps(uris))
        cfg = pool_mod.PoolConfig(episodes=p.episodes, seconds_per_program=p.seconds,
                                  keep=p.keep, seed=config.seed)
        n = pool_mod.generate_pool(store, uris, cfg, workers, ray_address, quiet)
        print(f"searched {n} programs in this run", flush=True)
        searched = [u for u in uris if u in store.searched()]
        if not (workdir / "coreset.json").exists():
            pool_mod.collect_candidates(store, searched, p.candidates_per_program)
        # Big programs cost most to measure under every candidate; with matrix_max_o0 set,
        # those above it are measured on the coreset only (they still train the model).
        limit = p.matrix_max_o0
        matrix = [u for u in searched if limit is None or store.program(u)["o0"] <= limit]
        store.set_meta("matrix_programs", json.dumps(matrix))
        pool_mod.evaluate_candidates(store, matrix, "pool", None, workers, ray_address, quiet)
        if pool_only:
            return None
        coreset_path = workdir / "coreset.json"
        if coreset_path.exists():
            coreset = json.loads(coreset_path.read_text())
        else:
            coreset = select_coreset(store, c.k)
            from optgym.cache import atomic_write

            atomic_write(coreset_path, json.dumps(coreset, indent=1).encode())
        pooled = set(uris)
        n_csmith = sum(u.startswith("generator://csmith") for u in pooled)
        n_stress = sum(u.startswith("generator://llvm-stress") for u in pooled)
        rest = [u for u in searched if u not in set(matrix)]
        extra = rest + (c.extra_programs if c.extra_programs is not None else _programs(
            "train", n_csmith + c.extra_csmith, n_stress + c.extra_stress, builtin=False,
            skip=pooled)
            + _realc("realc-v0", "train", c.extra_realc, skip=p.realc)
            + _realc("realc-fn-v0", "train", c.extra_realc_fn))
        extra = [u for u in dict.fromkeys(extra) if u not in pooled or u in rest]
        val = c.validation_programs if c.validation_programs is not None else (_programs(
            "validation", c.val_csmith, 0, builtin=c.val_builtin)
            + _realc("realc-v0", "validation", c.val_realc))
        store.set_meta("extra_programs", json.dumps(extra))
        store.set_meta("validation_programs", json.dumps(val))
        cands = list(zip(coreset["candidate_ids"], coreset["sequences"], strict=True))
        pool_mod.evaluate_candidates(store, extra + val, "coreset", cands, workers, ray_address,
                                     quiet)
    return coreset


def train_nvp(config: NvpConfig, ctx: TrainContext) -> dict[str, Any]:
    """Build (or resume) the pool and coreset, train the model, write the model directory.

    Returns a summary (with ``stop_after: pool`` or ``coreset``, of the steps run).
    """

    from optgym.cores import set_torch_threads

    # The cores really free, shared among this machine's ranks (on a busy machine, more
    # threads than free cores trains slower, not faster); the setting or OPTGYM_THREADS wins.
    threads = set_torch_threads(config.torch_threads,
                                share=int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    if ctx.is_main:
        print(f"torch threads: {threads} (the free cores; torch_threads or OPTGYM_THREADS "
              "sets it)", flush=True)
    started = time.monotonic()
    if config.stop_after != "train":
        coreset = prepare(config, ctx, pool_only=config.stop_after == "pool") if ctx.is_main else None
        return {"stopped_after": config.stop_after,
                **({k: v for k, v in coreset.items() if k.startswith("pool_")} if coreset else {})}
    if ctx.is_main:
        prepare(config, ctx)
    ctx.barrier()
    trainer = _Trainer(config, ctx)
    prep_seconds = time.monotonic() - started
    summary = trainer.fit(deadline=started + 60.0 * config.max_minutes)
    summary["prepare_seconds"] = round(prep_seconds, 1)
    if ctx.is_main:
        summary["model_dir"] = str(trainer.save(summary))
    return summary


class _Trainer:
    """The training step of the recipe: data, model, optimizer and the epoch loop."""

    def __init__(self, config: NvpConfig, ctx: TrainContext):
        import torch
        from torch_geometric.loader import DataLoader

        from optgym.agents.nvp.data import split_examples, to_data
        from optgym.agents.nvp.model import NvpModel
        from optgym.agents.nvp.store import PoolStore
        from optgym.programgraphs import default_vocabulary

        self.config, self.ctx = config, ctx
        workdir = Path(config.workdir)
        self.coreset = json.loads((workdir / "coreset.json").read_text())
        with PoolStore(workdir / "pool.sqlite") as store:
            self.train_ex, self.val_ex = split_examples(store, self.coreset["candidate_ids"])
        if not self.train_ex:
            raise OptgymError(f"{workdir} has no training programs measured on the coreset")
        self.k = len(self.coreset["candidate_ids"])
        torch.manual_seed(config.seed)
        train_data = [to_data(e.features, e.rewards) for e in self.train_ex]
        self.val_data = [to_data(e.features, e.rewards) for e in self.val_ex]
        self.sampler = None
        if ctx.distributed:
            from torch.utils.data.distributed import DistributedSampler

            self.sampler = DistributedSampler(train_data, num_replicas=ctx.world_size,
                                              rank=ctx.rank, shuffle=True, seed=config.seed)
        self.loader = DataLoader(train_data, batch_size=config.batch_size, sampler=self.sampler,
                                 shuffle=self.sampler is None)
        self.model = NvpModel(self.k, config.encoder, config.dim, config.layers,
                              len(default_vocabulary()), config.dropout)
        self._start_from_prior()
        self.model.to(ctx.device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=config.lr,
                                     weight_decay=config.weight_decay)
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt,
                                                                T_max=max(1, config.epochs))
        self.train_model: torch.nn.Module = self.model
        if ctx.distributed:
            from torch.nn.parallel import DistributedDataParallel

            self.train_model = DistributedDataParallel(
                self.model, device_ids=[ctx.device] if ctx.device.startswith("cuda") else None)

    def _start_from_prior(self) -> None:
        """Start the head at the training programs' mean target: an untrained model then ranks
        the coreset by how often each sequence wins, and training learns each program's
        departure from that. From a uniform start the weak per-program signal left the model
        ranking worse than the coreset's own order at small budgets."""
        import torch

        rewards = torch.from_numpy(np.stack([e.rewards for e in self.train_ex]))
        prior = torch.softmax(rewards / self.config.temperature, dim=1).mean(dim=0)
        last = self.model.head[-1]
        with torch.no_grad():
            last.weight.mul_(0.1)  # small per-program deviations at first
            last.bias.copy_(torch.log(prior.clamp_min(1e-6)))

    def loss(self, model: Any, batch: Any) -> Any:
        """Cross-entropy between the logits and the softmax of the rewards / temperature."""
        import torch

        target = torch.softmax(batch.rewards / self.config.temperature, dim=1)
        return -(target * torch.log_softmax(model(batch), dim=1)).sum(dim=1).mean()

    def evaluate(self) -> tuple[float, np.ndarray]:
        """Validation loss and logits."""
        import torch
        from torch_geometric.loader import DataLoader

        self.model.eval()
        losses, logits = [], []
        with torch.no_grad():
            for batch in DataLoader(self.val_data, batch_size=16):
                batch = batch.to(self.ctx.device)
                losses.append(float(self.loss(self.model, batch)) * batch.num_graphs)
                logits.append(self.model(batch).cpu().numpy())
        self.model.train()
        return (sum(losses) / max(len(self.val_data), 1),
                np.concatenate(logits) if logits else np.zeros((0, self.k)))

    def train_epoch(self, epoch: int, step: int) -> tuple[float, int, int]:
        """One epoch (or until ``max_steps``): (mean loss over ranks, graphs seen, step)."""
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
        total, n = 0.0, 0
        for batch in self.loader:
            batch = batch.to(self.ctx.device)
            loss = self.loss(self.train_model, batch)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            step += 1
            total += loss.item() * batch.num_graphs
            n += batch.num_graphs
            if self.config.max_steps is not None and step >= self.config.max_steps:
                break
        self.sched.step()
        return self.ctx.all_reduce_mean(total / max(n, 1)), n, step

    def fit(self, deadline: float) -> dict[str, Any]:
        """Train (resuming from the latest checkpoint when asked), keep the best epoch's
        weights by validation loss (training loss without validation programs)."""
        ctx, config = self.ctx, self.config
        start_epoch, step = 0, 0
        best: dict[str, Any] = {"val_loss": math.inf, "epoch": -1, "state": None}
        history: list[dict[str, float]] = []
        loaded = ctx.load_checkpoint()
        if loaded is not None:
            _, state = loaded
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["optimizer"])
            self.sched.load_state_dict(state["scheduler"])
            start_epoch, step, best, history = (state["epoch"], state["step"], state["best"],
                                                state["history"])
        graphs_seen, train_seconds, epoch = 0, 0.0, start_epoch
        for epoch in range(start_epoch, config.epochs):
            t0 = time.monotonic()
            train_loss, n, step = self.train_epoch(epoch, step)
            train_seconds += time.monotonic() - t0
            graphs_seen += n
            row = {"epoch": epoch, "train_loss": train_loss,
                   "graphs_per_second": n / max(time.monotonic() - t0, 1e-9)}
            if self.val_data:
                val_loss, val_logits = self.evaluate()
                scores = order_scores(np.argsort(-val_logits, axis=1),
                                      np.stack([e.rewards for e in self.val_ex]), (45, 5))
                row.update(val_loss=val_loss, val_geomean_b45=scores[45],
                           val_geomean_b5=scores[5])
            history.append(row)
            ctx.log_scalars(step, **{f"nvp/{key}": v for key, v in row.items() if key != "epoch"})
            score = row.get("val_loss", train_loss)
            if score < best["val_loss"]:
                best = {"val_loss": score, "epoch": epoch, "state": {
                    key: v.detach().cpu().clone() for key, v in self.model.state_dict().items()}}
            ctx.save_checkpoint({"model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                                 "scheduler": self.sched.state_dict(), "epoch": epoch + 1,
                                 "step": step, "best": best, "history": history}, step)
            if ctx.is_main:
                print(" ".join(f"{key}={v:.4g}" if isinstance(v, float) else f"{key}={v}"
                               for key, v in row.items()), flush=True)
            if time.monotonic() > deadline or (config.max_steps is not None
                                               and step >= config.max_steps):
                break
        if best["state"] is not None:
            self.model.load_state_dict(best["state"])
        by_epoch = {h["epoch"]: h for h in history}
        summary = {"epochs_run": epoch + 1 - start_epoch, "steps": step,
                   "best_epoch": best["epoch"], "train_programs": len(self.train_ex),
                   "validation_programs": len(self.val_ex),
                   "graphs_per_second": graphs_seen / max(train_seconds, 1e-9),
                   "train_seconds": round(train_seconds, 1),
                   "final": history[-1] if history else {}}
        if self.val_data:
            summary["best"] = by_epoch.get(best["epoch"], {})
        return summary

    def save(self, summary: dict[str, Any]) -> Path:
        """Write the model directory (``config.out``, default ``model/`` beside the run's
        checkpoints)."""
        import torch

        from optgym.agents.nvp.model import save_model
        from optgym.agents.nvp.neighbours import fit_neighbours

        out = Path(self.config.out or self.ctx.checkpoint_dir.parent / "model")
        metadata = {"config": to_dict(self.config), "summary": summary, "coreset_size": self.k,
                    "train_programs": [e.uri for e in self.train_ex],
                    "validation_programs": [e.uri for e in self.val_ex],
                    "torch": torch.__version__}
        neighbours, fitted = fit_neighbours(self.model, self.train_ex, self.val_ex)
        metadata["neighbours"] = fitted
        save_model(self.model, self.coreset, metadata, out)
        neighbours.save(out)
        return out
