"""``cpsat``: the full problem solved by CP-SAT (:func:`jsched.cpsat.solve`).

Extra JSON fields: ``status`` (OPTIMAL/FEASIBLE), ``objective_name``, ``objective`` (its value)
and ``bound`` (CP-SAT's proven lower bound on it). ``hint``: any method's schedule JSON, checked
by the validator and given to CP-SAT as a complete warm start (start times, machines and the
objective's variables); ``hint_makespan`` and ``hint_objective`` are its values, ``hint_feasible``
is CP-SAT's verdict (a feasible complete hint is its first solution: ``first_objective`` equals
``hint_objective``). The tardiness objectives need an instance with job due dates.
Without one, an instance of at least ``RULE_HINT_OPS`` operations starts from the MWKR rule's
schedule, so a short limit on a large instance still returns a valid schedule (status ``HINT``
when CP-SAT found nothing better in time).
"""

from __future__ import annotations

from dataclasses import dataclass

from jsched import cpsat
from jsched.errors import JSchedError, SolverError
from jsched.instances.model import as_fjsp
from jsched.options import option
from jsched.result import Result
from jsched.schedule import DUE_DATE_OBJECTIVES, OBJECTIVES, Schedule, require_due_dates, validate
from jsched.seeds import seed_of

_D = cpsat.CPSatOptions()
RULE_HINT_OPS = 1000  # below this CP-SAT finds a first solution in well under a second


@dataclass(frozen=True)
class Config:
    time_limit: float = option(_D.time_limit, "seconds", min=0)
    workers: int = option(_D.num_workers, "CP-SAT search threads", min=1, max=256)
    objective: str = option("makespan", "what CP-SAT minimises", choices=cpsat.OBJECTIVES)
    stop_after: float | None = option(None, "stop after this many seconds without a better solution", min=0)
    log: bool = option(False, "print CP-SAT's search log")
    hint: str | None = option(None, "a schedule JSON (from any method's --out) to start the search from")


def solve(instance, config: Config, key) -> Result:
    opts = cpsat.CPSatOptions(time_limit=config.time_limit, num_workers=config.workers, random_seed=seed_of(key),
                              stop_after=config.stop_after, log=config.log)  # fmt: skip
    hint = None if config.hint is None else read_hint(instance, config.hint)
    if config.objective in DUE_DATE_OBJECTIVES:
        require_due_dates(instance, f"objective {config.objective}")
    if hint is None and as_fjsp(instance).n_ops >= RULE_HINT_OPS:
        hint = rule_hint(instance, key)
    try:
        res = cpsat.solve(instance, config.objective, hints=hint, options=opts)
    except SolverError as e:
        if hint is None or "no solution found" not in str(e):
            raise
        value = OBJECTIVES[config.objective](instance, hint)
        extra = {"status": "HINT", "objective_name": config.objective, "objective": value, "bound": None,
                 "hint_makespan": hint.makespan, "hint_objective": value}  # fmt: skip
        return Result(instance, hint, extra, summary=("status", "hint_makespan"))
    extra = {"status": res.status, "objective_name": config.objective, "objective": res.objective, "bound": res.bound}
    summary = ("status", "bound") if config.objective == "makespan" else ("objective_name", "objective", "status", "bound")
    if hint is not None:
        extra.update(hint_makespan=hint.makespan, hint_objective=OBJECTIVES[config.objective](instance, hint),
                     hint_feasible=res.hint_status == "feasible", first_objective=res.curve[0][1] if res.curve else None)  # fmt: skip
        summary += ("hint_makespan", "hint_feasible")
    return Result(instance, res.schedule, extra, summary=summary)


def rule_hint(instance, key) -> Schedule:
    """The MWKR rule's schedule (one jitted rollout): a warm start for large instances."""
    from jsched.rules import method as rules

    return rules.solve(instance, rules.Config(rule="mwkr"), key).schedule


def read_hint(instance, path: str) -> Schedule:
    """The schedule in a schedule file (jsched's, or job-shop-lib's), validated against ``instance``
    (one-line errors)."""
    from jsched.schedule import read_schedule

    try:
        _, schedule, _ = read_schedule(path)
    except JSchedError as e:
        raise JSchedError(f"cannot read the hint: {e}") from None
    try:
        return validate(instance, schedule)
    except JSchedError as e:
        raise JSchedError(f"{path}: the hint is not a valid schedule of {instance.name}: {e}") from None
