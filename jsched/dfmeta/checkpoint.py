"""Versioned msgpack checkpoints of parameter pytrees (theta_0, policy weights, optimiser state).

A checkpoint is one msgpack map ``{"format": "jsched-params", "version": 1, "kind": KIND,
"config": {...}, "meta": {...}, "params": <flax state dict>}`` written atomically (temp file +
rename). Loading checks the format, version, kind and, when given, the config and the
template's tree structure and leaf shapes; any mismatch or corruption raises
:class:`~jsched.errors.CheckpointError` with the path in the message. No pickle.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np
from flax import serialization

from jsched.atomic import write_bytes_atomic
from jsched.errors import CheckpointError

FORMAT = "jsched-params"
VERSION = 1


def save_params(path: str | os.PathLike, params: Any, kind: str, config: dict, meta: dict | None = None) -> None:
    """Write ``params`` (any pytree of arrays) with its ``kind`` and ``config`` to ``path``."""
    state = serialization.to_state_dict(jax.tree.map(np.asarray, params))
    blob = serialization.msgpack_serialize(
        {"format": FORMAT, "version": VERSION, "kind": kind, "config": config, "meta": meta or {}, "params": state}
    )
    write_bytes_atomic(path, blob)


def load_params(
    path: str | os.PathLike, template: Any, kind: str, config: dict | None = None
) -> tuple[Any, dict, dict]:
    """Read a checkpoint into the structure of ``template``; returns (params, config, meta).

    Raises:
        CheckpointError: missing or corrupt file, other format/version/kind, a config that
            differs from ``config`` (when given), or parameters of another structure or shape.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            blob = serialization.msgpack_restore(fh.read())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found") from None
    except Exception as e:  # msgpack raises several unrelated types on corrupt input
        raise CheckpointError(f"{path}: corrupt checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a jsched parameter checkpoint")
    if blob.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {blob.get('version')}, this jsched reads {VERSION}")
    if blob.get("kind") != kind:
        raise CheckpointError(f"{path}: checkpoint holds {blob.get('kind')!r}, expected {kind!r}")
    saved_cfg = blob.get("config", {})
    if config is not None and saved_cfg != config:
        diff = sorted(k for k in set(saved_cfg) | set(config) if saved_cfg.get(k) != config.get(k))
        raise CheckpointError(f"{path}: config mismatch in {', '.join(diff)}")
    try:
        params = serialization.from_state_dict(template, blob["params"])
    except Exception as e:
        raise CheckpointError(f"{path}: parameters do not match the model ({e})") from None
    bad = [
        jax.tree_util.keystr(k)
        for (k, a), b in zip(jax.tree_util.tree_leaves_with_path(template), jax.tree.leaves(params))
        if np.shape(a) != np.shape(b)
    ]
    if bad or jax.tree.structure(params) != jax.tree.structure(template):
        raise CheckpointError(f"{path}: parameter shapes do not match the model ({', '.join(bad[:3]) or 'structure'})")
    params = jax.tree.map(lambda t, x: np.asarray(x, dtype=np.asarray(t).dtype), template, params)
    return params, saved_cfg, blob.get("meta", {})
