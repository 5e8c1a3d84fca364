"""What the method sub-commands share: the method's flags, derived from its Config."""

from __future__ import annotations

import argparse

from jsched.options import add_flags, options_from_args
from jsched.registry import METHODS, get

SEED_HELP = "random seed (the method's jax.random key; numpy and CP-SAT get it as an integer)"


def method_help() -> str:
    return "one of: " + ", ".join(sorted(METHODS))


def add_seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)


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

