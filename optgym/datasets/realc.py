"""realc-v0 and realc-fn-v0: datasets built on the user's machine from real C projects.

``optgym datasets build realc-v0`` reads the recipes (:mod:`optgym.datasets.recipes`),
fetches each project's pinned sources (a PyPI sdist or a URL, refused unless its sha256
matches), unpacks them with :func:`optgym.datasets.remote.download_tarball`, writes the
generated headers a recipe carries and compiles every translation unit with
:func:`optgym.datasets._util.compile_c_to_bitcode` (so with the flags every optgym benchmark
gets), plus the recipe's include dirs, defines and flags, ``-w`` and ``-g0``. A file that
does not compile is reported with clang's message and skipped; the rest of its project is
built. Benchmarks are ``benchmark://realc-v0/PROJECT/PATH`` (PATH relative to the sources,
without ``.c``).

``optgym datasets build realc-fn-v0`` splits every realc-v0 module into single-function
modules with ``llvm-extract-19 --func=NAME`` (the function's body plus the declarations and
globals it needs), as ComPile and AnghaBench do, verifies each with LLVM, drops functions
with fewer than :data:`MIN_FUNCTION_INSTRUCTIONS` instructions and duplicates within a
project (a ``static inline`` helper from a header is defined in every file that uses it),
and names them ``benchmark://realc-fn-v0/PROJECT/PATH/FUNCTION``. A function that a project
shares with a project of an earlier split (a ``static inline`` from another library's header;
train comes first, then validation) is left out of the later one.

Splits are by project (leave-project-out): a project goes wholly to train, validation or
test, by :func:`optgym.datasets._util.split_of` of its name (the sha256 bucket every optgym
dataset uses, 60/20/20), so no test program shares a project with training data, and adding
a project never moves another.

Cache layout (under the versioned cache directory): ``sources/SHA/`` (unpacked, verified
archives, shared by every project and dataset built from them), and per dataset
``NAME/gen/PROJECT-FP/`` (generated headers), ``NAME/modules/PROJECT/KEY.bc`` and
``NAME/projects/PROJECT.json`` (the project's manifest, written last and atomically: its
presence means the project is built, for this recipe and these compiler flags). A build
that is killed resumes: finished bitcode files (and, for functions, finished modules) are
kept and reused, finished projects are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import sysconfig
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from optgym.datasets import _util
from optgym.datasets._util import (
    atomic_write_bytes,
    atomic_write_text,
    cache_root,
    compile_c_to_bitcode,
    split_of,
)
from optgym.datasets.core import Benchmark, Dataset
from optgym.datasets.recipes import SHIPPED_RECIPES, Recipe, configure_text, load_recipes
from optgym.errors import BenchmarkError, OptgymError

#: Function modules with fewer instructions than this are dropped from realc-fn-v0: a
#: getter or a forwarding wrapper leaves a pass pipeline nothing to choose.
MIN_FUNCTION_INSTRUCTIONS = 5
#: Bumped when what a build writes changes, so older builds are redone rather than reused.
BUILD_FORMAT = 1
_DEFAULT_PYPI = "https://pypi.org"
#: The in-process binding keeps one LLVMContext per process, which is not thread-safe: the
#: build's threads (which mostly wait for clang) take turns for parsing and counting.
_LLVM_LOCK = threading.Lock()


def _flags_id() -> str:
    """What identifies the compiler flags compile_c_to_bitcode uses, so a change of them
    invalidates every cached module."""
    from optgym.llvm.toolchain import FRONTEND_FLAGS

    return hashlib.sha256(json.dumps([BUILD_FORMAT, list(FRONTEND_FLAGS)]).encode()).hexdigest()[:12]


def project_split(project: str) -> str:
    """The split a whole project belongs to (see the module doc)."""
    return split_of(project)


def _progress_enabled(progress: bool | None) -> bool:
    """Progress bars only on a terminal, unless asked for explicitly."""
    return sys.stderr.isatty() if progress is None else progress


# -- fetching ---------------------------------------------------------------------------
def pypi_index() -> str:
    """The PyPI base URL sdists are resolved against (``$OPTGYM_PYPI_URL`` or pypi.org)."""
    return os.environ.get("OPTGYM_PYPI_URL", _DEFAULT_PYPI).rstrip("/")


def resolve_url(recipe: Recipe) -> str:
    """The download URL of a recipe's source (see :func:`resolve_source`)."""
    return resolve_source(recipe)[0]


def resolve_source(recipe: Recipe) -> tuple[str, int | None]:
    """The download URL of a recipe's source and its size when the index declares one: its
    ``url``, or the sdist ``filename`` that PyPI's simple JSON API (PEP 691, which every PyPI
    mirror serves; PEP 700 adds the size) lists for ``pypi``. The index page is untrusted: its
    size, its JSON nesting and the time it takes are bounded (:mod:`optgym.limits`)."""
    from optgym import limits
    from optgym.datasets.remote import fetch_bytes

    src = recipe.source
    if src.url:
        return src.url, None
    project = re.sub(r"[-_.]+", "-", str(src.pypi)).lower()
    api = f"{pypi_index()}/simple/{project}/"
    what = f"{recipe.name}: the index of {src.label} at {api}"
    try:
        raw = fetch_bytes(api, what=what,
                          headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        data = limits.load_json(raw, what)
    except BenchmarkError as exc:
        raise BenchmarkError(f"{recipe.name}: cannot look up {src.label} at {api}: {exc}") from exc
    for entry in data.get("files", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and entry.get("filename") == src.filename and entry.get("url"):
            size = entry.get("size")
            declared = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
            return urllib.parse.urljoin(api, str(entry["url"])), declared
    raise BenchmarkError(f"{recipe.name}: PyPI lists no file {src.filename!r} for {src.label} ({api})")


def fetch_sources(recipe: Recipe, *, progress: bool = False) -> Path:
    """Download, verify and unpack a project's sources (once); returns the source root: the
    archive's single top-level directory, or the unpacked directory itself."""
    from optgym.datasets.remote import download_tarball

    # Keyed by the archive's hash: projects vendored in one sdist (and datasets built from
    # the same sources) share one download.
    dest = cache_root() / "sources" / recipe.source.sha256[:16]
    if not (dest / ".optgym-complete").is_file():
        url, size = resolve_source(recipe)
        download_tarball(url, recipe.source.sha256, dest, progress=progress, label=f"{recipe.name} ({recipe.source.label})",
                         skip_links=True, size=size)
    children = [p for p in dest.iterdir() if not p.name.startswith(".optgym")]
    return children[0] if len(children) == 1 and children[0].is_dir() else dest


# -- compiling ------------------------------------------------------------------------------
def select_files(recipe: Recipe, root: Path) -> list[Path]:
    """The recipe's translation units under the unpacked source root, sorted."""
    chosen: dict[str, Path] = {}
    for pattern in recipe.files:
        for p in root.glob(pattern):
            if p.is_file() and p.suffix == ".c":
                chosen[p.relative_to(root).as_posix()] = p
    for pattern in recipe.exclude:
        for p in root.glob(pattern):
            chosen.pop(p.relative_to(root).as_posix(), None)
    return [chosen[k] for k in sorted(chosen)]


def write_headers(recipe: Recipe, dataset: str, root: Path) -> Path:
    """Write the recipe's generated headers (its own text, or configured from a template in
    the sources); returns the directory they are in."""
    digest = hashlib.sha256(json.dumps([recipe.headers, recipe.configure]).encode()).hexdigest()[:16]
    gen = cache_root() / dataset / "gen" / f"{recipe.name}-{digest}"
    texts = list(recipe.headers)
    for rel, template, values in recipe.configure:
        try:
            text = (root / template).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise BenchmarkError(f"{recipe.name}: configure template {template} is missing from the sources ({exc})") from exc
        texts.append((rel, configure_text(text, dict(values))))
    for rel, text in texts:
        target = gen / rel
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            atomic_write_text(target, text)
    gen.mkdir(parents=True, exist_ok=True)
    return gen


def compile_flags(recipe: Recipe, root: Path, gen: Path) -> list[str]:
    """The flags a recipe's files are compiled with, on top of compile_c_to_bitcode's."""
    flags = ["-w", "-g0", f"-I{gen}"]
    flags += [f"-I{gen / d[5:] if d == '@gen' or d.startswith('@gen/') else root / d}" for d in recipe.include_dirs]
    flags += [f"-D{d}" for d in recipe.defines]
    flags += list(recipe.flags)
    if recipe.python:
        flags.append(f"-I{sysconfig.get_paths()['include']}")
    return flags


def _instructions(bitcode: bytes, what: str) -> int:
    from optgym.llvm.core import Module

    with _LLVM_LOCK:
        m = Module.parse(bitcode, what)
        try:
            return m.instruction_count()
        finally:
            m.close()


@dataclass
class ProjectReport:
    """What building one project produced."""

    name: str
    modules: int = 0
    instructions: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None  # the whole project failed (fetch, verification)


@dataclass
class BuildReport:
    """What a dataset build produced, project by project."""

    dataset: str
    projects: list[ProjectReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def modules(self) -> int:
        return sum(p.modules for p in self.projects)

    @property
    def failures(self) -> int:
        return sum(len(p.failures) for p in self.projects) + sum(p.error is not None for p in self.projects)


def _short(message: str, lines: int = 6) -> str:
    return "\n".join(message.strip().splitlines()[:lines])


def _manifest_path(kind: str, project: str) -> Path:
    return cache_root() / kind / "projects" / f"{project}.json"


def _read_manifest(kind: str, recipe: Recipe) -> dict | None:
    """A project's manifest if it exists and belongs to this recipe and these flags."""
    try:
        m = json.loads(_manifest_path(kind, recipe.name).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(m, dict) or m.get("fingerprint") != recipe.fingerprint() or m.get("flags_id") != _flags_id():
        return None
    return m


def _map(fn: Callable, items: list, *, jobs: int, desc: str, progress: bool) -> Iterable:
    from tqdm import tqdm

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        yield from tqdm(pool.map(fn, items), total=len(items), desc=desc, unit="file", disable=not progress)


def _process_map(fn: Callable, items: list, *, jobs: int, desc: str, progress: bool) -> list:
    """``fn`` over ``items`` in ``jobs`` worker processes (each with its own LLVM context, so
    the in-process binding runs on every core), results in order; one process is this one."""
    if jobs <= 1 or len(items) <= 1:
        return list(_map(fn, items, jobs=1, desc=desc, progress=progress))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    # spawn, not fork: this process may hold libLLVM state and threads.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(tqdm(pool.map(fn, items, chunksize=4), total=len(items), desc=desc, unit="module", disable=not progress))


def build_realc(
    recipes: list[Recipe] | None = None,
    *,
    dataset: str = "realc-v0",
    jobs: int = 2,
    progress: bool | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> BuildReport:
    """Fetch and compile every project of ``recipes`` (default: the shipped ones) into the
    realc-v0 cache; returns per-project counts and per-file failures (see the module doc).

    Clang runs as ``jobs`` parallel processes. A project whose sources cannot be fetched or
    fail verification is reported and the others are built.
    """
    recipes = load_recipes() if recipes is None else recipes
    show = _progress_enabled(progress)
    start = time.perf_counter()
    report = BuildReport(dataset)
    for recipe in recipes:
        m = None if force else _read_manifest(dataset, recipe)
        if m is not None:
            report.projects.append(ProjectReport(
                recipe.name, len(m["modules"]), sum(e["instructions"] for e in m["modules"].values()),
                [(f["file"], f["error"]) for f in m.get("failures", [])]))
            continue
        pr = _build_project(recipe, dataset, jobs=jobs, progress=show)
        report.projects.append(pr)
        if log is not None:
            status = f"FAILED: {_short(pr.error, 2)}" if pr.error else f"{pr.modules} modules, {len(pr.failures)} files failed"
            log(f"{recipe.name}: {status}")
    report.seconds = time.perf_counter() - start
    return report


def _build_project(recipe: Recipe, dataset: str, *, jobs: int, progress: bool) -> ProjectReport:
    pr = ProjectReport(recipe.name)
    t0 = time.perf_counter()
    try:
        root = fetch_sources(recipe, progress=progress)
    except OptgymError as exc:
        pr.error = str(exc)
        return pr
    try:
        gen = write_headers(recipe, dataset, root)
    except OptgymError as exc:
        pr.error = str(exc)
        return pr
    flags = compile_flags(recipe, root, gen)
    files = select_files(recipe, root)
    if not files:
        pr.error = f"{recipe.name}: no file in {root} matches {list(recipe.files)}"
        return pr
    out_dir = cache_root() / dataset / "modules" / recipe.name
    # A file's key covers what decides its bitcode (the archive, the file, every flag), so
    # editing one recipe field (say, an exclude) does not recompile the files it leaves alone.
    salt = json.dumps([recipe.source.sha256, _flags_id(), flags])

    def one(path: Path) -> tuple[str, str | None, int, str | None]:
        rel = path.relative_to(root).as_posix()
        key = hashlib.sha256(f"{salt}:{rel}".encode()).hexdigest()[:20]
        out = out_dir / f"{key}.bc"
        what = f"{recipe.name}/{rel}"
        try:
            if out.is_file():
                bc = out.read_bytes()
            else:
                bc = compile_c_to_bitcode(path, what=what, extra_flags=flags, cwd=path.parent)
                atomic_write_bytes(out, bc)
            return rel, out.relative_to(cache_root()).as_posix(), _instructions(bc, what), None
        except OptgymError as exc:
            return rel, None, 0, _short(str(exc))

    modules: dict[str, dict] = {}
    for rel, file, n, err in _map(one, files, jobs=jobs, desc=recipe.name, progress=progress):
        if err is not None or file is None:
            pr.failures.append((rel, err or "no bitcode"))
            continue
        modules[rel[:-2] if rel.endswith(".c") else rel] = {"file": file, "instructions": n}
    pr.modules = len(modules)
    pr.instructions = sum(e["instructions"] for e in modules.values())
    manifest = {
        "name": recipe.name,
        "version": recipe.version,
        "license": recipe.license,
        "description": recipe.description,
        "source": recipe.source.label,
        "sha256": recipe.source.sha256,
        "fingerprint": recipe.fingerprint(),
        "flags_id": _flags_id(),
        "files": len(files),
        "seconds": round(time.perf_counter() - t0, 2),
        "modules": modules,
        "failures": [{"file": f, "error": e} for f, e in pr.failures],
    }
    atomic_write_text(_manifest_path(dataset, recipe.name), json.dumps(manifest, indent=0, sort_keys=True))
    return pr


# -- splitting into functions -------------------------------------------------------------------
def defined_functions(bitcode: bytes, what: str = "module") -> list[str]:
    """Names of the functions a module defines (has bodies for), in module order."""
    from optgym.llvm.core import Module

    with _LLVM_LOCK:
        m = Module.parse(bitcode, what)
        try:
            return m.defined_functions()
        finally:
            m.close()


@dataclass
class FunctionModule:
    """One function of a module, split out; ``instructions`` counted by LLVM."""

    function: str
    bitcode: bytes
    instructions: int
    ir_key: str  # identifies the function's IR, for dropping duplicates


def split_functions(bitcode: bytes, *, what: str = "module") -> list[FunctionModule]:
    """Every defined function of a module as its own verified module (no dropping here),
    made in-process by :meth:`optgym.llvm.core.Module.extract_function`, which does what
    ``llvm-extract-19 --func`` does.

    The instruction counts add up to the module's: each piece keeps one body and the other
    functions become declarations. BenchmarkError when a piece does not verify.
    """
    from optgym.llvm.core import Module

    out = []
    with _LLVM_LOCK:
        whole = Module.parse(bitcode, what)
        try:
            for fn in whole.defined_functions():
                m = whole.extract_function(fn)
                try:
                    problem = m.verify()
                    if problem:
                        raise BenchmarkError(f"{what}:{fn}: the extracted module does not verify: {_short(problem, 3)}")
                    ir, n, piece = m.ir(), m.instruction_count(), m.bitcode()
                finally:
                    m.close()
                body = "\n".join(line for line in ir.splitlines() if not line.startswith(("; ModuleID", "source_filename")))
                out.append(FunctionModule(fn, piece, n, hashlib.sha256(body.encode()).hexdigest()))
        finally:
            whole.close()
    return out


def _split_module(job: tuple[str, str, str, str]) -> tuple[str, list | None, str | None]:
    """Split one cached module into function modules on disk (in a worker process); returns
    (module name, [(function, file, instructions, IR key)], error). A ``.json`` beside the
    pieces, written last, makes a killed build skip the modules it finished."""
    name, bc_file, out_dir_s, what = job
    out_dir = Path(out_dir_s)
    stem = Path(bc_file).stem
    done = out_dir / f"{stem}.json"
    if done.is_file():
        return name, [tuple(x) for x in json.loads(done.read_text())], None
    try:
        pieces = split_functions((cache_root() / bc_file).read_bytes(), what=what)
    except (OptgymError, OSError) as exc:
        return name, None, _short(str(exc))
    rows = []
    for i, p in enumerate(pieces):
        rel = f"{stem}-{i}.bc"
        if p.instructions >= MIN_FUNCTION_INSTRUCTIONS:
            atomic_write_bytes(out_dir / rel, p.bitcode)
        rows.append((p.function, (out_dir / rel).relative_to(cache_root()).as_posix(), p.instructions, p.ir_key))
    atomic_write_text(done, json.dumps(rows))
    return name, rows, None


def build_realc_fn(
    recipes: list[Recipe] | None = None,
    *,
    dataset: str = "realc-fn-v0",
    parent: str = "realc-v0",
    jobs: int = 2,
    progress: bool | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> BuildReport:
    """Split every realc-v0 module into function modules (building realc-v0 first where it
    is missing); see the module doc for what is kept."""
    recipes = load_recipes() if recipes is None else recipes
    show = _progress_enabled(progress)
    start = time.perf_counter()
    build_realc(recipes, dataset=parent, jobs=jobs, progress=progress, log=log)
    report = BuildReport(dataset)
    for recipe in recipes:
        modules = _read_manifest(parent, recipe)
        if modules is None:
            report.projects.append(ProjectReport(recipe.name, error=f"{recipe.name}: {parent} could not build it"))
            continue
        existing = None if force else _read_manifest(dataset, recipe)
        if existing is not None and existing.get("parent_modules") == len(modules["modules"]):
            report.projects.append(ProjectReport(
                recipe.name, len(existing["modules"]), sum(e["instructions"] for e in existing["modules"].values()),
                [(f["file"], f["error"]) for f in existing.get("failures", [])]))
            continue
        pr = _split_project(recipe, modules, dataset, jobs=jobs, progress=show)
        report.projects.append(pr)
        if log is not None:
            log(f"{recipe.name}: {pr.modules} function modules, {len(pr.failures)} modules failed to split")
    report.seconds = time.perf_counter() - start
    return report


def _split_project(recipe: Recipe, parent: dict, dataset: str, *, jobs: int, progress: bool) -> ProjectReport:
    pr = ProjectReport(recipe.name)
    out_dir = cache_root() / dataset / "modules" / recipe.name
    jobs_list = [(name, entry["file"], str(out_dir), f"{recipe.name}/{name}") for name, entry in sorted(parent["modules"].items())]
    results = _process_map(_split_module, jobs_list, jobs=jobs, desc=f"{recipe.name} (functions)", progress=progress)

    modules: dict[str, dict] = {}
    seen: set[str] = set()
    dropped_small = dropped_dup = 0
    for name, rows, err in results:
        if rows is None:
            pr.failures.append((name, err or "split failed"))
            continue
        for fn, file, n, key in rows:
            if n < MIN_FUNCTION_INSTRUCTIONS:
                dropped_small += 1
            elif key in seen:
                dropped_dup += 1
            else:
                seen.add(key)
                modules[f"{name}/{fn}"] = {"file": file, "instructions": n, "module": name, "key": key}
    pr.modules = len(modules)
    pr.instructions = sum(e["instructions"] for e in modules.values())
    manifest = {
        "name": recipe.name, "version": recipe.version, "license": recipe.license,
        "description": recipe.description, "source": recipe.source.label, "sha256": recipe.source.sha256,
        "fingerprint": recipe.fingerprint(), "flags_id": _flags_id(),
        "parent_modules": len(parent["modules"]),
        "dropped_trivial": dropped_small, "dropped_duplicates": dropped_dup,
        "min_instructions": MIN_FUNCTION_INSTRUCTIONS,
        "modules": modules,
        "failures": [{"file": f, "error": e} for f, e in pr.failures],
    }
    atomic_write_text(_manifest_path(dataset, recipe.name), json.dumps(manifest, indent=0, sort_keys=True))
    return pr


# -- the datasets -----------------------------------------------------------------------------------
class RealCBenchmark(Benchmark):
    """One module (or function module) of a real C project: compile-only; its split is its
    project's."""

    def __init__(self, dataset: str, name: str, project: str, path: Path, instructions: int) -> None:
        super().__init__(f"benchmark://{dataset}/{name}", dataset, name, runnable=False)
        self.project = project
        self.path = path
        self.instructions = instructions

    def _load_bitcode(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise BenchmarkError(f"{self.uri}: cached bitcode {self.path} is unreadable ({exc}); run: optgym datasets build {self.dataset} --force") from exc

    @property
    def split(self) -> str:
        return project_split(self.project)


@dataclass
class _Index:
    """A recipe dataset's built benchmarks: manifests by project, benchmark name -> (project,
    entry), the sorted names and, for functions, how many were dropped per project because
    the same function (same IR) is in a project of an earlier split."""

    manifests: dict[str, dict]
    entries: dict[str, tuple[str, dict]]
    names: list[str]
    cross_split: dict[str, int]

    @classmethod
    def of(cls, manifests: dict[str, dict]) -> _Index:
        # A static inline function from one library's header is compiled into every project
        # that includes it (samtools carries HTSlib's): such a function belongs to the first
        # split that has it (train, then validation), so no test program is a training one.
        keys: dict[str, set[str]] = {s: set() for s in _util.SPLITS}
        for project, m in manifests.items():
            keys[project_split(project)].update(e["key"] for e in m["modules"].values() if "key" in e)
        banned = {"train": set(), "validation": keys["train"], "test": keys["train"] | keys["validation"]}
        entries: dict[str, tuple[str, dict]] = {}
        cross: dict[str, int] = {}
        for project, m in manifests.items():
            ban = banned[project_split(project)]
            for n, e in m["modules"].items():
                if e.get("key") in ban:
                    cross[project] = cross.get(project, 0) + 1
                else:
                    entries[f"{project}/{n}"] = (project, e)
        return cls(manifests, entries, sorted(entries), cross)


class RealCDataset(Dataset):
    """A dataset built from recipes by ``optgym datasets build NAME``: one benchmark per
    translation unit, or, with ``functions_of`` naming the module-level dataset, one per
    function. Splits are by project; :meth:`stats` says what was built.

    ``realc-v0`` and ``realc-fn-v0`` are the shipped pair; users can make their own from a
    recipe file (``optgym datasets build NAME --recipes FILE``).
    """

    def __init__(self, name: str = "realc-v0", recipes_path: Path = SHIPPED_RECIPES, *,
                 functions_of: str | None = None, description: str | None = None) -> None:
        what = ("translation units" if functions_of is None
                else f"single functions (>= {MIN_FUNCTION_INSTRUCTIONS} instructions) of {functions_of}'s modules")
        super().__init__(
            name,
            description=description or f"{what} of real C projects, fetched from pinned sources and built here",
            license="per project (see optgym datasets show)",
            runnable=False,
        )
        self.recipes_path = Path(recipes_path)
        self.functions_of = functions_of
        self._recipes: list[Recipe] | None = None
        self._memo: tuple[tuple, _Index] | None = None

    @property
    def recipes(self) -> list[Recipe]:
        """The recipes this dataset is built from."""
        if self._recipes is None:
            self._recipes = load_recipes(self.recipes_path)
        return self._recipes

    def _index(self) -> _Index:
        """What is built, re-read only when a build has changed the manifests directory."""
        d = cache_root() / self.name / "projects"
        try:
            key: tuple = (str(d), d.stat().st_mtime_ns)
        except OSError:
            return _Index({}, {}, [], {})
        if self._memo is None or self._memo[0] != key:
            self._memo = (key, _Index.of({r.name: m for r in self.recipes if (m := _read_manifest(self.name, r)) is not None}))
        return self._memo[1]

    def manifests(self) -> dict[str, dict]:
        """The built projects' manifests by project name."""
        return self._index().manifests

    @property
    def installed(self) -> bool:
        built = self.manifests()
        return bool(built) and all(r.name in built for r in self.recipes)

    def _names(self) -> list[str]:
        return list(self._index().names)

    def benchmark_names(self, split: str | None = None) -> list[str]:
        """Benchmark names, sorted, optionally of one split: a project's whole set of
        benchmarks is in one split (leave-project-out)."""
        _util.check_split(split)
        names = self._index().names
        return list(names) if split is None else [n for n in names if project_split(n.split("/", 1)[0]) == split]

    def _make_benchmark(self, name: str) -> RealCBenchmark:
        project, e = self._index().entries[name]
        return RealCBenchmark(self.name, name, project, cache_root() / e["file"], e["instructions"])

    def benchmark(self, name: str) -> Benchmark:
        if "://" in name:
            return super().benchmark(name)
        if not self.manifests():
            raise BenchmarkError(f"{self.uri_prefix}/{name}: {self.name} is not built yet; run: optgym datasets build {self.name}")
        if name not in self._index().entries:
            projects = ", ".join(sorted(self.manifests()))
            raise BenchmarkError(f"{self.uri_prefix}/{name}: no such benchmark; names are PROJECT/PATH{'/FUNCTION' if self.functions_of else ''} "
                                 f"with PROJECT one of {projects} (optgym datasets list --benchmarks {self.name})")
        return self._make_benchmark(name)

    def sample_uris(self, split: str | None, per_project: int | None, seed: int = 0,
                    skip: int = 0, max_instructions: int | None = None) -> list[str]:
        """URIs of ``split`` with at most ``per_project`` drawn from each project (all when
        None), so no big project dominates a sample. The draw is a fixed shuffle per project
        (seeded by ``seed`` and the project name): the same programs every time, and with
        ``skip`` the next ones after the first ``skip`` of each project. ``max_instructions``
        leaves bigger benchmarks out before drawing."""
        entries = self._index().entries
        by_project: dict[str, list[str]] = {}
        for name in self.benchmark_names(split):
            if max_instructions is None or entries[name][1]["instructions"] <= max_instructions:
                by_project.setdefault(name.split("/", 1)[0], []).append(name)
        out = []
        for project, names in sorted(by_project.items()):
            order = sorted(names)
            random.Random(f"{seed}:{project}").shuffle(order)
            end = None if per_project is None else skip + per_project
            out += [f"{self.uri_prefix}/{n}" for n in sorted(order[skip:end])]
        return out

    def projects(self, split: str | None = None) -> list[str]:
        """The projects of the recipes (of one split), sorted."""
        _util.check_split(split)
        return sorted(r.name for r in self.recipes if split is None or project_split(r.name) == split)

    def stats(self) -> dict:
        """Per-project and total statistics of what is built: modules, instructions, modules
        with none, licenses, splits, build failures (and, for functions, what was dropped)."""
        per = {}
        index = self._index()
        counts: dict[str, list[int]] = {}
        for project, e in index.entries.values():
            counts.setdefault(project, []).append(e["instructions"])
        for r in self.recipes:
            m = index.manifests.get(r.name)
            row = {"split": project_split(r.name), "license": r.license, "version": r.version,
                   "source": r.source.label, "built": m is not None}
            if m is not None:
                row |= {"modules": len(counts.get(r.name, [])),
                        "instructions": sum(counts.get(r.name, [])),
                        "empty": sum(1 for n in counts.get(r.name, []) if n == 0),
                        "failures": len(m.get("failures", []))}
                if self.functions_of is not None:
                    row["dropped_cross_split"] = index.cross_split.get(r.name, 0)
                for k in ("files", "dropped_trivial", "dropped_duplicates", "parent_modules", "seconds"):
                    if k in m:
                        row[k] = m[k]
            per[r.name] = row
        built = [v for v in per.values() if v["built"]]
        totals = {
            "projects": len(per),
            "built_projects": len(built),
            "modules": sum(v["modules"] for v in built),
            "instructions": sum(v["instructions"] for v in built),
            # Translation units with no code (only data, or only another architecture's
            # code): kept, as they are the project's, but a pass has nothing to do on them.
            "empty_modules": sum(v["empty"] for v in built),
            "failures": sum(v["failures"] for v in built),
            "licenses": sorted({v["license"] for v in per.values()}),
            "splits": {s: {"projects": sum(1 for v in built if v["split"] == s),
                           "modules": sum(v["modules"] for v in built if v["split"] == s)}
                       for s in _util.SPLITS},
        }
        for k in ("dropped_trivial", "dropped_duplicates", "dropped_cross_split"):
            if any(k in v for v in built):
                totals[k] = sum(v.get(k, 0) for v in built)
        return {"dataset": self.name, "totals": totals, "projects": per}

    def build(self, *, jobs: int = 2, progress: bool | None = None, force: bool = False,
              log: Callable[[str], None] | None = None) -> BuildReport:
        """Build (or finish building) this dataset into the cache; see the module doc."""
        if self.functions_of is None:
            report = build_realc(self.recipes, dataset=self.name, jobs=jobs, progress=progress, force=force, log=log)
        else:
            report = build_realc_fn(self.recipes, dataset=self.name, parent=self.functions_of, jobs=jobs,
                                    progress=progress, force=force, log=log)
        self._memo = None
        return report


def realc_datasets() -> list[RealCDataset]:
    """The two shipped real-code datasets."""
    return [RealCDataset("realc-v0"), RealCDataset("realc-fn-v0", functions_of="realc-v0")]
