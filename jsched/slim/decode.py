"""SLIM construction: greedy and sampling decodes, teacher forcing, and the policy interface.

A decode encodes each instance once, then one ``lax.scan`` over its ``J * O`` padded steps
drives ``jsched.kernels.jsp.step`` (steps past the end are no-ops); samples are a ``vmap`` over
keys sharing the embeddings, instances a second ``vmap``: one jitted call. Each step scores the
jobs through ``model.memory_logits`` (the memory network folded over the context's structure,
same logits up to float rounding); ``step_logits`` is the direct network (teacher forcing,
tests, DF-Meta).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.kernels.jsp import JSPState, action_mask, makespan, reset, step
from jsched.slim.features import context_features, context_parts, op_features, ready_op
from jsched.slim.graph import SlimInstance
from jsched.slim.model import MemoryTables, ModelConfig, SlimNet, memory_logits, memory_tables


class SlimObs(NamedTuple):
    """Everything the network needs to score the jobs of one partial schedule."""

    x: jax.Array  # (J*O, 15) float32 operation features
    groups: jax.Array  # (M, K) int32, machine cliques (jsched.slim.graph)
    pred: jax.Array  # (J*O + 1,) int32, job predecessors
    slot: jax.Array  # (J*O + 1,) int32, position in groups
    ready_ids: jax.Array  # (J,) int32 op id of each job's ready op (first op once finished)
    ctx: jax.Array  # (J, 11) float32 context features
    job_real: jax.Array  # (J,) bool, False on padded jobs
    mask: jax.Array  # (J,) bool, dispatchable jobs


class DecodeOutput(NamedTuple):
    """Result of decoding a batch of B instances with S rollouts each."""

    makespans: jax.Array  # (B, S) int32
    best: jax.Array  # (B,) int32 index of the best rollout (first of equal makespans)
    best_start: jax.Array  # (B, J, O) int32 start times of the best rollout (-1 on padding)
    best_actions: jax.Array  # (B, J*O) int32 job picked at each step of the best rollout


def _ready_ids(inst: SlimInstance, state: JSPState) -> jax.Array:
    o = inst.jsp.machines.shape[1]
    return jnp.arange(inst.jsp.machines.shape[0], dtype=jnp.int32) * o + ready_op(inst.jsp, state)


def observe(inst: SlimInstance, state: JSPState, cfg: ModelConfig = ModelConfig()) -> SlimObs:
    """The observation of ``state`` for ``policy(params, obs)`` (re-runs the op features and the
    encoder every call; ``decode`` caches them)."""
    return SlimObs(
        x=op_features(inst.jsp, cfg.double_scaled_machine_quartiles),
        groups=inst.groups,
        pred=inst.pred,
        slot=inst.slot,
        ready_ids=_ready_ids(inst, state),
        ctx=context_features(inst.jsp, state),
        job_real=inst.jsp.job_len > 0,
        mask=action_mask(inst.jsp, state),
    )


def make_policy(cfg: ModelConfig = ModelConfig()):
    """``policy(params, obs) -> (J,) logits`` (``-inf`` on jobs that cannot be dispatched)."""
    net = SlimNet(cfg)

    def policy(params, obs: SlimObs) -> jax.Array:
        return net.apply({"params": params}, obs.x, obs.groups, obs.pred, obs.slot, obs.ready_ids, obs.ctx, obs.job_real, obs.mask)

    return policy


policy = make_policy()


def encode(params, inst: SlimInstance, cfg: ModelConfig) -> jax.Array:
    """(J*O, clf) projected operation embeddings of one instance."""
    x = op_features(inst.jsp, cfg.double_scaled_machine_quartiles)
    return SlimNet(cfg).apply({"params": params}, x, inst.groups, inst.pred, inst.slot, method=SlimNet.encode)


def step_logits(params, inst: SlimInstance, emb: jax.Array, state: JSPState, cfg: ModelConfig) -> jax.Array:
    """(J,) masked logits of one state given the instance's cached embeddings."""
    return SlimNet(cfg).apply(
        {"params": params},
        emb[_ready_ids(inst, state)],
        context_features(inst.jsp, state),
        inst.jsp.job_len > 0,
        action_mask(inst.jsp, state),
        method=SlimNet.decode,
    )


def fast_step_logits(params, inst: SlimInstance, emb: jax.Array, state: JSPState, cfg: ModelConfig,
                     tables: MemoryTables | None = None) -> jax.Array:
    """``step_logits`` through ``memory_logits`` (same logits up to float rounding; decodes use it,
    passing ``tables = memory_tables(params, cfg)`` computed once)."""
    tables = memory_tables(params, cfg) if tables is None else tables
    return memory_logits(tables, cfg.leaky_slope, emb[_ready_ids(inst, state)], context_parts(inst.jsp, state),
                         inst.jsp.job_len > 0, action_mask(inst.jsp, state), inst.jsp.machine_mask.shape[0])  # fmt: skip


def _log_probs(logits: jax.Array) -> tuple[jax.Array, jax.Array]:
    """log-softmax that stays finite when no job is eligible (then the step is a no-op)."""
    live = jnp.isfinite(logits).any()
    return jax.nn.log_softmax(jnp.where(live, logits, 0.0)), live


NOISE_CHUNK = 50  # sampling steps whose Gumbel noise is drawn in one call


def rollout(params, inst: SlimInstance, emb: jax.Array, key: jax.Array, greedy: bool, cfg: ModelConfig,
            tables: MemoryTables | None = None):
    """One construction: returns (final state, (T,) actions, (T,) log-probabilities).

    The last step is a softmax over one eligible job (log-probability 0), where the authors' code
    forces it; greedy takes the argmax, sampling draws step t's job as
    ``jax.random.categorical(fold_in(key, t), logits)`` does (the argmax of the logits plus
    ``gumbel(fold_in(key, t))``), with the noise of ``NOISE_CHUNK`` steps drawn at once: one
    vectorised draw instead of a small one per step.
    """
    n_steps = inst.jsp.machines.size
    n_jobs = inst.jsp.machines.shape[0]
    tables = memory_tables(params, cfg) if tables is None else tables
    chunk = min(n_steps, NOISE_CHUNK)

    def body(state, xs):
        t, noise = xs
        logits = fast_step_logits(params, inst, emb, state, cfg, tables)
        logp, live = _log_probs(logits)
        a = jnp.argmax(logits if greedy else logits + noise).astype(jnp.int32)
        a = jnp.where(live, a, 0)
        state, _, _ = step(inst.jsp, state, a)
        return state, (a, jnp.where(live, logp[a], 0.0))

    def chunk_body(state, c):
        ts = c * chunk + jnp.arange(chunk)
        if greedy:
            noise = jnp.zeros((chunk, 0))
        else:
            noise = jax.vmap(lambda t: jax.random.gumbel(jax.random.fold_in(key, t), (n_jobs,)))(ts)
        return jax.lax.scan(body, state, (ts, noise))

    # steps past n_steps (the last chunk's padding) find no eligible job: no-ops
    state, (actions, logps) = jax.lax.scan(chunk_body, reset(inst.jsp), jnp.arange(-(-n_steps // chunk)))
    return state, actions.reshape(-1)[:n_steps], logps.reshape(-1)[:n_steps]


def _decode_one(params, inst: SlimInstance, key: jax.Array, n_samples: int, greedy: bool, cfg: ModelConfig):
    emb, tables = encode(params, inst, cfg), memory_tables(params, cfg)
    keys = jax.random.split(key, n_samples)
    states, actions, _ = jax.vmap(lambda k: rollout(params, inst, emb, k, greedy, cfg, tables))(keys)
    ms = jax.vmap(makespan)(states).astype(jnp.int32)
    best = jnp.argmin(ms).astype(jnp.int32)
    return ms, best, states.start[best], actions[best]


@partial(jax.jit, static_argnames=("n_samples", "greedy", "cfg"))
def decode(params, insts: SlimInstance, keys: jax.Array, n_samples: int = 1, greedy: bool = True, cfg: ModelConfig = ModelConfig()) -> DecodeOutput:
    """Decode a stacked batch of instances: greedy (one rollout) or ``n_samples`` samples each.

    Args:
        params: network parameters.
        insts: ``SlimInstance`` with a leading batch axis B.
        keys: (B,) PRNG keys, one per instance (unused by greedy).
        n_samples: rollouts per instance (1 for greedy).
        greedy: argmax decoding instead of sampling.
        cfg: model config (static).
    """
    if greedy and n_samples != 1:
        raise ValueError("greedy decoding uses n_samples=1")
    return DecodeOutput(*jax.vmap(lambda i, k: _decode_one(params, i, k, n_samples, greedy, cfg))(insts, keys))


def sequence_logprob(params, inst: SlimInstance, actions: jax.Array, cfg: ModelConfig) -> jax.Array:
    """Mean log-likelihood of the decisions ``actions`` (teacher forcing, one instance).

    The sum over the steps is divided by ``n_ops - 1``, the number of decisions in the
    authors' code (the forced last step contributes log 1 = 0).
    """
    emb = encode(params, inst, cfg)

    def body(state, a):
        logp, live = _log_probs(step_logits(params, inst, emb, state, cfg))
        state, _, _ = step(inst.jsp, state, a)
        return state, jnp.where(live, logp[a], 0.0)

    _, logps = jax.lax.scan(body, reset(inst.jsp), actions)
    n_dec = jnp.maximum(inst.jsp.job_len.sum() - 1, 1).astype(jnp.float32)
    return logps.sum() / n_dec
