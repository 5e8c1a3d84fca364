"""What the method sub-commands share: the method's flags, derived from its Config."""

from __future__ import annotations

import argparse

from jsched.options import add_flags, options_from_args
from jsched.registry import METHODS, get


def method_help() -> str:
    return "one of: " + ", ".join(sorted(METHODS))


def api_default(name: str, function: str = "solve"):
    """The default of a ``jsched.api`` function's keyword (the CLI leaves unset flags to it)."""
    import inspect

    from jsched import api

    return inspect.signature(getattr(api, function)).parameters[name].default


def add_seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, help=f"random seed: the method's jax.random key; numpy and CP-SAT get it as an "
                                            f"integer (default: {api_default('seed')})")  # fmt: skip


def given(args: argparse.Namespace, *names: str) -> dict:
    """The named flags the user set (the rest keep the API's defaults)."""
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def refine(p: argparse.ArgumentParser, name: str | None, verb: str) -> None:
    """Add the options of method ``name``'s ``verb`` to ``p`` (so that ``--help`` lists them)."""
    if name is None:
        return
    entry = get(name)
    add_flags(p, entry.config_class(verb), title=f"{name} options", skip=tuple(entry.preset))


def options(args: argparse.Namespace, name: str, verb: str) -> dict:
    """The method options the user gave (unset flags are left to the Config's defaults)."""
    entry = get(name)
    return options_from_args(entry.config_class(verb), args)

