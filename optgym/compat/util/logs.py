"""``compiler_gym.util.logs``: per-run log directories under the cache."""

from __future__ import annotations

import time
from pathlib import Path

from optgym.cache import cache_root


def create_logging_dir(name: str) -> Path:
    """A new directory ``<cache>/logs/NAME/<timestamp>`` for one run's output."""
    path = cache_root() / "logs" / name / time.strftime("%Y-%m-%dT%H-%M-%S")
    path.mkdir(parents=True, exist_ok=True)
    return path
