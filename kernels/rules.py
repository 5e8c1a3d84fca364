"""Priority dispatching rules as pure functions over the dispatch env state.

A JSP rule is a priority over jobs computed from ``jsp.job_features`` (higher is preferred);
the rule picks the highest priority among the candidate jobs, ties to the lowest job index
(``argmax`` over a masked ``-inf`` vector). Candidates (``jsp.candidates``) default to the
Giffler-Thompson non-delay set (the jobs whose next operation can start earliest), the usual
setting of published rule baselines; ``"active"`` and ``"all"`` are options.

Rules are policies: ``rule_policy(name)`` returns ``policy(params, obs) -> logits`` for the
generic rollout, with 0 on the chosen action and ``-inf`` elsewhere, so greedy and sampling
rollouts agree.

Definitions follow the HH paper (``specs/hh.md``) where the paper and its code differ:
SPT ranks the candidate operation, LTWR is the longest work remaining, LPTN reads the
operation after the candidate. Where a name has no state to act on, the choice is noted.

FJSP rules pick a (job, machine) pair among the non-delay candidate pairs (DANIEL's t*
eligibility): a job rule chooses the job, then a machine rule chooses among its candidate
machines (``"spt"``: shortest processing time, ``"eet"``: earliest end time); ``spt`` alone
ranks pairs by processing time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from jsched.kernels import fjsp, jsp

f32 = jnp.float32


def _f(x):
    return x.astype(f32)


# One line each: priority over jobs (higher first), from jsp.JobFeatures and the state.
JSP_RULES: dict[str, Callable[[jsp.JobFeatures, jsp.JSPState, jsp.JSPParams], jax.Array]] = {
    # FIFO: first in, first out: the job that arrived in its queue first (earliest ready time).
    "fifo": lambda f, s, p: -_f(s.job_ready),
    # SPT: shortest processing time of the candidate operation.
    "spt": lambda f, s, p: -_f(f.duration),
    # LPT: longest processing time of the candidate operation.
    "lpt": lambda f, s, p: _f(f.duration),
    # SPS: shortest processing sequence: fewest operations in the job (static; ties = index order).
    "sps": lambda f, s, p: -_f(f.n_ops),
    # LTWR: longest total work remaining (candidate included); the same rule as MWKR.
    "ltwr": lambda f, s, p: _f(f.work_left),
    # MWKR: most work remaining (= LTWR).
    "mwkr": lambda f, s, p: _f(f.work_left),
    # LWKR: least work remaining (what the HH authors' code calls LTWR; offered for comparison).
    "lwkr": lambda f, s, p: -_f(f.work_left),
    # SPSR: shortest processing sequence remaining: fewest operations left.
    "spsr": lambda f, s, p: -_f(f.ops_left),
    # LPTN: longest processing time of the next operation after the candidate (0 if none).
    "lptn": lambda f, s, p: _f(f.next_duration),
    # LWT: longest waiting time: the job's total time spent waiting so far, if it started now
    # (earliest start - release - work done); the queue-time reading would equal FIFO.
    "lwt": lambda f, s, p: _f(f.est - p.release - f.work_done),
    # MOR: most operations remaining.
    "mor": lambda f, s, p: _f(f.ops_left),
    # LOR: least operations remaining (the same ranking as SPSR).
    "lor": lambda f, s, p: -_f(f.ops_left),
}

# The seven low-level heuristics of the HH agent (specs/hh.md), in the paper's order.
HH_RULES = ("fifo", "spt", "sps", "ltwr", "spsr", "lptn", "lwt")


def masked_argmax(priority: jax.Array, mask: jax.Array) -> jax.Array:
    """Index of the largest priority where ``mask``; ties (and an empty mask) go to the lowest index."""
    return jnp.argmax(jnp.where(mask, priority, -jnp.inf))


def jsp_priority(name: str, params: jsp.JSPParams, state: jsp.JSPState, candidates: str = "nondelay") -> jax.Array:
    """(J,) float32 priorities of rule ``name``, ``-inf`` outside the candidate set."""
    f = jsp.job_features(params, state)
    cand = jsp.candidates(params, state, candidates, f)
    return jnp.where(cand, JSP_RULES[name](f, state, params), -jnp.inf)


def jsp_rule_action(name: str, params: jsp.JSPParams, state: jsp.JSPState, candidates: str = "nondelay") -> jax.Array:
    """The job rule ``name`` dispatches next (ties to the lowest index)."""
    return jnp.argmax(jsp_priority(name, params, state, candidates))


# FJSP: job rules (priority over jobs, higher first) then a machine rule over the job's pairs.
FJSP_JOB_RULES: dict[str, Callable[[fjsp.OpFeatures, fjsp.FJSPState], jax.Array]] = {
    # FIFO: the job that arrived in its queue first (earliest ready time).
    "fifo": lambda f, s: -_f(s.job_ready),
    # MWKR: most work remaining (sum over unscheduled ops of the mean eligible processing time).
    "mwkr": lambda f, s: _exact_work_left(f),
    # LTWR: the same rule as MWKR.
    "ltwr": lambda f, s: _exact_work_left(f),
    # MOR: most operations remaining.
    "mor": lambda f, s: _f(f.ops_left),
    # LOR: least operations remaining.
    "lor": lambda f, s: -_f(f.ops_left),
}
FJSP_MACHINE_RULES = ("spt", "eet")


def _exact_work_left(f: fjsp.OpFeatures) -> jax.Array:
    """Work left with mean times rounded to 1/64: sums of such values are exact in float32 in any
    order, so ties (and hence choices) never depend on padding or on the reduction order."""
    unsched = f.stats.op_mask & ~f.scheduled
    return jnp.where(unsched, jnp.round(f.stats.mean_pt * 64.0) / 64.0, 0.0).sum(1)
FJSP_RULES = ("spt",) + tuple(FJSP_JOB_RULES)


def fjsp_rule_action(
    name: str, params: fjsp.FJSPParams, state: fjsp.FJSPState, machine_rule: str = "spt", candidates: str = "nondelay"
) -> jax.Array:
    """Flat action ``job * M + machine`` of FJSP rule ``name`` with machine choice ``machine_rule``.

    ``spt`` picks the candidate pair with the shortest processing time (ties: lowest flat index,
    i.e. lowest job then machine). The job rules pick a job among those with a candidate pair,
    then ``machine_rule`` picks its machine: ``spt`` the shortest processing time, ``eet`` the
    earliest end time (ties: shorter processing time, then lowest machine index).
    """
    if machine_rule not in FJSP_MACHINE_RULES:
        raise ValueError(f"machine rule must be one of {FJSP_MACHINE_RULES}, got {machine_rule!r}")
    pf = fjsp.pair_features(params, state)
    cand = fjsp.candidates(params, state, candidates, pf)
    dur = _f(pf.duration)
    if name == "spt":
        return masked_argmax(-dur.reshape(-1), cand.reshape(-1))
    prio = FJSP_JOB_RULES[name](fjsp.op_features(params, state), state)
    job = masked_argmax(prio, cand.any(axis=1))
    if machine_rule == "spt":
        mprio = -dur[job]
    else:
        # Lexicographic (end time, duration): both are integers well below 2**20.
        mprio = -(_f(pf.ect[job]) * 2.0**20 + dur[job])
    mach = masked_argmax(mprio, cand[job])
    return job * cand.shape[1] + mach


def _one_hot_logits(action: jax.Array, n: int) -> jax.Array:
    return jnp.where(jnp.arange(n) == action, 0.0, -jnp.inf).astype(f32)


@functools.lru_cache(maxsize=None)
def rule_policy(name: str, problem: str = "jsp", candidates: str = "nondelay", machine_rule: str = "spt") -> Callable:
    """Rule ``name`` as a rollout policy ``policy(params, obs) -> logits`` over the default obs.

    The result is cached, so the same arguments give the same function object and a rollout
    compiles once per rule and shape.
    """
    if problem == "jsp":
        if name not in JSP_RULES:
            raise ValueError(f"unknown JSP rule {name!r}; choose one of {sorted(JSP_RULES)}")
        if candidates not in jsp.CANDIDATE_MODES:
            raise ValueError(f"candidate mode must be one of {jsp.CANDIDATE_MODES}, got {candidates!r}")

        def policy(_, obs):
            return _one_hot_logits(jsp_rule_action(name, obs.params, obs.state, candidates), obs.state.next_op.shape[0])

    elif problem == "fjsp":
        if name not in FJSP_RULES:
            raise ValueError(f"unknown FJSP rule {name!r}; choose one of {sorted(FJSP_RULES)}")
        if candidates not in fjsp.CANDIDATE_MODES:
            raise ValueError(f"candidate mode must be one of {fjsp.CANDIDATE_MODES}, got {candidates!r}")

        def policy(_, obs):
            n = obs.params.durations.shape[0] * obs.params.durations.shape[2]
            return _one_hot_logits(fjsp_rule_action(name, obs.params, obs.state, machine_rule, candidates), n)

    else:
        raise ValueError(f"problem must be 'jsp' or 'fjsp', got {problem!r}")
    policy.__name__ = policy.__qualname__ = f"rule_{problem}_{name}_{candidates}_{machine_rule}"
    return policy


@functools.lru_cache(maxsize=None)
def rule_set_policy(
    names: tuple[str, ...], problem: str = "jsp", candidates: str = "nondelay", machine_rule: str = "spt"
) -> Callable:
    """Several rules as one policy whose parameter is the rule's index in ``names``.

    ``policy(index, obs) -> logits`` of rule ``names[index]``: vmapping a rollout over
    ``jnp.arange(len(names))`` runs every rule in one compiled call (the rule table, and the
    action space of a hyper-heuristic agent that picks a rule per step).
    """
    for n in names:
        rule_policy(n, problem, candidates, machine_rule)  # validates the names and options

    if problem == "jsp":

        def policy(index, obs):
            p, s = obs.params, obs.state
            f = jsp.job_features(p, s)
            cand = jsp.candidates(p, s, candidates, f)
            prio = jnp.stack([JSP_RULES[n](f, s, p) for n in names])[index]
            return _one_hot_logits(masked_argmax(prio, cand), cand.shape[0])

    else:

        def policy(index, obs):
            n_act = obs.params.durations.shape[0] * obs.params.durations.shape[2]
            acts = jnp.stack([fjsp_rule_action(n, obs.params, obs.state, machine_rule, candidates) for n in names])
            return _one_hot_logits(acts[index], n_act)

    policy.__name__ = policy.__qualname__ = f"rules_{problem}_{'_'.join(names)}_{candidates}_{machine_rule}"
    return policy
