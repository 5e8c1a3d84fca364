"""``method="slim"``: greedy and sampled schedules, batched evaluate = solve, errors, shipped model."""

import jax
import numpy as np
import pytest

from jsched import api
from jsched.errors import CheckpointError, JSchedError
from jsched.instances import load_benchmark
from jsched.instances.generators import taillard_jsp
from jsched.schedule import validate
from jsched.slim import method
from jsched.slim.model import ModelConfig, init_params, load_model, save_model

SMALL = ModelConfig(gat_hidden=8, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("slim") / "tiny.ckpt"
    save_model(path, init_params(SMALL, jax.random.key(0)), SMALL)
    return str(path)


def test_solve_ft06_greedy_and_sampling(tiny_ckpt):
    ft06 = load_benchmark("ft06")
    g = method.solve(ft06, method.Config(checkpoint=tiny_ckpt), jax.random.key(0))
    s = api.solve("ft06", method="slim", checkpoint=tiny_ckpt, samples=8)
    for out in (g, s):
        validate(ft06, out.schedule)
        assert out.makespan >= 55  # ft06 optimum
    assert g.extra == {"samples": 0, "decoding": "greedy", "checkpoint": tiny_ckpt}
    assert s.extra["decoding"] == "sampling" and s.extra["samples"] == 8 and s.method == "slim"
    assert "samples=8" in s.line()


def test_evaluate_batches_shapes_and_equals_solve(tiny_ckpt):
    rng = np.random.default_rng(0)
    insts = [taillard_jsp(4, 3, rng, name="a"), taillard_jsp(5, 3, rng, name="b"), taillard_jsp(4, 3, rng, name="c")]
    for samples in (0, 6):
        cfg = method.Config(samples=samples, checkpoint=tiny_ckpt)
        batched = method.evaluate(insts, cfg, jax.random.key(3))
        assert [r.instance.name for r in batched] == ["a", "b", "c"]
        for r, inst in zip(batched, insts):
            alone = method.solve(inst, cfg, jax.random.key(3))
            np.testing.assert_array_equal(r.schedule.start, alone.schedule.start)
    other = method.evaluate(insts, method.Config(samples=6, checkpoint=tiny_ckpt), jax.random.key(4))
    assert other[0].extra["samples"] == 6


def test_solve_rejects_bad_input(tiny_ckpt, tmp_path):
    with pytest.raises(JSchedError, match="samples must be >= 0"):
        api.solve("ft06", method="slim", samples=-1)
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="bad.ckpt"):
        api.solve("ft06", method="slim", checkpoint=str(bad))
    with pytest.raises(JSchedError, match="JSP"):
        method.solve(load_benchmark("ft06").to_fjsp(), method.Config(checkpoint=tiny_ckpt), jax.random.key(0))


def test_shipped_checkpoint_loads():
    params, cfg, meta = load_model(method.DEFAULT_CHECKPOINT)
    assert method.DEFAULT_CHECKPOINT.stat().st_size < 5_000_000
    assert cfg.gat_hidden == 32 and meta["steps"] > 0 and meta["exported"] == "best"


@pytest.mark.slow
def test_shipped_checkpoint_ta01_and_taillard_15x15():
    """ta01 greedy 1490 and best of 128 samples (seed 0) 1361; ta01-ta10 with 128 samples within 12%."""
    assert api.solve("ta01", method="slim").makespan == 1490
    rs = api.evaluate("slim", [f"ta{i:02d}" for i in range(1, 11)], samples=128)
    assert rs[0].makespan == 1361
    assert np.mean([r.gap for r in rs]) <= 12.0
