"""Method ``ma``: the memetic algorithm with static parameters on one CAS-PFSP instance.

Also the options and the result fields it shares with ``ma-dac`` (:mod:`jsched.dac.method`):
float64 emissions, cost, the gap to the best published value, the sequence, start slots and the
convergence curve; ``plot`` writes the power profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from jsched.dac import ma
from jsched.instances.pfsp import PFSPInstance
from jsched.options import option
from jsched.result import Result
from jsched.seeds import seed_of


@dataclass(frozen=True)
class Population:
    """The MA's population size (solving and DAC training)."""

    pop_size: int = option(ma.POP_SIZE, "MA population size", min=2)


@dataclass(frozen=True)
class MAOptions(Population):
    """What ``ma`` and ``ma-dac`` share."""

    generations: int = option(ma.GENERATIONS, "MA generations", min=1)
    plot: str | None = option(None, "write the power-profile plot (.png/.svg) here")


@dataclass(frozen=True)
class Config(MAOptions):
    params: str = option("default", "MA parameters: default, table3 (the paper's tuned), tuned (jsched's MA tuned "
                                    "with the DAC training budget) or a JSON file with the seven values")


def solve(instance: PFSPInstance, config: Config, key) -> Result:
    values = ma.load_params_spec(config.params)
    res = ma.solve_ma(instance, values, key, n_gen=config.generations, pop_size=config.pop_size)
    return result(instance, res, config, key, {"params": values, "params_name": config.params})


def result(instance: PFSPInstance, res: ma.MAResult, config: MAOptions, key, extra: dict) -> Result:
    """The ``Result`` of an MA run with the PFSP fields; writes the power plot when asked."""
    from jsched.dac.published import reference_best

    best = reference_best().get(instance.name)
    cost = instance.cost(res.start)
    fields = {
        "emissions": round(res.emissions, 4),
        "cost": None if cost is None else round(cost, 4),
        "best_published_emissions": best,
        "emissions_gap_percent": None if best is None else round(100.0 * (res.emissions / best - 1.0), 4),
        "sequence": res.sequence.tolist(),
        "start_times": res.start.tolist(),
        "horizon": instance.horizon,
        "generations": config.generations,
        "pop_size": config.pop_size,
        "seed": seed_of(key),
        "curve_best": [round(float(v), 2) for v in res.curve_best],
        **extra,
    }
    if config.plot:
        from jsched.dac.plots import plot_power_profile

        plot_power_profile(instance, res.start, config.plot)
    summary = ("emissions",) if best is None else ("emissions", "emissions_gap_percent")
    return Result(instance, res.schedule, extra=fields, summary=summary)
