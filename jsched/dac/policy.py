"""The DAC policy: its network, its file (kind ``dac-model``) and MA runs it controls greedily."""

from __future__ import annotations

import os
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jsched.checkpoint import load_checkpoint, save_checkpoint
from jsched.dac import env as E
from jsched.dac import ma

KIND = "dac-model"
HIDDEN = (64, 64)
ARCH = {"hidden": list(HIDDEN)}  # the stored config: what rebuilds the network
ASSET_POLICY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets", "dac", "policy.msgpack")


def network():
    """PPO's actor-critic with [64, 64] tanh layers and a 7-dim Gaussian action."""
    from jsched.rl.ppo import ActorCritic

    return ActorCritic(E.ACT_DIM, HIDDEN)


def save_policy(path: str, net_params, meta: dict) -> None:
    """Write the network parameters (``meta``: the training record, e.g. ``generations_trained``)."""
    save_checkpoint(path, KIND, net_params, ARCH, meta)


def load_policy(path: str | None = None):
    """(network params, meta) of a saved policy (default: the shipped one)."""
    template = network().init(jax.random.PRNGKey(0), jnp.zeros((1, E.OBS_DIM)))
    cp = load_checkpoint(path or ASSET_POLICY, KIND, template=template, config=ARCH)
    return cp.tree, cp.meta


def greedy_policy_fn(net_params):
    """obs (5,) -> action (7,): the clipped Gaussian mean (deterministic control)."""
    apply = network().apply

    def fn(obs):
        mean, _ = apply(net_params, obs[None])
        return jnp.clip(mean[0], -1.0, 1.0)

    return fn


@partial(jax.jit, static_argnames=("settings",))
def run_dac_batch(keys, params, net_params, settings: E.DACSettings):
    """DAC-controlled MA runs: ``keys`` (I, R) over ``params`` stacked over I instances.

    Returns the best (job keys, pause keys, fitness) per (instance, run), the best-so-far
    curves (I, R, n_gen + 1) and the chosen actions (I, R, n_gen, 7).
    """
    policy = greedy_policy_fn(net_params)

    def one(key, p):
        pop, curve, actions = E.run_policy(key, p, policy, settings)
        i = pop.fitness.argmin()
        return (pop.job_keys[i], pop.pause_keys[i], pop.fitness[i]), curve, actions

    return jax.vmap(jax.vmap(one, in_axes=(0, None)), in_axes=(0, 0))(keys, params)


def solve_dac(inst, net_params, key, n_gen=ma.GENERATIONS, pop_size=ma.POP_SIZE, ls_steps=ma.LS_STEPS):
    """One DAC-controlled run: (``ma.MAResult``, the (n_gen, 7) parameter values chosen)."""
    p = ma.pfsp_params(inst)
    keys = jax.random.split(key, 1)[None]
    settings = E.DACSettings(n_gen, pop_size, ls_steps)
    (jk, pk, _), curve, actions = run_dac_batch(keys, jax.tree.map(lambda x: x[None], p), net_params, settings)
    res = ma.finish(inst, p, jk[0, 0], pk[0, 0], curve[0, 0])
    return res, np.asarray(E.action_to_values(actions[0, 0]))
