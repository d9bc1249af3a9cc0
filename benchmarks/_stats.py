"""Paired comparisons for the reports: two methods measured on the same programs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def paired_ratio(ours: Sequence[float], theirs: Sequence[float],
                 resamples: int = 2000) -> dict[str, Any]:
    """Costs of two methods on the same programs (lower is better): the geomean of
    theirs / ours (above 1: ours smaller), its 95% bootstrap interval over programs (seeded,
    so a report is reproducible), and on how many programs each is strictly smaller."""
    import numpy as np

    diff = np.array([math.log(max(t, 1) / max(o, 1)) for o, t in zip(ours, theirs, strict=True)])
    rng = np.random.default_rng(0)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"ratio": math.exp(diff.mean()), "low": math.exp(low), "high": math.exp(high),
            "ours smaller": int((diff > 0).sum()), "theirs smaller": int((diff < 0).sum())}
