"""The reward matrix and the greedy coreset.

Reward of candidate ``j`` on program ``i``: ``R[i, j] = log(Oz_i / count_ij)``, the log of the
instruction-count ratio against the program's own -Oz. This normalizes per program (a 2%
gain is worth the same on a 50-instruction and a 5,000-instruction program), and its mean
over programs is the log of the geometric mean of Oz / ours, the figure we report. A failed
sequence gets the program's -O0 count (no better than doing nothing).

The coreset maximizes the facility-location objective ``F(S) = sum_i max(0, max_{j in S}
R[i, j])``: the inference policy falls back to -Oz, so a program is worth no less than 0 and
only gains over -Oz count. F is monotone submodular, so greedy selection is within 1 - 1/e
of the best K.
"""

from __future__ import annotations

import numpy as np

from optgym.errors import OptgymError


def reward_matrix(counts: np.ndarray, o0: np.ndarray, oz: np.ndarray) -> np.ndarray:
    """``log(Oz / count)`` for a programs × candidates matrix of instruction counts."""
    counts = np.asarray(counts, dtype=np.float64)
    o0 = np.asarray(o0, dtype=np.float64)[:, None]
    oz = np.maximum(np.asarray(oz, dtype=np.float64), 1.0)[:, None]
    if counts.ndim != 2 or counts.shape[0] != o0.shape[0]:
        raise OptgymError(f"counts must be programs × candidates, got shape {counts.shape}")
    counts = np.where(counts < 0, np.broadcast_to(o0, counts.shape), counts)
    return np.log(oz / np.maximum(counts, 1.0))


def facility_location(rewards: np.ndarray, selected: list[int]) -> float:
    """``sum_i max(0, max_{j in selected} R[i, j])`` (0 for the empty set)."""
    if not selected:
        return 0.0
    return float(np.maximum(rewards[:, selected].max(axis=1), 0.0).sum())


def greedy_coreset(rewards: np.ndarray, k: int,
                   weights: np.ndarray | None = None) -> tuple[list[int], list[float]]:
    """Greedily pick ``k`` columns maximizing :func:`facility_location`, with each program
    (row) counted ``weights[i]`` times when weights are given (a ranking for one program
    weighs the programs most like it; see :mod:`optgym.agents.nvp.neighbours`).

    Returns the picks in order and the objective after each pick. Once no column adds
    anything, the rest are filled with the columns of highest (weighted) mean reward, so the
    coreset always has ``min(k, columns)`` entries.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.ndim != 2:
        raise OptgymError(f"rewards must be a 2-D matrix, got shape {rewards.shape}")
    if k < 1:
        raise OptgymError(f"coreset size must be at least 1, not {k}")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (rewards.shape[0],):
            raise OptgymError(f"weights must have one entry per program ({rewards.shape[0]}), "
                              f"got shape {weights.shape}")

    def total(values: np.ndarray) -> np.ndarray:  # over programs, weighted when asked
        return values.sum(axis=0) if weights is None else weights @ values

    positive = np.maximum(rewards, 0.0)
    covered = np.zeros(rewards.shape[0])
    free = np.ones(rewards.shape[1], dtype=bool)
    picks: list[int] = []
    trace: list[float] = []
    mean = total(rewards)
    for _ in range(min(k, rewards.shape[1])):
        gains = total(np.maximum(positive - covered[:, None], 0.0))
        gains[~free] = -1.0
        best = int(np.argmax(gains))
        if gains[best] <= 0.0:  # nothing left to gain: prefer broadly good sequences
            best = int(np.argmax(np.where(free, mean, -np.inf)))
        picks.append(best)
        free[best] = False
        covered = np.maximum(covered, positive[:, best])
        trace.append(float(total(covered)))
    return picks, trace


def order_scores(orders: np.ndarray | list[list[int]], rewards: np.ndarray,
                 budgets: tuple[int, ...]) -> dict[int, float]:
    """Geomean Oz / ours at each budget when program ``i`` tries the first ``budget - 1``
    columns of ``orders[i]`` and -Oz (so never below 1)."""
    out = {}
    for budget in budgets:
        k = max(1, budget - 1)
        best = [max(0.0, float(rewards[i, list(order[:k])].max()))
                for i, order in enumerate(orders)]
        out[budget] = float(np.exp(np.mean(best)))
    return out
