"""``jsched solve INSTANCE --method NAME [options]``: solve, validate, print one line, write JSON/Gantt."""

from __future__ import annotations

import argparse
import os

from jsched.commands._method import add_seed, method_help, options, refine
from jsched.errors import JSchedError


def register(sub) -> None:
    p = sub.add_parser("solve", help="solve one instance with one method (`jsched solve --method M --help`: its options)")
    p.add_argument("instance", nargs="?", help="benchmark name (ta01, ft06, mk01, ...) or instance file path")
    p.add_argument("--method", default="cpsat", help=method_help() + " (default: cpsat)")
    add_seed(p)
    p.add_argument("--out", help="write the schedule JSON here")
    p.add_argument("--gantt", help="write a Gantt chart (.png, .svg or .pdf) here")
    p.set_defaults(func=run, refine_parser=lambda parser, args: refine(p, args.method, "solve"))


def check_outputs(instance: str, *paths: str | None) -> None:
    """Fail before a long solve on an output path that cannot work."""
    from jsched.gantt import FORMATS

    given = [os.path.abspath(x) for x in paths if x]
    if len(set(given)) < len(given):
        raise JSchedError("--out and --gantt name the same file")
    if os.path.isfile(instance) and os.path.abspath(instance) in given:
        raise JSchedError(f"{instance}: refusing to overwrite the input instance")
    for x in given:
        if os.path.isdir(x):
            raise JSchedError(f"{x}: is a directory")
        if not os.path.isdir(os.path.dirname(x)):
            raise JSchedError(f"{os.path.dirname(x)}: no such directory")
    gantt = paths[1] if len(paths) > 1 else None
    if gantt and os.path.splitext(gantt)[1].lower() not in FORMATS:
        raise JSchedError(f"{gantt}: Gantt chart format must be one of {', '.join(FORMATS)}")


def run(args: argparse.Namespace) -> int:
    import jsched

    if args.instance is None:
        raise JSchedError("solve: an instance is required (a benchmark name or a file path)")
    check_outputs(args.instance, args.out, args.gantt)
    result = jsched.solve(args.instance, method=args.method, seed=args.seed, **options(args, args.method, "solve"))
    print(result.line())
    if args.out:
        result.save(args.out)
    if args.gantt:
        from jsched.gantt import plot_gantt

        plot_gantt(result.instance, result.schedule, args.gantt, title=result.title())
    return 0
