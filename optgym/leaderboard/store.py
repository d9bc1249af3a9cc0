"""The store of validated submissions: one SQLite file (default ``$OPTGYM_CACHE/leaderboard.sqlite``).

A submission enters only through :meth:`Store.submit`, which replays it first; its rows and
summary go in one transaction, so a refused or interrupted submission leaves nothing behind. A
submission is identified by the SHA-256 of its CSV and header bytes: sending the same files
again changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optgym.cache import cache_root
from optgym.errors import OptgymError
from optgym.leaderboard.results import ResultHeader, llvm_full_version, now_iso, read_results
from optgym.leaderboard.tasks import get_task
from optgym.leaderboard.validate import ValidationReport, validate_states

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    task TEXT NOT NULL,
    policy TEXT NOT NULL,
    budget TEXT NOT NULL,
    header TEXT NOT NULL,
    date TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    validated TEXT NOT NULL,
    validated_llvm TEXT NOT NULL,
    geomean REAL NOT NULL,
    mean_walltime REAL NOT NULL,
    benchmarks INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    submission INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    benchmark TEXT NOT NULL,
    reward REAL NOT NULL,
    walltime REAL NOT NULL,
    commandline TEXT NOT NULL,
    cost REAL NOT NULL,
    o0_cost REAL NOT NULL,
    oz_cost REAL NOT NULL,
    oz_ratio REAL NOT NULL,
    output_checked INTEGER NOT NULL,
    PRIMARY KEY (submission, benchmark)
);
"""


def default_store_path() -> Path:
    """``$OPTGYM_CACHE/leaderboard.sqlite`` (``~/.cache/optgym/leaderboard.sqlite``)."""
    return cache_root() / "leaderboard.sqlite"


@dataclass
class SubmitResult:
    """What became of a submission: stored (new id), already there, or refused and why."""

    path: Path
    stored: bool = False
    duplicate: bool = False
    submission_id: int | None = None
    reasons: list[str] = field(default_factory=list)
    report: ValidationReport | None = None

    def __str__(self) -> str:
        if self.duplicate:
            return f"{self.path}: already stored as submission #{self.submission_id}; nothing to do"
        if self.stored:
            return f"{self.path}: validated and stored as submission #{self.submission_id}"
        return f"{self.path}: REFUSED, nothing stored:\n" + "\n".join(
            f"  - {r}" for r in self.reasons)


@dataclass
class Submission:
    """A stored, validated submission with its per-benchmark rows."""

    id: int
    task: str
    policy: str
    budget: dict[str, Any]
    header: dict[str, Any]
    date: str
    label: str
    validated: str
    validated_llvm: str
    geomean: float
    mean_walltime: float
    benchmarks: int
    rows: list[dict[str, Any]] = field(default_factory=list)


class Store:
    """A SQLite file of validated leaderboard submissions."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as conn:
                conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise OptgymError(f"{self.path}: not a leaderboard store ({exc})") from None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            with conn:  # one transaction: committed on success, rolled back on any error
                yield conn
        finally:
            conn.close()

    def find(self, digest: str) -> int | None:
        """The id of the submission with this content digest, if stored."""
        with self._connect() as conn:
            row = conn.execute("SELECT id FROM submissions WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else int(row["id"])

    def submit(self, path: str | os.PathLike[str], *, label: str = "",
               progress: bool = True) -> SubmitResult:
        """Validate a result file (CSV + header) by replay and store it if it is valid.

        Never raises for a bad file: a malformed, incomplete or tampered file comes back with
        ``stored=False`` and the reasons; the same file submitted twice comes back
        ``duplicate=True``.
        """
        outcome = SubmitResult(Path(path))
        try:
            header, states, raw = read_results(path)
            assert header is not None
            task = get_task(header.task)
        except OptgymError as exc:
            outcome.reasons.append(str(exc))
            return outcome
        digest = hashlib.sha256(raw).hexdigest()
        existing = self.find(digest)
        if existing is not None:
            outcome.duplicate, outcome.submission_id = True, existing
            return outcome
        report = validate_states(task, states, header, progress=progress)
        outcome.report = report
        if not report.ok:
            outcome.reasons.extend(report.errors)
            return outcome
        try:
            sid = self._insert(digest, task.name, header, label, report)
        except sqlite3.IntegrityError:  # the same file, stored by someone else meanwhile
            outcome.duplicate, outcome.submission_id = True, self.find(digest)
            return outcome
        outcome.stored, outcome.submission_id = True, sid
        return outcome

    def _insert(self, digest: str, task: str, header: ResultHeader, label: str,
                report: ValidationReport) -> int:
        """Store a validated submission and its rows in one transaction; returns its id."""
        geomean, walltime = report.geomean_oz_ratio, report.mean_walltime
        assert geomean is not None and walltime is not None
        llvm = llvm_full_version()
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO submissions (digest, task, policy, budget, header, date, label, "
                "validated, validated_llvm, geomean, mean_walltime, benchmarks) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (digest, task, header.policy, json.dumps(header.budget, sort_keys=True),
                 json.dumps(header.to_json(), sort_keys=True), header.date or now_iso(), label,
                 now_iso(), llvm, geomean, walltime, len(report.rows)),
            )
            sid = int(cursor.lastrowid)
            conn.executemany(
                "INSERT INTO rows (submission, benchmark, reward, walltime, commandline, cost, "
                "o0_cost, oz_cost, oz_ratio, output_checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(sid, r.state.benchmark, r.state.reward, r.state.walltime, r.state.commandline,
                  r.cost, r.o0_cost, r.oz_cost, r.oz_ratio, int(r.output_checked))
                 for r in report.rows],
            )
        return sid

    def submissions(self, task: str | None = None, *, rows: bool = False) -> list[Submission]:
        """Stored submissions (of one task), best geomean first."""
        query = "SELECT * FROM submissions"
        params: tuple[Any, ...] = ()
        if task is not None:
            query, params = query + " WHERE task = ?", (task,)
        with self._connect() as conn:
            found = [self._submission(r) for r in
                     conn.execute(query + " ORDER BY geomean DESC, id", params)]
            if rows:
                for sub in found:
                    sub.rows = [dict(r) for r in conn.execute(
                        "SELECT * FROM rows WHERE submission = ? ORDER BY benchmark", (sub.id,))]
        return found

    def tasks(self) -> list[str]:
        """Names of the tasks that have at least one submission."""
        with self._connect() as conn:
            return [r["task"] for r in conn.execute("SELECT DISTINCT task FROM submissions")]

    def remove(self, submission_id: int) -> bool:
        """Delete a submission and its rows; False if there was none with that id."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM submissions WHERE id = ?",
                                (submission_id,)).rowcount > 0

    @staticmethod
    def _submission(row: sqlite3.Row) -> Submission:
        return Submission(
            id=row["id"], task=row["task"], policy=row["policy"], budget=json.loads(row["budget"]),
            header=json.loads(row["header"]), date=row["date"], label=row["label"],
            validated=row["validated"], validated_llvm=row["validated_llvm"],
            geomean=row["geomean"], mean_walltime=row["mean_walltime"],
            benchmarks=row["benchmarks"],
        )
