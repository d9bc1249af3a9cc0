"""Private temporary directories that do not outlive their owner, even one killed by SIGKILL.

:func:`scratch_dir` removes its directory when the block ends, however it ends (an exception,
Ctrl-C, SIGTERM in a tool, see :mod:`optgym.interrupts`). A process killed outright cannot clean
up, so each directory holds a lock file its owner keeps locked while it lives; the kernel
releases the lock when the owner dies, however it dies. The first :func:`scratch_dir` of a kind
in a process removes that kind's directories whose lock is free: their owners are gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_LOCK = ".optgym-owner"
#: A lock file younger than this may not be locked yet (its owner made it a moment ago).
_NEW_LOCK_SECONDS = 2.0
#: A directory without a lock file this old was left by a version that made none (or its owner
#: died between making it and locking it): removed too.
_UNLOCKED_GRACE_SECONDS = 3600.0
_swept: set[tuple[str, str]] = set()


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A new private directory in the temporary directory (``$TMPDIR``), removed when the block
    ends; directories of the same ``prefix`` left by dead processes are removed first."""
    root = tempfile.gettempdir()
    if (root, prefix) not in _swept:
        _swept.add((root, prefix))
        sweep(prefix, root)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    fd = os.open(path / _LOCK, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def sweep(prefix: str, root: str | None = None) -> list[Path]:
    """Remove this user's ``prefix*`` directories in ``root`` whose owner is dead; returns them.

    An owner holds its directory's lock file locked while it lives, so a lock this process can
    take belongs to no one.
    """
    removed = []
    uid = os.getuid()
    for path in Path(root or tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        if info.st_uid != uid or not path.is_dir() or path.is_symlink():
            continue
        if _abandoned(path, info.st_mtime):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _abandoned(path: Path, mtime: float) -> bool:
    try:
        fd = os.open(path / _LOCK, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return time.time() - mtime > _UNLOCKED_GRACE_SECONDS
    except OSError:
        return False
    try:
        if time.time() - os.fstat(fd).st_mtime < _NEW_LOCK_SECONDS:
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its owner holds it
    finally:
        os.close(fd)
    return True
