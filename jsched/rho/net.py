"""The L-RHO fixing network (flax linen), its loss, checkpoints and the RHO predictor.

Architecture (paper Fig. 2; code ``mk/flexible_jss_learn.py`` L70-154): operation and machine
embeddings, each LayerNorm -> Dense(h) -> ReLU -> Dense(h); a global embedding MLP(2h -> h) of
the masked means of operation and machine embeddings; for every operation the concatenation
[op embedding, global embedding, embedding of its previous machine (0 for new ops)] goes
through Dense(h) -> ReLU -> Dense(1): the logit that an overlapping operation keeps its
previous machine. Loss: BCE on logits with positive-class weight ``pos_weight`` (0.5 in the
code, which trades false "keep" predictions for misses), over overlapping operations only.

Checkpoints are msgpack (``flax.serialization``), never pickle: ``{"version", "config"
(JSON), "norm" (feature mean/std), "params"}``; a missing, corrupt or mismatched file raises
``CheckpointError``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from jsched.atomic import write_bytes_atomic
from jsched.errors import CheckpointError
from jsched.rho.features import (
    MACHINE_FEATURES,
    OP_FEATURES,
    pad_batch,
    window_features,
)

CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class NetConfig:
    hidden: int = 64
    n_op_features: int = len(OP_FEATURES)
    n_machine_features: int = len(MACHINE_FEATURES)


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
    """Per-feature mean/std over the valid rows of a dataset (the code's scaler, eps 1e-8)."""
    ox = arrays["op_x"][arrays["op_mask"]]
    mx = arrays["m_x"][arrays["m_mask"]]
    return {
        "op_mean": ox.mean(0).astype(np.float32),
        "op_std": np.sqrt(ox.var(0) + eps).astype(np.float32),
        "m_mean": mx.mean(0).astype(np.float32),
        "m_std": np.sqrt(mx.var(0) + eps).astype(np.float32),
    }


def save_checkpoint(path: str, params, norm: dict, config: NetConfig, extra: dict | None = None) -> None:
    """Write a msgpack checkpoint atomically."""
    payload = {
        "version": CHECKPOINT_VERSION,
        "config": json.dumps({**asdict(config), **(extra or {})}),
        "norm": {k: np.asarray(v) for k, v in norm.items()},
        "params": jax.tree_util.tree_map(np.asarray, serialization.to_state_dict(params)),
    }
    write_bytes_atomic(path, serialization.msgpack_serialize(payload))


def load_checkpoint(path: str) -> tuple[dict, dict, NetConfig, dict]:
    """(params, norm, NetConfig, full config dict); CheckpointError when unusable."""
    try:
        with open(path, "rb") as fh:
            raw = serialization.msgpack_restore(fh.read())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found") from None
    except Exception as e:
        raise CheckpointError(f"{path}: corrupt checkpoint ({type(e).__name__})") from None
    if not isinstance(raw, dict) or raw.get("version") != CHECKPOINT_VERSION:
        got = raw.get("version") if isinstance(raw, dict) else None
        raise CheckpointError(f"{path}: checkpoint version {got}, expected {CHECKPOINT_VERSION}")
    try:
        cfg_all = json.loads(raw["config"])
        cfg = NetConfig(**{k: cfg_all[k] for k in NetConfig.__dataclass_fields__})
        norm = {k: np.asarray(raw["norm"][k], np.float32) for k in ("op_mean", "op_std", "m_mean", "m_std")}
        params = raw["params"]
    except Exception as e:
        raise CheckpointError(f"{path}: malformed checkpoint ({type(e).__name__}: {e})") from None
    if cfg.n_op_features != len(OP_FEATURES) or cfg.n_machine_features != len(MACHINE_FEATURES):
        raise CheckpointError(
            f"{path}: trained on {cfg.n_op_features}/{cfg.n_machine_features} features, "
            f"this jsched has {len(OP_FEATURES)}/{len(MACHINE_FEATURES)}"
        )
    if norm["op_mean"].shape != (len(OP_FEATURES),):
        raise CheckpointError(f"{path}: normalisation statistics have the wrong shape")
    try:  # a dry run checks every parameter shape
        LRHONet(cfg.hidden).apply(
            {"params": params},
            jnp.zeros((2, cfg.n_op_features)),
            jnp.ones(2, bool),
            jnp.zeros((1, cfg.n_machine_features)),
            jnp.ones(1, bool),
            jnp.zeros(2, jnp.int32),
        )
    except Exception as e:
        raise CheckpointError(f"{path}: parameters do not fit the network ({type(e).__name__})") from None
    return params, norm, cfg, cfg_all


class Predictor:
    """The ``lrho`` variant's predictor: keep probabilities of a window's overlapping ops.

    Windows are padded to ``H`` operations so the jitted network compiles once per machine count.
    """

    def __init__(self, path: str, H: int):
        self.params, self.norm, self.config, self.meta = load_checkpoint(path)
        self.H = int(H)
        net = LRHONet(self.config.hidden)
        self._apply = jax.jit(lambda p, *x: jax.nn.sigmoid(net.apply({"params": p}, *x)))

    def __call__(self, st) -> np.ndarray:
        wf = window_features(st, self.H)
        H = max(self.H, len(wf.op))
        batch = pad_batch([wf], H, len(wf.machine))
        prob = np.asarray(self._apply(self.params, *normalise(batch, self.norm)))[0]
        return prob[: len(wf.op)][wf.overlap]
