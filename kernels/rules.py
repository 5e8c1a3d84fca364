"""Priority dispatching rules: one table of definitions, pure functions over the dispatch state.

A JSP rule (:data:`RULES`) maps ``jsp.job_features`` to priority keys over jobs (higher first),
compared lexicographically; it picks the best candidate job, remaining ties to the lowest job
index. Candidates (``jsp.candidates``) default to the Giffler-Thompson non-delay set, which is
also the guard of the Petri net (``kernels.petri``), so the HH agents' seven rules are entries of
the same table (:data:`HH_RULES`). Where the HH paper (Lassoued & Schwung 2024) defines a rule
differently, the difference is a named variant (``sps_fifo``); its LWT (the job's total wait,
the current one included) equals ``lwt`` on every candidate, so it needs none.

Rules are policies: ``rule_policy(name)`` returns ``policy(params, obs) -> logits`` for the
generic rollout, 0 on the chosen action and ``-inf`` elsewhere.

FJSP rules pick a (job, machine) pair among the non-delay candidate pairs (DANIEL's t*
eligibility): a job rule chooses the job, then a machine rule chooses among its candidate
machines (``"spt"``: shortest processing time, ``"eet"``: earliest end time); ``spt`` alone
ranks pairs by processing time.

The due-date rules (:data:`DUE_RULES`, the last entries of both tables) read the job due dates
and weights of the instance params and raise ValueError on an instance without them: EDD
(earliest due date) and ATC (apparent tardiness cost, Vepsalainen & Morton 1987):
``w / p * exp(-max(0, due - t - work left) / (K * mean p))``, p the candidate's processing time
(FJSP: its mean over eligible machines), t its earliest start (FJSP: t*), the work left
including the candidate, the mean over the jobs with operations left, look-ahead ``ATC_K``;
compared in log space, so that large slacks never underflow to ties.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from jsched.kernels import fjsp, jsp

f32 = jnp.float32
ATC_K = 2.0  # ATC's look-ahead parameter


def _f(x):
    return x.astype(f32)


def _due(p, name: str) -> tuple[jax.Array, jax.Array]:
    """(due, weight) of the instance params; rules that need them fail clearly without them."""
    if p.due is None:
        raise ValueError(f"rule {name} needs job due dates; the instance has none")
    return p.due, p.weight


def _atc(name: str, p, duration: jax.Array, work_left: jax.Array, t: jax.Array, live: jax.Array) -> jax.Array:
    """log ATC priority per job (see the module doc); ``live``: jobs with operations left."""
    due, weight = _due(p, name)
    pbar = jnp.where(live, duration, 0.0).sum() / jnp.maximum(live.sum(), 1)
    slack = jnp.maximum(_f(due) - work_left - _f(t), 0.0)
    return jnp.log(_f(weight)) - jnp.log(jnp.maximum(duration, 1.0)) - slack / (ATC_K * jnp.maximum(pbar, 1.0))


# The rule table: name -> keys over jobs (higher first, lexicographic; then the lowest index),
# from jsp.JobFeatures f, the state s and the instance p.
RULES: dict[str, Callable[[jsp.JobFeatures, jsp.JSPState, jsp.JSPParams], tuple[jax.Array, ...]]] = {
    # FIFO: first in, first out: the job whose candidate entered its queue first (earliest ready time).
    "fifo": lambda f, s, p: (-_f(s.job_ready),),
    # SPT: shortest processing time of the candidate operation (the HH authors' code ranks by
    # the job's total time; the paper and this table by the candidate's).
    "spt": lambda f, s, p: (-_f(f.duration),),
    # LPT: longest processing time of the candidate operation.
    "lpt": lambda f, s, p: (_f(f.duration),),
    # SPS: shortest processing sequence: fewest operations in the job's route (static).
    "sps": lambda f, s, p: (-_f(f.n_ops),),
    # SPS as the HH agents use it: ties in FIFO order (on equal-length jobs it is FIFO).
    "sps_fifo": lambda f, s, p: (-_f(f.n_ops), -_f(s.job_ready)),
    # LTWR: longest total work remaining, the candidate included (the HH authors' code takes the
    # least: that is lwkr).
    "ltwr": lambda f, s, p: (_f(f.work_left),),
    # MWKR: most work remaining (= LTWR).
    "mwkr": lambda f, s, p: (_f(f.work_left),),
    # LWKR: least work remaining.
    "lwkr": lambda f, s, p: (-_f(f.work_left),),
    # SPSR: shortest processing sequence remaining: fewest operations left, the candidate included.
    "spsr": lambda f, s, p: (-_f(f.ops_left),),
    # LPTN: longest processing time of the operation after the candidate (0 if none).
    "lptn": lambda f, s, p: (_f(f.next_duration),),
    # LWT: longest waiting time: the job's total time spent waiting if its candidate started now
    # (earliest start - release - work done); the queue-time reading would equal FIFO.
    "lwt": lambda f, s, p: (_f(f.est - p.release - f.work_done),),
    # MOR: most operations remaining.
    "mor": lambda f, s, p: (_f(f.ops_left),),
    # LOR: least operations remaining (the same ranking as SPSR).
    "lor": lambda f, s, p: (-_f(f.ops_left),),
    # EDD: earliest due date of the job.
    "edd": lambda f, s, p: (-_f(_due(p, "edd")[0]),),
    # ATC: apparent tardiness cost (module doc).
    "atc": lambda f, s, p: (_atc("atc", p, _f(f.duration), _f(f.work_left), f.est, f.ops_left > 0),),
}

# Variants: entries that redefine another entry's rule (offered by the HH agents, not as methods).
VARIANTS = ("sps_fifo",)
# The rules that need job due dates (methods, not columns of ``jsched rules``), in both tables.
DUE_RULES = ("edd", "atc")
# The JSP dispatching rules (the rule methods and the columns of ``jsched rules``).
JSP_RULES = tuple(n for n in RULES if n not in VARIANTS + DUE_RULES)
# The seven low-level heuristics of the HH agents, in the paper's order (FIFO, SPT, SPS, LTWR,
# SPSR, LPTN, LWT).
HH_RULES = ("fifo", "spt", "sps_fifo", "ltwr", "spsr", "lptn", "lwt")


def masked_argmax(priority: jax.Array, mask: jax.Array) -> jax.Array:
    """Index of the largest priority where ``mask``; ties (and an empty mask) go to the lowest index."""
    return jnp.argmax(jnp.where(mask, priority, -jnp.inf))


def lex_argmax(mask: jax.Array, keys: tuple[jax.Array, ...]) -> jax.Array:
    """Index of the best masked entry by ``keys`` in lexicographic order, then the lowest index.

    Returns 0 for an empty mask (a no-op action of the dispatch kernels).
    """
    if len(keys) == 1:
        return masked_argmax(keys[0], mask)
    cand = mask
    for k in keys:
        best = jnp.where(cand, k, -jnp.inf).max()
        cand = cand & (k == best)
    return jnp.argmax(cand)


def rule_keys(name: str, feats: jsp.JobFeatures, state: jsp.JSPState, params: jsp.JSPParams) -> tuple[jax.Array, ...]:
    """The (J,) float32 priority keys of rule ``name`` (see :data:`RULES`)."""
    if name not in RULES:
        raise ValueError(f"unknown JSP rule {name!r}; choose one of {sorted(RULES)}")
    return RULES[name](feats, state, params)


def jsp_rule_actions(
    names: tuple[str, ...], params: jsp.JSPParams, state: jsp.JSPState, candidates: str = "nondelay"
) -> jax.Array:
    """(len(names),) int32: the job each rule dispatches next, from one feature computation."""
    f = jsp.job_features(params, state)
    cand = jsp.candidates(params, state, candidates, f)
    return jnp.stack([lex_argmax(cand, rule_keys(n, f, state, params)) for n in names]).astype(jnp.int32)


def jsp_rule_action(name: str, params: jsp.JSPParams, state: jsp.JSPState, candidates: str = "nondelay") -> jax.Array:
    """The job rule ``name`` dispatches next (0 when no job is left)."""
    return jsp_rule_actions((name,), params, state, candidates)[0]


# FJSP: job rules (priority over jobs, higher first) then a machine rule over the job's pairs.
FJSP_JOB_RULES: dict[str, Callable[[fjsp.OpFeatures, fjsp.FJSPState, fjsp.FJSPParams], jax.Array]] = {
    # FIFO: the job that arrived in its queue first (earliest ready time).
    "fifo": lambda f, s, p: -_f(s.job_ready),
    # MWKR: most work remaining (sum over unscheduled ops of the mean eligible processing time).
    "mwkr": lambda f, s, p: _exact_work_left(f),
    # LTWR: the same rule as MWKR.
    "ltwr": lambda f, s, p: _exact_work_left(f),
    # MOR: most operations remaining.
    "mor": lambda f, s, p: _f(f.ops_left),
    # LOR: least operations remaining.
    "lor": lambda f, s, p: -_f(f.ops_left),
    # EDD: earliest due date of the job.
    "edd": lambda f, s, p: -_f(_due(p, "edd")[0]),
    # ATC: apparent tardiness cost (module doc), with mean times and t*.
    "atc": lambda f, s, p: _atc("atc", p, _next_mean_pt(f, s), _exact_work_left(f), fjsp.t_star(p, s), f.ops_left > 0),
}
FJSP_MACHINE_RULES = ("spt", "eet")


def _exact_work_left(f: fjsp.OpFeatures) -> jax.Array:
    """Work left with mean times rounded to 1/64: sums of such values are exact in float32 in any
    order, so ties (and hence choices) never depend on padding or on the reduction order."""
    unsched = f.stats.op_mask & ~f.scheduled
    return jnp.where(unsched, jnp.round(f.stats.mean_pt * 64.0) / 64.0, 0.0).sum(1)


def _next_mean_pt(f: fjsp.OpFeatures, s: fjsp.FJSPState) -> jax.Array:
    """(J,) mean eligible processing time of each job's next operation, rounded to 1/64 as above."""
    o = jnp.minimum(s.next_op, f.stats.mean_pt.shape[1] - 1)
    return jnp.round(jnp.take_along_axis(f.stats.mean_pt, o[:, None], axis=1)[:, 0] * 64.0) / 64.0


# The FJSP rules without due dates (the columns of ``jsched rules``); the due-date rules follow.
FJSP_RULES = ("spt",) + tuple(n for n in FJSP_JOB_RULES if n not in DUE_RULES)


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
    prio = FJSP_JOB_RULES[name](fjsp.op_features(params, state), state, params)
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


def _check(names: tuple[str, ...], problem: str, candidates: str, machine_rule: str) -> None:
    if problem not in ("jsp", "fjsp"):
        raise ValueError(f"problem must be 'jsp' or 'fjsp', got {problem!r}")
    known, modes = (RULES, jsp.CANDIDATE_MODES) if problem == "jsp" else (FJSP_RULES + DUE_RULES, fjsp.CANDIDATE_MODES)
    for n in names:
        if n not in known:
            raise ValueError(f"unknown {problem.upper()} rule {n!r}; choose one of {sorted(known)}")
    if candidates not in modes:
        raise ValueError(f"candidate mode must be one of {modes}, got {candidates!r}")
    if problem == "fjsp" and machine_rule not in FJSP_MACHINE_RULES:
        raise ValueError(f"machine rule must be one of {FJSP_MACHINE_RULES}, got {machine_rule!r}")


@functools.lru_cache(maxsize=None)
def rule_policy(name: str, problem: str = "jsp", candidates: str = "nondelay", machine_rule: str = "spt") -> Callable:
    """Rule ``name`` as a rollout policy ``policy(params, obs) -> logits`` over the default obs.

    The result is cached, so the same arguments give the same function object and a rollout
    compiles once per rule and shape.
    """
    _check((name,), problem, candidates, machine_rule)
    if problem == "jsp":

        def policy(_, obs):
            return _one_hot_logits(jsp_rule_action(name, obs.params, obs.state, candidates), obs.state.next_op.shape[0])

    else:

        def policy(_, obs):
            n = obs.params.durations.shape[0] * obs.params.durations.shape[2]
            return _one_hot_logits(fjsp_rule_action(name, obs.params, obs.state, machine_rule, candidates), n)

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
    _check(tuple(names), problem, candidates, machine_rule)

    if problem == "jsp":

        def policy(index, obs):
            acts = jsp_rule_actions(names, obs.params, obs.state, candidates)
            return _one_hot_logits(acts[index], obs.state.next_op.shape[0])

    else:

        def policy(index, obs):
            n_act = obs.params.durations.shape[0] * obs.params.durations.shape[2]
            acts = jnp.stack([fjsp_rule_action(n, obs.params, obs.state, machine_rule, candidates) for n in names])
            return _one_hot_logits(acts[index], n_act)

    policy.__name__ = policy.__qualname__ = f"rules_{problem}_{'_'.join(names)}_{candidates}_{machine_rule}"
    return policy
