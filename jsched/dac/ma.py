"""Memetic algorithm driver for CAS-PFSP: padded instance arrays, parameter sets, batched runs.

The generation step is ``jsched.kernels.pfsp``; this module pads instances, holds the published
parameter sets, runs the jitted MA over seeds and instances at once, and turns the best
individual into a validated schedule with float64 emissions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.pfsp import PFSPInstance
from jsched.kernels import pfsp as K
from jsched.schedule import Schedule, validate

POP_SIZE = 250  # rho
GENERATIONS = 100  # gamma
LS_STEPS = 2  # adjacent-swap attempts per child and generation (not published; README, DAC)
INIT_PAUSE_PROB = 0.2  # share of non-zero pause keys in random individuals (not published; README, DAC)

# Table 3 of the DAC paper: default and Optuna-tuned static parameters (tuned for the authors' MA).
DEFAULT = dict(xi=0.85, chi_j=0.5, chi_p=0.5, pi_j=0.05, pi_p=0.05, sigma_j=0.2, sigma_p=0.2)
TABLE3 = dict(xi=0.885, chi_j=0.418, chi_p=0.133, pi_j=0.017, pi_p=0.014, sigma_j=0.012, sigma_p=0.233)
# Table 1: the ranges the DAC action is rescaled to (also the static tuner's search space).
RANGES = dict(
    xi=(0.5, 0.9), chi_j=(0.1, 0.5), chi_p=(0.05, 0.5), pi_j=(0.01, 0.2),
    pi_p=(0.01, 0.11), sigma_j=(0.008, 0.2), sigma_p=(0.15, 0.25),
)
# jsched's MA tuned on the 12 training instances by ``jsched.dac.tune`` (README, DAC: the budget).
TUNED_ASSET = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets", "dac", "tuned_params.json")
PRESETS = ("default", "table3", "tuned")


def make_config(values: dict) -> K.MAConfig:
    missing = set(K.PARAM_NAMES) - set(values)
    if missing:
        raise JSchedError(f"MA parameters missing: {', '.join(sorted(missing))}")
    return K.MAConfig(*[jnp.float32(values[k]) for k in K.PARAM_NAMES])


def load_params_spec(spec: str) -> dict:
    """``default``, ``table3``, ``tuned`` or a JSON file with the seven parameters (e.g. the tuner's output)."""
    if spec == "default":
        return dict(DEFAULT)
    if spec == "table3":
        return dict(TABLE3)
    if spec == "tuned":
        spec = TUNED_ASSET
    elif not os.path.exists(spec):
        raise JSchedError(f"params: {spec!r} is neither one of {', '.join(PRESETS)} nor an existing JSON file")
    try:
        with open(spec) as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise JSchedError(f"{spec}: cannot read MA parameters: {e}") from None
    data = data.get("params", data)
    out = {}
    for k in K.PARAM_NAMES:
        if k not in data:
            raise JSchedError(f"{spec}: field {k!r} missing (need {', '.join(K.PARAM_NAMES)})")
        try:
            out[k] = float(data[k])
        except (TypeError, ValueError):
            raise JSchedError(f"{spec}: field {k!r} is {data[k]!r}, not a number") from None
        if not 0.0 <= out[k] <= 1.0:
            raise JSchedError(f"{spec}: field {k!r} = {out[k]} outside [0, 1]")
    return out


def pfsp_params(inst: PFSPInstance, n_jobs: int | None = None, horizon: int | None = None,
                max_len: int | None = None, n_machines: int | None = None) -> K.PFSPParams:
    """Pad an instance to ``n_jobs`` jobs, ``horizon`` slots, ``max_len`` slots per operation
    and ``n_machines`` machines.

    Padded jobs sort last and padded machines come after the real ones with zero-length
    operations, so neither changes a real operation's start time or the emissions.
    """
    n, m = inst.durations.shape
    nj, hh, dd = n_jobs or n, horizon or inst.horizon, max_len or inst.power.shape[2]
    nm = n_machines or m
    if nj < n or hh < inst.horizon or dd < inst.power.shape[2] or nm < m:
        raise JSchedError(f"{inst.name}: cannot pad {n}x{m} / {inst.horizon} slots to {nj}x{nm} / {hh}")
    dur = np.zeros((nj, nm), np.int32)
    dur[:n, :m] = inst.durations
    pw = np.zeros((nj, nm, dd), np.float32)
    pw[:n, :m, : inst.power.shape[2]] = inst.power
    gen = np.zeros(hh, np.float32)
    gen[: inst.horizon] = inst.generation
    ci = np.zeros(hh, np.float32)
    ci[: inst.horizon] = inst.carbon
    penalty = 0.25 * float(inst.carbon.max()) * float(inst.power.sum()) + 1.0
    return K.PFSPParams(
        jnp.asarray(dur), jnp.asarray(pw), jnp.asarray(gen), jnp.asarray(ci),
        jnp.int32(inst.horizon), jnp.asarray(np.arange(nj) < n), jnp.float32(penalty),
    )


def stack_params(instances: Sequence[PFSPInstance]) -> K.PFSPParams:
    """Pad instances to common shapes (jobs, machines, horizon, lengths); stack on axis 0."""
    nm = max(i.n_machines for i in instances)
    nj = max(i.n_jobs for i in instances)
    hh = max(i.horizon for i in instances)
    dd = max(i.power.shape[2] for i in instances)
    ps = [pfsp_params(i, nj, hh, dd, nm) for i in instances]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *ps)


@partial(jax.jit, static_argnames=("pop_size", "n_gen", "ls_steps"))
def run_batch(keys, params, cfg, pop_size: int = POP_SIZE, n_gen: int = GENERATIONS, ls_steps: int = LS_STEPS):
    """Independent MA runs: ``keys`` (I, R, 2), ``params`` stacked over I instances.

    Returns the best individual's (job keys, pause keys, fitness) per (instance, run) and the
    per-generation curves GenStats of (I, R, n_gen + 1).
    """

    def one(key, p):
        pop, curve = K.run(key, p, cfg, pop_size, n_gen, ls_steps, INIT_PAUSE_PROB)
        i = jnp.argmin(pop.fitness)
        return (pop.job_keys[i], pop.pause_keys[i], pop.fitness[i]), curve

    return jax.vmap(jax.vmap(one, in_axes=(0, None)), in_axes=(0, 0))(keys, params)


@dataclass
class MAResult:
    """Best schedule of one run, validated, with float64 emissions from the numpy model."""

    emissions: float
    sequence: np.ndarray  # (N,) job order
    start: np.ndarray  # (N, M) start slots
    schedule: Schedule
    curve_best: np.ndarray  # (n_gen + 1,) best (penalised) fitness per generation
    curve_mean: np.ndarray


_decode = jax.jit(K.decode)


def finish(inst: PFSPInstance, params: K.PFSPParams, job_keys, pause_keys, curve_best=None, curve_mean=None) -> MAResult:
    """Decode keys for one instance (unpadded ``params``), validate and re-evaluate in float64."""
    dec = _decode(params, job_keys, pause_keys)
    seq = np.asarray(dec.sequence)[: inst.n_jobs]
    start = np.asarray(dec.start)[: inst.n_jobs]
    inst.check_schedule(seq, start)
    sched = validate(inst, Schedule.from_arrays(inst, start))
    return MAResult(inst.emissions(start), seq, start, sched,
                    np.asarray(curve_best) if curve_best is not None else np.zeros(0),
                    np.asarray(curve_mean) if curve_mean is not None else np.zeros(0))


def solve_ma(inst: PFSPInstance, values: dict, key: jax.Array, n_gen: int = GENERATIONS,
             pop_size: int = POP_SIZE, ls_steps: int = LS_STEPS) -> MAResult:
    """One static-parameter MA run on one instance (``key``: a ``jax.random.key``)."""
    p = pfsp_params(inst)
    keys = jax.random.split(key, 1)[None]
    stacked = jax.tree.map(lambda x: x[None], p)
    (jk, pk, _), curve = run_batch(keys, stacked, make_config(values), pop_size, n_gen, ls_steps)
    return finish(inst, p, jk[0, 0], pk[0, 0], curve.best[0, 0], curve.mean[0, 0])
