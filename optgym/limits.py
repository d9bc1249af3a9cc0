"""Size and time limits on untrusted or unbounded inputs, each overridable by an environment variable.

One table, so the README and the errors can name every limit and how to raise it. A value of 0
turns a limit off. Sizes accept K/M/G/T suffixes (powers of 1024).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from optgym.errors import LimitExceeded, OptgymError


@dataclass(frozen=True)
class Limit:
    """One limit: the environment variable that sets it, its default and what it bounds."""

    env: str
    default: float
    what: str
    size: bool = False  # a byte count (accepts K/M/G/T)


LIMITS: dict[str, Limit] = {
    limit.env: limit
    for limit in (
        Limit("OPTGYM_MAX_UNPACKED_BYTES", 16 << 30,
              "bytes a downloaded dataset archive may unpack to", size=True),
        Limit("OPTGYM_MAX_ARCHIVE_MEMBERS", 500_000,
              "files and directories in a downloaded dataset archive"),
        Limit("OPTGYM_MAX_UNPACK_RATIO", 100,
              "unpacked size over archive size (a decompression bomb has thousands)"),
        Limit("OPTGYM_MAX_RESULT_BYTES", 64 << 20,
              "bytes of a leaderboard result file", size=True),
        Limit("OPTGYM_MAX_RESULT_ROWS", 100_000, "rows of a leaderboard result file"),
        Limit("OPTGYM_MAX_RESULT_FIELD_BYTES", 64 << 10,
              "bytes of one field of a leaderboard result CSV", size=True),
        Limit("OPTGYM_MAX_JSON_DEPTH", 32,
              "nesting depth of untrusted JSON (a result header, a package index)"),
        Limit("OPTGYM_MAX_REPORTED_ERRORS", 50,
              "problems a validation report prints before summarizing the rest"),
        Limit("OPTGYM_MAX_DOWNLOAD_BYTES", 2 << 30,
              "bytes of one download (a dataset archive, a source distribution)", size=True),
        Limit("OPTGYM_DOWNLOAD_MAX_SECONDS", 3600,
              "wall-clock seconds of one download, however slowly the server sends"),
        Limit("OPTGYM_MAX_INDEX_BYTES", 16 << 20,
              "bytes of a package index page (PyPI's JSON for one project)", size=True),
        Limit("OPTGYM_OPT_MAX_SECONDS", 120,
              "wall-clock seconds optgym-opt spends on one module before it falls back to "
              "plain opt-19 -Oz (loading, search, the chosen pipeline's opt-19 run, measuring)"),
    )
}


def get(env: str) -> float:
    """The value of a limit: its environment variable when set, else its default."""
    limit = LIMITS[env]
    text = os.environ.get(env, "").strip()
    if not text:
        return limit.default
    scale = 1
    if limit.size and text[-1].upper() in "KMGT":
        scale = 1 << (10 * ("KMGT".index(text[-1].upper()) + 1))
        text = text[:-1]
    try:
        value = float(text) * scale
    except ValueError:
        raise OptgymError(f"{env}={os.environ[env]!r} is not a number ({limit.what})") from None
    if value < 0:
        raise OptgymError(f"{env}={os.environ[env]!r} is negative ({limit.what})")
    return value


def check(env: str, value: float, subject: str) -> None:
    """Raise LimitExceeded naming ``subject`` when ``value`` is over the limit (0: no limit)."""
    bound = get(env)
    if bound and value > bound:
        limit = LIMITS[env]
        shown = _size(bound) if limit.size else f"{bound:g}"
        raise LimitExceeded(f"{subject} exceeds the limit on {limit.what}: {shown} "
                            f"(set {env} to raise it, 0 for no limit)")


#: A JSON string, escapes included (the unrolled form, linear in the input).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in JSON text (brackets inside strings do not count).

    One linear scan, so a hostile document is judged before a recursive parser sees it.
    """
    import numpy as np

    codes = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(codes, (ord("]"), ord("}"))))
    return int(np.cumsum(steps).max()) if steps.size else 0


def load_json(data: bytes | str, subject: str) -> Any:
    """Parse untrusted JSON: LimitExceeded naming ``subject`` when it nests deeper than
    ``OPTGYM_MAX_JSON_DEPTH``, OptgymError naming it when it is not JSON."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    depth = json_depth(raw)
    check("OPTGYM_MAX_JSON_DEPTH", depth, f"{subject} (nested {depth} deep)")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise OptgymError(f"{subject}: not valid JSON: {exc}") from None


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:g} {unit}"
        n /= 1024
    return f"{n:g} TiB"
