"""From the pool store to model inputs: the coreset choice, per-program rewards and features.

Features are kept as the environment gives them (Autophase vector; the ``Programl``
observation's node, edge and link arrays), so training and inference see identical inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optgym.agents.nvp.coreset import facility_location, greedy_coreset, reward_matrix
from optgym.agents.nvp.store import PoolStore
from optgym.errors import OptgymError

if TYPE_CHECKING:
    from optgym.envs.llvm import LlvmEnv


def select_coreset(store: PoolStore, k: int = 50) -> dict[str, Any]:
    """Greedy facility-location coreset over the pool programs' reward matrix."""
    uris = sorted(store.evaluated("pool"))
    candidates = store.candidates()
    if not uris or not candidates:
        raise OptgymError(f"{store.path} has no evaluated pool; run the pool step first")
    ids = [c for c, _ in candidates]
    programs = [store.program(u) for u in uris]
    rewards = reward_matrix(store.counts(uris, ids),
                            np.array([p["o0"] for p in programs]), np.array([p["oz"] for p in programs]))
    picks, trace = greedy_coreset(rewards, k)
    best_single = int(np.argmax(np.maximum(rewards, 0).sum(axis=0)))
    return {
        "candidate_ids": [ids[j] for j in picks],
        "sequences": [candidates[j][1] for j in picks],
        "objective": trace[-1],
        "trace": trace,
        "pool_programs": len(uris),
        "pool_candidates": len(ids),
        "pool_geomean": float(np.exp(trace[-1] / len(uris))),
        "pool_geomean_all_candidates": float(
            np.exp(facility_location(rewards, list(range(len(ids)))) / len(uris))),
        "pool_geomean_best_single": float(np.exp(facility_location(rewards, [best_single])
                                                 / len(uris))),
    }


@dataclass
class Example:
    """One program: its feature arrays and the reward of each coreset sequence on it."""

    uri: str
    features: dict[str, np.ndarray]
    rewards: np.ndarray  # (K,) log(Oz / count)


def examples(store: PoolStore, uris: list[str], candidate_ids: list[int]) -> list[Example]:
    """Examples of the programs in ``uris`` that have every coreset sequence measured."""
    counts = store.counts(uris, candidate_ids)
    out = []
    for i, uri in enumerate(uris):
        if not store.has_program(uri) or (counts[i] == -1).all():
            continue
        p = store.program(uri)
        r = reward_matrix(counts[i:i + 1], np.array([p["o0"]]), np.array([p["oz"]]))[0]
        out.append(Example(uri, p["features"], r.astype(np.float32)))
    return out


def split_examples(store: PoolStore, candidate_ids: list[int]) -> tuple[list[Example], list[Example]]:
    """Training examples (pool and extra programs) and validation examples."""
    pool = json.loads(store.get_meta("pool_programs") or "[]")
    extra = json.loads(store.get_meta("extra_programs") or "[]")
    val = json.loads(store.get_meta("validation_programs") or "[]")
    return examples(store, pool + extra, candidate_ids), examples(store, val, candidate_ids)


def autophase_tensor(features: dict[str, np.ndarray]) -> Any:
    """The Autophase vector, log-scaled, as a (1, AUTOPHASE_SIZE) float tensor."""
    import torch

    return torch.from_numpy(np.log1p(np.maximum(features["autophase"], 0)).astype(np.float32))[None]


def to_data(example_features: dict[str, np.ndarray], rewards: np.ndarray | None = None, *,
            batchable: bool = True) -> Any:
    """One model input: the graph with the Autophase vector (and rewards) attached; see
    :func:`~optgym.agents.encoders.graph_data` for ``batchable``."""
    import torch

    from optgym.agents.encoders import graph_data

    data = graph_data(example_features["nodes"], example_features["edges"],
                      example_features["links"], batchable=batchable)
    data.autophase = autophase_tensor(example_features)
    if rewards is not None:
        data.rewards = torch.from_numpy(np.asarray(rewards, dtype=np.float32))[None]
    return data


def features_from_env(env: LlvmEnv, encoder: str) -> dict[str, np.ndarray]:
    """The current program's feature arrays, read through the environment's observations."""
    feats: dict[str, np.ndarray] = {"autophase": np.asarray(env.observe("Autophase"))}
    if encoder == "gnn":
        g = env.observe("Programl")
        feats.update(nodes=np.asarray(g.nodes), edges=np.asarray(g.edges),
                     links=np.asarray(g.edge_links))
    else:
        feats.update(nodes=np.zeros((0, 2), np.int64), edges=np.zeros((0, 2), np.int64),
                     links=np.zeros((0, 2), np.int64))
    return feats
