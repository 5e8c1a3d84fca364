"""``jsched solve INSTANCE --method NAME``: solve, validate, print one line, write JSON/Gantt."""

from __future__ import annotations

import argparse
import time

from jsched.errors import JSchedError
from jsched.methods import METHODS


def register(sub) -> None:
    p = sub.add_parser("solve", help="solve one instance with one method")
    p.add_argument("instance", help="benchmark name (ta01, ft06, mk01, ...) or instance file path")
    p.add_argument("--method", default="cpsat", help=f"one of: {', '.join(sorted(METHODS))}")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds (CP-SAT and search methods)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--workers", type=int, default=2, help="solver threads (CP-SAT)")
    p.add_argument("--out", help="write the schedule JSON here")
    p.add_argument("--gantt", help="write a Gantt chart (.png or .svg) here")

    def refine(parser, args):
        method = METHODS.get(args.method)
        if method is None:
            raise JSchedError(f"unknown method {args.method!r}; choose one of: {', '.join(sorted(METHODS))}")
        mod = method.load()
        if hasattr(mod, "add_arguments"):
            mod.add_arguments(p)

    p.set_defaults(func=run, refine_parser=refine)


def run(args: argparse.Namespace) -> int:
    from jsched.instances import best_known, load, problem_kind
    from jsched.schedule import schedule_payload, validate, write_json_atomic

    method = METHODS[args.method]
    instance = load(args.instance)
    kind = problem_kind(instance)
    if kind not in method.problems:
        raise JSchedError(f"method {method.name!r} solves {'/'.join(method.problems)}, not {kind} ({instance.name})")
    t0 = time.perf_counter()
    out = method.load().solve(instance, args)
    elapsed = time.perf_counter() - t0
    validate(instance, out.schedule)
    bk = best_known(instance)
    payload = schedule_payload(instance, out.schedule, method.name, bk, elapsed, **out.extra)
    gap = payload["gap_percent"]
    parts = [
        f"instance={instance.name}",
        f"method={method.name}",
        f"makespan={payload['makespan']}",
        f"best_known={bk if bk is not None else '-'}",
        f"gap={'-' if gap is None else f'{gap:.2f}%'}",
        f"time={elapsed:.2f}s",
    ]
    parts += [f"{k}={out.extra[k]}" for k in out.summary]
    print(" ".join(parts))
    if args.out:
        write_json_atomic(args.out, payload)
    if args.gantt:
        from jsched.gantt import plot_gantt

        plot_gantt(instance, out.schedule, args.gantt, title=f"{instance.name} - {method.name} - makespan {payload['makespan']}")
    return 0
