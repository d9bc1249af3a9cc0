"""Set-aware ranking: the coreset ordered for one program by greedy coverage of the training
programs most like it.

Ranking the coreset by the model's per-sequence logits tries sequences that are each likely
to win, but they tend to win on the same programs: at a budget of 5 or 10 the top of that list
is redundant, and the greedy coreset order (each next sequence covers what the earlier ones
miss) beat it on held-out programs. So the ranking keeps the greedy rule and personalises its
objective: each training program's row of rewards is weighed by how close its embedding (the
model's encoder output) is to the new program's, ``softmax(cos / temperature)``. A large
temperature gives every training program the same weight (the plain greedy order over the
training set); the trainer picks the temperature on the validation programs
(:func:`fit_neighbours`).

A model directory stores this as ``neighbours.npz``: the training programs' unit-length
embeddings and reward rows, and the temperature. Models without it rank by logits.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optgym.agents.nvp.coreset import greedy_coreset, order_scores
from optgym.cache import atomic_write
from optgym.errors import OptgymError

#: Temperatures the trainer chooses among (``inf``: every training program weighs the same).
TEMPERATURES = (0.01, 0.02, 0.05, 0.1, 0.2, math.inf)
#: Budgets (compilations, -Oz included) whose validation scores choose the temperature.
FIT_BUDGETS = (2, 3, 5, 10)
FILENAME = "neighbours.npz"


@dataclass
class Neighbours:
    """The training programs a ranking is personalised over."""

    embeddings: np.ndarray  # (n, D), unit rows
    rewards: np.ndarray  # (n, K) log(Oz / count) of each coreset sequence
    temperature: float

    def weights(self, embedding: np.ndarray) -> np.ndarray:
        """How much each training program counts for a program with this ``embedding``."""
        n = len(self.embeddings)
        if math.isinf(self.temperature):
            return np.full(n, 1.0 / n)
        e = np.asarray(embedding, dtype=np.float64).reshape(-1)
        logits = self.embeddings @ (e / max(np.linalg.norm(e), 1e-12)) / self.temperature
        w = np.exp(logits - logits.max())
        return w / w.sum()

    def order(self, embedding: np.ndarray) -> list[int]:
        """Coreset indices in the order to try them on a program with this ``embedding``."""
        picks, _ = greedy_coreset(self.rewards, self.rewards.shape[1], self.weights(embedding))
        return picks

    def save(self, directory: str | Path) -> Path:
        """Write ``neighbours.npz`` into a model directory (atomically)."""
        buf = io.BytesIO()
        np.savez_compressed(buf, embeddings=self.embeddings.astype(np.float16),
                            rewards=self.rewards.astype(np.float16),
                            temperature=np.float64(self.temperature))
        path = Path(directory) / FILENAME
        atomic_write(path, buf.getvalue())
        path.chmod(0o644)
        return path

    @classmethod
    def load(cls, directory: str | Path) -> Neighbours | None:
        """The model directory's neighbours, or None when it has none (rank by logits)."""
        path = Path(directory) / FILENAME
        if not path.is_file():
            return None
        try:
            with np.load(path) as f:
                found = cls(f["embeddings"].astype(np.float64), f["rewards"].astype(np.float64),
                            float(f["temperature"]))
        except (OSError, ValueError, KeyError) as exc:
            raise OptgymError(f"{path} is not a readable neighbours file: {exc}") from None
        if found.embeddings.ndim != 2 or found.rewards.shape[0] != found.embeddings.shape[0]:
            raise OptgymError(f"{path}: {found.embeddings.shape[0]} embeddings for "
                              f"{found.rewards.shape[0]} reward rows")
        return found


def encode(model: Any, examples: list[Any]) -> np.ndarray:
    """Encoder outputs (n, D) of :class:`~optgym.agents.nvp.data.Example` programs."""
    import torch

    from optgym.agents.nvp.data import to_data

    model.eval()
    with torch.no_grad():
        rows = [model.encoder.encode(to_data(e.features, batchable=False))[0].double().numpy()
                for e in examples]
    return np.stack(rows) if rows else np.zeros((0, model.encoder.out_dim))


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (zero rows stay zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def fit_neighbours(model: Any, train: list[Any], validation: list[Any]) -> tuple[Neighbours,
                                                                                   dict[str, Any]]:
    """Neighbours over the ``train`` examples, with the temperature whose orders score best on
    the ``validation`` examples (mean log geomean over :data:`FIT_BUDGETS`; ties go to the
    larger temperature, the less personalised). Returns them and a report of every
    temperature's validation scores, and the logit order's for comparison."""
    import torch

    if not train:
        raise OptgymError("neighbours need training programs")
    found = Neighbours(unit_rows(encode(model, train)), np.stack([e.rewards for e in train]),
                       math.inf)
    if not validation:
        return found, {"temperature": "inf", "validation": {}}
    val_embeddings = encode(model, validation)
    val_rewards = np.stack([e.rewards for e in validation])
    report: dict[str, Any] = {}
    best = (-math.inf, math.inf)  # (objective, temperature)
    for temperature in TEMPERATURES:  # ascending, so ">=" hands ties to the larger
        found.temperature = temperature
        scores = order_scores([found.order(e) for e in val_embeddings], val_rewards, FIT_BUDGETS)
        report[str(temperature)] = scores
        objective = float(np.mean(np.log(list(scores.values()))))
        if objective >= best[0] - 1e-12:
            best = (max(objective, best[0]), temperature)
    with torch.no_grad():
        logits = model.head(torch.from_numpy(val_embeddings).float()).numpy()
    report["logits"] = order_scores(np.argsort(-logits, axis=1), val_rewards, FIT_BUDGETS)
    found.temperature = best[1]
    return found, {"temperature": str(best[1]), "validation": report}
