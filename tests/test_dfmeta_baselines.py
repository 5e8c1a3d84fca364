"""Active Search, EAS and FOMAML baselines on a tiny FJSP instance."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.dfmeta import baselines, daniel
from jsched.instances.arrays import fjsp_params, stack_fjsp_params
from jsched.instances.generators import sd2_fjsp
from jsched.kernels import fjsp
from jsched.rollout import rollout_fn


@pytest.fixture(scope="module")
def setup():
    inst = sd2_fjsp(3, 2, 5)
    return daniel.init_params(jax.random.key(0)), fjsp_params(inst), inst


def _replay_makespan(fp, actions):
    st = fjsp.reset(fp)
    for a in np.asarray(actions):
        if a >= 0:
            st, _, _ = fjsp.step(fp, st, jnp.int32(a))
    return int(fjsp.makespan(st))


def test_replay_log_prob_matches_sampled_log_prob(setup):
    params, fp, _ = setup
    run = jax.jit(rollout_fn(daniel.policy, daniel.ENV, "sample", 3))
    res = run(params, jax.tree.map(lambda x: x[None], fp), jax.random.key(1))
    replay = jax.jit(lambda a: baselines.replay_log_prob(daniel.policy, daniel.ENV, params, fp, a))
    for s in range(3):
        assert float(replay(res.actions[0, s])) == pytest.approx(float(res.log_prob[0, s]), abs=1e-4)


def test_eas_layer_starts_as_the_base_policy(setup):
    params, fp, _ = setup
    eas = daniel.init_eas(jax.random.key(1))
    obs = jax.jit(daniel.observe)(fp, fjsp.reset(fp))
    np.testing.assert_allclose(jax.jit(daniel.policy_eas)((params, eas), obs), jax.jit(daniel.policy)(params, obs), rtol=1e-6)
    assert set(eas) == set(daniel.EAS_KEYS)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["active_search", "eas"])
def test_search_reports_a_real_best_rollout(setup, method):
    params, fp, _ = setup
    key = jax.random.key(2)
    if method == "active_search":
        res = jax.jit(lambda k: baselines.active_search(daniel.policy, daniel.ENV, params, fp, k, 3, 4, 1e-3))(key)
    else:
        eas0 = daniel.init_eas(jax.random.key(3))
        res = jax.jit(lambda k: baselines.eas(daniel.policy_eas, daniel.ENV, params, eas0, fp, k, 3, 4))(key)
        changed = any(bool(jnp.any(a != b)) for a, b in zip(jax.tree.leaves(res.params), jax.tree.leaves(eas0)))
        assert changed  # only the added layer is trained, and it moved
    assert res.curve.shape == (3,) and bool(jnp.all(jnp.diff(res.curve) <= 0))
    assert _replay_makespan(fp, res.best_actions) == int(res.best_cost)


@pytest.mark.slow
def test_fomaml_step_updates_theta0(setup):
    params, _, _ = setup
    insts = stack_fjsp_params([sd2_fjsp(3, 2, s) for s in range(2)])
    init, step = baselines.make_fomaml(daniel.policy, daniel.ENV, K=1, batch=4, inner_lr=1e-3, outer_lr=1e-3)
    state = init(params)
    new, cost = step(jax.random.key(0), state, insts)
    assert cost.shape == (2,) and int(new.step) == 1
    diff = max(float(jnp.abs(a - b).max()) for a, b in zip(jax.tree.leaves(new.theta0), jax.tree.leaves(params)))
    assert 0 < diff < 0.01
