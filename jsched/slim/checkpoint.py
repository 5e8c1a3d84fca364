"""SLIM checkpoints: msgpack with a format tag, a version, the config and a SHA-256 checksum.

Never pickle. A file is the msgpack map ``{"format": "jsched-slim", "version": 1,
"sha256": hex digest of body, "body": bytes}``, where ``body`` is a msgpack map (flax
serialization) holding ``kind`` ("model" or "train"), ``model_config`` and the arrays.
A model file holds ``params``; a training file adds the optimizer state, step, best
parameters, validation history and the training config, so a killed run resumes exactly.
Any truncated, corrupted, foreign or mismatched file raises ``CheckpointError``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jax
import msgpack
import numpy as np
from flax import serialization

from jsched.atomic import write_bytes_atomic
from jsched.errors import CheckpointError
from jsched.slim.model import ModelConfig, init_params

FORMAT = "jsched-slim"
VERSION = 1


def save(path: str | os.PathLike, body: dict[str, Any]) -> None:
    """Write ``body`` (a tree of dicts, lists, scalars, strings and arrays) atomically."""
    body = jax.tree.map(lambda x: x if isinstance(x, (str, bytes)) else np.asarray(x), body)
    raw = serialization.msgpack_serialize(body)
    outer = msgpack.packb(
        {"format": FORMAT, "version": VERSION, "sha256": hashlib.sha256(raw).hexdigest(), "body": raw}
    )
    write_bytes_atomic(Path(path), outer)


def read(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a checkpoint file; returns its body (arrays as numpy)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        outer = msgpack.unpackb(path.read_bytes(), raw=False)
    except Exception as e:  # msgpack raises several types on garbage
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} checkpoint")
    if outer.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {outer.get('version')!r}, this jsched reads {VERSION}")
    raw = outer.get("body")
    if not isinstance(raw, bytes) or hashlib.sha256(raw).hexdigest() != outer.get("sha256"):
        raise CheckpointError(f"{path}: checksum mismatch (corrupt checkpoint)")
    try:
        return serialization.msgpack_restore(raw)
    except Exception as e:
        raise CheckpointError(f"{path}: corrupt checkpoint body ({type(e).__name__}: {e})") from None


def param_template(cfg: ModelConfig):
    """Shapes and dtypes of the parameters of ``cfg`` (traced, not computed)."""
    return jax.eval_shape(lambda: init_params(cfg, jax.random.key(0)))


def restore_params(path, template, tree) -> Any:
    """``tree`` (a state dict) shaped like ``template``, else CheckpointError naming the field."""
    flat_t = {"/".join(map(str, k)): v for k, v in _flatten(serialization.to_state_dict(template))}
    flat_s = {"/".join(map(str, k)): v for k, v in _flatten(tree)}
    if flat_t.keys() != flat_s.keys():
        missing = sorted(flat_t.keys() - flat_s.keys())[:3]
        extra = sorted(flat_s.keys() - flat_t.keys())[:3]
        raise CheckpointError(f"{path}: parameters do not match the model (missing {missing}, unexpected {extra})")
    for k, v in flat_t.items():
        if tuple(np.shape(flat_s[k])) != tuple(np.shape(v)):
            raise CheckpointError(f"{path}: field {k} has shape {np.shape(flat_s[k])}, the model needs {np.shape(v)}")
    return serialization.from_state_dict(template, tree)


def _flatten(tree, prefix=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _flatten(v, prefix + (k,))
    else:
        yield prefix, tree


def model_config_of(path, body: dict) -> ModelConfig:
    try:
        return ModelConfig.from_dict(json.loads(body["model_config"]))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad or missing model_config ({e})") from None


def save_model(path, params, cfg: ModelConfig, meta: dict | None = None) -> None:
    """A parameters-only checkpoint (what ships and what ``solve`` loads)."""
    save(path, {
        "kind": "model",
        "model_config": json.dumps(cfg.to_dict()),
        "meta": json.dumps(meta or {}),
        "params": serialization.to_state_dict(params),
    })


def load_model(path) -> tuple[Any, ModelConfig, dict]:
    """(params, config, meta) from a model or training checkpoint (training: best parameters)."""
    body = read(path)
    cfg = model_config_of(path, body)
    kind = body.get("kind")
    if kind == "model":
        tree = body.get("params")
    elif kind == "train":
        tree = body.get("best_params") or body.get("params")
    else:
        raise CheckpointError(f"{path}: unknown checkpoint kind {kind!r}")
    if tree is None:
        raise CheckpointError(f"{path}: no parameters in checkpoint")
    params = restore_params(path, param_template(cfg), tree)
    try:
        meta = json.loads(body.get("meta", "{}"))
    except ValueError:
        meta = {}
    return jax.tree.map(jax.numpy.asarray, params), cfg, meta
