"""Hostile dataset archives, downloaded through the real code path from file:// URLs: nothing may
be written outside the destination, whatever the Python version's tarfile filters do."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from optgym.datasets.remote import download_tarball, extract_archive
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


@pytest.mark.parametrize("attack,member,kind", [("fifo", "ds/fifo", "a FIFO"),
                                                ("device", "ds/null", "a device")])
def test_a_fifo_and_a_device_are_named_as_what_they_are(tmp_path, attack, member, kind):
    url, sha = _serve(tmp_path, _tar(lambda tar: HOSTILE[attack](tar, tmp_path)))
    with pytest.raises(BenchmarkError, match=f"archive member '{member}' is {kind};"):
        download_tarball(url, sha, tmp_path / "cache" / "ds", progress=False)


# -- limits checked while the archive streams -----------------------------------------------------
def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def _many_members_tar_gz(path: Path, count: int) -> Path:
    """A .tar.gz of ``count`` empty files (the audit's had 600,000 in 3.7 MB): one real ustar
    header copied ``count`` times with its name and checksum rewritten, compressed as it is made
    (building it with tarfile would take a minute)."""
    info = tarfile.TarInfo("m/00000000")
    template = np.frombuffer(info.tobuf(format=tarfile.USTAR_FORMAT), np.uint8)
    template = template.copy()
    template[148:156] = ord(" ")  # the checksum counts its own field as spaces
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        for start in range(0, count, 50_000):
            index = np.arange(start, min(count, start + 50_000))
            blocks = np.tile(template, (len(index), 1))
            for digit in range(8):
                blocks[:, 9 - digit] = ord("0") + index // 10**digit % 10
            checksum = blocks.sum(axis=1, dtype=np.int64)
            for digit in range(6):
                blocks[:, 153 - digit] = ord("0") + (checksum >> 3 * digit) % 8
            blocks[:, 154] = 0
            out.write(packer.compress(blocks.tobytes()))
        out.write(packer.compress(bytes(1024)) + packer.flush())
    return path


def _bomb_tar_gz(path: Path, size: int, pax: bool) -> Path:
    """A .tar.gz whose one member is ``size`` zero bytes: a gzip member of 1 MiB of zeros
    repeated (a few MB on disk). Its header declares the size, or (``pax``) declares 0 and a
    pax record carries the size, as tarfile honours."""
    info = tarfile.TarInfo("ds/bomb.bin")
    if pax:
        info.pax_headers = {"size": str(size)}
        header = info.tobuf(format=tarfile.PAX_FORMAT)
    else:
        info.size = size
        header = info.tobuf(format=tarfile.GNU_FORMAT)
    mib = _gzip(bytes(1 << 20))
    with open(path, "wb") as out:
        out.write(_gzip(header))
        for _ in range(size >> 20):
            out.write(mib)
        out.write(_gzip(bytes(1024)))
    return path


def _refusal_cost(archive: Path, dest: Path, **env: str) -> tuple[str, float, float]:
    """(the refusal, CPU seconds, peak MB) of unpacking ``archive`` in a fresh process."""
    code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from optgym.datasets.remote import extract_archive
        from optgym.errors import OptgymError
        start = time.process_time()
        try:
            extract_archive(Path({str(archive)!r}), Path({str(dest)!r}), what="hostile")
            print("accepted")
        except OptgymError as exc:
            print(type(exc).__name__, exc)
        # This process's peak resident memory (ru_maxrss would carry over the parent's, as the
        # fork that started this process counted the parent's pages).
        status = Path("/proc/self/status").read_text()
        peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
        print(time.process_time() - start, peak)
    """)
    dest.mkdir()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300, check=True)
    *message, cost = proc.stdout.strip().splitlines()
    cpu, peak = map(float, cost.split())
    return "\n".join(message), cpu, peak


def test_a_600000_member_archive_is_refused_in_seconds_and_little_memory(tmp_path):
    archive = _many_members_tar_gz(tmp_path / "many.tar.gz", 600_000)
    message, cpu, peak = _refusal_cost(archive, tmp_path / "dest")
    assert message.startswith("LimitExceeded") and "OPTGYM_MAX_ARCHIVE_MEMBERS" in message
    assert cpu < 5.0 and peak < 100, (cpu, peak)  # the audit: 150 s and 469 MB
    assert list((tmp_path / "dest").iterdir()) == []


@pytest.mark.parametrize("pax", [False, True], ids=["declared", "pax-size"])
def test_a_2_gib_gzip_bomb_is_refused_before_it_is_decompressed(tmp_path, pax):
    archive = _bomb_tar_gz(tmp_path / "bomb.tar.gz", 2 << 30, pax)
    message, cpu, peak = _refusal_cost(archive, tmp_path / "dest")
    assert message.startswith("LimitExceeded") and "OPTGYM_MAX_UNPACK_RATIO" in message
    assert cpu < 2.0 and peak < 100, (cpu, peak)  # the audit: decompressed whole, 23.7 s
    assert list((tmp_path / "dest").iterdir()) == []


def test_chained_long_names_are_bounded(tmp_path):
    """GNU long-name headers are read into memory whole: a chain of large ones is refused."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i in range(3):
            _add(tar, f"ds/{i}" + "n" * 600_000, data=b"x")
    raw = buf.getvalue()
    # Keep the first member's three long-name headers only: 1.8 MB of names for one member.
    blocks = [raw[i:i + 512] for i in range(0, len(raw), 512)]
    longnames = [i for i, b in enumerate(blocks) if b[156:157] == b"L"]
    per_name = longnames[1] - longnames[0]
    chain = b"".join(blocks[longnames[0]:longnames[0] + per_name - 2]) * 3
    (tmp_path / "chain.tar").write_bytes(chain + raw[longnames[0] * 512:])
    with pytest.raises(BenchmarkError, match="extension headers exceed"):
        extract_archive(tmp_path / "chain.tar", tmp_path / "d", what="chain")


def test_zip_entry_count_is_checked_before_the_directory_is_read(tmp_path, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(60):
            zf.writestr(f"ds/{i}.bc", b"BC\xc0\xde")
    (tmp_path / "z.zip").write_bytes(buf.getvalue())
    (tmp_path / "ok").mkdir()
    extract_archive(tmp_path / "z.zip", tmp_path / "ok", what="zip")
    assert len(list((tmp_path / "ok" / "ds").iterdir())) == 60
    monkeypatch.setenv("OPTGYM_MAX_ARCHIVE_MEMBERS", "50")
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", None)  # never reached
    # The end record's count is not trusted: here it says 10.
    raw = bytearray(buf.getvalue())
    end = raw.rfind(b"PK\x05\x06")
    raw[end + 8:end + 12] = (10).to_bytes(2, "little") * 2
    (tmp_path / "lying.zip").write_bytes(raw)
    for name in ("z.zip", "lying.zip"):
        (tmp_path / name).with_suffix(".d").mkdir()
        with pytest.raises(LimitExceeded, match=r"members \(more than 50\).*OPTGYM_MAX_ARCHIVE"):
            extract_archive(tmp_path / name, (tmp_path / name).with_suffix(".d"), what="zip")
