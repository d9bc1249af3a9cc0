"""Where optgym keeps what it builds (native helper, bitcode, baselines): one versioned directory.

``$OPTGYM_CACHE`` overrides the default ``~/.cache/optgym``. Everything written below it goes
through :func:`atomic_write`, so a crash or a concurrent writer never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def cache_root() -> Path:
    """The root cache directory (created on demand)."""
    root = Path(os.environ.get("OPTGYM_CACHE") or Path.home() / ".cache" / "optgym")
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it becomes ``path``.

    For files that another library writes by name (an SB3 ``.zip``): readers see either the
    old file or the whole new one, never a half-written one. The temporary file lives in the
    same directory, so the final rename stays within one file system, and it gets the
    permissions a plain ``open`` would give (mkstemp alone would make it private).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either the old file or the whole new one
    (see :func:`atomic_path`); concurrent writers of the same content simply replace each other.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
