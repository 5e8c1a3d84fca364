"""``jsched eval METHOD SET [options]``: a method on every instance of a benchmark set, mean gap by size."""

from __future__ import annotations

import argparse
from collections import defaultdict

from jsched.commands._method import add_seed, given, method_help, options, refine


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a method on a benchmark set: gap by size (`--help` with a method: its options)")
    p.add_argument("method", nargs="?", help=method_help())
    p.add_argument("set", nargs="?", help="benchmark set: taillard, dmu, brandimarte, hurink_edata, ...")
    add_seed(p)
    p.add_argument("--out", help="write the per-instance rows and the summary as JSON here")
    p.set_defaults(func=run, refine_parser=lambda parser, args: refine(p, args.method, "evaluate"))


def summarise(results) -> list[dict]:
    """Mean gap and time per instance size, then over all instances with a best-known value."""
    groups = defaultdict(list)
    for r in results:
        groups[r.instance.shape].append(r)
    rows = []
    for name, rs in [*groups.items(), ("all", list(results))]:
        gaps = [r.gap for r in rs if r.gap is not None]
        rows.append({"size": name, "instances": len(rs), "mean_gap_percent": round(sum(gaps) / len(gaps), 4) if gaps else None,
                     "mean_time_seconds": round(sum(r.time_seconds for r in rs) / len(rs), 4)})  # fmt: skip
    return rows


def run(args: argparse.Namespace) -> int:
    import jsched
    from jsched.errors import JSchedError
    from jsched.schedule import write_json_atomic

    if args.method is None or args.set is None:
        raise JSchedError("eval: name a method and a benchmark set (e.g. `jsched eval slim taillard`)")
    results = jsched.evaluate(args.method, args.set, **given(args, "seed"), **options(args, args.method, "evaluate"))
    print(f"{'instance':<16}{'makespan':>9}{'best':>7}{'gap %':>8}")
    for r in results:
        print(f"{r.instance.name:<16}{r.makespan:>9}{r.best_known or '-':>7}{'-' if r.gap is None else f'{r.gap:.2f}':>8}")
    summary = summarise(results)
    print(f"\n{'size':<10}{'n':>4}{'mean gap %':>12}{'s / inst':>10}")
    for s in summary:
        g = "-" if s["mean_gap_percent"] is None else f"{s['mean_gap_percent']:.2f}"
        print(f"{s['size']:<10}{s['instances']:>4}{g:>12}{s['mean_time_seconds']:>10.2f}")
    if args.out:
        rows = [{k: v for k, v in r.to_json().items() if k != "operations"} for r in results]
        write_json_atomic(args.out, {"method": args.method, "set": args.set, "summary": summary, "instances": rows})
    return 0
