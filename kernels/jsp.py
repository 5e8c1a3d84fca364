"""JSP dispatch environment with append semantics, as pure jittable functions.

An action picks a job; its next operation is appended to its machine and starts at
``max(job ready, machine ready)``. An episode has exactly as many steps as the instance has
operations, so a batch needs no reset. Shapes are static: jobs, operations and machines are
padded, a padded job has ``job_len == 0`` and is never eligible, and a step with an ineligible
action (or after the episode ends) leaves the state unchanged.

The instance is the ``JSPParams`` pytree, passed alongside the lean ``JSPState`` and never
copied into it. Features that only some policies need are computed on demand from the state.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class JSPParams(NamedTuple):
    """A padded JSP instance (static shapes J, O, M)."""

    machines: jax.Array  # (J, O) int32, machine of each operation (0 on padding)
    durations: jax.Array  # (J, O) int32, processing times (0 on padding)
    job_len: jax.Array  # (J,) int32, operations of each job (0 for a padded job)
    release: jax.Array  # (J,) int32, earliest start of each job
    machine_mask: jax.Array  # (M,) bool, True for real machines


class JSPState(NamedTuple):
    """Lean dispatch state."""

    next_op: jax.Array  # (J,) int32, index of each job's next unscheduled operation
    job_ready: jax.Array  # (J,) int32, completion time of each job's last scheduled op
    machine_ready: jax.Array  # (M,) int32, completion time of each machine's last op
    start: jax.Array  # (J, O) int32, start times (-1 while unscheduled)
    t: jax.Array  # () int32, number of operations scheduled


def reset(params: JSPParams) -> JSPState:
    """Empty schedule: every job at its first operation, ready at its release time."""
    j, o = params.machines.shape
    m = params.machine_mask.shape[0]
    return JSPState(
        next_op=jnp.zeros((j,), jnp.int32),
        job_ready=params.release.astype(jnp.int32),
        machine_ready=jnp.zeros((m,), jnp.int32),
        start=jnp.full((j, o), -1, jnp.int32),
        t=jnp.zeros((), jnp.int32),
    )


def action_mask(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) bool: jobs that still have an operation to schedule."""
    return state.next_op < params.job_len


def n_steps(params: JSPParams) -> jax.Array:
    """Number of real operations (the episode length)."""
    return params.job_len.sum()


def done(params: JSPParams, state: JSPState) -> jax.Array:
    return state.t >= n_steps(params)


def makespan(state: JSPState) -> jax.Array:
    """Completion time of the partial schedule (the makespan once done)."""
    return state.job_ready.max()


def next_op_info(params: JSPParams, state: JSPState) -> tuple[jax.Array, jax.Array]:
    """(J,) machine and duration of each job's next operation (clipped on finished jobs)."""
    o = jnp.minimum(state.next_op, params.machines.shape[1] - 1)
    mach = jnp.take_along_axis(params.machines, o[:, None], axis=1)[:, 0]
    dur = jnp.take_along_axis(params.durations, o[:, None], axis=1)[:, 0]
    return mach, dur


def earliest_start(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) start time each job's next operation would get if dispatched now."""
    mach, _ = next_op_info(params, state)
    return jnp.maximum(state.job_ready, state.machine_ready[mach])


def step(params: JSPParams, state: JSPState, action: jax.Array) -> tuple[JSPState, jax.Array, jax.Array]:
    """Dispatch job ``action``; returns (state, reward, done).

    The reward is minus the increase of the partial makespan, so an episode's return is
    minus the makespan (plus the largest release). An ineligible action is a no-op.
    """
    a = action.astype(jnp.int32)
    o = state.next_op[a]
    valid = o < params.job_len[a]
    oc = jnp.minimum(o, params.machines.shape[1] - 1)
    m = params.machines[a, oc]
    d = params.durations[a, oc]
    s = jnp.maximum(state.job_ready[a], state.machine_ready[m])
    e = s + d
    new = JSPState(
        next_op=state.next_op.at[a].add(valid.astype(jnp.int32)),
        job_ready=state.job_ready.at[a].set(jnp.where(valid, e, state.job_ready[a])),
        machine_ready=state.machine_ready.at[m].set(jnp.where(valid, e, state.machine_ready[m])),
        start=state.start.at[a, oc].set(jnp.where(valid, s, state.start[a, oc])),
        t=state.t + valid.astype(jnp.int32),
    )
    reward = (makespan(state) - makespan(new)).astype(jnp.float32)
    return new, reward, done(params, new)
