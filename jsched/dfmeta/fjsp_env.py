"""The FJSP dispatch kernel as a PPO environment for the DANIEL policy.

A ``jsched.kernels.env.Env`` over one padded ``FJSPParams`` per episode (draw them with
``jsched.instances.generators.pool_generator``, which plays the part of DANIEL's periodic
instance refresh without host round trips). Observations are
:func:`jsched.dfmeta.daniel.flatten_obs` vectors; the action mask is the non-delay candidate set.

Reward (DANIEL): the decrease of the completion lower bound, LB_t - LB_{t+1}, in units of the
instance's largest processing time, so an episode's return is (LB_0 - makespan) / max pt.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.dfmeta import daniel
from jsched.kernels import fjsp
from jsched.kernels.env import Env


class EnvState(NamedTuple):
    state: fjsp.FJSPState
    lb: jax.Array  # () float32, current completion lower bound (scaled)


def _lb(params: fjsp.FJSPParams, state: fjsp.FJSPState) -> jax.Array:
    scale = jnp.maximum(params.durations.max(), 1).astype(jnp.float32)
    return fjsp.op_features(params, state).completion_lb.max() / scale


def reset(key: jax.Array, params: fjsp.FJSPParams) -> EnvState:
    state = fjsp.reset(params)
    return EnvState(state, _lb(params, state))


def step(key: jax.Array, params: fjsp.FJSPParams, env_state: EnvState, action: jax.Array):
    state, _, done = fjsp.step(params, env_state.state, action)
    new = EnvState(state, _lb(params, state))
    return new, env_state.lb - new.lb, done


def observe(params: fjsp.FJSPParams, env_state: EnvState) -> jax.Array:
    return daniel.flatten_obs(daniel.observe(params, env_state.state))


def action_mask(params: fjsp.FJSPParams, env_state: EnvState) -> jax.Array:
    """(J*M,) bool, the non-delay candidate pairs."""
    return fjsp.candidates(params, env_state.state, "nondelay").reshape(-1)


def makespan(env_state: EnvState) -> jax.Array:
    return fjsp.makespan(env_state.state)


ENV = Env("fjsp-daniel", reset, step, observe, action_mask, makespan)
