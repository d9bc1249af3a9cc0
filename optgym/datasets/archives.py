"""Unpacking untrusted archives (tar with any compression, zip) with bounded time and memory.

A tar archive is read twice, both times as a stream. The first pass reads only the member
headers, with a parser of its own (a few microseconds a header, against tarfile's thirty), and
holds nothing per member: the member count, the total declared size and the compression ratio
are checked after every header, and every name and type is checked, so a hostile archive is
refused at the first header that breaks a rule, before anything is written. A 600,000-member
archive is refused after the 500,001st header, a decompression bomb at the header that declares
its size. The second pass unpacks with :mod:`tarfile`, checking each member again, through a
reader that refuses to decompress more than the limits allow (whatever a header claims) and
keeping no list of members. A zip archive's entries are counted in its central directory before
:mod:`zipfile` parses it.

Limits (:mod:`optgym.limits`): ``OPTGYM_MAX_ARCHIVE_MEMBERS``, ``OPTGYM_MAX_UNPACKED_BYTES``,
``OPTGYM_MAX_UNPACK_RATIO``. Extension headers (long names, pax records) are bounded at
:data:`MAX_EXTENSION_BYTES` per member.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import re
import shutil
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from optgym import limits
from optgym.errors import BenchmarkError

_BLOCK = 512
#: Extension headers (GNU long names, pax records) one member may carry: real ones hold a path
#: and a few numbers; a hostile one would be read into memory whole.
MAX_EXTENSION_BYTES = 1 << 20
#: Archives smaller than this count as this large in the ratio check: small archives of
#: source code may compress well.
RATIO_FLOOR_BYTES = 1 << 20
_CHUNK = 1 << 20

_REGULAR = (b"0", b"\0", b"7")  # file, old-style file, contiguous file
_KINDS = {b"1": "a hard link", b"2": "a symbolic link", b"3": "a device", b"4": "a device",
          b"6": "a FIFO", b"S": "a sparse file"}


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, as refusals name it ("a FIFO", "a device"...)."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def extract_archive(archive: Path, dest: Path, *, what: str, skip_links: bool = False) -> None:
    """Unpack a tar (gzip, bzip2, xz or none) or zip archive into the empty directory ``dest``.

    Every member is checked before anything is written: its path must stay inside ``dest``
    (no absolute paths, no ``..``), and it must be a regular file or a directory (symbolic and
    hard links, devices, FIFOs and sparse files are refused, so nothing can be written through
    a link). The member count, unpacked size and compression ratio are bounded
    (:mod:`optgym.limits`) and checked while the archive streams, so a refusal costs little.
    Files are created with ``O_NOFOLLOW`` under directories this function made itself.
    With ``skip_links`` a tar's symbolic and hard links are left out (never created, never
    followed) instead: source distributions carry convenience links a build does not need.
    BenchmarkError (LimitExceeded for a limit) names ``what`` and the offending member; on any
    failure ``dest`` is left empty.
    """
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, dest, what)
        else:
            length = _scan_tar(archive, what, skip_links)
            _extract_tar(archive, dest, what, skip_links, length)
    except BaseException as exc:
        _empty(dest)
        if isinstance(exc, (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error,
                            lzma.LZMAError, ValueError, struct.error)):
            raise BenchmarkError(f"{what}: cannot unpack the archive: {exc}") from exc
        if isinstance(exc, RecursionError):  # tarfile follows chained extension headers
            raise BenchmarkError(f"{what}: cannot unpack the archive: its extension headers "
                                 "are chained too deep; refused") from None
        raise


def _empty(dest: Path) -> None:
    with contextlib.suppress(OSError):
        for child in dest.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


# -- checks shared by both passes ------------------------------------------------------------
def _safe_parts(name: str, what: str) -> tuple[str, ...]:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise BenchmarkError(f"{what}: archive member {name!r} has an absolute path; refused")
    parts = tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
    if ".." in parts:
        raise BenchmarkError(f"{what}: archive member {name!r} leaves the destination "
                             "('..' in its path); refused")
    if any("\0" in p for p in parts):
        raise BenchmarkError(f"{what}: archive member {name!r} has a NUL in its name; refused")
    return parts


def _refuse_kind(name: str, kind: str, what: str) -> BenchmarkError:
    return BenchmarkError(f"{what}: archive member {name!r} is {kind}; only regular files and "
                          "directories are unpacked")


class _Totals:
    """What the archive has declared so far, checked against the limits at every member."""

    def __init__(self, archive: Path, what: str):
        self.what = what
        self.floor = max(archive.stat().st_size, RATIO_FLOOR_BYTES)
        self.members = 0
        self.size = 0
        #: The bounds, read once: the header pass compares against them for every header.
        self.max_members = limits.get("OPTGYM_MAX_ARCHIVE_MEMBERS") or float("inf")
        ratio = limits.get("OPTGYM_MAX_UNPACK_RATIO")
        self.max_size = min(limits.get("OPTGYM_MAX_UNPACKED_BYTES") or float("inf"),
                            ratio * self.floor if ratio else float("inf"))

    def add(self, size: int) -> None:
        self.members += 1
        self.size += size
        if self.members > self.max_members or self.size > self.max_size:
            self.refuse()

    def refuse(self) -> None:
        """Raise LimitExceeded for the limit the totals are over."""
        limits.check("OPTGYM_MAX_ARCHIVE_MEMBERS", self.members,
                     f"{self.what}: the archive's members (more than {self.members - 1})")
        limits.check("OPTGYM_MAX_UNPACKED_BYTES", self.size,
                     f"{self.what}: the archive's unpacked size (at least {self.size} bytes)")
        ratio = self.size / self.floor
        limits.check("OPTGYM_MAX_UNPACK_RATIO", ratio,
                     f"{self.what}: the archive's compression ratio (at least {ratio:.0f})")


# -- tar: the header pass ----------------------------------------------------------------------
def _decompressed(archive: Path) -> IO[bytes]:
    """The archive's tar stream: decompressed by its magic number (gzip, bzip2, xz) or as is."""
    with open(archive, "rb") as f:
        magic = f.read(6)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(archive, "rb")
    if magic[:3] == b"BZh":
        return bz2.open(archive, "rb")
    if magic == b"\xfd7zXZ\x00":
        return lzma.open(archive, "rb")
    return open(archive, "rb")


class _Blocks:
    """The tar stream as 512-byte blocks, read in large chunks (one Python call per megabyte,
    not per header)."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.buf = b""
        self.pos = 0
        self.base = 0  # where buf starts in the tar stream

    @property
    def offset(self) -> int:
        """Bytes of the tar stream consumed so far."""
        return self.base + self.pos

    def block(self) -> bytes | None:
        """The next block, or None at the end of the stream."""
        pos = self.pos
        end = pos + _BLOCK
        if end > len(self.buf):
            self.base += pos
            self.buf = self.buf[pos:] + self.stream.read(_CHUNK)
            pos, end = 0, _BLOCK
            if len(self.buf) < _BLOCK:
                self.pos = 0
                return None
        self.pos = end
        return self.buf[pos:end]

    def read(self, n: int) -> bytes:
        """The next ``n`` bytes rounded up to whole blocks (an extension header's payload)."""
        blocks = [self.block() or b"" for _ in range(-(-n // _BLOCK))]
        return b"".join(blocks)[:n]

    def skip(self, n: int) -> None:
        """Skip ``n`` bytes of member data, rounded up to whole blocks."""
        n = -(-n // _BLOCK) * _BLOCK
        if self.pos + n <= len(self.buf):
            self.pos += n
            return
        n -= len(self.buf) - self.pos
        self.base += len(self.buf)
        self.buf, self.pos = b"", 0
        while n > 0:
            chunk = self.stream.read(min(n, _CHUNK))
            if not chunk:
                return
            n -= len(chunk)
            self.base += len(chunk)


def _number(field: bytes) -> int | None:
    """A tar number field (octal text, or GNU base-256); None when it is not a number."""
    if field[:1] in (b"\x80", b"\xff"):
        if field[:1] == b"\xff":
            return None  # negative
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        return None


_PAX_RECORD = re.compile(rb"(\d+) ([^=]+)=")


def _pax(data: bytes, into: dict[bytes, bytes]) -> None:
    pos = 0
    while match := _PAX_RECORD.match(data, pos):
        length = int(match.group(1))
        if length <= 0:
            return
        into[match.group(2)] = data[match.end():match.start(1) + length - 1]
        pos += length


class _Extensions:
    """The extension headers (GNU long names, pax records) read since the last member, and the
    global pax records, applied to the next member's header as tarfile applies them."""

    KINDS = (b"L", b"K", b"x", b"g", b"X")

    def __init__(self, what: str):
        self.what = what
        self.global_pax: dict[bytes, bytes] = {}
        self.reset()

    def reset(self) -> None:
        self.pax: dict[bytes, bytes] | None = None
        self.long_name: bytes | None = None
        self.bytes = 0
        self.pending = False  # extension headers were read since the last member

    def take(self, kind: bytes, size: int, blocks: _Blocks) -> None:
        self.pending = True
        self.bytes += size
        if self.bytes > MAX_EXTENSION_BYTES:
            raise BenchmarkError(f"{self.what}: an archive member's extension headers exceed "
                                 f"{MAX_EXTENSION_BYTES} bytes; refused")
        data = blocks.read(size)
        if kind == b"L":
            self.long_name = data.split(b"\0", 1)[0]
        elif kind == b"g":
            _pax(data, self.global_pax)
        elif kind in (b"x", b"X"):
            self.pax = dict(self.global_pax)
            _pax(data, self.pax)

    def member(self, block: bytes, kind: bytes, size: int) -> tuple[bytes, bytes, int]:
        """The member's name, type and size once its extension headers are applied."""
        name = block[0:100].split(b"\0", 1)[0]
        prefix = block[345:500].split(b"\0", 1)[0]
        if prefix and kind != b"S":
            name = prefix + b"/" + name
        if self.long_name is not None:
            name = self.long_name
        if self.pax is not None:
            if b"path" in self.pax:
                name = self.pax[b"path"].rstrip(b"/")
            if b"size" in self.pax:
                size = int(self.pax[b"size"]) if self.pax[b"size"].isdigit() else 0
            if any(k.startswith(b"GNU.sparse") for k in self.pax):
                kind = b"S"
        self.reset()
        return name, kind, size


_SUSPECT_START = re.compile(rb"\n(?:[/\\]|.:)", re.DOTALL)


def _check_names(names: list[bytes], what: str) -> None:
    """Refuse the first unsafe name of a batch (see :func:`_safe_parts`). A batch is searched
    at once for anything that could make a name unsafe (a leading slash or drive letter, a
    backslash, a NUL, '..'), and only when something is found is each name looked at: a
    Python call per name would cost more than the rest of the header pass."""
    blob = b"\n" + b"\n".join(names)
    if b".." in blob or b"\\" in blob or b"\0" in blob or _SUSPECT_START.search(blob):
        for name in names:
            _safe_parts(name.decode("utf-8", "surrogateescape"), what)
    names.clear()


def _scan_tar(archive: Path, what: str, skip_links: bool) -> int:
    """The header pass: every member's name, type and size checked, and the limits, without
    unpacking anything or keeping anything per member (see the module doc). Returns the length
    of the tar stream up to its end, which the unpacking pass may not read beyond.

    The loop is written for speed: it runs once per header of archives with 500,000 members.
    """
    totals = _Totals(archive, what)
    extensions = _Extensions(what)
    extension_kinds = _Extensions.KINDS
    names: list[bytes] = []
    max_members, max_size = totals.max_members, totals.max_size
    with _decompressed(archive) as stream:
        blocks = _Blocks(stream)
        next_block = blocks.block
        while (block := next_block()) is not None:
            if block[0] == 0 and block.count(0) == _BLOCK:
                break  # the end-of-archive marker
            kind = block[156:157]
            try:
                size = int(block[124:135], 8)
            except ValueError:
                size = _number(block[124:136])
            if size is None:  # tarfile, too, reads a malformed header as the end
                if blocks.offset == _BLOCK:
                    raise BenchmarkError(f"{what}: not a tar or zip archive")
                break
            if kind in extension_kinds:
                extensions.take(kind, size, blocks)
                continue
            if extensions.pending or block[345] != 0:
                name, kind, size = extensions.member(block, kind, size)
            else:
                name = block[0:100].split(b"\0", 1)[0]
            if kind == b"5" or (kind == b"\0" and name.endswith(b"/")):  # as tarfile reads them
                size = 0
            elif kind not in _REGULAR:
                if skip_links and kind in (b"1", b"2"):
                    continue  # left out, as the unpacking pass leaves it out
                _check_names([*names, name], what)
                raise _refuse_kind(name.decode("utf-8", "surrogateescape"),
                                   _KINDS.get(kind, "not a regular file"), what)
            names.append(name)
            if len(names) >= 4096:
                _check_names(names, what)
            totals.members += 1  # totals.add, inlined; before the data is skipped (decompressed)
            totals.size += size
            if totals.members > max_members or totals.size > max_size:
                totals.refuse()
            if size:
                blocks.skip(size)
    _check_names(names, what)
    return blocks.offset


# -- tar: the unpacking pass -------------------------------------------------------------------
class _Guarded:
    """A forward-only reader of the tar stream for :mod:`tarfile` that refuses to decompress
    more than the ratio limit allows or to hand out a larger block than a member's data chunk
    or a bounded extension header: the second line of defence behind the header pass."""

    def __init__(self, stream: IO[bytes], length: int, what: str):
        self.stream = stream
        self.what = what
        self.pos = 0
        self.bound = length + 2 * _BLOCK  # what the header pass read, and the end marker

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > MAX_EXTENSION_BYTES + _CHUNK:
            raise BenchmarkError(f"{self.what}: an archive block of {n} bytes; refused")
        data = self.stream.read(min(n, max(0, self.bound - self.pos)))
        self.pos += len(data)
        if len(data) < n and self.pos >= self.bound:
            raise BenchmarkError(f"{self.what}: the archive reads differently the second "
                                 f"time, past the {self.bound} bytes its headers span; refused")
        return data

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET or pos < self.pos:
            raise BenchmarkError(f"{self.what}: the archive needs to be read backwards; refused")
        while self.pos < pos and self.read(min(pos - self.pos, _CHUNK)):
            pass
        return self.pos

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        self.stream.close()


def _tar_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (info := tar.next()) is not None:
        tar.members.clear()  # tarfile keeps every member it has read; nothing here needs them
        yield info


def _extract_tar(archive: Path, dest: Path, what: str, skip_links: bool, length: int) -> None:
    root = dest.resolve()
    with _decompressed(archive) as stream, \
            tarfile.open(fileobj=_Guarded(stream, length, what), mode="r:") as tar:  # type: ignore[call-overload]
        for info in _tar_members(tar):
            if skip_links and (info.issym() or info.islnk()):
                continue
            member = _tar_member(info, what)
            _write_member(member, root, lambda m: tar.extractfile(m.source), what)


@dataclass(frozen=True)
class _Member:
    """One archive member that passed the checks: where it goes, and how to read it."""

    parts: tuple[str, ...]
    is_dir: bool
    size: int
    source: Any  # a TarInfo or ZipInfo


def _tar_member(info: tarfile.TarInfo, what: str) -> _Member:
    parts = _safe_parts(info.name, what)
    if info.isdir():
        return _Member(parts, True, 0, info)
    if info.isreg() and not info.issparse():
        return _Member(parts, False, info.size, info)
    kind = ("a symbolic link" if info.issym() else "a hard link" if info.islnk() else
            "a FIFO" if info.isfifo() else "a device" if info.isdev() else
            "a sparse file" if info.issparse() else "not a regular file")
    raise _refuse_kind(info.name, kind, what)


def _write_member(m: _Member, root: Path, open_member: Callable[[_Member], Any],
                  what: str) -> None:
    target = root.joinpath(*m.parts) if m.parts else root
    shown = "/".join(m.parts)
    for i in range(1, len(m.parts)):
        above = root.joinpath(*m.parts[:i])
        if above.is_symlink() or (above.exists() and not above.is_dir()):
            raise BenchmarkError(f"{what}: archive member {shown!r} is inside "
                                 f"{'/'.join(m.parts[:i])!r}, which is a file; refused")
    if m.is_dir:
        if target.exists() and not target.is_dir():
            raise BenchmarkError(f"{what}: archive member {shown!r} is both a directory and a "
                                 "file; refused")
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Only this function creates entries below root, and never links, so the real path
    # must be the lexical one; checked anyway, as the one thing that must never happen.
    if not target.parent.resolve().is_relative_to(root):
        raise BenchmarkError(f"{what}: archive member {shown!r} would be written outside the "
                             "destination; refused")
    if target.is_dir():
        raise BenchmarkError(f"{what}: archive member {shown!r} is both a directory and a "
                             "file; refused")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as out, open_member(m) as src:
        written = 0
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > m.size:  # a member longer than it declared
                raise BenchmarkError(f"{what}: archive member {shown!r} is larger than its "
                                     "header says; refused")
            out.write(chunk)


# -- zip -----------------------------------------------------------------------------------------
def _zip_entries(archive: Path, what: str) -> None:
    """Count a zip's entries in its central directory, and refuse it past the member limit,
    before :mod:`zipfile` builds an object per entry. The count is that of the directory's own
    records (the end record's count could lie), read with one call per entry."""
    limit = limits.get("OPTGYM_MAX_ARCHIVE_MEMBERS")
    if not limit:
        return
    with open(archive, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        tail_at = max(0, size - (1 << 16) - 22)
        f.seek(tail_at)
        tail = f.read()
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or end + 22 > len(tail):
            return  # zipfile will say what is wrong
        directory_size = struct.unpack("<I", tail[end + 12:end + 16])[0]
        directory_end = tail_at + end
        locator = tail.rfind(b"PK\x06\x07", 0, end)
        if locator >= 0 and locator + 20 <= len(tail):  # zip64: the sizes are in its record
            f.seek(struct.unpack("<Q", tail[locator + 8:locator + 16])[0])
            record = f.read(56)
            if record[:4] == b"PK\x06\x06" and len(record) == 56:
                directory_size = struct.unpack("<Q", record[40:48])[0]
                directory_end = tail_at + locator - 56
        start = max(0, directory_end - directory_size)
        f.seek(start)
        directory = f.read(min(directory_size, size - start))
    count, pos, unpack = 0, 0, struct.Struct("<HHH").unpack_from
    while directory[pos:pos + 4] == b"PK\x01\x02" and pos + 46 <= len(directory):
        count += 1
        if count > limit:
            limits.check("OPTGYM_MAX_ARCHIVE_MEMBERS", count,
                         f"{what}: the archive's members (more than {count - 1})")
        name, extra, comment = unpack(directory, pos + 28)
        pos += 46 + name + extra + comment


def _zip_member(info: zipfile.ZipInfo, what: str) -> _Member:
    parts = _safe_parts(info.filename, what)
    mode = info.external_attr >> 16
    if info.is_dir() or stat.S_ISDIR(mode):
        return _Member(parts, True, 0, info)
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # no file type recorded: a plain file
        raise BenchmarkError(f"{what}: archive member {info.filename!r} is "
                             f"{file_kind(mode)} (mode {stat.filemode(mode)}); only regular "
                             "files and directories are unpacked")
    return _Member(parts, False, info.file_size, info)


def _extract_zip(archive: Path, dest: Path, what: str) -> None:
    _zip_entries(archive, what)
    totals = _Totals(archive, what)
    with zipfile.ZipFile(archive) as zf:
        members = []
        for info in zf.infolist():
            member = _zip_member(info, what)
            totals.add(member.size)
            members.append(member)
        root = dest.resolve()
        for member in members:
            _write_member(member, root, lambda m: zf.open(m.source), what)
