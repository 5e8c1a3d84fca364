"""``jsched train hh``: PPO over the 7 rules with commitment, for one instance size.

:mod:`jsched.rl.ppo` runs in jitted chunks of updates under :func:`jsched.training.run_training`;
the exported model is the agent file that ``solve`` loads with ``checkpoint=``. Two protocols:
``"instances"`` trains on the 10 Taillard instances of the size, the ones it is evaluated on
(the HH paper's PetriRL practice); ``"generated"`` on fresh Taillard-style random instances of the
size, so the benchmark is never seen (generalisation). The agent file records its protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from jsched.errors import JSchedError
from jsched.hh.agent import PROTOCOLS, make_network, save_policy
from jsched.hh.env import RULES, HHEnvConfig, generator, make_env
from jsched.options import option
from jsched.rl import ppo
from jsched.training import RunConfig, run_training


@dataclass(frozen=True)
class TrainConfig(RunConfig):
    size: str = option("15x15", "JxM of the training instances")
    steps: int = option(200_000, "agent decisions to train for (rounded to whole chunks)", min=1)
    commitment: int = option(HHEnvConfig.commitment, "allocations per rule choice (>= J*M: one rule per episode)", min=1)
    protocol: str = option("generated", "train on random instances of the size, or on its 10 Taillard instances",
                           choices=PROTOCOLS)  # fmt: skip
    reference: str = option(HHEnvConfig.reference, "reward normaliser: -makespan / C_ref at the end of an episode",
                            choices=("lb", "best", *RULES))  # fmt: skip
    rule_features: bool = option(HHEnvConfig.rule_features, "observe what each rule would allocate (beside the marking)")
    hidden: str = option("64,64", "hidden layer widths of the actor and the critic")
    num_envs: int = option(32, "parallel environments", min=1)
    num_steps: int = option(ppo.PPOConfig.num_steps, "decisions per environment per update", min=1)
    update_epochs: int = option(ppo.PPOConfig.update_epochs, "PPO epochs per update", min=1)
    num_minibatches: int = option(ppo.PPOConfig.num_minibatches, "minibatches per epoch", min=1)
    lr: float = option(ppo.PPOConfig.lr, "Adam learning rate (annealed to 0)", min=0)
    ent_coef: float = option(ppo.PPOConfig.ent_coef, "entropy bonus", min=0)
    gamma: float = option(1.0, "discount", min=0, max=1)
    gae_lambda: float = option(ppo.PPOConfig.gae_lambda, "GAE lambda", min=0, max=1)
    chunk: int = option(10, "updates per chunk (one jitted call and one checkpoint each)", min=1)

    def __post_init__(self):
        parse_size(self.size)
        parse_hidden(self.hidden)
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise JSchedError("num_envs * num_steps must be divisible by num_minibatches")
        if self.protocol == "instances":
            from jsched.hh.instances import taillard_names

            if not taillard_names(*self.shape):
                raise JSchedError(f"no Taillard instances of size {self.size}")

    @property
    def shape(self) -> tuple[int, int]:
        return parse_size(self.size)

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return parse_hidden(self.hidden)

    def env_config(self) -> HHEnvConfig:
        j, m = self.shape
        return HHEnvConfig(j, m, self.commitment, reference=self.reference, rule_features=self.rule_features)

    def ppo_config(self) -> ppo.PPOConfig:
        per_chunk = self.num_envs * self.num_steps * self.chunk
        return ppo.PPOConfig(
            num_envs=self.num_envs,
            num_steps=self.num_steps,
            # Whole chunks only: a shorter last chunk would compile the update scan a second time.
            total_timesteps=max(1, round(self.steps / per_chunk)) * per_chunk,
            update_epochs=self.update_epochs,
            num_minibatches=self.num_minibatches,
            lr=self.lr,
            ent_coef=self.ent_coef,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
        )


class Trainer:
    """PPO on the HH env; the training state is :class:`jsched.rl.ppo.RunnerState`."""

    name = "hh"
    extendable = ("steps",)

    def __init__(self, config: TrainConfig):
        self.config = config
        self.env_cfg = config.env_config()
        pcfg = config.ppo_config()
        self.per_update = pcfg.num_envs * pcfg.num_steps
        self.total, self.chunk = pcfg.num_updates, config.chunk
        gen = generator(self.env_cfg, instance_pool(config))
        train = ppo.make_train(pcfg, make_env(self.env_cfg), make_network(config.hidden_sizes), gen)
        self._init = jax.jit(train.init)
        self._update = jax.jit(train.update, static_argnums=1)

    def init(self, key):
        if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.key_data(key)  # a raw key: the state is saved as plain arrays
        return self._init(key)

    def run_chunk(self, state, n):
        state, m = self._update(state, n)
        m = jax.device_get(m)
        done = int(state.update)
        out = {k: m[k] for k in ("episode_return", "entropy", "value_loss", "approx_kl")}
        out["decisions"] = (np.arange(done - n, done) + 1) * self.per_update
        return state, out

    def export(self, state, path, meta):
        meta = {**meta, "decisions": meta["updates"] * self.per_update, "protocol": self.config.protocol}
        save_policy(path, self.env_cfg, self.config.hidden_sizes, state.train_state.params["net"], meta)


def parse_size(size: str) -> tuple[int, int]:
    """``"15x15"`` -> (15, 15)."""
    try:
        j, m = (int(x) for x in size.lower().split("x"))
    except ValueError:
        raise JSchedError(f"size must look like 15x15, got {size!r}") from None
    if j < 1 or m < 1:
        raise JSchedError(f"size must be positive, got {size!r}")
    return j, m


def parse_hidden(hidden: str) -> tuple[int, ...]:
    """``"64,64"`` -> (64, 64)."""
    try:
        sizes = tuple(int(h) for h in hidden.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise JSchedError(f"hidden must be positive widths such as 64,64, got {hidden!r}")
    return sizes


def instance_pool(config: TrainConfig):
    """Stacked training instances (None: a fresh random instance at every reset)."""
    if config.protocol == "generated":
        return None
    from jsched.hh.instances import taillard, taillard_names
    from jsched.instances.arrays import stack_jsp_params

    return stack_jsp_params([taillard(n) for n in taillard_names(*config.shape)])


def train(config: TrainConfig, key) -> dict:
    """Train (or resume) an HH agent; returns the run's summary (see ``run_training``)."""
    return run_training(Trainer(config), config, key)
