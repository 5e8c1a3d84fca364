"""Seeded instance generators of the L-RHO settings (makespan, delay) and machine breakdowns.

``SETTINGS`` names the sizes used here (``mk-small:3`` on the command line is instance 3 of
``mk-small``); every generator takes a ``np.random.Generator``, so a seed gives one instance.
"""

from __future__ import annotations

import numpy as np

from jsched.instances.model import FJSPInstance

# level: (gap between events, event length, q: fraction of machines down); first event at U{50..150}.
BREAKDOWN_LEVELS = {
    "low": ((400, 600), 100, 0.2),
    "mid": ((175, 300), 100, 0.35),
    "high": ((100, 200), 50, 0.5),
}


def makespan_instance(
    rng: np.random.Generator,
    n_jobs: int = 20,
    n_machines: int = 10,
    ops_per_job: int | tuple[int, int] = 30,
    name: str = "mk",
) -> FJSPInstance:
    """A makespan-setting FJSP: per operation U{1..M} compatible machines (a random subset) with a
    duration U{1..99} each; ``ops_per_job`` an int or a (lo, hi) range drawn per job."""
    if isinstance(ops_per_job, tuple):
        jl = rng.integers(ops_per_job[0], ops_per_job[1] + 1, size=n_jobs)
    else:
        jl = np.full(n_jobs, int(ops_per_job))
    n = int(jl.sum())
    elig = np.zeros((n, n_machines), bool)
    k = rng.integers(1, n_machines + 1, size=n)
    for r in range(n):
        elig[r, rng.choice(n_machines, size=int(k[r]), replace=False)] = True
    dur = np.where(elig, rng.integers(1, 100, size=(n, n_machines)), 0)
    return FJSPInstance(name, n_machines, jl, dur, elig)


def delay_instance(
    rng: np.random.Generator,
    n_jobs: int = 25,
    n_machines: int = 25,
    ops_per_job: int = 30,
    drop_quantile: float = 0.8,
    name: str = "dl",
) -> FJSPInstance:
    """A delay-setting FJSP: every machine compatible, release and due (target end) times.

    Durations randint(lo, hi) from a range per (operation position, machine), lo in {3,5,7,9} and
    hi = lo + {9..21 step 3}, redrawn at 10 random positions per machine; releases a running sum
    of U{0..15} within a job, due = release + U{0..29}; operations released at or above the
    ``drop_quantile`` quantile are dropped (each job keeps a prefix).
    """
    o = int(ops_per_job)
    lo = rng.choice([3, 5, 7, 9], size=(o, n_machines))
    hi = lo + rng.choice(np.arange(9, 22, 3), size=(o, n_machines))
    for m in range(n_machines):  # redraw the range at 10 random positions per machine
        pos = rng.choice(o, size=min(10, o), replace=False)
        lo[pos, m] = rng.choice([3, 5, 7, 9], size=len(pos))
        hi[pos, m] = lo[pos, m] + rng.choice(np.arange(9, 22, 3), size=len(pos))
    dur = rng.integers(lo[None], hi[None], size=(n_jobs, o, n_machines))
    release = np.cumsum(rng.integers(0, 16, size=(n_jobs, o)), axis=1)
    due = release + rng.integers(0, 30, size=(n_jobs, o))
    keep = release < np.quantile(release, drop_quantile)
    keep[:, 0] = True  # every job keeps at least its first operation
    keep = np.cumsum(~keep, axis=1) == 0  # a prefix of each job (releases increase)
    jl = keep.sum(axis=1)
    return FJSPInstance(
        name,
        n_machines,
        jl,
        dur[keep],
        np.ones((int(jl.sum()), n_machines), bool),
        release=release[keep],
        due=due[keep],
    )


def breakdowns(
    rng: np.random.Generator, n_machines: int, horizon: int, level: str = "mid", machines: str = "count"
) -> list[tuple[int, int, int]]:
    """Breakdown intervals ``(machine, start, end)`` up to ``horizon`` at a level of BREAKDOWN_LEVELS.

    ``machines`` picks the down machines of each event: ``'count'`` = floor(q * M) of them
    uniformly at random (at least one), as the authors' code; ``'iid'`` = each machine with
    probability q independently, as the paper's text (App. A.5.1; an event may then hit none).
    """
    if level not in BREAKDOWN_LEVELS:
        raise ValueError(f"unknown breakdown level {level!r}; choose one of {sorted(BREAKDOWN_LEVELS)}")
    if machines not in ("count", "iid"):
        raise ValueError(f"machines must be 'count' or 'iid', got {machines!r}")
    (glo, ghi), length, q = BREAKDOWN_LEVELS[level]
    k = max(1, int(np.floor(q * n_machines)))
    out = []
    t = int(rng.integers(50, 151))
    while t < horizon:
        if machines == "count":
            down = rng.choice(n_machines, size=k, replace=False)
        else:
            down = np.flatnonzero(rng.random(n_machines) < q)
        for m in sorted(down.tolist()):
            out.append((int(m), t, t + length))
        t += length + int(rng.integers(glo, ghi + 1))
    return out


def instance_breakdowns(instance, level: str, seed: int, machines: str = "count") -> list[tuple[int, int, int]]:
    """:func:`breakdowns` of an FJSP drawn with ``seed``, up to its serial horizon (the sum of
    each operation's longest duration): the events ``jsched rho``, the collector and the bench use."""
    horizon = int(instance.durations.max(axis=1).sum())
    return breakdowns(np.random.default_rng(seed), instance.n_machines, horizon, level, machines)


# Named settings: (generator, keyword arguments, objective). "small" ones run on 2 CPU cores.
SETTINGS = {
    "mk": (makespan_instance, dict(n_jobs=20, n_machines=10, ops_per_job=30), "makespan"),
    "mk-small": (makespan_instance, dict(n_jobs=10, n_machines=5, ops_per_job=20), "makespan"),
    "mk-400": (makespan_instance, dict(n_jobs=20, n_machines=10, ops_per_job=20), "makespan"),  # mk at 2/3 job length
    "dl": (delay_instance, dict(n_jobs=25, n_machines=25, ops_per_job=30), "start_delay"),
    "dl-small": (delay_instance, dict(n_jobs=8, n_machines=8, ops_per_job=25), "start_delay"),
    "dl-400": (delay_instance, dict(n_jobs=20, n_machines=20, ops_per_job=26), "start_delay"),  # ~415 ops
    "tiny": (makespan_instance, dict(n_jobs=4, n_machines=3, ops_per_job=5), "makespan"),  # tests
}


def setting_instance(setting: str, seed: int) -> FJSPInstance:
    """Instance ``seed`` of a named setting (``np.random.default_rng(seed)``)."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; choose one of {sorted(SETTINGS)}")
    gen, kw, _ = SETTINGS[setting]
    return gen(np.random.default_rng(seed), name=f"{setting}-{seed}", **kw)
