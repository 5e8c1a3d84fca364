"""Method options as frozen dataclasses: one place for each default, its type, range and help.

A method's ``Config`` is a frozen dataclass whose fields are declared with :func:`option`. The
Python API builds it from keyword options (:func:`make_config`: unknown names, wrong types and
out-of-range values are one-line :class:`~jsched.errors.JSchedError`); the CLI derives a flag per
field (:func:`add_flags`, ``time_limit`` -> ``--time-limit``) and reads it back
(:func:`config_from_args`), so the default written in the dataclass is the only one.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any

from jsched.errors import JSchedError

_MISSING = dataclasses.MISSING


def option(default: Any, help: str, *, choices: tuple | None = None, min: float | None = None,
           max: float | None = None, cli: bool = True) -> Any:  # fmt: skip
    """A Config field: its default, a one-line help, and optional ``choices`` / ``min`` / ``max``.

    ``cli=False`` keeps a field out of the command line (e.g. an in-memory object).
    """
    meta = {"help": help, "choices": choices, "min": min, "max": max, "cli": cli}
    return dataclasses.field(default=default, metadata=meta)


def _base_type(cls: type, f: dataclasses.Field) -> tuple[type, bool]:
    """(int/float/str/bool, optional?) of a field from its annotation."""
    hint = typing.get_type_hints(cls)[f.name]
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0] if len(args) == 1 else str
    return (hint if hint in (int, float, str, bool) else str), optional


def fields(cls: type) -> list[dataclasses.Field]:
    """The fields of a Config class that options may set."""
    return [f for f in dataclasses.fields(cls) if f.init]


def _check(cls: type, f: dataclasses.Field, value: Any, owner: str) -> Any:
    """``value`` converted to the field's type and range-checked (one-line error otherwise)."""
    typ, optional = _base_type(cls, f)
    if value is None:
        if optional:
            return None
        raise JSchedError(f"{owner}: option {f.name} may not be None")
    if typ is bool:
        if not isinstance(value, (bool, int)) or value not in (0, 1):
            raise JSchedError(f"{owner}: option {f.name} must be true or false, got {value!r}")
        value = bool(value)
    elif typ is int:
        if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
            raise JSchedError(f"{owner}: option {f.name} must be an integer, got {value!r}")
        value = int(value)
    elif typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise JSchedError(f"{owner}: option {f.name} must be a number, got {value!r}")
        value = float(value)
    else:
        value = str(value) if not isinstance(value, str) and hasattr(value, "__fspath__") else value
        if not isinstance(value, str):
            raise JSchedError(f"{owner}: option {f.name} must be a string, got {value!r}")
    m = f.metadata
    if m.get("choices") and value not in m["choices"]:
        raise JSchedError(f"{owner}: option {f.name} must be one of {', '.join(map(str, m['choices']))}, got {value!r}")
    if m.get("min") is not None and value < m["min"]:
        raise JSchedError(f"{owner}: option {f.name} must be >= {m['min']}, got {value!r}")
    if m.get("max") is not None and value > m["max"]:
        raise JSchedError(f"{owner}: option {f.name} must be <= {m['max']}, got {value!r}")
    return value


def make_config(cls: type, options: dict[str, Any], owner: str) -> Any:
    """``cls(**options)`` with every value checked; an unknown name lists the valid ones."""
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise JSchedError(f"{owner}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                          f"valid options: {', '.join(names) or 'none'}")  # fmt: skip
    checked = {f.name: _check(cls, f, options[f.name], owner) for f in fields(cls) if f.name in options}
    return cls(**checked)


def flag(name: str) -> str:
    """The command-line flag of a field: ``time_limit`` -> ``--time-limit``."""
    return "--" + name.replace("_", "-")


def add_flags(parser: argparse.ArgumentParser, cls: type, title: str | None = None, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per CLI field of ``cls`` but ``skip`` (defaults shown in the help, taken from ``cls``)."""
    group = parser.add_argument_group(title) if title else parser
    for f in fields(cls):
        if not f.metadata.get("cli", True) or f.name in skip:
            continue
        typ, optional = _base_type(cls, f)
        m = f.metadata
        default = f.default if f.default is not _MISSING else None
        help_text = (m.get("help", "") + ("" if default is None else f" (default: {default})")).replace("%", "%%")  # argparse formats help
        if typ is bool:
            group.add_argument(flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)  # fmt: skip
        else:
            group.add_argument(flag(f.name), dest=f.name, type=typ, default=None, choices=m.get("choices"),
                               metavar=None if m.get("choices") else typ.__name__.upper(), help=help_text)  # fmt: skip


def options_from_args(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The options a user gave on the command line for ``cls`` (flags left out are omitted)."""
    return {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}


def describe(cls: type) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help) of every field: what ``jsched.methods()`` shows."""
    out = []
    for f in fields(cls):
        typ, optional = _base_type(cls, f)
        out.append((f.name, typ.__name__ + (" | None" if optional else ""), f.default, f.metadata.get("help", "")))
    return out
