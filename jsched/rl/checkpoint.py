"""Checkpoints: msgpack files with a format version, a kind, a JSON config and a pytree.

Never pickle. ``save`` writes atomically (temp file + rename). ``load`` restores the pytree
into a template of the same structure (e.g. a freshly initialised runner state) and raises
:class:`~jsched.errors.CheckpointError` on a missing, corrupt, wrong-kind, wrong-version or
config-mismatched file.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
from flax import serialization

from jsched.atomic import write_bytes_atomic
from jsched.errors import CheckpointError

VERSION = 1


def save(path: str | os.PathLike, tree: Any, config: dict, kind: str, extra: dict | None = None) -> None:
    """Write ``tree`` (any flax-serialisable pytree) with its config to ``path``."""
    path = os.fspath(path)
    blob = serialization.msgpack_serialize(
        {
            "version": VERSION,
            "kind": kind,
            "config": json.dumps(config, sort_keys=True),
            "extra": json.dumps(extra or {}),
            "state": serialization.to_state_dict(tree),
        }
    )
    write_bytes_atomic(path, blob)


def read_header(path: str | os.PathLike, kind: str) -> tuple[dict, dict, dict]:
    """(config, extra, raw state dict) of a checkpoint, checking file, version and kind."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        with open(path, "rb") as fh:
            d = serialization.msgpack_restore(fh.read())
        version, got_kind = d["version"], d["kind"]
        config, extra, state = json.loads(d["config"]), json.loads(d["extra"]), d["state"]
    except Exception as e:  # msgpack, KeyError, JSON: all mean a corrupt file
        raise CheckpointError(f"{path}: corrupt checkpoint ({type(e).__name__}: {e})") from None
    if version != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {version}, this jsched reads version {VERSION}")
    if got_kind != kind:
        raise CheckpointError(f"{path}: checkpoint holds {got_kind!r}, expected {kind!r}")
    return config, extra, state


def load(path: str | os.PathLike, template: Any, kind: str, config: dict | None = None) -> tuple[Any, dict, dict]:
    """Restore ``(tree, config, extra)``; ``config`` (if given) must equal the stored one."""
    stored, extra, state = read_header(path, kind)
    if config is not None and json.loads(json.dumps(config, sort_keys=True)) != stored:
        diff = sorted(k for k in set(stored) | set(config) if stored.get(k) != config.get(k))
        raise CheckpointError(f"{os.fspath(path)}: config mismatch in {', '.join(diff)}")
    try:
        tree = serialization.from_state_dict(template, state)
    except Exception as e:
        raise CheckpointError(f"{os.fspath(path)}: parameters do not fit the model ({e})") from None
    for a, b in zip(jax.tree.leaves(template), jax.tree.leaves(tree)):
        if getattr(a, "shape", None) != getattr(b, "shape", None):
            raise CheckpointError(f"{os.fspath(path)}: parameter shape {b.shape} where the model needs {a.shape}")
    return tree, stored, extra
