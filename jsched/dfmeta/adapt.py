"""Test-time adaptation of a policy on one instance: DF-Meta's deployment, greedy or sampling, under a time budget.

:func:`policy_rollout` turns ``policy(params, obs) -> logits`` and a dispatch ``Env`` into the
ES's ``rollout(key, params, instance) -> (cost, (start, machine))``. :func:`run_adaptation`
runs the K inner ES steps from theta_0 as a Python loop over jitted calls of ``chunk``
individuals (:class:`jsched.dfmeta.es.Steps`, the keys of :func:`jsched.dfmeta.es.make_adapt`),
so a deadline is checked between calls; then deploys theta^K: *greedy* (the paper's headline
row) decodes theta^K greedily once and returns that schedule, *sample* draws L more rollouts at
theta^K and returns the best schedule seen during the whole adaptation. At the deadline the loop
stops (an unfinished step is dropped; the first call, which compiles, always runs): greedy mode
decodes the last completed step's theta, sample mode returns the best schedule seen so far.
:func:`adapt_instance` does it for a dispatch-env policy (DANIEL), ``slim_policy`` for SLIM.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from jsched.dfmeta.es import (
    DFMetaConfig,
    make_steps,
    merge_params,
    population_keys,
    population_rollout,
    select_params,
    step_keys,
    subset_rollout,
)
from jsched.errors import ScheduleError
from jsched.instances.model import Instance
from jsched.kernels.env import Env
from jsched.rollout import RolloutResult, best_schedules, rollout_fn, stack_instances
from jsched.schedule import Schedule

DEPLOY_MODES = ("greedy", "sample")


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


def _shape_key(theta0: Any):
    leaves, treedef = jax.tree.flatten(theta0)
    return treedef, tuple((tuple(np.shape(x)), np.asarray(x).dtype.str) for x in leaves)


def _template(treedef, shapes):
    return jax.tree.unflatten(treedef, [np.zeros(s, d) for s, d in shapes])


@functools.lru_cache(maxsize=8)
def _cached_steps(rollout: Callable, config: DFMetaConfig, treedef, shapes):
    return make_steps(rollout, config, _template(treedef, shapes))


@functools.lru_cache(maxsize=16)
def _decode(rollout: Callable) -> Callable:
    return jax.jit(rollout)


class Adapted(NamedTuple):
    """What :func:`run_adaptation` returns (host arrays)."""

    cost: float  # the deployed solution's cost
    solution: Any  # the deployed rollout's solution pytree
    curve: list[float]  # best sampled cost after each completed ES step (sample mode: then after theta^K's L)
    rollouts: int  # rollouts run, the deployment's included
    steps: int  # ES steps completed (< K when the deadline stopped the loop)
    params: Any  # theta^(steps)


def run_adaptation(
    rollout: Callable,
    greedy_rollout: Callable,
    config: DFMetaConfig,
    theta0: Any,
    instance: Any,
    key: jax.Array,
    mode: str = "sample",
    deadline: float = float("inf"),
) -> Adapted:
    """K inner ES steps from ``theta0`` on one (array) instance, stopped at ``deadline``
    (``time.monotonic()``), then the ``mode`` deployment of the module docstring.

    ``rollout`` samples, ``greedy_rollout`` decodes greedily (key unused); the population is rolled
    out by :func:`jsched.dfmeta.es.population_rollout`. With ``config.adapt_params`` the ES
    perturbs and updates only the matching leaves (the rest stay theta_0's). The deployment always
    runs (greedy) or the first call does (sample), so a schedule comes back however short the budget.
    """
    full, pattern = theta0, config.adapt_params
    if pattern:
        rollout, greedy_rollout = subset_rollout(rollout, pattern), subset_rollout(greedy_rollout, pattern)
        theta0, instance = select_params(full, pattern), (instance, full)
    evaluated = population_rollout(config, rollout, greedy_rollout)
    steps = _cached_steps(evaluated, config, *_shape_key(theta0))
    k_init, per_step, k_final = step_keys(key, config.K)
    state = steps.init(k_init, theta0)
    best_cost, best_sol, curve, n, done, late = np.inf, None, [], 0, 0, False
    c = config.chunk or config.mu
    for k in range(config.K):
        k_ask, k_roll, k_tell = per_step[k]
        pop, asked = steps.ask(k_ask, state)
        keys = population_keys(k_roll, config.mu, config.L)
        parts = []
        for i in range(0, config.mu, c):
            late = n > 0 and time.monotonic() >= deadline  # the first call always runs
            if late:
                break
            idx = np.minimum(np.arange(i, i + c), config.mu - 1)  # the last call padded to c individuals
            costs, sols = steps.evaluate(keys[idx], jax.tree.map(lambda x: x[idx], pop), instance)
            m = min(c, config.mu - i)
            costs = np.asarray(costs)[:m]
            parts.append(costs)
            n += costs.size
            j = int(costs.argmin())
            if costs.flat[j] < best_cost:
                best_cost = float(costs.flat[j])
                best_sol = jax.tree.map(lambda x: np.asarray(x).reshape((-1,) + x.shape[2:])[j], sols)
        if len(parts) * c < config.mu:
            break
        state = steps.tell(k_tell, pop, np.concatenate(parts), asked)
        done += 1
        curve.append(best_cost)
    theta = steps.mean(state)
    if mode == "greedy":
        cost, sol = _decode(greedy_rollout)(k_final, theta, instance)
        cost, sol, n = float(cost), jax.tree.map(np.asarray, sol), n + 1
    elif not late:
        costs, sols = steps.evaluate(population_keys(k_final, 1, config.L), jax.tree.map(lambda x: x[None], theta), instance)
        costs, n = np.asarray(costs)[0], n + config.L
        j = int(costs.argmin())
        if costs[j] < best_cost:
            best_cost, best_sol = float(costs[j]), jax.tree.map(lambda x: np.asarray(x)[0, j], sols)
        curve.append(best_cost)
    if mode != "greedy":
        cost, sol = best_cost, best_sol
    return Adapted(cost, sol, curve, n, done, merge_params(full, theta, pattern) if pattern else theta)


class AdaptOutcome(NamedTuple):
    """What test-time adaptation returns (both the dispatch-env policies and SLIM)."""

    schedule: Schedule
    makespan: int
    curve: list[float]  # as in Adapted
    rollouts: int
    steps: int  # ES steps completed
    params: Any  # theta^(steps)


def adapt_instance(
    policy: Callable,
    env: Env,
    theta0: Any,
    instance: Instance,
    config: DFMetaConfig,
    key: jax.Array,
    mode: str = "sample",
    deadline: float = float("inf"),
) -> AdaptOutcome:
    """:func:`run_adaptation` of a dispatch-env policy on ``instance``; the deployed schedule, validated."""
    one = jax.tree.map(lambda x: x[0], stack_instances(env, [instance]))
    out = run_adaptation(policy_rollout(policy, env, "sample"), policy_rollout(policy, env, "greedy"), config,
                         theta0, one, key, mode, deadline)  # fmt: skip
    start, machine = out.solution
    arr = RolloutResult(
        actions=np.zeros((1, 1, 1), np.int32),
        makespan=np.asarray(out.cost, np.int32).reshape(1, 1),
        start=np.asarray(start)[None, None],
        machine=np.asarray(machine)[None, None],
        log_prob=np.zeros((1, 1), np.float32),
    )
    sched = best_schedules([instance], arr)[0]
    if sched.makespan != int(out.cost):
        raise ScheduleError(f"{instance.name}: rollout makespan {int(out.cost)} != schedule makespan {sched.makespan}")
    return AdaptOutcome(sched, sched.makespan, out.curve, out.rollouts, out.steps, out.params)
