"""Users' own code as datasets: ``optgym datasets add-project PATH --name NAME``.

PATH is a ``compile_commands.json`` (or a directory holding one at its top), whose
translation units are recompiled with their own flags plus ``-O0 -Xclang
-disable-O0-optnone -emit-llvm -c`` (dropping ``-o``, other ``-O`` levels and
dependency-file flags), or a directory of ``.c`` / ``.ll`` / ``.bc`` files. Every file
that fails is reported with the compiler's message and the rest is imported.

The imported dataset lives in ``<cache>/projects/NAME/`` (one ``.bc`` per benchmark and a
``manifest.json``) and is listed in ``<cache>/datasets.json``, so every process finds
it. The project directory is built under a temporary name and renamed into place, and the
registry is rewritten atomically under a file lock: a crash never leaves a half-imported
dataset registered.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from optgym.datasets._util import (
    FRONTEND_FLAGS,
    atomic_write_text,
    cache_root,
    file_lock,
    run_tool,
    tool,
)
from optgym.datasets.core import Benchmark, Dataset
from optgym.datasets.files import SUFFIXES, load_file_bitcode
from optgym.errors import BenchmarkError

_CXX_SUFFIXES = {".cc", ".cpp", ".cxx", ".c++", ".C"}
_SOURCE_SUFFIXES = {".c", *_CXX_SUFFIXES}
#: Flags that take a separate argument and are dropped together with it.
_DROP_WITH_ARG = {"-o", "-MF", "-MT", "-MQ"}
#: Flags dropped on their own: output kind, dependency files; ours are forced instead.
_DROP_ALONE = {"-c", "-S", "-E", "-emit-llvm", "-M", "-MM", "-MD", "-MMD", "-MP", "-MG", "-pipe"}


def _registry_path() -> Path:
    return cache_root() / "datasets.json"


def _read_registry() -> dict[str, dict]:
    path = _registry_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class ProjectBenchmark(Benchmark):
    """One translation unit of an imported project (compile-only)."""

    def __init__(self, dataset: str, name: str, path: Path) -> None:
        super().__init__(f"benchmark://{dataset}/{name}", dataset, name, runnable=False)
        self.path = path

    def _load_bitcode(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise BenchmarkError(f"{self.uri}: cached bitcode {self.path} is unreadable ({exc}); re-run add-project") from exc


class ProjectDataset(Dataset):
    """A dataset imported from a user's project (persisted in the cache directory)."""

    def __init__(self, name: str, root: Path, manifest: dict) -> None:
        super().__init__(
            name,
            description=manifest.get("description") or f"user project imported from {manifest.get('source', '?')}",
            license=manifest.get("license", "user-provided"),
            runnable=False,
        )
        self.root = root
        self.manifest = manifest
        self._benchmarks: dict[str, str] = dict(manifest.get("benchmarks", {}))

    def _names(self) -> list[str]:
        return sorted(self._benchmarks)

    def _make_benchmark(self, name: str) -> ProjectBenchmark:
        return ProjectBenchmark(self.name, name, self.root / self._benchmarks[name])


_LOADED: dict[tuple[str, int, int], dict[str, Dataset]] = {}


def load_user_datasets() -> dict[str, Dataset]:
    """The user datasets recorded in ``<cache>/datasets.json`` whose files still exist.

    Memoized on the registry file's path, size and modification time, so resolving a
    benchmark does not re-read every manifest.
    """
    path = _registry_path()
    try:
        st = path.stat()
    except OSError:
        return {}
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = _load_user_datasets()
    return dict(_LOADED[key])


def _load_user_datasets() -> dict[str, Dataset]:
    out: dict[str, Dataset] = {}
    for name, entry in _read_registry().items():
        if entry.get("kind") == "recipes":
            from optgym.datasets.realc import RealCDataset

            try:
                out[name] = RealCDataset(name, Path(entry["recipes"]), functions_of=entry.get("functions_of"))
            except (KeyError, TypeError, BenchmarkError):
                pass
            continue
        root = cache_root() / entry.get("dir", f"projects/{name}")
        manifest_path = root / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
            out[name] = ProjectDataset(name, root, manifest)
        except (OSError, json.JSONDecodeError, BenchmarkError):
            continue
    return out


@dataclass
class ImportReport:
    """What ``add_project`` did: the dataset name, the benchmarks imported and the files
    that failed with their messages."""

    dataset: str
    imported: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Job:
    name: str
    label: str
    kind: str  # "argv" (compile with argv in cwd) or "file" (load a .c/.ll/.bc)
    path: Path
    argv: list[str] = field(default_factory=list)
    cwd: Path | None = None


def _filter_flags(args: list[str], file_path: Path, directory: Path) -> list[str]:
    """The user's flags minus output, optimization-level and dependency-file flags and the
    source file itself."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in _DROP_WITH_ARG:
            skip = True
            continue
        if a in _DROP_ALONE or a.startswith("-O") or (a.startswith("-o") and len(a) > 2) or a.startswith("-MF") or a.startswith("-flto"):
            continue
        if not a.startswith("-"):
            candidate = Path(a) if os.path.isabs(a) else directory / a
            if os.path.normpath(candidate) == os.path.normpath(file_path):
                continue
        out.append(a)
    return out


def _bench_name(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(*path.parts[1:]) if path.is_absolute() else path
    return rel.with_suffix("").as_posix()


def _jobs_from_compile_commands(cc_path: Path) -> tuple[list[_Job], list[tuple[str, str]]]:
    try:
        entries = json.loads(cc_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchmarkError(f"{cc_path}: not a readable compile_commands.json ({exc})") from exc
    if not isinstance(entries, list):
        raise BenchmarkError(f"{cc_path}: expected a JSON list of compile commands")
    root = cc_path.parent.resolve()
    jobs: list[_Job] = []
    failures: list[tuple[str, str]] = []
    for i, e in enumerate(entries):
        label = str(e.get("file", f"entry {i}")) if isinstance(e, dict) else f"entry {i}"
        try:
            directory = Path(e["directory"])
            file_path = Path(e["file"])
            if not file_path.is_absolute():
                file_path = directory / file_path
            file_path = Path(os.path.normpath(file_path))
            args = list(e["arguments"]) if "arguments" in e else shlex.split(e["command"])
        except (KeyError, TypeError, ValueError) as exc:
            failures.append((label, f"malformed compile command: {exc}"))
            continue
        if file_path.suffix not in _SOURCE_SUFFIXES:
            failures.append((label, f"not a C or C++ source file ({file_path.suffix or 'no suffix'})"))
            continue
        compiler = tool("clang++") if file_path.suffix in _CXX_SUFFIXES else tool("clang")
        flags = _filter_flags(args[1:], file_path, directory)
        argv = [compiler, *flags, *FRONTEND_FLAGS, "-o", "-", str(file_path)]
        jobs.append(_Job(_bench_name(file_path, root), str(file_path), "argv", file_path, argv, directory))
    return jobs, failures


def _jobs_from_directory(root: Path) -> list[_Job]:
    jobs = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if p.suffix.lower() in SUFFIXES:
                jobs.append(_Job(_bench_name(p, root), str(p), "file", p))
    return jobs


def add_project(
    path: str | os.PathLike[str],
    name: str,
    *,
    description: str | None = None,
    replace: bool = False,
    jobs: int = 2,
    progress: bool = False,
) -> ImportReport:
    """Import a project as the dataset ``name`` and persist it; see the module doc.

    Raises BenchmarkError when nothing could be imported, when the name is taken (unless
    ``replace``) or when PATH is neither a compile_commands.json nor a directory.
    """
    from tqdm import tqdm

    from optgym.datasets.core import Dataset as _Dataset  # name validation
    from optgym.datasets.core import list_datasets

    _Dataset(name, description="", license="", runnable=False)
    src = Path(path).expanduser().resolve()
    if src.is_dir() and (src / "compile_commands.json").is_file():
        src = src / "compile_commands.json"
    if src.is_file() and src.name.endswith(".json"):
        job_list, failures = _jobs_from_compile_commands(src)
    elif src.is_dir():
        job_list, failures = _jobs_from_directory(src), []
    else:
        raise BenchmarkError(f"{path}: expected a compile_commands.json or a directory of .c/.ll/.bc files")

    taken = {d.name: d for d in list_datasets()}
    if name in taken and not (replace and isinstance(taken[name], ProjectDataset)):
        raise BenchmarkError(
            f"a dataset named {name!r} already exists" + ("; pass --replace to overwrite it" if isinstance(taken[name], ProjectDataset) else "")
        )

    def build(job: _Job) -> tuple[_Job, bytes | None, str | None]:
        try:
            if job.kind == "argv":
                return job, run_tool(job.argv, what=job.label, cwd=job.cwd), None
            return job, load_file_bitcode(job.path, what=job.label, extra_flags=(f"-I{src}",)), None
        except BenchmarkError as exc:
            return job, None, str(exc)

    projects = cache_root() / "projects"
    projects.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=projects))
    report = ImportReport(dataset=name, failures=list(failures))
    try:
        benchmarks: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for job, bitcode, err in tqdm(pool.map(build, job_list), total=len(job_list), desc=f"import {name}", unit="file", disable=not progress):
                if err is not None or bitcode is None:
                    report.failures.append((job.label, err or "no bitcode produced"))
                    continue
                bench = job.name
                n = 2
                while bench in benchmarks:  # the same file compiled twice with different flags
                    bench, n = f"{job.name}~{n}", n + 1
                rel = f"bc/{len(benchmarks):06d}.bc"
                (staging / "bc").mkdir(exist_ok=True)
                (staging / rel).write_bytes(bitcode)
                benchmarks[bench] = rel
        if not benchmarks:
            raise BenchmarkError(
                f"{path}: nothing could be imported ({len(report.failures)} failures):\n"
                + "\n".join(f"  {f}: {m.splitlines()[0] if m else ''}" for f, m in report.failures[:20])
            )
        manifest = {
            "name": name,
            "description": description or f"user project imported from {src}",
            "source": str(src),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "benchmarks": benchmarks,
            "failures": [{"file": f, "error": m} for f, m in report.failures],
        }
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
        final = projects / name
        with file_lock(cache_root() / ".datasets.lock"):
            old = None
            if final.exists():
                old = projects / f".old-{name}-{os.getpid()}-{time.monotonic_ns()}"
                os.replace(final, old)
            os.replace(staging, final)
            registry = _read_registry()
            registry[name] = {"kind": "project", "dir": f"projects/{name}"}
            atomic_write_text(_registry_path(), json.dumps(registry, indent=1, sort_keys=True))
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        report.imported = sorted(benchmarks)
        return report
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def register_recipe_dataset(name: str, recipes: str | os.PathLike[str], *, functions_of: str | None = None) -> Dataset:
    """Remember a dataset built from a user's recipe file (``optgym datasets build NAME
    --recipes FILE``) so every process finds it; returns it (not yet built).

    The recipe file is parsed now, so a bad one fails here with a RecipeError. A shipped
    dataset's name, or an imported project's, cannot be reused.
    """
    from optgym.datasets.core import Dataset as _Dataset  # name validation
    from optgym.datasets.core import list_datasets
    from optgym.datasets.realc import RealCDataset
    from optgym.datasets.recipes import load_recipes

    _Dataset(name, description="", license="", runnable=False)
    path = Path(recipes).expanduser().resolve()
    load_recipes(path)
    taken = {d.name: d for d in list_datasets()}
    if name in taken and not (isinstance(taken[name], RealCDataset) and name in _read_registry()):
        raise BenchmarkError(f"a dataset named {name!r} already exists; choose another name for a recipe dataset")
    if functions_of is not None and functions_of == name:
        raise BenchmarkError(f"{name}: --functions-of must name the module-level dataset, not {name} itself")
    with file_lock(cache_root() / ".datasets.lock"):
        registry = _read_registry()
        registry[name] = {"kind": "recipes", "recipes": str(path), "functions_of": functions_of}
        atomic_write_text(_registry_path(), json.dumps(registry, indent=1, sort_keys=True))
    return RealCDataset(name, path, functions_of=functions_of)


def remove_project(name: str) -> None:
    """Delete an imported project dataset (or a recipe dataset) and its cached bitcode."""
    with file_lock(cache_root() / ".datasets.lock"):
        registry = _read_registry()
        if name not in registry:
            raise BenchmarkError(f"{name!r} is not an imported project; imported: {', '.join(sorted(registry)) or 'none'}")
        entry = registry.pop(name)
        atomic_write_text(_registry_path(), json.dumps(registry, indent=1, sort_keys=True))
    if entry.get("kind") == "recipes":  # its built modules; the shared source archives stay
        shutil.rmtree(cache_root() / name, ignore_errors=True)
        return
    shutil.rmtree(cache_root() / entry.get("dir", f"projects/{name}"), ignore_errors=True)
