"""DF-Meta inner/outer ES loops on toy problems with known answers."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.dfmeta.es import DFMetaConfig, estimate_fitness, evaluate_population, make_adapt, make_meta_learner
from jsched.errors import JSchedError

C = jnp.array([1.0, -2.0, 0.5])


def quadratic(key, params, target):
    """Deterministic cost 0.5 |w - target|^2; the solution is the evaluated point."""
    w = params["w"]
    return 0.5 * jnp.sum((w - target) ** 2), {"w": w}


def noisy(key, params, _):
    """cost = a^2 + b * u, u ~ U(-1, 1): its mean ignores b, its min over samples rewards |b|."""
    a, b = params["w"][0], params["w"][1]
    u = jax.random.uniform(key, minval=-1.0, maxval=1.0)
    return a**2 + b * u, {"u": u, "a": a, "b": b}


def test_inner_es_gradient_matches_closed_form_on_quadratic():
    # One SGD step of size 1 with identity shaping moves theta by exactly -g, the ES gradient;
    # for 0.5|x - c|^2 its expectation is x - c (Gaussian smoothing only adds a constant).
    mu = 20000
    cfg = DFMetaConfig(K=1, mu=mu, sigma=0.1, estimator="nes", inner_optimizer="sgd", inner_lr=1.0, shaping="identity")
    theta = {"w": jnp.zeros(3)}
    res = make_adapt(quadratic, cfg, theta)(jax.random.key(0), theta, C)
    g = -res.params["w"]
    d = theta["w"] - C
    std = np.sqrt(2 * (np.sum(d**2) + d**2) / mu)  # per-component std of the antithetic estimate
    np.testing.assert_array_less(np.abs(g - d), 5 * std)
    assert cfg.L == 1 and cfg.rollouts_per_instance == mu + 1


def test_adapt_converges_and_reports_best_rollout():
    cfg = DFMetaConfig(K=40, mu=32, sigma=0.1, L=2, estimator="mc-mean", inner_lr=0.1)
    theta = {"w": jnp.zeros(3)}
    res = make_adapt(quadratic, cfg, theta)(jax.random.key(1), theta, C)
    assert float(jnp.abs(res.params["w"] - C).max()) < 0.2
    assert res.curve.shape == (41,) and bool(jnp.all(jnp.diff(res.curve) <= 0))
    # The best solution reproduces the best cost.
    assert float(quadratic(None, res.best.solution, C)[0]) == pytest.approx(float(res.best.cost), rel=1e-5)


def test_estimators_on_samples():
    costs = jnp.array([[3.0, 1.0, 2.0], [0.5, 4.0, 4.5]])
    np.testing.assert_allclose(estimate_fitness(costs, "nes"), [3.0, 0.5])
    np.testing.assert_allclose(estimate_fitness(costs, "mc-mean"), [2.0, 3.0])
    np.testing.assert_allclose(estimate_fitness(costs, "mc-best"), [1.0, 0.5])
    with pytest.raises(JSchedError):
        estimate_fitness(costs, "median")


def test_mc_best_seeks_spread_mc_mean_ignores_it():
    theta = {"w": jnp.array([1.0, 0.0])}
    keys = jax.random.split(jax.random.key(2), 6)
    out = {}
    for est in ("mc-mean", "mc-best"):
        cfg = DFMetaConfig(K=30, mu=64, sigma=0.2, L=8, estimator=est, inner_lr=0.05)
        adapt = make_adapt(noisy, cfg, theta)
        out[est] = jax.vmap(adapt, in_axes=(0, None, None))(keys, theta, None).params["w"]
    # Both shrink a (the mean term); only MC-Best grows |b| (the best of 8 samples is a - 7|b|/9),
    # while under MC-Mean b only random-walks (averaged over 6 seeds).
    assert float(jnp.abs(out["mc-mean"][:, 0]).max()) < 0.5 and float(jnp.abs(out["mc-best"][:, 0]).max()) < 0.5
    spread_best = float(jnp.abs(out["mc-best"][:, 1]).mean())
    spread_mean = float(jnp.abs(out["mc-mean"][:, 1]).mean())
    assert spread_best > 0.9 and spread_mean < 0.6 and spread_best > 2.5 * spread_mean


def test_meta_step_is_first_order_mean_of_instance_gradients():
    # K = 0 and SGD(1): theta_0 <- theta_0 - mean_tau g_tau = mean of the targets c_tau.
    b, mu = 4, 20000
    cfg = DFMetaConfig(
        K=0, mu=mu, sigma=0.1, estimator="nes", B=b, shaping="identity", outer_optimizer="sgd", outer_lr=1.0
    )
    theta = {"w": jnp.zeros(3)}
    targets = jnp.stack([C + i for i in range(b)])
    ml = make_meta_learner(quadratic, cfg, theta)
    state, metrics = ml.step(jax.random.key(3), ml.init(jax.random.key(4), theta), targets)
    np.testing.assert_allclose(ml.theta0(state)["w"], targets.mean(0), atol=0.1)
    assert metrics.best.shape == (b,) and int(state.step) == 1


def test_meta_training_moves_theta0_toward_task_centre():
    cfg = DFMetaConfig(K=2, mu=16, sigma=0.1, L=1, estimator="nes", B=4, inner_lr=0.1, outer_lr=0.1)
    theta = {"w": jnp.zeros(3)}
    targets = jnp.stack([C + 0.1 * i for i in range(4)])
    ml = make_meta_learner(quadratic, cfg, theta)
    state = ml.init(jax.random.key(0), theta)
    for i in range(60):
        state, _ = ml.step(jax.random.key(10 + i), state, targets)
    assert float(jnp.abs(ml.theta0(state)["w"] - targets.mean(0)).max()) < 0.3


def test_config_validation():
    with pytest.raises(JSchedError, match="estimator"):
        DFMetaConfig(estimator="best")
    with pytest.raises(JSchedError, match="even"):
        DFMetaConfig(mu=7)
    with pytest.raises(JSchedError, match="shaping"):
        DFMetaConfig(shaping="rank")


def test_method_options_take_their_defaults_from_the_es_config():
    from jsched import api
    from jsched.dfmeta import method
    from jsched.options import describe
    from jsched.registry import get

    es, solve_cfg, train_cfg = DFMetaConfig(), method.Config(), method.TrainConfig()
    for name in ("K", "mu", "L", "sigma", "inner_lr", "chunk"):
        assert getattr(es, name) == getattr(train_cfg, name)
    assert train_cfg.B == es.B and train_cfg.outer_lr == es.outer_lr and train_cfg.estimator == es.estimator
    # sample mode: DFMetaConfig's defaults (the paper's search), whatever theta_0 was trained for
    trained = {"K": 2, "mu": 20, "L": 1, "sigma": 0.1, "inner_lr": 0.1, "adapt_params": "head", "estimator": "greedy",
               "B": 4, "outer_lr": 0.5}  # fmt: skip
    assert solve_cfg.mode == "sample" and solve_cfg.es(trained) == es
    # greedy mode: the inner step theta_0 was meta-trained for (mc-mean without one); set options win
    greedy = method.Config(mode="greedy")
    assert greedy.es() == dataclasses.replace(es, estimator="mc-mean")
    tuned = greedy.es(trained)
    assert (tuned.K, tuned.mu, tuned.sigma, tuned.adapt_params, tuned.estimator) == (2, 20, 0.1, "head", "greedy")
    assert (tuned.B, tuned.outer_lr) == (es.B, es.outer_lr)  # meta-training's own options do not leak in
    assert method.Config(mode="greedy", estimator="nes", mu=8).es(trained).estimator == "nes"
    assert method.Config(mode="greedy", mu=8).es(trained).mu == 8
    opts = {o[0]: o for o in describe(get("dfmeta").config_class("solve"))}
    assert opts["K"][2] is None and "in greedy mode the value theta_0 was meta-trained with" in opts["K"][3]
    assert opts["estimator"][3].startswith("an individual's fitness")
    with pytest.raises(JSchedError, match="even"):
        api.solve("ft06", method="dfmeta", mu=7)
    with pytest.raises(JSchedError, match="estimator"):
        api.solve("ft06", method="dfmeta", estimator="median")


SHARDED = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh
    from jsched.dfmeta.es import DFMetaConfig, make_meta_learner, make_adapt
    assert len(jax.devices()) == 2, jax.devices()

    def rollout(key, params, target):
        w = params["w"]
        noise = jax.random.normal(key, w.shape)
        return jnp.sum((w + 0.1 * noise - target) ** 2) + jnp.sum(params["b"]), {"w": w}

    cfg = DFMetaConfig(K=2, mu=8, sigma=0.1, L=3, estimator="mc-best", B=2, inner_lr=0.1, outer_lr=0.1)
    theta = {"w": jnp.zeros(5), "b": jnp.ones(2)}
    targets = jnp.stack([jnp.arange(5.0), -jnp.arange(5.0)])
    mesh = Mesh(np.array(jax.devices()), ("pop",))
    outs = []
    for m in (None, mesh):
        ml = make_meta_learner(rollout, cfg, theta, mesh=m)
        s = ml.init(jax.random.key(0), theta)
        for i in range(3):
            s, met = ml.step(jax.random.key(i), s, targets)
        r = make_adapt(rollout, cfg, theta, mesh=m)(jax.random.key(5), theta, targets[0])
        outs.append((ml.theta0(s), met.best, r.params, r.best.cost))
    for a, b in zip(jax.tree.leaves(outs[0]), jax.tree.leaves(outs[1])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    print("SHARDED-OK")
    """
)


def test_sharded_population_gives_same_update():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", SHARDED], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SHARDED-OK" in out.stdout


def test_chunked_population_equals_whole_vmap():
    pop = {"w": jax.random.normal(jax.random.key(0), (10, 2))}
    whole = evaluate_population(noisy, jax.random.key(1), pop, None, 3)
    for chunk in (3, 5):
        part = evaluate_population(noisy, jax.random.key(1), pop, None, 3, chunk)
        for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(part)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5)  # same keys; float rounding only
    with pytest.raises(JSchedError, match="chunk"):
        DFMetaConfig(chunk=-1)


def test_stepwise_deployment_matches_the_jitted_loop_and_stops_at_the_deadline():
    import time

    from jsched.dfmeta.adapt import run_adaptation

    cfg = DFMetaConfig(K=5, mu=8, sigma=0.1, L=2, estimator="mc-mean", inner_lr=0.1, chunk=3)  # 3 calls a step, last padded
    theta = {"w": jnp.zeros(3)}
    key = jax.random.key(4)
    ref = make_adapt(quadratic, cfg, theta)(key, theta, C)
    out = run_adaptation(quadratic, quadratic, cfg, theta, C, key, "sample")
    np.testing.assert_allclose(out.params["w"], ref.params["w"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.curve, ref.curve, rtol=1e-5)
    assert out.steps == 5 and out.rollouts == cfg.rollouts_per_instance and out.cost == pytest.approx(float(ref.best.cost))
    # greedy: theta^K decoded once (here the deterministic cost at theta^K), not the best sample
    greedy = run_adaptation(quadratic, quadratic, cfg, theta, C, key, "greedy")
    assert greedy.cost == pytest.approx(float(quadratic(None, ref.params, C)[0]), rel=1e-5)
    assert greedy.rollouts == 5 * 8 * 2 + 1 and greedy.cost >= out.cost
    # a spent budget: the first call (3 individuals x 2), no ES step; theta_0's deployment still runs
    late = run_adaptation(quadratic, quadratic, cfg, theta, C, key, "greedy", deadline=time.monotonic())
    assert late.steps == 0 and late.rollouts == 3 * 2 + 1 and late.curve == []
    assert late.cost == pytest.approx(float(quadratic(None, theta, C)[0]))


def test_adapt_params_moves_only_the_matching_leaves():
    from jsched.dfmeta.adapt import run_adaptation
    from jsched.dfmeta.es import merge_params, select_params

    def split(key, params, target):  # both leaves matter; only "head/w" is adapted
        return quadratic(key, {"w": params["head"]["w"] + params["body"]["w"]}, target)

    theta = {"body": {"w": jnp.full(3, 0.5)}, "head": {"w": jnp.zeros(3)}}
    assert [float(x[0]) for x in select_params(theta, "head")] == [0.0]
    back = merge_params(theta, [jnp.ones(3)], "head")
    np.testing.assert_array_equal(back["head"]["w"], 1.0) and np.testing.assert_array_equal(back["body"]["w"], 0.5)
    cfg = DFMetaConfig(K=40, mu=32, sigma=0.1, L=1, estimator="nes", inner_lr=0.1, adapt_params="^head/")
    out = run_adaptation(split, split, cfg, theta, C, jax.random.key(0), "greedy")
    np.testing.assert_array_equal(out.params["body"]["w"], theta["body"]["w"])  # frozen
    assert float(jnp.abs(out.params["head"]["w"] + 0.5 - C).max()) < 0.2  # the head alone reached the target
    with pytest.raises(JSchedError, match="matches no parameter; paths: body/w, head/w"):
        select_params(theta, "actor")
    with pytest.raises(JSchedError, match="not a regular expression"):
        DFMetaConfig(adapt_params="(")


def test_greedy_estimator_rolls_the_population_out_greedily():
    from jsched.dfmeta.adapt import run_adaptation

    def never(key, params, target):
        raise AssertionError("the greedy estimator must not sample")

    cfg = DFMetaConfig(K=2, mu=8, sigma=0.1, L=4, estimator="greedy", inner_lr=0.1)
    assert cfg.L == 1 and estimate_fitness(jnp.array([[2.0], [1.0]]), "greedy").tolist() == [2.0, 1.0]
    out = run_adaptation(never, quadratic, cfg, {"w": jnp.zeros(3)}, C, jax.random.key(0), "greedy")
    assert out.steps == 2 and out.rollouts == 2 * 8 + 1
