"""The ``jsched`` command line: one entry point, one sub-command module each.

Every expected failure is a ``JSchedError``: the CLI prints its one-line message to stderr
and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from jsched.errors import JSchedError

# Sub-command modules; each defines ``register(subparsers)`` which sets ``func`` on its parser.
COMMANDS = [
    "jsched.commands.solve",
    "jsched.commands.rules",
    "jsched.commands.rho",
    "jsched.commands.demo",
    "jsched.commands.train",
    "jsched.commands.eval",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jsched", description="JAX-native shop scheduling solvers")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args, _ = parser.parse_known_args(argv)
        # Second pass: commands may add options that depend on a first-pass value (e.g. --method).
        if hasattr(args, "refine_parser"):
            args.refine_parser(parser, args)
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except JSchedError as e:
        print(f"jsched: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jsched: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
