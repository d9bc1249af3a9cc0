"""The on-disk store of an NVP build: a SQLite file that holds every result as soon as it exists.

One file per build directory (``pool.sqlite``). Each unit of work (one program searched, one
program evaluated against the candidate sequences) is written in one transaction when it
finishes, so a run that is killed loses only the units in flight, and a rerun skips what is
already there. Only the parent process writes; workers return their results to it.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from optgym import LLVM_VERSION
from optgym.errors import OptgymError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS programs (
    uri TEXT PRIMARY KEY, o0 INTEGER, oz INTEGER, episodes INTEGER, seconds REAL,
    features BLOB);
CREATE TABLE IF NOT EXISTS best (
    uri TEXT, rank INTEGER, steps TEXT, count INTEGER, PRIMARY KEY (uri, rank));
CREATE TABLE IF NOT EXISTS candidates (id INTEGER PRIMARY KEY, steps TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS rewards (
    uri TEXT, candidate INTEGER, count INTEGER, PRIMARY KEY (uri, candidate));
CREATE TABLE IF NOT EXISTS evaluated (uri TEXT, tag TEXT, PRIMARY KEY (uri, tag));
"""


def pack_features(arrays: dict[str, np.ndarray]) -> bytes:
    """Compress a program's feature arrays (Autophase vector, graph arrays) into one blob."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def unpack_features(blob: bytes) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack_features`."""
    with np.load(io.BytesIO(blob)) as data:
        return {k: data[k] for k in data.files}


class PoolStore:
    """The SQLite store of searched programs, their best sequences, candidates and rewards."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        version = self.get_meta("llvm")
        if version is None:
            self.set_meta("llvm", LLVM_VERSION)
        elif version != LLVM_VERSION:
            raise OptgymError(
                f"{self.path} was built with LLVM {version}, not {LLVM_VERSION}; use a new directory"
            )

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> PoolStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A stored setting (None if unset)."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- search results -------------------------------------------------------------------------
    def searched(self) -> set[str]:
        """URIs whose random search is complete."""
        return {r[0] for r in self.db.execute("SELECT uri FROM programs WHERE episodes >= 0")}

    def has_program(self, uri: str) -> bool:
        """Whether the program's baselines and features are stored."""
        return self.db.execute("SELECT 1 FROM programs WHERE uri=?", (uri,)).fetchone() is not None

    def add_program(self, result: dict[str, Any]) -> None:
        """Store one program's search (or, with ``episodes`` -1, only its baselines and features)."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO programs VALUES (?, ?, ?, ?, ?, ?)",
                (result["uri"], result["o0"], result["oz"], result.get("episodes", -1),
                 result.get("seconds", 0.0), result["features"]),
            )
            self.db.execute("DELETE FROM best WHERE uri=?", (result["uri"],))
            for rank, (steps, count) in enumerate(result.get("best", [])):
                self.db.execute("INSERT INTO best VALUES (?, ?, ?, ?)",
                                (result["uri"], rank, json.dumps(steps), count))

    def program(self, uri: str) -> dict[str, Any]:
        """A program's -O0 and -Oz counts and feature arrays."""
        row = self.db.execute("SELECT o0, oz, features FROM programs WHERE uri=?", (uri,)).fetchone()
        if row is None:
            raise OptgymError(f"{uri} is not in {self.path}")
        return {"uri": uri, "o0": row[0], "oz": row[1], "features": unpack_features(row[2])}

    def best(self, uri: str | None = None) -> list[tuple[str, int, list[str], int]]:
        """``(uri, rank, steps, count)`` of the best sequences found (of one program)."""
        query = "SELECT uri, rank, steps, count FROM best"
        rows = (self.db.execute(query + " WHERE uri=? ORDER BY rank", (uri,)) if uri else
                self.db.execute(query + " ORDER BY uri, rank"))
        return [(u, r, json.loads(s), c) for u, r, s, c in rows]

    # -- candidates and rewards -----------------------------------------------------------------
    def add_candidates(self, sequences: list[list[str]]) -> None:
        """Add candidate sequences (duplicates are ignored)."""
        with self.db:
            for steps in sequences:
                self.db.execute("INSERT OR IGNORE INTO candidates (steps) VALUES (?)",
                                (json.dumps(steps),))

    def candidates(self) -> list[tuple[int, list[str]]]:
        """``(id, steps)`` of every candidate, by id."""
        return [(i, json.loads(s)) for i, s in
                self.db.execute("SELECT id, steps FROM candidates ORDER BY id")]

    def add_rewards(self, uri: str, tag: str, counts: dict[int, int]) -> None:
        """Store a program's instruction count after each candidate (-1: the sequence failed)."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO rewards VALUES (?, ?, ?)",
                                [(uri, cid, c) for cid, c in counts.items()])
            self.db.execute("INSERT OR REPLACE INTO evaluated VALUES (?, ?)", (uri, tag))

    def evaluated(self, tag: str) -> set[str]:
        """URIs whose evaluation under ``tag`` is complete."""
        return {r[0] for r in self.db.execute("SELECT uri FROM evaluated WHERE tag=?", (tag,))}

    def counts(self, uris: list[str], candidate_ids: list[int]) -> np.ndarray:
        """Instruction counts, programs × candidates (-1 where failed or missing)."""
        col = {c: j for j, c in enumerate(candidate_ids)}
        row = {u: i for i, u in enumerate(uris)}
        out = np.full((len(uris), len(candidate_ids)), -1, dtype=np.int64)
        for u, c, n in self.db.execute("SELECT uri, candidate, count FROM rewards"):
            if u in row and c in col:
                out[row[u], col[c]] = n
        return out
