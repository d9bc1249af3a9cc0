"""Result files: the CSV CompilerGym's leaderboard used (``benchmark,reward,walltime,commandline``)
and a JSON header beside it (``results.csv`` -> ``results.json``) saying what produced it.

Both are written atomically (temporary file, then ``os.replace``), header last, so a reader never
sees a header whose CSV is half-written.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optgym import LLVM_VERSION, __version__, limits
from optgym.cache import atomic_write
from optgym.envs.llvm.state import CompilerEnvState, states_to_csv
from optgym.errors import OptgymError

HEADER_FORMAT = "optgym-leaderboard-results-v1"


@dataclass
class ResultHeader:
    """What a result CSV is: which task, which policy with what budget, on what machine, when."""

    task: str
    policy: str
    budget: dict[str, Any]
    llvm_version: str = LLVM_VERSION
    llvm_full_version: str = ""
    optgym_version: str = __version__
    date: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    #: Benchmarks on which the policy failed, with the error; their rows apply no passes.
    failures: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    #: Keyword arguments the policy was made with (``--policy-arg``).
    policy_args: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The header as the JSON object written beside the CSV."""
        return {
            "format": HEADER_FORMAT, "task": self.task, "policy": self.policy,
            "budget": self.budget, "llvm_version": self.llvm_version,
            "llvm_full_version": self.llvm_full_version, "optgym_version": self.optgym_version,
            "date": self.date, "machine": self.machine, "failures": self.failures,
            "notes": self.notes, "policy_args": self.policy_args,
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str = "header") -> ResultHeader:
        """Parse a header; OptgymError naming ``source`` and the problem if it is malformed."""
        if not isinstance(data, dict):
            raise OptgymError(f"{source}: a result header must be a JSON object")
        if data.get("format") != HEADER_FORMAT:
            raise OptgymError(f"{source}: format is {data.get('format')!r}, expected "
                              f"{HEADER_FORMAT!r}")
        for key, kind in (("task", str), ("policy", str), ("budget", dict)):
            if not isinstance(data.get(key), kind):
                raise OptgymError(f"{source}: field {key!r} is missing or not a {kind.__name__}")
        failures = data.get("failures") or {}
        machine = data.get("machine") or {}
        policy_args = data.get("policy_args") or {}
        if not all(isinstance(x, dict) for x in (failures, machine, policy_args)):
            raise OptgymError(f"{source}: 'failures', 'machine' and 'policy_args' must be JSON "
                              "objects")
        return cls(
            task=data["task"], policy=data["policy"], budget=data["budget"],
            llvm_version=str(data.get("llvm_version", "")),
            llvm_full_version=str(data.get("llvm_full_version", "")),
            optgym_version=str(data.get("optgym_version", "")), date=str(data.get("date", "")),
            machine=machine, failures={str(k): str(v) for k, v in failures.items()},
            notes=str(data.get("notes", "")), policy_args=policy_args,
        )


def header_path(csv_path: str | os.PathLike[str]) -> Path:
    """Where the header of a result CSV lives: the same name with ``.json``."""
    return Path(csv_path).with_suffix(".json")


def machine_info() -> dict[str, Any]:
    """What a wall time depends on: CPU model, core count, OS and Python (no host name)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "arch": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def llvm_full_version() -> str:
    """The exact LLVM release of the `opt` this machine replays with (``19.1.7``...)."""
    import subprocess

    from optgym.llvm import toolchain

    try:
        out = subprocess.run([toolchain.opt(), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError, OptgymError):
        return ""
    for line in out.splitlines():
        if "LLVM version" in line:
            return line.split("LLVM version", 1)[1].strip()
    return ""


def now_iso() -> str:
    """The current UTC time, to the second, in ISO 8601."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def write_public(path: Path, data: bytes) -> None:
    """Write atomically, readable by everyone (result files and web pages are for sharing)."""
    atomic_write(path, data)


def write_results(csv_path: str | os.PathLike[str], header: ResultHeader,
                  states: list[CompilerEnvState]) -> tuple[Path, Path]:
    """Write the result CSV and its JSON header atomically; returns both paths."""
    path = Path(csv_path)
    write_public(path, states_to_csv(states).encode())
    hpath = header_path(path)
    write_public(hpath, (json.dumps(header.to_json(), indent=2, sort_keys=True) + "\n").encode())
    return path, hpath


def parse_results_csv(text: str, *, source: str = "results") -> list[CompilerEnvState]:
    """Parse result CSV text; OptgymError naming the line if a row is malformed, LimitExceeded
    naming the limit when the file has too many rows or too long a field."""
    field_limit = int(limits.get("OPTGYM_MAX_RESULT_FIELD_BYTES"))
    # The csv module counts characters and raises its own untyped error past its limit: set it
    # to ours (a character is at least a byte) and check bytes below.
    previous = csv.field_size_limit(field_limit or sys.maxsize)
    try:
        reader = csv.DictReader(io.StringIO(text))
        try:
            fieldnames = reader.fieldnames
            if fieldnames is None:
                raise OptgymError(f"{source}: the file is empty")
            if tuple(fieldnames) != CompilerEnvState.CSV_HEADER:
                raise OptgymError(f"{source}: the header row is {_shown(','.join(fieldnames))}, "
                                  f"expected {','.join(CompilerEnvState.CSV_HEADER)}")
            states = []
            for row in reader:
                limits.check("OPTGYM_MAX_RESULT_ROWS", len(states) + 1, f"{source}")
                if None in row:  # more fields than the header has
                    raise OptgymError(f"{source}, line {reader.line_num}: too many fields")
                for value in row.values():
                    _check_field(value, f"{source}, line {reader.line_num}")
                try:
                    states.append(CompilerEnvState.from_csv_row(row))
                except OptgymError as exc:
                    raise OptgymError(f"{source}, line {reader.line_num}: {exc}") from None
        except csv.Error as exc:
            where = f"{source}, line {reader.line_num + 1}"
            if "field limit" in str(exc):
                limits.check("OPTGYM_MAX_RESULT_FIELD_BYTES", field_limit + 1,
                             f"{where}: a field")
            raise OptgymError(f"{where}: not valid CSV ({exc})") from None
    finally:
        csv.field_size_limit(previous)
    return states


def _check_field(value: str | None, where: str) -> None:
    if value is not None and len(value) * 4 > limits.get("OPTGYM_MAX_RESULT_FIELD_BYTES"):
        size = len(value.encode("utf-8", "surrogateescape"))
        limits.check("OPTGYM_MAX_RESULT_FIELD_BYTES", size, f"{where}: a field of {size} bytes")


def _shown(text: str, limit: int = 200) -> str:
    """``text`` for an error message, cut to ``limit`` characters (hostile files are long)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def read_results(csv_path: str | os.PathLike[str], *, require_header: bool = True
                 ) -> tuple[ResultHeader | None, list[CompilerEnvState], bytes]:
    """Read a result CSV and its header; returns (header, states, raw bytes of both files).

    The raw bytes identify the submission (the store keys on their hash).
    """
    path = Path(csv_path)
    if not path.is_file():
        raise OptgymError(f"{path}: no such result file")
    hpath = header_path(path)
    for part in (path, hpath):
        if part.is_file():
            limits.check("OPTGYM_MAX_RESULT_BYTES", part.stat().st_size, f"{part}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OptgymError(f"{path}: not UTF-8 text") from None
    states = parse_results_csv(text, source=str(path))
    header = None
    if hpath.is_file():
        hraw = hpath.read_bytes()
        data = limits.load_json(hraw, str(hpath))
        header = ResultHeader.from_json(data, source=str(hpath))
        raw += b"\0" + hraw
    elif require_header:
        raise OptgymError(f"{path}: its header {hpath.name} is missing (it names the task and "
                          "the policy; 'optgym leaderboard eval' writes both; 'optgym "
                          "leaderboard validate --task TASK' checks a CSV without one)")
    return header, states, raw
