"""Downloads of published datasets, against a local HTTP server on 127.0.0.1 serving a
small tarball the test makes: verified by sha256, unpacked atomically, corrupt files
detected and nothing half-installed."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from optgym.datasets import (
    download_dataset,
    get_benchmark,
    get_dataset,
    register_dataset,
    unregister_dataset,
)
from optgym.datasets._util import assemble_ll, cache_root
from optgym.datasets.remote import REMOTE_SPECS, RemoteDataset, RemoteSpec, downloads_dir
from optgym.errors import BenchmarkError

IR = "define i32 @f{n}(i32 %x) {{\n  %y = add i32 %x, {n}\n  ret i32 %y\n}}\n"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTGYM_CACHE", str(tmp_path / "cache"))




def _tarball(prefix: str, with_c: bool = False) -> bytes:
    """A tar.bz2 like CompilerGym's: PREFIX/<benchmark>.bc files (and a .c one)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        files = {f"{prefix}/k{n}.bc": assemble_ll(IR.format(n=n).encode(), what="test") for n in range(3)}
        files[f"{prefix}/sub/deep.bc"] = assemble_ll(IR.format(n=9).encode(), what="test")
        if with_c:
            files[f"{prefix}/src/prog.c"] = b"int main(void) { return 0; }\n"
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_published_specs_look_right() -> None:
    names = {s.name for s in REMOTE_SPECS}
    assert {"cbench-v1", "mibench-v0", "npb-v0", "chstone-v0", "blas-v0"} <= names
    for s in REMOTE_SPECS:
        assert s.url.startswith("https://") and len(s.sha256) == 64 and int(s.sha256, 16) >= 0
        assert s.published_size > 0
    cb = get_dataset("cbench-v1")
    assert isinstance(cb, RemoteDataset) and not cb.installed and cb.size == 23


def test_download_verifies_and_installs(server: tuple[str, Path]) -> None:
    base, www = server
    data = _tarball("tiny-v0")
    (www / "tiny.tar.bz2").write_bytes(data)
    spec = RemoteSpec("tiny-v0", f"{base}/tiny.tar.bz2", hashlib.sha256(data).hexdigest(), "test", "CC0", 4, "tiny-v0")
    register_dataset(RemoteDataset(spec))
    try:
        ds = get_dataset("tiny-v0")
        with pytest.raises(BenchmarkError, match="optgym datasets download tiny-v0"):
            ds.benchmark_uris()
        path = download_dataset("tiny-v0", progress=False)
        assert path == downloads_dir() / "tiny-v0" and ds.installed
        assert ds.benchmark_uris() == [f"benchmark://tiny-v0/{n}" for n in ("k0", "k1", "k2", "sub/deep")]
        assert get_benchmark("benchmark://tiny-v0/sub/deep").bitcode[:4] == b"BC\xc0\xde"
        # Already installed: a second call does not fetch (the file is gone from the server).
        (www / "tiny.tar.bz2").unlink()
        assert download_dataset("tiny-v0", progress=False) == path
        # No temporary files or directories remain beside it.
        assert sorted(p.name for p in downloads_dir().iterdir() if not p.name.endswith(".lock")) == ["tiny-v0"]
    finally:
        unregister_dataset("tiny-v0")


def test_corrupt_download_is_detected_and_nothing_installed(server: tuple[str, Path]) -> None:
    base, www = server
    good = _tarball("cBench-v1")
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    (www / "cbench.tar.bz2").write_bytes(bytes(bad))
    with pytest.raises(BenchmarkError, match="corrupt: sha256"):
        download_dataset("cbench-v1", url=f"{base}/cbench.tar.bz2", sha256=hashlib.sha256(good).hexdigest(), progress=False)
    assert not get_dataset("cbench-v1").installed
    leftovers = [p for p in downloads_dir().iterdir() if not p.name.endswith(".lock")] if downloads_dir().exists() else []
    assert leftovers == []
    # A truncated file and a missing one fail the same clean way.
    (www / "short.tar.bz2").write_bytes(good[:100])
    with pytest.raises(BenchmarkError, match="corrupt"):
        download_dataset("cbench-v1", url=f"{base}/short.tar.bz2", sha256=hashlib.sha256(good).hexdigest(), progress=False)
    with pytest.raises(BenchmarkError, match="404"):
        download_dataset("cbench-v1", url=f"{base}/missing.tar.bz2", progress=False)
    # With the right bytes at the mirror URL, the dataset installs under its strip prefix.
    (www / "cbench.tar.bz2").write_bytes(good)
    download_dataset("cbench-v1", url=f"{base}/cbench.tar.bz2", sha256=hashlib.sha256(good).hexdigest(), progress=False)
    cb = get_dataset("cbench-v1")
    assert cb.installed and cb.size == 4 and "benchmark://cbench-v1/k1" in cb.benchmark_uris()
    with pytest.raises(BenchmarkError, match="not downloadable"):
        download_dataset("builtin-v0")


def test_cli_download(server: tuple[str, Path]) -> None:
    base, www = server
    data = _tarball("npb-v0")
    (www / "npb.tar.bz2").write_bytes(data)
    argv = [sys.executable, "-m", "optgym.cli", "datasets", "download", "npb-v0", "--url", f"{base}/npb.tar.bz2"]
    r = subprocess.run([*argv, "--sha256", "0" * 64], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 2 and "corrupt" in r.stderr
    r = subprocess.run([*argv, "--sha256", hashlib.sha256(data).hexdigest()], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert "npb-v0: 4 benchmarks" in r.stdout
    assert (cache_root() / "downloads" / "npb-v0" / "k0.bc").is_file()


def test_source_dataset_compiles_on_first_use(server: tuple[str, Path]) -> None:
    # Like chstone-v0: the tarball holds C sources, named by an explicit benchmark -> file map.
    base, www = server
    data = _tarball("chs", with_c=True)
    (www / "chs.tar.bz2").write_bytes(data)
    spec = RemoteSpec("chs-v0", f"{base}/chs.tar.bz2", hashlib.sha256(data).hexdigest(), "test", "CC0", 1, "chs", ".c",
                      (("prog", "src/prog.c"),))
    register_dataset(RemoteDataset(spec))
    try:
        download_dataset("chs-v0", progress=False)
        assert get_dataset("chs-v0").benchmark_uris() == ["benchmark://chs-v0/prog"]
        bc = get_benchmark("benchmark://chs-v0/prog").bitcode
        assert bc[:4] == b"BC\xc0\xde"
        assert get_benchmark("benchmark://chs-v0/prog").bitcode == bc  # from the cache beside the source
    finally:
        unregister_dataset("chs-v0")
