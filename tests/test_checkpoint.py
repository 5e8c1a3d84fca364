"""jsched.checkpoint: the one envelope — exact round trips and a one-line error for every defect,
and every shipped asset loads and is refused once a byte is flipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jsched.checkpoint import load_checkpoint, read_kind, save_checkpoint
from jsched.errors import CheckpointError

ASSETS = Path(__file__).resolve().parents[1] / "jsched" / "assets"
TREE = {"dense": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(3, np.float32)}, "step": np.int32(7)}


def test_round_trip_is_exact(tmp_path):
    p = tmp_path / "c.msgpack"
    save_checkpoint(p, "toy-model", TREE, {"hidden": (4, 4), "lr": 0.1}, {"seed": 3})
    cp = load_checkpoint(p, "toy-model", template=TREE, config={"hidden": [4, 4], "lr": 0.1})
    assert cp.kind == "toy-model" and cp.meta == {"seed": 3} and cp.config == {"hidden": [4, 4], "lr": 0.1}
    np.testing.assert_array_equal(cp.tree["dense"]["w"], TREE["dense"]["w"])
    assert cp.tree["dense"]["w"].dtype == np.float32 and int(cp.tree["step"]) == 7
    assert read_kind(p) == "toy-model"
    assert load_checkpoint(p, ("other", "toy-model")).kind == "toy-model"


@pytest.mark.parametrize(
    "defect, match",
    [
        ("missing", "not found"),
        ("truncated", "corrupt or truncated"),
        ("flipped", "checksum mismatch|corrupt"),
        ("foreign", "not a jsched checkpoint"),
        ("kind", "holds 'toy-model', expected 'slim-model'"),
        ("config", "config mismatch in lr"),
        ("shape", "shapes do not fit"),
        ("structure", "do not fit the model"),
        ("nan", "non-finite values"),
    ],
)
def test_every_defect_is_one_clear_error(tmp_path, defect, match):
    import msgpack

    p = tmp_path / "c.msgpack"
    tree = {"w": np.array([1.0, np.nan])} if defect == "nan" else TREE
    save_checkpoint(p, "toy-model", tree, {"lr": 0.1})
    blob = p.read_bytes()
    kind, template, config = "toy-model", None, None
    if defect == "missing":
        p = tmp_path / "none.msgpack"
    elif defect == "truncated":
        p.write_bytes(blob[: len(blob) // 2])
    elif defect == "flipped":
        p.write_bytes(blob[:-20] + bytes([blob[-20] ^ 0xFF]) + blob[-19:])
    elif defect == "foreign":
        p.write_bytes(msgpack.packb({"format": "other", "body": b""}))
    elif defect == "kind":
        kind = "slim-model"
    elif defect == "config":
        config = {"lr": 0.2}
    elif defect == "shape":
        template = {**TREE, "dense": {"w": np.zeros((3, 3), np.float32), "b": np.zeros(3, np.float32)}}
    elif defect == "structure":
        template = {"other": np.zeros(2)}
    with pytest.raises(CheckpointError, match=match) as e:
        load_checkpoint(p, kind, template=template, config=config)
    assert "\n" not in str(e.value) and str(p) in str(e.value)


SHIPPED = sorted(p for p in ASSETS.rglob("*") if p.suffix in (".msgpack", ".ckpt"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ASSETS)))
def test_shipped_assets_load_and_a_flipped_byte_is_refused(path, tmp_path):
    kind = read_kind(path)
    assert kind.endswith(("-model", "-theta0")), kind
    load_checkpoint(path, kind)
    blob = bytearray(path.read_bytes())
    for at in (len(blob) // 2, len(blob) - 5):
        bad = bytearray(blob)
        bad[at] ^= 0x01
        q = tmp_path / path.name
        q.write_bytes(bytes(bad))
        with pytest.raises(CheckpointError):
            load_checkpoint(q, kind)
