"""``compiler_gym.util.capture_output``: capture what a block prints."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class CapturedOutput:
    """What a block printed: ``stdout`` and ``stderr`` text (filled in when it ends)."""

    stdout: str = ""
    stderr: str = ""


@contextmanager
def capture_output() -> Iterator[CapturedOutput]:
    """``with capture_output() as out:`` ... ``out.stdout``, ``out.stderr``."""
    captured = CapturedOutput()
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        yield captured
    finally:
        sys.stdout, sys.stderr = saved
        captured.stdout, captured.stderr = out.getvalue(), err.getvalue()
