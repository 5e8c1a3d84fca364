"""SLIM (Corsini et al., NeurIPS 2024) as DF-Meta's JSP policy: rollout, adaptation, theta_0 files.

DF-Meta is model-agnostic; on the JSP its paper uses the SLIM pointer network. Here the
network's whole parameter pytree (``jsched.slim.model.SlimNet``, GATv2 encoder included) is the
ES solution, and :func:`make_rollout` is the ``rollout(key, params, inst) -> (cost, solution)``
that :mod:`jsched.dfmeta.es` evolves: one sampled SLIM construction on a padded
:class:`~jsched.slim.graph.SlimInstance`, cost = makespan, solution = the (J, O) start times
(machines are fixed by the JSP).

**The encoder runs once per individual.** The rollout encodes the instance with the
individual's (perturbed) weights, then scans ``J * O`` decoder steps that only gather the
cached embeddings (as :func:`jsched.slim.decode.decode` does). In
:func:`jsched.dfmeta.es.evaluate_population` the L samples of one individual are an inner
``vmap`` over keys with the parameters unbatched, so JAX's batching leaves the encoder (a
function of parameters and instance only) unbatched there: one encoder pass per individual,
shared by its L samples, and mu passes per population. The generic
``policy(params, obs) -> logits`` of :mod:`jsched.slim.decode` would re-encode every step.

Sampling draws each step from one uniform by inverse CDF
(:func:`jsched.rollout.sample_from_uniform`, exact categorical sampling, cheaper on CPU than
Gumbel-max), so a rollout consumes ``J * O`` uniforms.

theta_0 files: a DF-Meta SLIM initialisation is saved as an ordinary SLIM model checkpoint
(:func:`jsched.slim.checkpoint.save_model`: msgpack, version, model config, SHA-256) whose
``meta`` records the DF-Meta configuration under ``"dfmeta"``, so ``--method slim
--checkpoint`` also decodes it. Without a meta-trained file, test-time adaptation starts from
the shipped SLIM model (ES without meta-learning).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dfmeta.adapt import AdaptOutcome, cached_adapter
from jsched.dfmeta.es import DFMetaConfig
from jsched.errors import CheckpointError, JSchedError
from jsched.instances.model import JSPInstance
from jsched.rollout import sample_from_uniform
from jsched.schedule import Schedule, validate
from jsched.slim.checkpoint import load_model, save_model
from jsched.slim.decode import encode, step_logits
from jsched.slim.graph import SlimInstance, slim_instance
from jsched.slim.model import ModelConfig
from jsched.kernels.jsp import makespan, reset, step

THETA0_KIND = "dfmeta-theta0"
DEFAULT_MODEL = ModelConfig()


@functools.lru_cache(maxsize=16)
def make_rollout(cfg: ModelConfig = DEFAULT_MODEL):
    """``rollout(key, params, inst: SlimInstance) -> (makespan float32, start (J, O) int32)``.

    One sampled SLIM construction with the encoder run once (cached per ``cfg``, so the same
    function object is returned and jitted callers compile once).
    """

    def rollout(key: jax.Array, params: Any, inst: SlimInstance):
        emb = encode(params, inst, cfg)  # (J*O, clf): once per individual (see module doc)
        n_t = inst.jsp.machines.size
        us = jax.random.uniform(key, (n_t,))

        def body(state, u):
            logits = step_logits(params, inst, emb, state, cfg)
            live = jnp.isfinite(logits).any()
            a, _ = sample_from_uniform(jnp.where(live, logits, 0.0), u)
            state, _, _ = step(inst.jsp, state, jnp.where(live, a, 0).astype(jnp.int32))
            return state, None

        state, _ = jax.lax.scan(body, reset(inst.jsp), us)
        return makespan(state).astype(jnp.float32), state.start

    return rollout


def adapt_instance(
    theta0: Any, instance: JSPInstance, config: DFMetaConfig, key: jax.Array, cfg: ModelConfig = DEFAULT_MODEL
) -> AdaptOutcome:
    """K ES steps of SLIM from ``theta0`` on a JSP ``instance``; the best schedule seen, validated."""
    if not isinstance(instance, JSPInstance):
        raise JSchedError(f"the SLIM policy solves JSP instances, not {type(instance).__name__} ({instance.name})")
    inst = slim_instance(instance)
    res = cached_adapter(make_rollout(cfg), config, theta0)(key, theta0, inst)
    start = np.asarray(res.best.solution)[: instance.n_jobs, : instance.n_ops_per_job]
    sched = validate(instance, Schedule.from_arrays(instance, start))
    if sched.makespan != int(res.best.cost):
        raise JSchedError(f"{instance.name}: rollout makespan {int(res.best.cost)} != schedule makespan {sched.makespan}")
    return AdaptOutcome(sched, sched.makespan, [float(c) for c in np.asarray(res.curve)],
                        config.rollouts_per_instance, res.params)


def save_theta0(path, params: Any, cfg: ModelConfig, dfmeta: dict) -> None:
    """Write a SLIM theta_0 as a SLIM model checkpoint; ``dfmeta`` (config, step) goes in its meta."""
    save_model(path, jax.tree.map(np.asarray, params), cfg, {"kind": THETA0_KIND, "dfmeta": dfmeta})


def load_theta0(path) -> tuple[Any, ModelConfig, dict]:
    """(params, model config, meta) of a SLIM model or DF-Meta SLIM theta_0 checkpoint.

    Raises:
        CheckpointError: missing, corrupt or foreign file (see :mod:`jsched.slim.checkpoint`).
    """
    params, cfg, meta = load_model(path)
    if meta.get("kind", THETA0_KIND) != THETA0_KIND:
        raise CheckpointError(f"{path}: holds {meta.get('kind')!r}, expected a SLIM model or {THETA0_KIND!r}")
    return params, cfg, meta
