"""A transposition cache: (module hash, action) → resulting module hash and costs.

Searches revisit states constantly (greedy tries every action from the same state; beam and
evolutionary searches share prefixes). With the cache, an environment that steps into a known
transition answers from memory without touching LLVM, and only runs the passes when an
observation needs the module itself. Entries are bounded in memory (least recently used go
first) and can be kept in a SQLite file shared across runs and processes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from optgym import LLVM_VERSION


@dataclass(frozen=True)
class Transition:
    """What one action did to one module state."""

    result_hash: str
    instruction_count: int
    changed: bool


class TranspositionCache:
    """Bounded LRU map of transitions, optionally backed by a SQLite file.

    The cache is keyed by content hashes and pipeline text, which identify a transition
    exactly for one LLVM version; the file records that version and is not shared across
    versions.
    """

    def __init__(self, max_entries: int = 1_000_000, path: str | Path | None = None):
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], Transition] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._pending = 0
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS transitions (llvm TEXT, state TEXT, action TEXT, "
                "result TEXT, count INTEGER, changed INTEGER, PRIMARY KEY (llvm, state, action))"
            )
            self._db.commit()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, state: str, action: str) -> Transition | None:
        """The cached transition, or None (counted as a miss)."""
        key = (state, action)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return hit
            if self._db is not None:
                row = self._db.execute(
                    "SELECT result, count, changed FROM transitions "
                    "WHERE llvm=? AND state=? AND action=?",
                    (LLVM_VERSION, state, action),
                ).fetchone()
                if row:
                    hit = Transition(row[0], row[1], bool(row[2]))
                    self._remember(key, hit)
                    self.hits += 1
                    return hit
            self.misses += 1
            return None

    def put(self, state: str, action: str, transition: Transition) -> None:
        """Record a transition (in memory, and in the file when there is one)."""
        with self._lock:
            self._remember((state, action), transition)
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO transitions VALUES (?, ?, ?, ?, ?, ?)",
                    (LLVM_VERSION, state, action, transition.result_hash,
                     transition.instruction_count, int(transition.changed)),
                )
                self._pending += 1
                if self._pending >= 256:  # batch commits: one fsync per transition is too slow
                    self._db.commit()
                    self._pending = 0

    def _remember(self, key: tuple[str, str], transition: Transition) -> None:
        self._entries[key] = transition
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def flush(self) -> None:
        """Commit pending rows to the file."""
        with self._lock:
            if self._db is not None:
                self._db.commit()
                self._pending = 0

    def close(self) -> None:
        """Commit and close the file (the in-memory entries stay usable)."""
        self.flush()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
