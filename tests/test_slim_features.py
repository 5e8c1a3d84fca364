"""SLIM features against a slow numpy reference (authors' code semantics), padding, jit/vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.instances.arrays import jsp_params
from jsched.instances.model import JSPInstance
from jsched.kernels.jsp import reset, step
from jsched.slim.features import context_features, masked_quantiles, op_features

QS = (0.25, 0.5, 0.75)


def random_instance(rng, j, m, revisit=False):
    if revisit:
        mach = rng.integers(0, m, size=(j, m))
    else:
        mach = np.stack([rng.permutation(m) for _ in range(j)])
    return JSPInstance("r", mach, rng.integers(1, 100, size=(j, m)), m)


def ref_op_features(inst, double=False):
    d = inst.durations.astype(np.float64)
    p = d.max()
    c = d / p
    rows = []
    for j in range(inst.n_jobs):
        for k in range(inst.n_ops_per_job):
            jq = np.quantile(c[j], QS)
            on = c[inst.machines == inst.machines[j, k]]
            mq = np.quantile(on, QS) / (p if double else 1.0)
            tot = c[j].sum()
            cum = c[j, : k + 1].sum()
            x = c[j, k]
            rows.append([*jq, *mq, x, cum / tot, (tot - cum + x) / tot, *(x - jq), *(x - mq)])
    x = np.array(rows)
    return (x - x.mean(0)) / (x.std(0, ddof=1) + 1e-6)


def ref_context(inst, job_ready, machine_ready, next_op, t):
    if t == 0:
        return np.zeros((inst.n_jobs, 11))
    p = inst.durations.max()
    jc = np.asarray(job_ready, float) / p
    mc = np.asarray(machine_ready, float) / p
    out = []
    for j in range(inst.n_jobs):
        k = next_op[j] if next_op[j] < inst.n_ops_per_job else 0
        a = mc[inst.machines[j, k]]
        big_t = jc.max() + 1e-5
        out.append([jc[j] - a, *(jc[j] - np.quantile(jc, QS)), jc[j] - jc.mean(), jc[j] / big_t,
                    *(a - np.quantile(mc, QS)), a - mc.mean(), a / big_t])
    return np.array(out)


@pytest.mark.parametrize("k", [9, 150])  # order statistics by rank counting, by sorting
def test_masked_quantiles_match_numpy(k):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, k)).astype(np.float32)
    x[:, 1:4] = x[:, 4:5]  # ties
    mask = rng.random((6, k)) < 0.7
    mask[:, 0] = True
    mask[5] = False
    got = np.asarray(masked_quantiles(jnp.asarray(x), jnp.asarray(mask)))
    for r in range(5):
        np.testing.assert_allclose(got[r], np.quantile(x[r][mask[r]], QS), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[5], 0.0)


@pytest.mark.parametrize("seed,shape,revisit", [(0, (3, 3), False), (1, (5, 4), False), (2, (4, 6), True), (3, (6, 6), False)])
@pytest.mark.parametrize("double", [False, True])
def test_op_features_match_reference(seed, shape, revisit, double):
    inst = random_instance(np.random.default_rng(seed), *shape, revisit=revisit)
    got = np.asarray(op_features(jsp_params(inst), double))
    np.testing.assert_allclose(got, ref_op_features(inst, double), rtol=1e-3, atol=1e-3)


def test_op_features_ignore_padding():
    inst = random_instance(np.random.default_rng(5), 4, 3)
    plain = np.asarray(op_features(jsp_params(inst)))
    padded = np.asarray(op_features(jsp_params(inst, 6, 5, 4))).reshape(6, 5, 15)
    np.testing.assert_allclose(padded[:4, :3].reshape(-1, 15), plain, rtol=1e-5, atol=1e-5)
    assert (padded[4:] == 0).all() and (padded[:, 3:] == 0).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_context_features_match_reference_along_a_rollout(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, 5, 4)
    params = jsp_params(inst, 7, 4, 6)  # padded jobs and machines must not matter
    jit_ctx = jax.jit(context_features)
    state = reset(params)
    jr, mr, no = np.zeros(5, int), np.zeros(4, int), np.zeros(5, int)
    for t in range(inst.n_ops + 1):
        got = np.asarray(jit_ctx(params, state))
        np.testing.assert_allclose(got[:5], ref_context(inst, jr, mr, no, t), rtol=1e-4, atol=1e-5)
        assert (got[5:] == 0).all()
        if t == inst.n_ops:
            break
        j = int(rng.choice(np.flatnonzero(no < 4)))
        m, d = inst.machines[j, no[j]], inst.durations[j, no[j]]
        s = max(jr[j], mr[m])
        jr[j] = mr[m] = s + d
        no[j] += 1
        state, _, _ = step(params, state, jnp.int32(j))


def test_features_vmap_equals_loop():
    rng = np.random.default_rng(9)
    insts = [random_instance(rng, 4, 4) for _ in range(3)]
    ps = [jsp_params(i) for i in insts]
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *ps)
    batched = jax.jit(jax.vmap(op_features))(stacked)
    for b, p in enumerate(ps):
        np.testing.assert_allclose(batched[b], op_features(p), rtol=1e-5, atol=1e-6)
