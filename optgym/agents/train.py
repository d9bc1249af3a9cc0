"""The training framework: one entry for every learned agent, from a laptop to a cluster.

A *recipe* is a function ``recipe(config: XConfig, ctx: TrainContext) -> dict`` that trains one
kind of model; ``XConfig`` is its typed configuration (a dataclass, see
:mod:`optgym.agents.config`), found from the annotation. This module gives a recipe what every
recipe needs and none should write twice: the device (CUDA when present), the process group
when launched by ``torchrun`` (NCCL on GPU, gloo on CPU), a TensorBoard writer, progress bars
that only the main rank draws, atomic checkpoints with resume, gradient sharing for
data-parallel training, and Ray (a cluster address, or a local instance) for parallel work.

Recipes are registered by name as ``"module:function"`` strings and imported only when run,
so naming every recipe here costs nothing at import time::

    from optgym.agents.train import run
    run("ppo-llvm", {"total_timesteps": 20000}, out="runs/ppo")

``optgym train`` and ``scripts/train.py`` are thin command lines over :func:`run`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from optgym.agents.config import from_dict, load_config, parse_overrides, read_yaml, to_dict
from optgym.agents.registry import LazyRegistry
from optgym.cache import atomic_path, atomic_write
from optgym.errors import OptgymError

#: Recipe names -> "module:function"; the function is imported when the recipe runs.
RECIPES = LazyRegistry("recipe", {
    "nvp": "optgym.agents.nvp.train:train_nvp",
    "ppo-llvm": "optgym.agents.ppo.train:train_ppo",
    "autophase-oz": "optgym.agents.autophase_oz:train_autophase_oz",
    "memory-ppo": "optgym.memory.agents.recipes:train_memory_ppo",
    "memory-mcts": "optgym.memory.agents.recipes:train_memory_mcts",
    "inliner": "optgym.agents.inliner.train:train_inliner",
})


def register_recipe(name: str, target: str | Callable[..., Any]) -> None:
    """Make ``optgym train NAME`` run ``target`` (a function or ``"module:function"``)."""
    RECIPES.register(name, target)


def recipe_names() -> list[str]:
    """Names of every registered recipe."""
    return RECIPES.names()


def load_recipe(name: str) -> Callable[..., Any]:
    """The recipe function for a registered name or a user's ``module:function``."""
    fn = RECIPES.get(name)
    if not callable(fn):
        raise OptgymError(f"recipe {name!r} is not a function")
    return fn


def config_class(recipe: Callable[..., Any]) -> type | None:
    """The config dataclass a recipe's first parameter is annotated with (None: a plain dict)."""
    import inspect

    params = list(inspect.signature(recipe).parameters)
    if not params:
        raise OptgymError(f"recipe {recipe.__name__} takes no configuration parameter")
    try:
        hint = typing.get_type_hints(recipe).get(params[0])
    except NameError:
        hint = None
    return hint if isinstance(hint, type) and is_dataclass(hint) else None


def resolve_config(recipe: str, config: Any = None, path: str | os.PathLike[str] | None = None,
                   overrides: Iterable[str] = ()) -> Any:
    """A recipe's typed configuration: its defaults, then ``path``'s YAML, then ``config``
    (an instance, or a mapping of what differs), then ``KEY=VALUE`` overrides. A user's recipe
    without a config class gets a plain dict of the same, merged."""
    cls = config_class(load_recipe(recipe))
    extra = parse_overrides(overrides)
    if cls is None:
        return {**(read_yaml(path) if path is not None else {}), **dict(config or {}), **extra}
    typed = config if isinstance(config, cls) else load_config(cls, path)
    if config and not isinstance(config, cls):
        typed = from_dict(cls, dict(config), source=f"{recipe} config", base=typed)
    if extra:
        typed = from_dict(cls, extra, source="--set", base=typed)
    return typed


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
        """Yield a temporary path in the checkpoint directory; on success it becomes ``name``
        (for files written by other libraries, such as Stable-Baselines3 zips)."""
        with atomic_path(self.checkpoint_dir / name) as tmp:
            yield tmp

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

    def share_gradients(self, module: Any) -> None:
        """Make ``module`` train data-parallel: start every rank from rank 0's weights, and
        average each gradient over the ranks as backward accumulates it, so that whatever the
        caller does next (clipping, the optimizer step) sees the averaged gradient, as with
        DistributedDataParallel. For training loops we do not own (SB3's), where DDP's
        wrapper cannot go; every parameter must take part in every loss (true of an SB3
        actor-critic), or the ranks' all-reduces would not pair up.
        """
        if not self.distributed:
            return
        import torch
        import torch.distributed as dist

        world = self.world_size

        def average(p: Any) -> None:
            dist.all_reduce(p.grad)
            p.grad /= world

        with torch.no_grad():
            for p in module.parameters():
                dist.broadcast(p.data, src=0)
        for p in module.parameters():
            if p.requires_grad:
                p.register_post_accumulate_grad_hook(average)

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


def run(recipe: str, config: Any = None, *, out: str | os.PathLike[str] | None = None,
        resume: bool = False, ray_address: str | None = None, device: str | None = None,
        progress: bool = True) -> dict[str, Any]:
    """Run a recipe with a fresh :class:`TrainContext`; returns the recipe's summary dict.

    ``config`` is the recipe's config dataclass, or a mapping of the settings that differ from
    its defaults (unknown keys are a :class:`~optgym.agents.config.ConfigError`). Under
    ``torchrun`` every rank calls this; each writes ``summary-rank{R}.json`` in ``out``.
    """
    fn = load_recipe(recipe)
    typed = resolve_config(recipe, config)
    settings = to_dict(typed) if is_dataclass(typed) else dict(typed)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device or settings.get("device"), local)
    rank, world, local = _init_distributed(device)
    out_dir = Path(out or f"runs/{recipe}")
    ctx = TrainContext(
        device=device, rank=rank, world_size=world, local_rank=local,
        log_dir=out_dir / "tensorboard", checkpoint_dir=out_dir / "checkpoints",
        ray_address=ray_address or settings.get("ray_address"), resume=resume,
        progress_bars=progress, seed=int(settings.get("seed") or 0),
    )
    started = time.monotonic()
    try:
        if ctx.is_main:
            out_dir.mkdir(parents=True, exist_ok=True)
            _atomic_json(out_dir / "config.json", {"recipe": recipe, "config": settings,
                                                   "world_size": world, "device": device,
                                                   "host": socket.gethostname()})
        summary = fn(typed, ctx) or {}
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
