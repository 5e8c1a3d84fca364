"""SLIM's pointer network (flax linen) and its model file.

A GATv2 encoder on the disjunctive graph runs once per instance; a memory network over the jobs'
context features and a classifier score the jobs at every step (the authors' pointer network, AndreaCorsini1/SelfLabelingJobShop;
default sizes: their PtrNet-B256). ``save_model`` / ``load_model`` write and read the
``slim-model`` checkpoint that ``jsched.slim.method`` loads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp

from jsched.errors import CheckpointError
from jsched.slim.features import N_CTX_FEATURES, N_OP_FEATURES

MODEL_KIND = "slim-model"


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the network (defaults: the authors' code and its B256 checkpoint)."""

    gat_hidden: int = 64  # per-head width of GAT layer 1
    gat_heads: int = 3
    embed: int = 128  # width of GAT layer 2 (heads averaged)
    mem_hidden: int = 64  # per-head width of the memory network's attention
    mem_heads: int = 3
    mem_size: int = 128
    clf_size: int = 128
    leaky_slope: float = 0.15
    double_scaled_machine_quartiles: bool = False  # see jsched.slim.features

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown model config fields {sorted(unknown)}")
        return cls(**d)


def _clique_scores(gl: jax.Array, gr: jax.Array, att: jax.Array, slope: float) -> jax.Array:
    """``sc[m, p, q, h] = sum_c att[h, c] leakyrelu(gr[m, p, h, c] + gl[m, q, h, c])``.

    A scan over the channels c: XLA on CPU compiles the one-expression broadcast-and-reduce over
    (M, K, K, H, C) into far slower code.
    """
    l = jnp.moveaxis(gl, -1, 0)  # (C, M, K, H)
    r = jnp.moveaxis(gr, -1, 0)

    def body(acc, xs):
        lc, rc, ac = xs
        return acc + nn.leaky_relu(rc[:, :, None] + lc[:, None, :], slope) * ac, None

    m, k, h, _ = gl.shape
    init = jnp.zeros((m, k, k, h), gl.dtype)
    return jax.lax.scan(body, init, (l, r, att.T))[0]


class GATv2(nn.Module):
    """One GATv2 layer (PyG ``GATv2Conv`` semantics, add_self_loops=False, dropout 0).

    ``score_e = att . leakyrelu(W_l x_src + W_r x_dst)``, softmax over the target's in-edges,
    ``out_i = sum_e alpha_e W_l x_src + bias``; heads concatenated or averaged.

    The in-edges of an operation are the other operations of its machine (a dense (K, K) block
    per machine, so the aggregation is a batched matmul) and its job predecessor (one gather);
    one softmax runs over both (``jsched.slim.graph``).
    """

    features: int
    heads: int
    concat: bool
    slope: float

    @nn.compact
    def __call__(self, x: jax.Array, groups: jax.Array, pred: jax.Array, slot: jax.Array) -> jax.Array:
        n = x.shape[0]  # includes the dummy node n - 1
        m, k = groups.shape
        h, c = self.heads, self.features
        xl = nn.Dense(h * c, name="lin_l")(x).reshape(n, h, c)
        xr = nn.Dense(h * c, name="lin_r")(x).reshape(n, h, c)
        att = self.param("att", nn.initializers.glorot_uniform(), (1, h, c))
        gl, gr = xl[groups], xr[groups]  # (M, K, H, C)
        sc = _clique_scores(gl, gr, att[0], self.slope)  # (M, K, K, H), target p, source q
        real = groups < n - 1
        ok = real[:, :, None] & real[:, None, :] & ~jnp.eye(k, dtype=bool)
        sc = jnp.where(ok[..., None], sc, -jnp.inf)
        xp = xl[pred]  # (N, H, C), message of the job predecessor
        sp = (nn.leaky_relu(xp + xr, self.slope) * att).sum(-1)
        sp = jnp.where((pred < n - 1)[:, None], sp, -jnp.inf)[groups]  # (M, K, H)
        mx = jnp.maximum(sc.max(axis=2), sp)
        mx = jax.lax.stop_gradient(jnp.where(jnp.isfinite(mx), mx, 0.0))
        ec = jnp.exp(sc - mx[:, :, None])
        ep = jnp.exp(sp - mx)
        den = ec.sum(axis=2) + ep
        den = jnp.where(den > 0, den, 1.0)
        out = jnp.einsum("mpqh,mqhc->mphc", ec / den[:, :, None], gl) + (ep / den)[..., None] * xp[groups]
        out = jnp.take(out.reshape(m * k, h, c), slot, axis=0, mode="fill", fill_value=0.0)  # (N, H, C)
        out = out.reshape(n, h * c) if self.concat else out.mean(axis=1)
        bias = self.param("bias", nn.initializers.zeros, (h * c if self.concat else c,))
        return out + bias


class MemoryAttention(nn.Module):
    """torch ``MultiheadAttention`` (self-attention, biases, scaled dot product) with a key mask."""

    heads: int
    head_dim: int

    @nn.compact
    def __call__(self, x: jax.Array, key_mask: jax.Array) -> jax.Array:
        j = x.shape[-2]
        d = self.heads * self.head_dim
        qkv = nn.Dense(3 * d, name="in_proj")(x).reshape(*x.shape[:-1], 3, self.heads, self.head_dim)
        q, k, v = qkv[..., 0, :, :], qkv[..., 1, :, :], qkv[..., 2, :, :]  # (..., J, H, Dh)
        s = jnp.einsum("...qhd,...khd->...hqk", q, k) / jnp.sqrt(self.head_dim).astype(x.dtype)
        s = jnp.where(key_mask[..., None, None, :], s, -1e30)
        a = jax.nn.softmax(s, axis=-1)
        out = jnp.einsum("...hqk,...khd->...qhd", a, v).reshape(*x.shape[:-2], j, d)
        return nn.Dense(d, name="out_proj")(out)


class SlimNet(nn.Module):
    """The whole network; ``encode`` runs once per instance, ``decode`` once per step.

    * Encoder, on the disjunctive graph (``jsched.slim.graph``): two GATv2 layers (Brody et al.
      2022), LeakyReLU slope 0.15, no self loops; layer 1 concatenates its heads, layer 2 averages
      them, as in the authors' code (the paper says concatenated for both).
      ``e = [x || relu(GAT2([x || relu(GAT1(x))]))]``.
    * Memory network, every step, over the jobs' 11 context features: ``x1 = Linear(c)``,
      ``x2 = x1 + MHA(x1, x1, x1)`` (no layer norm; padded jobs masked out as keys),
      ``s = relu(Linear(x2))``.
    * Classifier: ``z_j = Linear(LeakyReLU(Linear([e_{o(t,j)} || s_j])))``, ``-inf`` on finished
      and padded jobs; the softmax over jobs is the policy. Its first layer is split into an
      embedding part (applied once per instance) and a memory part.
    """

    cfg: ModelConfig = ModelConfig()

    def setup(self):
        c = self.cfg
        self.gat1 = GATv2(c.gat_hidden, c.gat_heads, True, c.leaky_slope)
        self.gat2 = GATv2(c.embed, c.gat_heads, False, c.leaky_slope)
        self.linear1 = nn.Dense(c.mem_hidden * c.mem_heads)
        self.attn = MemoryAttention(c.mem_heads, c.mem_hidden)
        self.linear2 = nn.Dense(c.mem_size)
        self.linear3_embed = nn.Dense(c.clf_size)  # the embedding columns of Linear(271 -> clf)
        self.linear3_mem = nn.Dense(c.clf_size, use_bias=False)  # its memory columns
        self.linear4 = nn.Dense(1)

    def encode(self, x: jax.Array, groups: jax.Array, pred: jax.Array, slot: jax.Array) -> jax.Array:
        """Operation embeddings projected by the classifier's first layer.

        Args:
            x: (N, 15) operation features (N = J * O, padded ops are zero rows).
            groups, pred, slot: the disjunctive graph (``jsched.slim.graph``); dummy id N.

        Returns:
            (N, clf_size): ``e_i W_e + b`` for every operation.
        """
        xd = jnp.concatenate([x, jnp.zeros((1, x.shape[1]), x.dtype)], axis=0)
        h1 = nn.relu(self.gat1(xd, groups, pred, slot))
        h2 = nn.relu(self.gat2(jnp.concatenate([xd, h1], axis=-1), groups, pred, slot))
        e = jnp.concatenate([xd, h2], axis=-1)[:-1]
        return self.linear3_embed(e)

    def decode(self, emb_jobs: jax.Array, ctx: jax.Array, job_real: jax.Array, mask: jax.Array) -> jax.Array:
        """Masked logits over jobs.

        Args:
            emb_jobs: (J, clf_size) projected embedding of each job's ready operation.
            ctx: (J, 11) context features.
            job_real: (J,) bool, False on padded jobs (never attended).
            mask: (J,) bool, jobs that may be dispatched.

        Returns:
            (J,) logits, ``-inf`` where ``mask`` is False.
        """
        x1 = self.linear1(ctx)
        x2 = x1 + self.attn(x1, job_real)
        s = nn.relu(self.linear2(x2))
        z = nn.leaky_relu(emb_jobs + self.linear3_mem(s), self.cfg.leaky_slope)
        logits = self.linear4(z)[..., 0]
        return jnp.where(mask, logits, -jnp.inf)

    def __call__(self, x, groups, pred, slot, ready_ids, ctx, job_real, mask):
        """Full forward pass for one state (encoder + decoder): (J,) masked logits."""
        emb = self.encode(x, groups, pred, slot)
        return self.decode(emb[ready_ids], ctx, job_real, mask)


@partial(jax.jit, static_argnums=0)
def init_params(cfg: ModelConfig, key: jax.Array) -> dict:
    """Random parameters for ``cfg`` (shapes do not depend on the instance size); jitted."""
    n, j = 4, 2
    x = jnp.zeros((n, N_OP_FEATURES), jnp.float32)
    groups = jnp.array([[0, 3], [1, 2]], jnp.int32)  # 2 jobs x 2 machines
    pred = jnp.array([4, 0, 4, 2, 4], jnp.int32)
    slot = jnp.array([0, 2, 3, 1, 4], jnp.int32)
    ctx = jnp.zeros((j, N_CTX_FEATURES), jnp.float32)
    ones = jnp.ones((j,), bool)
    return SlimNet(cfg).init(key, x, groups, pred, slot, jnp.array([0, 2]), ctx, ones, ones)["params"]


def count_params(params) -> int:
    return int(sum(x.size for x in jax.tree.leaves(params)))


def decode_affine(params: dict, cfg: ModelConfig, emb_jobs: jax.Array, jc: jax.Array, a: jax.Array,
                  stats: jax.Array, keep: jax.Array, job_real: jax.Array, mask: jax.Array) -> jax.Array:
    """``SlimNet.decode`` computed from the context's structure: same logits, far fewer flops.

    Every context feature is ``J_j``, ``a_j`` (the job's and its machine's completion), their
    ratio to the partial makespan, or one of them minus a statistic shared by all jobs, so
    ``x1_j = Linear(c_j)`` lies in a 4-dimensional space: ``x1_j = z_j X`` with
    ``z_j = keep_j (J_j - mean J, a_j - mean M, 1), 1`` (centred, so no large times cancel). Attention scores are then ``z_j A_h z_l`` with a
    4x4 ``A_h`` per head, each head's output is ``(sum_l p_jl z_l) B_h``, and the memory layer's
    input is a linear map of those 4 + 4H numbers per job. This drops the (J, 64H) projections
    and the J x J x 64 dot products (the bulk of a 128-sample decode) to J x J x 4; the results
    match the direct formulation to float rounding (tested).

    Args:
        params: ``SlimNet`` parameters; emb_jobs: (J, clf) projected embeddings of ready ops.
        jc, a: (J,) per-job values; stats: (9,) ``qj(3), mean_j, qm(3), mean_m, t``
            (``jsched.slim.features.ContextParts``); keep: (J,) bool, non-zero context.
        job_real: (J,) bool, attended keys; mask: (J,) bool, dispatchable jobs.
    """
    w1, b1 = params["linear1"]["kernel"], params["linear1"]["bias"]  # (11, d)
    qj, mean_j, qm, mean_m, t = stats[0:3], stats[3], stats[4:7], stats[7], stats[8]
    # in terms of the centred J_j - mean_j and a_j - mean_m (no cancellation of large times)
    u = w1[0] + w1[1] + w1[2] + w1[3] + w1[4] + w1[5] / t
    v = -w1[0] + w1[6] + w1[7] + w1[8] + w1[9] + w1[10] / t
    g = ((mean_j - mean_m) * w1[0] + (mean_j - qj) @ w1[1:4] + (mean_j / t) * w1[5]
         + (mean_m - qm) @ w1[6:9] + (mean_m / t) * w1[10])
    x_basis = jnp.stack([u, v, g, b1])  # (4, d): x1_j = z_j @ x_basis
    kf = keep.astype(jc.dtype)
    z = jnp.stack([kf * (jc - mean_j), kf * (a - mean_m), kf, jnp.ones_like(jc)], axis=1)  # (J, 4)

    h, dh = cfg.mem_heads, cfg.mem_hidden
    d = h * dh
    inp = params["attn"]["in_proj"]
    qkv = x_basis @ inp["kernel"] + jnp.array([0.0, 0.0, 0.0, 1.0])[:, None] * inp["bias"]  # (4, 3d)
    qkv = qkv.reshape(4, 3, h, dh)
    bq, bk, bv = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # (4, H, Dh)
    amat = jnp.einsum("ahd,bhd->hab", bq, bk) / jnp.sqrt(dh).astype(jc.dtype)  # (H, 4, 4)
    s = jnp.einsum("ja,hab,lb->hjl", z, amat, z)  # (H, J, J)
    s = jnp.where(job_real[None, None, :], s, -1e30)
    p = jax.nn.softmax(s, axis=-1)
    wz = jnp.einsum("hjl,lb->jhb", p, z)  # (J, H, 4)
    wo = params["attn"]["out_proj"]["kernel"].reshape(h, dh, d)
    c_h = jnp.einsum("bhe,hef->hbf", bv, wo)  # (H, 4, d): head output basis through out_proj
    w2, b2 = params["linear2"]["kernel"], params["linear2"]["bias"]
    pre = (
        z @ (x_basis @ w2)
        + jnp.einsum("jhb,hbf->jf", wz, jnp.einsum("hbe,ef->hbf", c_h, w2))
        + params["attn"]["out_proj"]["bias"] @ w2
        + b2
    )
    s_mem = nn.relu(pre)
    zc = nn.leaky_relu(emb_jobs + s_mem @ params["linear3_mem"]["kernel"], cfg.leaky_slope)
    logits = (zc @ params["linear4"]["kernel"])[:, 0] + params["linear4"]["bias"][0]
    return jnp.where(mask, logits, -jnp.inf)


def save_model(path, params, cfg: ModelConfig, meta: dict | None = None, kind: str = MODEL_KIND) -> None:
    """Write ``params`` of a network of size ``cfg`` as a checkpoint of ``kind`` (``meta``: free-form)."""
    from jsched.checkpoint import save_checkpoint

    save_checkpoint(path, kind, params, cfg.to_dict(), meta)


def load_model(path, kind: str | tuple[str, ...] = MODEL_KIND) -> tuple[dict, ModelConfig, dict]:
    """(params, model config, meta) of a model checkpoint; a file that does not fit is a CheckpointError."""
    import numpy as np

    from jsched.checkpoint import load_checkpoint

    stored = load_checkpoint(path, kind)
    try:
        cfg = ModelConfig.from_dict(stored.config)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad model config ({e})") from None
    shapes = jax.eval_shape(lambda: init_params(cfg, jax.random.key(0)))
    template = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)
    ck = load_checkpoint(path, kind, template=template)
    return jax.tree.map(jnp.asarray, ck.tree), cfg, ck.meta
