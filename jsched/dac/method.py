"""Method ``ma-dac``: the memetic algorithm with its parameters set every generation by a DAC policy.

Solving runs the policy greedily (the clipped Gaussian mean), by default the shipped one;
training is PPO over MA generations (:mod:`jsched.dac.train`) under the one training driver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jsched.dac import ma
from jsched.dac.ma_method import MAOptions, Population, result
from jsched.dac.train import MINIBATCH, TRAIN_SETS, DACTrainer
from jsched.errors import JSchedError
from jsched.instances.pfsp import PFSPInstance
from jsched.options import option
from jsched.result import Result
from jsched.training import RunConfig, run_training


@dataclass(frozen=True)
class Config(MAOptions):
    checkpoint: str | None = option(None, "DAC policy file (default: the shipped policy)")


def solve(instance: PFSPInstance, config: Config, key) -> Result:
    from jsched.dac.policy import load_policy, solve_dac

    net_params, meta = load_policy(config.checkpoint)
    res, per_gen = solve_dac(instance, net_params, key, config.generations, config.pop_size)
    extra = {
        "policy": config.checkpoint or "shipped",
        "policy_generations_trained": meta.get("generations_trained"),
        "params_per_generation": {k: np.round(per_gen[:, i], 4).tolist() for i, k in enumerate(ma.K.PARAM_NAMES)},
    }
    return result(instance, res, config, key, extra)


@dataclass(frozen=True)
class TrainConfig(Population, RunConfig):
    generations: int = option(200_000, "PPO budget in MA generations (paper: 4,000,000)", min=1)
    envs: int = option(8, "parallel MA episodes", min=1)
    steps: int = option(256, "generations per env per PPO update (envs x steps = SB3's 2048)", min=1)
    episode_generations: int = option(ma.GENERATIONS, "MA generations per episode", min=1)
    sets: str = option(",".join(TRAIN_SETS), "training sets, comma-separated (paper: all four)")
    log_std_init: float = option(0.0, "initial log-std of PPO's Gaussian actions (SB3/paper: 0, std 1 on [-1, 1])")
    ent_coef: float = option(0.0, "PPO entropy bonus (SB3/paper: 0)", min=0.0)
    chunk: int = option(1, "PPO updates per checkpoint", min=1)

    def __post_init__(self):
        batch = self.envs * self.steps
        if self.generations < batch:
            raise JSchedError(f"generations must be at least envs * steps = {batch}")
        if batch > MINIBATCH and batch % MINIBATCH:
            raise JSchedError(f"envs * steps must be a multiple of the minibatch size {MINIBATCH}")
        if not self.sets_tuple or set(self.sets_tuple) - set(TRAIN_SETS):
            raise JSchedError(f"sets: choose from {', '.join(TRAIN_SETS)}, got {self.sets!r}")

    @property
    def sets_tuple(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.sets.split(",") if s.strip())


def train(config: TrainConfig, key) -> dict:
    """Train a DAC policy: ``model.msgpack`` in the run folder is a ``checkpoint`` for solve."""
    return run_training(DACTrainer(config), config, key)
