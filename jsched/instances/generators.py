"""Random instance generators: numpy ones for instance objects, and key -> arrays ones for training.

Every generator takes its randomness explicitly; the same seed or key gives the same instance.

* :func:`taillard_jsp` -- "Taillard-style" JSP with a numpy ``Generator``: durations i.i.d.
  U{low..high} (default 1..99), each job visits every machine once in a uniformly random order.
* :func:`taillard_jsp_seeded` -- Taillard's (1993) own generator (Lehmer/Park-Miller LCG with a
  time seed and a machine seed); with the published seeds it rebuilds the Taillard instances
  bit for bit, e.g. ``taillard_jsp_seeded(15, 15, 840612802, 398197754)`` is ``ta01``.
* :func:`sd1_fjsp` -- SD1 of Song et al. (songwenas12/fjsp-drl's case generator,
  DANIEL's ``CaseGenerator``): ops per job U{floor(0.8 M)..floor(1.2 M)}; each op U{1..M}
  eligible machines; a mean mu ~ U{1..20} per op and per eligible machine a duration
  U{max(1, round(0.8 mu))..min(20, round(1.2 mu))} (Python's rounding, as the original). A
  ``random.Random`` (or an int seed) follows that code call for call.
* :func:`sd2_fjsp` -- SD2, DANIEL's generator (wrqccc/FJSP-DRL
  ``data_utils.SD2_instance_generator``, mode 'mix'): M ops per job, U{1..M} eligible machines
  per op, durations U{1..99}. A ``numpy.random.RandomState`` (or an int seed) follows DANIEL's
  code exactly: :func:`sd2_fjsp_set` with seed 200 rebuilds its published SD2 test files.
* :func:`with_due_dates` -- job due dates (TWK rule) and weights for any instance (defined in
  :mod:`jsched.instances.due_dates`, which needs no JAX).

In-graph generators (Jumanji's ``Generator`` convention, what ``jsched.rl.ppo`` draws each
episode from): a :data:`Generator` maps a ``jax.random`` key to padded instance arrays.
:func:`taillard_generator` draws Taillard-style JSPs, :func:`pool_generator` one instance of a
stacked pool uniformly, :func:`fixed_generator` always the same params.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.due_dates import with_due_dates
from jsched.instances.model import FJSPInstance, JSPInstance
from jsched.kernels.jsp import JSPParams

__all__ = [
    "Generator",
    "fixed_generator",
    "pool_generator",
    "sd1_fjsp",
    "sd1_fjsp_set",
    "sd2_fjsp",
    "sd2_fjsp_set",
    "taillard_generator",
    "taillard_jsp",
    "taillard_jsp_seeded",
    "with_due_dates",
]

SeedLike = int | np.random.Generator


def _check_size(n_jobs: int, n_machines: int) -> None:
    if int(n_jobs) < 1 or int(n_machines) < 1:
        raise JSchedError(f"instance size must be at least 1x1, got {n_jobs}x{n_machines}")


def _check_range(low: int, high: int) -> None:
    if not 0 <= low <= high:
        raise JSchedError(f"duration range must satisfy 0 <= low <= high, got [{low}, {high}]")


# --------------------------------------------------------------------------------------------
# JSP


def taillard_jsp(
    n_jobs: int, n_machines: int, rng: SeedLike, low: int = 1, high: int = 99, name: str | None = None
) -> JSPInstance:
    """Taillard-style JSP: durations U{low..high}, each job a random permutation of the machines.

    Args:
        n_jobs, n_machines: size; each job has ``n_machines`` operations.
        rng: a ``np.random.Generator`` or an int seed for ``np.random.default_rng``.
        low, high: inclusive duration range.
    """
    _check_size(n_jobs, n_machines)
    _check_range(low, high)
    if not isinstance(rng, (int, np.integer, np.random.Generator)):
        raise JSchedError(f"rng must be an int seed or np.random.Generator, got {type(rng).__name__}")
    g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(int(rng))
    dur = g.integers(low, high + 1, size=(n_jobs, n_machines))
    mach = np.argsort(g.random((n_jobs, n_machines)), axis=1)  # one uniform permutation per job
    return JSPInstance(name or f"taillard_{n_jobs}x{n_machines}", mach, dur, n_machines)


def taillard_jsp_seeded(n_jobs: int, n_machines: int, time_seed: int, machine_seed: int, name: str | None = None) -> JSPInstance:
    """Taillard's (1993) generator: reproduces the published ta instances from their seeds.

    Durations: ``unif(time_seed, 1, 99)`` row by row; machines: each job starts as 1..m and
    position j is swapped with ``unif(machine_seed, j, m - 1)`` for j = 0..m-1.
    """
    _check_size(n_jobs, n_machines)
    ts, ms = [int(time_seed)], [int(machine_seed)]
    for s in (ts, ms):
        if not 0 < s[0] < _LCG_M:
            raise JSchedError(f"Taillard seeds must lie in 1..{_LCG_M - 1}, got {s[0]}")
    dur = np.array([[_unif(ts, 1, 99) for _ in range(n_machines)] for _ in range(n_jobs)])
    mach = np.tile(np.arange(n_machines), (n_jobs, 1))
    for j in range(n_jobs):
        for i in range(n_machines):
            k = _unif(ms, i, n_machines - 1)
            mach[j, i], mach[j, k] = mach[j, k], mach[j, i]
    return JSPInstance(name or f"taillard_{n_jobs}x{n_machines}_{time_seed}", mach, dur, n_machines)


_LCG_M, _LCG_A, _LCG_B, _LCG_C = 2147483647, 16807, 127773, 2836


def _unif(seed: list[int], low: int, high: int) -> int:
    """Taillard's unif(): Park-Miller minimal standard LCG (Schrage's method), in place."""
    k = seed[0] // _LCG_B
    seed[0] = _LCG_A * (seed[0] % _LCG_B) - k * _LCG_C
    if seed[0] < 0:
        seed[0] += _LCG_M
    return low + int(seed[0] / _LCG_M * (high - low + 1))


# --------------------------------------------------------------------------------------------
# FJSP


def sd1_fjsp(
    n_jobs: int,
    n_machines: int,
    rng: int | random.Random | np.random.Generator,
    job_lengths: Sequence[int] | None = None,
    name: str | None = None,
) -> FJSPInstance:
    """FJSP SD1 (Song et al. 2023; DANIEL's SD1 training data).

    Args:
        n_jobs, n_machines: size.
        rng: an int seed or ``random.Random`` (draws in the original code's order) or a numpy
            ``Generator`` (same distribution, different stream).
        job_lengths: operations per job; by default U{floor(0.8 M)..floor(1.2 M)} per job (at
            least 1).  DANIEL draws one such vector per training batch and passes it to every
            instance of the batch.
    """
    _check_size(n_jobs, n_machines)
    if isinstance(rng, np.random.Generator):
        r = _NpDraw(rng)
    else:
        r = _PyDraw(random.Random(rng) if isinstance(rng, int) else rng)
    m = int(n_machines)
    if job_lengths is None:
        lo, hi = max(1, int(0.8 * m)), max(1, int(1.2 * m))
        job_lengths = [r.randint(lo, hi) for _ in range(n_jobs)]
    jl = np.asarray(job_lengths, np.int64)
    if jl.shape != (n_jobs,) or (jl < 1).any():
        raise JSchedError(f"job_lengths must hold {n_jobs} counts >= 1, got {list(jl)}")
    n_ops = int(jl.sum())
    n_opt = [r.randint(1, m) for _ in range(n_ops)]
    machines = [sorted(r.sample(m, k)) for k in n_opt]
    means = [r.randint(1, 20) for _ in range(n_ops)]
    dur = np.zeros((n_ops, m), np.int64)
    elig = np.zeros((n_ops, m), bool)
    for o in range(n_ops):
        lo = max(1, round(means[o] * 0.8))
        hi = min(20, round(means[o] * 1.2))
        for k in machines[o]:
            dur[o, k] = r.randint(lo, hi)
            elig[o, k] = True
    return FJSPInstance(name or f"sd1_{n_jobs}x{n_machines}", m, jl, dur, elig)


def sd1_fjsp_set(count: int, n_jobs: int, n_machines: int, seed: int, same_job_lengths: bool = False) -> list[FJSPInstance]:
    """``count`` SD1 instances from one ``random.Random(seed)`` stream.

    ``same_job_lengths=True`` draws one job-length vector first and shares it, as DANIEL's
    training batches do.
    """
    r = random.Random(seed)
    jl = None
    if same_job_lengths:
        lo, hi = max(1, int(0.8 * n_machines)), max(1, int(1.2 * n_machines))
        jl = [r.randint(lo, hi) for _ in range(n_jobs)]
    return [sd1_fjsp(n_jobs, n_machines, r, jl, name=f"sd1_{n_jobs}x{n_machines}_{i + 1:03d}") for i in range(count)]


def sd2_fjsp(
    n_jobs: int,
    n_machines: int,
    rng: int | np.random.RandomState | np.random.Generator,
    low: int = 1,
    high: int = 99,
    ops_per_job: int | None = None,
    flexibility: tuple[int, int] | None = None,
    name: str | None = None,
) -> FJSPInstance:
    """FJSP SD2 (DANIEL, Wang et al. 2023), mode 'mix'.

    Args:
        n_jobs, n_machines: size.
        rng: an int seed or ``np.random.RandomState`` (DANIEL's exact legacy-numpy draws) or a
            numpy ``Generator`` (same distribution, different stream).
        low, high: inclusive duration range (DANIEL: 1..99).
        ops_per_job: operations per job (DANIEL: ``n_machines``).
        flexibility: (min, max) eligible machines per operation (DANIEL 'mix': (1, M); 'nf'
            would be (1, 1)).
    """
    _check_size(n_jobs, n_machines)
    _check_range(low, high)
    if low == 0:
        raise JSchedError("SD2 marks ineligible machines with duration 0, so low must be >= 1")
    m = int(n_machines)
    opj = m if ops_per_job is None else int(ops_per_job)
    fmin, fmax = (1, m) if flexibility is None else flexibility
    if opj < 1 or not 1 <= fmin <= fmax <= m:
        raise JSchedError(f"need ops_per_job >= 1 and 1 <= flexibility min <= max <= {m}, got {opj}, ({fmin}, {fmax})")
    n_ops = n_jobs * opj
    if isinstance(rng, np.random.Generator):
        n_use = rng.integers(fmin, fmax + 1, size=n_ops)
        pt = rng.integers(low, high + 1, size=(n_ops, m))
        choice = rng.choice
    else:
        rs = rng if isinstance(rng, np.random.RandomState) else np.random.RandomState(rng)
        n_use = rs.randint(low=fmin, high=fmax + 1, size=n_ops)
        pt = rs.randint(low=low, high=high + 1, size=(n_ops, m))
        choice = rs.choice
    for row in range(n_ops):
        k = int(n_use[row])
        if k < m:
            pt[row, choice(np.arange(m), m - k, replace=False)] = 0
    return FJSPInstance(name or f"sd2_{n_jobs}x{n_machines}", m, np.full(n_jobs, opj), pt, pt > 0)


def sd2_fjsp_set(count: int, n_jobs: int, n_machines: int, seed: int = 200, **kwargs) -> list[FJSPInstance]:
    """``count`` SD2 instances from one ``RandomState(seed)``: DANIEL's test sets for seed 200."""
    rs = np.random.RandomState(seed)
    return [sd2_fjsp(n_jobs, n_machines, rs, name=f"sd2_{n_jobs}x{n_machines}_{i + 1:03d}", **kwargs) for i in range(count)]


class _PyDraw:
    """Draws through ``random.Random`` exactly as Song et al.'s generator calls it."""

    def __init__(self, r: random.Random):
        if not isinstance(r, random.Random):
            raise JSchedError(f"rng must be an int seed, random.Random or np.random.Generator, got {type(r).__name__}")
        self.r = r

    def randint(self, a: int, b: int) -> int:
        return self.r.randint(a, b)

    def sample(self, m: int, k: int) -> list[int]:
        return [x - 1 for x in self.r.sample(range(1, m + 1), k)]  # 1-based in the original


class _NpDraw:
    def __init__(self, g: np.random.Generator):
        self.g = g

    def randint(self, a: int, b: int) -> int:
        return int(self.g.integers(a, b + 1))

    def sample(self, m: int, k: int) -> list[int]:
        return [int(x) for x in self.g.choice(m, k, replace=False)]


# --------------------------------------------------------------------------------------------
# In-graph generators: key -> padded instance arrays

Generator = Callable[[jax.Array], Any]


def taillard_generator(n_jobs: int, n_machines: int, low: int = 1, high: int = 99) -> Generator:
    """Taillard-style JSPs as ``JSPParams`` (durations U{low..high}, each job a random
    permutation of the machines); jittable and vmappable over keys."""
    _check_size(n_jobs, n_machines)
    _check_range(low, high)

    def generate(key: jax.Array) -> JSPParams:
        k_perm, k_dur = jax.random.split(key)
        keys = jax.random.split(k_perm, n_jobs)
        machines = jax.vmap(lambda k: jax.random.permutation(k, n_machines))(keys).astype(jnp.int32)
        durations = jax.random.randint(k_dur, (n_jobs, n_machines), low, high + 1, jnp.int32)
        return JSPParams(
            machines=machines,
            durations=durations,
            job_len=jnp.full((n_jobs,), n_machines, jnp.int32),
            release=jnp.zeros((n_jobs,), jnp.int32),
            machine_mask=jnp.ones((n_machines,), bool),
        )

    return generate


def pool_generator(pool: Any) -> Generator:
    """One instance of ``pool`` (params stacked on axis 0, e.g. ``stack_jsp_params``), uniformly."""
    leaves = jax.tree.leaves(pool)
    if not leaves or leaves[0].ndim < 1 or leaves[0].shape[0] < 1:
        raise JSchedError("an instance pool needs at least one stacked instance")
    n = leaves[0].shape[0]

    def generate(key: jax.Array):
        i = jax.random.randint(key, (), 0, n)
        return jax.tree.map(lambda a: a[i], pool)

    return generate


def fixed_generator(params: Any) -> Generator:
    """Always ``params`` (e.g. a training set an env draws from itself)."""
    return lambda key: params
