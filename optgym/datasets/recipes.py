"""Recipes for building datasets from real C projects: what to fetch, how to verify it and
which files to compile with which flags.

A recipe is data, kept in a TOML file (the shipped ones are ``realc_recipes.toml`` beside
this module). Each ``[[project]]`` table says:

``name``
    the project id, the first part of every benchmark name (``zlib``, ``lua``); letters,
    digits, ``-`` and ``_``.
``version``, ``license``, ``description``
    the C library's version and license as its sources state them, and one line about it.
``source``
    where the sources come from, pinned by ``sha256``: either a PyPI source distribution
    (``pypi = "lz4"``, ``version = "4.4.5"``, ``filename = "lz4-4.4.5.tar.gz"``), resolved
    through PyPI's simple JSON API (PEP 691) (``$OPTGYM_PYPI_URL``, default ``https://pypi.org``), or any
    ``url`` (``https://``, ``http://`` or ``file://``) of a tarball.
``files``, ``exclude``
    globs (relative to the unpacked source root, ``**`` allowed) of the translation units to
    compile, and globs to leave out.
``include_dirs``, ``defines``, ``flags``
    ``-I`` directories (relative to the source root; ``@gen`` (or ``@gen/SUB``) is the directory of the
    generated headers), ``-D`` definitions and other clang flags.
``python``
    whether the files include ``Python.h`` (adds the running interpreter's include dir).
``headers``
    generated headers a project's build system would have written (``config.h`` and the
    like): a table from relative path to text, written under ``@gen``, which comes first on
    the include path.
``configure``
    headers made from a template in the sources, as CMake's ``configure_file`` and
    autoheader do: a table from relative path (under ``@gen``) to ``{ template = "path/x.h.in",
    values = { NAME = "value", ... } }``; see :func:`configure_text`.

A malformed recipe raises :class:`RecipeError` naming the recipe and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optgym.errors import BenchmarkError

#: The recipes optgym ships (the realc-v0 projects).
SHIPPED_RECIPES = Path(__file__).resolve().parent / "realc_recipes.toml"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_URL_SCHEMES = ("https://", "http://", "file://")
_SOURCE_KEYS = {"pypi", "version", "filename", "url", "sha256"}
_PROJECT_KEYS = {
    "name", "version", "license", "description", "source", "files", "exclude",
    "include_dirs", "defines", "flags", "python", "headers", "configure",
}
_FALSE = {"", "0", "OFF", "FALSE", "NO", "N", "IGNORE", "NOTFOUND"}


class RecipeError(BenchmarkError):
    """A recipe is malformed; the message names the recipe file, the project and the field."""


@dataclass(frozen=True)
class Source:
    """Where a project's sources come from: a PyPI sdist or a URL, pinned by sha256."""

    sha256: str
    pypi: str | None = None
    version: str | None = None
    filename: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        """A short human name for the source (``pypi:lz4==4.4.5`` or the URL)."""
        return f"pypi:{self.pypi}=={self.version}" if self.pypi else str(self.url)


@dataclass(frozen=True)
class Recipe:
    """One project: its sources and how to compile them (see the module doc)."""

    name: str
    version: str
    license: str
    source: Source
    files: tuple[str, ...]
    description: str = ""
    exclude: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    python: bool = False
    headers: tuple[tuple[str, str], ...] = field(default=())
    #: (output path, template path, ((name, value), ...)) per configured header
    configure: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = field(default=())

    def fingerprint(self) -> str:
        """A hash of everything that decides what the build produces, so a changed recipe
        is rebuilt rather than served from the cache."""
        data = json.dumps(
            [self.name, self.source.sha256, self.files, self.exclude, self.include_dirs,
             self.defines, self.flags, self.python, self.headers, self.configure],
            sort_keys=True,
        )
        return hashlib.sha256(data.encode()).hexdigest()[:16]


def _str(where: str, table: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise RecipeError(f"{where}: missing field {key!r}")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise RecipeError(f"{where}: field {key!r} must be a non-empty string, not {value!r}")
    return value


def _str_list(where: str, table: dict[str, Any], key: str, *, required: bool = False) -> tuple[str, ...]:
    value = table.get(key)
    if value is None:
        if required:
            raise RecipeError(f"{where}: missing field {key!r}")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RecipeError(f"{where}: field {key!r} must be a list of non-empty strings, not {value!r}")
    if required and not value:
        raise RecipeError(f"{where}: field {key!r} must not be empty")
    return tuple(value)


def _relative(where: str, key: str, paths: tuple[str, ...]) -> None:
    """Globs and header paths stay inside the source tree: no absolute paths, no ``..``."""
    for p in paths:
        if p.startswith("/") or ".." in Path(p).parts:
            raise RecipeError(f"{where}: field {key!r} has {p!r}; paths must be relative and stay inside the sources")


def _source(where: str, raw: Any) -> Source:
    where = f"{where}: field 'source'"
    if not isinstance(raw, dict):
        raise RecipeError(f"{where} must be a table with pypi/version/filename or url, and sha256")
    unknown = set(raw) - _SOURCE_KEYS
    if unknown:
        raise RecipeError(f"{where} has unknown keys {sorted(unknown)}; known: {sorted(_SOURCE_KEYS)}")
    sha = _str(where, raw, "sha256").lower()
    if not _SHA256.match(sha):
        raise RecipeError(f"{where}: 'sha256' must be 64 hex digits, not {raw['sha256']!r}")
    if "pypi" in raw and "url" in raw:
        raise RecipeError(f"{where}: give either 'pypi' (with version and filename) or 'url', not both")
    if "pypi" in raw:
        return Source(sha, pypi=_str(where, raw, "pypi"), version=_str(where, raw, "version"),
                      filename=_str(where, raw, "filename"))
    if "url" in raw:
        url = _str(where, raw, "url")
        if not url.startswith(_URL_SCHEMES):
            raise RecipeError(f"{where}: 'url' must start with one of {', '.join(_URL_SCHEMES)}, not {url!r}")
        return Source(sha, url=url)
    raise RecipeError(f"{where} needs 'pypi' (with version and filename) or 'url'")


def configure_text(template: str, values: dict[str, str]) -> str:
    """Fill in a header template the way CMake's ``configure_file`` (and autoheader's
    ``config.h.in``) would: ``@NAME@`` and ``${NAME}`` become the value (empty when unset);
    ``#cmakedefine NAME rest`` becomes ``#define NAME rest`` when NAME is set to a true value,
    else a comment; ``#cmakedefine01 NAME`` becomes ``#define NAME 1`` or ``0``; and
    ``#undef NAME`` becomes ``#define NAME value`` when NAME is given."""

    def truthy(name: str) -> bool:
        return name in values and values[name].strip().upper() not in _FALSE

    def subst(text: str) -> str:
        text = re.sub(r"@([A-Za-z_][A-Za-z0-9_]*)@", lambda m: values.get(m.group(1), ""), text)
        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: values.get(m.group(1), ""), text)

    out = []
    for line in template.splitlines():
        m = re.match(r"^(\s*)#\s*cmakedefine01\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", line)
        if m:
            out.append(f"{m.group(1)}#define {m.group(2)} {1 if truthy(m.group(2)) else 0}")
            continue
        m = re.match(r"^(\s*)#\s*cmakedefine\s+([A-Za-z_][A-Za-z0-9_]*)(.*)$", line)
        if m:
            name = m.group(2)
            out.append(f"{m.group(1)}#define {name}{subst(m.group(3))}" if truthy(name) else f"/* #undef {name} */")
            continue
        m = re.match(r"^\s*#\s*undef\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", line)
        if m and m.group(1) in values:
            out.append(f"#define {m.group(1)} {values[m.group(1)]}".rstrip())
            continue
        out.append(subst(line))
    return "\n".join(out) + "\n"


def _configure(where: str, raw: Any) -> tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]:
    if raw is None:
        return ()
    bad = f"{where}: field 'configure' must be a table from header path to {{ template = PATH, values = {{ NAME = VALUE }} }}"
    if not isinstance(raw, dict):
        raise RecipeError(bad)
    out = []
    for path, spec in sorted(raw.items()):
        if not isinstance(spec, dict) or set(spec) - {"template", "values"} or not isinstance(spec.get("template"), str):
            raise RecipeError(f"{bad} (at {path!r})")
        values = spec.get("values", {})
        if not isinstance(values, dict) or not all(isinstance(v, str | int | bool) for v in values.values()):
            raise RecipeError(f"{bad} (values of {path!r} must be strings or numbers)")
        _relative(where, "configure", (path, spec["template"]))
        norm = {k: (("1" if v else "0") if isinstance(v, bool) else str(v)) for k, v in values.items()}
        out.append((path, spec["template"], tuple(sorted(norm.items()))))
    return tuple(out)


def parse_recipe(raw: Any, *, origin: str = "<recipe>") -> Recipe:
    """A :class:`Recipe` from one ``[[project]]`` table; RecipeError naming ``origin``, the
    project and the field when something is missing, mistyped or unknown."""
    if not isinstance(raw, dict):
        raise RecipeError(f"{origin}: a project must be a table, not {type(raw).__name__}")
    name = raw.get("name")
    where = f"{origin}: project {name!r}" if isinstance(name, str) else f"{origin}: a project"
    unknown = set(raw) - _PROJECT_KEYS
    if unknown:
        raise RecipeError(f"{where} has unknown fields {sorted(unknown)}; known: {sorted(_PROJECT_KEYS)}")
    name = _str(where, raw, "name")
    if not _NAME.match(name):
        raise RecipeError(f"{where}: field 'name' must be letters, digits, '-' and '_' (it names benchmarks)")
    files = _str_list(where, raw, "files", required=True)
    exclude = _str_list(where, raw, "exclude")
    include_dirs = _str_list(where, raw, "include_dirs")
    for key, paths in (("files", files), ("exclude", exclude), ("include_dirs", include_dirs)):
        _relative(where, key, paths)
    python = raw.get("python", False)
    if not isinstance(python, bool):
        raise RecipeError(f"{where}: field 'python' must be true or false, not {python!r}")
    headers_raw = raw.get("headers", {})
    if not isinstance(headers_raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers_raw.items()):
        raise RecipeError(f"{where}: field 'headers' must be a table from relative path to header text")
    _relative(where, "headers", tuple(headers_raw))
    return Recipe(
        name=name,
        version=_str(where, raw, "version"),
        license=_str(where, raw, "license"),
        description=_str(where, raw, "description", required=False),
        source=_source(where, raw.get("source")),
        files=files,
        exclude=exclude,
        include_dirs=include_dirs,
        defines=_str_list(where, raw, "defines"),
        flags=_str_list(where, raw, "flags"),
        python=python,
        headers=tuple(sorted(headers_raw.items())),
        configure=_configure(where, raw.get("configure")),
    )


def parse_recipes(text: str, *, origin: str = "<recipes>") -> list[Recipe]:
    """Every ``[[project]]`` of a TOML recipe file's text, in file order; RecipeError on
    bad TOML, a bad project or a name used twice."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{origin}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"project"}
    if unknown:
        raise RecipeError(f"{origin}: unknown top-level keys {sorted(unknown)}; expected [[project]] tables")
    projects = data.get("project", [])
    if not isinstance(projects, list) or not projects:
        raise RecipeError(f"{origin}: no [[project]] tables")
    recipes = [parse_recipe(p, origin=origin) for p in projects]
    seen: set[str] = set()
    for r in recipes:
        if r.name in seen:
            raise RecipeError(f"{origin}: project {r.name!r}: field 'name' is used by two projects")
        seen.add(r.name)
    return recipes


def load_recipes(path: str | Path = SHIPPED_RECIPES) -> list[Recipe]:
    """The recipes in a TOML file (default: the shipped realc-v0 ones)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"{path}: cannot read the recipe file: {exc}") from exc
    return parse_recipes(text, origin=str(path))
