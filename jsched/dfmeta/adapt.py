"""Test-time adaptation of a dispatch policy on one instance: DF-Meta's deployment on jsched's rollout.

:func:`policy_rollout` turns ``policy(params, obs) -> logits`` and a dispatch ``Env`` into the
ES's ``rollout(key, params, instance) -> (cost, (start, machine))``; :func:`adapt_instance`
runs K ES steps from theta_0 and returns the best schedule seen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from jsched.dfmeta.es import DFMetaConfig, make_adapt
from jsched.instances.model import Instance
from jsched.kernels.env import Env
from jsched.rollout import RolloutResult, best_schedules, rollout_fn, stack_instances
from jsched.schedule import Schedule


@functools.lru_cache(maxsize=16)
def policy_rollout(policy: Callable, env: Env, mode: str = "sample") -> Callable:
    """``rollout(key, params, inst) -> (makespan float32, (start, machine))`` for one instance.

    Cached per (policy, env, mode): the same function object comes back, so the adapters
    built on it compile once.
    """
    run = rollout_fn(policy, env, mode, 1)

    def rollout(key, params, inst):
        res = run(params, jax.tree.map(lambda x: x[None], inst), key)
        return res.makespan[0, 0].astype("float32"), (res.start[0, 0], res.machine[0, 0])

    return rollout


@functools.lru_cache(maxsize=8)
def _cached_adapt(rollout: Callable, config: DFMetaConfig, treedef, shapes) -> Callable:
    template = jax.tree.unflatten(treedef, [np.zeros(s, d) for s, d in shapes])
    return make_adapt(rollout, config, template)


def cached_adapter(rollout: Callable, config: DFMetaConfig, theta0: Any) -> Callable:
    """The jitted ``adapt(key, theta0, inst)`` of any ES rollout, cached per rollout, config and
    parameter shapes (shared by the dispatch-env policies here and SLIM)."""
    leaves, treedef = jax.tree.flatten(theta0)
    shapes = tuple((tuple(np.shape(x)), np.asarray(x).dtype.str) for x in leaves)
    return _cached_adapt(rollout, config, treedef, shapes)


def adapter(policy: Callable, env: Env, config: DFMetaConfig, theta0: Any) -> Callable:
    """The jitted ``adapt(key, theta0, inst)`` for a policy on a dispatch env."""
    return cached_adapter(policy_rollout(policy, env, "sample"), config, theta0)


class AdaptOutcome(NamedTuple):
    """What test-time adaptation returns (both the dispatch-env policies and SLIM)."""

    schedule: Schedule
    makespan: int
    curve: list[float]  # best makespan after each ES step (last: with theta^(K)'s samples)
    rollouts: int
    params: Any  # theta^(K)


def adapt_instance(
    policy: Callable, env: Env, theta0: Any, instance: Instance, config: DFMetaConfig, key: jax.Array
) -> AdaptOutcome:
    """K ES steps from ``theta0`` on ``instance``; the best schedule seen, validated."""
    inst = stack_instances(env, [instance])
    one = jax.tree.map(lambda x: x[0], inst)
    res = adapter(policy, env, config, theta0)(key, theta0, one)
    start, machine = res.best.solution
    arr = RolloutResult(
        actions=np.zeros((1, 1, 1), np.int32),
        makespan=np.asarray(res.best.cost, np.int32).reshape(1, 1),
        start=np.asarray(start)[None, None],
        machine=np.asarray(machine)[None, None],
        log_prob=np.zeros((1, 1), np.float32),
    )
    sched = best_schedules([instance], arr)[0]
    return AdaptOutcome(sched, sched.makespan, [float(c) for c in np.asarray(res.curve)],
                        config.rollouts_per_instance, res.params)
