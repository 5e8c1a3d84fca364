"""Instances whose optimal makespan is known by construction (JSP and FJSP, any size).

A tight schedule is built first and the instance is read off it:

* With ``n_machines <= n_jobs`` every **machine** is busy without idle time from 0 to ``C``.
  Every machine's load is then ``C``, so ``C`` is the machine-load lower bound, and the
  constructed schedule reaches it: the optimum is exactly ``C``.
* With ``n_jobs < n_machines`` (a machine cannot be busy all the time when fewer jobs exist) the
  roles swap: every **job** runs without a break from 0 to ``C``, so ``C`` is the longest-job
  lower bound, reached by the constructed schedule.

Either way ``instance.trivial_lower_bound() == C == schedule.makespan``.

Construction. Call the always-busy side the *agents* (A of them) and the other side the
*resources* (B >= A). Agent ``a`` works in B consecutive stages and uses resource
``sigma[a, k]`` in stage ``k``, where ``sigma`` is a random A x B Latin rectangle (each agent
uses every resource once, no two agents share a resource in one stage); rectangles are built row
by row through random bipartite matchings (B <= 64) or as a randomly relabelled cyclic
rectangle (larger B). Stage boundaries are drawn per agent around ``k * C / B`` with random
jitter, subject to: positive stage lengths, ``T[a, 0] = 0``, ``T[a, B] = C``, and a resource
is never used by two agents at once (its next user starts after its previous user ends).
These are difference constraints that a left-to-right pass over the boundaries always
satisfies (chains of agents handing a resource over at one boundary get non-decreasing
values, cycles one common value). Every job visits every machine exactly once (standard JSP
routes, ``n_ops_per_job == n_machines``), all durations are >= 1, releases are 0.

FJSP: each operation keeps its constructed machine and duration and gets extra eligible
machines whose durations are **at least** that duration (ties allowed), so the min-duration
lower bounds, and hence the optimum, stay ``C``.

The total ``C`` is about ``max(n_jobs, n_machines) * mean_duration``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jsched.errors import JSchedError
from jsched.instances.model import FJSPInstance, JSPInstance
from jsched.schedule import Schedule, validate

__all__ = ["KnownOptimum", "known_optimum_fjsp", "known_optimum_jsp"]

_MATCHING_MAX = 64  # Latin rectangles by random matchings up to this many resources


@dataclass(frozen=True, eq=False)
class KnownOptimum:
    """An instance with its proven optimal makespan and one optimal schedule.

    Attributes:
        instance: the JSPInstance or FJSPInstance.
        makespan: the optimal makespan C (equal to ``instance.trivial_lower_bound()``).
        schedule: a validated schedule of makespan C (the one the instance was read off).
    """

    instance: JSPInstance | FJSPInstance
    makespan: int
    schedule: Schedule


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise JSchedError(f"seed must be an integer >= 0 or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_sizes(n_jobs, n_machines, mean_duration, jitter=0.0) -> None:
    if not 0 <= jitter <= 10:
        raise JSchedError(f"jitter must be a number in 0..10, got {jitter!r}")
    for what, v, lo in (("n_jobs", n_jobs, 1), ("n_machines", n_machines, 1), ("mean_duration", mean_duration, 1)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < lo:
            raise JSchedError(f"{what} must be an integer >= {lo}, got {v!r}")
    if max(n_jobs, n_machines) * mean_duration > 2**31 - 1:
        raise JSchedError("max(n_jobs, n_machines) * mean_duration must stay below 2**31 (32-bit solver times)")


def _latin_rectangle(a: int, b: int, rng: np.random.Generator) -> np.ndarray:
    """(a, b) array: row i a permutation of 0..b-1, no value twice in a column (a <= b)."""
    if b > _MATCHING_MAX:
        # Cyclic rectangle with random rows, stage order and resource labels.
        rows = rng.permutation(b)[:a]
        stages = rng.permutation(b)
        labels = rng.permutation(b)
        return labels[(rows[:, None] + stages[None, :]) % b]
    used = np.zeros((b, b), bool)  # used[stage, resource]
    out = np.empty((a, b), np.int64)
    for i in range(a):
        match = [-1] * b  # resource -> stage

        def augment(k: int, seen: list[bool]) -> bool:
            for r in rng.permutation(np.flatnonzero(~used[k])):
                if seen[r]:
                    continue
                seen[r] = True
                if match[r] < 0 or augment(match[r], seen):
                    match[r] = k
                    return True
            return False

        for k in rng.permutation(b):
            if not augment(int(k), [False] * b):  # pragma: no cover - Hall's theorem
                raise AssertionError("a Latin rectangle row always extends")
        for r, k in enumerate(match):
            out[i, k] = r
            used[k, r] = True
    return out


def _tight(a: int, b: int, c: int, rng: np.random.Generator, jitter: float) -> tuple[np.ndarray, np.ndarray]:
    """(sigma (a, b), T (a, b+1)): agent i uses resource sigma[i, k] during [T[i, k], T[i, k+1])."""
    sigma = _latin_rectangle(a, b, rng)
    t = np.zeros((a, b + 1), np.int64)
    t[:, b] = c
    last = {}  # resource -> (agent, stage) of its latest use so far
    for i in range(a):
        last[int(sigma[i, 0])] = (i, 0)
    width = c / b
    for k in range(1, b):
        ub = c - (b - k)
        lb = t[:, k - 1] + 1
        pred = [-1] * a  # agent handing its resource over to agent i at this boundary
        succ = [-1] * a
        for i in range(a):
            r = int(sigma[i, k])
            if r in last:
                u, ku = last[r]
                if ku == k - 1:
                    pred[i], succ[u] = u, i
                else:
                    lb[i] = max(lb[i], t[u, ku + 1])
        target = k * width
        done = [False] * a

        def pick(lo: int) -> int:
            v = int(round(target + rng.uniform(-jitter, jitter) * width))
            return min(max(v, lo), ub)

        for head in range(a):
            if pred[head] >= 0:
                continue
            v, i = 0, head
            while i >= 0:
                v = pick(max(int(lb[i]), v))
                t[i, k] = v
                done[i] = True
                i = succ[i]
        for start in range(a):  # what is left lies on cycles: one common value each
            if done[start]:
                continue
            cyc, i = [], start
            while not done[i]:
                done[i] = True
                cyc.append(i)
                i = succ[i]
            v = pick(max(int(lb[j]) for j in cyc))
            t[cyc, k] = v
        for i in range(a):
            last[int(sigma[i, k])] = (i, k)
    return sigma, t


def _jsp_arrays(n_jobs: int, n_machines: int, rng: np.random.Generator, mean_duration: int, jitter: float):
    """machines, durations, starts (all (J, M)) of a tight schedule, and C."""
    jobs_busy = n_jobs < n_machines
    a, b = (n_jobs, n_machines) if jobs_busy else (n_machines, n_jobs)
    c = b * int(mean_duration)
    sigma, t = _tight(a, b, c, rng, jitter)
    dur = np.diff(t, axis=1)
    start = t[:, :-1]
    if jobs_busy:  # agent = job, stage order = route
        machines, durations, starts = sigma, dur, start
    else:  # agent = machine; a job's route is the time order of its operations
        job = sigma
        mach = np.broadcast_to(np.arange(a)[:, None], (a, b))
        order = np.lexsort((start.ravel(), job.ravel()))  # by job, then start
        shape = (b, a)
        machines = mach.ravel()[order].reshape(shape)
        durations = dur.ravel()[order].reshape(shape)
        starts = start.ravel()[order].reshape(shape)
    # Random job order and machine labels.
    jp, mp = rng.permutation(n_jobs), rng.permutation(n_machines)
    return mp[machines[jp]], durations[jp], starts[jp], c


def known_optimum_jsp(
    n_jobs: int,
    n_machines: int,
    seed: int | np.random.Generator,
    *,
    mean_duration: int = 20,
    jitter: float = 0.9,
    name: str | None = None,
) -> KnownOptimum:
    """A random JSP (``n_jobs`` x ``n_machines``, every job visits every machine once) whose
    optimal makespan is known: see the module docstring.

    Args:
        seed: an int >= 0 or a numpy Generator (drawn from; the result depends only on it).
        mean_duration: mean operation length on the always-busy side; C = max(J, M) * mean.
        jitter: stage-boundary noise as a fraction of the mean stage length (0 gives equal
            lengths; around 1 gives durations spread over roughly 1..2 * mean_duration).
        name: instance name (default ``optjsp-<J>x<M>-C<C>``).
    """
    _check_sizes(n_jobs, n_machines, mean_duration, jitter)
    rng = _rng(seed)
    machines, durations, starts, c = _jsp_arrays(int(n_jobs), int(n_machines), rng, int(mean_duration), float(jitter))
    inst = JSPInstance(name or f"optjsp-{n_jobs}x{n_machines}-C{c}", machines, durations, int(n_machines))
    sched = validate(inst, Schedule.from_arrays(inst, starts))
    return _checked(inst, sched, c)


def known_optimum_fjsp(
    n_jobs: int,
    n_machines: int,
    seed: int | np.random.Generator,
    *,
    mean_duration: int = 20,
    jitter: float = 0.9,
    max_machines_per_op: int | None = None,
    slowdown: float = 0.5,
    name: str | None = None,
) -> KnownOptimum:
    """A random FJSP whose optimal makespan is known: the JSP of :func:`known_optimum_jsp`
    with extra eligible machines per operation (1 to ``max_machines_per_op`` in all, default
    ``min(3, n_machines)``), each with a duration drawn from ``d .. d + slowdown * d`` where
    ``d`` is the operation's constructed duration, so no alternative is ever faster.
    """
    _check_sizes(n_jobs, n_machines, mean_duration, jitter)
    k_max = min(3, int(n_machines)) if max_machines_per_op is None else int(max_machines_per_op)
    if not 1 <= k_max <= n_machines:
        raise JSchedError(f"max_machines_per_op must be in 1..n_machines ({n_machines}), got {max_machines_per_op!r}")
    if not slowdown >= 0:
        raise JSchedError(f"slowdown must be >= 0, got {slowdown!r}")
    rng = _rng(seed)
    machines, durations, starts, c = _jsp_arrays(int(n_jobs), int(n_machines), rng, int(mean_duration), float(jitter))
    n, m = machines.size, int(n_machines)
    chosen, d = machines.ravel(), durations.ravel()
    dur = np.zeros((n, m), np.int64)
    elig = np.zeros((n, m), bool)
    rows = np.arange(n)
    dur[rows, chosen], elig[rows, chosen] = d, True
    for r in range(n):
        extra = int(rng.integers(0, k_max))  # machines besides the chosen one
        if extra:
            others = rng.permutation(np.delete(np.arange(m), chosen[r]))[:extra]
            dur[r, others] = d[r] + rng.integers(0, int(np.floor(slowdown * d[r])) + 1, size=extra)
            elig[r, others] = True
    name = name or f"optfjsp-{n_jobs}x{n_machines}-C{c}"
    inst = FJSPInstance(name, m, np.full(int(n_jobs), m), dur, elig)
    sched = validate(inst, Schedule.from_arrays(inst, starts.ravel(), chosen))
    return _checked(inst, sched, c)


def _checked(inst, sched: Schedule, c: int) -> KnownOptimum:
    if sched.makespan != c or inst.trivial_lower_bound() != c:  # pragma: no cover - construction bug
        raise AssertionError(f"construction broke: makespan {sched.makespan}, bound {inst.trivial_lower_bound()}, C {c}")
    return KnownOptimum(inst, c, sched)
