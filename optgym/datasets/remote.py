"""CompilerGym's published datasets, downloaded on request (``optgym datasets download``).

CompilerGym published its LLVM datasets as tarballs of LLVM 10 bitcode (and, for a few,
of C sources) at fixed public URLs with sha256 sums; the URLs, sums and published
benchmark counts below are the ones its source and documentation state. LLVM 19 reads
LLVM 10 bitcode, so the files are used as they are.

A download streams to a temporary file beside the destination while hashing it, checks
the sha256, unpacks into a temporary directory and renames the finished directory into place,
all under a file lock: a dataset directory either exists complete or not at all, and a
corrupt or truncated download is detected and discarded. Unpacking trusts nothing in the
archive (:func:`extract_archive`): every member is checked before anything is written, and
only regular files and directories inside the destination are accepted, whatever the Python
version's own extraction filters do. A download stops at a size cap, at the size its index
declares (when it declares one) and at an overall deadline, so a hostile URL or mirror can
neither fill the disk nor hold a download forever; nothing partial is left behind, not even
by a download that was killed (the next one removes it). The limits are in
:mod:`optgym.limits`.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import http.client
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optgym import limits
from optgym.cache import read_entry
from optgym.datasets._util import (
    atomic_write_bytes,
    cache_root,
    compile_c_to_bitcode,
    file_lock,
    is_bitcode,
    user_module,
)
from optgym.datasets.archives import extract_archive
from optgym.datasets.core import Benchmark, Dataset
from optgym.errors import BenchmarkError

_FB = "https://dl.fbaipublicfiles.com/compiler_gym"


@dataclass(frozen=True)
class RemoteSpec:
    """Where a published dataset lives and how to read it once unpacked."""

    name: str
    url: str
    sha256: str
    description: str
    license: str
    published_size: int
    strip_prefix: str = ""
    suffix: str = ".bc"
    #: For source datasets: benchmark name -> C file (relative to the unpacked root).
    sources: tuple[tuple[str, str], ...] = ()


_CHSTONE_SOURCES = tuple(
    (n, f"{n}/{f}")
    for n, f in [
        ("adpcm", "adpcm.c"), ("aes", "aes.c"), ("blowfish", "bf.c"), ("dfadd", "dfadd.c"),
        ("dfdiv", "dfdiv.c"), ("dfmul", "dfmul.c"), ("dfsin", "dfsin.c"), ("gsm", "gsm.c"),
        ("jpeg", "main.c"), ("mips", "mips.c"), ("motion", "mpeg2.c"), ("sha", "sha_driver.c"),
    ]
)

#: The CompilerGym datasets we know how to fetch (Linux variants where they differ).
REMOTE_SPECS: tuple[RemoteSpec, ...] = (
    RemoteSpec("cbench-v1", f"{_FB}/llvm_bitcodes-10.0.0-cBench-v1-linux.tar.bz2",
               "601fff3944c866f6617e653b6eb5c1521382c935f56ca1f36a9f5cf1a49f3de5",
               "C benchmarks (cBench), LLVM 10 bitcode (compile-only here: no run harness); CompilerGym's leaderboard test set",
               "BSD-3-Clause", 23, "cBench-v1"),
    RemoteSpec("mibench-v0", f"{_FB}/llvm_bitcodes-10.0.0-mibench-v0.tar.bz2",
               "128c090c40b955b99fdf766da167a5f642018fb35c16a1d082f63be2e977eb13",
               "MiBench C benchmarks, LLVM 10 bitcode", "BSD-3-Clause", 40, "mibench-v0"),
    RemoteSpec("npb-v0", f"{_FB}/llvm_bitcodes-10.0.0-npb-v0.tar.bz2",
               "793ac2e7a4f4ed83709e8a270371e65b724da09eaa0095c52e7f4209f63bb1f2",
               "NASA Parallel Benchmarks, LLVM 10 bitcode", "NASA-1.3", 122, "npb-v0"),
    RemoteSpec("blas-v0", f"{_FB}/llvm_bitcodes-10.0.0-blas-v0.tar.bz2",
               "e724a8114709f8480adeb9873d48e426e8d9444b00cddce48e342b9f0f2b096d",
               "Basic linear algebra kernels, LLVM 10 bitcode", "BSD-3-Clause", 300, "blas-v0"),
    RemoteSpec("chstone-v0",
               "https://github.com/ChrisCummins/patmos_HLS/archive/e62d878ceb91e5a18007ca2e0a9602ee44ff7d59.tar.gz",
               "f7acab9d3c3dc7b971e62c8454bc909d84bddb6d0a96378e41beb94231739acb",
               "CHStone benchmarks for C-based high-level synthesis (C sources, compiled here)",
               "mixture of open-source and public-domain licenses", 12,
               "patmos_HLS-e62d878ceb91e5a18007ca2e0a9602ee44ff7d59/benchmarks/CHStone", ".c", _CHSTONE_SOURCES),
    RemoteSpec("opencv-v0", f"{_FB}/llvm_bitcodes-10.0.0-opencv-v0.tar.bz2",
               "003df853bd58df93572862ca2f934c7b129db2a3573bcae69a2e59431037205c",
               "Compile-only object files from the C++ OpenCV library, LLVM 10 bitcode", "Apache-2.0", 442, "opencv-v0"),
    RemoteSpec("tensorflow-v0", f"{_FB}/llvm_bitcodes-10.0.0-tensorflow-v0.tar.bz2",
               "f77dd1988c772e8359e1303cc9aba0d73d5eb27e0c98415ac3348076ab94efd1",
               "Compile-only object files from the C++ TensorFlow library, LLVM 10 bitcode", "Apache-2.0", 1985, "tensorflow-v0"),
    RemoteSpec("linux-v0", f"{_FB}/llvm_bitcodes-10.0.0-linux-v0.tar.bz2",
               "a1ae5c376af30ab042c9e54dc432f89ce75f9ebaee953bc19c08aff070f12566",
               "Compile-only object files from the Linux kernel, LLVM 10 bitcode", "GPL-2.0", 13894, "linux-v0"),
    RemoteSpec("github-v0", f"{_FB}/llvm_bitcodes-10.0.0-github-v0.tar.bz2",
               "880269dd7a5c2508ea222a2e54c318c38c8090eb105c0a87c595e9dd31720764",
               "Compile-only C/C++ objects from GitHub, LLVM 10 bitcode", "CC-BY-4.0", 49738, "github-v0"),
    RemoteSpec("poj104-v0", f"{_FB}/llvm_bitcodes-10.0.0-poj104-v0.tar.bz2",
               "6254d629887f6b51efc1177788b0ce37339d5f3456fb8784415ed3b8c25cce27",
               "Solutions to programming problems (POJ-104), LLVM 10 bitcode", "BSD-3-Clause", 49816, "poj104-v0"),
)


def downloads_dir() -> Path:
    """Where downloaded datasets are unpacked: ``<cache>/downloads/NAME``."""
    return cache_root() / "downloads"


class RemoteBenchmark(Benchmark):
    """A benchmark of a downloaded dataset: its bitcode file, or its C source compiled on
    first use (cached beside the unpacked dataset)."""

    def __init__(self, dataset: RemoteDataset, name: str, path: Path) -> None:
        super().__init__(f"benchmark://{dataset.name}/{name}", dataset.name, name, runnable=False)
        self.path = path

    def _load_bitcode(self) -> bytes:
        if self.path.suffix == ".bc":
            data = self.path.read_bytes()
            if not is_bitcode(data):
                raise BenchmarkError(f"{self.uri}: {self.path} is not LLVM bitcode")
            return user_module(data, what=self.uri)
        cached = self.path.parent / f".{self.path.stem}.optgym.bc"
        hit = read_entry(cached, is_bitcode)  # a corrupted entry counts as missing
        if hit is not None:
            return hit
        bitcode = compile_c_to_bitcode(self.path, what=self.uri, extra_flags=("-w", "-g0", f"-I{self.path.parent}"))
        atomic_write_bytes(cached, bitcode)
        return bitcode


class RemoteDataset(Dataset):
    """A dataset published at a URL with a sha256 sum; usable after :meth:`download`."""

    def __init__(self, spec: RemoteSpec) -> None:
        super().__init__(spec.name, description=spec.description, license=spec.license, runnable=False)
        self.spec = spec
        self._index: dict[str, Path] | None = None

    @property
    def root(self) -> Path:
        """The unpacked dataset directory."""
        return downloads_dir() / self.name

    @property
    def installed(self) -> bool:
        return (self.root / ".optgym-complete").is_file()

    @property
    def size(self) -> int:
        """The number of benchmarks once downloaded; before, the published count."""
        return len(self._names()) if self.installed else self.spec.published_size

    def _scan(self) -> dict[str, Path]:
        if self._index is None:
            if not self.installed:
                raise BenchmarkError(f"dataset {self.name} is not downloaded; run: optgym datasets download {self.name}")
            if self.spec.sources:
                self._index = {n: self.root / rel for n, rel in self.spec.sources if (self.root / rel).is_file()}
            else:
                self._index = {
                    p.relative_to(self.root).with_suffix("").as_posix(): p
                    for p in self.root.rglob(f"*{self.spec.suffix}")
                    if not p.name.startswith(".")
                }
        return self._index

    def _names(self) -> list[str]:
        return sorted(self._scan())

    def _make_benchmark(self, name: str) -> RemoteBenchmark:
        return RemoteBenchmark(self, name, self._scan()[name])

    def download(self, *, url: str | None = None, sha256: str | None = None, progress: bool = True, force: bool = False) -> Path:
        """Fetch, verify and unpack the dataset (see the module doc); returns its directory.

        ``url`` and ``sha256`` override the published ones (mirrors, tests).
        """
        download_tarball(
            url or self.spec.url,
            sha256 or self.spec.sha256,
            self.root,
            strip_prefix=self.spec.strip_prefix,
            progress=progress,
            force=force,
            label=self.name,
        )
        self._index = None
        return self.root


def compilergym_datasets() -> list[RemoteDataset]:
    """One RemoteDataset per published CompilerGym dataset."""
    return [RemoteDataset(s) for s in REMOTE_SPECS]


class _Transfer:
    """One bounded download: at most ``limit`` bytes (the size cap, or the size the index or
    the server declares, whichever is smaller) before ``deadline``; every error names it."""

    def __init__(self, url: str, label: str, *, cap_env: str, declared: int | None = None):
        self.url, self.label = url, label
        self.cap_env = cap_env
        self.cap = int(limits.get(cap_env)) or None
        self.declared = declared
        seconds = limits.get("OPTGYM_DOWNLOAD_MAX_SECONDS")
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds if seconds else None
        self.done = 0

    @property
    def what(self) -> str:
        return f"download of {self.label} from {self.url}"

    def socket_timeout(self) -> float:
        """Seconds one network read may wait: 60, or less when the deadline is nearer."""
        if self.deadline is None:
            return 60.0
        return max(0.5, min(60.0, self.deadline - time.monotonic()))

    def start(self, response: Any) -> int | None:
        """Check what the server announces before reading any of it; the expected length."""
        length = response.headers.get("Content-Length") if response.headers else None
        length = int(length) if length and length.strip().isdigit() else None
        if length is not None and self.declared is not None and length != self.declared:
            raise BenchmarkError(f"{self.what}: the server sends {length} bytes, the index "
                                 f"declares {self.declared}; nothing was installed")
        if length is not None and self.cap is not None:
            limits.check(self.cap_env, length, f"{self.what}: its announced {length} bytes")
        return length if length is not None else self.declared

    def chunks(self, response: Any) -> Iterator[bytes]:
        """The response body in pieces as they arrive (a slow server cannot hold one read for
        longer than the socket time-out), stopping at the first byte over a bound."""
        read = getattr(response, "read1", None) or response.read
        while True:
            if self.deadline is not None and time.monotonic() > self.deadline:
                limits.check("OPTGYM_DOWNLOAD_MAX_SECONDS", self.seconds + 1,
                             f"{self.what}: it took more than {self.seconds:g} s, which")
            want = 1 << 20
            if self.cap is not None:
                want = min(want, self.cap - self.done + 1)
            if self.declared is not None:
                want = min(want, self.declared - self.done + 1)
            chunk = read(max(want, 1))
            if not chunk:
                return
            self.done += len(chunk)
            if self.declared is not None and self.done > self.declared:
                raise BenchmarkError(f"{self.what}: it is longer than the {self.declared} bytes "
                                     "its index declares; nothing was installed")
            if self.cap is not None:
                limits.check(self.cap_env, self.done, f"{self.what}: more than {self.cap} bytes")
            yield chunk

    def open(self) -> Any:
        request = urllib.request.Request(self.url, headers={"User-Agent": "optgym"})
        return urllib.request.urlopen(request, timeout=self.socket_timeout())


def fetch_bytes(url: str, *, what: str, cap_env: str = "OPTGYM_MAX_INDEX_BYTES",
                headers: dict[str, str] | None = None) -> bytes:
    """The body of a small document (a package index page), bounded in size by ``cap_env``
    and in time by ``OPTGYM_DOWNLOAD_MAX_SECONDS``. BenchmarkError naming ``what`` when it
    cannot be fetched, LimitExceeded when it is too large or too slow."""
    transfer = _Transfer(url, what, cap_env=cap_env)
    request = urllib.request.Request(url, headers={"User-Agent": "optgym", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=transfer.socket_timeout()) as resp:
            transfer.start(resp)
            return b"".join(transfer.chunks(resp))
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise BenchmarkError(f"{transfer.what} failed: {exc}") from exc


def _fetch(url: str, dest: Any, *, expected_sha256: str, progress: bool, label: str,
           size: int | None = None) -> None:
    """Stream ``url`` into the open file ``dest`` within the download bounds (see
    :class:`_Transfer`; ``size`` is what the index declares) and check its sha256."""
    from tqdm import tqdm

    transfer = _Transfer(url, label, cap_env="OPTGYM_MAX_DOWNLOAD_BYTES", declared=size)
    digest = hashlib.sha256()
    try:
        with transfer.open() as resp:
            total = transfer.start(resp)
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {label}",
                      disable=not progress) as bar:
                for chunk in transfer.chunks(resp):
                    dest.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise BenchmarkError(f"download of {label} from {url} failed: {exc}") from exc
    if size is not None and transfer.done != size:
        raise BenchmarkError(f"download of {label} from {url} is {transfer.done} bytes, its "
                             f"index declares {size}; nothing was installed")
    actual = digest.hexdigest()
    if actual != expected_sha256.lower():
        raise BenchmarkError(
            f"download of {label} from {url} is corrupt: sha256 {actual} does not match the expected {expected_sha256}; nothing was installed"
        )


def _remove_stale_temporaries(dest: Path) -> None:
    """Remove what downloads to ``dest`` killed mid-way (SIGKILL, a power cut) left behind.

    Called under the download's lock, so no live process is writing them; matched exactly
    (``.tmp-NAME-`` and tempfile's 8 characters), so another destination's are never touched.
    """
    prefix = f".tmp-{dest.name}-"
    for path in dest.parent.glob(f"{glob.escape(prefix)}*"):
        if len(path.name) == len(prefix) + 8 and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def download_tarball(
    url: str,
    sha256: str,
    dest: Path,
    *,
    strip_prefix: str = "",
    progress: bool = True,
    force: bool = False,
    label: str | None = None,
    skip_links: bool = False,
    size: int | None = None,
) -> Path:
    """Download a tarball, verify it and unpack it to ``dest`` atomically.

    ``strip_prefix`` names the directory inside the tarball that becomes ``dest`` (when
    the tarball does not contain it, its top level is used); ``skip_links`` leaves link
    members out instead of refusing the archive (see :func:`extract_archive`); ``size`` is
    the length an index declares, beyond which the download stops. The download also stops
    at ``OPTGYM_MAX_DOWNLOAD_BYTES`` and ``OPTGYM_DOWNLOAD_MAX_SECONDS``; whatever stops it,
    the temporary files go with it. Returns ``dest``.
    """
    label = label or dest.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(dest.parent / f".{dest.name}.lock"):
        if (dest / ".optgym-complete").is_file() and not force:
            return dest
        _remove_stale_temporaries(dest)
        with tempfile.TemporaryDirectory(prefix=f".tmp-{dest.name}-", dir=dest.parent) as tmp:
            tmpdir = Path(tmp)
            archive = tmpdir / "archive"
            with open(archive, "wb") as f:
                _fetch(url, f, expected_sha256=sha256, progress=progress, label=label,
                       size=size)
            unpacked = tmpdir / "unpacked"
            unpacked.mkdir()
            extract_archive(archive, unpacked, what=f"download of {label} from {url}",
                            skip_links=skip_links)
            archive.unlink()
            top = unpacked / strip_prefix if strip_prefix and (unpacked / strip_prefix).is_dir() else unpacked
            (top / ".optgym-complete").write_text(f"{url}\n{sha256}\n")
            if dest.exists():
                old = tmpdir / "old"
                os.replace(dest, old)
            os.replace(top, dest)
            with contextlib.suppress(OSError):
                shutil.rmtree(tmpdir / "old", ignore_errors=True)
    return dest
