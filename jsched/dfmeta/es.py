"""DF-Meta ("Instance-wise Adaptive Scheduling via Derivative-Free Meta-Learning", ICLR 2026) with evosax.

DF-Meta learns a policy initialisation theta_0 such that K steps of per-instance OpenAI-ES give
a short makespan. :func:`make_adapt` is the inner loop (test-time adaptation),
:func:`make_meta_learner` the first-order outer loop. A *rollout* is any pure
``rollout(key, params, instance) -> (cost, solution)``, so the code is model-agnostic. Choices
where the paper is silent are :class:`DFMetaConfig`'s defaults: L = 8, B = 8, inner Adam 1e-3,
outer Adam 1e-4, centred-rank shaping, a fresh inner ES state per instance.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from evosax.algorithms import Open_ES
from evosax.core.fitness_shaping import (
    centered_rank_fitness_shaping_fn,
    identity_fitness_shaping_fn,
    normalize_fitness_shaping_fn,
    standardize_fitness_shaping_fn,
)
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jsched.errors import JSchedError
from jsched.options import option

Params = Any  # a policy parameter pytree
Rollout = Callable[[jax.Array, Params, Any], tuple[jax.Array, Any]]

ESTIMATORS = ("nes", "mc-mean", "mc-best", "greedy")
SHAPING = {
    "centered-rank": centered_rank_fitness_shaping_fn,
    "standardize": standardize_fitness_shaping_fn,
    "normalize": normalize_fitness_shaping_fn,
    "identity": identity_fitness_shaping_fn,
}
OPTIMIZERS = {"adam": optax.adam, "sgd": optax.sgd}


@dataclass(frozen=True)
class DFMetaConfig:
    """Hyper-parameters of the inner (per-instance) and outer (meta) loops, defaults written once.

    ``jsched.dfmeta.method.Config`` and the training ``TrainConfig`` take their ES options from
    these fields (:func:`es_option`). ``chunk`` changes speed, not results (up to float rounding).
    """

    K: int = option(3, "ES steps per instance (paper: 3)", min=0)
    mu: int = option(100, "ES population, even (paper: 100)", min=2)
    sigma: float = option(0.2, "perturbation standard deviation (paper: 0.2)", min=0)
    L: int = option(8, "sampled rollouts per individual (nes, greedy: 1)", min=1)
    estimator: str = option("mc-best", "an individual's fitness from its L rollouts: nes (one), mc-mean (mean), mc-best "
                            "(min), greedy (one greedy decode: deterministic)", choices=ESTIMATORS)  # fmt: skip
    adapt_params: str = option("", "parameters the ES adapts: a regex searched in each '/'-joined parameter path, "
                               "e.g. 'actor/Dense_2' (the DANIEL actor's output layer); '' adapts all")  # fmt: skip
    inner_lr: float = option(1e-3, "step size of the inner (per-instance) ES optimiser", min=0)
    inner_optimizer: str = option("adam", "inner ES optimiser", choices=tuple(OPTIMIZERS))
    outer_lr: float = option(1e-4, "step size of the outer (meta) optimiser", min=0)
    outer_optimizer: str = option("adam", "outer (meta) optimiser", choices=tuple(OPTIMIZERS))
    B: int = option(8, "instances per meta mini-batch", min=1)
    antithetic: bool = option(True, "antithetic (mirrored) perturbations")
    shaping: str = option("centered-rank", "fitness shaping", choices=tuple(SHAPING))
    chunk: int = option(10, "individuals rolled out per call (0: the whole population in one vmap); a solve "
                        "checks its time limit between calls", min=0)

    def __post_init__(self):
        if self.estimator not in ESTIMATORS:
            raise JSchedError(f"estimator {self.estimator!r}: choose one of {', '.join(ESTIMATORS)}")
        if self.shaping not in SHAPING:
            raise JSchedError(f"shaping {self.shaping!r}: choose one of {', '.join(SHAPING)}")
        for name in ("inner_optimizer", "outer_optimizer"):
            if getattr(self, name) not in OPTIMIZERS:
                raise JSchedError(f"{name} {getattr(self, name)!r}: choose one of {', '.join(OPTIMIZERS)}")
        if self.K < 0 or self.L < 1 or self.B < 1 or self.sigma <= 0 or self.chunk < 0:
            raise JSchedError(f"need K >= 0, L >= 1, B >= 1, sigma > 0, chunk >= 0; got K={self.K}, L={self.L}, "
                              f"B={self.B}, sigma={self.sigma}, chunk={self.chunk}")  # fmt: skip
        if self.mu < 2 or (self.antithetic and self.mu % 2):
            raise JSchedError(f"population mu={self.mu} must be >= 2 (and even with antithetic sampling)")
        if self.estimator in ("nes", "greedy") and self.L != 1:
            object.__setattr__(self, "L", 1)
        try:
            re.compile(self.adapt_params)
        except re.error as e:
            raise JSchedError(f"adapt_params {self.adapt_params!r} is not a regular expression: {e}") from None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def rollouts_per_instance(self) -> int:
        """Rollout budget of one adaptation: K populations of mu x L, plus L at theta_K."""
        return self.K * self.mu * self.L + self.L


def es_option(name: str) -> Any:
    """A Config field with the default, help and range of :class:`DFMetaConfig`'s field ``name``."""
    f = DFMetaConfig.__dataclass_fields__[name]
    return dataclasses.field(default=f.default, metadata=f.metadata)


def make_es(config: DFMetaConfig, template: Params) -> Open_ES:
    """The inner evosax OpenAI-ES for a policy with parameters shaped like ``template``."""
    return Open_ES(
        population_size=config.mu,
        solution=template,
        use_antithetic_sampling=config.antithetic,
        optimizer=OPTIMIZERS[config.inner_optimizer](config.inner_lr),
        std_schedule=optax.constant_schedule(config.sigma),
        fitness_shaping_fn=SHAPING[config.shaping],
    )


def make_outer_es(config: DFMetaConfig, template: Params) -> Open_ES:
    """The outer OpenAI-ES whose mean is theta_0; told pre-shaped fitness (identity shaping)."""
    return Open_ES(
        population_size=config.B * config.mu,
        solution=template,
        use_antithetic_sampling=config.antithetic,
        optimizer=OPTIMIZERS[config.outer_optimizer](config.outer_lr),
        std_schedule=optax.constant_schedule(config.sigma),
        fitness_shaping_fn=identity_fitness_shaping_fn,
    )


def estimate_fitness(costs: jax.Array, estimator: str) -> jax.Array:
    """Fitness of each individual from its (..., L) rollout costs (minimised); ``greedy`` costs
    come from a greedy rollout (the caller picks it, :func:`population_rollout`)."""
    if estimator in ("nes", "greedy"):
        return costs[..., 0]
    if estimator == "mc-mean":
        return costs.mean(axis=-1)
    if estimator == "mc-best":
        return costs.min(axis=-1)
    raise JSchedError(f"estimator {estimator!r}: choose one of {', '.join(ESTIMATORS)}")


def population_rollout(config: DFMetaConfig, sample: Rollout, greedy: Rollout) -> Rollout:
    """The rollout that evaluates the population: greedy for the ``greedy`` estimator, else sampling."""
    return greedy if config.estimator == "greedy" else sample


def _selection(theta: Params, pattern: str) -> list[bool]:
    paths = [jax.tree_util.keystr(p, simple=True, separator="/") for p, _ in jax.tree_util.tree_leaves_with_path(theta)]
    sel = [re.search(pattern, p) is not None for p in paths]
    if not any(sel):
        raise JSchedError(f"adapt_params {pattern!r} matches no parameter; paths: {', '.join(paths)}")
    return sel


def select_params(theta: Params, pattern: str) -> list:
    """The leaves of ``theta`` whose '/'-joined path matches ``pattern`` (the ES's solution)."""
    return [x for x, s in zip(jax.tree.leaves(theta), _selection(theta, pattern)) if s]


def merge_params(theta: Params, sub: list, pattern: str) -> Params:
    """``theta`` with the leaves :func:`select_params` picks replaced by ``sub``."""
    it = iter(sub)
    leaves = [next(it) if s else x for x, s in zip(jax.tree.leaves(theta), _selection(theta, pattern))]
    return jax.tree.unflatten(jax.tree.structure(theta), leaves)


@functools.lru_cache(maxsize=32)
def subset_rollout(rollout: Rollout, pattern: str) -> Rollout:
    """``rollout`` over the adapted leaves only: ``(key, sub, (instance, theta)) -> rollout(key,
    merge_params(theta, sub), instance)``. The frozen ``theta`` rides with the instance, so
    one compilation serves every theta_0 (cached: the same function comes back)."""

    def run(key, sub, inst_theta):
        inst, theta = inst_theta
        return rollout(key, merge_params(theta, sub, pattern), inst)

    return run


def population_keys(key: jax.Array, p: int, n_samples: int) -> jax.Array:
    """The (p, n_samples) rollout keys of a population: individual i's keys do not depend on how
    the population is split into calls."""
    keys = jax.random.split(key, p * n_samples)
    return keys.reshape((p, n_samples) + keys.shape[1:])


def evaluate_keyed(rollout: Rollout, keys: jax.Array, population: Params, instance: Any) -> tuple[jax.Array, Any]:
    """Roll individual i out once per key in ``keys[i]``: costs (P, L) and solutions (P, L, ...)."""
    per_ind = jax.vmap(rollout, in_axes=(0, None, None))
    return jax.vmap(per_ind, in_axes=(0, 0, None))(keys, population, instance)


def evaluate_population(
    rollout: Rollout, key: jax.Array, population: Params, instance: Any, n_samples: int, chunk: int = 0
) -> tuple[jax.Array, Any]:
    """Roll every individual out ``n_samples`` times: costs (P, L) and solutions (P, L, ...).

    ``chunk = 0`` vmaps the whole population; ``chunk = c`` runs it as ``lax.map`` over groups
    of ``c`` vmapped individuals (still one jitted call, no Python loop). Each individual keeps
    its keys, so the rollouts are the same (costs equal up to float rounding); chunking only
    bounds the working set, which on a CPU keeps large populations in cache (see
    ``bench/dfmeta_throughput.py``). With a device mesh keep ``chunk = 0`` (shard, don't loop).
    """
    p = jax.tree.leaves(population)[0].shape[0]
    keys = population_keys(key, p, n_samples)
    if chunk and chunk < p:
        per_ind = jax.vmap(rollout, in_axes=(0, None, None))
        return jax.lax.map(lambda kp: per_ind(kp[0], kp[1], instance), (keys, population), batch_size=chunk)
    return evaluate_keyed(rollout, keys, population, instance)


class Best(NamedTuple):
    """Best rollout seen so far."""

    cost: jax.Array  # () float32
    solution: Any  # pytree of one rollout's solution


class AdaptResult(NamedTuple):
    """Outcome of K inner ES steps on one instance.

    Attributes:
        params: theta^(K) (a policy parameter pytree).
        es_state: the inner evosax state after K steps.
        best: best rollout over all K populations and the L samples at theta^(K).
        curve: (K + 1,) best cost seen after each step (the last includes theta^(K)'s samples).
        mean_fitness: (K,) mean population fitness at each step.
    """

    params: Params
    es_state: Any
    best: Best
    curve: jax.Array
    mean_fitness: jax.Array


def _update_best(best: Best, costs: jax.Array, solutions: Any) -> Best:
    flat = costs.reshape(-1)
    i = jnp.argmin(flat)
    sol = jax.tree.map(lambda x: x.reshape((flat.shape[0],) + x.shape[costs.ndim :])[i], solutions)
    better = flat[i] < best.cost
    return Best(
        cost=jnp.where(better, flat[i], best.cost),
        solution=jax.tree.map(lambda new, old: jnp.where(better, new, old), sol, best.solution),
    )


def _pop_constraint(mesh: Mesh | None):
    """Shard the leading (population) axis of every leaf over the mesh's "pop" axis."""
    if mesh is None:
        return lambda tree: tree
    sharding = NamedSharding(mesh, PartitionSpec("pop"))
    return lambda tree: jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, sharding), tree)


class Steps(NamedTuple):
    """The jitted pieces of one inner ES step, for a driver that loops in Python (deployment
    under a time budget, :func:`jsched.dfmeta.adapt.run_adaptation`). Composed in this order
    with the keys of :func:`step_keys`, they give :func:`make_adapt`'s result."""

    init: Callable[[jax.Array, Params], Any]  # (key, theta0) -> es_state
    ask: Callable[[jax.Array, Any], tuple[Params, Any]]  # (key, es_state) -> (population, es_state)
    evaluate: Callable[[jax.Array, Params, Any], tuple[jax.Array, Any]]  # evaluate_keyed
    tell: Callable[[jax.Array, Params, jax.Array, Any], Any]  # (key, population, costs (P, L), es_state) -> es_state
    mean: Callable[[Any], Params]  # es_state -> theta


def step_keys(key: jax.Array, K: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(init key, (K, 3) ask/roll/tell keys, final key) of one adaptation."""
    k_init, k_loop, k_final = jax.random.split(key, 3)
    per_step = jax.vmap(lambda k: jax.random.split(k, 3))(jax.random.split(k_loop, K))
    return k_init, per_step, k_final


def _pieces(es: Open_ES, rollout: Rollout, config: DFMetaConfig, mesh: Mesh | None):
    """Un-jitted (init, ask, tell) of the inner ES; ``tell`` takes raw (P, L) costs."""
    constrain = _pop_constraint(mesh)
    es_params = es.default_params

    def init(key, theta0):
        return es.init(key, theta0, es_params)

    def ask(key, state):
        pop, state = es.ask(key, state, es_params)
        return constrain(pop), state

    def tell(key, pop, costs, state):
        fitness = estimate_fitness(costs.astype(jnp.float32), config.estimator)
        return es.tell(key, pop, fitness, state, es_params)[0]

    return init, ask, tell


def make_steps(rollout: Rollout, config: DFMetaConfig, template: Params) -> Steps:
    """The jitted :class:`Steps` of the inner ES for ``rollout`` and parameters like ``template``."""
    es = make_es(config, template)
    init, ask, tell = _pieces(es, rollout, config, None)
    return Steps(jax.jit(init), jax.jit(ask), jax.jit(functools.partial(evaluate_keyed, rollout)), jax.jit(tell),
                 jax.jit(es.get_mean))  # fmt: skip


def _inner(es: Open_ES, rollout: Rollout, config: DFMetaConfig, mesh: Mesh | None, solution_template):
    """The un-jitted inner loop ``(key, theta0, instance) -> AdaptResult``."""
    init, ask, tell = _pieces(es, rollout, config, mesh)

    def run(key: jax.Array, theta0: Params, instance: Any) -> AdaptResult:
        k_init, per_step, k_final = step_keys(key, config.K)
        state = init(k_init, theta0)
        best = Best(jnp.asarray(jnp.inf, jnp.float32), solution_template(instance))

        def step(carry, k):
            state, best = carry
            k_ask, k_roll, k_tell = k[0], k[1], k[2]
            pop, state = ask(k_ask, state)
            costs, sols = evaluate_population(rollout, k_roll, pop, instance, config.L, config.chunk)
            costs = costs.astype(jnp.float32)
            state = tell(k_tell, pop, costs, state)
            best = _update_best(best, costs, sols)
            return (state, best), (best.cost, estimate_fitness(costs, config.estimator).mean())

        (state, best), (curve, mean_fit) = jax.lax.scan(step, (state, best), per_step)
        theta = es.get_mean(state)
        one = jax.tree.map(lambda x: x[None], theta)
        costs, sols = evaluate_population(rollout, k_final, one, instance, config.L)
        best = _update_best(best, costs.astype(jnp.float32), sols)
        curve = jnp.concatenate([curve, best.cost[None]])
        return AdaptResult(theta, state, best, curve, mean_fit)

    return run


def _solution_template(rollout: Rollout, theta: Params) -> Callable[[Any], Any]:
    """Zeros shaped like one rollout's solution, found by abstract evaluation."""

    def template(instance):
        _, sol = jax.eval_shape(rollout, jax.random.key(0), theta, instance)
        return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), sol)

    return template


def make_adapt(
    rollout: Rollout, config: DFMetaConfig, template: Params, mesh: Mesh | None = None
) -> Callable[[jax.Array, Params, Any], AdaptResult]:
    """Jitted test-time adaptation ``adapt(key, theta0, instance) -> AdaptResult``.

    Each of the K steps asks evosax's OpenAI-ES for ``mu`` perturbations theta + sigma * eps,
    rolls every one out ``L`` times, turns the (mu, L) costs into a fitness per individual with
    the estimator and tells evosax (fitness shaping, ES gradient, optax update). Returns
    theta^(K) and the best rollout seen (``config.rollouts_per_instance`` rollouts, the L of
    theta^(K) included). ``vmap`` it over instances for a batch; with a ``mesh`` (axis ``"pop"``)
    the population is sharded over devices.
    """
    es = make_es(config, template)
    return jax.jit(_inner(es, rollout, config, mesh, _solution_template(rollout, template)))


class MetaState(NamedTuple):
    """Outer-loop state: the outer evosax state (its mean is theta_0) and the step count."""

    es_state: Any
    step: jax.Array  # () int32


class MetaStepMetrics(NamedTuple):
    fitness_before: jax.Array  # (B,) mean estimator fitness of the first inner population
    fitness_after: jax.Array  # (B,) mean estimator fitness of the population at theta^(K)
    best: jax.Array  # (B,) best rollout cost seen in the inner loop


class MetaLearner(NamedTuple):
    """The jitted pieces of DF-Meta meta-training for one policy, rollout and config."""

    init: Callable[[jax.Array, Params], MetaState]
    step: Callable[[jax.Array, MetaState, Any], tuple[MetaState, MetaStepMetrics]]
    theta0: Callable[[MetaState], Params]
    adapt: Callable[[jax.Array, Params, Any], AdaptResult]


def make_meta_learner(
    rollout: Rollout, config: DFMetaConfig, template: Params, mesh: Mesh | None = None
) -> MetaLearner:
    """Build the first-order outer loop; ``step(key, state, instances)`` takes a batch.

    ``instances`` is a pytree whose leaves carry a leading axis of size ``config.B`` (padded to
    a common shape). A step runs the inner loop from theta_0 on each instance (vmapped), asks
    one more population at each theta_tau^(K), shapes its fitness per instance, and tells the
    outer ES (mean theta_0) the same noise re-centred on theta_0: its gradient is
    (1 / B) sum_tau g_tau, the mean per-instance ES gradient at theta_tau^(K), with no
    second-order terms. Each step costs B * (K + 1) * mu * L rollouts.
    """
    es = make_es(config, template)
    outer = make_outer_es(config, template)
    inner = _inner(es, rollout, config, mesh, _solution_template(rollout, template))
    constrain = _pop_constraint(mesh)
    ravel = lambda tree: ravel_pytree(tree)[0]
    _, unravel = ravel_pytree(template)
    es_params, outer_params = es.default_params, outer.default_params

    def init(key: jax.Array, theta0: Params) -> MetaState:
        return MetaState(outer.init(key, theta0, outer_params), jnp.zeros((), jnp.int32))

    init_jit = jax.jit(init)

    def init_strong(key: jax.Array, theta0: Params) -> MetaState:
        # evosax's init leaves weakly typed scalars that ``step`` returns strongly typed; a
        # round trip through numpy makes them strong so the second ``step`` does not retrace.
        return jax.tree.map(lambda x: jnp.asarray(np.asarray(x)) if not jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x,
                            init_jit(key, theta0))

    def probe(key, es_state, instance):
        """One population at theta^(K): noise (mu, D) and shaped fitness (mu,)."""
        k_ask, k_roll = jax.random.split(key)
        pop, _ = es.ask(k_ask, es_state, es_params)
        pop = constrain(pop)
        costs, _ = evaluate_population(rollout, k_roll, pop, instance, config.L, config.chunk)
        fitness = estimate_fitness(costs.astype(jnp.float32), config.estimator)
        flat = jax.vmap(ravel)(pop)
        shaped = es.fitness_shaping_fn(flat, fitness, es_state, es_params)
        return flat - es_state.mean, shaped, fitness.mean()

    def step(key: jax.Array, state: MetaState, instances: Any) -> tuple[MetaState, MetaStepMetrics]:
        theta0 = outer.get_mean(state.es_state)
        k_inner, k_probe, k_tell = jax.random.split(key, 3)
        b = config.B
        res = jax.vmap(inner, in_axes=(0, None, 0))(jax.random.split(k_inner, b), theta0, instances)
        delta, shaped, fit_after = jax.vmap(probe)(jax.random.split(k_probe, b), res.es_state, instances)
        outer_pop = state.es_state.mean + delta.reshape(b * config.mu, -1)
        es_state, _ = outer.tell(k_tell, jax.vmap(unravel)(outer_pop), shaped.reshape(-1), state.es_state, outer_params)
        first = res.mean_fitness[:, 0] if config.K else fit_after
        return MetaState(es_state, state.step + 1), MetaStepMetrics(first, fit_after, res.best.cost)

    return MetaLearner(
        init=init_strong,
        step=jax.jit(step),
        theta0=lambda state: outer.get_mean(state.es_state),
        adapt=jax.jit(inner),
    )
