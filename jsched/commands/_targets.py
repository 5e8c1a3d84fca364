"""Shared machinery for sub-commands that dispatch to a per-method module (train, eval).

A target module provides ``add_arguments(parser)`` and ``run(args) -> int``; it is imported only
when chosen, so ``jsched --help`` stays fast and a method's heavy imports cost nothing elsewhere.
"""

from __future__ import annotations

import importlib

from jsched.errors import JSchedError


def register_dispatch(sub, command: str, help: str, targets: dict[str, str]) -> None:
    p = sub.add_parser(command, help=help)
    p.add_argument("target", help=f"one of: {', '.join(targets)}")

    def refine(parser, args):
        if args.target not in targets:
            raise JSchedError(f"unknown {command} target {args.target!r}; choose one of: {', '.join(targets)}")
        mod = importlib.import_module(targets[args.target])
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)

    p.set_defaults(refine_parser=refine)
