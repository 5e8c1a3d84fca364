"""The DAC environment: one MA generation per step; the agent sets the seven MA parameters.

The MDP of Mencaroni, Reijnen, Zhang, Claeys (2026), section 3.2, as a functional env for
``jsched.rl.ppo`` (jittable, vmappable over envs). An episode is a fresh population on a training
instance drawn from ``DACEnvParams``; actions in [-1, 1] map linearly to Table 1's ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.dac import ma
from jsched.kernels import pfsp as K

OBS_DIM = 5
ACT_DIM = 7
_LO = jnp.array([ma.RANGES[k][0] for k in K.PARAM_NAMES], jnp.float32)
_HI = jnp.array([ma.RANGES[k][1] for k in K.PARAM_NAMES], jnp.float32)


@dataclass(frozen=True)
class DACSettings:
    """Static episode settings (shapes and loop lengths; bound into the env functions)."""

    n_gen: int = ma.GENERATIONS
    pop_size: int = ma.POP_SIZE
    ls_steps: int = ma.LS_STEPS
    reward_scale: float = 1e-4  # an episode's return becomes about 1: small value targets, same optimum


class DACEnvParams(NamedTuple):
    instances: K.PFSPParams  # stacked over I training instances (leading axis)
    f_ideal: jax.Array  # (I,) float32


class DACState(NamedTuple):
    pop: K.Population
    inst: jax.Array  # () int32, index of the episode's instance
    t: jax.Array  # () int32, generations done
    f_init: jax.Array  # () float32
    f_best: jax.Array  # () float32, best so far
    stagnation: jax.Array  # () int32


def action_to_values(action: jax.Array) -> jax.Array:
    """Rescale (..., 7) actions in [-1, 1] to the Table 1 parameter ranges, (..., 7)."""
    a = jnp.clip(action, -1.0, 1.0)
    return _LO + (a + 1.0) * 0.5 * (_HI - _LO)


def action_to_config(action: jax.Array) -> K.MAConfig:
    """A (7,) action as the MA's parameters."""
    return K.MAConfig(*action_to_values(action))


def config_to_action(values: dict) -> jax.Array:
    """Inverse of :func:`action_to_config` (for static parameter sets inside the ranges)."""
    v = jnp.array([values[k] for k in K.PARAM_NAMES], jnp.float32)
    return jnp.clip(2.0 * (v - _LO) / (_HI - _LO) - 1.0, -1.0, 1.0)


def _instance(params: DACEnvParams, i) -> K.PFSPParams:
    return jax.tree.map(lambda x: x[i], params.instances)


def make_env(settings: DACSettings):
    """The env as a ``jsched.kernels.env.Env`` with the static settings bound.

    Its params are ONE instance's ``DACEnvParams`` (instance arrays and a scalar f_ideal): draw
    them from the stacked training set with ``jsched.instances.generators.pool_generator``.
    """
    from jsched.kernels.env import Env

    return Env("dac", partial(_env_reset, settings), partial(_env_step, settings), partial(_env_observe, settings))


def _one(params: DACEnvParams) -> DACEnvParams:
    return jax.tree.map(lambda x: x[None], params)


def _env_reset(settings: DACSettings, key: jax.Array, params: DACEnvParams) -> DACState:
    return reset(settings, key, _one(params))[1]


def _env_step(settings: DACSettings, key: jax.Array, params: DACEnvParams, state: DACState, action: jax.Array):
    _, st, r, done, _ = step(settings, key, state, action, _one(params))
    return st, r, done


def _env_observe(settings: DACSettings, params: DACEnvParams, state: DACState) -> jax.Array:
    return observe(settings, state)


def observe(settings: DACSettings, state: DACState) -> jax.Array:
    """Best / f_init, mean / f_init, std / mean, remaining budget, stagnation / n_gen; in [0, 1].

    f_init is the initial population's best. The paper gives neither the mean's nor the
    stagnation's normaliser; the clip keeps the mean feature at 1 while the population is worse
    than f_init.
    """
    f = state.pop.fitness
    mean = f.mean()
    obs = jnp.stack([
        state.f_best / state.f_init,
        mean / state.f_init,
        f.std() / jnp.maximum(mean, 1e-9),
        1.0 - state.t / settings.n_gen,
        state.stagnation / settings.n_gen,
    ])
    return jnp.clip(obs, 0.0, 1.0).astype(jnp.float32)


def reset(settings: DACSettings, key: jax.Array, params: DACEnvParams):
    k1, k2 = jax.random.split(key)
    i = jax.random.randint(k1, (), 0, params.f_ideal.shape[0])
    pop = K.init_population(k2, _instance(params, i), settings.pop_size, ma.INIT_PAUSE_PROB)
    f0 = pop.fitness.min()
    st = DACState(pop, i, jnp.zeros((), jnp.int32), f0, f0, jnp.zeros((), jnp.int32))
    return observe(settings, st), st


def reward_fn(f_init, f_ideal, f_prev, f_cur):
    """Eq. 1-3: delta_cur^2 - delta_prev^2 if f_cur < f_prev else 0.

    delta = 100 (f_init - f) / (f_init - f_ideal), f_ideal the best of a double-budget static run.
    """
    span = jnp.maximum(f_init - f_ideal, 1e-6 * jnp.abs(f_init))
    d_cur = 100.0 * (f_init - f_cur) / span
    d_prev = 100.0 * (f_init - f_prev) / span
    return jnp.where(f_cur < f_prev, d_cur**2 - d_prev**2, 0.0)


def step(settings: DACSettings, key: jax.Array, state: DACState, action: jax.Array, params: DACEnvParams):
    cfg = action_to_config(action)
    pop, stats = K.generation(key, _instance(params, state.inst), cfg, state.pop, settings.ls_steps)
    improved = stats.best < state.f_best
    r = reward_fn(state.f_init, params.f_ideal[state.inst], state.f_best, stats.best) * settings.reward_scale
    st = DACState(
        pop,
        state.inst,
        state.t + 1,
        state.f_init,
        jnp.minimum(stats.best, state.f_best),
        jnp.where(improved, 0, state.stagnation + 1),
    )
    done = st.t >= settings.n_gen
    return observe(settings, st), st, r.astype(jnp.float32), done, {"best": st.f_best}


def run_policy(key: jax.Array, inst_params: K.PFSPParams, policy_fn, settings: DACSettings):
    """One MA run on one instance with parameters chosen each generation by ``policy_fn(obs)``.

    ``policy_fn`` maps the (5,) observation to a (7,) action (e.g. the greedy PPO policy).
    Returns ``(final_population, best_curve (n_gen + 1,), actions (n_gen, 7))``. Jittable and
    vmappable over keys and instances.
    """
    k0, k1 = jax.random.split(key)
    pop = K.init_population(k0, inst_params, settings.pop_size, ma.INIT_PAUSE_PROB)
    f0 = pop.fitness.min()
    env_p = DACEnvParams(jax.tree.map(lambda x: x[None], inst_params), jnp.zeros((1,), jnp.float32))
    st = DACState(pop, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32), f0, f0, jnp.zeros((), jnp.int32))

    def body(st, k):
        a = policy_fn(observe(settings, st))
        _, st2, _, _, _ = step(settings, k, st, a, env_p)
        return st2, (st2.f_best, a)

    last, (curve, actions) = jax.lax.scan(body, st, jax.random.split(k1, settings.n_gen))
    return last.pop, jnp.concatenate([f0[None], curve]), actions
