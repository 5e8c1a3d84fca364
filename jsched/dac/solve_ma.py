"""``jsched solve FILE.cas --method ma``: the static memetic algorithm on one CAS-PFSP instance.

Prints emissions (float64, from the numpy model) beside the usual line; the JSON payload gets
``emissions``, ``cost``, ``sequence``, ``start_times`` ((N, M) slots), the parameters, the
convergence curve and the gap to the best published value; ``--plot`` writes the power profile
(load vs on-site generation vs carbon intensity).
"""

from __future__ import annotations

import argparse

from jsched.dac import ma
from jsched.methods import SolveOutput


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", default="default", help="MA parameters: default, tuned or a JSON file")
    add_common(p)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--generations", type=int, default=ma.GENERATIONS, help="MA generations (default 100)")
    p.add_argument("--pop-size", type=int, default=ma.POP_SIZE, help="MA population (default 250)")
    p.add_argument("--plot", help="write the power-profile plot (.png/.svg) here")


def check_common(args) -> None:
    from jsched.errors import JSchedError

    if args.generations < 1 or args.pop_size < 2:
        raise JSchedError("--generations must be >= 1 and --pop-size >= 2")


def output(instance, res: ma.MAResult, args, extra: dict) -> SolveOutput:
    """SolveOutput with the PFSP fields; writes the power plot when asked."""
    from jsched.dac.published import reference_best

    best = reference_best().get(instance.name)
    payload = {
        "emissions": round(res.emissions, 4),
        "cost": None if instance.cost(res.start) is None else round(instance.cost(res.start), 4),
        "best_published_emissions": best,
        "emissions_gap_percent": None if best is None else round(100.0 * (res.emissions / best - 1.0), 4),
        "sequence": res.sequence.tolist(),
        "start_times": res.start.tolist(),
        "horizon": instance.horizon,
        "generations": args.generations,
        "pop_size": args.pop_size,
        "seed": args.seed,
        "curve_best": [round(float(v), 2) for v in res.curve_best],
        **extra,
    }
    if getattr(args, "plot", None):
        from jsched.dac.plots import plot_power_profile

        plot_power_profile(instance, res.start, args.plot)
    summary = ("emissions",) if best is None else ("emissions", "emissions_gap_percent")
    return SolveOutput(res.schedule, payload, summary)


def solve(instance, args) -> SolveOutput:
    check_common(args)
    values = ma.load_params_spec(args.params)
    res = ma.solve_ma(instance, values, seed=args.seed, n_gen=args.generations, pop_size=args.pop_size)
    return output(instance, res, args, {"params": values, "params_name": args.params})
