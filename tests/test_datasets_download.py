"""Downloads of published datasets, against a local HTTP server on 127.0.0.1 serving a
small tarball the test makes: verified by sha256, unpacked atomically, corrupt files
detected and nothing half-installed."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
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
from optgym.datasets.remote import (
    REMOTE_SPECS,
    RemoteDataset,
    RemoteSpec,
    download_tarball,
    downloads_dir,
)
from optgym.errors import BenchmarkError, LimitExceeded, OptgymError

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


# -- hostile servers: downloads are bounded in size and time -------------------------------------
class _Hostile(http.server.BaseHTTPRequestHandler):
    """Endless bodies, drips, lying lengths and hostile package indexes. Each stops by itself
    after a while (64 MiB, 15 s), so a client without bounds fails slowly instead of hanging."""

    sent: dict[str, int] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self, chunk: bytes, total: int, pause: float = 0.0, length: int | None = None
              ) -> None:
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        sent = 0
        try:
            while sent < total:
                self.wfile.write(chunk)
                self.wfile.flush()
                sent += len(chunk)
                _Hostile.sent[self.path] = sent
                time.sleep(pause)
        except OSError:
            pass  # the client stopped reading

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path == "/endless":
            self._body(b"\0" * (64 << 10), 64 << 20, pause=0.001)
        elif self.path == "/announced":  # says 8 GiB up front
            self._body(b"\0" * (64 << 10), 64 << 20, length=8 << 30)
        elif self.path == "/drip":  # one byte at a time: never idle for long
            self._body(b"x", 150, pause=0.1)
        elif self.path.startswith("/simple/deep/"):
            self._body(b"[" * 100_000 + b"]" * 100_000, 200_000)
        elif self.path.startswith("/simple/huge/"):
            self._body(b" " * (64 << 10), 64 << 20)
        elif self.path.startswith("/simple/"):
            index = {"meta": {"api-version": "1.1"}, "name": "pkg", "files": [
                {"filename": "pkg-1.0.tar.gz", "url": "../../endless", "size": 1000,
                 "hashes": {"sha256": "0" * 64}}]}
            self._body(json.dumps(index).encode(), 1)
        else:
            self.send_error(404)


@pytest.fixture
def hostile() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Hostile.sent.clear()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _bytes_below(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


def test_a_download_stops_at_the_size_cap_and_leaves_nothing(hostile, monkeypatch):
    monkeypatch.setenv("OPTGYM_MAX_DOWNLOAD_BYTES", "1M")
    dest = cache_root() / "downloads" / "endless"
    most, stop = [0], threading.Event()

    def watch() -> None:  # what the download ever had on disk
        while not stop.is_set():
            most[0] = max(most[0], _bytes_below(cache_root()))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(LimitExceeded, match="/endless.*OPTGYM_MAX_DOWNLOAD_BYTES"):
            download_tarball(f"{hostile}/endless", "0" * 64, dest, progress=False)
    finally:
        stop.set()
        watcher.join()
    assert 0 < most[0] <= 1 << 20  # never more than the cap on disk (main: 64 MiB, then sha256)
    assert _bytes_below(cache_root()) == 0 and not dest.exists()


def test_a_download_announced_larger_than_the_cap_is_refused_unread(hostile, monkeypatch):
    monkeypatch.setenv("OPTGYM_MAX_DOWNLOAD_BYTES", "1M")
    with pytest.raises(LimitExceeded, match="announced 8589934592 bytes.*OPTGYM_MAX_DOWNLOAD_BYTES"):
        download_tarball(f"{hostile}/announced", "0" * 64, cache_root() / "a", progress=False)
    assert _bytes_below(cache_root()) == 0


def _recipe(name: str) -> str:
    """A real-code recipe whose sources are NAME-1.0.tar.gz on the PyPI index."""
    return (f'[[project]]\nname = "{name}"\nversion = "1.0"\nlicense = "MIT"\n'
            f'files = ["*.c"]\nsource = {{ pypi = "{name}", version = "1.0", '
            f'filename = "{name}-1.0.tar.gz", sha256 = "{"0" * 64}" }}\n')


def test_a_download_stops_at_the_size_its_index_declares(hostile, monkeypatch):
    from optgym.datasets.realc import resolve_source
    from optgym.datasets.recipes import parse_recipes

    monkeypatch.setenv("OPTGYM_PYPI_URL", hostile)
    [recipe] = parse_recipes(_recipe("pkg"))
    url, size = resolve_source(recipe)
    assert url == f"{hostile}/endless" and size == 1000
    with pytest.raises(BenchmarkError, match="longer than the 1000 bytes its index declares"):
        download_tarball(url, "0" * 64, cache_root() / "pkg", progress=False, size=size)
    assert _Hostile.sent["/endless"] < 8 << 20 and _bytes_below(cache_root()) == 0


def test_a_dripping_download_stops_at_the_deadline(hostile, monkeypatch):
    monkeypatch.setenv("OPTGYM_DOWNLOAD_MAX_SECONDS", "2")
    start = time.monotonic()
    with pytest.raises(LimitExceeded, match="/drip.*more than 2 s.*OPTGYM_DOWNLOAD_MAX_SECONDS"):
        download_tarball(f"{hostile}/drip", "0" * 64, cache_root() / "drip", progress=False)
    assert time.monotonic() - start < 5  # main: held for as long as the server drips
    assert _bytes_below(cache_root()) == 0


@pytest.mark.parametrize("project,limit", [("deep", "OPTGYM_MAX_JSON_DEPTH"),
                                           ("huge", "OPTGYM_MAX_INDEX_BYTES")])
def test_a_hostile_package_index_is_refused_naming_the_limit(hostile, monkeypatch, project,
                                                             limit):
    from optgym.datasets.realc import resolve_source
    from optgym.datasets.recipes import parse_recipes

    monkeypatch.setenv("OPTGYM_PYPI_URL", hostile)
    monkeypatch.setenv("OPTGYM_MAX_INDEX_BYTES", "1M")
    [recipe] = parse_recipes(_recipe(project))
    with pytest.raises(OptgymError, match=f"simple/{project}/.*{limit}"):
        resolve_source(recipe)


def test_a_killed_download_leaves_nothing_once_the_next_one_runs(hostile, server):
    base, www = server
    dest = downloads_dir() / "tiny-v0"
    code = ("import sys\nfrom pathlib import Path\nfrom optgym.datasets.remote import "
            f"download_tarball\ndownload_tarball({hostile + '/drip'!r}, '0' * 64, "
            f"Path({str(dest)!r}), progress=False)\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while not list(dest.parent.glob(".tmp-tiny-v0-*/archive")):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.kill()  # SIGKILL mid-download: nothing of the process can clean up
    finally:
        proc.kill()
        proc.wait()
    [left] = dest.parent.glob(".tmp-tiny-v0-*")
    other = dest.parent / ".tmp-tiny-v0-b-abcdefgh"  # another destination's, in use
    other.mkdir()
    data = _tarball("tiny-v0")
    (www / "tiny.tar.bz2").write_bytes(data)
    download_tarball(f"{base}/tiny.tar.bz2", hashlib.sha256(data).hexdigest(), dest,
                     strip_prefix="tiny-v0", progress=False)
    assert not left.exists() and other.exists() and (dest / "k0.bc").is_file()
