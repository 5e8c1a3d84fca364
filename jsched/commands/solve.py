"""``jsched solve INSTANCE --method NAME [options]``: solve, validate, print one line, write JSON/Gantt."""

from __future__ import annotations

import argparse
import os

from jsched.commands._method import add_seed, api_default, given, method_help, options, refine
from jsched.errors import JSchedError


def register(sub) -> None:
    p = sub.add_parser("solve", help="solve one instance with one method (`jsched solve --method M --help`: its options)")
    p.add_argument("instance", nargs="?", help="benchmark name (ta01, ft06, mk01, ...) or instance file path")
    p.add_argument("--method", help=f"{method_help()} (default: {api_default('method')})")
    add_seed(p)
    p.add_argument("--out", help="write the schedule JSON here")
    p.add_argument("--gantt", help="write a Gantt chart (.png, .svg or .pdf) here")
    p.set_defaults(func=run, refine_parser=lambda parser, args: refine(p, args.method or api_default("method"), "solve"))


def check_outputs(instance: str, out: str | None, gantt: str | None) -> None:
    """Fail before a long solve on output paths that cannot work (or would clobber the input)."""
    from jsched.atomic import check_writable
    from jsched.gantt import check_gantt_path

    inputs = [instance] if os.path.exists(instance) else []
    if out:
        check_writable(out, avoid=[*inputs, gantt])
    if gantt:
        check_gantt_path(gantt, avoid=[*inputs, out])


def run(args: argparse.Namespace) -> int:
    import jsched

    if args.instance is None:
        raise JSchedError("solve: an instance is required (a benchmark name or a file path)")
    check_outputs(args.instance, args.out, args.gantt)
    method = args.method or api_default("method")
    result = jsched.solve(args.instance, **given(args, "method", "seed"), **options(args, method, "solve"))
    print(result.line())
    if args.out:
        result.save(args.out)
    if args.gantt:
        from jsched.gantt import plot_gantt

        plot_gantt(result.instance, result.schedule, args.gantt, title=result.title())
    return 0
