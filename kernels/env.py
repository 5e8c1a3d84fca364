"""A dispatch environment as a static bundle of pure functions, for generic rollouts.

``Env`` is a hashable NamedTuple of module-level functions, so it can be a static argument of
``jax.jit`` (one compile per env, policy and shape). ``observe`` is the observation function a
policy reads; the default gives the policy the instance and the lean state (``Obs``) so that
each policy computes only the features it needs (rules read ``job_features``; a neural
policy builds its own inputs). Swap it with ``env._replace(observe=fn)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax

from jsched.kernels import fjsp, jsp


class Obs(NamedTuple):
    """Default observation: the padded instance and the current state."""

    params: Any  # JSPParams | FJSPParams
    state: Any  # JSPState | FJSPState


def default_observe(params, state) -> Obs:
    return Obs(params, state)


class Env(NamedTuple):
    """Static description of a dispatch env (every field a pure function except ``name``)."""

    name: str  # "jsp" or "fjsp"
    reset: Callable
    step: Callable  # (params, state, action) -> (state, reward, done)
    action_mask: Callable  # (params, state) -> (A,) bool
    observe: Callable  # (params, state) -> observation pytree
    makespan: Callable  # (state) -> ()
    op_machines: Callable  # (params, state) -> (J, O) int32 machine of each operation


def _jsp_machines(params: jsp.JSPParams, state: jsp.JSPState) -> jax.Array:
    return params.machines


def _fjsp_machines(params: fjsp.FJSPParams, state: fjsp.FJSPState) -> jax.Array:
    return state.machine


JSP_ENV = Env("jsp", jsp.reset, jsp.step, jsp.action_mask, default_observe, jsp.makespan, _jsp_machines)
FJSP_ENV = Env("fjsp", fjsp.reset, fjsp.step, fjsp.action_mask, default_observe, fjsp.makespan, _fjsp_machines)
