"""``compiler_gym.util.debug_util``: one debug level (0-4) that sets the logging level."""

from __future__ import annotations

import logging
import os

_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}
_level = int(os.environ.get("COMPILER_GYM_DEBUG", "0") or 0)


def get_debug_level() -> int:
    """The debug level: 0 (errors only) to 4 (everything)."""
    return _level


def set_debug_level(level: int) -> None:
    """Set the debug level, and the ``compiler_gym`` logger's level with it."""
    global _level
    _level = int(level)
    logging.getLogger("compiler_gym").setLevel(get_logging_level())


def get_logging_level() -> int:
    """The logging level the debug level stands for."""
    return _LEVELS.get(_level, logging.DEBUG)
