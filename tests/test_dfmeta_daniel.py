"""DANIEL policy, its PPO env and DF-Meta adaptation on tiny FJSP instances."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.dfmeta import daniel, fjsp_env
from jsched.dfmeta.adapt import adapt_instance
from jsched.dfmeta.daniel_method import load_model, save_model
from jsched.dfmeta.es import DFMetaConfig
from jsched.errors import CheckpointError
from jsched.instances.arrays import fjsp_params, stack_fjsp_params
from jsched.instances.generators import pool_generator, sd2_fjsp
from jsched.kernels import fjsp
from jsched.rollout import rollout, to_schedules
from jsched.schedule import validate


@pytest.fixture(scope="module")
def params():
    return daniel.init_params(jax.random.key(0))


@pytest.fixture(scope="module")
def inst():
    return sd2_fjsp(4, 3, 7)


_observe = jax.jit(daniel.observe)
_policy = jax.jit(daniel.policy)
_step = jax.jit(fjsp.step)


def test_parameter_count_matches_released_checkpoints(params):
    # 28,834 = DAN 16,672 + actor 6,849 + critic 5,313, as in the released checkpoints.
    assert daniel.n_params(params) == 28834
    p = params["params"]
    assert daniel.n_params(p["dan0"]) + daniel.n_params(p["dan1"]) == 16672
    assert daniel.n_params(p["actor"]) == 6849 and daniel.n_params(p["critic"]) == 5313


def test_observation_masks_and_flat_round_trip(params, inst):
    fp = fjsp_params(inst)
    st = fjsp.reset(fp)
    rng = np.random.default_rng(0)
    for _ in range(5):  # a few random steps so that some ops are scheduled
        obs = _observe(fp, st)
        cand = np.asarray(obs.cand)
        np.testing.assert_array_equal(cand, np.asarray(fjsp.candidates(fp, st, "nondelay")))
        live = np.asarray(obs.op_live)
        x = np.asarray(obs.op_x)
        assert np.all(x[~live] == 0)
        np.testing.assert_allclose(x[live].mean(0), 0.0, atol=1e-4)
        logits = np.asarray(_policy(params, obs))
        assert np.all(np.isneginf(logits[~cand.reshape(-1)])) and np.all(np.isfinite(logits[cand.reshape(-1)]))
        flat = daniel.flatten_obs(obs)
        assert flat.shape == (daniel.obs_size(*fp.durations.shape),)
        back = daniel.unflatten_obs(flat, *fp.durations.shape)
        for a, b in zip(obs, back):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        st, _, _ = _step(fp, st, jnp.int32(rng.choice(np.flatnonzero(cand.reshape(-1)))))


def test_padding_does_not_change_logits(params, inst):
    fp = fjsp_params(inst)
    padded = fjsp_params(inst, n_jobs=6, n_ops=4, n_machines=5)
    a = np.asarray(_policy(params, _observe(fp, fjsp.reset(fp)))).reshape(4, 3)
    b = np.asarray(_policy(params, jax.jit(daniel.observe)(padded, fjsp.reset(padded)))).reshape(6, 5)
    np.testing.assert_allclose(b[:4, :3], a, rtol=1e-4, atol=1e-4)
    assert np.all(np.isneginf(b[4:])) and np.all(np.isneginf(b[:, 3:]))


def test_ppo_env_return_is_lb_decrease(inst):
    p = pool_generator(stack_fjsp_params([inst]))(jax.random.key(0))
    s = fjsp_env.reset(jax.random.key(0), p)
    lb0 = float(s.lb)
    total, done, rng = 0.0, False, np.random.default_rng(1)
    step = jax.jit(fjsp_env.step)
    while not done:
        mask = np.asarray(fjsp_env.action_mask(p, s))
        s, r, done = step(jax.random.key(0), p, s, jnp.int32(rng.choice(np.flatnonzero(mask))))
        total += float(r)
        done = bool(done)
    scale = inst.durations.max()
    assert total == pytest.approx(lb0 - int(fjsp_env.makespan(s)) / scale, abs=1e-4)


def test_greedy_rollout_gives_valid_schedule_and_ppo_net_matches(params, inst):
    res = rollout(daniel.policy, params, daniel.ENV, [inst], jax.random.key(0), "greedy")
    sched = to_schedules([inst], res)[0][0]
    assert sched.makespan == int(res.makespan[0, 0])
    # The PPO wrapper computes the same scores on flat observations.
    fp = fjsp_params(inst)
    obs = _observe(fp, fjsp.reset(fp))
    net = daniel.DanielPPONet(*fp.durations.shape)
    scores, value = net.apply({"params": {"net": params["params"]}}, daniel.flatten_obs(obs)[None])
    ref, ref_v = daniel.NET.apply(params, obs)
    np.testing.assert_allclose(scores[0], ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(value[0], ref_v, rtol=1e-5, atol=1e-5)


def test_model_checkpoint_round_trip(params, tmp_path):
    path = str(tmp_path / "p.msgpack")
    save_model(path, params, {"update": 3})
    back = load_model(path)
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(back)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    save_model(path, {"params": {"x": np.zeros(3)}})
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(path)


@pytest.mark.slow
def test_adaptation_returns_valid_best_schedule(params, inst):
    cfg = DFMetaConfig(K=1, mu=2, L=2, sigma=0.2)
    out = adapt_instance(daniel.policy, daniel.ENV, params, inst, cfg, jax.random.key(3))
    validate(inst, out.schedule)
    assert out.makespan == int(min(out.curve)) and out.rollouts == 2 * 2 + 2
    assert len(out.curve) == 2 and out.curve[1] <= out.curve[0]
    assert jax.tree.structure(out.params) == jax.tree.structure(params)
