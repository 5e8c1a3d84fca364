"""SLIM (Corsini et al., NeurIPS 2024) as DF-Meta's JSP policy: the ES rollout, adaptation, theta_0 files.

The whole SLIM parameter pytree is the ES solution. :func:`make_rollout` encodes the instance
once per individual (the L samples of an individual share the encoder pass under
``evaluate_population``'s inner vmap) and then scans the J * O decoder steps on cached
embeddings. A SLIM theta_0 is saved as an ordinary SLIM model file (``--method slim`` reads it
too) whose meta records the DF-Meta run under ``"dfmeta"``.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dfmeta.adapt import AdaptOutcome, run_adaptation
from jsched.dfmeta.es import DFMetaConfig
from jsched.errors import JSchedError, ScheduleError
from jsched.instances.model import JSPInstance
from jsched.kernels.jsp import makespan, reset, step
from jsched.rollout import sample_from_uniform
from jsched.schedule import Schedule, validate
from jsched.slim.decode import encode, step_logits
from jsched.slim.graph import SlimInstance, slim_instance
from jsched.slim.model import MODEL_KIND, ModelConfig, load_model, save_model

THETA0_KIND = "dfmeta-theta0"
DEFAULT_MODEL = ModelConfig()


@functools.lru_cache(maxsize=16)
def make_rollout(cfg: ModelConfig = DEFAULT_MODEL, greedy: bool = False):
    """``rollout(key, params, inst: SlimInstance) -> (makespan float32, start (J, O) int32)``.

    One sampled (``greedy``: argmax) SLIM construction with the encoder run once (cached per
    ``cfg`` and ``greedy``, so the same function object is returned and jitted callers compile once).
    """

    def rollout(key: jax.Array, params: Any, inst: SlimInstance):
        emb = encode(params, inst, cfg)  # (J*O, clf): once per individual (see module doc)
        n_t = inst.jsp.machines.size
        us = jax.random.uniform(key, (n_t,))

        def body(state, u):
            logits = step_logits(params, inst, emb, state, cfg)
            live = jnp.isfinite(logits).any()
            logits = jnp.where(live, logits, 0.0)
            a = jnp.argmax(logits) if greedy else sample_from_uniform(logits, u)[0]
            state, _, _ = step(inst.jsp, state, jnp.where(live, a, 0).astype(jnp.int32))
            return state, None

        state, _ = jax.lax.scan(body, reset(inst.jsp), us)
        return makespan(state).astype(jnp.float32), state.start

    return rollout


def adapt_instance(
    theta0: Any,
    instance: JSPInstance,
    config: DFMetaConfig,
    key: jax.Array,
    cfg: ModelConfig = DEFAULT_MODEL,
    mode: str = "sample",
    deadline: float = float("inf"),
) -> AdaptOutcome:
    """:func:`jsched.dfmeta.adapt.run_adaptation` of SLIM on a JSP ``instance``; the deployed schedule, validated."""
    if not isinstance(instance, JSPInstance):
        raise JSchedError(f"the SLIM policy solves JSP instances, not {type(instance).__name__} ({instance.name})")
    inst = slim_instance(instance)
    out = run_adaptation(make_rollout(cfg), make_rollout(cfg, True), config, theta0, inst, key, mode, deadline)
    start = np.asarray(out.solution)[: instance.n_jobs, : instance.n_ops_per_job]
    sched = validate(instance, Schedule.from_arrays(instance, start))
    if sched.makespan != int(out.cost):
        raise ScheduleError(f"{instance.name}: rollout makespan {int(out.cost)} != schedule makespan {sched.makespan}")
    return AdaptOutcome(sched, sched.makespan, out.curve, out.rollouts, out.steps, out.params)


def save_theta0(path, params: Any, cfg: ModelConfig, dfmeta: dict) -> None:
    """Write a SLIM theta_0 as a SLIM model checkpoint; ``dfmeta`` (config, step) goes in its meta."""
    save_model(path, jax.tree.map(np.asarray, params), cfg, {"dfmeta": dfmeta}, kind=THETA0_KIND)


def load_theta0(path) -> tuple[Any, ModelConfig, dict]:
    """(params, model config, meta) of a SLIM model or DF-Meta SLIM theta_0 checkpoint.

    Raises:
        CheckpointError: missing, corrupt or foreign file (see :mod:`jsched.checkpoint`).
    """
    return load_model(path, kind=(MODEL_KIND, THETA0_KIND))
