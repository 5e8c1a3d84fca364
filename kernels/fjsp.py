"""FJSP dispatch environment with append semantics, as pure jittable functions.

An action is a (job, machine) pair flattened to ``job * M + machine``: job j's next
unscheduled operation is appended to machine k and starts at
``max(job ready, machine ready, operation release)``. Only a job's next operation is
eligible, so the J*M pairs cover the (operation, machine) choices of DANIEL-style policies;
the action mask is ``eligible[j, next_op[j], k]``. An episode has exactly as many steps as
operations; padded jobs (``job_len == 0``), padded operations and padded machines are never
eligible, and an ineligible action (or a step after the end) leaves the state unchanged.

Operations are stored rectangular, (J, O) with O the longest job, because jobs of an FJSP
may have different lengths; ``jsched.instances.arrays.fjsp_params`` converts the flat
``FJSPInstance`` rows. Features (``pair_features``, ``op_features``, ``machine_features``,
``candidates``) are computed on demand, so a random or rule rollout does not pay for what a
neural policy reads.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

CANDIDATE_MODES = ("all", "nondelay")


class FJSPParams(NamedTuple):
    """A padded FJSP instance (static shapes J, O, M)."""

    durations: jax.Array  # (J, O, M) int32, processing time of op (j, o) on machine m (0 if ineligible)
    eligible: jax.Array  # (J, O, M) bool, machine m can process op (j, o); False on padding
    job_len: jax.Array  # (J,) int32, operations of each job (0 for a padded job)
    release: jax.Array  # (J, O) int32, earliest start of each operation
    machine_mask: jax.Array  # (M,) bool, True for real machines
    due: jax.Array | None = None  # (J,) int32, job due dates (None: the instance has none)
    weight: jax.Array | None = None  # (J,) int32, job weights (1 when not given; None without due dates)


class FJSPState(NamedTuple):
    """Lean dispatch state."""

    next_op: jax.Array  # (J,) int32, index of each job's next unscheduled operation
    job_ready: jax.Array  # (J,) int32, completion time of each job's last scheduled op (0 at first)
    machine_ready: jax.Array  # (M,) int32, completion time of each machine's last op
    start: jax.Array  # (J, O) int32, start times (-1 while unscheduled)
    machine: jax.Array  # (J, O) int32, chosen machine (-1 while unscheduled)
    t: jax.Array  # () int32, number of operations scheduled


class PairFeatures(NamedTuple):
    """Quantities of every (job, machine) pair for the job's next operation, on demand."""

    eligible: jax.Array  # (J, M) bool, the action mask as a matrix
    duration: jax.Array  # (J, M) int32, processing time of the next op on the machine
    est: jax.Array  # (J, M) int32, earliest start if dispatched now
    ect: jax.Array  # (J, M) int32, earliest completion if dispatched now


def reset(params: FJSPParams) -> FJSPState:
    """Empty schedule: every job at its first operation, every machine free at time 0."""
    j, o, m = params.durations.shape
    return FJSPState(
        next_op=jnp.zeros((j,), jnp.int32),
        job_ready=jnp.zeros((j,), jnp.int32),
        machine_ready=jnp.zeros((m,), jnp.int32),
        start=jnp.full((j, o), -1, jnp.int32),
        machine=jnp.full((j, o), -1, jnp.int32),
        t=jnp.zeros((), jnp.int32),
    )


def n_actions(params: FJSPParams) -> int:
    j, _, m = params.durations.shape
    return j * m


def n_steps(params: FJSPParams) -> jax.Array:
    return params.job_len.sum()


def done(params: FJSPParams, state: FJSPState) -> jax.Array:
    return state.t >= n_steps(params)


def makespan(state: FJSPState) -> jax.Array:
    return state.job_ready.max()


def _next(x: jax.Array, op: jax.Array) -> jax.Array:
    """x[j, op[j]] (with trailing axes) for every job, op clipped to the last operation."""
    o = jnp.minimum(op, x.shape[1] - 1)
    idx = o.reshape(o.shape + (1,) * (x.ndim - 1))
    return jnp.take_along_axis(x, idx, axis=1)[:, 0]


def eligible_pairs(params: FJSPParams, state: FJSPState) -> jax.Array:
    """(J, M) bool: job j's next operation exists and may run on machine k."""
    return _next(params.eligible, state.next_op) & (state.next_op < params.job_len)[:, None]


def action_mask(params: FJSPParams, state: FJSPState) -> jax.Array:
    """(J*M,) bool, the flattened ``eligible_pairs``."""
    return eligible_pairs(params, state).reshape(-1)


def step(params: FJSPParams, state: FJSPState, action: jax.Array) -> tuple[FJSPState, jax.Array, jax.Array]:
    """Dispatch pair ``action = job * M + machine``; returns (state, reward, done).

    The reward is minus the increase of the partial makespan. An ineligible action is a no-op.
    """
    nj, o_max, nm = params.durations.shape
    a = action.astype(jnp.int32)
    j, k = a // nm, a % nm
    o = state.next_op[j]
    oc = jnp.minimum(o, o_max - 1)
    valid = (o < params.job_len[j]) & params.eligible[j, oc, k]
    d = params.durations[j, oc, k]
    s = jnp.maximum(jnp.maximum(state.job_ready[j], state.machine_ready[k]), params.release[j, oc])
    e = s + d
    # Out-of-range indices make an invalid step's scatters no-ops (mode="drop").
    jj = jnp.where(valid, j, nj)
    kk = jnp.where(valid, k, nm)
    job_ready = state.job_ready.at[jj].set(e, mode="drop")
    new = FJSPState(
        next_op=state.next_op.at[jj].add(1, mode="drop"),
        job_ready=job_ready,
        machine_ready=state.machine_ready.at[kk].set(e, mode="drop"),
        start=state.start.at[jj, oc].set(s, mode="drop"),
        machine=state.machine.at[jj, oc].set(k, mode="drop"),
        t=state.t + valid.astype(jnp.int32),
    )
    reward = (state.job_ready.max() - job_ready.max()).astype(jnp.float32)
    return new, reward, done(params, new)


# ---------------------------------------------------------------------------------------------
# Features on demand


def pair_features(params: FJSPParams, state: FJSPState) -> PairFeatures:
    """Eligibility, duration, earliest start and completion of every (job, machine) pair."""
    elig = eligible_pairs(params, state)
    dur = _next(params.durations, state.next_op)
    rel = _next(params.release, state.next_op)
    est = jnp.maximum(jnp.maximum(state.job_ready, rel)[:, None], state.machine_ready[None, :])
    return PairFeatures(eligible=elig, duration=dur, est=est, ect=est + dur)


def t_star(params: FJSPParams, state: FJSPState, pf: PairFeatures | None = None) -> jax.Array:
    """() int32: the earliest start over all eligible pairs (DANIEL's t*); int32 max when done."""
    pf = pair_features(params, state) if pf is None else pf
    return jnp.where(pf.eligible, pf.est, jnp.iinfo(jnp.int32).max).min()


def candidates(params: FJSPParams, state: FJSPState, mode: str = "nondelay", pf: PairFeatures | None = None) -> jax.Array:
    """(J, M) bool: the pairs a rule or DANIEL-style policy may choose.

    ``"all"`` is the action mask; ``"nondelay"`` keeps the eligible pairs whose earliest start
    equals t* (DANIEL's eligibility, wrqccc/FJSP-DRL env lines 367-375), giving non-delay
    schedules.
    """
    if mode not in CANDIDATE_MODES:
        raise ValueError(f"candidate mode must be one of {CANDIDATE_MODES}, got {mode!r}")
    pf = pair_features(params, state) if pf is None else pf
    if mode == "all":
        return pf.eligible
    return pf.eligible & (pf.est == t_star(params, state, pf))


class OpStats(NamedTuple):
    """Static per-operation statistics over eligible machines (float32, 0 on padding)."""

    min_pt: jax.Array  # (J, O)
    max_pt: jax.Array  # (J, O)
    mean_pt: jax.Array  # (J, O)
    n_eligible: jax.Array  # (J, O) int32
    op_mask: jax.Array  # (J, O) bool, real operations


def op_stats(params: FJSPParams) -> OpStats:
    """Per-operation min / max / mean processing time over its eligible machines."""
    e = params.eligible
    d = params.durations.astype(jnp.float32)
    n = e.sum(-1)
    op_mask = jnp.arange(e.shape[1])[None, :] < params.job_len[:, None]
    big = jnp.float32(jnp.inf)
    mn = jnp.where(e, d, big).min(-1)
    return OpStats(
        min_pt=jnp.where(n > 0, mn, 0.0),
        max_pt=jnp.where(e, d, 0.0).max(-1),
        mean_pt=jnp.where(e, d, 0.0).sum(-1) / jnp.maximum(n, 1),
        n_eligible=n.astype(jnp.int32),
        op_mask=op_mask,
    )


class OpFeatures(NamedTuple):
    """Per-operation dynamic quantities (DANIEL's op feature inputs, un-normalised)."""

    scheduled: jax.Array  # (J, O) bool
    completion_lb: jax.Array  # (J, O) float32: end if scheduled, else job ready + cumsum of min pt
    end: jax.Array  # (J, O) int32, end time of scheduled ops (0 otherwise)
    ops_left: jax.Array  # (J,) int32, unscheduled ops of the job
    work_left: jax.Array  # (J,) float32, sum of mean pt of the job's unscheduled ops
    stats: OpStats


def op_features(params: FJSPParams, state: FJSPState) -> OpFeatures:
    """Scheduled flags, completion lower bounds and remaining work, for every operation.

    The lower bound follows DANIEL (wrqccc/FJSP-DRL env lines 182-186, 395-400): an unscheduled
    operation's estimate is its job's ready time plus the min processing times of the job's
    unscheduled operations up to and including it (release times are also respected).
    """
    st = op_stats(params)
    o_max = params.durations.shape[1]
    cols = jnp.arange(o_max, dtype=jnp.int32)[None, :]
    scheduled = (cols < state.next_op[:, None]) & st.op_mask
    unsched = ~scheduled & st.op_mask
    mach = jnp.maximum(state.machine, 0)
    pt = jnp.take_along_axis(params.durations, mach[..., None], axis=2)[..., 0]
    end = jnp.where(scheduled, state.start + pt, 0)

    # Earliest start chain over unscheduled ops: c_i = max(c_{i-1}, release_i) + min_pt_i.
    def chain(c, xs):
        rel, mn, u = xs
        nc = jnp.where(u, jnp.maximum(c, rel) + mn, c)
        return nc, nc

    _, lb = jax.lax.scan(
        chain,
        state.job_ready.astype(jnp.float32),
        (params.release.T.astype(jnp.float32), st.min_pt.T, unsched.T),
    )
    lb = jnp.where(scheduled, end.astype(jnp.float32), jnp.where(st.op_mask, lb.T, 0.0))
    return OpFeatures(
        scheduled=scheduled,
        completion_lb=lb,
        end=end,
        ops_left=params.job_len - state.next_op,
        work_left=jnp.where(unsched, st.mean_pt, 0.0).sum(1),
        stats=st,
    )


class MachineFeatures(NamedTuple):
    """Per-machine dynamic quantities at time t* (DANIEL's machine feature inputs, un-normalised)."""

    n_candidates: jax.Array  # (M,) int32, nondelay candidate pairs on the machine
    n_unscheduled: jax.Array  # (M,) int32, unscheduled ops the machine can process
    max_pt: jax.Array  # (M,) float32, largest pt of those ops (DANIEL's "min pt" feature holds this)
    mean_pt: jax.Array  # (M,) float32, mean pt of those ops
    idle: jax.Array  # (M,) int32, t* - ready if the machine is free at t*, else 0
    busy_left: jax.Array  # (M,) int32, max(ready - t*, 0)
    ready: jax.Array  # (M,) int32, the machine's free time
    busy: jax.Array  # (M,) bool, still processing at t*
    t_star: jax.Array  # () int32


def machine_features(params: FJSPParams, state: FJSPState) -> MachineFeatures:
    """Per-machine counts and processing-time statistics over the unscheduled operations."""
    pf = pair_features(params, state)
    ts = t_star(params, state, pf)
    ts = jnp.where(ts == jnp.iinfo(jnp.int32).max, state.machine_ready.max(), ts)
    cand = candidates(params, state, "nondelay", pf)
    o_max = params.durations.shape[1]
    cols = jnp.arange(o_max, dtype=jnp.int32)[None, :]
    unsched = (cols >= state.next_op[:, None]) & (cols < params.job_len[:, None])
    ue = params.eligible & unsched[..., None]  # (J, O, M)
    n_un = ue.sum((0, 1))
    d = params.durations.astype(jnp.float32)
    busy = state.machine_ready > ts
    return MachineFeatures(
        n_candidates=cand.sum(0).astype(jnp.int32),
        n_unscheduled=n_un.astype(jnp.int32),
        max_pt=jnp.where(ue, d, 0.0).max((0, 1)),
        mean_pt=jnp.where(ue, d, 0.0).sum((0, 1)) / jnp.maximum(n_un, 1),
        idle=jnp.where(busy, 0, ts - state.machine_ready),
        busy_left=jnp.maximum(state.machine_ready - ts, 0),
        ready=state.machine_ready,
        busy=busy,
        t_star=ts,
    )
