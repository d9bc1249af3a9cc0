"""Named things that are imported only when used: the one lazy registry behind ``get_policy``
(policies) and ``optgym train`` (recipes).

An entry is an object, or a ``"module:attribute"`` string imported on first use, so naming a
torch-backed policy or recipe costs nothing at import time. A name that is not registered but
looks like ``module:attribute`` is imported the same way (a user's own policy or recipe).
"""

from __future__ import annotations

import importlib
from typing import Any

from optgym.errors import OptgymError


def import_target(target: str, what: str = "object") -> Any:
    """The attribute a ``"module:attribute"`` string names; a typed error names what failed."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise OptgymError(f"{what} {target!r} must be 'module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise OptgymError(f"cannot load {what} {target!r}: cannot import {module_name}: "
                          f"{exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise OptgymError(f"cannot load {what} {target!r}: {module_name} has no attribute "
                          f"{attr!r}") from None


class LazyRegistry:
    """Names -> objects, where an object may be a ``"module:attribute"`` imported on first use.

    Args:
        what: what the entries are ("policy", "recipe"), for error messages.
    """

    def __init__(self, what: str, entries: dict[str, Any] | None = None):
        self.what = what
        self._entries: dict[str, Any] = dict(entries or {})

    def register(self, name: str, target: Any) -> None:
        """Add (or replace) ``name``; a string target must be ``"module:attribute"``."""
        if isinstance(target, str) and ":" not in target:
            raise OptgymError(f"{self.what} target {target!r} must be 'module:attribute'")
        self._entries[name] = target

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._entries)

    def is_registered(self, name: str) -> bool:
        """True when ``name`` is a registered name (not a ``module:attribute`` of a user's)."""
        return name in self._entries

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> Any:
        """The object registered as ``name``, or the ``module:attribute`` ``name`` spells."""
        target = self._entries.get(name, name)
        if not isinstance(target, str):
            return target
        if ":" not in target:
            raise OptgymError(f"unknown {self.what} {name!r}; known: {', '.join(self.names())}, "
                              "or a 'module:function' of your own")
        obj = import_target(target, self.what)
        if name in self._entries:
            self._entries[name] = obj  # imported once
        return obj
