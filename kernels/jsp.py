"""JSP dispatch environment with append semantics, as pure jittable functions.

An action picks a job; its next operation is appended to its machine and starts at
``max(job ready, machine ready)``. An episode has exactly as many steps as the instance has
operations, so a batch needs no reset. Shapes are static: jobs, operations and machines are
padded, a padded job has ``job_len == 0`` and is never eligible, and a step with an ineligible
or out-of-range action (or after the episode ends) leaves the state unchanged.

The instance is the ``JSPParams`` pytree, passed alongside the lean ``JSPState`` and never
copied into it. Features that only some policies need (``job_features``, ``op_features``,
``candidates``) are computed on demand from the state. Updates are scalar gathers and
scatters; an invalid step points its scatters out of range (``mode="drop"``), which was
measured faster on CPU than one-hot ``where`` updates (``jsched bench``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

CANDIDATE_MODES = ("all", "nondelay", "active")


class JSPParams(NamedTuple):
    """A padded JSP instance (static shapes J, O, M)."""

    machines: jax.Array  # (J, O) int32, machine of each operation (0 on padding)
    durations: jax.Array  # (J, O) int32, processing times (0 on padding)
    job_len: jax.Array  # (J,) int32, operations of each job (0 for a padded job)
    release: jax.Array  # (J,) int32, earliest start of each job
    machine_mask: jax.Array  # (M,) bool, True for real machines
    due: jax.Array | None = None  # (J,) int32, job due dates (None: the instance has none)
    weight: jax.Array | None = None  # (J,) int32, job weights (1 when not given; None without due dates)


class JSPState(NamedTuple):
    """Lean dispatch state."""

    next_op: jax.Array  # (J,) int32, index of each job's next unscheduled operation
    job_ready: jax.Array  # (J,) int32, completion time of each job's last scheduled op
    machine_ready: jax.Array  # (M,) int32, completion time of each machine's last op
    start: jax.Array  # (J, O) int32, start times (-1 while unscheduled)
    t: jax.Array  # () int32, number of operations scheduled


class JobFeatures(NamedTuple):
    """Per-job quantities of each job's next (candidate) operation, on demand from the state.

    Values on finished or padded jobs are well defined but meaningless (mask them).
    """

    machine: jax.Array  # (J,) int32, machine of the next operation
    duration: jax.Array  # (J,) int32, its processing time
    next_duration: jax.Array  # (J,) int32, processing time of the operation after it (0 if none)
    est: jax.Array  # (J,) int32, earliest start if dispatched now
    ect: jax.Array  # (J,) int32, earliest completion if dispatched now
    ops_left: jax.Array  # (J,) int32, unscheduled operations (candidate included)
    work_left: jax.Array  # (J,) int32, total processing time of those operations
    work_done: jax.Array  # (J,) int32, processing time of the scheduled operations
    n_ops: jax.Array  # (J,) int32, operations of the job (= job_len)


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


def _gather_next(x: jax.Array, op: jax.Array) -> jax.Array:
    """x[j, op[j]] for every job j, with op clipped to the last column."""
    o = jnp.minimum(op, x.shape[1] - 1)
    return jnp.take_along_axis(x, o[:, None], axis=1)[:, 0]


def next_op_info(params: JSPParams, state: JSPState) -> tuple[jax.Array, jax.Array]:
    """(J,) machine and duration of each job's next operation (clipped on finished jobs)."""
    return _gather_next(params.machines, state.next_op), _gather_next(params.durations, state.next_op)


def earliest_start(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) start time each job's next operation would get if dispatched now."""
    mach, _ = next_op_info(params, state)
    return jnp.maximum(state.job_ready, state.machine_ready[mach])


def step(params: JSPParams, state: JSPState, action: jax.Array) -> tuple[JSPState, jax.Array, jax.Array]:
    """Dispatch job ``action``; returns (state, reward, done).

    The reward is minus the increase of the partial makespan, so an episode's return is
    minus the makespan (plus the largest release). An ineligible action, or one outside
    ``0..J-1``, is a no-op.
    """
    j, o_max = params.machines.shape
    a = jnp.asarray(action).astype(jnp.int32)
    inside = (a >= 0) & (a < j)
    a = jnp.clip(a, 0, j - 1)
    o = state.next_op[a]
    valid = inside & (o < params.job_len[a])
    oc = jnp.minimum(o, o_max - 1)
    m = params.machines[a, oc]
    d = params.durations[a, oc]
    s = jnp.maximum(state.job_ready[a], state.machine_ready[m])
    e = s + d
    # Out-of-range indices make an invalid step's scatters no-ops (mode="drop").
    aj = jnp.where(valid, a, j)
    mj = jnp.where(valid, m, state.machine_ready.shape[0])
    job_ready = state.job_ready.at[aj].set(e, mode="drop")
    new = JSPState(
        next_op=state.next_op.at[aj].add(1, mode="drop"),
        job_ready=job_ready,
        machine_ready=state.machine_ready.at[mj].set(e, mode="drop"),
        start=state.start.at[aj, oc].set(s, mode="drop"),
        t=state.t + valid.astype(jnp.int32),
    )
    reward = (state.job_ready.max() - job_ready.max()).astype(jnp.float32)
    return new, reward, done(params, new)


# ---------------------------------------------------------------------------------------------
# Features on demand


def job_features(params: JSPParams, state: JSPState) -> JobFeatures:
    """Per-job features of the candidate operations (what the dispatching rules read)."""
    o_max = params.machines.shape[1]
    cols = jnp.arange(o_max, dtype=jnp.int32)[None, :]
    left = (cols >= state.next_op[:, None]) & (cols < params.job_len[:, None])
    mach = _gather_next(params.machines, state.next_op)
    dur = _gather_next(params.durations, state.next_op)
    nxt = jnp.where(state.next_op + 1 < params.job_len, _gather_next(params.durations, state.next_op + 1), 0)
    est = jnp.maximum(state.job_ready, state.machine_ready[mach])
    work_left = jnp.where(left, params.durations, 0).sum(axis=1)
    work_done = jnp.where(cols < state.next_op[:, None], params.durations, 0).sum(axis=1)
    return JobFeatures(
        machine=mach,
        duration=dur,
        next_duration=nxt,
        est=est,
        ect=est + dur,
        ops_left=params.job_len - state.next_op,
        work_left=work_left,
        work_done=work_done,
        n_ops=params.job_len,
    )


def candidates(params: JSPParams, state: JSPState, mode: str = "nondelay", feats: JobFeatures | None = None) -> jax.Array:
    """(J,) bool: the jobs a dispatching rule may choose from.

    * ``"all"``: every job with an operation left (the action mask);
    * ``"nondelay"``: those whose next operation can start earliest (t* = min est): the
      Giffler-Thompson non-delay set, so rule rollouts give non-delay schedules;
    * ``"active"``: Giffler-Thompson active set: on the machine m* of the operation that can
      complete earliest (c*), the operations that can start before c*.

    Appending in either Giffler-Thompson order never leaves a gap that a later operation of
    the same machine could fill, so append semantics are exact for both.
    """
    if mode not in CANDIDATE_MODES:
        raise ValueError(f"candidate mode must be one of {CANDIDATE_MODES}, got {mode!r}")
    mask = action_mask(params, state)
    if mode == "all":
        return mask
    f = job_features(params, state) if feats is None else feats
    big = jnp.iinfo(jnp.int32).max
    if mode == "nondelay":
        t_star = jnp.where(mask, f.est, big).min()
        return mask & (f.est == t_star)
    ect = jnp.where(mask, f.ect, big)
    jstar = jnp.argmin(ect)
    return mask & (f.machine == f.machine[jstar]) & (f.est < ect[jstar])


def op_features(params: JSPParams, state: JSPState) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per-operation (J, O) arrays: scheduled flag, completion lower bound, and op mask.

    The lower bound is the end time of a scheduled operation, and for an unscheduled one the
    earliest start of its job's next operation plus the durations up to and including it
    (L2D's C_LB, used by SLIM/L2D-style observations). The op mask is False on padding.
    """
    o_max = params.machines.shape[1]
    cols = jnp.arange(o_max, dtype=jnp.int32)[None, :]
    op_mask = cols < params.job_len[:, None]
    scheduled = cols < state.next_op[:, None]
    est = earliest_start(params, state)
    unsched_dur = jnp.where(scheduled | ~op_mask, 0, params.durations)
    lb_unsched = est[:, None] + jnp.cumsum(unsched_dur, axis=1)
    lb = jnp.where(scheduled, state.start + params.durations, lb_unsched)
    return scheduled, jnp.where(op_mask, lb, 0), op_mask
