"""The disjunctive graph SLIM encodes, built on the host, padded to static shapes.

Nodes are operations, op id ``j * O + k`` of the padded (J, O) layout; as in the authors' code,
job arcs go one way and each machine's operations form a clique, without self loops. The encoder
takes it as dense blocks rather than an edge list: ``groups`` (each machine's ops), ``pred`` (job
predecessors) and ``slot``, around a dummy node ``J * O`` that padding points to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.arrays import jsp_params
from jsched.instances.model import JSPInstance
from jsched.kernels.jsp import JSPParams


class SlimInstance(NamedTuple):
    """A padded JSP and its disjunctive graph (one instance; stack for a batch)."""

    jsp: JSPParams
    groups: jax.Array  # (M, K) int32, op ids of each machine's clique (J * O on padding)
    pred: jax.Array  # (J * O + 1,) int32, job predecessor of each op (J * O if none)
    slot: jax.Array  # (J * O + 1,) int32, index of each op in groups.ravel() (M * K if none)


def edge_list(inst: JSPInstance, n_ops: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(senders, receivers) of ``inst``'s disjunctive graph, op ids in a layout with ``n_ops`` columns."""
    j, o = inst.machines.shape
    width = n_ops or o
    ids = (np.arange(j)[:, None] * width + np.arange(o)[None, :]).astype(np.int64)
    snd = [ids[:, :-1].ravel()]
    rcv = [ids[:, 1:].ravel()]
    flat_m, flat_id = inst.machines.ravel(), ids.ravel()
    for m in range(inst.n_machines):
        ops = flat_id[flat_m == m]
        if len(ops) < 2:
            continue
        a, b = np.meshgrid(ops, ops, indexing="ij")
        off = a != b
        snd.append(a[off])
        rcv.append(b[off])
    return np.concatenate(snd), np.concatenate(rcv)


def max_machine_load(inst: JSPInstance) -> int:
    """Largest number of operations on one machine (the clique width K)."""
    return int(np.bincount(inst.machines.ravel(), minlength=inst.n_machines).max())


def slim_instance(
    inst: JSPInstance,
    n_jobs: int | None = None,
    n_ops: int | None = None,
    n_machines: int | None = None,
    width: int | None = None,
) -> SlimInstance:
    """Pad ``inst`` to (n_jobs, n_ops, n_machines) with cliques of ``width`` slots."""
    params = jsp_params(inst, n_jobs, n_ops, n_machines)
    nj, no = params.machines.shape
    nm = params.machine_mask.shape[0]
    k = width or max_machine_load(inst)
    if k < max_machine_load(inst):
        raise JSchedError(f"{inst.name}: {max_machine_load(inst)} operations on one machine do not fit in {k} slots")
    dummy = nj * no
    j, o = inst.machines.shape
    ids = np.arange(j)[:, None] * no + np.arange(o)[None, :]
    groups = np.full((nm, k), dummy, np.int32)
    slot = np.full(dummy + 1, nm * k, np.int32)
    flat_m, flat_id = inst.machines.ravel(), ids.ravel()
    for m in range(inst.n_machines):
        ops = flat_id[flat_m == m]
        groups[m, : len(ops)] = ops
        slot[ops] = m * k + np.arange(len(ops))
    pred = np.full(dummy + 1, dummy, np.int32)
    pred[ids[:, 1:].ravel()] = ids[:, :-1].ravel()
    return SlimInstance(params, jnp.asarray(groups), jnp.asarray(pred), jnp.asarray(slot))


def stack_slim_instances(instances: Sequence[JSPInstance]) -> SlimInstance:
    """Pad a list of instances to their common maximum shape and stack them on axis 0."""
    nj = max(i.n_jobs for i in instances)
    no = max(i.n_ops_per_job for i in instances)
    nm = max(i.n_machines for i in instances)
    k = max(max_machine_load(i) for i in instances)
    parts = [slim_instance(i, nj, no, nm, k) for i in instances]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *parts)
