"""Claim: at equal time, ``--method best`` beats CP-SAT alone and the best in-graph method alone.

Three arms per instance, each given the same wall time T and the same CP-SAT workers:

* ``best``: the portfolio (``jsched solve I --method best --time-limit T``);
* ``cpsat``: CP-SAT alone (``--method cpsat --time-limit T``; as shipped, it starts from the MWKR
  rule on instances of 1,000 operations or more);
* ``in_graph``: the in-graph methods alone for T seconds: every dispatching rule once, then
  learned sampling (SLIM on a JSP, DANIEL on an FJSP, ``--samples`` per call) with a new seed per
  call while the next call (as long as the last) fits in T; the best schedule by the objective.

JIT compilation is not counted: before the timed arms, one untimed warm-up per instance runs the
rules and one learned call (the same shapes), so every arm runs compiled code, as in a process
that has solved an instance of that size before. ``seconds`` is each arm's measured wall time.

Sets: every 5th Taillard instance (ta01, ta06, ..., ta76) at ``--time-limit`` (60 s), Brandimarte
mk01-mk10 at ``--fjsp-time-limit`` (30 s), and a tardiness table: ``--tardiness N`` generated
Taillard-style 15x15 and 20x15 instances with TWK due dates (tightness 1.3) and 4-2-1 weights,
objective weighted tardiness, at ``--tardiness-time-limit`` (30 s). Per set: per-instance values,
the gap to the best-known makespan, the mean gap per arm, best's wins / ties / losses against
each other arm, a Wilcoxon signed-rank test (best vs cpsat, where >= 6 instances differ), and
whether best was ever worse than its own in-graph start. Every schedule passed the validator.

``--repeats R`` runs the two CP-SAT arms (best, cpsat) R times per instance, seeds ``--seed`` ...
``--seed`` + R - 1 (multi-threaded CP-SAT differs run to run even at one seed): each arm's
``value`` is then the mean of its ``runs``, wins / ties / losses compare the means, and the summary
adds each arm's mean per-instance spread (max - min over the runs, % of the mean) and
``clear_wins`` / ``clear_losses``: instances where every run of one arm beat every run of the
other. The in-graph arm runs once (its spread is not the question; it never came near best).

    nice -n 5 python bench/portfolio.py                      # the full bench (~80 min of arms)
    python bench/portfolio.py --instances ta01,mk01 --time-limit 5 --fjsp-time-limit 5 --tardiness 1 \
        --tardiness-time-limit 5 --out bench/results/portfolio_smoke.json           # a smoke run
    nice -n 5 python bench/portfolio.py --instances taillard --tardiness 0 --repeats 3 \
        --out bench/results/portfolio_repeats.json        # Taillard only, 3 runs of each CP-SAT arm

Resumable: rows already in ``--out`` (same arm settings) are kept and skipped; the file is
rewritten atomically after every instance. Writes ``bench/results/portfolio.json``; ``--plot``
draws its figure (``portfolio.png``: per instance, each arm's gap, or on the tardiness set its
weighted tardiness relative to CP-SAT alone's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

import jsched
from jsched.instances import best_known, load, problem_kind, with_due_dates
from jsched.instances.generators import taillard_jsp
from jsched.schedule import OBJECTIVES, gap_percent, validate, write_json_atomic

TAILLARD = [f"ta{i:02d}" for i in range(1, 80, 5)]
BRANDIMARTE = [f"mk{i:02d}" for i in range(1, 11)]
ARMS = ("best", "cpsat", "in_graph")


def in_graph_alone(instance, objective: str, time_limit: float, samples: int, seed: int) -> tuple:
    """The rules, then learned sampling with fresh seeds until ``time_limit``: (best schedule, by, calls)."""
    from jsched.rules.table import evaluate, rule_columns

    t0 = time.perf_counter()
    kind = problem_kind(instance)
    score = OBJECTIVES[objective]
    columns = rule_columns(kind, due_dates=instance.job_due is not None)
    _, scheds = evaluate([instance], columns, kind)
    values = [score(instance, s) for s in scheds[0]]
    i = int(np.argmin(values))
    best, value, by = scheds[0][i], values[i], f"rule:{columns[i][0]}"
    learned = {"jsp": "slim", "fjsp": "daniel"}[kind]
    calls, last = 0, 0.0
    while time.perf_counter() - t0 + last < time_limit:
        t1 = time.perf_counter()
        s = jsched.solve(instance, method=learned, samples=samples, seed=seed + calls).schedule
        calls, last = calls + 1, time.perf_counter() - t1
        if score(instance, s) < value:
            best, value, by = s, score(instance, s), learned
    return best, by, calls


def warm_up(instance, samples: int) -> None:
    """Compile what the arms run on this instance's shapes: the rule rollouts and one learned call."""
    in_graph_alone(instance, "makespan", 0.0, samples, 0)
    learned = {"jsp": "slim", "fjsp": "daniel"}[problem_kind(instance)]
    try:
        jsched.solve(instance, method=learned, samples=samples)
    except jsched.JSchedError:  # e.g. no model for this size: the arms skip it the same way
        pass


def run_arm(arm: str, instance, objective: str, time_limit: float, a, seed: int) -> dict:
    t0 = time.perf_counter()
    if arm == "in_graph":
        sched, by, calls = in_graph_alone(instance, objective, time_limit, a.samples, seed)
        extra = {"found_by": by, "learned_calls": calls}
    else:
        opts = {"samples": a.samples, "share": a.share} if arm == "best" else {}
        r = jsched.solve(instance, method=arm, time_limit=time_limit, workers=a.workers, objective=objective,
                         seed=seed, **opts)  # fmt: skip
        sched = r.schedule
        extra = {k: r.extra.get(k) for k in ("status", "bound", "found_by", "hint_feasible")}
        if arm == "best":
            extra["in_graph_start"] = r.extra["in_graph_objective"]
            extra["in_graph_seconds"] = r.extra["in_graph_seconds"]
    validate(instance, sched)
    value = OBJECTIVES[objective](instance, sched)
    bk = best_known(instance) if objective == "makespan" else None
    gap = gap_percent(value, bk)
    return {"value": int(value), "makespan": sched.makespan, "gap_percent": None if gap is None else round(gap, 4),
            "seconds": round(time.perf_counter() - t0, 2), **extra}  # fmt: skip


def repeated_arm(arm: str, instance, objective: str, time_limit: float, a, repeats: int) -> dict:
    """``run_arm`` ``repeats`` times (seeds ``a.seed`` + k); one run as is, several as the first
    run's fields, ``runs`` (each run's value) and ``value`` / ``gap_percent`` / ``seconds`` of the mean."""
    runs = [run_arm(arm, instance, objective, time_limit, a, a.seed + k) for k in range(repeats)]
    if len(runs) == 1:
        return runs[0]
    value = float(np.mean([r["value"] for r in runs]))
    gap = gap_percent(value, best_known(instance) if objective == "makespan" else None)
    return {**runs[0], "value": round(value, 2), "gap_percent": None if gap is None else round(gap, 4),
            "seconds": round(float(np.mean([r["seconds"] for r in runs])), 2), "runs": [r["value"] for r in runs]}


def runs_of(arm_row: dict) -> list:
    return arm_row.get("runs", [arm_row["value"]])


def summarise(rows: list[dict]) -> dict:
    """Mean value/gap per arm, best's wins/ties/losses, Wilcoxon best vs cpsat, best vs its start."""
    if not rows:
        return {}
    out = {"instances": len(rows)}
    for arm in ARMS:
        vals = [r[arm]["value"] for r in rows]
        gaps = [r[arm]["gap_percent"] for r in rows if r[arm]["gap_percent"] is not None]
        out[arm] = {"mean_value": round(float(np.mean(vals)), 2),
                    "mean_gap_percent": round(float(np.mean(gaps)), 4) if len(gaps) == len(rows) else None}  # fmt: skip
    for other in ("cpsat", "in_graph"):
        d = np.array([r["best"]["value"] - r[other]["value"] for r in rows])
        out[f"best_vs_{other}"] = {"wins": int((d < 0).sum()), "ties": int((d == 0).sum()), "losses": int((d > 0).sum())}
    if any(len(runs_of(r[arm])) > 1 for r in rows for arm in ("best", "cpsat")):
        for arm in ("best", "cpsat"):
            spread = [100 * (max(runs_of(r[arm])) - min(runs_of(r[arm]))) / r[arm]["value"] for r in rows]
            out[arm]["mean_spread_percent"] = round(float(np.mean(spread)), 4)
        out["clear_wins"] = sum(max(runs_of(r["best"])) < min(runs_of(r["cpsat"])) for r in rows)
        out["clear_losses"] = sum(min(runs_of(r["best"])) > max(runs_of(r["cpsat"])) for r in rows)
    d = np.array([r["best"]["value"] - r["cpsat"]["value"] for r in rows])
    if (d != 0).sum() >= 6:
        from scipy.stats import wilcoxon

        out["wilcoxon_best_vs_cpsat_p"] = round(float(wilcoxon(d[d != 0]).pvalue), 5)
    out["best_worse_than_its_start"] = [r["instance"] for r in rows if r["best"]["value"] > r["best"]["in_graph_start"]]
    return out


def figure(results: dict):
    """Per set, each instance's value by arm: the gap to the best-known makespan (Taillard,
    Brandimarte) or the weighted tardiness relative to CP-SAT alone's (tardiness)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sets = [s for s in ("taillard", "brandimarte", "tardiness") if any(r["set"] == s for r in results["rows"])]
    fig = Figure(figsize=(11, 3.2 * len(sets)), dpi=100)
    FigureCanvasAgg(fig)
    for k, s in enumerate(sets):
        rows = [r for r in results["rows"] if r["set"] == s]
        ax = fig.add_subplot(len(sets), 1, k + 1)
        x = np.arange(len(rows))
        known = [best_known(load(r["instance"])) for r in rows] if s != "tardiness" else None
        for j, arm in enumerate(ARMS):
            if s == "tardiness":
                y = [100 * (r[arm]["value"] / max(r["cpsat"]["value"], 1) - 1) for r in rows]
            else:
                y = [r[arm]["gap_percent"] for r in rows]
            err = None
            if known and any("runs" in r[arm] for r in rows):  # the runs' range around the mean
                err = [[r[arm]["gap_percent"] - gap_percent(min(runs_of(r[arm])), bk) for r, bk in zip(rows, known)],
                       [gap_percent(max(runs_of(r[arm])), bk) - r[arm]["gap_percent"] for r, bk in zip(rows, known)]]
            ax.bar(x + (j - 1) * 0.27, y, 0.27, yerr=err, capsize=2, label=arm)
        ax.set_xticks(x, [r["instance"] for r in rows], fontsize=7)
        t = rows[0]["time_limit"]
        ax.set_ylabel("% vs CP-SAT alone" if s == "tardiness" else "gap to best known %")
        ax.set_title(f"{s}: {rows[0]['objective'].replace('_', ' ')}, {t:g} s per arm", fontsize=9)
        ax.axhline(0, color="k", linewidth=0.5)
        ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    return fig


def tardiness_instances(n: int) -> list:
    """``n`` generated 15x15 and ``n`` 20x15 Taillard-style JSPs with TWK due dates (1.3), 4-2-1 weights."""
    out = []
    for shape in ((15, 15), (20, 15)):
        for s in range(n):
            inst = taillard_jsp(*shape, rng=1000 + s, name=f"twt{shape[0]}x{shape[1]}-{s}")
            out.append(with_due_dates(inst, 1.3, seed=s))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per arm on the Taillard instances")
    ap.add_argument("--fjsp-time-limit", type=float, default=30.0, help="seconds per arm on mk01-mk10")
    ap.add_argument("--tardiness-time-limit", type=float, default=30.0, help="seconds per arm on the tardiness instances")
    ap.add_argument("--tardiness", type=int, default=5, help="generated instances per shape (15x15, 20x15); 0: none")
    ap.add_argument("--instances", default=None,
                    help="comma-separated benchmark names, or 'taillard' / 'brandimarte' (default: both sets)")
    ap.add_argument("--workers", type=int, default=2, help="CP-SAT threads (best and cpsat)")
    ap.add_argument("--samples", type=int, default=128, help="learned samples per call (best and in_graph)")
    ap.add_argument("--share", type=float, default=0.1, help="best's share of the time for its in-graph part")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each CP-SAT arm (best, cpsat) per instance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="bench/results/portfolio.json")
    ap.add_argument("--plot", action="store_true", help="only draw OUT's figure (OUT with .png): per-instance values by arm")
    a = ap.parse_args()
    if a.plot:
        figure(json.load(open(a.out))).savefig(os.path.splitext(a.out)[0] + ".png")
        print("wrote", os.path.splitext(a.out)[0] + ".png")
        return

    if a.repeats < 1:
        ap.error("--repeats must be >= 1")
    sets = {"taillard": TAILLARD, "brandimarte": BRANDIMARTE, None: TAILLARD + BRANDIMARTE}
    names = sets[a.instances] if a.instances in sets else a.instances.split(",")
    jobs = []  # (set, instance, objective, time limit)
    for name in names:
        inst = load(name)
        fjsp = problem_kind(inst) == "fjsp"
        jobs.append(("brandimarte" if fjsp else "taillard", inst, "makespan", a.fjsp_time_limit if fjsp else a.time_limit))
    jobs += [("tardiness", inst, "weighted_tardiness", a.tardiness_time_limit) for inst in tardiness_instances(a.tardiness)]

    command = " ".join(["python bench/portfolio.py", *sys.argv[1:]])
    settings = {"workers": a.workers, "samples": a.samples, "share": a.share, "seed": a.seed}
    if a.repeats > 1:
        settings["repeats"] = a.repeats
    done = {}
    if os.path.exists(a.out):
        old = json.load(open(a.out))
        if old.get("settings") == settings:
            done = {(r["set"], r["instance"], r["time_limit"]): r for r in old["rows"]}
    rows = []
    for set_name, inst, objective, limit in jobs:
        key = (set_name, inst.name, limit)
        if key in done:
            rows.append(done[key])
            continue
        row = {"set": set_name, "instance": inst.name, "objective": objective, "time_limit": limit}
        t0 = time.perf_counter()
        warm_up(inst, a.samples)
        row["warm_up_seconds"] = round(time.perf_counter() - t0, 2)
        for arm in ARMS:
            row[arm] = repeated_arm(arm, inst, objective, limit, a, 1 if arm == "in_graph" else a.repeats)
        row["load_average"] = round(os.getloadavg()[0], 2)  # 1-minute, after the arms: other load on the machine
        rows.append(row)
        print(f"{inst.name:>14} {objective}: " + "  ".join(f"{arm} {row[arm]['value']}" for arm in ARMS), flush=True)
        write_json_atomic(a.out, {"command": command, "settings": settings, "rows": rows,
                                  "summary": {}})  # fmt: skip
    summary = {s: summarise([r for r in rows if r["set"] == s]) for s in ("taillard", "brandimarte", "tardiness")}
    write_json_atomic(a.out, {"command": command, "settings": settings, "rows": rows, "summary": summary})
    for s, v in summary.items():
        if v:
            print(s, json.dumps(v))


if __name__ == "__main__":
    main()
