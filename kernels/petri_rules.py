"""The seven low-level heuristics of the Petri-net hyper-heuristic, as priority functions.

Each rule maps a CTPN state to one enabled allocate transition (a job): it computes priority
keys over jobs, keeps the enabled jobs with the best primary key, breaks remaining ties by the
secondary key if the rule has one, then by the lowest job index. Definitions follow the paper's
names (``shared/specs/hh.md``), not the public code (see ``hh-code-notes.md``):

* FIFO  first in, first out: the job whose head token reached the head of its queue earliest
        (the end time of its previous operation, or its release).
* SPT   shortest processing time of the candidate (head) operation. (The public code ranks
        by the job's total processing time.)
* SPS   shortest processing sequence: fewest operations in the job's whole route (static);
        ties in FIFO order. On Taillard every job has m operations, so SPS = FIFO there.
* LTWR  longest total work remaining: largest sum of processing times still queued, the
        candidate included. (The public code takes the least; that is ``LTWR_LEAST`` below,
        an extra rule outside the seven.)
* SPSR  shortest processing sequence remaining: fewest operations left, the candidate included.
* LPTN  longest processing time of the next operation after the candidate (0 for a last op).
* LWT   longest waiting time: the largest total time the job's tokens have waited at the
        queue head, its current wait included. (The head token's current wait alone would
        order jobs exactly like FIFO, since every candidate is compared at the same instant.)

All rules are pure, jittable and vmappable; :func:`choose` applies the rule with a traced index.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jsched.kernels import petri
from jsched.kernels.jsp import JSPParams

RULES = ("FIFO", "SPT", "SPS", "LTWR", "SPSR", "LPTN", "LWT")
EXTRA_RULES = ("LTWR_LEAST",)


def lex_argmax(mask: jax.Array, *keys: jax.Array) -> jax.Array:
    """Index of the best masked entry by keys in lexicographic order, then lowest index.

    Returns 0 when ``mask`` is empty (a no-op action for :func:`jsched.kernels.petri.step`).
    """
    cand = mask
    for k in keys:
        k = k.astype(jnp.float32)
        best = jnp.where(cand, k, -jnp.inf).max()
        cand = cand & (k == best)
    return jnp.argmax(cand).astype(jnp.int32)


def _features(params: JSPParams, state: petri.PetriState):
    o = params.machines.shape[1]
    _, dur = petri.head_info(params, state)
    nxt = jnp.minimum(state.next_op + 1, o - 1)
    p_next = jnp.take_along_axis(params.durations, nxt[:, None], axis=1)[:, 0]
    p_next = jnp.where(state.next_op + 1 < params.job_len, p_next, 0)
    return {
        "arrival": state.job_ready,
        "p": dur,
        "n_ops": params.job_len,
        "work": petri.remaining_work(params, state),
        "ops_left": params.job_len - state.next_op,
        "p_next": p_next,
        "wait": state.waited + jnp.maximum(state.time - state.job_ready, 0),
    }


def proposal_features(params: JSPParams, state: petri.PetriState, names=RULES) -> jax.Array:
    """(len(names), 6) float32: what each rule would allocate now, described by its job.

    Per rule: [p of the candidate / max p, p of the op after it / max p, work left / LB,
    operations left / O, total wait / LB, 1 if no other rule earlier in ``names`` picks the
    same job]; LB = :func:`jsched.kernels.petri.time_scale`. A hyper-heuristic needs exactly this to
    tell the rules apart at a decision point.
    """
    f = _features(params, state)
    jobs = all_choices(params, state, names)
    lb = petri.time_scale(params)
    dmax = jnp.maximum(params.durations.max(), 1).astype(jnp.float32)
    o = params.machines.shape[1]
    first = jnp.argmax(jobs[:, None] == jobs[None, :], axis=1) == jnp.arange(len(names))
    feats = jnp.stack(
        [f["p"][jobs] / dmax, f["p_next"][jobs] / dmax, f["work"][jobs] / lb, f["ops_left"][jobs] / o,
         f["wait"][jobs] / lb, first.astype(jnp.float32)],
        axis=1,
    )
    return jnp.where(petri.action_mask(params, state).any(), feats, 0.0).astype(jnp.float32)


def rule_keys(name: str, params: JSPParams, state: petri.PetriState) -> tuple[jax.Array, ...]:
    """Priority keys (larger is better, lexicographic) of rule ``name`` over all jobs."""
    f = _features(params, state)
    keys = {
        "FIFO": (-f["arrival"],),
        "SPT": (-f["p"],),
        "SPS": (-f["n_ops"], -f["arrival"]),
        "LTWR": (f["work"],),
        "SPSR": (-f["ops_left"],),
        "LPTN": (f["p_next"],),
        "LWT": (f["wait"],),
        "LTWR_LEAST": (-f["work"],),
    }
    if name not in keys:
        raise ValueError(f"unknown rule {name!r}; choose one of {RULES + EXTRA_RULES}")
    return keys[name]


def choose_by_name(name: str, params: JSPParams, state: petri.PetriState) -> jax.Array:
    """The job rule ``name`` allocates (an enabled one whenever any is enabled)."""
    return lex_argmax(petri.action_mask(params, state), *rule_keys(name, params, state))


def all_choices(params: JSPParams, state: petri.PetriState, names=RULES) -> jax.Array:
    """(len(names),) int32: the job each rule would allocate now."""
    return jnp.stack([choose_by_name(n, params, state) for n in names])


def choose(rule: jax.Array, params: JSPParams, state: petri.PetriState) -> jax.Array:
    """The job the rule with (traced) index ``rule`` into :data:`RULES` allocates."""
    return all_choices(params, state)[rule]


def rule_mask(params: JSPParams, state: petri.PetriState) -> jax.Array:
    """(7,) bool: rules that have an enabled transition to pick (all, unless none is enabled)."""
    return jnp.broadcast_to(petri.action_mask(params, state).any(), (len(RULES),))


def rollout_rule(params: JSPParams, name: str) -> petri.PetriState:
    """A full episode under one rule (jittable with ``name`` static)."""
    return petri.rollout(params, lambda p, s: choose_by_name(name, p, s))
