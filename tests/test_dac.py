"""DAC: action rescaling, reward, env under jit/vmap, PPO training with checkpoint/resume, ma-dac."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.dac import env as E
from jsched.dac import ma, train
from jsched.errors import CheckpointError
from jsched.instances.pfsp import generate_cas

TINY = E.DACSettings(n_gen=4, pop_size=8, ls_steps=1)


def insts():
    return [generate_cas(np.random.default_rng(s), 5, m, days=1) for s, m in ((0, 1), (1, 3))]


def test_action_rescaling_matches_table1():
    lo = E.action_to_config(-jnp.ones(7))
    hi = E.action_to_config(jnp.ones(7))
    for i, k in enumerate(ma.K.PARAM_NAMES):
        assert float(lo[i]) == pytest.approx(ma.RANGES[k][0]) and float(hi[i]) == pytest.approx(ma.RANGES[k][1])
    back = E.action_to_config(E.config_to_action(ma.TUNED))
    for i, k in enumerate(ma.K.PARAM_NAMES):
        assert float(back[i]) == pytest.approx(ma.TUNED[k], rel=1e-5)


def test_reward_eq_1_3():
    # f_init 100, f_ideal 50: from 90 to 80 -> delta 20 and 40 -> 40^2 - 20^2 = 1200.
    assert float(E.reward_fn(100.0, 50.0, 90.0, 80.0)) == pytest.approx(1200.0)
    assert float(E.reward_fn(100.0, 50.0, 80.0, 80.0)) == 0.0
    assert float(E.reward_fn(100.0, 50.0, 80.0, 85.0)) == 0.0


def test_env_jit_vmap_episode():
    params = E.DACEnvParams(ma.stack_params(insts()), jnp.array([1.0, 1.0]))
    env = E.make_env(TINY)
    reset = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    obs, st = reset(jax.random.split(jax.random.key(0), 3), params)
    assert obs.shape == (3, E.OBS_DIM)
    np.testing.assert_allclose(np.asarray(obs[:, 0]), 1.0)  # best / f_init at the start
    total = np.zeros(3)
    for t in range(TINY.n_gen):
        obs, st, r, done, _ = step(jax.random.split(jax.random.key(t + 1), 3), st, jnp.zeros((3, 7)), params)
        assert ((np.asarray(obs) >= 0) & (np.asarray(obs) <= 1)).all()
        assert (np.asarray(r) >= 0).all()
        total += np.asarray(r)
        assert bool(done.all()) == (t == TINY.n_gen - 1)
    np.testing.assert_allclose(np.asarray(obs[:, 3]), 0.0)  # no budget left


def test_policy_file_roundtrip_and_errors(tmp_path):
    net = train.network().init(jax.random.PRNGKey(3), jnp.zeros((1, E.OBS_DIM)))
    path = str(tmp_path / "p.msgpack")
    train.save_policy(path, net, {"hidden": list(train.HIDDEN), "generations_trained": 5})
    back, cfg = train.load_policy(path)
    assert cfg["generations_trained"] == 5
    jax.tree.map(np.testing.assert_array_equal, net, back)
    train.save_policy(path, net, {"hidden": [32]})
    with pytest.raises(CheckpointError, match="hidden sizes"):
        train.load_policy(path)
    (tmp_path / "bad.msgpack").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError):
        train.load_policy(str(tmp_path / "bad.msgpack"))
    with pytest.raises(CheckpointError, match="cannot read"):
        train.load_policy(str(tmp_path / "missing.msgpack"))


def test_ppo_config_defaults_are_sb3_and_exploration_options_apply():
    base = train.ppo_config(2048)
    assert (base.log_std_init, base.ent_coef, base.num_minibatches, base.total_timesteps) == (0.0, 0.0, 16, 2048)
    low = train.ppo_config(2048, log_std_init=-1.5, ent_coef=0.01)
    assert (low.log_std_init, low.ent_coef) == (-1.5, 0.01)
    from jsched.rl.ppo import make_train

    tr = make_train(low, E.make_env(TINY), train.network(), E.DACEnvParams(ma.stack_params(insts()), jnp.ones(2)))
    log_std = tr.init(jax.random.PRNGKey(0)).train_state.params["log_std"]
    assert log_std.shape == (E.ACT_DIM,)
    np.testing.assert_allclose(log_std, -1.5)


@pytest.mark.slow
def test_train_checkpoint_resume_and_ma_dac(tmp_path):
    kw = dict(num_envs=2, num_steps=32, settings=TINY, progress=False, instances=insts())
    r1 = train.train_dac(str(tmp_path), total_generations=64, seed=1, **kw)
    assert len(r1["log"]) == 1
    r2 = train.train_dac(str(tmp_path), total_generations=128, seed=1, resume=True, **kw)
    assert len(r2["log"]) == 2 and r2["log"][0] == r1["log"][0]
    with pytest.raises(CheckpointError, match="config differs"):
        train.train_dac(str(tmp_path), total_generations=128, seed=2, resume=True, **kw)
    net, cfg = train.load_policy(r2["policy"])
    assert cfg["generations_trained"] == 128
    from jsched.dac.solve_dac import solve_dac

    inst = insts()[1]
    res, per_gen = solve_dac(inst, net, seed=0, n_gen=3, pop_size=8, ls_steps=1)
    assert per_gen.shape == (3, 7) and res.emissions > 0
    assert res.emissions == pytest.approx(res.curve_best[-1], rel=1e-5)
