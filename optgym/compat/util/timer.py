"""``compiler_gym.util.timer``: a wall-clock :class:`Timer` and duration formatting."""

from __future__ import annotations

import time
from collections.abc import Callable


def humanize_duration(seconds: float) -> str:
    """A duration as a short string: ``312.0ms``, ``4.2s``, ``3m 10s``, ``2h 5m``."""
    if seconds < 1:
        return f"{seconds * 1000:.1f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


def humanize_duration_hms(seconds: float) -> str:
    """A duration as ``H:MM:SS``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class Timer:
    """Times a ``with`` block (``timer.time`` is seconds); optionally prints or hands the
    time to ``print_fn`` on exit with ``label``."""

    def __init__(self, label: str | None = None,
                 print_fn: Callable[[str], object] = print, hms: bool = False):
        self.label = label
        self.print_fn = print_fn
        self.hms = hms
        self._start: float | None = None
        self.time: float | None = None

    def reset(self) -> Timer:
        """Start timing now."""
        self._start = time.monotonic()
        return self

    def __enter__(self) -> Timer:
        return self.reset()

    def __exit__(self, *exc: object) -> None:
        self.time = time.monotonic() - self._start
        if self.label:
            self.print_fn(f"{self.label} in {self}")

    def __str__(self) -> str:
        elapsed = self.time if self.time is not None else time.monotonic() - (self._start or 0)
        return humanize_duration_hms(elapsed) if self.hms else humanize_duration(elapsed)
