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
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import CheckpointError
from jsched.slim.features import N_CTX_FEATURES, N_OP_FEATURES, ContextParts

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


class MemoryTables(NamedTuple):
    """The memory network and the classifier's memory half folded into fixed tables (once per decode).

    The 13 "directions" are the rows of ``[linear1.kernel (11); linear1.bias; 0]``, the last one
    carrying the attention's in_proj bias; ``memory_logits`` weighs them per step.
    """

    gqk: jax.Array  # (H, 13, 13) query-key products of the directions / sqrt(head width)
    paths: jax.Array  # (2 + 2H, 2D) x and y of the residual path and of each head, to linear2: [fixed | times 1/T]
    k_dir: jax.Array  # (13, D) the directions through linear2, summed over the 1 + H paths
    bias: jax.Array  # (D,) the constant directions through every path, and the biases after them
    l3: jax.Array  # (D, clf) linear3's memory columns
    l4: jax.Array  # (clf,) linear4 kernel
    b4: jax.Array  # () linear4 bias


# Directions of x (= J_j - mean J) and y (= a_j - mean M), without and with the factor 1 / T.
_X_DIR, _X_DIR_T = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]), np.eye(13)[5]
_Y_DIR, _Y_DIR_T = np.array([-1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]), np.eye(13)[10]
_ONE_DIR = np.eye(13)[11] + np.eye(13)[12]


def memory_tables(params: dict, cfg: ModelConfig) -> MemoryTables:
    h, dh = cfg.mem_heads, cfg.mem_hidden
    d = h * dh
    lin1, inp = params["linear1"], params["attn"]["in_proj"]
    w = jnp.concatenate([lin1["kernel"], lin1["bias"][None], jnp.zeros((1, d), lin1["bias"].dtype)])  # (13, d)
    f = (w @ inp["kernel"]).at[12].add(inp["bias"]).reshape(13, 3, h, dh)
    fq, fk, fv = f[:, 0], f[:, 1], f[:, 2]  # (13, H, Dh)
    w2 = params["linear2"]["kernel"]
    vals = jnp.einsum("ahd,hde,ef->haf", fv, params["attn"]["out_proj"]["kernel"].reshape(h, dh, d), w2)
    per_path = jnp.concatenate([(w @ w2)[None], vals])  # (1 + H, 13, D)
    dirs = jnp.asarray(np.stack([_X_DIR, _Y_DIR, _X_DIR_T, _Y_DIR_T]), w.dtype)
    xy = jnp.einsum("ia,pad->pid", dirs, per_path)  # (1 + H, 4, D)
    paths = jnp.concatenate([xy[:, :2], xy[:, 2:]], axis=2).reshape(-1, 2 * xy.shape[-1])
    k_dir = per_path.sum(0)
    return MemoryTables(
        gqk=jnp.einsum("ahd,bhd->hab", fq, fk) / jnp.sqrt(dh).astype(w.dtype),
        paths=paths,
        k_dir=k_dir,
        bias=jnp.asarray(_ONE_DIR, w.dtype) @ k_dir + params["attn"]["out_proj"]["bias"] @ w2 + params["linear2"]["bias"],
        l3=params["linear3_mem"]["kernel"],
        l4=params["linear4"]["kernel"][:, 0],
        b4=params["linear4"]["bias"][0],
    )


def memory_logits(tab: MemoryTables, slope: float, emb_jobs: jax.Array, c: ContextParts, job_real: jax.Array,
                  mask: jax.Array, n_machines: int) -> jax.Array:
    """``SlimNet.decode`` computed from the context's structure: same logits, far fewer flops.

    Every context feature is ``J_j``, ``a_j`` (the job's and its machine's completion), their
    ratio to the partial makespan ``T``, or one of them minus a statistic shared by all jobs, so
    ``x1_j = Linear(c_j) = z_j C W`` with ``z_j = k (x_j, y_j, 1), 1``: ``x_j = J_j - mean J``,
    ``y_j = a_j - mean M`` (centred, so no large times cancel), ``k`` = the context is non-zero,
    ``W`` the 13 directions (``MemoryTables``) and ``C`` (4 x 13) per-step weights from the
    statistics and ``1 / T``. Head h scores keys by ``z_j A_h z_l`` (``A_h = C G_h C^T``), which over
    the real keys varies only through ``alpha_hj x_l + beta_hj y_l``: the J x J work per head is one
    exp and a few multiply-adds, and the head's output is ``(sum_l p_hjl z_l) C V_h``, which only
    needs the weighted means of x and y. The softmax is shifted by its exact maximum, taken over
    the machines (``y_l`` is the same for the jobs whose ready operation is on one machine) in
    J x M work.

    Args:
        tab: ``memory_tables(params, cfg)``; slope: the classifier's LeakyReLU slope.
        emb_jobs: (J, clf) projected embeddings of the jobs' ready operations.
        c: the step's ``ContextParts``; job_real: (J,) bool, attended keys;
        mask: (J,) bool, dispatchable jobs; n_machines: M (static).

    Returns:
        (J,) logits, ``-inf`` where ``mask`` is False.
    """
    qj, mean_j, qm, mean_m, t = c.qj, c.mean_j, c.qm, c.mean_m, c.t
    inv, zero = 1.0 / t, jnp.zeros((1,), t.dtype)
    k_coef = jnp.concatenate([(mean_j - mean_m)[None], mean_j - qj, zero, (mean_j * inv)[None], mean_m - qm, zero,
                              (mean_m * inv)[None], zero, zero])  # fmt: skip
    coef = jnp.stack([jnp.asarray(_X_DIR, t.dtype) + inv * _X_DIR_T, jnp.asarray(_Y_DIR, t.dtype) + inv * _Y_DIR_T,
                      k_coef, jnp.asarray(_ONE_DIR, t.dtype)])  # (4, 13): C  # fmt: skip
    kf = c.keep.astype(t.dtype)
    kappa = kf.max()  # k of every real key
    x, y = kf * (c.jc - mean_j), kf * (c.a - mean_m)
    a_xy = jnp.einsum("ia,hab,jb->hij", coef, tab.gqk, coef[:2])  # (H, 4, 2): columns x, y of A_h
    z = jnp.stack([x, y, kf, jnp.ones_like(x)], axis=1)  # (J, 4)
    alpha, beta = jnp.einsum("ja,hab->bhj", z, a_xy)  # (H, J) each: the query's weights on x_l and y_l
    groups = (c.mach[None, :] == jnp.arange(n_machines)[:, None]) & job_real[None, :]  # (M, J)
    used = groups.any(1)  # machines some key waits for
    x_hi = jnp.where(groups, x, x.min()).max(1)
    x_lo = jnp.where(groups, x, x.max()).min(1)
    y_g = jnp.where(groups, y, y.min()).max(1)
    top = jnp.where(used, jnp.maximum(alpha[..., None] * x_hi, alpha[..., None] * x_lo) + beta[..., None] * y_g,
                    -jnp.inf).max(-1)  # (H, J) # fmt: skip
    e = jnp.where(job_real, jnp.exp(alpha[..., None] * x + beta[..., None] * y - top[..., None]), 0.0)  # (H, J, J)
    sums = jnp.einsum("hjl,lc->hjc", e, jnp.stack([jnp.ones_like(x), x, y], axis=1))  # (H, J, 3)
    means = sums[..., 1:] / sums[..., :1]  # (H, J, 2): each head's weighted mean of x and y
    feats = jnp.concatenate([jnp.stack([x, y], axis=1), jnp.moveaxis(means, 0, 1).reshape(x.shape[0], -1)], axis=1)
    both = feats @ tab.paths  # (J, 2D)
    dm = tab.bias.shape[0]
    pre = both[:, :dm] + inv * both[:, dm:] + (kappa * k_coef @ tab.k_dir + tab.bias)
    zc = nn.leaky_relu(emb_jobs + nn.relu(pre) @ tab.l3, slope)
    return jnp.where(mask, zc @ tab.l4 + tab.b4, -jnp.inf)


def save_model(path, params, cfg: ModelConfig, meta: dict | None = None, kind: str = MODEL_KIND) -> None:
    """Write ``params`` of a network of size ``cfg`` as a checkpoint of ``kind`` (``meta``: free-form)."""
    from jsched.checkpoint import save_checkpoint

    save_checkpoint(path, kind, params, cfg.to_dict(), meta)


def load_model(path, kind: str | tuple[str, ...] = MODEL_KIND) -> tuple[dict, ModelConfig, dict]:
    """(params, model config, meta) of a model checkpoint; a file that does not fit is a CheckpointError."""
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
