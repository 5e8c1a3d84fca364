"""The L-RHO fixing network (flax linen), its loss, its model file and the RHO predictor.

Per overlapping window operation the network gives the logit that it keeps its previous
machine, from embeddings of the operation, of the machines and of the window as a whole
(paper Fig. 2). A model is a ``lrho-model`` checkpoint (:mod:`jsched.checkpoint`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jsched.checkpoint import load_checkpoint, save_checkpoint
from jsched.errors import CheckpointError
from jsched.rho.features import MACHINE_FEATURES, OP_FEATURES, feature_names, pad_batch, window_features

KIND = "lrho-model"
NORM_KEYS = ("op_mean", "op_std", "m_mean", "m_std")


@dataclass(frozen=True)
class NetConfig:
    hidden: int = 64
    n_op_features: int = len(OP_FEATURES)
    n_machine_features: int = len(MACHINE_FEATURES)
    breakdown: int = 0  # 1: reads the breakdown features too (see features.feature_names)


class _Embed(nn.Module):
    hidden: int

    @nn.compact
    def __call__(self, x):
        x = nn.LayerNorm()(x)
        return nn.Dense(self.hidden)(nn.relu(nn.Dense(self.hidden)(x)))


def _masked_mean(x, mask):
    w = mask[..., None].astype(x.dtype)
    return (x * w).sum(axis=-2) / jnp.maximum(w.sum(axis=-2), 1.0)


class LRHONet(nn.Module):
    """Keep-logits for the operations of (a batch of) padded windows.

    Inputs (leading batch dims allowed): op_x (..., K, Fo), op_mask (..., K), m_x (..., M, Fm),
    m_mask (..., M), prev_m (..., K) int (-1: none). Output: logits (..., K).
    """

    hidden: int = 64

    @nn.compact
    def __call__(self, op_x, op_mask, m_x, m_mask, prev_m):
        h = self.hidden
        op_h = _Embed(h, name="op_embed")(op_x)
        m_h = _Embed(h, name="machine_embed")(m_x)
        g = jnp.concatenate([_masked_mean(op_h, op_mask), _masked_mean(m_h, m_mask)], axis=-1)
        g = nn.Dense(h)(nn.relu(nn.Dense(2 * h)(g)))
        idx = jnp.clip(prev_m, 0, m_h.shape[-2] - 1)
        prev_h = jnp.take_along_axis(m_h, idx[..., None], axis=-2) * (prev_m >= 0)[..., None]
        g = jnp.broadcast_to(g[..., None, :], op_h.shape[:-1] + (h,))
        z = jnp.concatenate([op_h, g, prev_h], axis=-1)
        z = nn.relu(nn.Dense(h)(z))
        return nn.Dense(1)(z)[..., 0]


def weighted_bce(logits, labels, mask, pos_weight: float):
    """Mean over ``mask`` of -(w y log s(x) + (1 - y) log(1 - s(x))), torch's pos_weight form."""
    lp, ln = jax.nn.log_sigmoid(logits), jax.nn.log_sigmoid(-logits)
    loss = -(pos_weight * labels * lp + (1.0 - labels) * ln)
    m = mask.astype(logits.dtype)
    return (loss * m).sum() / jnp.maximum(m.sum(), 1.0)


def normalise(batch: dict, norm: dict) -> tuple:
    """Standardised network inputs of a padded batch (see ``features.pad_batch``)."""
    op_x = (batch["op_x"] - norm["op_mean"]) / norm["op_std"]
    m_x = (batch["m_x"] - norm["m_mean"]) / norm["m_std"]
    return op_x, batch["op_mask"], m_x, batch["m_mask"], batch["prev_m"]


def feature_stats(arrays: dict, eps: float = 1e-8) -> dict:
    """Per-feature mean/std over the valid rows of a dataset (the authors' scaler, eps 1e-8)."""
    ox = arrays["op_x"][arrays["op_mask"]]
    mx = arrays["m_x"][arrays["m_mask"]]
    return {
        "op_mean": ox.mean(0).astype(np.float32),
        "op_std": np.sqrt(ox.var(0) + eps).astype(np.float32),
        "m_mean": mx.mean(0).astype(np.float32),
        "m_std": np.sqrt(mx.var(0) + eps).astype(np.float32),
    }


class Model(NamedTuple):
    """A loaded L-RHO model: parameters, feature normalisation, its network and training objective."""

    params: dict
    norm: dict
    config: NetConfig
    objective: str
    meta: dict


def save_model(path: str, params, norm: dict, config: NetConfig, objective: str, meta: dict | None = None) -> None:
    """Write a model (kind ``lrho-model``; the objective it was trained for goes into its config)."""
    tree = {"params": params, "norm": {k: np.asarray(norm[k], np.float32) for k in NORM_KEYS}}
    save_checkpoint(path, KIND, tree, {**asdict(config), "objective": objective}, meta)


def load_model(path: str, objective: str | None = None) -> Model:
    """Read a model; CheckpointError when it is unusable or was trained for another objective
    (makespan vs the delay objectives: a delay model loads for either)."""
    stored = load_checkpoint(path, KIND).config
    try:
        cfg = NetConfig(**{k: int(stored[k]) for k in NetConfig.__dataclass_fields__ if k != "breakdown"},
                        breakdown=int(stored.get("breakdown", 0)))  # fmt: skip
        trained_for = str(stored["objective"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: malformed L-RHO model config ({type(e).__name__}: {e})") from None
    if objective is not None and _family(trained_for) != _family(objective):
        raise CheckpointError(f"{path}: an L-RHO model for the {trained_for} objective; this run's objective is {objective}")
    fo, fm = (len(x) for x in feature_names(bool(cfg.breakdown)))
    if (cfg.n_op_features, cfg.n_machine_features) != (fo, fm):
        raise CheckpointError(
            f"{path}: trained on {cfg.n_op_features}/{cfg.n_machine_features} features, this jsched has {fo}/{fm}"
        )
    ck = load_checkpoint(path, KIND, template=_template(cfg))
    return Model(ck.tree["params"], ck.tree["norm"], cfg, trained_for, ck.meta)


def _family(objective: str) -> str:
    return "makespan" if objective == "makespan" else "delay"


def _template(cfg: NetConfig) -> dict:
    """Arrays of the shapes a model with ``cfg`` stores (what loading checks against)."""
    fo, fm = cfg.n_op_features, cfg.n_machine_features
    x = (jnp.zeros((2, fo)), jnp.ones(2, bool), jnp.zeros((1, fm)), jnp.ones(1, bool), jnp.zeros(2, jnp.int32))
    shapes = jax.eval_shape(LRHONet(cfg.hidden).init, jax.random.key(0), *x)["params"]  # traced, not run
    params = jax.tree.map(lambda a: np.zeros(a.shape, a.dtype), shapes)
    sizes = {"op_mean": fo, "op_std": fo, "m_mean": fm, "m_std": fm}
    return {"params": params, "norm": {k: np.zeros(n, np.float32) for k, n in sizes.items()}}


@partial(jax.jit, static_argnums=0)
def _keep(hidden: int, params, *x):
    return jax.nn.sigmoid(LRHONet(hidden).apply({"params": params}, *x))


def keep_probabilities(model: Model, batch: dict) -> np.ndarray:
    """A model's keep probabilities on a padded batch of windows (``features.pad_batch``); a model
    without the breakdown features reads the base columns of breakdown windows (they come first)."""
    cfg = model.config
    cut = {"op_x": batch["op_x"][..., : cfg.n_op_features], "m_x": batch["m_x"][..., : cfg.n_machine_features]}
    return np.asarray(_keep(cfg.hidden, model.params, *normalise({**batch, **cut}, model.norm)))


class Predictor:
    """The ``lrho`` variant's predictor: keep probabilities of a window's overlapping ops.

    Windows are padded to ``H`` operations so the jitted network compiles once per machine count.
    """

    def __init__(self, path: str, H: int, objective: str | None = None):
        self.model = load_model(path, objective)
        self.H = int(H)

    def __call__(self, st) -> np.ndarray:
        breakdown = bool(self.model.config.breakdown)
        wf = window_features(st, self.H, breakdown)
        batch = pad_batch([wf], max(self.H, len(wf.op)), len(wf.machine), breakdown=breakdown)
        return keep_probabilities(self.model, batch)[0][: len(wf.op)][wf.overlap]
