"""jsched.rl.checkpoint: exact round trips of runner states, and clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.errors import CheckpointError
from jsched.rl import checkpoint, ppo


def _runner():
    env = ppo.Env(lambda k, p: (jnp.zeros(3), jnp.zeros(())), lambda k, s, a, p: (jnp.zeros(3), s, 0.0, True, {}))
    cfg = ppo.PPOConfig(num_envs=2, num_steps=2, total_timesteps=8, num_minibatches=1)
    return ppo.make_train(cfg, env, ppo.ActorCritic(out_dim=2, hidden=(4,))).init


def test_round_trip_is_exact(tmp_path):
    init = _runner()
    a, template = init(jax.random.PRNGKey(1)), init(jax.random.PRNGKey(2))
    path = tmp_path / "c.msgpack"
    checkpoint.save(path, a, {"x": 1, "h": [4]}, "test", {"note": "hi"})
    b, cfg, extra = checkpoint.load(path, template, "test", {"x": 1, "h": [4]})
    assert cfg == {"x": 1, "h": [4]} and extra == {"note": "hi"}
    assert type(b) is type(a)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(u, v)


def test_errors(tmp_path):
    init = _runner()
    a = init(jax.random.PRNGKey(1))
    path = tmp_path / "c.msgpack"
    checkpoint.save(path, a, {"x": 1}, "test")
    with pytest.raises(CheckpointError, match="config mismatch in x"):
        checkpoint.load(path, a, "test", {"x": 2})
    with pytest.raises(CheckpointError, match="expected 'other'"):
        checkpoint.load(path, a, "other")
    with pytest.raises(CheckpointError, match="not found"):
        checkpoint.load(tmp_path / "none.msgpack", a, "test")
    (tmp_path / "bad.msgpack").write_bytes(open(path, "rb").read()[:50])
    with pytest.raises(CheckpointError, match="corrupt"):
        checkpoint.load(tmp_path / "bad.msgpack", a, "test")
    small = {"w": jnp.zeros(2)}
    checkpoint.save(path, {"w": jnp.zeros(3)}, {}, "test")
    with pytest.raises(CheckpointError, match="shape"):
        checkpoint.load(path, small, "test")
