"""jsched.graph: disjunctive graphs as jraph.GraphsTuple, checked by running jraph networks on them."""

from __future__ import annotations

import subprocess
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph
import numpy as np
import optax
import pytest

import jsched
from jsched.errors import ScheduleError
from jsched.graph import EDGE_FEATURES, GLOBAL_FEATURES, NODE_FEATURES, disjunctive_graph
from jsched.schedule import Schedule

CONJ, DISJ, ORDER = (EDGE_FEATURES.index(k) for k in ("conjunctive", "disjunctive", "machine_order"))
MACHINE, WEIGHT = EDGE_FEATURES.index("machine"), EDGE_FEATURES.index("weight")


def _kinds(g):
    return g.edges[:, [CONJ, DISJ, ORDER]].sum(axis=0).astype(int).tolist()


def test_import_jsched_stays_light_and_graph_is_an_attribute():
    code = (
        "import sys, jsched; light = 'jax' not in sys.modules and 'jraph' not in sys.modules; "
        "g = jsched.graph.disjunctive_graph(jsched.load('ft06')); print(light, int(g.n_node[0]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "36"]


def test_ft06_unscheduled():
    inst = jsched.load("ft06")
    g = disjunctive_graph(inst)
    assert isinstance(g, jraph.GraphsTuple)
    assert g.nodes.shape == (36, len(NODE_FEATURES)) and g.edges.shape == (210, len(EDGE_FEATURES))
    assert g.n_node.tolist() == [36] and g.n_edge.tolist() == [210] and g.globals.tolist() == [[6, 6, 0]]
    assert _kinds(g) == [30, 180, 0]  # 6 jobs x 5 job arcs; 6 machines x 6 x 5 ordered pairs
    col = {k: g.nodes[:, i] for i, k in enumerate(NODE_FEATURES)}
    assert col["min_duration"].tolist() == inst.durations.ravel().tolist() == col["max_duration"].tolist()
    assert (col["n_eligible"] == 1).all() and col["position"].tolist() == list(range(6)) * 6
    assert col["remaining"].tolist() == [5, 4, 3, 2, 1, 0] * 6 and not col["scheduled"].any()
    s, r, e = g.senders, g.receivers, g.edges
    conj = e[:, CONJ] == 1
    assert (r[conj] == s[conj] + 1).all() and (e[conj, MACHINE] == -1).all()
    disj = e[:, DISJ] == 1
    mach = inst.machines.ravel()
    assert (mach[s[disj]] == e[disj, MACHINE]).all() and (mach[r[disj]] == e[disj, MACHINE]).all()
    assert (s[disj] // 6 != r[disj] // 6).all()  # different jobs
    assert set(zip(s[disj].tolist(), r[disj].tolist())) == set(zip(r[disj].tolist(), s[disj].tolist()))
    assert (e[disj, WEIGHT] == inst.durations.ravel()[s[disj]]).all()


def _heaviest_path_starts(g) -> jnp.ndarray:
    """Earliest starts by message passing: a jraph.GraphNetwork relaxing est_v = max over arcs
    u -> v of est_u + weight, iterated n_node times (the arcs of a complete schedule form a DAG)."""
    net = jraph.GraphNetwork(
        update_edge_fn=lambda e, sent, received, glob: sent + e,
        update_node_fn=lambda nodes, sent, received, glob: jnp.maximum(nodes, received),
        aggregate_edges_for_nodes_fn=jraph.segment_max,
    )
    release = jnp.asarray(g.nodes[:, NODE_FEATURES.index("release")])[:, None]
    gg = g._replace(nodes=release, edges=jnp.asarray(g.edges[:, WEIGHT : WEIGHT + 1]), globals=None)
    out = jax.lax.fori_loop(0, int(g.n_node[0]), lambda _, x: net(x)._replace(edges=gg.edges), gg)
    return out.nodes[:, 0]


@pytest.mark.parametrize("name", ["ft06", "mk01"])
def test_complete_schedule_orients_every_disjunction(name):
    r = jsched.solve(name, method="mwkr")
    g = disjunctive_graph(name, r)
    used = np.unique(r.schedule.machine).size
    n = len(r.schedule)
    assert _kinds(g)[1:] == [0, n - used]  # no disjunctions left; one chain per used machine
    assert g.globals[0, GLOBAL_FEATURES.index("makespan")] == r.makespan
    col = {k: g.nodes[:, i] for i, k in enumerate(NODE_FEATURES)}
    assert col["scheduled"].all() and col["start"].tolist() == r.schedule.start.tolist()
    est = np.asarray(_heaviest_path_starts(g))
    # The dispatching rule's schedule is semi-active: its starts are the earliest the arcs allow.
    assert est.tolist() == r.schedule.start.tolist()
    assert (est + (col["end"] - col["start"])).max() == r.makespan


def test_partial_schedule_keeps_disjunctions_of_unplaced_operations():
    inst = jsched.load("mk01")
    full = jsched.solve(inst, method="mwkr").schedule
    keep = full.start < full.makespan // 2
    part = Schedule(full.job[keep], full.op[keep], full.machine[keep], full.start[keep], full.end[keep])
    g = disjunctive_graph(inst, part)
    placed = g.nodes[:, NODE_FEATURES.index("scheduled")] == 1
    assert placed.sum() == keep.sum() and 0 < keep.sum() < inst.n_ops
    s, r, e = g.senders, g.receivers, g.edges
    disj, order = e[:, DISJ] == 1, e[:, ORDER] == 1
    assert not (placed[s[disj]] & placed[r[disj]]).any() and disj.any()
    assert placed[s[order]].all() and placed[r[order]].all()
    assert order.sum() == keep.sum() - np.unique(part.machine).size
    # A placed operation keeps disjunctions only on its own machine; an unplaced one on each eligible.
    row = inst.job_start[part.job] + part.op
    mach_of = dict(zip(row.tolist(), part.machine.tolist()))
    for a, k in zip(s[disj].tolist(), e[disj, MACHINE].astype(int).tolist()):
        assert k == mach_of[a] if a in mach_of else inst.eligible[a, k]
    assert _kinds(disjunctive_graph(inst, Schedule([], [], [], [], [])))[:2] == _kinds(disjunctive_graph(inst))[:2]


def test_bad_schedules_are_refused():
    inst = jsched.load("ft06")
    with pytest.raises(ScheduleError, match="lacks"):
        disjunctive_graph(inst, Schedule([6], [0], [2], [0], [1]))
    with pytest.raises(ScheduleError, match="cannot use"):
        disjunctive_graph(inst, Schedule([0], [0], [0], [0], [1]))  # (0, 0) runs on machine 2
    with pytest.raises(ScheduleError, match="twice"):
        disjunctive_graph(inst, Schedule([0, 0], [0, 0], [2, 2], [0, 5], [1, 6]))
    with pytest.raises(ScheduleError, match="Schedule"):
        disjunctive_graph(inst, {"job": [0]})


class _GNN(nn.Module):
    """Two rounds of a jraph.GraphNetwork with flax MLPs, then a per-node scalar."""

    @nn.compact
    def __call__(self, g: jraph.GraphsTuple) -> jnp.ndarray:
        g = g._replace(nodes=nn.Dense(16)(g.nodes), edges=nn.Dense(16)(g.edges), globals=nn.Dense(16)(g.globals))
        for _ in range(2):
            net = jraph.GraphNetwork(
                update_edge_fn=jraph.concatenated_args(lambda x: nn.relu(nn.Dense(16)(x))),
                update_node_fn=jraph.concatenated_args(lambda x: nn.relu(nn.Dense(16)(x))),
            )
            g = net(g)
        return nn.Dense(1)(g.nodes)[:, 0]


def test_a_jraph_gnn_trains_on_a_padded_batch_of_jsp_and_fjsp_graphs():
    """ft06 (unscheduled) and mk01 (scheduled) in one padded batch: a flax/jraph GNN learns to
    predict each operation's number of incoming disjunctive arcs (read from the edges, not the nodes)."""
    mk = jsched.load("mk01")
    graphs = [disjunctive_graph("ft06"), disjunctive_graph(mk, jsched.solve(mk, method="mwkr"))]
    batch = jraph.batch(graphs)
    n_node, n_edge = int(batch.n_node.sum()) + 1, int(batch.n_edge.sum())
    padded = jraph.pad_with_graphs(batch, n_node, n_edge, n_graph=3)
    mask = jraph.get_node_padding_mask(padded)
    scale = np.maximum(padded.nodes.max(axis=0), 1)
    padded = padded._replace(nodes=padded.nodes / scale, edges=padded.edges / np.maximum(np.abs(padded.edges).max(axis=0), 1),
                             globals=padded.globals / np.maximum(padded.globals.max(axis=0), 1))  # fmt: skip
    disj = padded.edges[:, DISJ] == 1
    target = np.bincount(padded.receivers[disj], minlength=n_node).astype(np.float32)
    target /= target.max()
    model = _GNN()
    params = model.init(jax.random.key(0), padded)
    opt = optax.adam(1e-2)

    def loss_fn(p):
        err = (model.apply(p, padded) - target) ** 2
        return jnp.sum(jnp.where(mask, err, 0.0)) / mask.sum()

    @jax.jit
    def step(p, s):
        loss, grads = jax.value_and_grad(loss_fn)(p)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    state = opt.init(params)
    losses = []
    for _ in range(60):
        params, state, loss = step(params, state)
        losses.append(float(loss))
    var = float(np.var(target[np.asarray(mask)]))  # the loss of the best constant prediction
    assert np.isfinite(losses).all() and losses[-1] < 0.05 * var
