"""RHO and L-RHO as methods (registry ``rho`` and ``lrho`` = ``rho`` with ``variant="lrho"``).

``solve`` runs the rolling-horizon CP-SAT loop (:mod:`jsched.rho.loop`) on an FJSP; ``lrho``
loads the fixing network (:mod:`jsched.rho.net`) and ``train`` trains it on oracle datasets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from jsched.errors import JSchedError
from jsched.options import option
from jsched.result import Result
from jsched.rho.train import TrainConfig, train

__all__ = ["Config", "solve", "TrainConfig", "train", "VARIANTS", "OBJECTIVES", "shipped_model"]

VARIANTS = ("default", "warm", "first", "random", "oracle", "lrho")
OBJECTIVES = ("makespan", "start_delay", "start_end_delay")  # = jsched.cpsat.OBJECTIVES but the due-date ones, without importing ortools (tested)
BREAKDOWN_LEVELS = ("low", "mid", "high")
ORACLE_PICKS = ("overlap", "objective", "min-change", "consensus", "majority")
ASSETS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets")


@dataclass(frozen=True)
class Config:
    """Options of ``rho`` / ``lrho`` (the paper's makespan setting by default)."""

    variant: str = option("default", "which overlapping operations keep their machine: none (default), hinted (warm), "
                          "a first / random p fraction, the oracle's, the model's (lrho)", choices=VARIANTS)  # fmt: skip
    H: int = option(80, "window size (operations)", min=1)
    S: int = option(30, "operations executed per window", min=1)
    T: float = option(60.0, "CP-SAT time limit per window (s)", min=0)
    stop_after: float = option(3.0, "stop a window solve after this many seconds without improvement (0: off)", min=0)
    objective: str = option("makespan", "objective (jsched rho SETTING:SEED: the setting's)", choices=OBJECTIVES)
    p: float = option(0.5, "fraction of overlapping operations fixed by first / random", min=0, max=1)
    oracle_k: int = option(3, "oracle re-solves per window", min=1)
    oracle_pick: str = option("overlap", "oracle trial kept: most operations kept, best objective, best objective "
                              "re-solved to keep the most (min-change, makespan), or keep only what every trial "
                              "kept (consensus) / most trials kept (majority)", choices=ORACLE_PICKS)  # fmt: skip
    checkpoint: str | None = option(None, "L-RHO model (lrho; default: the shipped one for the objective, under "
                                    "breakdowns its breakdown model)")  # fmt: skip
    pack: bool = option(False, "makespan windows: after the paper's window Cmax, minimise the sum of ends at that Cmax "
                        "(validation mk-400: default RHO 11.6% better makespans in 1.7x the time)")  # fmt: skip
    noise_prob: float = option(0.0, "probability that a later window operation's durations are observed noisily",
                               min=0, max=1)  # fmt: skip
    breakdowns: str | None = option(None, "machine breakdowns at this level (seeded; repair time unknown to the planner)",
                                    choices=BREAKDOWN_LEVELS)  # fmt: skip
    breakdown_machines: str = option("count", "machines down per event: floor(q*M) (count) or each with probability q (iid)",
                                     choices=("count", "iid"))  # fmt: skip
    workers: int = option(2, "CP-SAT threads", min=1)
    deterministic: bool = option(False, "reproducible window solves with any workers (CP-SAT's interleaved search; "
                                 "slower: 3x on mk-400 windows with 2 workers)")  # fmt: skip

    def __post_init__(self):
        if self.S > self.H:
            raise JSchedError(f"need S <= H, got S={self.S}, H={self.H}")
        if self.oracle_pick == "min-change" and (self.objective != "makespan" or self.pack):
            raise JSchedError("oracle_pick min-change applies to the makespan objective without pack")
        if self.checkpoint is not None and self.variant != "lrho":
            raise JSchedError(f"checkpoint is the L-RHO model; variant {self.variant!r} uses none (use variant lrho)")


SHIPPED_MODELS = {"makespan": "lrho-mk-400", "start_delay": "lrho-dl-400", "start_end_delay": "lrho-dl-400-se"}
BREAKDOWN_MODELS = {"makespan": "lrho-mk-400-bd"}  # trained under breakdowns, with the breakdown features


def shipped_model(objective: str, breakdowns: str | None = None) -> str:
    """The shipped L-RHO model for ``objective``: each trained on oracle labels of that objective
    (the delay objectives' models load for either, as a ``checkpoint``); under breakdowns the
    objective's breakdown model where one ships."""
    name = BREAKDOWN_MODELS.get(objective) if breakdowns else None
    return os.path.join(ASSETS, (name or SHIPPED_MODELS[objective]) + ".msgpack")


def solve(instance, config: Config, key) -> Result:
    """Run the RHO loop with ``config``; the key's seed drives ordering ties, random fixing,
    CP-SAT seeds and the breakdown events."""
    import dataclasses

    from tqdm import tqdm

    from jsched.rho.loop import RHOConfig, run_rho
    from jsched.seeds import seed_of

    seed = seed_of(key)
    cfg = RHOConfig(**dataclasses.asdict(config), seed=seed)
    predictor = None
    if cfg.variant == "lrho":
        from jsched.rho.net import Predictor

        predictor = Predictor(config.checkpoint or shipped_model(cfg.objective, cfg.breakdowns), cfg.H, cfg.objective)
    bd = _breakdowns(instance, config, seed)
    with tqdm(total=instance.n_ops, desc=f"rho-{cfg.variant}", unit="op", leave=False, disable=None) as bar:
        res = run_rho(instance, cfg, predictor=predictor, breakdowns=bd, progress=lambda k, n: bar.update(k - bar.n))
    extra = {
        "variant": cfg.variant,
        "objective_name": cfg.objective,
        "objective": res.objective,
        "solve_time": round(res.solve_time, 4),
        "windows": res.n_windows,
        "overlap_ops": res.n_overlap,
        "fixed_ops": res.n_fixed,
        "breakdown_events": len(res.events),
        "interrupted_ops": res.n_interrupted,
        # Down windows: an outside checker needs them to verify that no op runs on a down machine.
        "breakdowns": [{"machine": m, "start": lo, "end": hi} for m, lo, hi in bd if lo < res.schedule.makespan],
        "H": cfg.H,
        "S": cfg.S,
        "T": cfg.T,
        "window_of_op": res.window.tolist(),  # per operation in (job, op) order: the window that executed it
    }
    summary = ("variant", "solve_time", "windows", "fixed_ops", "overlap_ops")
    if cfg.objective != "makespan":
        summary = ("objective_name", "objective") + summary
    if instance.n_ops <= cfg.H:  # say so: a window as long as the instance is one full CP-SAT solve
        extra["reduced_to"] = "one_full_cpsat_solve"
        summary += ("reduced_to",)
    return Result(instance, res.schedule, extra=extra, summary=summary)


def _breakdowns(instance, config: Config, seed: int) -> list[tuple[int, int, int]]:
    """The run's breakdown intervals (none without ``config.breakdowns``)."""
    if config.breakdowns is None:
        return []
    from jsched.instances.model import as_fjsp
    from jsched.rho.generators import instance_breakdowns

    return instance_breakdowns(as_fjsp(instance), config.breakdowns, seed, config.breakdown_machines)
