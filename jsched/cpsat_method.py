"""``jsched solve --method cpsat``: the full problem solved by CP-SAT (``jsched.cpsat``).

Options: ``--objective`` (makespan, start_delay, start_end_delay), ``--stop-after`` (early
stop without improvement) and ``--cpsat-log``; the shared ``--time-limit``, ``--seed`` and
``--workers`` go to the solver. JSON gets ``status`` (OPTIMAL/FEASIBLE), ``objective``
(the chosen objective's value) and ``bound`` (CP-SAT's proven lower bound on it).
"""

from __future__ import annotations

import argparse

from jsched import cpsat
from jsched.methods import SolveOutput


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--objective", choices=cpsat.OBJECTIVES, default="makespan", help="CP-SAT objective")
    parser.add_argument(
        "--stop-after", type=float, default=None, help="stop when no better solution for this many seconds"
    )
    parser.add_argument("--cpsat-log", action="store_true", help="print CP-SAT's search log")


def solve(instance, args: argparse.Namespace) -> SolveOutput:
    opts = cpsat.CPSatOptions(
        time_limit=getattr(args, "time_limit", 10.0),
        num_workers=getattr(args, "workers", 2),
        random_seed=getattr(args, "seed", 0),
        stop_after=getattr(args, "stop_after", None),
        log=getattr(args, "cpsat_log", False),
    )
    objective = getattr(args, "objective", "makespan")
    res = cpsat.solve(instance, objective, options=opts)
    extra = {"status": res.status, "objective_name": objective, "objective": res.objective, "bound": res.bound}
    return SolveOutput(res.schedule, extra, summary=("status", "bound"))
