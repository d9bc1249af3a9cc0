"""Pool generation: random search on training programs, then every candidate on every program.

For each training program, random episodes (steps drawn from the flags-and-pipelines action
set) run one step at a time; each episode's best prefix (the shortest prefix reaching its
lowest instruction count) is a candidate, and later episodes mutate the best found so far.
The best few distinct prefixes of each program go to the candidate pool. Then every program
is measured under every candidate (``counts``), the input of the reward matrix. Work is spread
over a process pool, or over a Ray cluster when ``ray_address`` is given; results are stored in
a :class:`~optgym.agents.nvp.store.PoolStore` as each program finishes, so reruns resume.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from optgym.agents.nvp.store import PoolStore, pack_features
from optgym.errors import CompilerCrash, LlvmError, OptgymError
from optgym.llvm import toolchain
from optgym.llvm.passes import (
    ALWAYS_INLINE,
    PIPELINE_TABLE,
    SAFE_FLAGS,
    honors_always_inline,
    join_steps,
    with_always_inline,
)

#: The pipeline texts random search draws from: the safe flags (what the drop-ins may ship,
#: see :data:`optgym.llvm.passes.UNSAFE_REASONS`) plus the -O pipelines.
ACTIONS: tuple[str, ...] = (tuple(a.pipeline for a in SAFE_FLAGS.actions)
                            + tuple(p for _, p in PIPELINE_TABLE))
COUNT = ("IrInstructionCount",)


@dataclass
class PoolConfig:
    """How hard to search each program and how many of its sequences to keep."""

    episodes: int = 200  # random episodes per program at most
    seconds_per_program: float = 10.0  # and at most this long
    max_length: int = 20  # steps of a random episode at most
    mutate_fraction: float = 0.4  # the last part of the episodes mutates the best so far
    keep: int = 3  # distinct best prefixes kept per program
    seed: int = 0
    pass_timeout: float = 20.0


def training_programs(n_csmith: int = 24, n_stress: int = 12, split: str = "train") -> list[str]:
    """Default pool programs: the builtin split plus the first csmith and llvm-stress seeds of it."""
    from optgym.datasets import get_dataset

    return (get_dataset("builtin-v0").benchmark_uris(split)
            + get_dataset("csmith-v0").first_uris(n_csmith, split)
            + get_dataset("llvm-stress-v0").first_uris(n_stress, split))


# -- worker side --------------------------------------------------------------------------------
_SESSION: Any = None


def _session(timeout: float) -> Any:
    global _SESSION
    from optgym.llvm.session import CompilerSession

    if _SESSION is None:
        _SESSION = CompilerSession(timeout=timeout)
    _SESSION.timeout = timeout
    return _SESSION


def program_features(module: Any) -> dict[str, np.ndarray]:
    """The unoptimized program's Autophase vector and ProGraML graph arrays (as the env gives)."""
    from optgym.programgraphs import to_graph_instance

    obs = module.observe("Autophase", "Programl")
    graph = to_graph_instance(obs["Programl"])
    return {
        "autophase": np.asarray(obs["Autophase"], dtype=np.int64),
        "nodes": graph.nodes.astype(np.int32),
        "edges": graph.edges.astype(np.int32),
        "links": graph.edge_links.astype(np.int32),
    }


def _load(uri: str, timeout: float) -> tuple[Any, int, int]:
    from optgym.datasets import get_benchmark

    bitcode = get_benchmark(uri).bitcode
    session = _session(timeout)
    module = session.load(bitcode, name=uri)
    o0 = module.instruction_count()
    # The yardstick is clang-19's -Oz (see optgym.llvm.toolchain), not default<Oz> run here.
    reference = session.load(toolchain.clang_optimize(bitcode, what=uri), name=f"{uri} (-Oz)")
    try:
        oz = reference.instruction_count()
    finally:
        reference.close()
    return module, o0, oz


def _mutate(rng: random.Random, steps: list[str], max_length: int) -> list[str]:
    steps = list(steps)
    op = rng.randrange(4)
    if op == 0 and steps:
        steps[rng.randrange(len(steps))] = rng.choice(ACTIONS)
    elif op == 1 and len(steps) < max_length:
        steps.insert(rng.randrange(len(steps) + 1), rng.choice(ACTIONS))
    elif op == 2 and len(steps) > 1:
        del steps[rng.randrange(len(steps))]
    else:
        steps += [rng.choice(ACTIONS) for _ in range(rng.randint(1, 5))]
    return steps[:max_length]


def _episode(module: Any, steps: list[str]) -> tuple[list[str], int]:
    """Run ``steps`` one at a time on a copy (after the always-inliner, where the steps do not
    start by running it: every sequence a model ships must); the best prefix and its count."""
    fork = module.fork()
    best_len, best = 0, None
    try:
        if steps and not honors_always_inline(steps[0]):
            fork.run(ALWAYS_INLINE)
        for i, pipeline in enumerate(steps):
            try:
                count = fork.run(pipeline, observe=COUNT).observations["IrInstructionCount"]
            except (CompilerCrash, LlvmError):
                break
            if best is None or count < best:
                best_len, best = i + 1, count
    finally:
        fork.close()
    return steps[:best_len], (best if best is not None else -1)


def search_program(uri: str, config: dict[str, Any]) -> dict[str, Any]:
    """Random search on one program (runs in a worker): its baselines, features, best prefixes."""
    cfg = PoolConfig(**config)
    started = time.monotonic()
    module, o0, oz = _load(uri, cfg.pass_timeout)
    try:
        features = pack_features(program_features(module))
        digest = hashlib.sha256(f"{cfg.seed}:{uri}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "little"))
        found: dict[tuple[str, ...], int] = {}
        episodes = 0
        random_episodes = int(cfg.episodes * (1 - cfg.mutate_fraction))
        while episodes < cfg.episodes and time.monotonic() - started < cfg.seconds_per_program:
            top = sorted(found.items(), key=lambda kv: (kv[1], len(kv[0])))[:cfg.keep]
            if episodes >= random_episodes and top:
                steps = _mutate(rng, list(rng.choice(top)[0]), cfg.max_length)
            else:
                steps = [rng.choice(ACTIONS) for _ in range(rng.randint(1, cfg.max_length))]
            prefix, count = _episode(module, steps)
            episodes += 1
            if prefix and count >= 0:
                key = tuple(prefix)
                found[key] = min(count, found.get(key, count))
        best: list[tuple[list[str], int]] = []
        seen_counts: set[int] = set()
        for steps, count in sorted(found.items(), key=lambda kv: (kv[1], len(kv[0]))):
            if count not in seen_counts:  # distinct results make a more varied pool
                seen_counts.add(count)
                best.append((list(steps), count))
            if len(best) >= cfg.keep:
                break
    finally:
        module.close()
    return {"uri": uri, "o0": o0, "oz": oz, "features": features, "best": best,
            "episodes": episodes, "seconds": time.monotonic() - started}


def evaluate_program(uri: str, candidates: list[tuple[int, list[str]]], tag: str,
                     pass_timeout: float = 20.0, with_features: bool = False) -> dict[str, Any]:
    """Instruction count of one program after each candidate sequence (-1 if it failed)."""
    module, o0, oz = _load(uri, pass_timeout)
    try:
        counts: dict[int, int] = {}
        for cid, steps in candidates:
            try:
                counts[cid] = module.try_pipeline(join_steps(with_always_inline(steps)),
                                                  COUNT)["IrInstructionCount"]
            except (CompilerCrash, LlvmError):
                counts[cid] = -1
        features = pack_features(program_features(module)) if with_features else None
    finally:
        module.close()
    return {"uri": uri, "tag": tag, "counts": counts, "o0": o0, "oz": oz, "features": features}


# -- parent side --------------------------------------------------------------------------------
def run_parallel(fn: Callable[..., Any], tasks: list[tuple], workers: int = 2,
                 ray_address: str | None = None) -> Iterator[Any]:
    """Yield ``fn(*task)`` for every task as each finishes: in this process (workers <= 1), a
    process pool, or Ray tasks on the cluster at ``ray_address`` (``"local"`` starts one)."""
    if not tasks:
        return
    if ray_address:
        import ray

        if not ray.is_initialized():
            ray.init(address=None if ray_address == "local" else ray_address,
                     num_cpus=workers if ray_address == "local" else None,
                     include_dashboard=False, log_to_driver=False)
        remote = ray.remote(fn)
        pending = [remote.remote(*t) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
        return
    if workers <= 1:
        for t in tasks:
            yield fn(*t)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_die_with_parent) as pool:  # the pool is terminated on exit, error or not
        yield from pool.imap_unordered(_star, [(fn, t) for t in tasks])


def _die_with_parent() -> None:
    """Ask Linux to end this pool worker when its parent dies, however the parent ends."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _star(item: tuple[Callable[..., Any], tuple]) -> Any:
    fn, args = item
    return fn(*args)


def _progress(iterable: Iterable[Any], total: int, desc: str, quiet: bool) -> Iterable[Any]:
    if quiet:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="prog")


def generate_pool(store: PoolStore, uris: list[str], config: PoolConfig | None = None,
                  workers: int = 2, ray_address: str | None = None, quiet: bool = False) -> int:
    """Random-search every program not yet searched in ``store``; returns how many were."""
    config = config or PoolConfig()
    todo = [u for u in dict.fromkeys(uris) if u not in store.searched()]
    failed = 0
    it = run_parallel(_safe_search, [(u, asdict(config)) for u in todo], workers, ray_address)
    for result in _progress(it, len(todo), "random search", quiet):
        if "error" in result:
            failed += 1
            print(f"skipped {result['uri']}: {result['error']}")
            continue
        store.add_program(result)
    return len(todo) - failed


def _safe_search(uri: str, config: dict[str, Any]) -> dict[str, Any]:
    try:
        return search_program(uri, config)
    except OptgymError as exc:  # a benchmark that does not build or load is skipped, not fatal
        return {"uri": uri, "error": str(exc)}


def collect_candidates(store: PoolStore, uris: list[str] | None = None,
                       per_program: int | None = None) -> int:
    """Add the best prefixes of the searched programs (the first ``per_program`` of each) to
    the candidate set; returns its size."""
    wanted = set(uris) if uris is not None else None
    store.add_candidates([steps for uri, rank, steps, _ in store.best()
                          if steps and (wanted is None or uri in wanted)
                          and (per_program is None or rank < per_program)])
    return len(store.candidates())


def evaluate_candidates(store: PoolStore, uris: list[str], tag: str,
                        candidates: list[tuple[int, list[str]]] | None = None,
                        workers: int = 2, ray_address: str | None = None,
                        quiet: bool = False, pass_timeout: float = 20.0) -> int:
    """Measure every program not yet evaluated under ``tag`` with the candidates (default: all)."""
    candidates = store.candidates() if candidates is None else candidates
    done = store.evaluated(tag)
    todo = [u for u in dict.fromkeys(uris) if u not in done]
    tasks = [(u, candidates, tag, pass_timeout, not store.has_program(u)) for u in todo]
    failed = 0
    it = run_parallel(_safe_evaluate, tasks, workers, ray_address)
    for result in _progress(it, len(todo), f"evaluate ({tag})", quiet):
        if "error" in result:
            failed += 1
            print(f"skipped {result['uri']}: {result['error']}")
            continue
        if result["features"] is not None:
            store.add_program(result)
        store.add_rewards(result["uri"], tag, result["counts"])
    return len(todo) - failed


def _safe_evaluate(uri: str, candidates: list[tuple[int, list[str]]], tag: str,
                   pass_timeout: float, with_features: bool) -> dict[str, Any]:
    try:
        return evaluate_program(uri, candidates, tag, pass_timeout, with_features)
    except OptgymError as exc:
        return {"uri": uri, "error": str(exc)}
