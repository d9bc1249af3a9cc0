"""``import compiler_gym`` for code written for CompilerGym, when a user asks for it.

:func:`install` puts an import hook in front of Python's: ``compiler_gym`` and its modules
(``compiler_gym.envs``, ``compiler_gym.wrappers``, ``compiler_gym.util.flags.env_from_flags``
...) import as views of :mod:`optgym.compat`'s, and with ``gym=True`` so does ``gym`` (gym
0.21's API, :mod:`optgym.compat.gym`). Nothing is installed by importing optgym: a real
CompilerGym stays what ``import compiler_gym`` finds unless a script asks otherwise, with
one line (``import optgym.compat; optgym.compat.alias()``) or by running it with
``python -m optgym.compat script.py``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

#: CompilerGym module (prefix) -> the optgym.compat module it is a view of. The longest
#: matching prefix wins; ``*`` keeps the rest of the name.
ALIASES: dict[str, str] = {
    "compiler_gym": "optgym.compat",
    "compiler_gym.envs": "optgym.compat.envs",
    "compiler_gym.envs.compiler_env": "optgym.compat.envs",
    "compiler_gym.envs.llvm": "optgym.compat.llvm",
    "compiler_gym.envs.llvm.*": "optgym.compat.llvm",
    "compiler_gym.datasets": "optgym.compat.datasets",
    "compiler_gym.datasets.*": "optgym.compat.datasets",
    "compiler_gym.spaces": "optgym.compat.spaces",
    "compiler_gym.spaces.*": "optgym.compat.spaces",
    "compiler_gym.errors": "optgym.compat.errors",
    "compiler_gym.errors.*": "optgym.compat.errors",
    "compiler_gym.wrappers": "optgym.compat.wrappers",
    "compiler_gym.wrappers.*": "optgym.compat.wrappers",
    "compiler_gym.compiler_env_state": "optgym.compat.state",
    "compiler_gym.validation_result": "optgym.compat.state",
    "compiler_gym.validation_error": "optgym.compat.errors",
    "compiler_gym.service": "optgym.compat.service",
    "compiler_gym.service.*": "optgym.compat.service",
    "compiler_gym.util": "optgym.compat.util",
    "compiler_gym.util.debug_util": "optgym.compat.util.debug",
    "compiler_gym.util.registration": "optgym.compat.util.registration",
    "compiler_gym.util.flags": "optgym.compat.util.flags",
    "compiler_gym.util.flags.*": "optgym.compat.util.flags.*",
    "compiler_gym.util.*": "optgym.compat.util.*",
}


def target_of(fullname: str, table: dict[str, str] | None = None) -> str | None:
    """The optgym module a CompilerGym module name is a view of (None: not one of them)."""
    table = ALIASES if table is None else table
    if fullname in table:
        return table[fullname]
    parts = fullname.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        pattern = ".".join(parts[:cut]) + ".*"
        if pattern in table:
            target = table[pattern]
            rest = ".".join(parts[cut:])
            if rest != rest.lower():  # a class (``from X import Name`` tries X.Name too)
                return None
            return target[:-1] + rest if target.endswith("*") else target
    return None


class _ViewFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``compiler_gym.*`` (and ``gym``) as views: fresh module objects whose attributes
    are read from the optgym module, so that Python's setting of submodule attributes on a
    parent never overwrites a name of the module it views."""

    def __init__(self, table: dict[str, str]):
        self.table = table

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if target_of(fullname, self.table) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        name = target_of(spec.name, self.table)
        try:
            real = importlib.import_module(name)
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                f"No module named {spec.name!r}: optgym.compat has no counterpart of it "
                "(see the README's 'Porting from CompilerGym')", name=spec.name) from None
        view = types.ModuleType(spec.name, real.__doc__)
        view.__dict__["__getattr__"] = lambda attr: getattr(real, attr)
        view.__dict__["__dir__"] = lambda: dir(real)
        view.__all__ = list(getattr(real, "__all__", []))
        view.__path__ = []
        view.__optgym_module__ = real
        return view

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def install(gym: bool = False) -> None:
    """Make ``import compiler_gym`` (and, with ``gym``, ``import gym``) import optgym.compat.

    Safe to call more than once. ``gym=True`` shadows an installed gym in this process.
    """
    table = dict(ALIASES)
    if gym:
        table["gym"] = "optgym.compat.gym"
        table["gym.*"] = "gymnasium.*"
    for finder in list(sys.meta_path):
        if isinstance(finder, _ViewFinder):
            sys.meta_path.remove(finder)
    sys.meta_path.insert(0, _ViewFinder(table))
    for name in list(sys.modules):
        if name == "compiler_gym" or name.startswith("compiler_gym.") or (
                gym and (name == "gym" or name.startswith("gym."))):
            del sys.modules[name]


def uninstall() -> None:
    """Undo :func:`install`."""
    for finder in list(sys.meta_path):
        if isinstance(finder, _ViewFinder):
            sys.meta_path.remove(finder)
    for name in list(sys.modules):
        if isinstance(sys.modules[name], types.ModuleType) and hasattr(
                sys.modules[name], "__optgym_module__"):
            del sys.modules[name]
