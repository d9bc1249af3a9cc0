"""Where optgym keeps what it builds (native helper, bitcode, baselines): one versioned directory.

``$OPTGYM_CACHE`` overrides the default ``~/.cache/optgym``. Everything written below it goes
through :func:`atomic_write`, so a crash or a concurrent writer never leaves a half-written file.
Readers use :func:`read_entry` / :func:`read_json_entry`, which treat an unreadable or corrupted
entry as missing (and remove it), so the caller simply rebuilds it.

The cache is bounded: the entries optgym can rebuild on demand (compiled benchmarks, generated
programs, baselines, traced memory workloads; see :data:`EVICTABLE`) are evicted least recently
used first once they exceed ``$OPTGYM_CACHE_MAX_BYTES`` (default :data:`DEFAULT_MAX_BYTES`).
Eviction runs from :func:`atomic_write` at most once a minute per process, and from
``optgym cache info|evict|clear``. Downloaded datasets, imported projects, the leaderboard store
and the native helper are never evicted: they cannot be rebuilt from nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Default bound of the evictable part of the cache, in bytes (``$OPTGYM_CACHE_MAX_BYTES``).
DEFAULT_MAX_BYTES = 4 << 30
#: Directories (globs relative to the cache root) whose files are rebuilt on demand when missing.
EVICTABLE: tuple[str, ...] = (
    "llvm*-v*/builtin-v0",
    "llvm*-v*/csmith-v0",
    "llvm*-v*/llvm-stress-v0",
    "llvm*-v*/files",
    "llvm*-baselines-v*",
    "memory/workloads-v*",
)
#: Files younger than this are never evicted: a process that just wrote one is about to use it.
EVICTION_GRACE_SECONDS = 60.0
#: A writer's temporary file this old belongs to a process that died mid-write.
STALE_TEMP_SECONDS = 3600.0
_EVICTION_INTERVAL = 60.0
_last_eviction = [0.0]
_eviction_lock = threading.Lock()


def cache_root() -> Path:
    """The root cache directory (created on demand)."""
    root = Path(os.environ.get("OPTGYM_CACHE") or Path.home() / ".cache" / "optgym")
    root.mkdir(parents=True, exist_ok=True)
    return root


def max_bytes() -> int:
    """The bound of the evictable entries: ``$OPTGYM_CACHE_MAX_BYTES`` or the default.

    A byte count with an optional K/M/G/T suffix (powers of 1024); 0 means no bound.
    """
    text = os.environ.get("OPTGYM_CACHE_MAX_BYTES", "").strip()
    return parse_size(text, "OPTGYM_CACHE_MAX_BYTES") if text else DEFAULT_MAX_BYTES


def parse_size(text: str, what: str) -> int:
    """Bytes from ``123``, ``64K``, ``1.5G`` (powers of 1024); OptgymError naming ``what``."""
    from optgym.errors import OptgymError

    text = text.strip()
    if not text:
        raise OptgymError(f"{what} is empty; expected a size such as 4G")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    scale = units.get(text[-1].upper(), 1)
    try:
        value = float(text[:-1] if scale != 1 else text) * scale
    except ValueError:
        raise OptgymError(f"{what}={text!r} is not a size "
                          "(bytes, or a number with K, M, G or T)") from None
    if value < 0:
        raise OptgymError(f"{what}={text!r} is negative")
    return int(value)


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
    _maybe_evict(path)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either the old file or the whole new one
    (see :func:`atomic_path`); concurrent writers of the same content simply replace each other.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_entry(path: Path, valid: Callable[[bytes], bool] | None = None) -> bytes | None:
    """The bytes of a cache entry, or None when it is missing, unreadable or fails ``valid``.

    A corrupted entry is removed, so the caller rebuilds it exactly as if it had never been
    there. A hit refreshes the entry's modification time, which is what eviction goes by.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if valid is not None and not valid(data):
        path.unlink(missing_ok=True)
        return None
    _touch(path)
    return data


def read_json_entry(path: Path, value_type: type | tuple[type, ...] | None = None
                    ) -> dict[str, Any] | None:
    """A cache entry holding a JSON object, or None when missing or corrupted (then removed).

    With ``value_type``, every value of the object must be of that type.
    """
    data = read_entry(path)
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        value = None
    if not isinstance(value, dict) or (value_type is not None and not all(
            isinstance(v, value_type) and not isinstance(v, bool) for v in value.values())):
        Path(path).unlink(missing_ok=True)
        return None
    return value


def _touch(path: Path) -> None:
    # atime is unreliable (relatime, noatime), so a hit moves mtime; once a minute is enough.
    try:
        if time.time() - path.stat().st_mtime > _EVICTION_INTERVAL:
            os.utime(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- the size bound ---------------------------------------------------------------------------
@dataclass
class Entry:
    """One evictable cache file."""

    path: Path
    size: int
    used: float  # last use: modification time (refreshed on hits), or access time if later


def entries(root: Path | None = None) -> list[Entry]:
    """Every evictable file below the cache root (temporary files of live writers excluded)."""
    root = root or cache_root()
    found = []
    for directory in _evictable_dirs(root):
        for path in _files(directory):
            if path.name.startswith("."):
                continue  # a writer's temporary file or a lock
            try:
                st = path.stat()
            except OSError:
                continue
            found.append(Entry(path, st.st_size, max(st.st_mtime, st.st_atime)))
    return found


def _evictable_dirs(root: Path) -> list[Path]:
    return sorted({d for pattern in EVICTABLE for d in root.glob(pattern) if d.is_dir()})


def _files(directory: Path) -> Iterator[Path]:
    for dirpath, _, filenames in os.walk(directory):
        for name in filenames:
            yield Path(dirpath) / name


def evict(limit: int | None = None, root: Path | None = None) -> tuple[int, int]:
    """Delete least recently used evictable entries until they total at most ``limit`` bytes.

    Files used in the last :data:`EVICTION_GRACE_SECONDS` are kept even above the limit, and
    temporary files are only removed once stale (their writer died). A limit of 0 means no
    bound. Returns (files, bytes) removed.
    """
    root = root or cache_root()
    limit = max_bytes() if limit is None else limit
    now = time.time()
    removed = freed = 0
    for directory in _evictable_dirs(root):
        for path in _files(directory):
            if path.name.endswith(".tmp") and path.name.startswith("."):
                try:
                    if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                        path.unlink()
                except OSError:
                    pass
    if limit <= 0:
        return removed, freed
    found = sorted(entries(root), key=lambda e: e.used)
    total = sum(e.size for e in found)
    for entry in found:
        if total <= limit:
            break
        if now - entry.used < EVICTION_GRACE_SECONDS:
            continue
        try:
            entry.path.unlink()
        except OSError:
            continue
        total -= entry.size
        removed += 1
        freed += entry.size
    return removed, freed


def _maybe_evict(written: Path) -> None:
    """After a write into the cache, evict when a minute has passed since any process last did.

    The minute is kept machine-wide by a stamp file in the cache root: a build runs hundreds of
    short drop-in processes, and a scan of a large cache (0.3 s for 9,000 files) in each of
    them would cost more than their search."""
    now = time.monotonic()
    if now - _last_eviction[0] < _EVICTION_INTERVAL:
        return
    limit = max_bytes()
    if limit == 0:
        return
    try:
        root = cache_root()
        written.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return  # not a cache file (optgym-opt's output, a user's path)
    stamp = root / ".last-eviction"
    try:
        if time.time() - stamp.stat().st_mtime < _EVICTION_INTERVAL:
            _last_eviction[0] = now
            return
    except OSError:
        pass  # never evicted here yet
    if not _eviction_lock.acquire(blocking=False):
        return
    try:
        _last_eviction[0] = now
        with contextlib.suppress(OSError):
            stamp.touch()
        evict(limit, root)
    finally:
        _eviction_lock.release()


def usage(root: Path | None = None) -> dict[str, int]:
    """Bytes used below the cache root per top-level part (the evictable total under '*')."""
    root = root or cache_root()
    sizes: dict[str, int] = {}
    for path in _files(root):
        rel = path.relative_to(root).parts
        key = "/".join(rel[:2]) if len(rel) > 2 else rel[0]
        try:
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
        except OSError:
            pass
    sizes["*"] = sum(e.size for e in entries(root))
    return sizes


def clear(root: Path | None = None, everything: bool = False) -> int:
    """Remove every evictable entry (``everything``: the whole cache); returns bytes freed."""
    root = root or cache_root()
    freed = 0
    targets = [root] if everything else _evictable_dirs(root)
    for directory in targets:
        for path in _files(directory):
            try:
                freed += path.stat().st_size
            except OSError:
                pass
        if everything:
            for child in list(directory.iterdir()):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return freed


# -- `optgym cache` -----------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``optgym cache info|evict|clear``."""
    parser = subparsers.add_parser(
        "cache", help="show or shrink the on-disk cache",
        description="The on-disk cache ($OPTGYM_CACHE, default ~/.cache/optgym). Compiled "
                    "benchmarks, generated programs and baselines are rebuilt on demand and "
                    "kept below $OPTGYM_CACHE_MAX_BYTES (default 4G), least recently used "
                    "evicted first; downloaded datasets, imported projects and the leaderboard "
                    "store are kept.")
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    info = sub.add_parser("info", help="where the cache is, how big each part is, and the bound")
    info.set_defaults(handler=_info)
    ev = sub.add_parser("evict", help="evict least recently used entries down to the bound")
    ev.add_argument("--max-bytes", default=None,
                    help="bound to evict down to (default: $OPTGYM_CACHE_MAX_BYTES or 4G)")
    ev.set_defaults(handler=_evict)
    cl = sub.add_parser("clear", help="remove every rebuildable entry")
    cl.add_argument("--all", action="store_true",
                    help="remove everything, downloaded datasets and the leaderboard store too")
    cl.set_defaults(handler=_clear)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _info(args: argparse.Namespace) -> int:
    root = cache_root()
    sizes = usage(root)
    evictable = sizes.pop("*")
    print(f"cache: {root}")
    for key in sorted(sizes):
        print(f"  {_human(sizes[key]):>10}  {key}")
    limit = max_bytes()
    bound = _human(limit) if limit else "unbounded (OPTGYM_CACHE_MAX_BYTES=0)"
    print(f"total {_human(sum(sizes.values()))}; rebuildable {_human(evictable)}, bound {bound}")
    return 0


def _evict(args: argparse.Namespace) -> int:
    limit = max_bytes() if args.max_bytes is None else parse_size(args.max_bytes, "--max-bytes")
    if limit == 0:
        print("the cache is unbounded (a bound of 0); nothing evicted")
        return 0
    files, freed = evict(limit)
    print(f"evicted {files} files, {_human(freed)}")
    return 0


def _clear(args: argparse.Namespace) -> int:
    freed = clear(everything=args.all)
    print(f"removed {_human(freed)} from {cache_root()}")
    return 0
