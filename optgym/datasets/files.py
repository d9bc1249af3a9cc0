"""``file://`` benchmarks: one .c, .ll or .bc file on disk.

``.c`` is compiled like the built-in programs (what clang -Oz hands its optimizer), with any
compile flags the URI's query names (``file:///x.c?copt=-std=gnu89&copt=-DN=4``), and cached
by content hash under ``<cache>/files/``; ``.ll`` and ``.bc`` (LLVM 19 reads bitcode from older
LLVMs) get clang -Oz's function attributes unless ``OPTGYM_KEEP_ATTRIBUTES=1`` (see
:func:`optgym.datasets._util.user_module`). A ``.c`` file is runnable (it
needs a ``main`` to link); its reference output is that of its -O0 build.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode

from optgym.cache import read_entry
from optgym.datasets._util import (
    FRONTEND_FLAGS,
    atomic_write_bytes,
    cache_root,
    compile_c_to_bitcode,
    is_bitcode,
    sha256_bytes,
    user_module,
)
from optgym.datasets.archives import file_kind
from optgym.datasets.core import Benchmark
from optgym.errors import BenchmarkError

SUFFIXES = (".c", ".ll", ".bc")


def load_file_bitcode(path: Path, *, what: str, extra_flags: tuple[str, ...] = ()) -> bytes:
    """Bitcode of a .c/.ll/.bc file; BenchmarkError with the tool's diagnostics on failure."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BenchmarkError(f"{what}: unsupported file type {suffix or '(none)'!r}; expected .c, .ll or .bc")
    data = _read_regular(path, what)
    if suffix == ".bc" and not is_bitcode(data):
        raise BenchmarkError(f"{what}: {path} is not LLVM bitcode (bad magic number)")
    if suffix in (".bc", ".ll"):
        return user_module(data, what=what)
    flags = ("-g0", f"-I{path.parent}", *extra_flags)
    key = sha256_bytes(data + b"\0" + "\0".join(FRONTEND_FLAGS + flags).encode())[:24]
    cached = cache_root() / "files" / f"{key}.bc"
    hit = read_entry(cached, is_bitcode)  # a corrupted entry counts as missing
    if hit is not None:
        return hit
    bitcode = compile_c_to_bitcode(path, what=what, extra_flags=flags)
    atomic_write_bytes(cached, bitcode)
    return bitcode


class FileBenchmark(Benchmark):
    """A benchmark read from a file named by a ``file://`` URI; a C file's compile flags are
    part of its URI (``?copt=FLAG&copt=FLAG``), so the URI still names the module."""

    def __init__(self, path: Path, flags: Sequence[str] = ()) -> None:
        self.flags = tuple(flags)
        query = "?" + urlencode([("copt", f) for f in self.flags]) if self.flags else ""
        super().__init__(path.as_uri() + query, "file", str(path),
                         runnable=path.suffix.lower() == ".c")
        self.path = path

    def _load_bitcode(self) -> bytes:
        return load_file_bitcode(self.path, what=self.uri, extra_flags=self.flags)


def _read_regular(path: Path, what: str) -> bytes:
    """The bytes of a regular file. A FIFO, a device or a directory is refused by name, as
    archives refuse them, and without blocking (opening a FIFO waits for a writer)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise BenchmarkError(f"{what}: no such file {path}") from None
    except OSError as exc:
        raise BenchmarkError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise BenchmarkError(f"{what}: {path} is {file_kind(mode)}; only regular files are "
                                 "read")
        os.set_blocking(fd, True)
        return f.read()


def file_benchmark(uri_path: str) -> FileBenchmark:
    """The benchmark for the path part of a ``file://`` URI (relative paths are resolved
    against the working directory), with the compile flags its ``?copt=`` query gives."""
    raw, _, query = uri_path.partition("?")
    fields = parse_qs(query, keep_blank_values=True) if query else {}
    unknown = sorted(set(fields) - {"copt"})
    if unknown:
        raise BenchmarkError(f"file://{uri_path}: unknown URI parameter {unknown[0]!r}; "
                             "only copt= (a compile flag for a .c file) is understood")
    flags = fields.get("copt", [])
    path = Path(unquote(raw)).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise BenchmarkError(f"file://{uri_path}: unsupported file type; expected a .c, .ll or .bc file")
    if flags and path.suffix.lower() != ".c":
        raise BenchmarkError(f"file://{uri_path}: copt= flags apply to a .c file only")
    path = path.resolve()
    try:
        mode = path.stat().st_mode
    except OSError:
        raise BenchmarkError(f"file://{uri_path}: no such file {path}") from None
    if not stat.S_ISREG(mode):
        raise BenchmarkError(f"file://{uri_path}: {path} is {file_kind(mode)}; only regular "
                             "files are read")
    return FileBenchmark(path, flags)
