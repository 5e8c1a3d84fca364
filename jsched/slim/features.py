"""SLIM's 15 operation and 11 context features, as pure jax functions of a padded JSP.

They follow the authors' public code (AndreaCorsini1/SelfLabelingJobShop, its input and
sampling modules), which produced the published numbers. Padding is excluded from every statistic
and padded rows are zero, so padding never changes the features of real operations and jobs.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.kernels.jsp import JSPParams, JSPState

N_OP_FEATURES = 15
N_CTX_FEATURES = 11
QUARTILES = (0.25, 0.5, 0.75)


RANK_MAX = 128  # rows up to this length find their order statistics by counting, longer ones by sorting


def masked_quantiles(x: jax.Array, mask: jax.Array, qs=QUARTILES) -> jax.Array:
    """Quantiles over the last axis counting only ``mask``ed entries (numpy 'linear' method).

    Rows of at most ``RANK_MAX`` entries (a decode's per-step job and machine times) take the
    order statistics from each entry's rank, K x K comparisons that vectorise, instead of a sort
    (XLA's CPU sort is a serial comparator loop); both give the same values.

    Args:
        x: (..., K) float values.
        mask: (..., K) bool, entries to include.
        qs: quantile levels in [0, 1].

    Returns:
        (..., len(qs)) float; 0 where no entry is included.
    """
    n = mask.sum(-1)
    xs = jnp.where(mask, x, jnp.inf)
    k = x.shape[-1]
    if k <= RANK_MAX:
        a, b = xs[..., :, None], xs[..., None, :]  # entry i against entry l
        first = jnp.arange(k)[None, :] < jnp.arange(k)[:, None]  # l before i: ties keep their order
        rank = ((b < a) | ((b == a) & first)).sum(-1)  # (..., K) each entry's position once sorted

        def at(pos):
            return jnp.where(rank == pos[..., None], xs, 0.0).sum(-1)
    else:
        srt = jnp.sort(xs, axis=-1)

        def at(pos):
            return jnp.take_along_axis(srt, pos[..., None], axis=-1)[..., 0]

    last = jnp.maximum(n - 1, 0)
    out = []
    for q in qs:
        pos = q * last.astype(x.dtype)
        lo = jnp.floor(pos).astype(jnp.int32)
        hi = jnp.minimum(lo + 1, last)
        frac = pos - lo
        vlo, vhi = at(lo), at(hi)
        out.append(jnp.where(n > 0, vlo + (vhi - vlo) * frac, 0.0))
    return jnp.stack(out, axis=-1)


def op_mask(params: JSPParams) -> jax.Array:
    """(J, O) bool: real operations."""
    o = params.machines.shape[1]
    return jnp.arange(o)[None, :] < params.job_len[:, None]


def time_scale(params: JSPParams) -> jax.Array:
    """() float32: P, the largest processing time of a real operation (at least 1)."""
    return jnp.maximum(jnp.where(op_mask(params), params.durations, 0).max(), 1).astype(jnp.float32)


def op_features(params: JSPParams, double_scaled_machine_quartiles: bool = False) -> jax.Array:
    """(J * O, 15) float32 z-scored operation features, op id ``j * O + k``; zero on padding.

    In the code's order, with ``c = tau / P`` (``P`` the largest duration): 0-2 quartiles
    (linear interpolation) of ``c`` over the operation's job; 3-5 over its machine's operations;
    6 ``c``; 7 the job's cumulative ``c`` up to and including the op / job total; 8 the share of
    the job's work from this op on; 9-11 ``c`` minus columns 0-2; 12-14 ``c`` minus columns 3-5.
    Every column is then z-scored over the real operations, ``(x - mean) / (unbiased std + 1e-6)``.

    The authors' code divides the machine quartiles by ``P`` twice (``quantile(tau) / P**2``),
    which turns columns 12-14 into ``c`` minus a tiny term; jsched scales once, and
    ``double_scaled_machine_quartiles=True`` reproduces the code (for weights trained by it).
    """
    real = op_mask(params)
    n_mach = params.machine_mask.shape[0]
    p = time_scale(params)
    c = jnp.where(real, params.durations.astype(jnp.float32) / p, 0.0)  # (J, O)
    j, o = c.shape

    job_q = masked_quantiles(c, real)  # (J, 3)
    flat_c, flat_real, flat_m = c.reshape(-1), real.reshape(-1), params.machines.reshape(-1)
    on_m = (flat_m[None, :] == jnp.arange(n_mach)[:, None]) & flat_real[None, :]  # (M, N)
    mach_q = masked_quantiles(jnp.broadcast_to(flat_c, on_m.shape), on_m)  # (M, 3)
    if double_scaled_machine_quartiles:
        mach_q = mach_q / p
    cum = jnp.cumsum(c, axis=1)
    total = cum[:, -1:]
    safe_total = jnp.where(total > 0, total, 1.0)
    done_share = cum / safe_total
    rest_share = (total - cum + c) / safe_total

    jq = jnp.broadcast_to(job_q[:, None, :], (j, o, 3)).reshape(-1, 3)
    mq = mach_q[flat_m]  # (N, 3)
    fc = flat_c[:, None]
    x = jnp.concatenate(
        [jq, mq, fc, done_share.reshape(-1, 1), rest_share.reshape(-1, 1), fc - jq, fc - mq], axis=1
    )
    w = flat_real[:, None].astype(jnp.float32)
    n = jnp.maximum(w.sum(), 1.0)
    mean = (x * w).sum(0) / n
    var = (((x - mean) ** 2) * w).sum(0) / jnp.maximum(n - 1.0, 1.0)
    z = (x - mean) / (jnp.sqrt(var) + 1e-6)
    return jnp.where(flat_real[:, None], z, 0.0)


def ready_op(params: JSPParams, state: JSPState) -> jax.Array:
    """(J,) int32 index of each job's next operation; a finished job wraps to its first op."""
    return jnp.where(state.next_op < params.job_len, state.next_op, 0).astype(jnp.int32)


class ContextParts(NamedTuple):
    """What the 11 context features are made of: two per-job values and global statistics."""

    jc: jax.Array  # (J,) job completion / P
    a: jax.Array  # (J,) completion of the machine of the job's ready op / P
    mach: jax.Array  # (J,) int32 machine of the job's ready op
    qj: jax.Array  # (3,) quartiles of jc over real jobs
    mean_j: jax.Array  # ()
    qm: jax.Array  # (3,) quartiles of machine completions over real machines
    mean_m: jax.Array  # ()
    t: jax.Array  # () partial makespan / P + 1e-5
    keep: jax.Array  # (J,) bool: real job and t > 0 (else the features are zero)


def context_parts(params: JSPParams, state: JSPState) -> ContextParts:
    p = time_scale(params)
    job_real = params.job_len > 0
    mach_real = params.machine_mask
    jc = state.job_ready.astype(jnp.float32) / p  # (J,)
    mc = state.machine_ready.astype(jnp.float32) / p  # (M,)
    k = ready_op(params, state)
    mach = jnp.take_along_axis(params.machines, k[:, None], axis=1)[:, 0]
    return ContextParts(
        jc=jc,
        a=mc[mach],
        mach=mach,
        qj=masked_quantiles(jc, job_real),
        mean_j=jnp.where(job_real, jc, 0.0).sum() / jnp.maximum(job_real.sum(), 1),
        qm=masked_quantiles(mc, mach_real),
        mean_m=jnp.where(mach_real, mc, 0.0).sum() / jnp.maximum(mach_real.sum(), 1),
        t=jnp.where(job_real, jc, -jnp.inf).max() + 1e-5,
        keep=job_real & (state.t > 0),
    )


def context_features(params: JSPParams, state: JSPState) -> jax.Array:
    """(J, 11) float32 context of every job in the partial schedule ``state``; zero on padding.

    In the code's order, with ``J`` every job's completion time, ``M`` every machine's (both / P),
    ``a_j = M[machine of j's next op]`` (a finished job wraps to its first op) and
    ``T = max(J) + 1e-5``: 0 ``J_j - a_j``; 1-3 ``J_j - quartiles(J)``; 4 ``J_j - mean(J)``;
    5 ``J_j / T``; 6-8 ``a_j - quartiles(M)``; 9 ``a_j - mean(M)``; 10 ``a_j / T``. Step 0 is all zeros.
    """
    c = context_parts(params, state)
    jc, a = c.jc, c.a
    ctx = jnp.concatenate(
        [
            (jc - a)[:, None],
            jc[:, None] - c.qj[None, :],
            (jc - c.mean_j)[:, None],
            (jc / c.t)[:, None],
            a[:, None] - c.qm[None, :],
            (a - c.mean_m)[:, None],
            (a / c.t)[:, None],
        ],
        axis=1,
    )
    return jnp.where(c.keep[:, None], ctx, 0.0)
