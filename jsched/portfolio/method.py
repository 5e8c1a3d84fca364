"""``best``: spend a small share of the time limit on the in-graph methods, then CP-SAT from their best.

Phase 1 (``share`` of ``time_limit``): every dispatching rule of the problem in one jitted call,
then learned sampling — SLIM on a JSP, DANIEL on an FJSP (``samples``; skipped once the share is
spent). Phase 2: CP-SAT for the rest of the time, with the best schedule so far as its hint
(start times and machines). ``improvements`` records which part found each better schedule and
when; ``improvement_figure`` plots it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from jsched import cpsat
from jsched.errors import JSchedError
from jsched.options import option
from jsched.result import Result
from jsched.seeds import seed_of

_D = cpsat.CPSatOptions()


@dataclass(frozen=True)
class Config:
    time_limit: float = option(60.0, "seconds in all (in-graph methods + CP-SAT)", min=1)
    share: float = option(0.1, "share of the time limit for the in-graph methods", min=0, max=0.9)
    samples: int = option(128, "sampled solutions of the learned policy (SLIM / DANIEL); 0: rules only", min=0)
    workers: int = option(_D.num_workers, "CP-SAT search threads", min=1, max=256)


def solve(instance, config: Config, key) -> Result:
    import jsched
    from jsched.instances import problem_kind
    from jsched.rules.table import evaluate as rule_evaluate
    from jsched.rules.table import rule_columns

    t0 = time.perf_counter()
    kind = problem_kind(instance)
    best, parts, improvements = None, {}, []

    def offer(name, schedule):
        nonlocal best
        parts[name] = schedule.makespan
        if best is None or schedule.makespan < best.makespan:
            best = schedule
            improvements.append({"seconds": round(time.perf_counter() - t0, 3), "makespan": schedule.makespan, "by": name})

    columns = rule_columns(kind)
    ms, scheds = rule_evaluate([instance], columns, kind)
    i = int(ms[0].argmin())
    offer(f"rule:{columns[i][0]}", scheds[0][i])
    learned = {"jsp": "slim", "fjsp": "daniel"}[kind]
    if config.samples and time.perf_counter() - t0 < config.share * config.time_limit:
        try:
            r = jsched.solve(instance, method=learned, samples=config.samples, seed=seed_of(key))
            offer(learned, r.schedule)
        except JSchedError as e:  # e.g. no model for this size: the rules' start stands
            parts[learned] = f"skipped: {e}"
    in_graph = time.perf_counter() - t0
    remaining = max(1.0, config.time_limit - in_graph)
    opts = cpsat.CPSatOptions(time_limit=remaining, num_workers=config.workers, random_seed=seed_of(key))
    res = cpsat.solve(instance, "makespan", hints=best, options=opts)
    for seconds, value in res.curve:
        if value < best.makespan:
            improvements.append({"seconds": round(in_graph + seconds, 3), "makespan": int(value), "by": "cpsat"})
    if res.schedule.makespan < best.makespan:
        best = res.schedule
    extra = {"status": res.status, "bound": res.bound, "in_graph_seconds": round(in_graph, 3), "parts": parts,
             "improvements": improvements, "found_by": improvements[-1]["by"]}  # fmt: skip
    return Result(instance, best, extra, summary=("found_by", "status", "bound"))


def improvement_figure(result: Result):
    """A matplotlib Figure of makespan over time, one marker style per part (pyplot untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    imp = result.extra["improvements"]
    fig = Figure(figsize=(7, 3.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.step([p["seconds"] for p in imp], [p["makespan"] for p in imp], where="post", color="0.5", linewidth=1)
    for by in dict.fromkeys(p["by"] for p in imp):
        pts = [p for p in imp if p["by"] == by]
        ax.plot([p["seconds"] for p in pts], [p["makespan"] for p in pts], "o", label=by)
    if result.best_known is not None:
        ax.axhline(result.best_known, color="k", linestyle=":", linewidth=1, label="best known")
    ax.set_xlabel("seconds")
    ax.set_ylabel("makespan")
    ax.set_title(f"{result.instance.name}: best schedule over time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
