"""The disjunctive graph SLIM encodes, built on the host, padded to static shapes.

Nodes are operations, op id ``j * O + k`` of the padded (J, O) layout. As in the authors' code
(``inout.py`` 54-81): job arcs go one way, ``k -> k + 1``; each machine's operations form a
clique with both directions; no self loops. Edges are (sender, receiver) = (source, target):
a node aggregates messages from its in-edges. Padding edges point from and to the dummy node
``J * O``, which the encoder adds and drops again, so they never touch a real node.
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
from kernels.jsp import JSPParams


class SlimInstance(NamedTuple):
    """A padded JSP and its disjunctive graph (one instance; stack for a batch)."""

    jsp: JSPParams
    senders: jax.Array  # (E,) int32, source op id (J * O on padding)
    receivers: jax.Array  # (E,) int32, target op id (J * O on padding)


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


def n_edges(inst: JSPInstance) -> int:
    counts = np.bincount(inst.machines.ravel(), minlength=inst.n_machines)
    return int(inst.n_jobs * max(inst.n_ops_per_job - 1, 0) + (counts * (counts - 1)).sum())


def slim_instance(
    inst: JSPInstance,
    n_jobs: int | None = None,
    n_ops: int | None = None,
    n_machines: int | None = None,
    n_edge: int | None = None,
) -> SlimInstance:
    """Pad ``inst`` to (n_jobs, n_ops, n_machines) with ``n_edge`` edge slots."""
    params = jsp_params(inst, n_jobs, n_ops, n_machines)
    nj, no = params.machines.shape
    snd, rcv = edge_list(inst, no)
    ne = n_edge or len(snd)
    if ne < len(snd):
        raise JSchedError(f"{inst.name}: {len(snd)} edges do not fit in {ne} slots")
    dummy = nj * no
    s = np.full(ne, dummy, np.int32)
    r = np.full(ne, dummy, np.int32)
    s[: len(snd)] = snd
    r[: len(rcv)] = rcv
    return SlimInstance(params, jnp.asarray(s), jnp.asarray(r))


def stack_slim_instances(instances: Sequence[JSPInstance]) -> SlimInstance:
    """Pad a list of instances to their common maximum shape and stack them on axis 0."""
    nj = max(i.n_jobs for i in instances)
    no = max(i.n_ops_per_job for i in instances)
    nm = max(i.n_machines for i in instances)
    ne = max(n_edges(i) for i in instances)
    parts = [slim_instance(i, nj, no, nm, ne) for i in instances]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *parts)
