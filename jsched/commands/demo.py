"""``jsched demo``: solve one instance of each problem kind with every method, compare, draw Gantts.

By default three instances, one per kind:

* JSP: Taillard's ta01 (shipped with the package);
* FJSP: Brandimarte's mk01 (shipped with the package);
* CAS-PFSP: a seeded generated instance (10 jobs, 3 machines, one day), written to the output folder.

Every registered method that handles the instance's kind runs through ``jsched.solve`` with its
defaults; every method with a ``time_limit`` option gets CP-SAT's (or ``--time-limit``), and
rolling-horizon CP-SAT (``rho``, ``lrho``) runs with windows of 20 operations, 10 executed, at most
5 s a window, solved deterministically (mk01 has 55 operations: several windows; the same result on
every run). Each schedule is validated; a table per
instance (sorted by makespan, or by emissions on CAS-PFSP) is printed and written as CSV, and one
Gantt chart per method is drawn.
"""

from __future__ import annotations

import argparse
import csv
import os

import numpy as np

from jsched.atomic import atomic_path
from jsched.errors import JSchedError
from jsched.registry import DUE_RULES, METHODS

DEFAULT_INSTANCES = "ta01,fjsp,pfsp"
RHO_WINDOW = {"H": 20, "S": 10, "T": 5.0, "objective": "makespan", "deterministic": True}


def register(sub) -> None:
    p = sub.add_parser("demo", help="solve a JSP, an FJSP and a CAS-PFSP instance with every method: tables + Gantt charts")
    p.add_argument("--instance", default=DEFAULT_INSTANCES,
                   help="comma-separated benchmark names or files; 'fjsp' = mk01, "
                        "'pfsp' = a generated CAS-PFSP instance (default: %(default)s)")  # fmt: skip
    p.add_argument("--time-limit", type=float,
                   help="seconds for CP-SAT and the other methods with a time limit (default: CP-SAT's own)")  # fmt: skip
    p.add_argument("--out-dir", default="jsched-demo", help="folder for Gantt charts, tables and generated instances")
    p.add_argument("--methods", help="comma-separated subset of methods (default: all that apply)")
    p.set_defaults(func=run)


def demo_options(name: str, time_limit: float | None) -> dict:
    """The options the demo gives method ``name``: the time limit if set, and RHO's small windows."""
    from jsched.options import fields

    names = {f.name for f in fields(METHODS[name].config_class("solve"))}
    opts = {"time_limit": time_limit} if "time_limit" in names and time_limit is not None else {}
    if {"H", "S", "T"} <= names:
        opts.update(RHO_WINDOW, T=RHO_WINDOW["T"] if time_limit is None else min(RHO_WINDOW["T"], time_limit))
    return opts


def _safe(name: str) -> str:
    """A file-name-safe form of an instance name (``hurink/edata/la01`` -> ``hurink_edata_la01``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def resolve_instance(token: str, out_dir: str) -> str:
    """The spec ``jsched solve`` reads for a demo token: 'fjsp' is mk01, 'pfsp' a seeded generated
    instance written to ``out_dir``; anything else is kept."""
    if token == "fjsp":
        return "mk01"
    if token == "pfsp":
        from jsched.instances.pfsp import generate_cas, write_cas

        path = os.path.join(out_dir, "CAS-PFSP-gen-10x3-seed0.cas")
        write_cas(generate_cas(np.random.default_rng(0), 10, 3, days=1, name="CAS-PFSP-gen-10x3-seed0"), path)
        return path
    return token


def _progress(result) -> None:
    """One line as each method finishes (the whole demo takes minutes)."""
    name, sched, extra, seconds = result
    what = f"emissions {extra['emissions']:.2f}" if "emissions" in extra else f"makespan {sched.makespan}"
    print(f"  {name:>12}: {what} ({seconds:.1f} s)", flush=True)


def _solve_all(spec: str, methods: list[str] | None, time_limit: float | None):
    """(instance, kind, [(name, schedule, extra, seconds)]) for every applicable method."""
    import jsched
    from jsched.instances import problem_kind

    instance = jsched.load(spec)
    kind = problem_kind(instance)
    print(f"\n{instance.name} ({instance.shape}, {kind}): solving ...", flush=True)
    names = [n for n, m in METHODS.items() if kind in m.problems and (methods is None or n in methods)]
    if getattr(instance, "job_due", None) is None:  # the due-date rules have nothing to order by
        due = [n for n in names if METHODS[n].preset.get("rule") in DUE_RULES]
        names = [n for n in names if n not in due]
        if due:
            print(f"  {', '.join(due)}: not run (they need job due dates; this instance has none)")
    results = []
    for name in names:
        try:
            r = jsched.solve(instance, method=name, **demo_options(name, time_limit))
        except JSchedError as e:  # a method that cannot run here (e.g. no checkpoint) is reported, not fatal
            print(f"  {name:>12}: skipped ({e})")
            continue
        results.append((name, r.schedule, r.extra, r.time_seconds))
        _progress(results[-1])
    return instance, kind, results


def demo_instance(spec: str, methods: list[str] | None, time_limit: float | None, out_dir: str) -> list[dict]:
    """Solve one instance with every applicable method; print and write its table and Gantts."""
    from jsched.gantt import plot_gantt
    from jsched.instances import best_known
    from jsched.schedule import gap_percent

    instance, kind, results = _solve_all(spec, methods, time_limit)
    bk = best_known(instance) if kind != "pfsp" else None
    score = "emissions" if kind == "pfsp" else "makespan"
    rows = []
    for name, sched, extra, seconds in results:
        ms = sched.makespan
        png = os.path.join(out_dir, f"{_safe(instance.name)}_{name}.png")
        plot_gantt(instance, sched, png, title=f"{instance.name} - {name} - makespan {ms}")
        gap = gap_percent(ms, bk)
        rows.append({"instance": instance.name, "method": name,
                     score: float(extra["emissions"]) if kind == "pfsp" else ms,
                     "makespan": ms, "gap_percent": None if gap is None else round(gap, 2),
                     "time_seconds": round(seconds, 2), "gantt": png})  # fmt: skip
    if not rows:
        raise JSchedError(f"{instance.name}: no method produced a schedule")
    rows.sort(key=lambda r: r[score])
    print(f"\n{instance.name}: " + ("ranked by emissions" if kind == "pfsp" else f"best known {bk if bk is not None else '-'}"))
    print(f"{'method':>12} {score:>14} {'gap %':>7} {'time s':>8}  gantt")
    for r in rows:
        g = "-" if r["gap_percent"] is None else f"{r['gap_percent']:.2f}"
        v = f"{r[score]:.2f}" if kind == "pfsp" else str(r[score])
        print(f"{r['method']:>12} {v:>14} {g:>7} {r['time_seconds']:>8.2f}  {r['gantt']}")
    table = os.path.join(out_dir, f"{_safe(instance.name)}_comparison.csv")
    with atomic_path(table) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"table: {table}")
    return rows


def run(args: argparse.Namespace) -> int:
    methods = args.methods.split(",") if args.methods else None
    unknown = [n for n in methods or () if n not in METHODS]
    if unknown:
        raise JSchedError(f"unknown methods {unknown}; choose from {sorted(METHODS)}")
    os.makedirs(args.out_dir, exist_ok=True)
    specs = [resolve_instance(t.strip(), args.out_dir) for t in args.instance.split(",") if t.strip()]
    from jsched.cpsat.method import Config as CPSat

    limit = CPSat.time_limit if args.time_limit is None else args.time_limit
    print(f"jsched demo: {len(specs)} instance(s): {', '.join(specs)}; CP-SAT limit {limit:g} s, output in {args.out_dir}/")
    for spec in specs:
        demo_instance(spec, methods, limit, args.out_dir)
    print("\nAll schedules passed the validator.")
    return 0
