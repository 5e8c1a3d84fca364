"""DF-Meta with the SLIM policy on the JSP: rollout, population evaluation, ES, theta_0 files, solve."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched import api
from jsched.checkpoint import read_kind
from jsched.dfmeta import slim_policy
from jsched.dfmeta.es import DFMetaConfig, evaluate_population, make_adapt
from jsched.errors import CheckpointError, JSchedError
from jsched.instances.generators import sd2_fjsp, taillard_jsp
from jsched.schedule import Schedule, validate
from jsched.slim.graph import slim_instance
from jsched.slim.model import ModelConfig, init_params, save_model

CFG = ModelConfig(gat_hidden=8, gat_heads=1, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)
INST = taillard_jsp(5, 4, 3)
SI = slim_instance(INST)
ROLL = slim_policy.make_rollout(CFG)
THETA = init_params(CFG, jax.random.key(0))


def _population(n):
    noise = jax.random.normal(jax.random.key(7), (n,))
    return jax.tree.map(lambda x: x[None] * (1.0 + 0.3 * noise.reshape((n,) + (1,) * x.ndim)), THETA)


def test_rollout_is_a_valid_schedule_and_population_vmap_equals_loop():
    pop = _population(3)
    keys = jax.random.split(jax.random.key(1), 3)
    vm_cost, vm_start = jax.jit(jax.vmap(ROLL))(keys, pop, jax.tree.map(lambda x: jnp.broadcast_to(x, (3,) + x.shape), SI))
    one = jax.jit(ROLL)
    for i in range(3):
        cost, start = one(keys[i], jax.tree.map(lambda x, i=i: x[i], pop), SI)
        np.testing.assert_array_equal(np.asarray(start), np.asarray(vm_start[i]))
        assert float(cost) == float(vm_cost[i])
        sched = validate(INST, Schedule.from_arrays(INST, np.asarray(start)))
        assert sched.makespan == int(cost)


def _walk(jaxpr):
    for eqn in jaxpr.eqns:
        yield eqn
        for p in eqn.params.values():
            for sub in p if isinstance(p, (list, tuple)) else [p]:
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    yield from _walk(inner)


def test_encoder_runs_once_per_individual_not_per_sample():
    p, L, n = 2, 3, INST.n_jobs * INST.n_ops_per_job + 1  # +1: the encoder's dummy node
    jaxpr = jax.make_jaxpr(lambda k, pop: evaluate_population(ROLL, k, pop, SI, L))(jax.random.key(0), _population(p))
    shapes = [tuple(v.aval.shape) for e in _walk(jaxpr.jaxpr) for v in e.outvars if hasattr(v.aval, "shape")]
    assert any(s[:2] == (p, n) for s in shapes)  # the GAT layers, batched over individuals
    assert not any(s[:3] == (p, L, n) for s in shapes)  # never over individuals x samples


@pytest.fixture(scope="module")
def adapted():
    cfg = DFMetaConfig(K=8, mu=16, L=4, sigma=0.1, inner_lr=0.05, estimator="mc-mean")
    return make_adapt(ROLL, cfg, THETA)(jax.random.key(0), THETA, SI)


def test_es_with_slim_under_jit_improves_the_policy(adapted):
    ev = jax.jit(lambda k, prm: evaluate_population(ROLL, k, jax.tree.map(lambda x: x[None], prm), SI, 128)[0].mean())
    before, after = float(ev(jax.random.key(9), THETA)), float(ev(jax.random.key(9), adapted.params))
    assert after < 0.95 * before, (before, after)
    assert bool(jnp.all(jnp.diff(adapted.curve) <= 0)) and adapted.curve.shape == (9,)
    assert adapted.mean_fitness[-1] < adapted.mean_fitness[0]
    sched = validate(INST, Schedule.from_arrays(INST, np.asarray(adapted.best.solution)))
    assert sched.makespan == int(adapted.best.cost)


def test_theta0_checkpoint_round_trip_and_errors(tmp_path, adapted):
    path = tmp_path / "theta0.ckpt"
    slim_policy.save_theta0(path, adapted.params, CFG, {"config": {"K": 8}, "step": 3})
    back, cfg, meta = slim_policy.load_theta0(path)
    assert cfg == CFG and meta["dfmeta"] == {"config": {"K": 8}, "step": 3} and read_kind(path) == slim_policy.THETA0_KIND
    for a, b in zip(jax.tree.leaves(adapted.params), jax.tree.leaves(back)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    other = tmp_path / "other.ckpt"
    save_model(other, THETA, CFG, kind="something-else")
    with pytest.raises(CheckpointError, match="expected"):
        slim_policy.load_theta0(other)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CheckpointError):
        slim_policy.load_theta0(path)


def test_solve_dfmeta_picks_slim_on_a_jsp(tmp_path):
    ckpt = tmp_path / "tiny.ckpt"
    slim_policy.save_theta0(ckpt, THETA, CFG, {})
    r = api.solve("ft06", method="dfmeta", K=1, mu=4, L=2, checkpoint=str(ckpt))
    assert r.extra["base"] == "slim" and r.extra["rollouts"] == 10 and "base=slim" in r.line()
    g = api.solve("ft06", method="dfmeta", mode="greedy", K=1, mu=4, L=2, checkpoint=str(ckpt))
    assert g.extra["rollouts"] == 9 and g.extra["steps"] == 1  # validated by api.solve
    with pytest.raises(JSchedError, match="JSP"):
        api.solve(sd2_fjsp(3, 2, 0), method="dfmeta", base="slim")  # an FJSP


@pytest.mark.slow
def test_meta_train_slim_smoke_and_resume(tmp_path):
    init = tmp_path / "init.ckpt"
    save_model(init, THETA, CFG)
    out = str(tmp_path / "meta")
    opts = dict(out=out, base="slim", init=str(init), K=1, mu=2, L=1, B=2, jobs=3, machines=2, pool=4, save_every=1,
                progress=False)  # fmt: skip
    api.train("dfmeta", steps=1, **opts)
    res = api.train("dfmeta", steps=2, resume=True, **opts)
    assert res["updates"] == 2
    _, cfg, meta = slim_policy.load_theta0(res["model"])
    assert cfg == CFG and meta["dfmeta"]["step"] == 2 and meta["dfmeta"]["config"]["base"] == "slim"
    with pytest.raises(JSchedError, match="does not suit"):
        api.train("dfmeta", base="slim", data="sd2")
