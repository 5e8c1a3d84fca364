"""``cpsat``: the full problem solved by CP-SAT (:func:`jsched.cpsat.solve`).

Extra JSON fields: ``status`` (OPTIMAL/FEASIBLE), ``objective_name``, ``objective`` (its value)
and ``bound`` (CP-SAT's proven lower bound on it).
"""

from __future__ import annotations

from dataclasses import dataclass

from jsched import cpsat
from jsched.options import option
from jsched.result import Result
from jsched.seeds import seed_of

_D = cpsat.CPSatOptions()


@dataclass(frozen=True)
class Config:
    time_limit: float = option(_D.time_limit, "seconds", min=0)
    workers: int = option(_D.num_workers, "CP-SAT search threads", min=1, max=256)
    objective: str = option("makespan", "what CP-SAT minimises", choices=cpsat.OBJECTIVES)
    stop_after: float | None = option(None, "stop after this many seconds without a better solution", min=0)
    log: bool = option(False, "print CP-SAT's search log")


def solve(instance, config: Config, key) -> Result:
    opts = cpsat.CPSatOptions(time_limit=config.time_limit, num_workers=config.workers, random_seed=seed_of(key),
                              stop_after=config.stop_after, log=config.log)  # fmt: skip
    res = cpsat.solve(instance, config.objective, options=opts)
    extra = {"status": res.status, "objective_name": config.objective, "objective": res.objective, "bound": res.bound}
    return Result(instance, res.schedule, extra, summary=("status", "bound"))
