"""SLIM checkpoints (round trip, corrupt/mismatched files fail clearly) and exact resume."""

import argparse

import jax
import numpy as np
import pytest

from jsched.errors import CheckpointError
from jsched.slim import checkpoint as ckpt
from jsched.slim import train as train_mod
from jsched.slim.model import ModelConfig, init_params

SMALL = ModelConfig(gat_hidden=8, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)


def test_model_round_trip(tmp_path):
    p = init_params(SMALL, jax.random.key(0))
    path = tmp_path / "m.ckpt"
    ckpt.save_model(path, p, SMALL, {"note": "x"})
    q, cfg, meta = ckpt.load_model(path)
    assert cfg == SMALL and meta == {"note": "x"}
    for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(q)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "missing"])
def test_corrupt_checkpoint_raises_clear_error(tmp_path, damage):
    path = tmp_path / "m.ckpt"
    ckpt.save_model(path, init_params(SMALL, jax.random.key(0)), SMALL)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 3]))
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04 a torch zip, say")
    else:
        path.unlink()
    with pytest.raises(CheckpointError, match=str(path.name)):
        ckpt.load_model(path)


def test_params_that_do_not_fit_the_config_raise(tmp_path):
    path = tmp_path / "m.ckpt"
    ckpt.save_model(path, init_params(SMALL, jax.random.key(0)), ModelConfig())  # wrong config stored
    with pytest.raises(CheckpointError, match="shape"):
        ckpt.load_model(path)


def test_version_mismatch_raises(tmp_path, monkeypatch):
    path = tmp_path / "m.ckpt"
    monkeypatch.setattr(ckpt, "VERSION", 99)
    ckpt.save_model(path, init_params(SMALL, jax.random.key(0)), SMALL)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="version 99"):
        ckpt.load_model(path)


def test_resume_after_kill_equals_uninterrupted_run(tmp_path, monkeypatch):
    cfg = train_mod.TrainConfig(
        sizes=((3, 3),), beta=4, batch=2, lr=1e-3, steps=4, val_sizes=((3, 3),), val_per_size=2,
        val_samples=2, val_every=2, val_ref_seconds=0.5, ckpt_every=1, model=SMALL,
    )
    straight = train_mod.train(cfg, tmp_path / "a.ckpt", progress=False)

    real = train_mod.training_batch

    def killed_at_3(c, step):
        if step == 3:
            raise KeyboardInterrupt  # what SIGTERM becomes inside train()
        return real(c, step)

    monkeypatch.setattr(train_mod, "training_batch", killed_at_3)
    with pytest.raises(KeyboardInterrupt):
        train_mod.train(cfg, tmp_path / "b.ckpt", progress=False)
    assert int(ckpt.read(tmp_path / "b.ckpt")["step"]) == 3
    monkeypatch.setattr(train_mod, "training_batch", real)
    resumed = train_mod.train(cfg, tmp_path / "b.ckpt", progress=False)

    assert resumed["step"] == straight["step"] == 4
    assert [h["val_greedy_pg"] for h in resumed["history"]] == [h["val_greedy_pg"] for h in straight["history"]]
    pa, _, _ = ckpt.load_model(tmp_path / "a.ckpt")
    pb, _, _ = ckpt.load_model(tmp_path / "b.ckpt")
    for a, b in zip(jax.tree.leaves(pa), jax.tree.leaves(pb)):
        np.testing.assert_array_equal(a, b)
    a, b = ckpt.read(tmp_path / "a.ckpt"), ckpt.read(tmp_path / "b.ckpt")
    for x, y in zip(jax.tree.leaves(a["params"]), jax.tree.leaves(b["params"])):
        np.testing.assert_array_equal(x, y)

    with pytest.raises(CheckpointError, match="differs"):
        train_mod.train(train_mod.TrainConfig(**{**cfg.__dict__, "lr": 1e-2}), tmp_path / "b.ckpt", progress=False)

    # a run started with SLIM's former private generator (no data_version) cannot be resumed
    legacy = {k: v for k, v in ckpt.read(tmp_path / "b.ckpt").items() if k != "data_version"}
    ckpt.save(tmp_path / "old.ckpt", {**legacy, "step": 3})
    with pytest.raises(CheckpointError, match="data version 1 "):
        train_mod.train(cfg, tmp_path / "old.ckpt", progress=False)
    ckpt.save(tmp_path / "old.ckpt", legacy)  # finished: nothing to draw, so it loads (and exports)
    assert train_mod.train(cfg, tmp_path / "old.ckpt", progress=False)["step"] == 4

    # export: a small model checkpoint with the training metadata
    train_mod.export_model(tmp_path / "b.ckpt", tmp_path / "m.ckpt")
    _, mcfg, meta = ckpt.load_model(tmp_path / "m.ckpt")
    assert mcfg == SMALL and meta["steps"] == 4 and len(meta["history"]) == 2 and meta["exported"] == "best"
    train_mod.export_model(tmp_path / "b.ckpt", tmp_path / "last.ckpt", "last")
    last, _, _ = ckpt.load_model(tmp_path / "last.ckpt")
    for x, y in zip(jax.tree.leaves(b["params"]), jax.tree.leaves(last)):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(CheckpointError):
        train_mod.export_model(tmp_path / "m.ckpt", tmp_path / "x.ckpt")  # a model file is no training run


def test_cli_arguments_build_the_config():
    p = argparse.ArgumentParser()
    train_mod.add_arguments(p)
    args = p.parse_args(["--out", "x", "--sizes", "6x4,8x5", "--mem-heads", "2", "--val-samples", "7", "--val-per-size", "3"])
    cfg = train_mod.config_from_args(args)
    assert cfg.sizes == ((6, 4), (8, 5)) and cfg.model.mem_heads == 2
    assert cfg.val_samples == 7 and cfg.val_per_size == 3 and cfg.beta == train_mod.TrainConfig().beta


def test_init_fine_tunes_from_a_model_checkpoint(tmp_path):
    cfg = train_mod.TrainConfig(
        sizes=((3, 3),), beta=4, batch=2, lr=1e-3, steps=2, val_sizes=((3, 3),), val_per_size=2,
        val_samples=2, val_every=2, val_ref_seconds=0.5, model=SMALL,
    )
    start = init_params(SMALL, jax.random.key(7))
    ckpt.save_model(tmp_path / "start.ckpt", start, SMALL)
    tuned = train_mod.TrainConfig(**{**cfg.__dict__, "init": str(tmp_path / "start.ckpt")})
    for a, b in zip(jax.tree.leaves(train_mod.initial_params(tuned)), jax.tree.leaves(start)):
        np.testing.assert_array_equal(a, b)
    res = train_mod.train(tuned, tmp_path / "ft.ckpt", progress=False)
    assert [h["step"] for h in res["history"]] == [0, 2]  # the start is validated and can stay "best"
    assert res["best_val"] == min(h["val_sample2_pg"] for h in res["history"])

    other = ModelConfig(gat_hidden=4, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)
    ckpt.save_model(tmp_path / "other.ckpt", init_params(other, jax.random.key(0)), other)
    with pytest.raises(CheckpointError, match="gat_hidden"):
        train_mod.initial_params(train_mod.TrainConfig(**{**cfg.__dict__, "init": str(tmp_path / "other.ckpt")}))
