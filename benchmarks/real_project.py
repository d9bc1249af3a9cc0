"""`optgym-cc` against `clang-19 -Oz` on a real C library fetched from the package registry.

The LZ4 library (the C sources bundled in the `lz4` source distribution on PyPI, pinned by
version and sha256, downloaded once into the optgym cache, never committed) is compiled file
by file with ``clang-19 -Oz -c`` and with ``optgym-cc -Oz -c`` (the default policy and
budget). The script prints each object's ``.text`` bytes and ``size`` text, the totals, and
the build times, all measured side by side in one run. Behaviour is checked by a round-trip
driver written here (block, HC and frame compression of generated data, then decompression,
printing checksums), linked against each build of the library and compared with the -O0
build's output.

    .venv/bin/python benchmarks/real_project.py [--budget N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

from optgym.cache import atomic_write, cache_root
from optgym.llvm.core import elf_size_text, elf_text_size

OPTGYM_CC = str(Path(sys.executable).parent / "optgym-cc")
SDIST = {
    "name": "lz4",
    "version": "4.4.5",
    "url": "https://files.pythonhosted.org/packages/57/51/"
           "f1b86d93029f418033dddf9b9f79c8d2641e7454080478ee2aab5123173e/lz4-4.4.5.tar.gz",
    "sha256": "5f0b9e53c1e82e88c10d7c180069363980136b9d7a8306c4dca4f760d60c39f0",
    "sources": ["lz4libs/lz4.c", "lz4libs/lz4hc.c", "lz4libs/lz4frame.c", "lz4libs/xxhash.c"],
}

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lz4.h"
#include "lz4hc.h"
#include "lz4frame.h"

static unsigned fnv(const char *p, size_t n) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 16777619u; }
  return h;
}

int main(void) {
  enum { N = 1 << 18 };
  char *src = malloc(N), *dst = malloc(LZ4F_compressFrameBound(N, NULL)), *back = malloc(N);
  unsigned x = 12345;
  for (int i = 0; i < N; i++) {  /* text-like data with repeats, then noise */
    x = x * 1103515245u + 12345u;
    src[i] = i < N / 2 ? "the quick brown fox jumps over the lazy dog "[(i + (x >> 28)) % 44]
                       : (char)(x >> 16);
  }
  int c = LZ4_compress_default(src, dst, N, LZ4_compressBound(N));
  int d = LZ4_decompress_safe(dst, back, c, N);
  printf("block %d %d %08x %d\n", c, d, fnv(dst, c), memcmp(src, back, N) == 0);
  for (int level = 1; level <= 12; level += 5) {
    c = LZ4_compress_HC(src, dst, N, LZ4_compressBound(N), level);
    d = LZ4_decompress_safe(dst, back, c, N);
    printf("hc%d %d %d %08x %d\n", level, c, d, fnv(dst, c), memcmp(src, back, N) == 0);
  }
  size_t fc = LZ4F_compressFrame(dst, LZ4F_compressFrameBound(N, NULL), src, N, NULL);
  LZ4F_dctx *dctx;
  LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION);
  size_t out = N, in = fc;
  size_t r = LZ4F_decompress(dctx, back, &out, dst, &in, NULL);
  LZ4F_freeDecompressionContext(dctx);
  printf("frame %zu %zu %zu %08x %d\n", fc, out, r, fnv(dst, fc), memcmp(src, back, N) == 0);
  return 0;
}
"""


def fetch(sdist: dict) -> Path:
    """The source distribution, downloaded once into the cache and checked against sha256."""
    path = cache_root() / "sources" / Path(sdist["url"]).name
    if not path.is_file():
        with urllib.request.urlopen(sdist["url"], timeout=120) as response:
            data = response.read()
        if hashlib.sha256(data).hexdigest() != sdist["sha256"]:
            raise SystemExit(f"{sdist['url']}: sha256 mismatch; refusing to use it")
        atomic_write(path, data)
    elif hashlib.sha256(path.read_bytes()).hexdigest() != sdist["sha256"]:
        raise SystemExit(f"{path}: sha256 mismatch; delete it to download again")
    return path


def extract(archive: Path, dest: Path, sdist: dict) -> Path:
    """Only the library's directory, regular files only."""
    prefix = f"{sdist['name']}-{sdist['version']}/"
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(prefix + "lz4libs/") and ".." not in member.name:
                target = dest / member.name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())
    return dest


def build(compiler: list[str], root: Path, out: Path, env: dict | None = None) -> tuple[dict, float]:
    """Compile every library source; per-object (.text, size text) and the wall time."""
    out.mkdir()
    sizes, started = {}, time.perf_counter()
    for rel in SDIST["sources"]:
        obj = out / (Path(rel).stem + ".o")
        subprocess.run([*compiler, "-c", str(root / rel), "-o", str(obj)], check=True, env=env)
        data = obj.read_bytes()
        sizes[Path(rel).name] = (elf_text_size(data), elf_size_text(data))
    return sizes, time.perf_counter() - started


def run_driver(root: Path, objects: Path, work: Path, tag: str) -> str:
    exe = work / f"driver-{tag}"
    subprocess.run(["clang-19", "-O0", "-w", f"-I{root / 'lz4libs'}", str(work / "driver.c"),
                    *sorted(str(p) for p in objects.glob("*.o")), "-o", str(exe)], check=True)
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True,
                          timeout=120).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=None,
                        help="optgym-cc compilations per file (default: optgym-cc's)")
    args = parser.parse_args(argv)
    archive = fetch(SDIST)
    env = dict(os.environ)
    if args.budget:
        env["OPTGYM_CC_BUDGET"] = str(args.budget)
    with tempfile.TemporaryDirectory(prefix="optgym-real-") as tmp:
        work = Path(tmp)
        root = extract(archive, work / "src", SDIST)
        (work / "driver.c").write_text(DRIVER)
        flags = ["-w", f"-I{root / 'lz4libs'}"]
        o0, _ = build(["clang-19", "-O0", *flags], root, work / "o0")
        theirs, t_clang = build(["clang-19", "-Oz", *flags], root, work / "clang")
        ours, t_ours = build([OPTGYM_CC, "-Oz", *flags], root, work / "optgym", env)
        reference = run_driver(root, work / "o0", work, "o0")
        same = {tag: run_driver(root, work / tag, work, tag) == reference
                for tag in ("clang", "optgym")}
    print(f"{SDIST['name']} {SDIST['version']} (PyPI sdist, sha256 {SDIST['sha256'][:12]}...), "
          f"{len(SDIST['sources'])} translation units")
    print(f"{'object':<14}{'clang -Oz .text':>17}{'optgym-cc .text':>17}{'ratio':>8}"
          f"{'clang size':>12}{'optgym size':>13}")
    for name in theirs:
        (tc, sc), (to, so) = theirs[name], ours[name]
        print(f"{name:<14}{tc:>17,}{to:>17,}{tc / to:>8.3f}{sc:>12,}{so:>13,}")
    total_c, total_o = (sum(v[0] for v in d.values()) for d in (theirs, ours))
    size_c, size_o = (sum(v[1] for v in d.values()) for d in (theirs, ours))
    print(f"{'total':<14}{total_c:>17,}{total_o:>17,}{total_c / total_o:>8.3f}{size_c:>12,}"
          f"{size_o:>13,}")
    ratios = [theirs[n][0] / ours[n][0] for n in theirs]
    print(f"geomean .text clang/optgym-cc: {statistics.geometric_mean(ratios):.4f}; "
          f"objects larger than clang -Oz's: {sum(ours[n][0] > theirs[n][0] for n in theirs)}")
    print(f"build time: clang-19 -Oz {t_clang:.1f} s, optgym-cc {t_ours:.1f} s "
          f"({t_ours / t_clang:.1f}x)")
    print(f"round trip output equals the -O0 build's: clang -Oz {same['clang']}, "
          f"optgym-cc {same['optgym']}")
    return 0 if same["optgym"] and all(ours[n][0] <= theirs[n][0] for n in theirs) else 1


if __name__ == "__main__":
    sys.exit(main())
