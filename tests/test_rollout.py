"""jsched.rollout: reproducible from the key, one compile per shape, padding-invariant, valid schedules."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_fjsp import random_fjsp
from test_jsp import random_jsp

from jsched.errors import JSchedError
from jsched.instances.arrays import jsp_params
from jsched.kernels import jsp, rules
from jsched.kernels.env import FJSP_ENV, JSP_ENV
from jsched.rollout import best_schedules, rollout, rollout_fn, rollout_population, to_schedules

_step = jax.jit(jsp.step)
_mask = jax.jit(jsp.action_mask)


def uniform_policy(params, obs):
    """Uniform logits over jobs (the rollout applies the mask)."""
    return jnp.zeros(obs.state.next_op.shape, jnp.float32)


def uniform_fjsp_policy(params, obs):
    d = obs.params.durations
    return jnp.zeros((d.shape[0] * d.shape[2],), jnp.float32)


def linear_policy(w, obs):
    """A tiny parametric policy: w[0] * duration + w[1] * work left of each job's next op."""
    f = jsp.job_features(obs.params, obs.state)
    return w[0] * f.duration + w[1] * f.work_left


@pytest.fixture(scope="module")
def jsps():
    rng = np.random.default_rng(0)
    return [random_jsp(rng, f"r{i}") for i in range(4)]


def test_sampling_is_reproducible_from_the_key(jsps):
    a = rollout(uniform_policy, None, JSP_ENV, jsps, jax.random.key(1), "sample", 8)
    b = rollout(uniform_policy, None, JSP_ENV, jsps, jax.random.key(1), "sample", 8)
    c = rollout(uniform_policy, None, JSP_ENV, jsps, jax.random.key(2), "sample", 8)
    chex.assert_trees_all_equal(a, b)
    assert not np.array_equal(a.actions, c.actions)
    assert a.makespan.shape == (4, 8) and a.actions.shape[:2] == (4, 8)


def test_schedules_validate_and_match_makespans(jsps):
    res = rollout(uniform_policy, None, JSP_ENV, jsps, jax.random.key(0), "sample", 3)
    scheds = to_schedules(jsps, res)
    for i, row in enumerate(scheds):
        assert [s.makespan for s in row] == np.asarray(res.makespan[i]).tolist()
    best = best_schedules(jsps, res)
    assert [b.makespan for b in best] == np.asarray(res.makespan).min(1).tolist()


def test_actions_replay_to_the_same_schedule(jsps):
    res = rollout(uniform_policy, None, JSP_ENV, jsps, jax.random.key(3), "sample", 1)
    for i, inst in enumerate(jsps):
        p = jsp_params(inst)
        s = jsp.reset(p)
        acts = [int(a) for a in np.asarray(res.actions[i, 0]) if a >= 0]
        assert len(acts) == inst.n_ops
        for a in acts:
            s = _step(p, s, jnp.int32(a))[0]
        j, o = inst.machines.shape
        np.testing.assert_array_equal(s.start, res.start[i, 0, :j, :o])


def test_log_prob_of_uniform_policy(jsps):
    """log-probability of an episode = -sum over steps of log(number of eligible jobs)."""
    res = rollout(uniform_policy, None, JSP_ENV, jsps, jax.random.key(4), "sample", 1)
    for i, inst in enumerate(jsps):
        p = jsp_params(inst)
        s = jsp.reset(p)
        lp = 0.0
        for a in [int(a) for a in np.asarray(res.actions[i, 0]) if a >= 0]:
            lp -= np.log(int(_mask(p, s).sum()))
            s = _step(p, s, jnp.int32(a))[0]
        assert abs(float(res.log_prob[i, 0]) - lp) < 1e-3


def test_padding_never_changes_a_result(jsps):
    """Each instance alone (unpadded) equals the same instance inside a padded batch."""
    policy = rules.rule_policy("mwkr")
    batch = rollout(policy, None, JSP_ENV, jsps, jax.random.key(0))
    for i, inst in enumerate(jsps):
        alone = rollout(policy, None, JSP_ENV, [inst], jax.random.key(0))
        j, o = inst.machines.shape
        assert int(alone.makespan[0, 0]) == int(batch.makespan[i, 0])
        np.testing.assert_array_equal(alone.start[0, 0], batch.start[i, 0, :j, :o])


def test_one_compile_per_shape():
    """Same policy and shapes: the policy is traced once, whatever the data and the key."""
    traced = chex.assert_max_traces(uniform_policy, n=1)
    rng = np.random.default_rng(9)
    for k in range(3):
        insts = jax.tree.map(lambda *x: jnp.stack(x), *[jsp_params(random_jsp(rng), 4, 4, 4) for _ in range(2)])
        rollout(traced, None, JSP_ENV, insts, jax.random.key(k), "sample", 2)
    chex.clear_trace_counter()


def test_population_vmap_equals_separate_calls(jsps):
    pop = jnp.array([[-1.0, 0.0], [0.0, 1.0], [0.5, -0.2]])
    res = rollout_population(linear_policy, pop, JSP_ENV, jsps, jax.random.key(0), "sample", 2)
    assert res.makespan.shape == (3, 4, 2)
    for k in range(3):
        one = rollout(linear_policy, pop[k], JSP_ENV, jsps, jax.random.key(0), "sample", 2)
        np.testing.assert_array_equal(res.makespan[k], one.makespan)


def test_rollout_fn_is_pure_and_vmappable(jsps):
    from jsched.rollout import stack_instances

    f = rollout_fn(linear_policy, JSP_ENV, "greedy", 1)
    insts = stack_instances(JSP_ENV, jsps)
    ms = jax.jit(jax.vmap(lambda w: f(w, insts, jax.random.key(0)).makespan))(jnp.eye(2))
    assert ms.shape == (2, 4, 1)


def test_fjsp_rollout_schedules_validate():
    rng = np.random.default_rng(2)
    fs = [random_fjsp(rng, f"f{i}") for i in range(4)]
    fs = [f for f in fs if f.n_ops] or fs
    res = rollout(uniform_fjsp_policy, None, FJSP_ENV, fs, jax.random.key(0), "sample", 4)
    for i, row in enumerate(to_schedules(fs, res)):
        assert [s.makespan for s in row] == np.asarray(res.makespan[i]).tolist()


def test_bad_arguments_are_clear_errors(jsps):
    with pytest.raises(JSchedError, match="mode"):
        rollout(uniform_policy, None, JSP_ENV, jsps, jax.random.key(0), "beam")
    with pytest.raises(JSchedError, match="JSP instances"):
        rollout(uniform_policy, None, JSP_ENV, [random_fjsp(np.random.default_rng(0))], jax.random.key(0))


# Saved fingerprints (makespans and a hash of actions, start and machine) of the rollouts
# below with key 7: a speed change to the rollout must leave every result bit-identical.
# The policies give exact probabilities (uniform, or rules), so the draws do not depend on
# the CPU's float rounding.
FINGERPRINTS = {
    "jsp sample": ([[33, 33, 30], [4, 4, 4], [18, 18, 18], [35, 36, 36]], "0725e817ae806654"),
    "jsp greedy mwkr": ([[30], [4], [16], [35]], "e1caf72597c12436"),
    "fjsp sample": ([[40, 24, 36], [13, 17, 18], [27, 36, 33], [4, 4, 4]], "b64d071638da42b3"),
    "fjsp greedy spt": ([[21], [11], [23], [4]], "d703bf94df0b3b34"),
}


def test_results_match_saved_fingerprints(jsps):
    import hashlib

    rng = np.random.default_rng(2)
    fs = [random_fjsp(rng, f"f{i}") for i in range(4)]
    cases = {
        "jsp sample": (uniform_policy, JSP_ENV, jsps, "sample", 3),
        "jsp greedy mwkr": (rules.rule_policy("mwkr"), JSP_ENV, jsps, "greedy", 1),
        "fjsp sample": (uniform_fjsp_policy, FJSP_ENV, fs, "sample", 3),
        "fjsp greedy spt": (rules.rule_policy("spt", "fjsp"), FJSP_ENV, fs, "greedy", 1),
    }
    for name, (policy, env, insts, mode, n) in cases.items():
        r = rollout(policy, None, env, insts, jax.random.key(7), mode, n)
        digest = hashlib.sha256(b"".join(np.asarray(x).tobytes() for x in (r.actions, r.start, r.machine)))
        assert (np.asarray(r.makespan).tolist(), digest.hexdigest()[:16]) == FINGERPRINTS[name], name
