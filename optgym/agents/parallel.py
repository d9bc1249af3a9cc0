"""Run a search policy over many benchmarks at once: local worker processes, or a Ray cluster.

One task is one benchmark searched by one policy with one budget. Locally, tasks go to a pool of
spawned processes, each with its own compiler worker and transposition cache, kept for the
whole run; with Ray (``ray_address=...``, or when the caller already ran ``ray.init()``), the
same task function runs as a Ray remote function, so a search scales from a laptop to a cluster
without code changes (the cluster's nodes need optgym installed).

>>> from optgym.agents import Budget
>>> from optgym.agents.parallel import SearchTask, run_searches
>>> tasks = [SearchTask(uri, "evolve", Budget(seconds=60)) for uri in uris]
>>> for index, outcome in run_searches(tasks, workers=4):
...     print(tasks[index].benchmark, outcome)
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from optgym.agents.base import Budget, Policy, SearchResult
from optgym.agents.transpositions import TranspositionCache
from optgym.envs.llvm import LlvmEnv
from optgym.errors import OptgymError


@dataclass(frozen=True)
class SearchTask:
    """One search: a benchmark URI, a policy name, its budget and the policy's arguments."""

    benchmark: str
    policy: str
    budget: Budget
    seed: int | None = 0
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: Run the always-inliner first, as clang does and as what ships must (see LlvmEnv).
    honor_always_inline: bool = False


@dataclass(frozen=True)
class SearchFailure:
    """A task that failed (the benchmark did not load, the policy raised): what went wrong."""

    benchmark: str
    error: str

    def __str__(self) -> str:
        return f"{self.benchmark}: {self.error}"


Outcome = SearchResult | SearchFailure

#: The environment each worker process keeps between tasks (one compiler worker per process),
#: and the transposition cache its searches share (keyed by module content, so one cache
#: serves every benchmark).
_ENV: LlvmEnv | None = None
_CACHE: TranspositionCache | None = None


def _worker_env() -> LlvmEnv:
    global _ENV, _CACHE
    if _ENV is None:
        _ENV = LlvmEnv(observation_space=None)
        _CACHE = TranspositionCache(max_entries=300_000)
    return _ENV


def make_policy(name: str, seed: int | None = None, **kwargs: Any) -> Policy:
    """A policy by name, given ``seed`` (and ``kwargs``) when its factory takes them."""
    import optgym.agents  # noqa: F401  (registers every built-in policy)
    from optgym.agents.base import get_policy

    try:
        return get_policy(name, seed=seed, **kwargs)
    except TypeError:
        return get_policy(name, **kwargs)


def run_task(task: SearchTask) -> Outcome:
    """Search one benchmark in this process (what every local or Ray worker runs)."""
    try:
        env = _worker_env()
        env.honor_always_inline = task.honor_always_inline
        env.reset(options={"benchmark": task.benchmark})
        policy = make_policy(task.policy, task.seed, **task.kwargs)
        if getattr(policy, "cache", False) is None:  # a search: share the process's cache
            policy.cache = _CACHE
        return policy.search(env, task.budget)
    except OptgymError as exc:
        return SearchFailure(task.benchmark, str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad benchmark must not end a long run
        return SearchFailure(task.benchmark, f"{type(exc).__name__}: {exc}")


def _watch_parent(parent: int) -> None:
    """Pool initializer: end this worker when the process that made the pool dies (a killed
    parent cannot terminate its pool, and a search must not run on for nobody)."""
    import threading
    import time

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch, daemon=True, name="optgym-parent-watch").start()


def _indexed(item: tuple[int, SearchTask]) -> tuple[int, Outcome]:
    return item[0], run_task(item[1])


def _ray_module(ray_address: str | None) -> Any:
    """Ray, initialized, when it is to be used; None for local processes."""
    if ray_address is None:
        try:
            import ray
        except ImportError:
            return None
        return ray if ray.is_initialized() else None
    try:
        import ray
    except ImportError:
        raise OptgymError("--ray-address needs Ray: pip install 'optgym[cluster]'") from None
    if not ray.is_initialized():
        ray.init(address=ray_address, ignore_reinit_error=True, include_dashboard=False,
                 log_to_driver=False)
    return ray


def run_searches(tasks: list[SearchTask], *, workers: int | None = None,
                 ray_address: str | None = None) -> Iterator[tuple[int, Outcome]]:
    """Run ``tasks``; yields ``(index into tasks, outcome)`` as each finishes.

    ``workers`` local processes (default: the CPU count, at most one per task; 1 runs in this
    process). Ray is used instead when ``ray_address`` is given or Ray is already initialized;
    then Ray decides the parallelism.
    """
    if not tasks:
        return
    ray = _ray_module(ray_address)
    if ray is not None:
        yield from _run_ray(ray, tasks)
        return
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        for i, task in enumerate(tasks):
            yield i, run_task(task)
        return
    # spawn, not fork: the parent may hold threads and a compiler worker's pipes.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_watch_parent, initargs=(os.getpid(),)) as pool:  # __exit__ terminates the workers, also on Ctrl-C
        yield from pool.imap_unordered(_indexed, list(enumerate(tasks)), chunksize=1)


def _run_ray(ray: Any, tasks: list[SearchTask]) -> Iterator[tuple[int, Outcome]]:
    remote = ray.remote(num_cpus=1)(run_task)
    refs = {remote.remote(task): i for i, task in enumerate(tasks)}
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield refs[ref], ray.get(ref)
    finally:
        for ref in pending:  # an interrupted run leaves nothing running on the cluster
            ray.cancel(ref, force=True)


def search_many(tasks: list[SearchTask], **kwargs: Any) -> list[Outcome]:
    """:func:`run_searches`, collected in the order of ``tasks``."""
    out: list[Outcome | None] = [None] * len(tasks)
    for i, outcome in run_searches(tasks, **kwargs):
        out[i] = outcome
    return out  # type: ignore[return-value]
