"""Training the NVP model: ``train_nvp(config, ctx)``, the ``nvp`` recipe of ``optgym train``.

The recipe runs whatever steps of the build are missing in ``config["workdir"]`` (pool,
coreset, training), so one command goes from nothing to a model directory, and a rerun
resumes. Pool work runs on the main rank (over Ray when the context has an address); the
training loop is data-parallel under ``torchrun`` (DistributedDataParallel, a
DistributedSampler per rank). The loss is the cross-entropy between the model's K logits and
``softmax(R[i] / temperature)``, where ``R[i]`` is the program's log(Oz / count) under each
coreset sequence.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optgym.errors import OptgymError

#: Every setting of the recipe and its default.
DEFAULTS: dict[str, Any] = {
    "workdir": "runs/nvp/build",  # pool.sqlite, coreset.json
    "out": None,  # model directory written at the end (default WORKDIR/model)
    "workers": 2,  # pool worker processes
    "pool": {"programs": None, "csmith": 20, "stress": 12, "builtin_split": "train", "seconds": 10.0,
             "episodes": 200, "keep": 3, "candidates_per_program": 2, "matrix_max_o0": None},
    "coreset": {"k": 50, "extra_programs": None, "validation_programs": None, "extra_csmith": 30, "extra_stress": 40, "val_csmith": 10,
                "val_builtin": True},
    "encoder": "gnn",  # gnn (ProGraML) or autophase
    "dim": 64,
    "layers": 3,
    "dropout": 0.1,
    "epochs": 40,
    "batch_size": 8,
    "lr": 0.002,
    "weight_decay": 0.0001,
    "temperature": 0.02,
    "max_minutes": 15.0,  # stop training after this long (the best epoch so far is kept)
    "max_steps": None,  # stop after this many optimizer steps (for smoke tests)
    "torch_threads": None,
    "seed": 0,
}


def load_config(path: str | Path | None) -> dict[str, Any]:
    """The defaults updated with a YAML/JSON file's settings (sections merge one level deep)."""
    config = json.loads(json.dumps(DEFAULTS))
    if path is None:
        return config
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise OptgymError(f"cannot read NVP config {path}: {exc}") from None
    return merge_config(loaded)


def merge_config(loaded: dict[str, Any]) -> dict[str, Any]:
    """The defaults updated with ``loaded``; unknown keys are an error."""
    config = json.loads(json.dumps(DEFAULTS))
    for key, value in loaded.items():
        if key not in config and key not in ("device", "ray_address"):
            raise OptgymError(f"unknown NVP setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
        if isinstance(config.get(key), dict) and isinstance(value, dict):
            unknown = set(value) - set(config[key])
            if unknown:
                raise OptgymError(f"unknown NVP settings in {key}: {', '.join(sorted(unknown))}")
            config[key].update(value)
        else:
            config[key] = value
    return config


@dataclass
class _Ctx:
    """Stands in for :class:`optgym.agents.train.TrainContext` when called without one."""

    device: str = "cpu"
    log_dir: Path | None = None
    checkpoint_dir: Path | None = None
    ray_address: str | None = None
    resume: bool = True
    rank: int = 0
    world_size: int = 1
    seed: int = 0
    progress_bars: bool = True
    _writer: Any = field(default=None, repr=False)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def log_scalars(self, step: int, **values: float) -> None:
        if self.log_dir is None:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.log_dir))
        for k, v in values.items():
            self._writer.add_scalar(k, float(v), step)

    def barrier(self) -> None:
        pass

    def all_reduce_mean(self, value: float) -> float:
        return float(value)

    def save_checkpoint(self, state: dict[str, Any], step: int) -> None:
        if self.checkpoint_dir is None:
            return
        import io

        import torch

        from optgym.cache import atomic_write

        buf = io.BytesIO()
        torch.save({"step": step, "state": state}, buf)
        atomic_write(Path(self.checkpoint_dir) / "latest.pt", buf.getvalue())

    def load_checkpoint(self) -> tuple[int, dict[str, Any]] | None:
        if not self.resume or self.checkpoint_dir is None:
            return None
        path = Path(self.checkpoint_dir) / "latest.pt"
        if not path.exists():
            return None
        import torch

        payload = torch.load(path, map_location="cpu", weights_only=False)
        return int(payload["step"]), payload["state"]

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _programs(split: str, n_csmith: int, n_stress: int, builtin: bool = True,
              skip: set[str] | None = None) -> list[str]:
    from optgym.datasets import get_dataset

    uris = get_dataset("builtin-v0").benchmark_uris(split) if builtin else []
    if n_csmith:
        uris += get_dataset("csmith-v0").first_uris(n_csmith, split)
    if n_stress:
        uris += get_dataset("llvm-stress-v0").first_uris(n_stress, split)
    return [u for u in uris if not skip or u not in skip]


def prepare(config: dict[str, Any], ctx: Any = None, pool_only: bool = False) -> dict[str, Any] | None:
    """Run the missing pool and coreset steps in ``config["workdir"]``; returns the coreset
    (None when ``pool_only``: stop after the pool's reward matrix)."""
    from optgym.agents.nvp import pool as pool_mod
    from optgym.agents.nvp.data import select_coreset
    from optgym.agents.nvp.store import PoolStore

    workdir = Path(config["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    ray_address = getattr(ctx, "ray_address", None)
    workers = int(config.get("workers", 2))
    quiet = not getattr(ctx, "progress_bars", True)
    p, c = config["pool"], config["coreset"]
    with PoolStore(workdir / "pool.sqlite") as store:
        uris = json.loads(store.get_meta("pool_programs") or "null") or p["programs"] or _programs(
            p.get("builtin_split", "train"), p["csmith"], p["stress"],
            builtin=bool(p.get("builtin_split")))
        store.set_meta("pool_programs", json.dumps(uris))
        cfg = pool_mod.PoolConfig(episodes=p["episodes"], seconds_per_program=p["seconds"],
                                  keep=p["keep"], seed=int(config.get("seed", 0)))
        n = pool_mod.generate_pool(store, uris, cfg, workers, ray_address, quiet)
        print(f"searched {n} programs in this run", flush=True)
        searched = [u for u in uris if u in store.searched()]
        if not (workdir / "coreset.json").exists():
            pool_mod.collect_candidates(store, searched, p.get("candidates_per_program"))
        # Big programs cost most to measure under every candidate; with matrix_max_o0 set,
        # those above it are measured on the coreset only (they still train the model).
        limit = p.get("matrix_max_o0")
        matrix = [u for u in searched if limit is None or store.program(u)["o0"] <= limit]
        store.set_meta("matrix_programs", json.dumps(matrix))
        pool_mod.evaluate_candidates(store, matrix, "pool", None, workers, ray_address, quiet)
        if pool_only:
            return None
        coreset_path = workdir / "coreset.json"
        if coreset_path.exists():
            coreset = json.loads(coreset_path.read_text())
        else:
            coreset = select_coreset(store, int(c["k"]))
            from optgym.cache import atomic_write

            atomic_write(coreset_path, json.dumps(coreset, indent=1).encode())
        pooled = set(uris)
        n_csmith = sum(u.startswith("generator://csmith") for u in pooled)
        n_stress = sum(u.startswith("generator://llvm-stress") for u in pooled)
        rest = [u for u in searched if u not in set(matrix)]
        extra = rest + (c["extra_programs"] if c["extra_programs"] is not None else _programs(
            "train", n_csmith + c["extra_csmith"], n_stress + c["extra_stress"], builtin=False,
            skip=pooled))
        extra = list(dict.fromkeys(extra))
        val = c["validation_programs"] if c["validation_programs"] is not None else _programs(
            "validation", c["val_csmith"], 0, builtin=bool(c.get("val_builtin", True)))
        store.set_meta("extra_programs", json.dumps(extra))
        store.set_meta("validation_programs", json.dumps(val))
        cands = list(zip(coreset["candidate_ids"], coreset["sequences"], strict=True))
        pool_mod.evaluate_candidates(store, extra + val, "coreset", cands, workers, ray_address,
                                     quiet)
    return coreset


def budget_score(logits: np.ndarray, rewards: np.ndarray, budget: int) -> float:
    """Geomean of Oz / ours when each program runs its top ``budget - 1`` sequences and -Oz."""
    k = max(1, min(budget - 1, rewards.shape[1]))
    top = np.argsort(-logits, axis=1)[:, :k]
    best = np.take_along_axis(rewards, top, axis=1).max(axis=1)
    return float(np.exp(np.maximum(best, 0.0).mean()))


def train_nvp(config: dict[str, Any], ctx: Any = None, *, device: str | None = None,
              log_dir: str | Path | None = None,
              checkpoint_dir: str | Path | None = None) -> dict[str, Any]:
    """Build (or resume) the pool and coreset, train the model, write the model directory.

    ``ctx`` is a :class:`optgym.agents.train.TrainContext`; without one, ``device``,
    ``log_dir`` and ``checkpoint_dir`` say where to run and write. Returns a summary.
    """
    import torch
    from torch_geometric.loader import DataLoader

    from optgym.agents.nvp.data import split_examples, to_data
    from optgym.agents.nvp.model import NvpModel, save_model
    from optgym.agents.nvp.store import PoolStore
    from optgym.programgraphs import default_vocabulary

    config = merge_config({k: v for k, v in config.items() if k not in ("device", "ray_address")})
    workdir = Path(config["workdir"])
    if ctx is None:
        ctx = _Ctx(device=device or "cpu",
                   log_dir=Path(log_dir) if log_dir else workdir / "tensorboard" / config["encoder"],
                   checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir
                   else workdir / "checkpoints" / config["encoder"],
                   seed=int(config["seed"]))
    if config["torch_threads"]:
        torch.set_num_threads(int(config["torch_threads"]))
    started = time.monotonic()
    if ctx.is_main:
        coreset = prepare(config, ctx)
    ctx.barrier()
    coreset = json.loads((workdir / "coreset.json").read_text())
    with PoolStore(workdir / "pool.sqlite") as store:
        train_ex, val_ex = split_examples(store, coreset["candidate_ids"])
    if not train_ex:
        raise OptgymError(f"{workdir} has no training programs measured on the coreset")
    k = len(coreset["candidate_ids"])
    prep_seconds = time.monotonic() - started

    torch.manual_seed(int(config["seed"]))
    temperature = float(config["temperature"])
    train_data = [to_data(e.features, e.rewards) for e in train_ex]
    val_data = [to_data(e.features, e.rewards) for e in val_ex]
    sampler = None
    if ctx.distributed:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(train_data, num_replicas=ctx.world_size, rank=ctx.rank,
                                     shuffle=True, seed=int(config["seed"]))
    loader = DataLoader(train_data, batch_size=int(config["batch_size"]), sampler=sampler,
                        shuffle=sampler is None)
    model = NvpModel(k, config["encoder"], int(config["dim"]), int(config["layers"]),
                     len(default_vocabulary()), float(config["dropout"])).to(ctx.device)
    opt = torch.optim.AdamW(model.parameters(), lr=float(config["lr"]),
                            weight_decay=float(config["weight_decay"]))
    epochs = int(config["epochs"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    start_epoch, step = 0, 0
    best: dict[str, Any] = {"val_loss": math.inf, "epoch": -1, "state": None}
    history: list[dict[str, float]] = []
    loaded = ctx.load_checkpoint()
    if loaded is not None:
        _, state = loaded
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start_epoch, step, best, history = (state["epoch"], state["step"], state["best"],
                                            state["history"])
    train_model: torch.nn.Module = model
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(
            model, device_ids=[ctx.device] if str(ctx.device).startswith("cuda") else None)

    def loss_of(m: torch.nn.Module, batch: Any) -> torch.Tensor:
        logits = m(batch)
        target = torch.softmax(batch.rewards / temperature, dim=1)
        return -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()

    def evaluate(data: list[Any]) -> tuple[float, np.ndarray]:
        model.eval()
        losses, logits = [], []
        with torch.no_grad():
            for batch in DataLoader(data, batch_size=16):
                batch = batch.to(ctx.device)
                losses.append(float(loss_of(model, batch)) * batch.num_graphs)
                logits.append(model(batch).cpu().numpy())
        model.train()
        return sum(losses) / max(len(data), 1), np.concatenate(logits) if logits else np.zeros((0, k))

    graphs_seen, train_seconds = 0, 0.0
    deadline = started + 60.0 * float(config["max_minutes"])
    max_steps = config["max_steps"]
    epoch = start_epoch
    for epoch in range(start_epoch, epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        t0 = time.monotonic()
        total, n = 0.0, 0
        for batch in loader:
            batch = batch.to(ctx.device)
            loss = loss_of(train_model, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            total += loss.item() * batch.num_graphs
            n += batch.num_graphs
            if max_steps is not None and step >= int(max_steps):
                break
        sched.step()
        train_seconds += time.monotonic() - t0
        graphs_seen += n
        train_loss = ctx.all_reduce_mean(total / max(n, 1))
        row = {"epoch": epoch, "train_loss": train_loss, "graphs_per_second":
               n / max(time.monotonic() - t0, 1e-9)}
        if val_data:
            val_loss, val_logits = evaluate(val_data)
            val_rewards = np.stack([e.rewards for e in val_ex])
            row.update(val_loss=val_loss, val_geomean_b45=budget_score(val_logits, val_rewards, 45),
                       val_geomean_b5=budget_score(val_logits, val_rewards, 5))
        history.append(row)
        ctx.log_scalars(step, **{f"nvp/{key}": v for key, v in row.items() if key != "epoch"})
        score = row.get("val_loss", train_loss)
        if score < best["val_loss"]:
            best = {"val_loss": score, "epoch": epoch,
                    "state": {key: v.detach().cpu().clone() for key, v in model.state_dict().items()}}
        ctx.save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(),
                             "scheduler": sched.state_dict(), "epoch": epoch + 1, "step": step,
                             "best": best, "history": history}, step)
        if getattr(ctx, "is_main", True):
            print(" ".join(f"{key}={v:.4g}" if isinstance(v, float) else f"{key}={v}"
                           for key, v in row.items()), flush=True)
        if time.monotonic() > deadline or (max_steps is not None and step >= int(max_steps)):
            break
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    summary = {"epochs_run": epoch + 1 - start_epoch, "steps": step, "best_epoch": best["epoch"],
               "train_programs": len(train_ex), "validation_programs": len(val_ex),
               "graphs_per_second": graphs_seen / max(train_seconds, 1e-9),
               "train_seconds": round(train_seconds, 1), "prepare_seconds": round(prep_seconds, 1),
               "final": history[-1] if history else {}}
    if history and val_data:
        summary["best"] = history[[h["epoch"] for h in history].index(best["epoch"])] \
            if best["epoch"] in [h["epoch"] for h in history] else {}
    if ctx.is_main:
        # Under `optgym train` the model goes beside the run's checkpoints (its --out).
        default_out = (workdir / "model" if isinstance(ctx, _Ctx)
                       else Path(ctx.checkpoint_dir).parent / "model")
        out = Path(config["out"] or default_out)
        metadata = {"config": config, "summary": summary, "coreset_size": k,
                    "train_programs": [e.uri for e in train_ex],
                    "validation_programs": [e.uri for e in val_ex],
                    "torch": torch.__version__}
        save_model(model, coreset, metadata, out)
        summary["model_dir"] = str(out)
    return summary
