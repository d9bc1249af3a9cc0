"""Typed training configurations: one dataclass per recipe holds every setting and its default.

A recipe declares its configuration by the annotation of its first parameter
(``def train_x(config: XConfig, ctx: TrainContext)``). YAML files and ``--set KEY=VALUE``
overrides only change fields the dataclass has: an unknown key is a :class:`ConfigError` that
names the file and the key and lists the known ones, so ``total_timestep: 64`` never passes
silently. A section (a field whose type is another config dataclass) takes a mapping that
updates its defaults; ``null`` turns an optional section off.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from optgym.errors import OptgymError

C = TypeVar("C")


class ConfigError(OptgymError):
    """A training configuration that does not fit its recipe's schema (file, key, what is wrong)."""


@dataclasses.dataclass
class RecipeConfig:
    """Settings every recipe has: where and how ``optgym train`` runs it."""

    seed: int = 0  # seeds the recipe (each rank adds its own offset where it needs one)
    device: str | None = None  # cpu, cuda, cuda:N; None: this rank's GPU when present, else CPU
    ray_address: str | None = None  # 'local' or a cluster address; None: no Ray


def _section_type(tp: Any) -> type | None:
    """The config dataclass a field holds (``X`` or ``X | None``), else None."""
    if dataclasses.is_dataclass(tp):
        return tp
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1 and dataclasses.is_dataclass(inner[0]):
            return inner[0]
    return None


def _check_value(value: Any, tp: Any, where: str) -> Any:
    """``value`` when it fits the field type ``tp`` (ints are accepted for floats)."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if isinstance(tp, types.UnionType) or origin is typing.Union:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check_value(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where} must be {_type_name(tp)}, not {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list, not {value!r}")
        (item,) = typing.get_args(tp)[:1] or (Any,)
        return [_check_value(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping, not {value!r}")
        return dict(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool):
        raise ConfigError(f"{where} must be an integer, not {value!r}")
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where} must be {_type_name(tp)}, not {value!r}")
    return value


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def from_dict(cls: type[C], data: dict[str, Any] | None, *, source: str = "config",
              base: C | None = None, prefix: str = "") -> C:
    """A ``cls`` instance: ``base`` (or the defaults) updated with ``data``, every key checked.

    ``source`` names where ``data`` came from (a file) in error messages.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'the configuration'} must be a "
                          f"mapping, not {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    current = base if base is not None else cls()
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{source}: unknown key {prefix + str(key)!r} for {cls.__name__}; "
                              f"known: {', '.join(sorted(fields))}")
        tp = hints[key]
        section = _section_type(tp)
        where = f"{source}: {prefix}{key}"
        if section is not None and isinstance(value, dict):
            old = getattr(current, key)
            values[key] = from_dict(section, value, source=source, prefix=f"{prefix}{key}.",
                                    base=old if old is not None else None)
        elif section is not None and value is None and tp is not section:
            values[key] = None  # an optional section turned off
        elif section is not None:
            raise ConfigError(f"{where} must be a mapping of {sorted(f.name for f in dataclasses.fields(section))}"
                              f"{' or null' if tp is not section else ''}, not {value!r}")
        else:
            values[key] = _check_value(value, tp, where)
    try:
        return dataclasses.replace(current, **values)
    except ConfigError as exc:  # a __post_init__ check: say where the values came from
        raise ConfigError(f"{source}: {prefix}{exc}") from None


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices`` (for __post_init__)."""
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}, not {value!r}")


def to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as plain data (what ``--print-config`` prints and runs record)."""
    return dataclasses.asdict(config)


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A YAML file's mapping (an empty file is an empty mapping); typed errors name the file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping, not {type(loaded).__name__}")
    return loaded or {}


def parse_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    """``key.sub=value`` strings (values parsed as YAML) as one nested mapping."""
    import yaml

    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not KEY=VALUE")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
        try:
            node[parts[-1]] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: the value is not valid YAML: {exc}") from None
    return out


def load_config(cls: type[C], path: str | os.PathLike[str] | None = None,
                overrides: Iterable[str] = ()) -> C:
    """``cls``'s defaults, updated by a YAML file, then by ``KEY=VALUE`` overrides."""
    config = cls()
    if path is not None:
        config = from_dict(cls, read_yaml(path), source=f"config file {path}", base=config)
    extra = parse_overrides(overrides)
    if extra:
        config = from_dict(cls, extra, source="--set", base=config)
    return config
