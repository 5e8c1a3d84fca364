"""``jsched demo``: solve a bundled benchmark with every registered method, compare, draw Gantts.

Every method in the registry that handles the instance's problem kind runs with its defaults
(CP-SAT with a short time limit); each schedule is validated, a comparison table is printed
and written as CSV, and one Gantt chart per method is written to the output folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import time

from jsched.errors import JSchedError
from jsched.methods import METHODS


def register(sub) -> None:
    p = sub.add_parser("demo", help="solve a bundled benchmark with every method, table + Gantt charts")
    p.add_argument("--instance", default="ta01", help="benchmark name or file (default ta01)")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds for CP-SAT and search methods")
    p.add_argument("--out-dir", default="jsched-demo", help="folder for Gantt charts and the table")
    p.add_argument("--methods", help="comma-separated subset of methods (default: all that apply)")
    p.set_defaults(func=run)


def _method_args(instance_spec: str, method: str, time_limit: float) -> argparse.Namespace:
    """The exact namespace ``jsched solve INSTANCE --method M`` would get (method defaults)."""
    from jsched.cli import build_parser

    argv = ["solve", instance_spec, "--method", method, "--time-limit", str(time_limit)]
    parser = build_parser()
    args, _ = parser.parse_known_args(argv)
    args.refine_parser(parser, args)
    return parser.parse_args(argv)


def _safe(name: str) -> str:
    """A file-name-safe form of an instance name (``hurink/edata/la01`` -> ``hurink_edata_la01``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def run(args: argparse.Namespace) -> int:
    from jsched.gantt import plot_gantt
    from jsched.instances import best_known, load, problem_kind
    from jsched.schedule import gap_percent, validate

    instance = load(args.instance)
    kind = problem_kind(instance)
    names = args.methods.split(",") if args.methods else [n for n, m in METHODS.items() if kind in m.problems]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise JSchedError(f"unknown methods {unknown}; choose from {sorted(METHODS)}")
    bk = best_known(instance)
    os.makedirs(args.out_dir, exist_ok=True)
    print(f"jsched demo: {instance.name} ({instance.shape}, {kind}), best known {bk if bk is not None else '-'}")
    rows = []
    for name in names:
        method = METHODS[name]
        t0 = time.perf_counter()
        try:
            out = method.load().solve(instance, _method_args(args.instance, name, args.time_limit))
            validate(instance, out.schedule)
        except JSchedError as e:  # a method that cannot run here (e.g. no checkpoint) is reported, not fatal
            print(f"  {name:>12}: skipped ({e})")
            continue
        elapsed = time.perf_counter() - t0
        ms = out.schedule.makespan
        gap = gap_percent(ms, bk)
        png = os.path.join(args.out_dir, f"{_safe(instance.name)}_{name}.png")
        plot_gantt(instance, out.schedule, png, title=f"{instance.name} - {name} - makespan {ms}")
        rows.append({"method": name, "makespan": ms, "gap_percent": None if gap is None else round(gap, 2),
                     "time_seconds": round(elapsed, 2), "gantt": png})
    if not rows:
        raise JSchedError("no method produced a schedule")
    rows.sort(key=lambda r: r["makespan"])
    print(f"\n{'method':>12} {'makespan':>9} {'gap %':>7} {'time s':>8}  gantt")
    for r in rows:
        g = "-" if r["gap_percent"] is None else f"{r['gap_percent']:.2f}"
        print(f"{r['method']:>12} {r['makespan']:>9} {g:>7} {r['time_seconds']:>8.2f}  {r['gantt']}")
    table = os.path.join(args.out_dir, f"{_safe(instance.name)}_comparison.csv")
    with open(table, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"\nAll schedules passed the validator. Table: {table}")
    return 0
