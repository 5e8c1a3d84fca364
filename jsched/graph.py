"""Disjunctive graphs of shop-scheduling instances and schedules, as ``jraph.GraphsTuple``.

The disjunctive graph (Roy & Sussmann 1964) is the usual input of graph neural scheduling
policies: one node per operation, *conjunctive* arcs along each job, *disjunctive* arcs between
operations that may compete for a machine. A schedule orients the disjunctions: the operations it
places on a machine form a chain in start order (*machine-order* arcs), and for a complete,
semi-active schedule the heaviest path (node weight = processing time) is the makespan.

``disjunctive_graph(instance)`` gives the unscheduled graph; ``disjunctive_graph(instance,
schedule)`` the graph of a complete or partial schedule (a :class:`jsched.Schedule` holding any
subset of the operations, or a :class:`jsched.Result`): scheduled operations are chained per
machine, and every pair with an unscheduled operation keeps its disjunctive arcs (on each machine
both may use). The feature widths do not depend on the instance's size, so graphs of different
instances (JSP and FJSP alike) batch with ``jraph.batch`` and one GNN runs over all of them.
Arrays are numpy (``jraph.batch``/``jraph.pad_with_graphs`` work on them; jitted functions take
them as they are).
"""

from __future__ import annotations

import jraph
import numpy as np

from jsched.errors import ScheduleError
from jsched.instances.model import as_fjsp
from jsched.schedule import Schedule

__all__ = ["EDGE_FEATURES", "EDGE_TYPES", "GLOBAL_FEATURES", "NODE_FEATURES", "disjunctive_graph"]

NODE_FEATURES = (
    "min_duration",  # over the eligible machines (the duration, for a JSP)
    "mean_duration",
    "max_duration",
    "n_eligible",  # eligible machines (1 for a JSP)
    "position",  # index of the operation in its job
    "remaining",  # operations after it in its job
    "release",  # earliest start
    "scheduled",  # 1 when the schedule places it, else 0
    "start",  # its start in the schedule (0 when unscheduled)
    "end",  # its end in the schedule (0 when unscheduled)
)
EDGE_TYPES = ("conjunctive", "disjunctive", "machine_order")
EDGE_FEATURES = (
    *EDGE_TYPES,  # one-hot arc type
    "machine",  # the machine the arc is about (-1 for conjunctive arcs)
    "weight",  # the sender's processing time (on that machine; conjunctive: scheduled or shortest)
)
GLOBAL_FEATURES = ("n_jobs", "n_machines", "makespan")  # makespan: latest end in the schedule, or 0


def disjunctive_graph(instance, schedule=None) -> jraph.GraphsTuple:
    """The disjunctive graph of ``instance``, oriented by ``schedule`` where it places operations.

    Args:
        instance: a JSP/FJSP instance (a PFSP through its job-shop view), or a benchmark name or
            file path (as :func:`jsched.load` takes).
        schedule: None, a :class:`~jsched.schedule.Schedule` of some or all of the operations,
            or a :class:`~jsched.result.Result`.

    Returns:
        One graph: ``nodes`` (N, len(NODE_FEATURES)) float32 in flat operation order (job by
        job, the order of ``Schedule`` and of ``FJSPInstance`` rows), ``edges`` (E,
        len(EDGE_FEATURES)) float32, ``senders``/``receivers`` (E,) int32 (conjunctive, then
        disjunctive, then machine-order arcs), ``n_node``/``n_edge`` (1,) int32, ``globals``
        (1, len(GLOBAL_FEATURES)) float32.

    Raises:
        ScheduleError: a scheduled operation that the instance lacks, placed twice, or on a
            machine it cannot use.
    """
    if isinstance(instance, str) or hasattr(instance, "__fspath__"):
        from jsched.api import load

        instance = load(instance)
    f = as_fjsp(instance)
    n, m = f.n_ops, f.n_machines
    machine, start, end = _placed(f, getattr(schedule, "schedule", schedule))
    placed = machine >= 0
    dur = np.where(f.eligible, f.durations, 0).astype(np.float64)
    n_elig = f.eligible.sum(axis=1)
    dmin = np.where(f.eligible, f.durations, np.iinfo(np.int64).max).min(axis=1, initial=np.iinfo(np.int64).max)
    dmin = np.where(n_elig > 0, dmin, 0)
    position = f.op_index
    remaining = f.job_lengths[f.op_job] - 1 - position
    nodes = np.stack(
        [dmin, dur.sum(axis=1) / np.maximum(n_elig, 1), dur.max(axis=1, initial=0), n_elig, position, remaining,
         f.release, placed, np.where(placed, start, 0), np.where(placed, end, 0)],
        axis=1,
    ).astype(np.float32)  # fmt: skip
    own = np.where(placed, end - start, dmin)  # processing time: as scheduled, else the shortest

    # Conjunctive arcs: each operation to the next of its job.
    conj = np.flatnonzero(remaining > 0)
    parts = [(conj, conj + 1, 0, np.full(conj.size, -1), own[conj])]
    # Disjunctive arcs: per machine, both directions between operations of different jobs that
    # may both use it, unless both are already placed (then their machine order says it).
    may_use = f.eligible & ~placed[:, None]
    may_use[np.flatnonzero(placed), machine[placed]] = True
    for k in range(m):
        ops = np.flatnonzero(may_use[:, k])
        a, b = np.repeat(ops, ops.size), np.tile(ops, ops.size)
        keep = (f.op_job[a] != f.op_job[b]) & ~(placed[a] & placed[b])
        a, b = a[keep], b[keep]
        parts.append((a, b, 1, np.full(a.size, k), f.durations[a, k]))
    # Machine-order arcs: the placed operations of each machine, chained by start (then end).
    ops = np.flatnonzero(placed)
    ops = ops[np.lexsort((end[ops], start[ops], machine[ops]))]
    same = machine[ops[:-1]] == machine[ops[1:]]
    a, b = ops[:-1][same], ops[1:][same]
    parts.append((a, b, 2, machine[a], end[a] - start[a]))

    senders = np.concatenate([p[0] for p in parts]).astype(np.int32)
    receivers = np.concatenate([p[1] for p in parts]).astype(np.int32)
    kind = np.concatenate([np.full(p[0].size, p[2]) for p in parts])
    edges = np.concatenate(
        [np.eye(len(EDGE_TYPES), dtype=np.float32)[kind],
         np.concatenate([p[3] for p in parts]).astype(np.float32)[:, None],
         np.concatenate([p[4] for p in parts]).astype(np.float32)[:, None]],
        axis=1,
    )  # fmt: skip
    makespan = float(end[placed].max(initial=0))
    return jraph.GraphsTuple(
        nodes=nodes,
        edges=edges,
        senders=senders,
        receivers=receivers,
        n_node=np.array([n], np.int32),
        n_edge=np.array([senders.size], np.int32),
        globals=np.array([[f.n_jobs, m, makespan]], np.float32),
    )


def _placed(f, schedule: Schedule | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(machine, start, end) per flat operation; machine -1 where the schedule does not place it."""
    n = f.n_ops
    machine, start, end = np.full(n, -1, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    if schedule is None:
        return machine, start, end
    if not isinstance(schedule, Schedule):
        raise ScheduleError(f"expected a jsched Schedule or Result, got {type(schedule).__name__}")
    job, op = schedule.job, schedule.op
    bad = (job < 0) | (job >= f.n_jobs)
    bad[~bad] = op[~bad] >= f.job_lengths[job[~bad]]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScheduleError(f"schedule has operation (job {int(job[i])}, op {int(op[i])}), which {f.name!r} lacks")
    row = f.job_start[job] + op
    if np.unique(row).size != row.size:
        dup = int(np.flatnonzero(np.bincount(row) > 1)[0])
        raise ScheduleError(f"schedule places operation (job {int(f.op_job[dup])}, op {int(f.op_index[dup])}) twice")
    mach = schedule.machine
    ok = (mach >= 0) & (mach < f.n_machines)
    ok[ok] = f.eligible[row[ok], mach[ok]]
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ScheduleError(
            f"operation (job {int(job[i])}, op {int(op[i])}) is on machine {int(mach[i])}, which it cannot use"
        )
    machine[row], start[row], end[row] = mach, schedule.start, schedule.end
    return machine, start, end
