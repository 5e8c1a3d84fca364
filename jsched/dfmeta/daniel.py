"""DANIEL's dual-attention FJSP policy (Wang et al., TNNLS 2023) in flax linen, on jsched's FJSP kernel.

A port of the released network (wrqccc/FJSP-DRL @2cf81b1; 28,834 parameters): an action is a
(job, machine) pair ``j * M + k`` among the non-delay candidates. Where the port differs:
times are divided by the instance's largest processing time, dead operations and machines are
zeroed and left out of attention and pooling, and (as in the released code) the "min pt" machine
feature holds the max pt. ``policy(params, obs) -> logits`` is what ``jsched.rollout`` and the ES
read; :class:`DanielPPONet` is the same network on flat observations for ``jsched.rl.ppo``.
"""

from __future__ import annotations

from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jsched.kernels import fjsp
from jsched.kernels.env import FJSP_ENV

N_OP_FEATURES, N_MACHINE_FEATURES, N_PAIR_FEATURES = 10, 8, 8
EPS = 1e-8


class DanielObs(NamedTuple):
    """What the DANIEL network reads for one instance and state (J jobs, O ops, M machines)."""

    op_x: jax.Array  # (J, O, 10) float32, z-scored operation features (0 on dead/padded ops)
    op_live: jax.Array  # (J, O) bool, real operations not yet finished by t*
    m_x: jax.Array  # (M, 8) float32, z-scored machine features (0 on dead/padded machines)
    m_live: jax.Array  # (M,) bool, real machines with an unscheduled compatible operation
    m_adj: jax.Array  # (M, M) bool, machines sharing an unscheduled operation (diagonal on live)
    pair_x: jax.Array  # (J, M, 8) float32, pair features (0 outside the candidates)
    cand: jax.Array  # (J, M) bool, the non-delay candidate pairs (the action set)
    next_op: jax.Array  # (J,) int32, each job's next operation (clipped to O - 1)


def _zscore(x: jax.Array, live: jax.Array) -> jax.Array:
    """Per-feature z-score over the live rows of ``x`` (..., F); dead rows become 0."""
    w = live[..., None].astype(x.dtype)
    axes = tuple(range(x.ndim - 1))
    n = jnp.maximum(w.sum(axes), 1.0)
    mean = (x * w).sum(axes) / n
    std = jnp.sqrt((((x - mean) * w) ** 2).sum(axes) / n)
    # A constant feature (std at float32 rounding level) is 0, as it is in float64 in the
    # released code, instead of rounding noise divided by 1e-8.
    z = jnp.where(std > 1e-5, (x - mean) / (std + EPS), 0.0)
    return jnp.where(live[..., None], z, 0.0)


def _safe_div(a, b):
    return jnp.where(b > 0, a / jnp.where(b > 0, b, 1.0), 0.0)


def observe(params: fjsp.FJSPParams, state: fjsp.FJSPState) -> DanielObs:
    """DANIEL's observation of a padded FJSP instance in a dispatch state."""
    j_n, o_n, m_n = params.durations.shape
    scale = jnp.maximum(params.durations.max(), 1).astype(jnp.float32)
    pf = fjsp.pair_features(params, state)
    of = fjsp.op_features(params, state)
    mf = fjsp.machine_features(params, state)
    st = of.stats
    ts = mf.t_star.astype(jnp.float32)
    cand = fjsp.candidates(params, state, "nondelay", pf)
    cols = jnp.arange(o_n)[None, :]
    is_next = (cols == state.next_op[:, None]) & st.op_mask
    job_ready = state.job_ready.astype(jnp.float32)

    # Operations (10): scheduled, completion LB, min pt, pt span, mean pt, candidate wait,
    # remaining processing, job ops left, job work left, #compatible / M.
    wait = jnp.where(is_next, jnp.maximum(ts - job_ready, 0.0)[:, None], 0.0)
    remaining = jnp.where(of.scheduled, jnp.maximum(of.end - ts, 0.0), 0.0)
    op_raw = jnp.stack(
        [
            of.scheduled.astype(jnp.float32),
            of.completion_lb / scale,
            st.min_pt / scale,
            (st.max_pt - st.min_pt) / scale,
            st.mean_pt / scale,
            wait / scale,
            remaining / scale,
            jnp.broadcast_to(of.ops_left[:, None], (j_n, o_n)).astype(jnp.float32),
            jnp.broadcast_to(of.work_left[:, None], (j_n, o_n)) / scale,
            st.n_eligible / jnp.maximum(params.machine_mask.sum(), 1),
        ],
        axis=-1,
    )
    op_live = st.op_mask & ~(of.scheduled & (of.end <= ts))

    # Machines (8): #candidates, #unscheduled compatible ops, max pt, mean pt, idle, busy left,
    # free time, busy flag.
    m_raw = jnp.stack(
        [
            mf.n_candidates.astype(jnp.float32),
            mf.n_unscheduled.astype(jnp.float32),
            mf.max_pt / scale,
            mf.mean_pt / scale,
            mf.idle / scale,
            mf.busy_left / scale,
            mf.ready / scale,
            mf.busy.astype(jnp.float32),
        ],
        axis=-1,
    )
    m_live = params.machine_mask & (mf.n_unscheduled > 0)

    unsched = (cols >= state.next_op[:, None]) & st.op_mask
    ue = (params.eligible & unsched[..., None]).astype(jnp.float32)  # (J, O, M)
    share = jnp.einsum("jok,joq->kq", ue, ue) > 0
    m_adj = (share | jnp.eye(m_n, dtype=bool)) & m_live[:, None] & m_live[None, :]

    # Pairs (8), candidates only.
    p = pf.duration.astype(jnp.float32)
    op_max = jnp.take_along_axis(st.max_pt, jnp.minimum(state.next_op, o_n - 1)[:, None], 1)
    cand_p = jnp.where(cand, p, 0.0)
    un_max = jnp.where(ue > 0, params.durations, 0).max().astype(jnp.float32)
    op_wait = jnp.maximum(ts - job_ready, 0.0)[:, None]
    pair_raw = jnp.stack(
        [
            p / scale,
            _safe_div(p, op_max),
            _safe_div(p, cand_p.max(0, keepdims=True)),
            _safe_div(p, un_max),
            _safe_div(p, mf.max_pt[None, :]),
            _safe_div(p, cand_p.max()),
            _safe_div(p, of.work_left[:, None]),
            (op_wait + mf.idle[None, :]) / scale,
        ],
        axis=-1,
    )
    return DanielObs(
        op_x=_zscore(op_raw, op_live),
        op_live=op_live,
        m_x=_zscore(m_raw, m_live),
        m_live=m_live,
        m_adj=m_adj,
        pair_x=jnp.where(cand[..., None], pair_raw, 0.0),
        cand=cand,
        next_op=jnp.minimum(state.next_op, o_n - 1).astype(jnp.int32),
    )


# ---------------------------------------------------------------------------------------------
# Network

_xavier = nn.initializers.variance_scaling(1.414**2, "fan_avg", "uniform")


def _masked_softmax(e: jax.Array, mask: jax.Array, axis: int) -> jax.Array:
    e = jnp.where(mask, e, -1e9)
    a = jax.nn.softmax(e, axis=axis)
    return jnp.where(mask, a, 0.0)


class DANLayer(nn.Module):
    """One dual-attention layer: operation GAT within jobs, machine attention with edges."""

    heads: int
    head_dim: int
    concat: bool

    @nn.compact
    def __call__(self, h_op, h_m, obs: DanielObs):
        j_n, o_n, _ = h_op.shape
        m_n = h_m.shape[0]
        hd, H = self.head_dim, self.heads

        # Operation block: neighbours {pred, self, succ} inside the job.
        w_op = nn.Dense(H * hd, use_bias=False, kernel_init=_xavier, name="op_W")
        a_op = self.param("op_a", _xavier, (2, H, hd))
        wh = w_op(h_op).reshape(j_n, o_n, H, hd)
        live = obs.op_live
        pad_h = jnp.zeros((j_n, 1, H, hd), wh.dtype)
        pad_l = jnp.zeros((j_n, 1), bool)
        pred = jnp.concatenate([pad_h, wh[:, :-1]], 1)
        succ = jnp.concatenate([wh[:, 1:], pad_h], 1)
        nb = jnp.stack([pred, wh, succ], 2)  # (J, O, 3, H, hd)
        nb_live = jnp.stack(
            [jnp.concatenate([pad_l, live[:, :-1]], 1), live, jnp.concatenate([live[:, 1:], pad_l], 1)], 2
        ) & live[..., None]
        e = jnp.einsum("johd,hd->joh", wh, a_op[0])[:, :, None] + jnp.einsum("jonhd,hd->jonh", nb, a_op[1])
        alpha = _masked_softmax(nn.leaky_relu(e, 0.2), nb_live[..., None], axis=2)
        out_op = jnp.einsum("jonh,jonhd->johd", alpha, nb)

        # Machine block: attention over machines q sharing an unscheduled op with k; the edge
        # term sums the input embeddings of the candidates both machines can process.
        w_m = nn.Dense(H * hd, use_bias=False, kernel_init=_xavier, name="m_W")
        w_e = nn.Dense(H * hd, use_bias=False, kernel_init=_xavier, name="edge_W")
        a_m = self.param("m_a", _xavier, (3, H, hd))
        whm = w_m(h_m).reshape(m_n, H, hd)
        x_cand = h_op[jnp.arange(j_n), obs.next_op]  # (J, D_in)
        cand = obs.cand.astype(h_op.dtype)
        c = jnp.einsum("jk,jq,jd->kqd", cand, cand, x_cand)
        wc = w_e(c).reshape(m_n, m_n, H, hd)
        e_m = (
            jnp.einsum("khd,hd->kh", whm, a_m[0])[:, None]
            + jnp.einsum("qhd,hd->qh", whm, a_m[1])[None, :]
            + jnp.einsum("kqhd,hd->kqh", wc, a_m[2])
        )
        beta = _masked_softmax(nn.leaky_relu(e_m, 0.2), obs.m_adj[..., None], axis=1)
        out_m = jnp.einsum("kqh,qhd->khd", beta, whm)

        if self.concat:
            out_op, out_m = out_op.reshape(j_n, o_n, H * hd), out_m.reshape(m_n, H * hd)
        else:
            out_op, out_m = out_op.mean(-2), out_m.mean(-2)
        return nn.elu(out_op), nn.elu(out_m)


class _MLP(nn.Module):
    hidden: tuple[int, ...] = (64, 64)
    eas: bool = False  # EAS-Lay: a residual layer after the last hidden layer, zero at init

    @nn.compact
    def __call__(self, x):
        for h in self.hidden:
            x = nn.tanh(nn.Dense(h)(x))
        if self.eas:
            h = self.hidden[-1]
            x = x + nn.Dense(h, kernel_init=nn.initializers.zeros, name="eas_out")(nn.relu(nn.Dense(h, name="eas_in")(x)))
        return nn.Dense(1)(x)[..., 0]


class DanielNet(nn.Module):
    """The DANIEL network on one observation: ``(scores (J*M,), value ())``.

    Scores are finite everywhere; :func:`policy` masks non-candidates with -inf.
    """

    heads: int = 4
    head_dims: tuple[int, ...] = (32, 8)
    eas: bool = False  # add EAS-Lay's residual layer to the actor (jsched.dfmeta.baselines)

    @nn.compact
    def __call__(self, obs: DanielObs):
        h_op, h_m = obs.op_x, obs.m_x
        for i, hd in enumerate(self.head_dims):
            h_op, h_m = DANLayer(self.heads, hd, concat=i < len(self.head_dims) - 1, name=f"dan{i}")(h_op, h_m, obs)
        h_op = jnp.where(obs.op_live[..., None], h_op, 0.0)
        h_m = jnp.where(obs.m_live[:, None], h_m, 0.0)
        pool_op = h_op.sum((0, 1)) / jnp.maximum(obs.op_live.sum(), 1)
        pool_m = h_m.sum(0) / jnp.maximum(obs.m_live.sum(), 1)
        j_n, m_n = obs.cand.shape
        d = h_op.shape[-1]
        h_cand = h_op[jnp.arange(j_n), obs.next_op]  # (J, d)
        x = jnp.concatenate(
            [
                jnp.broadcast_to(h_cand[:, None], (j_n, m_n, d)),
                jnp.broadcast_to(h_m[None], (j_n, m_n, d)),
                jnp.broadcast_to(pool_op, (j_n, m_n, d)),
                jnp.broadcast_to(pool_m, (j_n, m_n, d)),
                obs.pair_x,
            ],
            axis=-1,
        )
        scores = _MLP(eas=self.eas, name="actor")(x).reshape(-1)
        value = _MLP(name="critic")(jnp.concatenate([pool_op, pool_m]))
        return scores, value


NET = DanielNet()


def policy(params, obs: DanielObs) -> jax.Array:
    """``policy(params, obs) -> logits`` (J*M,), -inf outside the non-delay candidates.

    ``params`` are the network variables (``{"params": ...}``) of :data:`NET`.
    """
    scores, _ = NET.apply(params, obs)
    return jnp.where(obs.cand.reshape(-1), scores, -jnp.inf)


ENV = FJSP_ENV._replace(observe=observe)  # the FJSP dispatch env as DANIEL sees it


EAS_NET = DanielNet(eas=True)
EAS_KEYS = ("eas_in", "eas_out")


def policy_eas(params, obs: DanielObs) -> jax.Array:
    """EAS-Lay policy: ``params = (frozen DANIEL variables, added-layer params)``."""
    frozen, eas = params
    actor = {**frozen["params"]["actor"], **eas}
    scores, _ = EAS_NET.apply({"params": {**frozen["params"], "actor": actor}}, obs)
    return jnp.where(obs.cand.reshape(-1), scores, -jnp.inf)


def init_eas(key: jax.Array):
    """Fresh added-layer parameters (the output layer is zero, so the policy is unchanged)."""
    full = _init_eas(key, _dummy())
    return {k: full["params"]["actor"][k] for k in EAS_KEYS}


def _dummy(n_jobs: int = 3, n_ops: int = 2, n_machines: int = 2):
    return fjsp.FJSPParams(
        durations=jnp.ones((n_jobs, n_ops, n_machines), jnp.int32),
        eligible=jnp.ones((n_jobs, n_ops, n_machines), bool),
        job_len=jnp.full((n_jobs,), n_ops, jnp.int32),
        release=jnp.zeros((n_jobs, n_ops), jnp.int32),
        machine_mask=jnp.ones((n_machines,), bool),
    )


@jax.jit
def _init_eas(key, dummy):
    return EAS_NET.init(key, observe(dummy, fjsp.reset(dummy)))


def init_params(key: jax.Array, n_jobs: int = 3, n_ops: int = 2, n_machines: int = 2):
    """Fresh network variables (the network is size-agnostic; any shape initialises it)."""
    return _init(key, _dummy(n_jobs, n_ops, n_machines))


@jax.jit
def _init(key, dummy):
    return NET.init(key, observe(dummy, fjsp.reset(dummy)))


def n_params(params) -> int:
    return int(sum(np.prod(x.shape) for x in jax.tree.leaves(params)))


# ---------------------------------------------------------------------------------------------
# Flat observations for the shared PPO (one array per env)


def obs_size(n_jobs: int, n_ops: int, n_machines: int) -> int:
    j, o, m = n_jobs, n_ops, n_machines
    return j * o * (N_OP_FEATURES + 1) + m * (N_MACHINE_FEATURES + 1) + m * m + j * m * (N_PAIR_FEATURES + 1) + j


def flatten_obs(obs: DanielObs) -> jax.Array:
    """One float32 vector holding every field of ``obs`` (sizes given by ``obs_size``)."""
    return jnp.concatenate([jnp.asarray(x, jnp.float32).reshape(-1) for x in obs])


def unflatten_obs(flat: jax.Array, n_jobs: int, n_ops: int, n_machines: int) -> DanielObs:
    j, o, m = n_jobs, n_ops, n_machines
    shapes = [
        ((j, o, N_OP_FEATURES), jnp.float32),
        ((j, o), bool),
        ((m, N_MACHINE_FEATURES), jnp.float32),
        ((m,), bool),
        ((m, m), bool),
        ((j, m, N_PAIR_FEATURES), jnp.float32),
        ((j, m), bool),
        ((j,), jnp.int32),
    ]
    out, i = [], 0
    for shape, dtype in shapes:
        n = int(np.prod(shape))
        x = flat[i : i + n].reshape(shape)
        out.append(x > 0.5 if dtype is bool else x.astype(dtype))
        i += n
    return DanielObs(*out)


class DanielPPONet(nn.Module):
    """:class:`DanielNet` on flat observations with a leading batch axis, for ``jsched.rl.ppo``.

    Its variables are exactly :data:`NET`'s (``params["params"]["net"]``), so a PPO-trained
    ``{"params": params["params"]["net"]}`` is what :func:`policy` takes.
    """

    n_jobs: int
    n_ops: int
    n_machines: int

    @nn.compact
    def __call__(self, flat):
        net = DanielNet(name="net")
        obs = jax.vmap(lambda f: unflatten_obs(f, self.n_jobs, self.n_ops, self.n_machines))(flat)
        return nn.vmap(
            lambda mdl, o: mdl(o), variable_axes={"params": None}, split_rngs={"params": False}
        )(net, obs)
