"""SLIM self-labelling on the training driver: exact resume, best-by-validation export, fine-tuning."""

import json

import jax
import numpy as np
import pytest

from jsched import api
from jsched.checkpoint import load_checkpoint
from jsched.errors import CheckpointError, JSchedError, ScheduleError
from jsched.slim import train as slim_train
from jsched.slim.model import ModelConfig, init_params, load_model, save_model
from jsched.slim.train import TrainConfig, train, validate_model, validation_set

SMALL = dict(gat_hidden=8, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)
TINY = dict(sizes="3x3", beta=4, batch=2, lr=1e-3, val_sizes="3x3", val_per_size=2, val_samples=2, val_every=2,
            val_ref_seconds=0.5, progress=False, **SMALL)  # fmt: skip


def _cfg(out, **kw):
    return TrainConfig(out=str(out), **{**TINY, **kw})


def _leaves_equal(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)


def test_resume_equals_uninterrupted_run_and_exports_best(tmp_path):
    straight = train(_cfg(tmp_path / "a", steps=4), jax.random.key(0))
    assert straight["updates"] == 4
    train(_cfg(tmp_path / "b", steps=2), jax.random.key(0))
    with pytest.raises(CheckpointError, match="config mismatch in seed"):  # a run resumes with its own seed
        train(_cfg(tmp_path / "b", steps=4, resume=True), jax.random.key(9))
    resumed = train(_cfg(tmp_path / "b", steps=4, resume=True), jax.random.key(0))
    assert resumed["updates"] == 4
    a = load_checkpoint(tmp_path / "a" / "checkpoint.msgpack", "slim-train")
    b = load_checkpoint(tmp_path / "b" / "checkpoint.msgpack", "slim-train")
    _leaves_equal(a.tree, b.tree)
    rows = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert rows == json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert [r["update"] for r in rows] == [1, 2, 3, 4] and rows[0]["val_sample2_pg"] is None
    best = min(r["val_sample2_pg"] for r in rows if r["val_sample2_pg"] is not None)
    assert rows[-1]["best_val"] == pytest.approx(best)

    params, cfg, meta = load_model(straight["model"])  # what solve loads: the best parameters
    assert cfg == ModelConfig(**SMALL) and meta["exported"] == "best" and meta["steps"] == 4
    _leaves_equal(params, a.tree["best_params"])
    r = api.solve("ft06", method="slim", checkpoint=straight["model"], samples=2)
    assert r.makespan >= 55

    train(_cfg(tmp_path / "a", steps=6, export="last", resume=True), jax.random.key(0))  # both may change on resume
    _leaves_equal(load_model(straight["model"])[0], load_checkpoint(straight["checkpoint"], "slim-train").tree["params"])
    with pytest.raises(CheckpointError, match="config mismatch in lr"):
        train(_cfg(tmp_path / "b", steps=6, lr=1e-2, resume=True), jax.random.key(0))


def test_init_fine_tunes_from_a_model_file(tmp_path):
    start = init_params(ModelConfig(**SMALL), jax.random.key(7))
    save_model(tmp_path / "start.ckpt", start, ModelConfig(**SMALL))
    res = train(_cfg(tmp_path / "ft", steps=2, init=str(tmp_path / "start.ckpt")), jax.random.key(0))
    st = load_checkpoint(res["checkpoint"], "slim-train").tree
    row = json.loads((tmp_path / "ft" / "metrics.json").read_text())[-1]
    assert row["best_val"] <= row["val_sample2_pg"]  # the start competes for "best"
    if row["best_val"] < row["val_sample2_pg"]:
        _leaves_equal(st["best_params"], start)

    other = ModelConfig(**{**SMALL, "gat_hidden": 4})
    save_model(tmp_path / "other.ckpt", init_params(other, jax.random.key(0)), other)
    with pytest.raises(CheckpointError, match="gat_hidden"):
        train(_cfg(tmp_path / "x", steps=2, init=str(tmp_path / "other.ckpt")), jax.random.key(0))


def test_config_errors_and_api():
    with pytest.raises(JSchedError, match="sizes"):
        TrainConfig(sizes="10by10")
    with pytest.raises(JSchedError, match="dur_low"):
        TrainConfig(dur_low=50, dur_high=10)
    with pytest.raises(JSchedError, match="must be one of best, last"):
        api.train("slim", export="first")
    assert TrainConfig().model == ModelConfig()


def test_validation_gaps_are_validated_schedules(monkeypatch):
    """The gaps that choose the exported model come from validated schedules: a decode whose
    start times are infeasible, or whose reported makespan is not its schedule's, is refused."""
    cfg = _cfg("unused")
    insts = validation_set(cfg, 0)
    params = init_params(cfg.model, jax.random.key(1))
    refs = np.full(len(insts), 100.0)
    val = validate_model(params, cfg, insts, refs)
    assert set(val) == {"val_greedy_pg", "val_sample2_pg"} and np.isfinite(list(val.values())).all()
    real = slim_train.decode

    def tampered(change):
        monkeypatch.setattr(slim_train, "decode", lambda *a, **k: change(real(*a, **k)))
        return validate_model(params, cfg, insts, refs)

    with pytest.raises(ScheduleError, match="precedence"):
        tampered(lambda out: out._replace(best_start=out.best_start * 0))  # every operation at 0
    with pytest.raises(ScheduleError, match="decoded makespan"):
        tampered(lambda out: out._replace(makespans=out.makespans - 1))
