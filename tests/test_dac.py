"""DAC: action rescaling, reward, env under jit/vmap, the policy file, training through the driver, ma-dac."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.checkpoint import read_kind, save_checkpoint
from jsched.dac import env as E
from jsched.dac import ma, method, policy, train
from jsched.errors import CheckpointError, JSchedError
from jsched.instances.generators import pool_generator
from jsched.instances.pfsp import generate_cas
from jsched.registry import get
from jsched.rl import ppo
from jsched.training import run_training

TINY = E.DACSettings(n_gen=4, pop_size=8, ls_steps=1)


def insts():
    return [generate_cas(np.random.default_rng(s), 5, m, days=1) for s, m in ((0, 1), (1, 3))]


def test_action_rescaling_matches_table1():
    lo = E.action_to_config(-jnp.ones(7))
    hi = E.action_to_config(jnp.ones(7))
    for i, k in enumerate(ma.K.PARAM_NAMES):
        assert float(lo[i]) == pytest.approx(ma.RANGES[k][0]) and float(hi[i]) == pytest.approx(ma.RANGES[k][1])
    back = E.action_to_config(E.config_to_action(ma.TABLE3))
    for i, k in enumerate(ma.K.PARAM_NAMES):
        assert float(back[i]) == pytest.approx(ma.TABLE3[k], rel=1e-5)


def test_reward_eq_1_3():
    # f_init 100, f_ideal 50: from 90 to 80 -> delta 20 and 40 -> 40^2 - 20^2 = 1200.
    assert float(E.reward_fn(100.0, 50.0, 90.0, 80.0)) == pytest.approx(1200.0)
    assert float(E.reward_fn(100.0, 50.0, 80.0, 80.0)) == 0.0
    assert float(E.reward_fn(100.0, 50.0, 80.0, 85.0)) == 0.0


def test_env_jit_vmap_episode():
    params = E.DACEnvParams(ma.stack_params(insts()), jnp.array([1.0, 1.0]))
    env = E.make_env(TINY)
    reset = jax.jit(jax.vmap(env.reset))
    step = jax.jit(jax.vmap(env.step))
    observe = jax.jit(jax.vmap(env.observe))
    ps = jax.vmap(pool_generator(params))(jax.random.split(jax.random.key(9), 3))  # one instance per env
    st = reset(jax.random.split(jax.random.key(0), 3), ps)
    obs = observe(ps, st)
    assert obs.shape == (3, E.OBS_DIM)
    np.testing.assert_allclose(np.asarray(obs[:, 0]), 1.0)  # best / f_init at the start
    total = np.zeros(3)
    for t in range(TINY.n_gen):
        st, r, done = step(jax.random.split(jax.random.key(t + 1), 3), ps, st, jnp.zeros((3, 7)))
        obs = observe(ps, st)
        assert ((np.asarray(obs) >= 0) & (np.asarray(obs) <= 1)).all()
        assert (np.asarray(r) >= 0).all()
        total += np.asarray(r)
        assert bool(done.all()) == (t == TINY.n_gen - 1)
    np.testing.assert_allclose(np.asarray(obs[:, 3]), 0.0)  # no budget left


def test_policy_file_roundtrip_and_errors(tmp_path):
    net = policy.network().init(jax.random.PRNGKey(3), jnp.zeros((1, E.OBS_DIM)))
    path = str(tmp_path / "p.msgpack")
    policy.save_policy(path, net, {"generations_trained": 5})
    assert read_kind(path) == "dac-model"
    back, meta = policy.load_policy(path)
    assert meta["generations_trained"] == 5
    jax.tree.map(np.testing.assert_array_equal, net, back)
    save_checkpoint(path, "dac-model", net, {"hidden": [32]})
    with pytest.raises(CheckpointError, match="config mismatch in hidden"):
        policy.load_policy(path)
    small = ppo.ActorCritic(E.ACT_DIM, (32, 32)).init(jax.random.PRNGKey(0), jnp.zeros((1, E.OBS_DIM)))
    policy.save_policy(path, small, {})
    with pytest.raises(CheckpointError, match="shapes"):
        policy.load_policy(path)
    (tmp_path / "bad.msgpack").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError):
        policy.load_policy(str(tmp_path / "bad.msgpack"))
    with pytest.raises(CheckpointError, match="not found"):
        policy.load_policy(str(tmp_path / "missing.msgpack"))


def test_shipped_policy_loads():
    _, meta = policy.load_policy()
    assert meta["generations_trained"] == 614_400


def test_ppo_config_defaults_are_sb3_and_exploration_options_apply():
    entry = get("ma-dac")
    cfg = entry.config("train")
    base = train.ppo_config(cfg.generations, cfg.envs, cfg.steps, cfg.log_std_init, cfg.ent_coef)
    assert base.num_envs * base.num_steps == 2048 and base.num_minibatches == 32  # SB3: n_steps 2048, batch 64
    assert (base.log_std_init, base.ent_coef, base.clip_vloss, base.vf_coef) == (0.0, 0.0, False, 1.0)
    low = train.ppo_config(2048, 8, 128, log_std_init=-1.5, ent_coef=0.01)
    assert (low.log_std_init, low.ent_coef) == (-1.5, 0.01)
    gen = pool_generator(E.DACEnvParams(ma.stack_params(insts()), jnp.ones(2)))
    tr = ppo.make_train(low, E.make_env(TINY), policy.network(), gen)
    log_std = tr.init(jax.random.PRNGKey(0)).train_state.params["log_std"]
    assert log_std.shape == (E.ACT_DIM,)
    np.testing.assert_allclose(log_std, -1.5)


def test_train_config_checks():
    entry = get("ma-dac")
    cfg = entry.config("train", generations=64, envs=2, steps=32, sets="M1T1, M3T1")
    assert cfg.sets_tuple == ("M1T1", "M3T1") and cfg.pop_size == ma.POP_SIZE
    with pytest.raises(JSchedError, match="at least envs \\* steps = 2048"):
        entry.config("train", generations=100)
    with pytest.raises(JSchedError, match="multiple of the minibatch size 64"):
        entry.config("train", envs=3, steps=30)
    with pytest.raises(JSchedError, match="sets: choose from"):
        entry.config("train", sets="M5T1")
    with pytest.raises(JSchedError, match="unknown option policy"):
        entry.config("solve", policy="x")


def _train(tmp_path, name, generations, **kw):
    cfg = method.TrainConfig(out=str(tmp_path / name), generations=generations, envs=2, steps=32, pop_size=8,
                             episode_generations=TINY.n_gen, progress=False, **kw)  # fmt: skip
    return run_training(train.DACTrainer(cfg, insts()), cfg, jax.random.key(1))


@pytest.mark.slow
def test_train_resume_equals_straight_run_and_ma_dac(tmp_path):
    straight = _train(tmp_path, "a", 128)
    r1 = _train(tmp_path, "b", 64)
    assert r1["updates"] == 1
    r2 = _train(tmp_path, "b", 128, resume=True)
    assert r2["updates"] == 2
    rows = lambda r: json.load(open(r["metrics"]))  # noqa: E731
    assert rows(r2) == rows(straight)
    with pytest.raises(CheckpointError, match="config mismatch in ent_coef"):
        _train(tmp_path, "b", 192, resume=True, ent_coef=0.1)
    net, meta = policy.load_policy(r2["model"])
    assert meta["generations_trained"] == 128 and meta["seed"] == 1
    inst = insts()[1]
    res = method.solve(inst, method.Config(checkpoint=r2["model"], generations=3, pop_size=8), jax.random.key(0))
    per_gen = res.extra["params_per_generation"]
    assert len(per_gen["xi"]) == 3 and res.extra["policy_generations_trained"] == 128
    assert res.extra["emissions"] > 0
