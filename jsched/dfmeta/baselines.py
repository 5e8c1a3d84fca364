"""Gradient-based per-instance baselines of DF-Meta at a given rollout budget (pure, jittable).

Active Search (Bello et al. 2017): REINFORCE on all policy parameters. EAS-Lay (Hottung et al.
2022): REINFORCE plus imitation of the best solution, on an added zero-initialised residual
layer only. FOMAML (Finn et al. 2017, first order): meta-training whose inner loop is K
REINFORCE steps. ES without meta is :func:`jsched.dfmeta.es.make_adapt` from the PPO policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jsched.kernels.env import Env
from jsched.rollout import rollout_fn


class SearchResult(NamedTuple):
    params: Any  # the fine-tuned parameters (all, or the added layer's for EAS)
    best_cost: jax.Array  # () float32
    best_actions: jax.Array  # (T,) int32, actions of the best rollout
    curve: jax.Array  # (iterations,) best cost after each iteration


def replay_log_prob(
    policy: Callable, env: Env, params: Any, inst: Any, actions: jax.Array, key: jax.Array | None = None
) -> jax.Array:
    """Sum of log-probabilities of a given action sequence (teacher forcing; -1 = no step).

    ``key`` is the env's key (the dispatch envs ignore it).
    """
    key = jax.random.key(0) if key is None else key
    state = env.reset(key, inst)

    def body(state, a):
        mask = env.action_mask(inst, state)
        logits = jnp.where(mask, policy(params, env.observe(inst, state)), -jnp.inf)
        live = a >= 0
        lp = jax.nn.log_softmax(logits)[jnp.maximum(a, 0)]
        state, _, _ = env.step(key, inst, state, jnp.maximum(a, 0))
        return state, jnp.where(live, lp, 0.0)

    _, lps = jax.lax.scan(body, state, actions)
    return lps.sum()


def _sampler(policy, env, batch):
    run = rollout_fn(policy, env, "sample", batch)
    return lambda params, inst, key: jax.tree.map(lambda x: x[0], run(params, jax.tree.map(lambda x: x[None], inst), key))


def reinforce_search(
    policy: Callable,
    env: Env,
    init: Any,
    inst: Any,
    key: jax.Array,
    iterations: int,
    batch: int,
    lr: float,
    imitation: float = 0.0,
    frozen: Any = None,
) -> SearchResult:
    """REINFORCE fine-tuning on one instance: ``iterations`` x ``batch`` sampled rollouts.

    ``policy(params, obs)`` is called with ``(frozen, trainable)`` when ``frozen`` is given
    (EAS) and with the trainable parameters alone otherwise (Active Search).
    """
    pol = (lambda p, obs: policy((frozen, p), obs)) if frozen is not None else policy
    sample = _sampler(pol, env, batch)
    opt = optax.adam(lr)
    n_t = env.reset(key, inst).start.size

    def loss(p, inst, key, best_actions, has_best):
        res = sample(p, inst, key)
        cost = res.makespan.astype(jnp.float32)
        adv = jax.lax.stop_gradient(cost - cost.mean())
        lp = res.log_prob
        l_rl = (adv * lp).mean()
        l_il = -replay_log_prob(pol, env, p, inst, best_actions) if imitation else 0.0
        return l_rl + imitation * jnp.where(has_best, l_il, 0.0), res

    def it(carry, k):
        p, o, best_c, best_a = carry
        (_, res), g = jax.value_and_grad(loss, has_aux=True)(p, inst, k, best_a, jnp.isfinite(best_c))
        upd, o = opt.update(g, o, p)
        p = optax.apply_updates(p, upd)
        i = jnp.argmin(res.makespan)
        c = res.makespan[i].astype(jnp.float32)
        better = c < best_c
        best_c = jnp.where(better, c, best_c)
        best_a = jnp.where(better, res.actions[i], best_a)
        return (p, o, best_c, best_a), best_c

    carry = (init, opt.init(init), jnp.asarray(jnp.inf, jnp.float32), jnp.full((n_t,), -1, jnp.int32))
    (p, _, best_c, best_a), curve = jax.lax.scan(it, carry, jax.random.split(key, iterations))
    return SearchResult(p, best_c, best_a, curve)


def active_search(policy, env, params, inst, key, iterations: int, batch: int, lr: float = 1e-4) -> SearchResult:
    """Active Search: REINFORCE on all parameters (budget ``iterations * batch`` rollouts)."""
    return reinforce_search(policy, env, params, inst, key, iterations, batch, lr)


def eas(policy_eas, env, frozen, eas_init, inst, key, iterations: int, batch: int, lr: float = 1e-3,
        imitation: float = 0.01) -> SearchResult:
    """EAS-Lay: REINFORCE + imitation on the added layer only; ``policy_eas((frozen, eas), obs)``."""
    return reinforce_search(policy_eas, env, eas_init, inst, key, iterations, batch, lr, imitation, frozen)


class FOMAMLState(NamedTuple):
    theta0: Any
    opt_state: Any
    step: jax.Array


def make_fomaml(policy: Callable, env: Env, K: int, batch: int, inner_lr: float, outer_lr: float):
    """First-order MAML with REINFORCE inner steps: ``(init, step)`` over batched instances.

    ``step(key, state, instances)`` adapts theta_0 on each instance with K REINFORCE steps of
    ``batch`` rollouts (Adam, ``inner_lr``: the inner loop is :func:`active_search`'s, which
    deploys a FOMAML theta_0), takes the REINFORCE gradient at the adapted parameters on
    ``batch`` fresh rollouts and applies Adam(``outer_lr``) to theta_0 with their mean.
    Returns the new state and the (B,) mean sampled makespan after adaptation.
    """
    sample = _sampler(policy, env, batch)
    inner_opt, outer = optax.adam(inner_lr), optax.adam(outer_lr)

    def rl_grad(p, inst, key):
        def loss(p):
            res = sample(p, inst, key)
            cost = res.makespan.astype(jnp.float32)
            return (jax.lax.stop_gradient(cost - cost.mean()) * res.log_prob).mean(), cost.mean()

        return jax.grad(loss, has_aux=True)(p)

    def per_instance(theta0, inst, key):
        keys = jax.random.split(key, K + 1)

        def inner(carry, k):
            p, o = carry
            g, _ = rl_grad(p, inst, k)
            upd, o = inner_opt.update(g, o, p)
            return (optax.apply_updates(p, upd), o), None

        (p, _), _ = jax.lax.scan(inner, (theta0, inner_opt.init(theta0)), keys[:K])
        return rl_grad(p, inst, keys[K])

    def init(theta0) -> FOMAMLState:
        return FOMAMLState(theta0, outer.init(theta0), jnp.zeros((), jnp.int32))

    def step(key, state: FOMAMLState, instances):
        b = jax.tree.leaves(instances)[0].shape[0]
        g, cost = jax.vmap(per_instance, in_axes=(None, 0, 0))(state.theta0, instances, jax.random.split(key, b))
        g = jax.tree.map(lambda x: x.mean(0), g)
        upd, o = outer.update(g, state.opt_state, state.theta0)
        return FOMAMLState(optax.apply_updates(state.theta0, upd), o, state.step + 1), cost

    return jax.jit(init), jax.jit(step)
