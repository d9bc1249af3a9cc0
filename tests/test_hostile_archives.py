"""Hostile dataset archives, downloaded through the real code path from file:// URLs: nothing may
be written outside the destination, whatever the Python version's tarfile filters do."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from optgym.datasets.remote import download_tarball
from optgym.errors import BenchmarkError, LimitExceeded


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTGYM_CACHE", str(tmp_path / "cache"))


def _add(tar: tarfile.TarFile, name: str, kind: bytes = tarfile.REGTYPE, link: str = "",
         data: bytes = b"", mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, mode
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def _tar(build, compression: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}" if compression else "w") as tar:
        _add(tar, "ds/ok.bc", data=b"BC\xc0\xde fine")
        build(tar)
    return buf.getvalue()


def _realpath_overflow(tar: tarfile.TarFile, outside: Path) -> None:
    """CVE-2025-4517's technique: a symlink chain whose resolved path is longer than PATH_MAX,
    where os.path.realpath (and so tarfile's 'data' filter before 3.11.13) stops resolving and
    judges the rest lexically, while the kernel follows it out of the destination."""
    component, steps, path = "d" * 247, "abcdefghijklmnop", ""
    for step in steps:
        _add(tar, os.path.join(path, component), tarfile.DIRTYPE, mode=0o755)
        _add(tar, os.path.join(path, step), tarfile.SYMTYPE, component)
        path = os.path.join(path, component)
    long_link = os.path.join(*steps, "l" * 254)
    _add(tar, long_link, tarfile.SYMTYPE, "../" * len(steps))
    _add(tar, "escape", tarfile.SYMTYPE,
         long_link + "/" + "../" * (len(steps) + 1) + str(outside).lstrip("/"))
    _add(tar, "escape/pwned.txt", data=b"pwned\n")


def _serve(tmp_path: Path, data: bytes, name: str = "hostile.tar") -> tuple[str, str]:
    path = tmp_path / name
    path.write_bytes(data)
    return path.as_uri(), hashlib.sha256(data).hexdigest()


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    return outside


HOSTILE = {
    "dotdot": lambda tar, out: _add(tar, "ds/../../../outside/pwned.txt", data=b"x"),
    "absolute": lambda tar, out: _add(tar, str(out / "pwned.txt"), data=b"x"),
    "symlink-then-write-through": lambda tar, out: (
        _add(tar, "ds/link", tarfile.SYMTYPE, str(out)),
        _add(tar, "ds/link/pwned.txt", data=b"x")),
    "relative-symlink-out": lambda tar, out: (
        _add(tar, "ds/up", tarfile.SYMTYPE, "../../../../../../../../../../../../" +
             str(out).lstrip("/")),
        _add(tar, "ds/up/pwned.txt", data=b"x")),
    "hardlink-outside": lambda tar, out: _add(tar, "ds/hard", tarfile.LNKTYPE,
                                               str(out / "victim.txt")),
    "device": lambda tar, out: _add(tar, "ds/null", tarfile.CHRTYPE),
    "fifo": lambda tar, out: _add(tar, "ds/fifo", tarfile.FIFOTYPE),
    "realpath-overflow-cve-2025-4517": lambda tar, out: _realpath_overflow(tar, out),
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_hostile_tar_is_refused_and_writes_nothing_outside(tmp_path, attack):
    outside = _outside(tmp_path)
    (outside / "victim.txt").write_text("original\n")
    url, sha = _serve(tmp_path, _tar(lambda tar: HOSTILE[attack](tar, outside)))
    dest = tmp_path / "cache" / "ds"
    with pytest.raises(BenchmarkError, match="archive member"):
        download_tarball(url, sha, dest, progress=False)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert (outside / "victim.txt").read_text() == "original\n"
    assert not dest.exists()  # nothing installed, not even the harmless member


def test_hostile_zip_is_refused(tmp_path):
    outside = _outside(tmp_path)
    for name, attrs in [("../outside/pwned.txt", 0o100644), ("ds/link", 0o120777)]:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("ds/ok.bc", b"BC\xc0\xde fine")
            info = zipfile.ZipInfo(name)
            info.external_attr = attrs << 16
            zf.writestr(info, str(outside))
        url, sha = _serve(tmp_path, buf.getvalue(), "hostile.zip")
        with pytest.raises(BenchmarkError, match="archive member"):
            download_tarball(url, sha, tmp_path / "cache" / "ds", progress=False)
    assert list(outside.iterdir()) == []


def test_benign_tar_and_zip_still_install(tmp_path):
    url, sha = _serve(tmp_path, _tar(lambda tar: _add(tar, "ds/sub/deep.bc", data=b"deep"),
                                     "bz2"))
    dest = download_tarball(url, sha, tmp_path / "cache" / "t", strip_prefix="ds",
                            progress=False)
    assert (dest / "sub" / "deep.bc").read_bytes() == b"deep" and (dest / "ok.bc").is_file()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ds/a/b.bc", b"bitcode")
    url, sha = _serve(tmp_path, buf.getvalue(), "ok.zip")
    dest = download_tarball(url, sha, tmp_path / "cache" / "z", strip_prefix="ds",
                            progress=False)
    assert (dest / "a" / "b.bc").read_bytes() == b"bitcode"


@pytest.mark.parametrize("variable,value,match", [
    ("OPTGYM_MAX_UNPACKED_BYTES", "1M", "unpacked size"),
    ("OPTGYM_MAX_UNPACK_RATIO", "2", "compression ratio"),
    ("OPTGYM_MAX_ARCHIVE_MEMBERS", "50", "members"),
])
def test_archive_caps(tmp_path, monkeypatch, variable, value, match):
    def build(tar):
        _add(tar, "ds/zeros.bin", data=bytes(3 << 20))  # 3 MiB that compress to almost nothing
        for i in range(60):
            _add(tar, f"ds/f{i}.bc", data=b"BC\xc0\xde")

    url, sha = _serve(tmp_path, _tar(build, "gz"))
    download_tarball(url, sha, tmp_path / "cache" / "ok", progress=False)  # within the defaults
    monkeypatch.setenv(variable, value)
    with pytest.raises(LimitExceeded, match=f"{match}.*{variable}"):
        download_tarball(url, sha, tmp_path / "cache" / "capped", progress=False)
    assert not (tmp_path / "cache" / "capped").exists()


@pytest.mark.parametrize("attack", ["symlink-then-write-through", "relative-symlink-out",
                                    "hardlink-outside", "realpath-overflow-cve-2025-4517"])
def test_skipping_links_unpacks_the_rest_and_still_writes_nothing_outside(tmp_path, attack):
    # How real-code recipes unpack source distributions, which carry convenience links.
    outside = _outside(tmp_path)
    (outside / "victim.txt").write_text("original\n")
    url, sha = _serve(tmp_path, _tar(lambda tar: HOSTILE[attack](tar, outside)))
    dest = download_tarball(url, sha, tmp_path / "cache" / "ds", progress=False, skip_links=True)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert (outside / "victim.txt").read_text() == "original\n"
    assert (dest / "ds" / "ok.bc").is_file()
    assert not any(p.is_symlink() for p in dest.rglob("*"))


def test_skipping_links_still_refuses_devices(tmp_path):
    url, sha = _serve(tmp_path, _tar(lambda tar: HOSTILE["device"](tar, tmp_path)))
    with pytest.raises(BenchmarkError, match="archive member"):
        download_tarball(url, sha, tmp_path / "cache" / "ds", progress=False, skip_links=True)
