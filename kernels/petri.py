"""The JSP as a colored timed Petri net (CTPN): marking, guard, incidence and clock as views of
the JSP dispatch state.

After Lassoued & Schwung, "PetriRL" (J. Manuf. Systems 2024) and their policy-based DRL
hyper-heuristics for the JSP, with exact event times (an operation lasts its processing time).
Net (P = J + 3M + 1 places, T = J + 2M transitions)::

    places       queue_j (J)    one colored token per remaining operation of job j; color (j, i)
                 buffer_m (M)   tokens allocated to machine m, waiting to start
                 proc_m (M)     the token being processed on machine m (timed: sojourn = p)
                 idle_m (M)     machine m's resource token
                 finished (1)   completed operations
    transitions  allocate_j (J) controllable: head token of queue_j -> buffer of its color's machine
                 start_m (M)    immediate: buffer_m + idle_m -> proc_m
                 finish_m (M)   timed: proc_m -> idle_m + finished, when the token's p has elapsed

The net's state is ``jsp.JSPState``: an allocation is ``jsp.step`` of an enabled job. Time moves
only when no allocation is enabled, to the earliest time one is, so the clock is the
Giffler-Thompson t* of the state and the guard (queue not empty, head's machine idle, job's
previous operation finished) is the non-delay candidate set; buffers are empty at every
decision point. Everything else (clock, marking, incidence, observation) is a function of
(params, state). ``tests/petri_reference.py`` is the explicit event-by-event net they are
tested against.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jsched.kernels import jsp
from jsched.kernels.jsp import JSPParams, JSPState


def n_places(params: JSPParams) -> int:
    return params.machines.shape[0] + 3 * params.machine_mask.shape[0] + 1


def n_transitions(params: JSPParams) -> int:
    return params.machines.shape[0] + 2 * params.machine_mask.shape[0]


def reset(params: JSPParams) -> JSPState:
    """Initial marking: all tokens in the job queues, every machine idle."""
    return jsp.reset(params)


def has_token(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) bool: queue_j is not empty."""
    return jsp.action_mask(params, state)


def done(params: JSPParams, state: JSPState) -> jax.Array:
    return ~has_token(params, state).any()


def makespan(state: JSPState) -> jax.Array:
    """Completion time of everything allocated so far (the makespan once done)."""
    return jsp.makespan(state)


def clock(params: JSPParams, state: JSPState) -> jax.Array:
    """() int32: the net's time, the earliest start of any remaining operation (t*).

    Finish transitions only free resources, so jumping to that time fires exactly what an
    event-by-event loop would. Once the net is empty: the last allocation's time.
    """
    _, t_star = _est_t_star(params, state)
    return jnp.where(done(params, state), jnp.maximum(state.start.max(), 0), t_star)


def action_mask(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) bool guard of the allocate transitions at the clock (= ``jsp.candidates``' non-delay set)."""
    est, t_star = _est_t_star(params, state)
    return has_token(params, state) & (est == t_star)


def _est_t_star(params: JSPParams, state: JSPState) -> tuple[jax.Array, jax.Array]:
    est = jsp.earliest_start(params, state)
    return est, jnp.where(has_token(params, state), est, jnp.iinfo(jnp.int32).max).min()


def step(params: JSPParams, state: JSPState, job: jax.Array) -> tuple[JSPState, jax.Array, jax.Array]:
    """Fire allocate_job (and the immediate start it enables); returns (state, reward, done) as
    ``jsp.step``. A disabled transition is a no-op."""
    j = params.machines.shape[0]
    a = jnp.asarray(job, jnp.int32)
    ok = action_mask(params, state)[jnp.clip(a, 0, j - 1)] & (a >= 0) & (a < j)
    return jsp.step(params, state, jnp.where(ok, a, j))


def waited(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) int32: total time job j's allocated tokens waited at the queue head.

    The waits telescope to ready time - release - processing time done.
    """
    work_done = jsp.job_features(params, state).work_done
    return state.job_ready - params.release - work_done


def total_wait(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) int32: :func:`waited` plus the head token's current wait at the clock."""
    return waited(params, state) + jnp.maximum(clock(params, state) - state.job_ready, 0)


def marking(params: JSPParams, state: JSPState, time: jax.Array | None = None) -> jax.Array:
    """(P,) int32 token counts: [queue (J), buffer (M), proc (M), idle (M), finished (1)].

    ``time`` defaults to the :func:`clock`; an earlier time shows the marking before the
    finish transitions up to the clock fire.
    """
    t = clock(params, state) if time is None else time
    m = params.machine_mask.shape[0]
    queue = jnp.where(params.job_len > 0, params.job_len - state.next_op, 0)
    proc = (state.machine_ready > t) & params.machine_mask
    idle = ~proc & params.machine_mask
    finished = state.next_op.sum() - proc.sum()
    return jnp.concatenate(
        [queue, jnp.zeros((m,), jnp.int32), proc.astype(jnp.int32), idle.astype(jnp.int32), finished[None]]
    ).astype(jnp.int32)


def incidence(params: JSPParams, state: JSPState) -> jax.Array:
    """(P, T) int32 incidence matrix, colored arcs evaluated at the current head tokens.

    Columns: [allocate (J), start (M), finish (M)]; rows as in :func:`marking`. Firing a vector
    of transition counts ``f`` moves the marking by ``incidence @ f``.
    """
    j = params.machines.shape[0]
    m = params.machine_mask.shape[0]
    mach, _ = jsp.next_op_info(params, state)
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


def time_scale(params: JSPParams) -> jax.Array:
    """A makespan lower bound, max(largest machine load, longest job): the unit of time features."""
    m = params.machine_mask.shape[0]
    load = jnp.zeros((m,), params.durations.dtype).at[params.machines.ravel()].add(params.durations.ravel())
    lb = jnp.maximum(load.max(), params.durations.sum(axis=1).max())
    return jnp.maximum(lb, 1).astype(jnp.float32)


def observation(params: JSPParams, state: JSPState) -> jax.Array:
    """(4J + 4M + 2,) float32: marking plus temporal features, all scaled to about [0, 1].

    [queue counts / O (J), buffer (M), proc (M), idle (M), finished / N (1),
     elapsed time / LB (1), remaining work per job / LB (J),
     machine availability: time until free / LB (M), guard (J), head token p / max p (J)]
    with LB = :func:`time_scale`.
    """
    j, o = params.machines.shape
    time = clock(params, state)
    mk = marking(params, state, time).astype(jnp.float32)
    n = jnp.maximum(params.job_len.sum(), 1).astype(jnp.float32)
    mk = jnp.concatenate([mk[:j] / o, mk[j:-1], mk[-1:] / n])
    lb = time_scale(params)
    t = time.astype(jnp.float32)
    avail = jnp.maximum(state.machine_ready - time, 0) * params.machine_mask
    f = jsp.job_features(params, state)
    dmax = jnp.maximum(params.durations.max(), 1).astype(jnp.float32)
    return jnp.concatenate(
        [
            mk,
            (t / lb)[None],
            f.work_left / lb,
            avail / lb,
            action_mask(params, state).astype(jnp.float32),
            jnp.where(has_token(params, state), f.duration, 0) / dmax,
        ]
    ).astype(jnp.float32)


def rollout(params: JSPParams, choose, state: JSPState | None = None) -> JSPState:
    """Run ``choose(params, state) -> job`` until done, in a ``lax.scan`` of J * O steps."""
    state = reset(params) if state is None else state
    n = params.machines.shape[0] * params.machines.shape[1]

    def body(s, _):
        return step(params, s, choose(params, s))[0], None

    return jax.lax.scan(body, state, None, n)[0]
