"""Baseline results measured for the project on its development machine, shipped with optgym
so that a fresh leaderboard has something to compare against. They are ordinary result files
(CSV + JSON header) and enter a store the ordinary way: replayed and validated first.
"""

from __future__ import annotations

from pathlib import Path

from optgym.leaderboard.store import Store, SubmitResult

SEED_DIR = Path(__file__).with_name("seed")
SEED_LABEL = "baseline"


def seed_files() -> list[Path]:
    """The shipped baseline result CSVs, in name order."""
    return sorted(SEED_DIR.glob("*.csv"))


def ensure_seeds(store: Store, *, progress: bool = True) -> list[SubmitResult]:
    """Submit every shipped baseline not yet in ``store`` (each is validated by replay first)."""
    return [store.submit(path, label=SEED_LABEL, progress=progress) for path in seed_files()]
