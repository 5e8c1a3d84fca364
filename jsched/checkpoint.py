"""The one checkpoint format: a checked msgpack envelope around a pytree, its config and metadata.

A file is the msgpack map ``{"format": "jsched-checkpoint", "version": 1, "kind": KIND,
"sha256": digest of body, "body": bytes}``; ``body`` is flax-msgpack of ``{"config": {...},
"meta": {...}, "tree": <state dict of arrays>}``. Never pickle. ``kind`` names what the tree is
(e.g. ``slim-model``, ``hh-model``, ``slim-train``: a resumable training state). Loading checks
the format, version, kind, checksum, finiteness of every float array and, when given, the config
and the template's structure and shapes; every failure is one
:class:`~jsched.errors.CheckpointError` line naming the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from jsched.atomic import write_bytes_atomic
from jsched.errors import CheckpointError

FORMAT = "jsched-checkpoint"
VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: ``tree`` (numpy arrays, in the template's structure when one was
    given), the ``config`` it was made with and free-form ``meta`` (training record, seeds)."""

    kind: str
    tree: Any
    config: dict
    meta: dict


def _plain(config: Any) -> dict:
    """A JSON-normal dict of a config (dataclass or mapping): what is stored and compared."""
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    return json.loads(json.dumps(dict(config or {}), sort_keys=True, default=list))


def save_checkpoint(path: str | os.PathLike, kind: str, tree: Any, config: Any = None, meta: dict | None = None) -> None:
    """Write ``tree`` (a pytree of arrays) with its ``config`` and ``meta`` atomically."""
    import jax
    from flax import serialization

    state = serialization.to_state_dict(jax.tree.map(np.asarray, tree))
    body = serialization.msgpack_serialize({"config": _plain(config), "meta": _plain(meta), "tree": state})
    blob = msgpack.packb({"format": FORMAT, "version": VERSION, "kind": kind,
                          "sha256": hashlib.sha256(body).hexdigest(), "body": body})  # fmt: skip
    write_bytes_atomic(path, blob)


def read_kind(path: str | os.PathLike) -> str:
    """The kind stored in a checkpoint file (checks format, version and checksum)."""
    return _open(os.fspath(path))[0]


def _open(path: str) -> tuple[str, bytes]:
    try:
        with open(path, "rb") as fh:
            outer = msgpack.unpackb(fh.read(), raw=False)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: checkpoint not found") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a directory, not a checkpoint") from None
    except Exception as e:  # msgpack raises several unrelated types on garbage or truncation
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({type(e).__name__})") from None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a jsched checkpoint")
    if outer.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {outer.get('version')!r}, this jsched reads {VERSION}")
    body = outer.get("body")
    if not isinstance(body, bytes) or hashlib.sha256(body).hexdigest() != outer.get("sha256"):
        raise CheckpointError(f"{path}: checksum mismatch (corrupt checkpoint)")
    return str(outer.get("kind")), body


def load_checkpoint(path: str | os.PathLike, kind: str | tuple[str, ...], template: Any = None,
                    config: Any = None) -> Checkpoint:  # fmt: skip
    """Read and check a checkpoint of ``kind`` (or one of several kinds).

    Args:
        template: a pytree of the expected structure; the stored tree is restored into it and
            every leaf must have the template's shape (dtypes follow the template).
        config: when given, must equal the stored config (a mismatch names the differing keys).
    """
    from flax import serialization

    path = os.fspath(path)
    got, body = _open(path)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if got not in kinds:
        raise CheckpointError(f"{path}: checkpoint holds {got!r}, expected {' or '.join(map(repr, kinds))}")
    try:
        d = serialization.msgpack_restore(body)
        stored, meta, state = d["config"], d["meta"], d["tree"]
    except Exception as e:
        raise CheckpointError(f"{path}: corrupt checkpoint body ({type(e).__name__})") from None
    if config is not None:
        want = _plain(config)
        if want != stored:
            diff = sorted(k for k in set(stored) | set(want) if stored.get(k) != want.get(k))
            raise CheckpointError(f"{path}: config mismatch in {', '.join(diff)}")
    tree = state if template is None else _restore(path, template, state)
    _check_finite(path, tree)
    return Checkpoint(got, tree, stored, meta)


def _restore(path: str, template: Any, state: Any) -> Any:
    import jax
    from flax import serialization

    try:
        tree = serialization.from_state_dict(template, state)
    except Exception as e:
        raise CheckpointError(f"{path}: parameters do not fit the model ({type(e).__name__}: {e})") from None
    if jax.tree.structure(tree) != jax.tree.structure(template):
        raise CheckpointError(f"{path}: parameters do not fit the model (tree structure differs)")
    bad = [
        jax.tree_util.keystr(k)
        for (k, a), b in zip(jax.tree_util.tree_leaves_with_path(template), jax.tree.leaves(tree))
        if np.shape(a) != np.shape(b)
    ]
    if bad:
        raise CheckpointError(f"{path}: parameter shapes do not fit the model ({', '.join(bad[:3])})")
    return jax.tree.map(lambda t, x: np.asarray(x, dtype=np.asarray(t).dtype), template, tree)


def _check_finite(path: str, tree: Any) -> None:
    import jax

    for k, x in jax.tree_util.tree_leaves_with_path(tree):
        a = np.asarray(x)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise CheckpointError(f"{path}: non-finite values in {jax.tree_util.keystr(k)}")
