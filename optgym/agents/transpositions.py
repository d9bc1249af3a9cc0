"""A transposition cache: (module hash, action) → resulting module hash and costs.

Searches revisit states constantly (greedy tries every action from the same state; beam and
evolutionary searches share prefixes; restarts of a random search walk known paths). With the
cache, a search that steps into a known transition knows the resulting module's hash and
instruction count without running LLVM, and runs the passes only when it needs the module
itself (:class:`~optgym.agents.search.SearchState`). Entries are bounded in memory (least
recently used go first) and can be kept in a SQLite file shared across runs and processes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from optgym import LLVM_VERSION
from optgym.errors import CacheLockedError, OptgymError


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
    versions. Several processes may share one file: it is in WAL mode (readers never wait),
    new rows wait in memory and are written in one short transaction every ``batch`` puts (or
    on :meth:`flush`), and a writer waits up to ``busy_timeout`` seconds for another's
    transaction before raising :class:`CacheLockedError` (the rows stay queued for the next
    flush).
    """

    def __init__(self, max_entries: int = 1_000_000, path: str | Path | None = None, *,
                 busy_timeout: float = 10.0, batch: int = 256):
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], Transition] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.path = Path(path) if path is not None else None
        self.busy_timeout = busy_timeout
        self.batch = batch
        self._db: sqlite3.Connection | None = None
        self._queue: list[tuple] = []
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # Autocommit: a transaction is only ever open inside _write, for milliseconds.
                self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                           timeout=busy_timeout, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # WAL stays crash-safe
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS transitions (llvm TEXT, state TEXT, action TEXT, "
                    "result TEXT, count INTEGER, changed INTEGER, "
                    "PRIMARY KEY (llvm, state, action))"
                )
            except sqlite3.DatabaseError as exc:
                self._fail(exc)

    def _fail(self, exc: sqlite3.DatabaseError) -> None:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise CacheLockedError(
                f"transposition cache {self.path}: another process held the write lock for "
                f"more than {self.busy_timeout:g} s ({text}); {len(self._queue)} new rows are "
                "kept in memory for the next flush"
            ) from None
        raise OptgymError(f"transposition cache {self.path} is not usable: {text}") from None

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
                try:
                    row = self._db.execute(
                        "SELECT result, count, changed FROM transitions "
                        "WHERE llvm=? AND state=? AND action=?",
                        (LLVM_VERSION, state, action),
                    ).fetchone()
                except sqlite3.DatabaseError as exc:
                    self._fail(exc)
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
                self._queue.append((LLVM_VERSION, state, action, transition.result_hash,
                                    transition.instruction_count, int(transition.changed)))
                if len(self._queue) >= self.batch:
                    self._write()

    def _write(self) -> None:
        """Write the queued rows in one short transaction (one fsync per batch, not per row)."""
        if not self._queue or self._db is None:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO transitions VALUES (?, ?, ?, ?, ?, ?)", self._queue)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            self._fail(exc)
        self._queue.clear()

    def _remember(self, key: tuple[str, str], transition: Transition) -> None:
        self._entries[key] = transition
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def flush(self) -> None:
        """Write queued rows to the file."""
        with self._lock:
            self._write()

    def close(self) -> None:
        """Write queued rows and close the file (the in-memory entries stay usable)."""
        self.flush()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
