"""The JSP as a colored timed Petri net (CTPN) in arrays: marking, guard, fire, time advance.

After Lassoued & Schwung, "PetriRL" (J. Manuf. Systems 2024) and "Policy-based DRL
hyper-heuristics for the JSP" (see ``shared/specs/hh.md``), with exact event times (every
operation lasts exactly its processing time, unlike the public code's p + 2 clock ticks).

Net (P = J + 3M + 1 places, T = J + 2M transitions)::

    places       queue_j (J)    one colored token per remaining operation of job j; color (j, i)
                 buffer_m (M)   tokens allocated to machine m, waiting to start
                 proc_m (M)     the token being processed on machine m (timed: sojourn = p)
                 idle_m (M)     machine m's resource token
                 finished (1)   completed operations
    transitions  allocate_j (J) controllable: head token of queue_j -> buffer of its color's machine
                 start_m (M)    immediate: buffer_m + idle_m -> proc_m
                 finish_m (M)   timed: proc_m -> idle_m + finished, when the token's p has elapsed

The arc of ``allocate_j`` depends on the head token's color (its machine), so the incidence
matrix is evaluated at the current marking (:func:`incidence`). ``start_m`` fires immediately
after an allocation (the guard only allows allocating to an idle machine), so at every decision
point the buffers are empty.

Guard = action mask: ``allocate_j`` is enabled iff queue_j holds a token, the machine of its
color is idle, and job j's previous operation has finished (and its release time has passed).
Dispatching is event-based and non-delay: an allocation happens at the current time; time only
moves when no allocation is enabled, then to the next event. Because finish transitions only
free resources, jumping straight to the earliest time at which some allocation becomes enabled,
``min_j max(job_ready_j, machine_ready[m_j])``, fires exactly the timed transitions an
event-by-event loop would (``jsched.hh.pynet`` is that loop, and the tests compare the two).

The state is lean (like ``jsched.kernels.jsp``): the marking is computed on demand from it. One
:func:`step` allocates one operation, so an episode has exactly the instance's operation count
(a fixed maximum length for padded batches); a step with a disabled action, or after the end,
is a no-op. The instance is ``jsched.kernels.jsp.JSPParams``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.kernels.jsp import JSPParams


class PetriState(NamedTuple):
    """Lean CTPN state; the marking is derived from it by :func:`marking`."""

    next_op: jax.Array  # (J,) int32, index of the head token in queue_j (= tokens already allocated)
    job_ready: jax.Array  # (J,) int32, time the head token reached the queue head (prev op end / release)
    machine_ready: jax.Array  # (M,) int32, time machine m's running token finishes
    start: jax.Array  # (J, O) int32, start times (-1 while in the queue)
    time: jax.Array  # () int32, the net's clock
    waited: jax.Array  # (J,) int32, total time job j's allocated tokens waited at the queue head
    steps: jax.Array  # () int32, allocations fired


def n_places(params: JSPParams) -> int:
    return params.machines.shape[0] + 3 * params.machine_mask.shape[0] + 1


def n_transitions(params: JSPParams) -> int:
    return params.machines.shape[0] + 2 * params.machine_mask.shape[0]


def reset(params: JSPParams) -> PetriState:
    """Initial marking: all tokens in the job queues, every machine idle, clock at the first event."""
    j, o = params.machines.shape
    m = params.machine_mask.shape[0]
    state = PetriState(
        next_op=jnp.zeros((j,), jnp.int32),
        job_ready=params.release.astype(jnp.int32),
        machine_ready=jnp.zeros((m,), jnp.int32),
        start=jnp.full((j, o), -1, jnp.int32),
        time=jnp.zeros((), jnp.int32),
        waited=jnp.zeros((j,), jnp.int32),
        steps=jnp.zeros((), jnp.int32),
    )
    return advance(params, state)


def head_info(params: JSPParams, state: PetriState) -> tuple[jax.Array, jax.Array]:
    """(J,) machine (color) and processing time of each job's head token (clipped when empty)."""
    o = jnp.minimum(state.next_op, params.machines.shape[1] - 1)
    mach = jnp.take_along_axis(params.machines, o[:, None], axis=1)[:, 0]
    dur = jnp.take_along_axis(params.durations, o[:, None], axis=1)[:, 0]
    return mach, dur


def has_token(params: JSPParams, state: PetriState) -> jax.Array:
    """(J,) bool: queue_j is not empty."""
    return state.next_op < params.job_len


def action_mask(params: JSPParams, state: PetriState) -> jax.Array:
    """(J,) bool guard of the allocate transitions at the current time."""
    mach, _ = head_info(params, state)
    job_free = state.job_ready <= state.time
    machine_idle = state.machine_ready[mach] <= state.time
    return has_token(params, state) & job_free & machine_idle


def done(params: JSPParams, state: PetriState) -> jax.Array:
    return ~has_token(params, state).any()


def makespan(state: PetriState) -> jax.Array:
    """Completion time of everything allocated so far (the makespan once done)."""
    return jnp.maximum(state.job_ready.max(), state.machine_ready.max())


def fire(params: JSPParams, state: PetriState, job: jax.Array) -> PetriState:
    """Fire allocate_job and the immediate start_m it enables, at the current time (no advance).

    A disabled transition leaves the state unchanged.
    """
    a = jnp.asarray(job, jnp.int32)
    ok = action_mask(params, state)[a]
    mach, dur = head_info(params, state)
    m, d, t = mach[a], dur[a], state.time
    o = jnp.minimum(state.next_op[a], params.machines.shape[1] - 1)
    w = jnp.where(ok, t - state.job_ready[a], 0)
    return PetriState(
        next_op=state.next_op.at[a].add(ok.astype(jnp.int32)),
        job_ready=state.job_ready.at[a].set(jnp.where(ok, t + d, state.job_ready[a])),
        machine_ready=state.machine_ready.at[m].set(jnp.where(ok, t + d, state.machine_ready[m])),
        start=state.start.at[a, o].set(jnp.where(ok, t, state.start[a, o])),
        time=t,
        waited=state.waited.at[a].add(w),
        steps=state.steps + ok.astype(jnp.int32),
    )


def next_event_time(params: JSPParams, state: PetriState) -> jax.Array:
    """Earliest time at which some allocate transition becomes enabled (current time if one is)."""
    mach, _ = head_info(params, state)
    ready = jnp.maximum(state.job_ready, state.machine_ready[mach])
    big = jnp.iinfo(jnp.int32).max
    t_next = jnp.where(has_token(params, state), ready, big).min()
    return jnp.where(done(params, state), state.time, jnp.maximum(state.time, t_next))


def advance(params: JSPParams, state: PetriState) -> PetriState:
    """Fire timed finish transitions until an allocation is enabled (or the net is empty)."""
    return state._replace(time=next_event_time(params, state))


def step(params: JSPParams, state: PetriState, job: jax.Array) -> tuple[PetriState, jax.Array]:
    """Allocate ``job``'s head token, then advance time to the next decision point.

    Returns (state, done). Once done, the clock is left at the last decision time; the
    makespan is :func:`makespan`.
    """
    state = advance(params, fire(params, state, job))
    return state, done(params, state)


def marking(params: JSPParams, state: PetriState) -> jax.Array:
    """(P,) int32 token counts: [queue (J), buffer (M), proc (M), idle (M), finished (1)]."""
    m = params.machine_mask.shape[0]
    queue = jnp.where(params.job_len > 0, params.job_len - state.next_op, 0)
    proc = (state.machine_ready > state.time) & params.machine_mask
    idle = ~proc & params.machine_mask
    finished = state.next_op.sum() - proc.sum()
    return jnp.concatenate(
        [queue, jnp.zeros((m,), jnp.int32), proc.astype(jnp.int32), idle.astype(jnp.int32), finished[None]]
    ).astype(jnp.int32)


def incidence(params: JSPParams, state: PetriState) -> jax.Array:
    """(P, T) int32 incidence matrix, colored arcs evaluated at the current head tokens.

    Columns: [allocate (J), start (M), finish (M)]; rows as in :func:`marking`. Firing a vector
    of transition counts ``f`` moves the marking by ``incidence @ f``.
    """
    j = params.machines.shape[0]
    m = params.machine_mask.shape[0]
    mach, _ = head_info(params, state)
    q0, b0, p0, i0, f0 = 0, j, j + m, j + 2 * m, j + 3 * m
    P, T = f0 + 1, j + 2 * m
    c = jnp.zeros((P, T), jnp.int32)
    jj, mm = jnp.arange(j), jnp.arange(m)
    c = c.at[q0 + jj, jj].set(-1)
    c = c.at[b0 + mach, jj].add(1)
    c = c.at[b0 + mm, j + mm].set(-1)
    c = c.at[i0 + mm, j + mm].set(-1)
    c = c.at[p0 + mm, j + mm].set(1)
    c = c.at[p0 + mm, j + m + mm].set(-1)
    c = c.at[i0 + mm, j + m + mm].set(1)
    c = c.at[f0, j + m + mm].set(1)
    return c


def remaining_work(params: JSPParams, state: PetriState) -> jax.Array:
    """(J,) sum of processing times of the tokens still in queue_j (head included)."""
    o = jnp.arange(params.machines.shape[1])
    return jnp.where(o[None, :] >= state.next_op[:, None], params.durations, 0).sum(axis=1)


def time_scale(params: JSPParams) -> jax.Array:
    """A makespan lower bound, max(largest machine load, longest job): the unit of time features."""
    m = params.machine_mask.shape[0]
    load = jnp.zeros((m,), params.durations.dtype).at[params.machines.ravel()].add(params.durations.ravel())
    lb = jnp.maximum(load.max(), params.durations.sum(axis=1).max())
    return jnp.maximum(lb, 1).astype(jnp.float32)


def observation(params: JSPParams, state: PetriState) -> jax.Array:
    """(4J + 4M + 2,) float32: marking plus temporal features, all scaled to about [0, 1].

    [queue counts / O (J), buffer (M), proc (M), idle (M), finished / N (1),
     elapsed time / LB (1), remaining work per job / LB (J),
     machine availability: time until free / LB (M), guard (J), head token p / max p (J)]
    with LB = :func:`time_scale`.
    """
    j, o = params.machines.shape
    mk = marking(params, state).astype(jnp.float32)
    n = jnp.maximum(params.job_len.sum(), 1).astype(jnp.float32)
    mk = jnp.concatenate([mk[:j] / o, mk[j:-1], mk[-1:] / n])
    lb = time_scale(params)
    t = state.time.astype(jnp.float32)
    avail = jnp.maximum(state.machine_ready - state.time, 0) * params.machine_mask
    _, dur = head_info(params, state)
    dmax = jnp.maximum(params.durations.max(), 1).astype(jnp.float32)
    return jnp.concatenate(
        [
            mk,
            (t / lb)[None],
            remaining_work(params, state) / lb,
            avail / lb,
            action_mask(params, state).astype(jnp.float32),
            jnp.where(has_token(params, state), dur, 0) / dmax,
        ]
    ).astype(jnp.float32)


def rollout(params: JSPParams, choose, state: PetriState | None = None) -> PetriState:
    """Run ``choose(params, state) -> job`` until done, in a ``lax.scan`` of J * O steps."""
    state = reset(params) if state is None else state
    n = params.machines.shape[0] * params.machines.shape[1]

    def body(s, _):
        return step(params, s, choose(params, s))[0], None

    return jax.lax.scan(body, state, None, n)[0]
