"""Training the DAC policy with the shared PPO over MA generations (Mencaroni et al. 2026, sec. 4.2).

Episodes of 100 generations on a training instance drawn from the published training files;
f_ideal per instance is the best of a double-budget static default run. PPO keeps
Stable-Baselines3's defaults (the paper's): 2048 generations per update (8 envs x 256 steps by
default), no value clipping, SB3's value-loss weight, log-std 0. :class:`DACTrainer` is what
:func:`jsched.training.run_training` drives.
"""

from __future__ import annotations

import glob
import os

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dac import env as E
from jsched.dac import ma
from jsched.dac.policy import network, save_policy
from jsched.dac.published import data_dir
from jsched.errors import JSchedError
from jsched.instances.pfsp import PFSPInstance, read_cas
from jsched.seeds import seed_of

TRAIN_SETS = ("M1T1", "M1T3", "M3T1", "M3T3")
MINIBATCH = 64  # SB3's minibatch size


def training_instances(sets=TRAIN_SETS) -> list[PFSPInstance]:
    """The published training/tuning instances of ``sets`` (3 each; never test instances).

    ``("M1T1", "M3T1")`` gives the 6 one-day instances, a generation about 5x cheaper than all 12.
    """
    d = data_dir()
    files = sorted(glob.glob(str(d / "Data" / "Training_instances" / "*.cas"))) if d else []
    files = [f for f in files if os.path.basename(f).split("_")[0].removeprefix("CAS-PFSP-") in sets]
    if not files:
        raise JSchedError(f"CAS-PFSP training instances of {', '.join(sets)} not found; set JSCHED_DATA to the shared data folder")
    return [read_cas(f) for f in files]


def ideal_values(instances, seed: int = 0, n_gen: int = 2 * ma.GENERATIONS, pop_size: int = ma.POP_SIZE) -> np.ndarray:
    """f_ideal: best fitness of one static default run with twice the generation budget."""
    stacked = ma.stack_params(instances)
    keys = jax.random.split(jax.random.key(seed + 10_000), len(instances))[:, None]
    (_, _, fit), _ = ma.run_batch(keys, stacked, ma.make_config(ma.DEFAULT), pop_size, n_gen, ma.LS_STEPS)
    return np.asarray(fit[:, 0])


def ppo_config(total_generations: int, num_envs: int, num_steps: int, log_std_init: float, ent_coef: float):
    """SB3-default PPO (the paper's); ``log_std_init``/``ent_coef`` exist for exploration studies.

    SB3's value loss is ``vf_coef * mse`` unclipped; ``jsched.rl.ppo`` halves the mse, so
    ``vf_coef=1.0`` here is SB3's 0.5.
    """
    from jsched.rl.ppo import PPOConfig

    return PPOConfig(
        action_type="continuous", num_envs=num_envs, num_steps=num_steps,
        total_timesteps=max(total_generations, num_envs * num_steps),
        update_epochs=10, num_minibatches=max(1, num_envs * num_steps // MINIBATCH), lr=3e-4, anneal_lr=False,
        gamma=0.99, gae_lambda=0.95, clip_eps=0.2, clip_vloss=False, ent_coef=ent_coef, vf_coef=1.0,
        max_grad_norm=0.5,
        action_dim=E.ACT_DIM, action_low=-1.0, action_high=1.0, squash="clip", log_std_init=log_std_init,
    )  # fmt: skip


class DACTrainer:
    """PPO on the DAC env; the state is ``{"runner": PPO runner state, "f_ideal": (I,) float32}``.

    Args:
        config: a :class:`jsched.dac.method.TrainConfig`.
        instances: training instances (default: those of ``config.sets``).
    """

    name = "dac"
    extendable = ("generations", "chunk")

    def __init__(self, config, instances: list[PFSPInstance] | None = None):
        self.config = config
        self.instances = training_instances(config.sets_tuple) if instances is None else list(instances)
        self.settings = E.DACSettings(config.episode_generations, config.pop_size, ma.LS_STEPS)
        self.ppo = ppo_config(config.generations, config.envs, config.steps, config.log_std_init, config.ent_coef)
        self.total = self.ppo.num_updates
        self.chunk = config.chunk
        self.seed = 0
        self._stacked = ma.stack_params(self.instances)
        self._built: tuple[np.ndarray, object] | None = None

    def _train(self, f_ideal: np.ndarray):
        """PPO's ``train`` (its ``init``/jitted ``update``) for these f_ideal values."""
        if self._built is None or not np.array_equal(self._built[0], f_ideal):
            from jsched.instances.generators import pool_generator
            from jsched.rl.ppo import make_train

            env_params = E.DACEnvParams(self._stacked, jnp.asarray(f_ideal))
            tr = make_train(self.ppo, E.make_env(self.settings), network(), pool_generator(env_params))
            tr.jit_update = jax.jit(tr.update, static_argnums=1)
            self._built = (np.array(f_ideal), tr)
        return self._built[1]

    def init(self, key):
        self.seed = seed_of(key)
        if self.config.resume:  # f_ideal comes with the checkpoint; only the shapes matter here
            f_ideal = np.zeros(len(self.instances), np.float32)
        else:
            f_ideal = ideal_values(self.instances, self.seed, 2 * self.settings.n_gen, self.settings.pop_size)
            f_ideal = f_ideal.astype(np.float32)
        runner = jax.jit(self._train(f_ideal).init)(jax.random.key_data(key))
        return {"runner": runner, "f_ideal": f_ideal}

    def run_chunk(self, state, n: int):
        f_ideal = np.asarray(state["f_ideal"], np.float32)
        runner, metrics = self._train(f_ideal).jit_update(state["runner"], n)
        return {"runner": runner, "f_ideal": f_ideal}, jax.device_get(metrics)

    def export(self, state, path: str, meta: dict) -> None:
        gens = meta["updates"] * self.ppo.num_envs * self.ppo.num_steps
        meta = {**meta, "seed": self.seed, "generations_trained": gens}
        save_policy(path, state["runner"].train_state.params["net"], meta)
