"""The training framework: one entry for every learned agent, from a laptop to a cluster.

A *recipe* is a function ``recipe(config: dict, ctx: TrainContext) -> dict`` that trains one
kind of model. This module gives it what every recipe needs and none should write twice:
the device (CUDA when present), the process group when launched by ``torchrun`` (NCCL on GPU,
gloo on CPU), a TensorBoard writer, progress bars that only the main rank draws, atomic
checkpoints with resume, and Ray (a cluster address, or a local instance) for parallel work.

Recipes are registered by name as ``"module:function"`` strings and imported only when run,
so naming every recipe here costs nothing at import time::

    from optgym.agents.train import run
    run("ppo-llvm", {"total_timesteps": 20000}, out="runs/ppo")

``optgym train`` and ``scripts/train.py`` are thin command lines over :func:`run`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optgym.cache import atomic_write
from optgym.errors import OptgymError

#: Recipe names -> "module:function"; the function is imported when the recipe runs.
RECIPES: dict[str, str] = {
    "nvp": "optgym.agents.nvp.train:train_nvp",
    "ppo-llvm": "optgym.agents.ppo:train_ppo",
    "autophase-oz": "optgym.agents.train:train_autophase_oz",
    "memory-ppo": "optgym.agents.train:train_memory_ppo",
    "memory-mcts": "optgym.agents.train:train_memory_mcts",
}

#: Where the shipped configuration of each recipe lives (package data).
CONFIG_DIR = Path(__file__).parent / "configs"


def register_recipe(name: str, target: str) -> None:
    """Make ``optgym train NAME`` run ``target`` ("module:function")."""
    if ":" not in target:
        raise OptgymError(f"recipe target {target!r} must be 'module:function'")
    RECIPES[name] = target


def recipe_names() -> list[str]:
    """Names of every registered recipe."""
    return sorted(RECIPES)


def load_recipe(name: str) -> Callable[[dict[str, Any], TrainContext], Any]:
    """The recipe function for a registered name or a user's ``module:function``."""
    target = RECIPES.get(name, name)
    if ":" not in target:
        raise OptgymError(
            f"unknown recipe {name!r}; known: {', '.join(recipe_names())}, "
            "or a 'module:function' of your own"
        )
    module_name, attr = target.split(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise OptgymError(f"recipe {name!r}: cannot import {module_name}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise OptgymError(f"recipe {name!r}: {module_name} has no function {attr!r}")
    return fn


def default_config_path(name: str) -> Path | None:
    """The shipped YAML configuration of a recipe, if it has one."""
    path = CONFIG_DIR / f"{name}.yaml"
    return path if path.exists() else None


def load_config(path: str | os.PathLike[str] | None, overrides: Iterable[str] = ()) -> dict[str, Any]:
    """Read a YAML configuration and apply ``key.sub=value`` overrides (values parsed as YAML)."""
    import yaml

    config: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise OptgymError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise OptgymError(f"config file {path} is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise OptgymError(f"config file {path} must hold a mapping, not {type(loaded).__name__}")
        config = loaded or {}
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise OptgymError(f"override {item!r} is not KEY=VALUE")
        node = config
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise OptgymError(f"override {item!r}: {part!r} is not a section")
        node[parts[-1]] = yaml.safe_load(text)
    return config


# ---------------------------------------------------------------------------------------------
@dataclass
class TrainContext:
    """Everything a recipe needs to know about where and how it runs.

    ``rank``/``world_size`` come from ``torchrun`` (0/1 otherwise); only the main rank
    (``is_main``) writes logs and checkpoints. ``ray_address`` is None (no Ray), ``"local"``
    (start a local instance on first use) or a cluster address (``ray://host:10001`` or
    ``host:6379``).
    """

    device: str = "cpu"
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    log_dir: Path = field(default_factory=lambda: Path("runs/default"))
    checkpoint_dir: Path = field(default_factory=lambda: Path("runs/default/checkpoints"))
    ray_address: str | None = None
    resume: bool = False
    progress_bars: bool = True
    seed: int = 0
    _writer: Any = None
    _ray_started: bool = False

    @property
    def is_main(self) -> bool:
        """True on the one process that logs and saves (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when a process group with more than one process is running."""
        return self.world_size > 1

    # -- logging ------------------------------------------------------------------------------
    @property
    def writer(self) -> Any:
        """A TensorBoard ``SummaryWriter`` on the main rank; a no-op stand-in elsewhere."""
        if self._writer is None:
            if self.is_main:
                from torch.utils.tensorboard import SummaryWriter

                self.log_dir.mkdir(parents=True, exist_ok=True)
                self._writer = SummaryWriter(log_dir=str(self.log_dir))
            else:
                self._writer = _NullWriter()
        return self._writer

    def log_scalars(self, step: int, **values: float) -> None:
        """Log several scalars at one step (main rank only)."""
        if not self.is_main:
            return
        for name, value in values.items():
            self.writer.add_scalar(name, float(value), step)

    def progress(self, iterable: Iterable[Any] | None = None, *, total: int | None = None,
                 desc: str = "", initial: int = 0) -> Any:
        """A tqdm progress bar that only the main rank draws."""
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, initial=initial, dynamic_ncols=True,
                    disable=not (self.progress_bars and self.is_main))

    # -- checkpoints --------------------------------------------------------------------------
    @property
    def latest_checkpoint(self) -> Path:
        """Path of the checkpoint :meth:`load_checkpoint` resumes from."""
        return self.checkpoint_dir / "latest.pt"

    @contextlib.contextmanager
    def atomic_path(self, name: str) -> Iterator[Path]:
        """Yield a temporary path in the checkpoint directory; on success it becomes ``name``.

        For files written by other libraries (Stable-Baselines3 zips): nothing half-written
        ever carries the final name.
        """
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        final = self.checkpoint_dir / name
        fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}-", suffix=final.suffix,
                                   dir=self.checkpoint_dir)
        os.close(fd)
        try:
            yield Path(tmp)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; checkpoints are not
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def save_checkpoint(self, state: dict[str, Any], step: int, *, keep: int = 3) -> Path | None:
        """Save ``state`` (anything ``torch.save`` takes) as step ``step`` and as ``latest.pt``.

        Main rank only (other ranks return None). Older numbered checkpoints beyond ``keep``
        are removed.
        """
        if not self.is_main:
            return None
        import torch

        payload = {"step": int(step), "time": time.time(), "state": state}
        with self.atomic_path(f"step-{int(step):09d}.pt") as tmp:
            torch.save(payload, tmp)
        numbered = self.checkpoint_dir / f"step-{int(step):09d}.pt"
        with self.atomic_path("latest.pt") as tmp:
            tmp.write_bytes(numbered.read_bytes())
        for old in sorted(self.checkpoint_dir.glob("step-*.pt"))[:-keep]:
            old.unlink(missing_ok=True)
        return numbered

    def load_checkpoint(self, map_location: Any = None) -> tuple[int, dict[str, Any]] | None:
        """``(step, state)`` of the latest checkpoint when resuming, else None.

        Every rank reads the same file, so all ranks continue from the same step.
        """
        if not self.resume or not self.latest_checkpoint.exists():
            return None
        import torch

        payload = torch.load(self.latest_checkpoint, map_location=map_location or self.device,
                             weights_only=False)
        return int(payload["step"]), payload["state"]

    # -- distributed helpers ------------------------------------------------------------------
    def barrier(self) -> None:
        """Wait for every rank (no-op when not distributed)."""
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    def all_reduce_mean(self, value: float) -> float:
        """The mean of a number over ranks (itself when not distributed)."""
        if not self.distributed:
            return float(value)
        import torch
        import torch.distributed as dist

        t = torch.tensor([float(value)], device=self.device)
        dist.all_reduce(t)
        return float(t.item()) / self.world_size

    # -- Ray ------------------------------------------------------------------------------------
    def ray(self) -> Any:
        """The ``ray`` module, connected: to ``ray_address``, or to a local instance we start.

        Raises when the context has no Ray address (recipes check ``ctx.ray_address`` first).
        """
        if self.ray_address is None:
            raise OptgymError("this run has no Ray address; pass --ray-address (or 'local')")
        import ray

        if not ray.is_initialized():
            if self.ray_address == "local":
                ray.init(num_cpus=max(1, os.cpu_count() or 1), include_dashboard=False,
                         log_to_driver=False)
                self._ray_started = True
            else:
                ray.init(address=self.ray_address, log_to_driver=False)
        return ray

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *, desc: str = "") -> list[Any]:
        """``[fn(x) for x in items]``, spread over the Ray cluster when the run has one.

        ``fn`` must be picklable (a module-level function or ``functools.partial`` of one).
        """
        items = list(items)
        if self.ray_address is None:
            return [fn(x) for x in self.progress(items, desc=desc)]
        ray = self.ray()
        remote = ray.remote(num_cpus=1)(_call)
        refs = [remote.remote(fn, x) for x in items]
        results: dict[Any, Any] = {}
        pending = list(refs)
        with self.progress(total=len(refs), desc=desc) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    results[ref] = ray.get(ref)
                    bar.update(1)
        return [results[r] for r in refs]

    def close(self) -> None:
        """Flush logs and shut down what this context started."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._ray_started:
            import ray

            ray.shutdown()
            self._ray_started = False


def _call(fn: Callable[[Any], Any], x: Any) -> Any:
    return fn(x)


class _NullWriter:
    """Stands in for a SummaryWriter on ranks that do not log."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


# ---------------------------------------------------------------------------------------------
def pick_device(requested: str | None = None, local_rank: int = 0) -> str:
    """``requested`` if given (``cpu``, ``cuda``, ``cuda:1``), else this rank's GPU or the CPU."""
    import torch

    if requested and requested != "auto":
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise OptgymError(f"device {requested!r} asked for, but CUDA is not available")
        return requested
    if torch.cuda.is_available():
        return f"cuda:{local_rank % torch.cuda.device_count()}"
    return "cpu"


def _init_distributed(device: str) -> tuple[int, int, int]:
    """Join the process group ``torchrun`` describes in the environment; (rank, world, local)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if world > 1:
        import torch
        import torch.distributed as dist

        if not dist.is_initialized():
            backend = "nccl" if device.startswith("cuda") else "gloo"
            if device.startswith("cuda"):
                torch.cuda.set_device(torch.device(device))
            dist.init_process_group(backend=backend)
    return rank, world, local


def run(recipe: str, config: dict[str, Any] | None = None, *, out: str | os.PathLike[str] | None = None,
        resume: bool = False, ray_address: str | None = None, device: str | None = None,
        progress: bool = True) -> dict[str, Any]:
    """Run a recipe with a fresh :class:`TrainContext`; returns the recipe's summary dict.

    Under ``torchrun`` every rank calls this; each writes ``summary-rank{R}.json`` in ``out``.
    """
    config = dict(config or {})
    fn = load_recipe(recipe)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device or config.get("device"), local)
    rank, world, local = _init_distributed(device)
    out_dir = Path(out or f"runs/{recipe}")
    ctx = TrainContext(
        device=device, rank=rank, world_size=world, local_rank=local,
        log_dir=out_dir / "tensorboard", checkpoint_dir=out_dir / "checkpoints",
        ray_address=ray_address or config.get("ray_address"), resume=resume,
        progress_bars=progress, seed=int(config.get("seed", 0)),
    )
    started = time.monotonic()
    try:
        if ctx.is_main:
            out_dir.mkdir(parents=True, exist_ok=True)
            _atomic_json(out_dir / "config.json", {"recipe": recipe, "config": config,
                                                   "world_size": world, "device": device,
                                                   "host": socket.gethostname()})
        summary = fn(config, ctx) or {}
        if not isinstance(summary, dict):
            summary = {"result": repr(summary)}
        summary = {"recipe": recipe, "rank": rank, "world_size": world, "device": device,
                   "seconds": round(time.monotonic() - started, 3), **summary}
        out_dir.mkdir(parents=True, exist_ok=True)
        _atomic_json(out_dir / f"summary-rank{rank}.json", summary)
        return summary
    finally:
        ctx.close()
        if world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def _atomic_json(path: Path, data: Any) -> None:
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True, default=str).encode())


def parameter_digest(module: Any) -> str:
    """A hash of a torch module's parameters: equal on ranks whose weights are identical."""
    h = hashlib.sha256()
    for name, p in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# A small supervised recipe on real Autophase features, with real DDP.

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
            o0 = max(int(env.observation["IrInstructionCountO0"]), 1)
            feats.append(np.log1p(np.asarray(obs, dtype=np.float64)))
            targets.append([int(env.observation["IrInstructionCountO3"]) / o0,
                            int(env.observation["IrInstructionCountOz"]) / o0])
    finally:
        env.close()
    return (torch.tensor(np.stack(feats), dtype=torch.float32),
            torch.tensor(targets, dtype=torch.float32))


def train_autophase_oz(config: dict[str, Any], ctx: TrainContext) -> dict[str, Any]:
    """Regress how much -O3/-Oz shrink a program from its Autophase features (an MLP).

    Small enough to run anywhere and the framework's reference recipe: DDP across ranks
    (each rank trains on its shard, gradients all-reduced), TensorBoard, checkpoint/resume.
    Config: ``dataset``, ``split``, ``csmith`` (extra csmith seeds), ``epochs``, ``batch_size``,
    ``lr``, ``hidden``, ``checkpoint_every`` (epochs).
    """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    from optgym.datasets import get_dataset

    torch.manual_seed(ctx.seed)
    uris = get_dataset(config.get("dataset", "builtin-v0")).benchmark_uris(config.get("split", "train"))
    if config.get("csmith", 0):
        uris += get_dataset("csmith-v0").first_uris(int(config["csmith"]), "train")
    x, y = autophase_oz_dataset(uris, lambda it: ctx.progress(it, desc="features"))
    mean, std = x.mean(0), x.std(0).clamp_min(1e-3)
    data = TensorDataset((x - mean) / std, y)
    sampler = DistributedSampler(data, num_replicas=ctx.world_size, rank=ctx.rank,
                                 shuffle=True, seed=ctx.seed) if ctx.distributed else None
    loader = DataLoader(data, batch_size=int(config.get("batch_size", 8)), sampler=sampler,
                        shuffle=sampler is None)
    hidden = int(config.get("hidden", 64))
    model = nn.Sequential(nn.Linear(x.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                          nn.ReLU(), nn.Linear(hidden, y.shape[1])).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=float(config.get("lr", 1e-3)))
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
    epochs = int(config.get("epochs", 50))
    every = int(config.get("checkpoint_every", 10))
    loss_value = float("nan")
    first_loss: float | None = None
    for epoch in ctx.progress(range(start_epoch, epochs), total=epochs, initial=start_epoch,
                              desc="autophase-oz"):
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
        if (epoch + 1) % every == 0 or epoch + 1 == epochs:
            ctx.save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                 "epoch": epoch + 1, "step": step,
                                 "mean": mean, "std": std}, step)
    return {"epochs": epochs, "start_epoch": start_epoch, "steps": step, "programs": len(uris),
            "first_loss": first_loss, "final_loss": loss_value,
            "param_digest": parameter_digest(model)}


# ---------------------------------------------------------------------------------------------
# Memory-mapping recipes: adapters over optgym.agents.memory's own training functions.

def train_memory_ppo(config: dict[str, Any], ctx: TrainContext) -> dict[str, Any]:
    """MaskablePPO on ``optgym/memory-v0`` (optgym.agents.memory.ppo.train_ppo).

    Config: ``workloads`` (list), ``hardware``, ``steps``, ``n_steps``, ``imitation_epochs``.
    The model is saved to ``checkpoints/memory-ppo.zip``.
    """
    from optgym.agents.memory.ppo import train_ppo

    workloads = list(config.get("workloads") or [])
    if not workloads:
        raise OptgymError("memory-ppo: the config needs a non-empty 'workloads' list")
    out = ctx.checkpoint_dir / "memory-ppo.zip" if ctx.is_main else None
    train_ppo(workloads, config.get("hardware", "tpu-like"), steps=int(config.get("steps", 20000)),
              seed=ctx.seed + ctx.rank, out=out, progress=ctx.progress_bars and ctx.is_main,
              n_steps=int(config.get("n_steps", 256)),
              imitation_epochs=int(config.get("imitation_epochs", 200)))
    return {"model": str(out) if out else None, "workloads": workloads}


def train_memory_mcts(config: dict[str, Any], ctx: TrainContext) -> dict[str, Any]:
    """AlphaZero-style self-play on ``optgym/memory-v0`` (optgym.agents.memory.mcts.train_mcts).

    Config: ``workloads``, ``hardware``, ``iterations``, ``episodes_per_iteration``,
    ``simulations``, ``epochs``, ``max_seconds``. The net goes to ``checkpoints/memory-mcts.pt``.
    """
    from optgym.agents.memory.mcts import train_mcts

    workloads = list(config.get("workloads") or [])
    if not workloads:
        raise OptgymError("memory-mcts: the config needs a non-empty 'workloads' list")
    out = ctx.checkpoint_dir / "memory-mcts.pt" if ctx.is_main else None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
    _, log = train_mcts(
        workloads, config.get("hardware", "tpu-like"),
        iterations=int(config.get("iterations", 4)),
        episodes_per_iteration=int(config.get("episodes_per_iteration", 1)),
        simulations=int(config.get("simulations", 8)), epochs=int(config.get("epochs", 20)),
        out=out, seed=ctx.seed + ctx.rank, progress=ctx.progress_bars and ctx.is_main,
        max_seconds=config.get("max_seconds"),
    )
    for entry in log:
        ctx.log_scalars(int(entry["iteration"]), **{
            "mcts/loss": entry["loss"], "mcts/runtime_vs_baseline": entry["runtime_vs_baseline"]})
    return {"model": str(out) if out else None, "iterations": len(log),
            "final": log[-1] if log else None}
