"""Conversion of numpy instances to padded device arrays for the kernels."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.model import FJSPInstance, JSPInstance, as_fjsp
from jsched.kernels.fjsp import FJSPParams
from jsched.kernels.jsp import JSPParams


def jsp_params(
    inst: JSPInstance, n_jobs: int | None = None, n_ops: int | None = None, n_machines: int | None = None
) -> JSPParams:
    """Pad a JSP instance to (n_jobs, n_ops, n_machines); padding never changes a result."""
    J, O = inst.machines.shape
    nj, no, nm = n_jobs or J, n_ops or O, n_machines or inst.n_machines
    if nj < J or no < O or nm < inst.n_machines:
        raise JSchedError(f"{inst.name}: cannot pad {J}x{O} ({inst.n_machines} machines) to {nj}x{no} ({nm})")
    mach = np.zeros((nj, no), np.int32)
    dur = np.zeros((nj, no), np.int32)
    mach[:J, :O] = inst.machines
    dur[:J, :O] = inst.durations
    job_len = np.zeros(nj, np.int32)
    job_len[:J] = O
    rel = np.zeros(nj, np.int32)
    rel[:J] = inst.release
    return JSPParams(
        machines=jnp.asarray(mach),
        durations=jnp.asarray(dur),
        job_len=jnp.asarray(job_len),
        release=jnp.asarray(rel),
        machine_mask=jnp.asarray(np.arange(nm) < inst.n_machines),
        **_due_dates(inst, nj),
    )


def _due_dates(inst: FJSPInstance | JSPInstance, n_jobs: int) -> dict:
    """Padded ``due``/``weight`` params of an instance with job due dates (else none)."""
    if inst.job_due is None:
        return {}
    due = np.zeros(n_jobs, np.int32)
    weight = np.ones(n_jobs, np.int32)
    due[: inst.n_jobs] = inst.job_due
    if inst.job_weight is not None:
        weight[: inst.n_jobs] = inst.job_weight
    return {"due": jnp.asarray(due), "weight": jnp.asarray(weight)}


def _same_due_dates(instances) -> None:
    if len({i.job_due is None for i in instances}) > 1:
        raise JSchedError("cannot batch instances with and without job due dates")


def stack_jsp_params(instances: Sequence[JSPInstance]) -> JSPParams:
    """Pad a list of JSP instances to their common maximum shape and stack on axis 0."""
    nj = max(i.n_jobs for i in instances)
    no = max(i.n_ops_per_job for i in instances)
    nm = max(i.n_machines for i in instances)
    _same_due_dates(instances)
    ps = [jsp_params(i, nj, no, nm) for i in instances]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *ps)


def fjsp_params(
    inst: FJSPInstance | JSPInstance,
    n_jobs: int | None = None,
    n_ops: int | None = None,
    n_machines: int | None = None,
) -> FJSPParams:
    """Pad an FJSP instance (or the FJSP view of a JSP) to (n_jobs, n_ops, n_machines).

    The flat operation rows become a rectangular (J, O, M) array, O the longest job.
    """
    f = as_fjsp(inst)
    J, M = f.n_jobs, f.n_machines
    O = int(f.job_lengths.max(initial=0))
    nj, no, nm = n_jobs or J, n_ops or O, n_machines or M
    if nj < J or no < O or nm < M:
        raise JSchedError(f"{f.name}: cannot pad {J} jobs x {O} ops ({M} machines) to {nj}x{no} ({nm})")
    dur = np.zeros((nj, no, nm), np.int32)
    elig = np.zeros((nj, no, nm), bool)
    rel = np.zeros((nj, no), np.int32)
    dur[f.op_job, f.op_index, :M] = f.durations
    elig[f.op_job, f.op_index, :M] = f.eligible
    rel[f.op_job, f.op_index] = f.release
    job_len = np.zeros(nj, np.int32)
    job_len[:J] = f.job_lengths
    return FJSPParams(
        durations=jnp.asarray(dur),
        eligible=jnp.asarray(elig),
        job_len=jnp.asarray(job_len),
        release=jnp.asarray(rel),
        machine_mask=jnp.asarray(np.arange(nm) < M),
        **_due_dates(f, nj),
    )


def stack_fjsp_params(instances: Sequence[FJSPInstance | JSPInstance]) -> FJSPParams:
    """Pad a list of FJSP (or JSP) instances to their common maximum shape and stack on axis 0."""
    fs = [as_fjsp(i) for i in instances]
    _same_due_dates(fs)
    nj = max(f.n_jobs for f in fs)
    no = max(int(f.job_lengths.max(initial=0)) for f in fs)
    nm = max(f.n_machines for f in fs)
    ps = [fjsp_params(f, nj, no, nm) for f in fs]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *ps)
