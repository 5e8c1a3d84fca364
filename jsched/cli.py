"""The ``jsched`` command line: one entry point, one sub-command module each.

Every expected failure is a ``JSchedError``: the CLI prints its one-line message to stderr
and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import logging
import os
import sys

from jsched.errors import JSchedError

# Sub-command modules; each defines ``register(subparsers)`` which sets ``func`` on its parser.
COMMANDS = [
    "jsched.commands.solve",
    "jsched.commands.methods",
    "jsched.commands.rules",
    "jsched.commands.demo",
    "jsched.commands.train",
    "jsched.commands.eval",
    "jsched.commands.rho",
    "jsched.commands.bench",
    "jsched.commands.validate",
    "jsched.commands.gantt",
]


def build_parser() -> argparse.ArgumentParser:
    from jsched import __version__

    parser = argparse.ArgumentParser(prog="jsched", description="JAX-native shop scheduling solvers")
    parser.add_argument("--version", action="version", version=f"jsched {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def _enable_compilation_cache() -> None:
    """Persist XLA compilations across CLI calls (a rule solve compiles in seconds, reloads in ms).

    Set ``JAX_COMPILATION_CACHE_DIR`` to choose the folder, or to an empty string to disable it.
    """
    default = os.path.join(os.path.expanduser("~"), ".cache", "jsched", "jax")
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", default)


@contextlib.contextmanager
def _log_to_stderr():
    """jsched's INFO logs (training runs, resumes) as plain stderr lines while a command runs,
    unless the caller configured logging (then theirs applies); other libraries' logs untouched."""
    log = logging.getLogger("jsched")
    if log.hasHandlers():
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = log.level
    log.addHandler(handler)
    if level == logging.NOTSET:
        log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    with _log_to_stderr():
        return _main(sys.argv[1:] if argv is None else argv)


def _main(argv: list[str]) -> int:
    _enable_compilation_cache()
    parser = build_parser()
    try:
        # First pass without --help (and --version, which prints): commands may add options that depend on a first-pass
        # value (``solve --method M``, ``train TARGET``), so that ``--help`` then lists them.
        probe = [a for a in argv if a not in ("-h", "--help", "--version")]
        try:
            with contextlib.redirect_stderr(io.StringIO()):  # the second pass reports errors
                first, _ = parser.parse_known_args(probe)
        except SystemExit:
            first = None
        if first is not None and hasattr(first, "refine_parser"):
            first.refine_parser(parser, first)
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
