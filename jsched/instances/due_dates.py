"""Job due dates and weights for any JSP or FJSP instance (the tardiness objectives' data).

TWK rule: ``due = release + floor(tightness x total work)`` (an FJSP operation counts its mean
eligible duration). Weights, by default, follow the 4-2-1 rule of the weighted-tardiness
job-shop benchmarks (Singer & Pinedo 1998): 20% of the jobs weight 4, 60% weight 2, 20% weight 1,
which jobs drawn by the seed. Tightness 1.3, 1.5 and 1.6 are that benchmark's values (larger is
looser). No JAX here, so that ``jsched.instances`` stays light to import.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jsched.errors import JSchedError
from jsched.instances.model import FJSPInstance, Instance, JSPInstance, as_fjsp


def with_due_dates(instance: Instance, tightness: float = 1.5, seed: int | np.random.Generator = 0, weighted: bool = True) -> Instance:
    """A copy of a JSP or FJSP instance with TWK job due dates (and 4-2-1 weights if ``weighted``)."""
    if not isinstance(instance, (JSPInstance, FJSPInstance)):
        raise JSchedError(f"{instance.name}: due dates are defined for JSP and FJSP instances")
    if not np.isfinite(tightness) or tightness <= 0:
        raise JSchedError(f"due-date tightness must be a number > 0, got {tightness}")
    f = as_fjsp(instance)
    mean_pt = np.where(f.eligible, f.durations, 0).sum(1) / np.maximum(f.eligible.sum(1), 1)
    work = np.zeros(f.n_jobs)
    np.add.at(work, f.op_job, mean_pt)
    release = np.zeros(f.n_jobs, np.int64)  # the release of each job's first operation
    release[f.op_job[::-1]] = f.release[::-1]
    due = release + np.floor(tightness * work).astype(np.int64)
    weight = None
    if weighted:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        n = f.n_jobs
        n4, n1 = round(0.2 * n), round(0.2 * n)
        ranks = np.empty(n, np.int64)
        ranks[rng.permutation(n)] = np.arange(n)
        weight = np.where(ranks < n4, 4, np.where(ranks < n - n1, 2, 1))
    return dataclasses.replace(instance, job_due=due, job_weight=weight)
