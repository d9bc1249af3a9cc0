"""The ``inliner`` recipe: a size inliner learned on realc-v0's train projects.

Two phases, as MLGO trains its size policy:

1. **Imitation.** Each training module is compiled once as clang -Oz (no decision), with
   LLVM's remarks on; walking the environment's model with LLVM's reported decisions gives
   (features, what LLVM decided) pairs, and a logistic regression fits them. This policy is
   close to clang -Oz's own inliner, from features alone.
2. **Evolution strategies** (antithetic Gaussian perturbations of the parameters, centred-rank
   fitness, Adam) on the episode's exact reward: the mean over a batch of training modules of
   log(clang -Oz's ``.text`` / the policy's ``.text``), one compilation per module and
   candidate. Every few generations the policy is measured on the validation projects; the
   best one there is what the recipe writes (``OUT/model/inliner.npz``).

Compilations run in local worker processes (``workers``), spread over a Ray cluster with
``--ray-address``, and split over the ranks of a ``torchrun`` job (each rank compiles its share
of a generation's candidates; the fitness is summed across ranks, so every rank takes the same
step). A killed run resumes from its last generation (``--resume``).
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optgym.agents.config import RecipeConfig
from optgym.agents.train import TrainContext


@dataclass
class InlinerConfig(RecipeConfig):
    """Settings of the ``inliner`` recipe (the shipped model's are these defaults)."""

    dataset: str = "realc-v0"
    #: program URIs to train and validate on instead of the dataset's samples (tests, your code)
    train_programs: list[str] = field(default_factory=list)
    validation_programs: list[str] = field(default_factory=list)
    train_per_project: int = 6  # modules drawn from each train project
    validation_per_project: int = 3  # and from each validation project
    max_instructions: int = 6000  # leave bigger modules out of training (compile time)
    #: the evolution's phases, each scoring a module its own way: "best_of_oz", log(-Oz / ours)
    #: when ours is smaller, else 0 (the policy as a candidate the drop-ins keep only when it
    #: wins: the drop-in operating point), then "mean", log(-Oz / ours) (the policy used alone,
    #: with no -Oz to fall back on: the alone operating point, starting from the first's)
    phases: list[str] = field(default_factory=lambda: ["best_of_oz", "mean"])
    #: where evolution starts: "heuristic" (every call site decided by the environment's
    #: approximation of LLVM's heuristic) or "scan" (clang -Oz, with a gate fitted to the
    #: measured effect of flipping single call sites)
    start: str = "heuristic"
    scan: int = 0  # call sites per training module whose flip is measured ("scan" start)
    min_gain: float = 0.001  # a flip that shrinks .text by more than this is worth taking
    gate_threshold: float = 0.7  # the scan gate starts open where P(the flip pays) is above this
    #: gate shifts of the "mean" phase's policy tried on the validation projects (the one that
    #: maximizes the mean log ratio there is the alone point; a large one closes the gate:
    #: clang -Oz, so the alone point is never worse than -Oz on the validation projects)
    alone_shifts: list[float] = field(default_factory=lambda: [0.0, 0.5, 1.0, 1.5, 2.0, 3.0,
                                                               1e9])
    generations: int = 30  # per phase
    population: int = 8  # antithetic pairs per generation
    batch: int = 32  # training modules per generation
    sigma: float = 0.08  # perturbation scale (the features are standardized)
    lr: float = 0.02
    validate_every: int = 4  # generations
    workers: int = 2  # local processes compiling candidates (without Ray)
    max_seconds: float = 3000.0  # the phases share this (the whole run fits an hour)
    imitation_steps: int = 400  # gradient steps of the logistic regression
    compile_timeout: float = 120.0  # a candidate compiling longer than this counts as worse


# -- work done in worker processes ------------------------------------------------------------
_STATE: dict[str, Any] = {}


def _compiler() -> Any:
    from optgym.envs.llvm.inline import InlineCompiler

    if "compiler" not in _STATE:
        _STATE["compiler"] = InlineCompiler(compile_timeout=float(
            os.environ.get("OPTGYM_INLINER_COMPILE_TIMEOUT", "120")))
        _STATE["costs"] = {}
    return _STATE["compiler"]


def _prepared(uri: str) -> Any:
    from optgym.datasets import get_benchmark

    return _compiler().prepare(get_benchmark(uri))


def text_size(uri: str, decisions: dict) -> int | None:
    """``.text`` bytes of a module with ``decisions`` (cached per process by content); None
    when LLVM fails on them or runs out of time."""
    from optgym.errors import BenchmarkError, LlvmError
    from optgym.llvm import inlining, toolchain
    from optgym.llvm.core import elf_text_size

    prepared = _prepared(uri)
    key = (uri, hashlib.blake2b(repr(sorted(decisions.items())).encode(),
                                digest_size=16).digest())
    costs = _STATE["costs"]
    if key not in costs:
        try:
            output = inlining.replay(prepared.marked,
                                     inlining.replay_text(decisions, prepared.names), what=uri,
                                     timeout=_compiler().compile_timeout)
            costs[key] = elf_text_size(toolchain.object_file(output, what=uri,
                                                             error=BenchmarkError))
        except (LlvmError, BenchmarkError):
            costs[key] = None
    return costs[key]


def module_info(task: tuple[str, int]) -> dict[str, Any]:
    """What training needs of a module: clang -Oz's ``.text``; every call site LLVM reports
    reaching in clang -Oz, with its features and LLVM's decision (for imitation); and for up
    to ``scan`` of them, what taking the other decision there alone does to ``.text``
    (log(-Oz / flipped): above 0 when the flip makes the module smaller)."""
    from optgym.agents.inliner.search import walk
    from optgym.llvm import inlining

    uri, scan = task
    prepared = _prepared(uri)
    compiler = _compiler()
    empty = {"uri": uri, "sites": 0}
    try:
        _, known = inlining.replay_with_remarks(prepared.marked, "", prepared.names, what=uri,
                                                timeout=compiler.compile_timeout)
        oz_text = int(prepared.oz_text)
    except Exception:  # noqa: BLE001 - a module LLVM fails on is left out of training
        return empty
    xs, ys, chains = [], [], []

    def teacher(episode: Any, site: Any) -> bool:
        decided = known.get(site.chain, episode.functions[site.caller].name)
        if decided is not None:
            xs.append(episode.features(site))
            ys.append(float(decided))
            chains.append(site.chain)
            return decided
        return episode.heuristic_inlines(site)

    _, made = walk(prepared, teacher)
    gains = np.full(len(ys), np.nan)
    order = list(range(len(ys)))
    random.Random(uri).shuffle(order)
    for i in order[:scan]:
        size = text_size(uri, {chains[i]: not ys[i]})
        if size is not None and oz_text > 0:
            gains[i] = math.log(oz_text / max(size, 1))
    return {"uri": uri, "sites": len(made), "oz_text": oz_text,
            "x": np.asarray(xs, np.float32).reshape(-1, len(prepared_features())),
            "y": np.asarray(ys, np.float32), "gain": gains}


def prepared_features() -> tuple[str, ...]:
    from optgym.envs.llvm.inline import FEATURES

    return FEATURES


def episode_log_ratio(task: tuple[str, Any, int]) -> float:
    """log(clang -Oz's .text / the policy's) on one module (a failed compile counts as 5%
    larger than -Oz, so that candidates which break LLVM lose)."""
    uri, policy, oz_text = task
    size = text_size(uri, policy.decide(_prepared(uri)))
    if size is None or oz_text <= 0:
        return math.log(1 / 1.05) if oz_text > 0 else 0.0
    return math.log(oz_text / max(size, 1))


# -- the recipe -------------------------------------------------------------------------------
def _pool_map(ctx: TrainContext, workers: int, fn: Any, items: list[Any]) -> list[Any]:
    if ctx.ray_address is not None:
        return ctx.map(fn, items)
    if workers <= 1:
        return [fn(x) for x in items]
    if "pool" not in _STATE:
        _STATE["pool"] = ProcessPoolExecutor(max_workers=workers)
    return list(_STATE["pool"].map(fn, items, chunksize=max(1, len(items) // (4 * workers))))


def _rank_map(ctx: TrainContext, workers: int, fn: Any, items: list[Any]) -> list[float]:
    """``fn`` over ``items``, each rank doing its share, summed across ranks."""
    mine = list(range(ctx.rank, len(items), ctx.world_size))
    values = np.zeros(len(items))
    for i, v in zip(mine, _pool_map(ctx, workers, fn, [items[i] for i in mine]), strict=True):
        values[i] = v
    if ctx.distributed:
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        values = t.numpy()
    return values.tolist()


def _modules(config: InlinerConfig, split: str, per_project: int) -> list[str]:
    from optgym.datasets import get_dataset

    return get_dataset(config.dataset).sample_uris(split, per_project,
                                                   max_instructions=config.max_instructions)


def imitate(x: np.ndarray, y: np.ndarray, steps: int, *, mean: np.ndarray | None = None,
            std: np.ndarray | None = None, weights: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A logistic regression (Adam on the weighted mean log-loss) of ``y`` on ``x``
    standardized (by ``mean``/``std`` when given): (mean, std, weights, bias)."""
    if mean is None or std is None:
        mean = x.mean(0)
        std = x.std(0)
        std[std < 1e-6] = 1.0
    z = (x - mean) / std
    weights = np.ones(len(y)) if weights is None else weights
    theta = np.zeros(x.shape[1] + 1)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, steps + 1):
        logits = z @ theta[:-1] + theta[-1]
        g = (1 / (1 + np.exp(-logits)) - y) * weights
        grad = np.concatenate([z.T @ g / len(y), [g.mean()]])
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        theta = theta - 0.05 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return mean, std, theta[:-1], float(theta[-1])


def initial_policy(infos: list[dict[str, Any]], config: InlinerConfig
                   ) -> tuple[Any, dict[str, float]]:
    """The policy evolution starts from: with ``start="heuristic"``, the gate open everywhere
    and the direction the environment's approximation of LLVM's heuristic. With ``"scan"``,
    the direction is the opposite of what a logistic
    regression predicts LLVM decides (a call site worth taking from LLVM is one where it should
    decide otherwise); the gate is a logistic regression of whether taking the other decision
    at a call site alone shrinks ``.text`` by more than ``min_gain`` (classes weighed equally),
    open where that is likelier than ``gate_threshold``."""
    from optgym.agents.inliner.policy import InlinerPolicy

    x = np.concatenate([i["x"] for i in infos])
    y = np.concatenate([i["y"] for i in infos])
    gain = np.concatenate([i["gain"] for i in infos])
    mean, std, w, b = imitate(x, y, config.imitation_steps)
    accuracy = float(np.mean(((((x - mean) / std) @ w + b) > 0) == (y > 0.5))) if len(y) else 0.0
    if config.start == "heuristic":
        from optgym.envs.llvm.inline import FEATURES

        direction = np.zeros_like(w)
        direction[FEATURES.index("heuristic_inlines")] = 1.0  # > 0 exactly where it says inline
        return InlinerPolicy(mean, std, np.zeros_like(w), 1.0, direction, 0.0), {
            "imitation_pairs": int(len(y)), "imitation_accuracy": accuracy}
    scanned = ~np.isnan(gain)
    label = (gain[scanned] > config.min_gain).astype(float)
    stats = {"imitation_pairs": int(len(y)), "imitation_accuracy": accuracy,
             "scanned": int(scanned.sum()), "helpful_flips": int(label.sum())}
    if 0 < label.sum() < len(label):
        weights = np.where(label > 0, 0.5 / label.mean(), 0.5 / (1 - label.mean()))
        _, _, gw, gb = imitate(x[scanned], label, config.imitation_steps, mean=mean, std=std,
                               weights=weights)
        gb -= math.log(config.gate_threshold / (1 - config.gate_threshold))
    else:
        gw, gb = np.zeros_like(w), -1.0
    return InlinerPolicy(mean, std, gw, gb, -w, -b), stats


def centred_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [-0.5, 0.5], ties sharing their mean rank (candidates that compile to
    the same modules must push the parameters nowhere)."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks / max(len(values) - 1, 1) - 0.5


def _geomean(logs: list[float]) -> float:
    return math.exp(sum(logs) / max(len(logs), 1))


SCORES = {"best_of_oz": lambda logs: np.maximum(logs, 0.0), "mean": lambda logs: logs}


def _evolve(ctx: TrainContext, config: InlinerConfig, policy: Any, phase: int,
            train: list[tuple[str, int]], val: list[tuple[str, int]], deadline: float,
            state: dict[str, Any] | None, log: dict[str, list]) -> np.ndarray:
    """One phase of evolution strategies from ``policy`` (or a checkpoint's ``state``);
    returns the parameters that scored best on the validation projects."""
    name = config.phases[phase]
    score = SCORES[name]
    rng = np.random.default_rng(config.seed + 1000 * phase)
    module_rng = random.Random(f"{config.seed}:{phase}")

    def validate(theta: np.ndarray) -> float:
        logs = np.asarray(_rank_map(ctx, config.workers, episode_log_ratio,
                                    [(u, policy.with_flat(theta), oz) for u, oz in val]))
        return math.exp(float(score(logs).mean())) if len(logs) else 1.0

    theta = policy.flat()
    if state is not None:
        theta, m, v, generation = state["theta"], state["m"], state["v"], state["generation"]
        best_theta, best_val = state["best_theta"], state["best_val"]
        for _ in range(generation):  # the same noise and batches as the run that stopped
            rng.standard_normal((config.population, theta.size))
            module_rng.sample(train, min(config.batch, len(train)))
    else:
        m, v, generation = np.zeros_like(theta), np.zeros_like(theta), 0
        best_theta, best_val = theta.copy(), validate(theta)
        log["validation"].append((name, 0, best_val))
    step = sum(config.generations for _ in config.phases[:phase])
    while generation < config.generations and time.monotonic() < deadline:
        generation += 1
        noise = rng.standard_normal((config.population, theta.size))
        candidates = [theta + config.sigma * e for e in noise] + \
                     [theta - config.sigma * e for e in noise]
        batch = module_rng.sample(train, min(config.batch, len(train)))
        tasks = [(u, policy.with_flat(c), oz) for c in candidates for u, oz in batch]
        values = np.asarray(_rank_map(ctx, config.workers, episode_log_ratio, tasks))
        fitness = score(values).reshape(len(candidates), len(batch)).mean(1)
        shaped = centred_ranks(fitness)
        half = config.population
        grad = ((shaped[:half] - shaped[half:])[:, None] * noise).sum(0) / (2 * half * config.sigma)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        theta = theta + config.lr * (m / (1 - 0.9 ** generation)) / (
            np.sqrt(v / (1 - 0.999 ** generation)) + 1e-8)
        ctx.log_scalars(step + generation, **{f"{name}/mean_fitness": float(fitness.mean()),
                                              f"{name}/best_fitness": float(fitness.max())})
        log["fitness"].append((name, generation, float(fitness.mean()), float(fitness.max())))
        if generation % config.validate_every == 0 or generation == config.generations:
            value = validate(theta)
            log["validation"].append((name, generation, value))
            ctx.log_scalars(step + generation, **{f"{name}/validation_geomean": value})
            if value > best_val:
                best_val, best_theta = value, theta.copy()
        ctx.save_checkpoint({"phase": phase, "theta": theta, "m": m, "v": v,
                             "generation": generation, "best_theta": best_theta,
                             "best_val": best_val, "done": log["done"], "log": log,
                             "mean": policy.mean, "std": policy.std}, step + generation)
    log["done"].append(best_theta)
    log["best"].append((name, best_val))
    return best_theta


def train_inliner(config: InlinerConfig, ctx: TrainContext) -> dict[str, Any]:
    """Imitation statistics, then evolution strategies in ``phases``; writes
    ``OUT/model/inliner.npz`` (the drop-in point, and the alone point beside it)."""
    from optgym.errors import OptgymError

    unknown = [p for p in config.phases if p not in SCORES]
    if unknown or not config.phases:
        raise OptgymError(f"phases must be a list of {', '.join(SCORES)}, not {config.phases!r}")
    started = time.monotonic()
    os.environ["OPTGYM_INLINER_COMPILE_TIMEOUT"] = str(config.compile_timeout)
    out_dir = ctx.checkpoint_dir.parent
    model_path = out_dir / "model" / "inliner.npz"

    train_uris = list(config.train_programs) or _modules(config, "train",
                                                         config.train_per_project)
    val_uris = list(config.validation_programs) or _modules(config, "validation",
                                                            config.validation_per_project)
    infos = [i for i in _pool_map(ctx, config.workers, module_info,
                                  [(u, config.scan) for u in train_uris]) if i["sites"]]
    val_infos = [i for i in _pool_map(ctx, config.workers, module_info,
                                      [(u, 0) for u in val_uris]) if i["sites"]]
    train = [(i["uri"], i["oz_text"]) for i in infos if i["oz_text"] > 0]
    val = [(i["uri"], i["oz_text"]) for i in val_infos if i["oz_text"] > 0]
    policy, start_stats = initial_policy(infos, config)
    ctx.log_scalars(0, **{f"start/{k}": v for k, v in start_stats.items()})

    log: dict[str, list] = {"validation": [], "fitness": [], "done": [], "best": []}
    first, state = 0, None
    loaded = ctx.load_checkpoint()
    if loaded is not None:
        _, state = loaded
        log = state["log"]
        log["done"] = list(state["done"])
        first = state["phase"]
        policy = type(policy)(state["mean"], state["std"], policy.gate, policy.gate_bias,
                              policy.direction, policy.direction_bias)
        if log["done"] and len(log["done"]) > first:  # the checkpointed phase had finished
            first, state = first + 1, None
        if first > 0:
            policy = policy.with_flat(log["done"][first - 1])
    share = config.max_seconds / len(config.phases)
    for phase in range(first, len(config.phases)):
        deadline = started + share * (phase + 1 - first) if state is None else \
            started + share * (len(config.phases) - phase)
        best = _evolve(ctx, config, policy, phase, train, val, deadline, state, log)
        policy, state = policy.with_flat(best), None
    points = dict(zip(config.phases, log["done"], strict=True))
    drop_in = policy.with_flat(points.get("best_of_oz", log["done"][0]))
    # the alone point: the gate shift of the last phase's policy that does best alone on the
    # validation projects (a closed gate, clang -Oz, is among them)
    last = policy.with_flat(log["done"][-1])
    alone_table = []
    for shift in config.alone_shifts:
        logs = np.asarray(_rank_map(ctx, config.workers, episode_log_ratio,
                                    [(u, last.shifted(shift), oz) for u, oz in val]))
        alone_table.append((float(shift), math.exp(float(logs.mean())) if len(logs) else 1.0,
                            int((logs > 0).sum()), int((logs < 0).sum())))
    alone_shift, alone_geomean = max(alone_table, key=lambda t: (t[1], t[0]))[:2]
    alone = last.shifted(alone_shift)
    summary = {"train_modules": len(train), "validation_modules": len(val), **start_stats,
               "phases": config.phases, "generations": config.generations,
               "validation_best": log["best"], "validation_history": log["validation"],
               "fitness_history": log["fitness"], "alone_shift": alone_shift,
               "alone_validation_geomean": alone_geomean, "alone_shifts": alone_table,
               "param_digest": hashlib.sha256(drop_in.flat().tobytes() +
                                              alone.flat().tobytes()).hexdigest(),
               "seconds": round(time.monotonic() - started, 1)}
    if ctx.is_main:
        drop_in.alone = alone
        drop_in.save(model_path, {"recipe": "inliner", "config": {
            k: getattr(config, k) for k in config.__dataclass_fields__}, **summary})
    pool = _STATE.pop("pool", None)
    if pool is not None:
        pool.shutdown()
    return {**summary, "model": str(Path(model_path))}
