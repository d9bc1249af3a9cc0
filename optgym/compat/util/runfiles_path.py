"""``compiler_gym.util.runfiles_path``: where data and caches live (optgym's cache)."""

from __future__ import annotations

from pathlib import Path

from optgym.cache import cache_root


def site_data_path(relpath: str = "") -> Path:
    """A path under optgym's cache (CompilerGym's site data directory)."""
    return cache_root() / "compiler_gym" / relpath


def cache_path(relpath: str = "") -> Path:
    """A path under optgym's cache."""
    return cache_root() / "compiler_gym" / relpath


def transient_cache_path(relpath: str = "") -> Path:
    """A path under optgym's cache for files that may be deleted."""
    return cache_root() / "compiler_gym" / "transient" / relpath


def runfiles_path(relpath: str) -> Path:
    """CompilerGym's files shipped with its package; optgym ships none of them, so this is
    where they would be in the cache (tests that need one find it missing)."""
    return site_data_path(relpath)
