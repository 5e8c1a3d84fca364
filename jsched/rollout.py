"""Jitted rollouts of a policy over a dispatch env: ``jit(vmap(vmap(lax.scan(step))))``.

``rollout(policy, params, env, instances, key, mode, n_samples)`` runs every instance
(outer vmap) times ``n_samples`` episodes (inner vmap), each a ``lax.scan`` over the padded
number of operations (finished episodes turn into no-op steps, so one scan serves a batch of
mixed sizes). The policy is ``policy(params, obs) -> logits`` with ``obs = env.observe(...)``;
the env's action mask is applied afterwards (``-inf``), then ``argmax`` (greedy, ties to the
lowest index) or a categorical draw (sample). Rules are policies too (``jsched.kernels.rules``).
The env is a ``jsched.kernels.env.Env`` of a dispatch problem (its state has ``start``).

``rollout_fn`` gives the same computation un-jitted, to be vmapped over a population of
policy parameters (ES) or jitted inside a training step. ``rollout`` is jitted with
``policy``, ``env``, ``mode`` and ``n_samples`` static: the same objects and shapes never
compile twice (pass a module-level function or a cached ``rule_policy``, not a fresh lambda).

``to_schedules`` turns the arrays into ``Schedule`` objects and validates every one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.model import FJSPInstance, Instance, JSPInstance
from jsched.kernels.env import FJSP_ENV, JSP_ENV, Env
from jsched.schedule import Schedule, validate

MODES = ("greedy", "sample")


class RolloutResult(NamedTuple):
    """Outputs of a rollout; leading axes (I instances, S samples)."""

    actions: jax.Array  # (I, S, T) int32, chosen action per step (-1 after the episode ended)
    makespan: jax.Array  # (I, S) int32
    start: jax.Array  # (I, S, J, O) int32, start time of each operation (-1 on padding)
    machine: jax.Array  # (I, S, J, O) int32, machine of each operation
    log_prob: jax.Array  # (I, S) float32, sum of log-probabilities of the sampled actions (0 when greedy)


def rollout_fn(policy: Callable, env: Env, mode: str = "greedy", n_samples: int = 1) -> Callable:
    """Pure ``f(params, instances, key) -> RolloutResult`` (instances stacked on axis 0)."""
    if mode not in MODES:
        raise JSchedError(f"rollout mode must be one of {MODES}, got {mode!r}")
    if n_samples < 1:
        raise JSchedError(f"n_samples must be >= 1, got {n_samples}")

    def episode(params, inst, key):
        k_env = jax.random.fold_in(key, 1)  # env randomness, apart from the sampling stream
        state = env.reset(k_env, inst)
        n_t = state.start.size  # padded operation count: a static episode length

        def body(carry, xs):
            state, logp = carry
            u, t = xs
            mask = env.action_mask(inst, state)
            logits = jnp.where(mask, policy(params, env.observe(inst, state)), -jnp.inf)
            if mode == "greedy":
                a = jnp.argmax(logits)
                lp = jnp.zeros((), jnp.float32)  # not computed: the greedy action is deterministic
            else:
                # Inverse-CDF draw from one uniform: exact categorical sampling, several times
                # cheaper on CPU than Gumbel-max (one random number per step instead of A).
                a, lp = sample_from_uniform(logits, u)
            live = mask.any()
            state, _, _ = env.step(jax.random.fold_in(k_env, t), inst, state, a)
            logp = logp + jnp.where(live, lp, 0.0)
            return (state, logp), jnp.where(live, a, -1).astype(jnp.int32)

        us = jax.random.uniform(key, (n_t,)) if mode == "sample" else jnp.zeros((n_t,))
        xs = (us, jnp.arange(n_t, dtype=jnp.int32))
        (state, logp), actions = jax.lax.scan(body, (state, jnp.zeros((), jnp.float32)), xs)
        return RolloutResult(actions, env.makespan(state), state.start, env.op_machines(inst, state), logp)

    def run(params, instances, key):
        n_inst = jax.tree.leaves(instances)[0].shape[0]
        keys = jax.random.split(key, n_inst * n_samples)
        keys = keys.reshape((n_inst, n_samples) + keys.shape[1:])
        per_sample = jax.vmap(episode, in_axes=(None, None, 0))
        return jax.vmap(per_sample, in_axes=(None, 0, 0))(params, instances, keys)

    return run


def sample_from_uniform(logits: jax.Array, u: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(action, log-probability) drawn from ``softmax(logits)`` by inverse CDF at ``u`` in [0, 1).

    Exact categorical sampling from a single uniform (``-inf`` logits are never drawn). For
    small action counts the CDF is a product with a triangular matrix, which XLA:CPU runs
    faster than ``cumsum`` (measured); larger ones use ``cumsum``.
    """
    z = jnp.exp(logits - logits.max())
    n = z.shape[0]
    if n <= 64:
        c = z @ (jnp.arange(n)[:, None] <= jnp.arange(n)[None, :]).astype(z.dtype)
    else:
        c = jnp.cumsum(z)
    a = jnp.argmax(c > u * c[-1])
    return a, jnp.log(z[a] / c[-1])


@functools.partial(jax.jit, static_argnames=("policy", "env", "mode", "n_samples"))
def _rollout_jit(policy, env, mode, n_samples, params, instances, key):
    return rollout_fn(policy, env, mode, n_samples)(params, instances, key)


def rollout(
    policy: Callable,
    params: Any,
    env: Env,
    instances: Any,
    key: jax.Array,
    mode: str = "greedy",
    n_samples: int = 1,
) -> RolloutResult:
    """Roll ``policy`` out on every instance, ``n_samples`` times each, in one jitted call.

    Args:
        policy: ``policy(params, obs) -> logits`` over the env's actions.
        params: the policy's parameters (any pytree; ``None`` for rules).
        env: ``jsched.kernels.env.JSP_ENV`` or ``FJSP_ENV`` (or one with another ``observe``).
        instances: stacked env params (leading axis I), or a list of instances, which are
            padded to their common shape and stacked.
        key: a ``jax.random`` key; the same key gives the same result.
        mode: ``"greedy"`` (argmax, ties to the lowest index) or ``"sample"``.
        n_samples: episodes per instance.
    """
    if mode not in MODES:
        raise JSchedError(f"rollout mode must be one of {MODES}, got {mode!r}")
    if isinstance(instances, (list, tuple)) and instances and isinstance(instances[0], (JSPInstance, FJSPInstance)):
        instances = stack_instances(env, instances)
    return _rollout_jit(policy, env, mode, int(n_samples), params, instances, key)


@functools.partial(jax.jit, static_argnames=("policy", "env", "mode", "n_samples"))
def _population_jit(policy, env, mode, n_samples, params, instances, key):
    return jax.vmap(rollout_fn(policy, env, mode, n_samples), in_axes=(0, None, None))(params, instances, key)


def rollout_population(
    policy: Callable,
    population: Any,
    env: Env,
    instances: Any,
    key: jax.Array,
    mode: str = "greedy",
    n_samples: int = 1,
) -> RolloutResult:
    """``rollout`` vmapped over a population of policy parameters (leading axis P of every leaf).

    Every member sees the same instances and keys (common random numbers), so differences in
    makespan come from the parameters alone. Results gain a leading P axis.
    """
    if mode not in MODES:
        raise JSchedError(f"rollout mode must be one of {MODES}, got {mode!r}")
    if isinstance(instances, (list, tuple)) and instances and isinstance(instances[0], (JSPInstance, FJSPInstance)):
        instances = stack_instances(env, instances)
    return _population_jit(policy, env, mode, int(n_samples), population, instances, key)


def stack_instances(env: Env, instances: Sequence[Instance]):
    """Padded, stacked env params for a list of instances."""
    from jsched.instances.arrays import stack_fjsp_params, stack_jsp_params

    if env.name == "jsp":
        bad = [i.name for i in instances if not isinstance(i, JSPInstance)]
        if bad:
            raise JSchedError(f"the JSP env needs JSP instances; {bad[0]} is not one")
        return stack_jsp_params(instances)
    return stack_fjsp_params(instances)


def to_schedules(instances: Sequence[Instance], result: RolloutResult) -> list[list[Schedule]]:
    """One validated ``Schedule`` per instance and sample (``[i][s]``), from a rollout's arrays.

    Raises ScheduleError if a schedule is infeasible or incomplete.
    """
    start = np.asarray(result.start)
    machine = np.asarray(result.machine)
    out = []
    for i, inst in enumerate(instances):
        if isinstance(inst, JSPInstance):
            rows, cols = np.divmod(np.arange(inst.n_ops), inst.n_ops_per_job)
        else:
            rows, cols = inst.op_job, inst.op_index
        scheds = []
        for s in range(start.shape[1]):
            sched = Schedule.from_arrays(inst, start[i, s][rows, cols], machine[i, s][rows, cols])
            scheds.append(validate(inst, sched))
        out.append(scheds)
    return out


def best_schedules(instances: Sequence[Instance], result: RolloutResult) -> list[Schedule]:
    """The validated lowest-makespan sample of each instance (ties: first sample)."""
    ms = np.asarray(result.makespan)
    best = ms.argmin(axis=1)
    sub = RolloutResult(*(np.asarray(x)[np.arange(len(instances)), best][:, None] for x in result))
    return [s[0] for s in to_schedules(instances, sub)]


def env_for(instance: Instance) -> Env:
    """The dispatch env matching an instance's kind."""
    return JSP_ENV if isinstance(instance, JSPInstance) else FJSP_ENV
