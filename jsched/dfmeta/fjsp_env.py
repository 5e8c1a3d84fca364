"""The FJSP dispatch kernel as a PPO environment for the DANIEL policy.

``jsched.kernels.fjsp`` is wrapped in the functional interface of ``jsched.rl.ppo`` (reset/step/
action_mask with a key and env params). The env params are a *pool* of padded training
instances (stacked ``FJSPParams``); every reset draws one uniformly with its key, which plays
the part of DANIEL's periodic instance refresh (a new batch every 20 updates) without host
round trips. Observations are :func:`jsched.dfmeta.daniel.flatten_obs` vectors; the action
mask is the non-delay candidate set.

Reward (DANIEL, notes section 1): the decrease of the completion lower bound,
LB_t - LB_{t+1}, in units of the instance's largest processing time, so an episode's return
is (LB_0 - makespan) / max pt.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.dfmeta import daniel
from jsched.rl.ppo import Env
from jsched.kernels import fjsp


class EnvState(NamedTuple):
    inst: fjsp.FJSPParams  # the episode's instance
    state: fjsp.FJSPState
    cand: jax.Array  # (J*M,) bool, candidate pairs of the current state
    lb: jax.Array  # () float32, current completion lower bound (scaled)


def _lb(inst: fjsp.FJSPParams, state: fjsp.FJSPState) -> jax.Array:
    scale = jnp.maximum(inst.durations.max(), 1).astype(jnp.float32)
    return fjsp.op_features(inst, state).completion_lb.max() / scale


def _observe(inst, state):
    obs = daniel.observe(inst, state)
    return daniel.flatten_obs(obs), EnvState(inst, state, obs.cand.reshape(-1), _lb(inst, state))


def reset(key: jax.Array, pool: fjsp.FJSPParams):
    n = pool.job_len.shape[0]
    i = jax.random.randint(key, (), 0, n)
    inst = jax.tree.map(lambda x: x[i], pool)
    return _observe(inst, fjsp.reset(inst))


def step(key: jax.Array, env_state: EnvState, action: jax.Array, pool: fjsp.FJSPParams):
    inst = env_state.inst
    state, _, done = fjsp.step(inst, env_state.state, action)
    obs, new = _observe(inst, state)
    reward = env_state.lb - new.lb
    return obs, new, reward, done, {"makespan": fjsp.makespan(state)}


def action_mask(env_state: EnvState, pool: fjsp.FJSPParams) -> jax.Array:
    return env_state.cand


ENV = Env(reset=reset, step=step, action_mask=action_mask)
