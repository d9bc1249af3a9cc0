"""Size and time limits on untrusted or unbounded inputs, each overridable by an environment variable.

One table, so the README and the errors can name every limit and how to raise it. A value of 0
turns a limit off. Sizes accept K/M/G/T suffixes (powers of 1024).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

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
        Limit("OPTGYM_MAX_REPORTED_ERRORS", 50,
              "problems a validation report prints before summarizing the rest"),
        Limit("OPTGYM_OPT_MAX_SECONDS", 120,
              "wall-clock seconds optgym-opt spends on one module (search and opt-19)"),
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


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:g} {unit}"
        n /= 1024
    return f"{n:g} TiB"
