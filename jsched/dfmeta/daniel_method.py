"""Method ``daniel``: the PPO-trained DANIEL policy on an FJSP, greedy or best of N samples; and
its PPO training (DANIEL's recipe on SD1/SD2 instances, through ``jsched.training``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jsched.checkpoint import load_checkpoint, save_checkpoint
from jsched.dfmeta import daniel
from jsched.errors import JSchedError
from jsched.options import option
from jsched.result import Result
from jsched.training import RunConfig, run_training

MODEL = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets", "daniel", "daniel_sd2_10x5.msgpack")
KIND = "daniel-model"
MODEL_CONFIG = {"model": "daniel", "heads": 4, "head_dims": [32, 8]}


@dataclass(frozen=True)
class Config:
    samples: int = option(0, "sampled episodes, best kept (0: one greedy episode)", min=0)
    checkpoint: str | None = option(None, "DANIEL model file (default: the shipped SD2 10x5 policy)")


def solve(instance, config: Config, key) -> Result:
    from jsched.rollout import best_schedules, rollout

    params = load_model(config.checkpoint)
    mode, n = ("greedy", 1) if config.samples == 0 else ("sample", config.samples)
    res = rollout(daniel.policy, params, daniel.ENV, [instance], key, mode, n)
    return Result(instance, best_schedules([instance], res)[0], extra={"samples": config.samples}, summary=("samples",))


def load_model(path: str | None = None):
    """DANIEL network variables from a ``daniel-model`` file (default: the shipped one)."""
    cp = load_checkpoint(path or MODEL, KIND, template=daniel.init_params(jax.random.key(0)), config=MODEL_CONFIG)
    return jax.tree.map(jnp.asarray, cp.tree)


def save_model(path: str, params: Any, meta: dict | None = None) -> None:
    save_checkpoint(path, KIND, params, MODEL_CONFIG, meta)


# ---------------------------------------------------------------------------------------------
# Training: PPO (jsched.rl.ppo) with DANIEL's hyper-parameters


@dataclass(frozen=True)
class TrainConfig(RunConfig):
    """DANIEL's recipe: Adam 3e-4, one full episode per env and update, 4 epochs of one
    minibatch, clip 0.2, value 0.5, entropy 0.01, gamma 1, GAE lambda 0.98, greedy validation on
    DANIEL's validation set (seed 100) keeping the best parameters. Differences: episodes draw
    from a pool of pre-generated instances (not a fresh batch every 20 updates), advantages are
    normalised per minibatch and the learning rate anneals linearly."""

    data: str = option("sd2", "instance generator (DANIEL's SD1 or SD2)", choices=("sd1", "sd2"))
    jobs: int = option(10, "jobs per training instance", min=1)
    machines: int = option(5, "machines per training instance", min=1)
    updates: int = option(1000, "PPO updates", min=1)
    envs: int = option(20, "episodes per update", min=1)
    pool: int = option(1000, "pre-generated training instances (seed 300 + seed)", min=1)
    lr: float = option(3e-4, "Adam learning rate (annealed linearly)", min=0)
    val_every: int = option(10, "updates between greedy validations (one chunk)", min=1)
    n_val: int = option(100, "validation instances", min=1)


def train(config: TrainConfig, key) -> dict:
    """PPO-train DANIEL; the run folder's ``model.msgpack`` is the best validated policy."""
    return run_training(_Trainer(config, key), config, key)


def make_instances(data: str, count: int, n_jobs: int, n_machines: int, seed: int):
    """DANIEL-style instances: SD2 (numpy legacy stream) or SD1 (python ``random`` stream)."""
    from jsched.instances.generators import sd1_fjsp_set, sd2_fjsp_set

    if data == "sd2":
        return sd2_fjsp_set(count, n_jobs, n_machines, seed=seed)
    if data == "sd1":
        return sd1_fjsp_set(count, n_jobs, n_machines, seed=seed)
    raise JSchedError(f"data {data!r}: choose sd1 or sd2")


def greedy_makespans(params, stacked) -> jax.Array:
    """(I,) greedy makespans of the DANIEL policy on stacked padded instances."""
    return _greedy(params, stacked)


@jax.jit
def _greedy(params, stacked):
    from jsched.rollout import rollout_fn

    res = rollout_fn(daniel.policy, daniel.ENV, "greedy", 1)(params, stacked, jax.random.key(0))
    return res.makespan[:, 0]


class PolicyTrainState(NamedTuple):
    runner: Any  # jsched.rl.ppo.RunnerState
    best: Any  # network variables of the best validation so far
    best_val: jax.Array  # () float32, its mean greedy validation makespan
    best_update: jax.Array  # () int32, its update (0: none yet)


class _Trainer:
    name = "daniel"
    extendable = ("updates",)

    def __init__(self, cfg: TrainConfig, key):
        from jsched.dfmeta import fjsp_env
        from jsched.instances.arrays import stack_fjsp_params
        from jsched.instances.generators import pool_generator
        from jsched.rl.ppo import PPOConfig, make_train
        from jsched.seeds import seed_of

        seed = seed_of(key)
        pool = stack_fjsp_params(make_instances(cfg.data, cfg.pool, cfg.jobs, cfg.machines, seed=300 + seed))
        self.val = stack_fjsp_params(make_instances(cfg.data, cfg.n_val, cfg.jobs, cfg.machines, seed=100))
        j, o, m = (int(s) for s in pool.durations.shape[1:])
        ppo = PPOConfig(
            num_envs=cfg.envs, num_steps=j * o, total_timesteps=cfg.updates * cfg.envs * j * o, update_epochs=4,
            num_minibatches=1, lr=cfg.lr, gamma=1.0, gae_lambda=0.98, clip_eps=0.2, ent_coef=0.01, vf_coef=0.5,
        )  # fmt: skip
        self.ppo = make_train(ppo, fjsp_env.ENV, daniel.DanielPPONet(j, o, m), pool_generator(pool))
        self.update = jax.jit(self.ppo.update, static_argnums=1)
        self.total, self.chunk = cfg.updates, cfg.val_every

    def init(self, key) -> PolicyTrainState:
        runner = jax.jit(self.ppo.init)(jax.random.key_data(key))
        best = _policy_params(runner)
        return PolicyTrainState(runner, best, jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def run_chunk(self, state: PolicyTrainState, n: int):
        runner, metrics = self.update(state.runner, n)
        params = _policy_params(runner)
        val = float(greedy_makespans(params, self.val).mean())
        if int(state.best_update) == 0 or val < float(state.best_val):
            state = state._replace(best=params, best_val=jnp.float32(val), best_update=runner.update)
        state = state._replace(runner=runner)
        val_row = np.full(n, np.nan)
        val_row[-1] = val
        return state, {**metrics, "val_makespan": val_row, "best_val": float(state.best_val)}

    def export(self, state: PolicyTrainState, path: str, meta: dict) -> None:
        save_model(path, state.best, {**meta, "val_makespan": float(state.best_val), "update": int(state.best_update)})


def _policy_params(runner):
    """The DANIEL variables ``policy`` takes, out of the PPO net (:class:`daniel.DanielPPONet`)."""
    return {"params": runner.train_state.params["net"]["params"]["net"]}
