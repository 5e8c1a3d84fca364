"""job-shop-lib's JSON: instances (``JobShopInstance.to_dict``) and schedules (``Schedule.to_dict``).

Instance::

    {"name": "ft06", "metadata": {...},
     "duration_matrix": [[1, 3, ...], ...],          # per job, per operation
     "machines_matrix": [[2, 0, ...], ...],          # 0-based; [[[0, 1], [2]], ...] when flexible
     "release_dates_matrix": [[0, ...], ...],        # optional, per operation
     "due_dates_matrix": [[12, ...], ...],           # optional, per operation (null = none)
     "deadlines_matrix": [[...], ...]}               # optional; jsched has no hard deadlines

Schedule: ``{"instance": <instance>, "job_sequences": [[job, ...] per machine], "metadata": {}}``;
job-shop-lib rebuilds the earliest start times from the machine sequences, so what it loads is the
semi-active schedule of those sequences (the same makespan for every schedule a jsched method
reports, never a larger one).

For a flexible instance the sequences do not say which machine runs an operation: job-shop-lib's
loader gives it to the first machine whose sequence reaches it, so a schedule whose machine
choices differ from that replay cannot be exported (JSchedError).

Mapping: a non-flexible rectangular instance with no due dates, whose later operations are
released no later than their job's first one, is a jsched JSP (the first operation's release is
the job's release); anything else is an FJSP with per-operation releases and due dates.
job-shop-lib keeps one duration per operation, so an FJSP whose durations depend on the machine
cannot be written (PyJobShop can hold it: :mod:`jsched.interop.pyjobshop`).
"""

from __future__ import annotations

import json
import os
from collections import deque
from typing import Any

import numpy as np

from jsched.atomic import write_text_atomic
from jsched.errors import InstanceFormatError, JSchedError, ScheduleError
from jsched.instances.model import FJSPInstance, Instance, JSPInstance, as_fjsp
from jsched.schedule import Schedule

__all__ = [
    "instance_from_jobshoplib",
    "instance_to_jobshoplib",
    "is_jobshoplib_instance",
    "is_jobshoplib_schedule",
    "schedule_from_jobshoplib",
    "schedule_to_jobshoplib",
    "write_jobshoplib",
]


def is_jobshoplib_instance(data: Any) -> bool:
    """True for a decoded job-shop-lib instance dict (no jsched ``format`` tag, the two matrices)."""
    return isinstance(data, dict) and "format" not in data and "duration_matrix" in data and "machines_matrix" in data


def is_jobshoplib_schedule(data: Any) -> bool:
    return isinstance(data, dict) and "job_sequences" in data and is_jobshoplib_instance(data.get("instance"))


# --------------------------------------------------------------------------------------------
# Reading


def _rows(data: dict, key: str, shape: list[int] | None, path: str) -> list[list] | None:
    """A per-job, per-operation matrix (None when absent), checked against ``shape``."""
    rows = data.get(key)
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise InstanceFormatError(f"field {key}: expected a list of lists (one per job)", path)
    if shape is not None and [len(r) for r in rows] != shape:
        raise InstanceFormatError(f"field {key}: shape differs from duration_matrix", path)
    return rows


def _int(v: Any, field: str, path: str, allow_none: bool = False) -> int | None:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise InstanceFormatError(f"field {field}: expected an integer >= 0, got {str(v)[:40]!r}", path)
    return v


def instance_from_jobshoplib(data: dict, path: str = "<dict>", name: str | None = None) -> Instance:
    """A jsched instance from a decoded job-shop-lib instance dict (see the module doc)."""
    if not is_jobshoplib_instance(data):
        raise InstanceFormatError("not a job-shop-lib instance: needs 'duration_matrix' and 'machines_matrix'", path)
    dur = _rows(data, "duration_matrix", None, path)
    if not dur or not all(dur):
        raise InstanceFormatError("field duration_matrix: needs at least one job, each with an operation", path)
    shape = [len(r) for r in dur]
    mach = _rows(data, "machines_matrix", shape, path)
    deadlines = _rows(data, "deadlines_matrix", shape, path)
    if deadlines is not None and any(v is not None for row in deadlines for v in row):
        raise InstanceFormatError("field deadlines_matrix: hard deadlines are not supported by jsched", path)
    release = _rows(data, "release_dates_matrix", shape, path) or [[0] * k for k in shape]
    due = _rows(data, "due_dates_matrix", shape, path)
    if due is not None:
        given = {v is not None for row in due for v in row}
        if given == {True, False}:
            raise InstanceFormatError("field due_dates_matrix: give a due date on every operation or on none", path)
        due = due if True in given else None
    ops = []  # (job, machines, duration, release, due)
    for j, row in enumerate(dur):
        for i, d in enumerate(row):
            f = f"[{j}][{i}]"
            ms = mach[j][i]
            ms = [ms] if not isinstance(ms, list) else ms
            if not ms:
                raise InstanceFormatError(f"field machines_matrix{f}: no machine", path)
            ms = [_int(m, f"machines_matrix{f}", path) for m in ms]
            if len(set(ms)) != len(ms):
                raise InstanceFormatError(f"field machines_matrix{f}: machine listed twice", path)
            ops.append((j, ms, _int(d, f"duration_matrix{f}", path), _int(release[j][i], f"release_dates_matrix{f}", path),
                        None if due is None else _int(due[j][i], f"due_dates_matrix{f}", path)))  # fmt: skip
    nm = name if name is not None else data.get("name", "instance")
    if not isinstance(nm, str) or not nm.isprintable():
        raise InstanceFormatError("field name: must be a one-line printable string", path)
    n_machines = 1 + max(m for op in ops for m in op[1])
    try:
        if len(set(shape)) == 1 and due is None and all(len(op[1]) == 1 for op in ops) and all(
            max(r[1:], default=0) <= r[0] for r in release
        ):
            n = len(shape)
            return JSPInstance(nm, np.reshape([op[1][0] for op in ops], (n, -1)), np.reshape([op[2] for op in ops], (n, -1)),
                               n_machines, release=[r[0] for r in release])  # fmt: skip
        d = np.zeros((len(ops), n_machines), np.int64)
        e = np.zeros((len(ops), n_machines), bool)
        for r, op in enumerate(ops):
            d[r, op[1]] = op[2]
            e[r, op[1]] = True
        due_arr = None if due is None else [op[4] for op in ops]
        return FJSPInstance(nm, n_machines, np.array(shape), d, e, [op[3] for op in ops], due_arr)
    except InstanceFormatError as err:
        raise InstanceFormatError(str(err), path) from None


def schedule_from_jobshoplib(data: dict, path: str = "<dict>") -> tuple[Instance, Schedule]:
    """The instance and the semi-active schedule of a job-shop-lib schedule dict (its machine
    sequences, dispatched as job-shop-lib does: each operation at the earliest time its machine,
    its job and its release allow). Sequences that deadlock raise ScheduleError."""
    if not is_jobshoplib_schedule(data):
        raise JSchedError(f"{path}: not a job-shop-lib schedule: needs 'instance' and 'job_sequences'")
    inst = instance_from_jobshoplib(data["instance"], path)
    f = as_fjsp(inst)
    seqs = data["job_sequences"]
    if not isinstance(seqs, list) or len(seqs) > f.n_machines or not all(isinstance(s, list) for s in seqs):
        raise ScheduleError(f"job_sequences: expected at most {f.n_machines} lists of job ids (one per machine)")
    queues = [deque(s) for s in seqs]
    next_op = np.zeros(f.n_jobs, np.int64)
    job_free = np.zeros(f.n_jobs, np.int64)
    mach_free = np.zeros(f.n_machines, np.int64)
    rows, machines, starts = [], [], []
    while any(queues):
        progressed = False
        for m, q in enumerate(queues):
            if not q:
                continue
            j = q[0]
            if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < f.n_jobs or next_op[j] >= f.job_lengths[j]:
                raise ScheduleError(f"job_sequences[{m}]: job {str(j)[:20]!r} has no operation left to run")
            r = int(f.job_start[j] + next_op[j])
            if not f.eligible[r, m]:
                continue  # its next operation runs on another machine first (or the sequences deadlock)
            s = max(mach_free[m], job_free[j], f.release[r])
            mach_free[m] = job_free[j] = s + f.durations[r, m]
            next_op[j] += 1
            rows.append(r), machines.append(m), starts.append(s)
            q.popleft()
            progressed = True
        if not progressed:
            raise ScheduleError("job_sequences: deadlock, no machine's next job can start (cyclic sequences)")
    rows = np.array(rows, np.int64)
    return inst, Schedule(f.op_job[rows], f.op_index[rows], machines, starts, np.array(starts) + f.durations[rows, machines])


# --------------------------------------------------------------------------------------------
# Writing


def instance_to_jobshoplib(instance: Instance) -> dict:
    """job-shop-lib's instance dict; raises JSchedError for machine-dependent FJSP durations."""
    f = as_fjsp(instance)
    dur, mach, rel = [], [], []
    flexible = bool((f.eligible.sum(axis=1) > 1).any())
    for j in range(f.n_jobs):
        rows = range(f.job_start[j], f.job_start[j] + f.job_lengths[j])
        drow, mrow = [], []
        for r in rows:
            ms = np.flatnonzero(f.eligible[r])
            ds = set(f.durations[r, ms].tolist())
            if len(ds) > 1:
                raise JSchedError(
                    f"{f.name}: operation (job {j}, op {r - f.job_start[j]}) takes {sorted(ds)} on its machines; job-shop-lib "
                    "keeps one duration per operation (export to PyJobShop instead)"
                )
            drow.append(ds.pop())
            mrow.append([int(m) for m in ms] if flexible else int(ms[0]))
        dur.append(drow)
        mach.append(mrow)
        if isinstance(instance, JSPInstance):  # the job's release holds for all of its operations
            rel.append([int(instance.release[j])] * len(drow))
        else:
            rel.append([int(f.release[r]) for r in rows])
    from jsched.instances import bounds

    b = bounds(instance)
    meta = {} if b is None else {"optimum": b[1] if b[0] == b[1] else None, "lower_bound": b[0], "upper_bound": b[1]}
    out: dict[str, Any] = {"name": f.name, "duration_matrix": dur, "machines_matrix": mach, "metadata": meta}
    if any(any(r) for r in rel):
        out["release_dates_matrix"] = rel
    if f.due is not None:
        out["due_dates_matrix"] = [[int(f.due[r]) for r in range(f.job_start[j], f.job_start[j] + f.job_lengths[j])]
                                   for j in range(f.n_jobs)]  # fmt: skip
    return out


def schedule_to_jobshoplib(instance: Instance, schedule: Schedule, **metadata: Any) -> dict:
    """job-shop-lib's schedule dict (``Schedule.from_dict(**d)`` loads it): the instance and each
    machine's job sequence in start order; ``metadata`` (JSON values) is stored as given."""
    from jsched.schedule import validate

    validate(instance, schedule)
    f = as_fjsp(instance)
    order = np.lexsort((schedule.job, schedule.end, schedule.start))  # zero-length ops before the rest
    seqs: list[list[int]] = [[] for _ in range(f.n_machines)]
    for k in order:
        seqs[int(schedule.machine[k])].append(int(schedule.job[k]))
    meta = {"makespan": schedule.makespan, **metadata}
    out = {"instance": instance_to_jobshoplib(instance), "job_sequences": seqs, "metadata": meta}
    try:
        _, replay = schedule_from_jobshoplib(out)
    except ScheduleError:
        replay = None
    if replay is None or (replay.machine != schedule.machine).any():
        raise JSchedError(
            f"{f.name}: job-shop-lib's machine sequences cannot hold this flexible schedule (its loader would assign "
            "operations to other machines); export it to PyJobShop instead"
        )
    return out


def write_jobshoplib(path: str | os.PathLike, instance: Instance, schedule: Schedule | None = None, **metadata: Any) -> None:
    """Write job-shop-lib JSON atomically: the instance, or with ``schedule`` the schedule dict."""
    data = instance_to_jobshoplib(instance) if schedule is None else schedule_to_jobshoplib(instance, schedule, **metadata)
    write_text_atomic(path, json.dumps(data) + "\n")
