"""One env convention for rollouts and PPO: a static bundle of pure functions over (key, params, state).

``params`` is one instance (padded arrays) or whatever else is fixed for an episode; an
instance generator (``jsched.instances.generators``: ``key -> params``, as Jumanji's
``Generator``) draws it, so the env itself never picks instances. Keys are arguments (envs
without randomness ignore them), never state. ``Env`` is a hashable NamedTuple of module-level
functions, so it can be a static argument of ``jax.jit``. The dispatch envs observe
``Obs(params, state)`` by default, so each policy computes only the features it needs; swap
it with ``env._replace(observe=fn)``. ``jsched.envs`` presents these envs in gymnax's and
Jumanji's conventions (a layer over this one, for users of those libraries).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax

from jsched.kernels import fjsp, jsp, petri


class Env(NamedTuple):
    """Static description of an env (every field but ``name`` a pure function)."""

    name: str
    reset: Callable  # (key, params) -> state
    step: Callable  # (key, params, state, action) -> (state, reward () float32, done () bool)
    observe: Callable  # (params, state) -> observation pytree
    action_mask: Callable | None = None  # (params, state) -> (A,) bool; None: every action valid
    makespan: Callable | None = None  # (state) -> () int32, for schedule rollouts
    op_machines: Callable | None = None  # (params, state) -> (J, O) int32 machine of each operation


class Obs(NamedTuple):
    """Default observation of the dispatch envs: the padded instance and the current state."""

    params: Any  # JSPParams | FJSPParams
    state: Any  # JSPState | FJSPState


def default_observe(params, state) -> Obs:
    return Obs(params, state)


def _jsp_reset(key, params: jsp.JSPParams) -> jsp.JSPState:
    return jsp.reset(params)


def _jsp_step(key, params: jsp.JSPParams, state: jsp.JSPState, action):
    return jsp.step(params, state, action)


def _jsp_machines(params: jsp.JSPParams, state: jsp.JSPState) -> jax.Array:
    return params.machines


def _fjsp_reset(key, params: fjsp.FJSPParams) -> fjsp.FJSPState:
    return fjsp.reset(params)


def _fjsp_step(key, params: fjsp.FJSPParams, state: fjsp.FJSPState, action):
    return fjsp.step(params, state, action)


def _fjsp_machines(params: fjsp.FJSPParams, state: fjsp.FJSPState) -> jax.Array:
    return state.machine


def _petri_reset(key, params: jsp.JSPParams) -> jsp.JSPState:
    return petri.reset(params)


def _petri_step(key, params: jsp.JSPParams, state: jsp.JSPState, action):
    return petri.step(params, state, action)


JSP_ENV = Env("jsp", _jsp_reset, _jsp_step, default_observe, jsp.action_mask, jsp.makespan, _jsp_machines)
FJSP_ENV = Env("fjsp", _fjsp_reset, _fjsp_step, default_observe, fjsp.action_mask, fjsp.makespan, _fjsp_machines)
# The JSP as a Petri net: the same state, the net's guard (the non-delay set) as the action mask.
PETRI_ENV = Env("petri", _petri_reset, _petri_step, default_observe, petri.action_mask, petri.makespan, _jsp_machines)
