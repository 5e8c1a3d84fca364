"""``best``: spend a small share of the time limit on the in-graph methods, then CP-SAT from their best.

Phase 1 (``share`` of ``time_limit``): every dispatching rule of the problem in one jitted call
(EDD and ATC too on an instance with job due dates), then learned sampling — SLIM on a JSP,
DANIEL on an FJSP (``samples``; skipped once the share is spent). Phase 2: CP-SAT for the rest of
the time, with the best schedule so far as its complete hint (start times, machines and the
objective's variables). Every part is judged by ``objective`` (the rules' schedules one by one;
the learned policies keep their lowest-makespan sample, which is then scored). ``improvements``
records which part found each better schedule and when; ``improvement_figure`` plots it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from jsched import cpsat
from jsched.errors import JSchedError
from jsched.options import option
from jsched.result import Result
from jsched.schedule import DUE_DATE_OBJECTIVES, OBJECTIVES, require_due_dates
from jsched.seeds import seed_of

_D = cpsat.CPSatOptions()


@dataclass(frozen=True)
class Config:
    time_limit: float = option(60.0, "seconds in all (in-graph methods + CP-SAT)", min=1)
    share: float = option(0.1, "share of the time limit for the in-graph methods", min=0, max=0.9)
    samples: int = option(128, "sampled solutions of the learned policy (SLIM / DANIEL); 0: rules only", min=0)
    workers: int = option(_D.num_workers, "CP-SAT search threads", min=1, max=256)
    objective: str = option("makespan", "what every part minimises (tardiness objectives need job due dates)",
                            choices=cpsat.OBJECTIVES)  # fmt: skip


def solve(instance, config: Config, key) -> Result:
    import jsched
    from jsched.instances import problem_kind
    from jsched.rules.table import evaluate as rule_evaluate
    from jsched.rules.table import rule_columns

    if config.objective in DUE_DATE_OBJECTIVES:
        require_due_dates(instance, f"objective {config.objective}")
    t0 = time.perf_counter()
    kind = problem_kind(instance)
    score = OBJECTIVES[config.objective]
    best, best_value, parts, improvements = None, None, {}, []

    def offer(name, schedule):
        nonlocal best, best_value
        parts[name] = value = score(instance, schedule)
        if best is None or value < best_value:
            best, best_value = schedule, value
            improvements.append({"seconds": round(time.perf_counter() - t0, 3), "objective": value, "by": name})

    columns = rule_columns(kind, due_dates=instance.job_due is not None)
    _, scheds = rule_evaluate([instance], columns, kind)
    values = [score(instance, s) for s in scheds[0]]
    i = min(range(len(values)), key=values.__getitem__)
    offer(f"rule:{columns[i][0]}", scheds[0][i])
    learned = {"jsp": "slim", "fjsp": "daniel"}[kind]
    if config.samples and time.perf_counter() - t0 < config.share * config.time_limit:
        try:
            r = jsched.solve(instance, method=learned, samples=config.samples, seed=seed_of(key))
            offer(learned, r.schedule)
        except JSchedError as e:  # e.g. no model for this size: the rules' start stands
            parts[learned] = f"skipped: {e}"
    in_graph, in_graph_value = time.perf_counter() - t0, best_value
    remaining = max(1.0, config.time_limit - in_graph)
    opts = cpsat.CPSatOptions(time_limit=remaining, num_workers=config.workers, random_seed=seed_of(key))
    res = cpsat.solve(instance, config.objective, hints=best, options=opts)
    for seconds, value in res.curve:
        if value < best_value:
            improvements.append({"seconds": round(in_graph + seconds, 3), "objective": int(value), "by": "cpsat"})
    if score(instance, res.schedule) < best_value:
        best, best_value = res.schedule, score(instance, res.schedule)
    extra = {"status": res.status, "objective_name": config.objective, "objective": best_value, "bound": res.bound,
             "hint_feasible": res.hint_status == "feasible", "in_graph_seconds": round(in_graph, 3),
             "in_graph_objective": in_graph_value, "parts": parts,
             "improvements": improvements, "found_by": improvements[-1]["by"]}  # fmt: skip
    shown = () if config.objective == "makespan" else ("objective_name", "objective")
    return Result(instance, best, extra, summary=shown + ("found_by", "status", "bound"))


def improvement_figure(result: Result):
    """A matplotlib Figure of the objective over time, one marker style per part (pyplot untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    imp = result.extra["improvements"]
    fig = Figure(figsize=(7, 3.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    name = result.extra["objective_name"]
    ax.step([p["seconds"] for p in imp], [p["objective"] for p in imp], where="post", color="0.5", linewidth=1)
    for by in dict.fromkeys(p["by"] for p in imp):
        pts = [p for p in imp if p["by"] == by]
        ax.plot([p["seconds"] for p in pts], [p["objective"] for p in pts], "o", label=by)
    if name == "makespan" and result.best_known is not None:
        ax.axhline(result.best_known, color="k", linestyle=":", linewidth=1, label="best known")
    ax.set_xlabel("seconds")
    ax.set_ylabel(name.replace("_", " "))
    ax.set_title(f"{result.instance.name}: best schedule over time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
