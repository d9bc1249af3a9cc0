"""``compiler_gym.util.shell_format``: emphasis and plurals for terminal output."""

from __future__ import annotations

import sys


def emph(text: object) -> str:
    """``text`` in bold on a terminal, plain otherwise."""
    return f"\033[1m{text}\033[0m" if sys.stdout.isatty() else str(text)


def plural(quantity: int, singular: str, plural: str) -> str:
    """``singular`` for one, ``plural`` otherwise."""
    return singular if quantity == 1 else plural


def indent(text: str, n: int = 4) -> str:
    """``text`` with every line indented by ``n`` spaces."""
    return "\n".join(" " * n + line for line in text.split("\n"))


def join_cmd(cmd: list[str]) -> str:
    """A command line as a shell would read it."""
    import shlex

    return " ".join(shlex.quote(c) for c in cmd)
