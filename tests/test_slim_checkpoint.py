"""SLIM model files: exact round trip, files that do not fit fail clearly."""

import jax
import numpy as np
import pytest

from jsched.checkpoint import save_checkpoint
from jsched.errors import CheckpointError
from jsched.slim.model import ModelConfig, init_params, load_model, save_model

SMALL = ModelConfig(gat_hidden=8, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)


def test_model_round_trip(tmp_path):
    p = init_params(SMALL, jax.random.key(0))
    path = tmp_path / "m.ckpt"
    save_model(path, p, SMALL, {"note": "x"})
    q, cfg, meta = load_model(path)
    assert cfg == SMALL and meta == {"note": "x"}
    assert jax.tree.structure(p) == jax.tree.structure(q)
    for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(q)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("damage", ["truncate", "missing"])
def test_damaged_file_names_itself(tmp_path, damage):
    path = tmp_path / "m.ckpt"
    save_model(path, init_params(SMALL, jax.random.key(0)), SMALL)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.unlink()
    with pytest.raises(CheckpointError, match="m.ckpt"):
        load_model(path)


def test_files_that_do_not_fit_raise(tmp_path):
    path = tmp_path / "m.ckpt"
    save_model(path, init_params(SMALL, jax.random.key(0)), ModelConfig())  # wrong config stored
    with pytest.raises(CheckpointError, match="shape"):
        load_model(path)
    save_checkpoint(path, "slim-model", init_params(SMALL, jax.random.key(0)), {"depth": 3})
    with pytest.raises(CheckpointError, match="bad model config"):
        load_model(path)
    save_model(path, init_params(SMALL, jax.random.key(0)), SMALL, kind="hh-model")
    with pytest.raises(CheckpointError, match="expected 'slim-model'"):
        load_model(path)
    assert load_model(path, ("slim-model", "hh-model"))[1] == SMALL
