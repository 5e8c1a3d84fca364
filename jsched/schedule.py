"""Schedules, the one independent validator, objectives and the schedule JSON contract.

Every schedule any jsched method reports goes through :func:`validate` first. The validator
is written in plain numpy/Python, independent of the kernels and of CP-SAT, and raises a
:class:`~jsched.errors.ScheduleError` that names the first violation it finds.

Schedule JSON (``jsched solve --out``, ``Result.save``; the contract outside checkers read)::

    {"format": "jsched-schedule", "version": 1,
     "instance": "ft06",                        # the instance's name
     "instance_data": {...},                    # the whole instance, as a "jsched-instance" JSON
     "method": "cpsat", "makespan": 55, "best_known": 55, "gap_percent": 0.0, "time_seconds": 1.2,
     ...,                                       # the method's own fields (Result.extra)
     "operations": [{"job": 0, "op": 0, "machine": 2, "start": 0, "end": 1}, ...]}

An instance with job due dates adds :func:`due_date_metrics` after the makespan
(``total_tardiness``, ``weighted_tardiness``, ``tardy_jobs``, ``max_lateness``). Everything is
0-based; the ``instance_data`` layout is the instance JSON of :mod:`jsched.instances.io` (a PFSP instance is written as its JSP). A checker needs nothing but
this file: every operation must appear once, run ``end - start`` = its duration on its machine,
no earlier than its release and its job predecessor's end, and not overlap another operation on
its machine. Files written before the format tag (no ``format``, ``version`` or
``instance_data``) are still read (:func:`read_schedule`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from jsched.atomic import write_text_atomic
from jsched.errors import JSchedError, ScheduleError
from jsched.instances.model import FJSPInstance, Instance, as_fjsp

MAX_TIME = 2**40
"""Every schedule value (job, op, machine, start, end) is an integer with ``0 <= v < MAX_TIME``.

2**40 time units is far beyond any instance the readers accept (sums of durations and releases
stay below 2**31), and keeps every sum or difference the validator or a caller computes on
int64 far from wrapping."""

_FIELDS = ("job", "op", "machine", "start", "end")
SCHEDULE_FORMAT = "jsched-schedule"
SCHEDULE_VERSION = 1


def _flat(values: Any, field: str) -> np.ndarray:
    """A 1-d array of ``values`` as given: numpy (or JAX) arrays keep their dtype, anything else
    (lists, tuples, scalars) becomes an object array, so that ``True`` or ``"3"`` inside a list
    is seen as such and not converted by numpy."""
    try:
        if isinstance(values, np.ndarray) or hasattr(values, "__array__"):
            return np.asarray(values).ravel()
        return np.asarray(values, dtype=object).ravel()
    except (TypeError, ValueError) as e:
        raise ScheduleError(f"schedule field {field}: not an array of integers ({str(e)[:80]})") from None


def _bad_value(field: str, i: int, v: Any, why: str) -> ScheduleError:
    return ScheduleError(f"schedule field {field}, operation {i}: {str(v)[:40]!r} {why}")


def _int_column(field: str, values: Any) -> np.ndarray:
    """Strict conversion of one schedule field to int64: integers (or floats with an exact
    integer value) in ``0 <= v < MAX_TIME``; fractions, NaN/inf, booleans, strings, None and
    other objects raise ScheduleError naming the field and the operation."""
    a = _flat(values, field)
    kind = a.dtype.kind
    if kind == "b" and a.size:
        raise _bad_value(field, 0, a[0].item(), "is a boolean, not an integer")
    if kind == "O":
        out = np.empty(a.shape, np.int64)
        for i, v in enumerate(a):
            if isinstance(v, (bool, np.bool_)):
                raise _bad_value(field, i, v, "is a boolean, not an integer")
            if isinstance(v, (int, np.integer)):
                iv = int(v)
            elif isinstance(v, (float, np.floating)):
                if not np.isfinite(v) or not float(v).is_integer():
                    raise _bad_value(field, i, v, "is not an integer")
                iv = int(v)
            else:
                raise _bad_value(field, i, v, f"is a {type(v).__name__}, not an integer")
            if not 0 <= iv < MAX_TIME:
                raise _bad_value(field, i, v, f"out of range 0 <= {field} < 2**40")
            out[i] = iv
        return out
    if kind == "f":
        bad = ~np.isfinite(a) | (a != np.floor(a))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _bad_value(field, i, a[i].item(), "is not an integer")
    elif kind not in "iub":
        v = a[0].item() if a.size else None
        raise ScheduleError(f"schedule field {field}: {a.dtype} values ({str(v)[:40]!r}, ...) are not integers")
    bad = (a < 0) | (a >= MAX_TIME)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _bad_value(field, i, a[i].item(), f"out of range 0 <= {field} < 2**40")
    return a.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Schedule:
    """One start time and machine per operation, in flat order (job, op) sorted.

    Attributes (all (N,) read-only int64 arrays): job, op, machine, start, end. Every value is
    an integer with ``0 <= v < MAX_TIME`` (2**40); construction raises ScheduleError for
    fractions, NaN/inf, booleans, strings or values out of that range (nothing is truncated
    or wrapped), and when the arrays have different lengths.
    """

    job: np.ndarray
    op: np.ndarray
    machine: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def __post_init__(self):
        arrs = [_int_column(k, getattr(self, k)) for k in _FIELDS]
        if len({a.shape for a in arrs}) != 1:
            lens = ", ".join(f"{k} {a.shape[0]}" for k, a in zip(_FIELDS, arrs))
            raise ScheduleError(f"schedule arrays have different lengths ({lens})")
        order = np.lexsort((arrs[1], arrs[0]))
        for k, a in zip(_FIELDS, arrs):
            a = a[order]
            a.setflags(write=False)
            object.__setattr__(self, k, a)

    def __len__(self) -> int:
        return int(self.job.shape[0])

    @property
    def makespan(self) -> int:
        return int(self.end.max(initial=0))

    @classmethod
    def from_arrays(cls, instance: Instance, start: np.ndarray, machine: np.ndarray | None = None) -> "Schedule":
        """Build from per-operation start times (and machines for the FJSP).

        ``start`` is (J, O) for a JSP (machines then come from the instance) or (N,) flat for
        an FJSP, with ``machine`` (N,) the chosen machine of each operation. Values beyond the
        instance's N operations (padding) are ignored; the rest must be valid schedule values.
        """
        f = as_fjsp(instance)
        n = f.n_ops
        start = _int_column("start", _flat(start, "start")[:n])
        if machine is None:
            machine = f.eligible.argmax(axis=1)
        machine = _int_column("machine", _flat(machine, "machine")[:n])
        for k, a in (("start", start), ("machine", machine)):
            if a.shape[0] != n:
                raise ScheduleError(f"{k} has {a.shape[0]} values, instance {f.name!r} has {n} operations")
        # A machine out of range is reported by validate(); look up a placeholder duration here.
        dur = f.durations[np.arange(n), np.clip(machine, 0, max(f.n_machines - 1, 0))] if f.n_machines else np.zeros(n, np.int64)
        return cls(f.op_job, f.op_index, machine, start, start + dur)

    def operations(self) -> list[dict[str, int]]:
        return [
            {"job": int(j), "op": int(o), "machine": int(m), "start": int(s), "end": int(e)}
            for j, o, m, s, e in zip(self.job, self.op, self.machine, self.start, self.end)
        ]

    @classmethod
    def from_operations(cls, ops: list[dict[str, Any]]) -> "Schedule":
        """Build from the JSON contract's ``operations`` list (values checked as in the class doc)."""
        if not isinstance(ops, (list, tuple)):
            raise ScheduleError(f"malformed operations list: expected a list, got {type(ops).__name__}")
        cols: dict[str, list] = {k: [] for k in _FIELDS}
        for i, o in enumerate(ops):
            if not isinstance(o, dict):
                raise ScheduleError(f"malformed operations list: entry {i} is a {type(o).__name__}, not an object")
            for k in _FIELDS:
                if k not in o:
                    raise ScheduleError(f"malformed operations list: entry {i} has no {k!r}")
                cols[k].append(o[k])
        return cls(**cols)


def validate(instance: Instance, schedule: Schedule) -> Schedule:
    """Check a schedule against its instance; return it unchanged or raise ScheduleError.

    Value types and ranges (integers, ``0 <= v < MAX_TIME``) are enforced when the Schedule is
    built. Checks, in order: completeness (every operation exactly once), machine eligibility,
    durations (end - start equals the processing time on the chosen machine), release times,
    precedence within each job, and machine capacity (no two operations overlap on a machine;
    zero-length operations never conflict).
    """
    if not isinstance(schedule, Schedule):
        raise ScheduleError(f"expected a Schedule, got {type(schedule).__name__}")
    f: FJSPInstance = as_fjsp(instance)
    n = f.n_ops
    s = schedule
    if len(s) != n:
        raise ScheduleError(f"incomplete schedule: {len(s)} operations, instance {f.name!r} has {n}")
    valid_job = (s.job >= 0) & (s.job < f.n_jobs)
    if not valid_job.all():
        i = int(np.flatnonzero(~valid_job)[0])
        raise ScheduleError(f"operation with job {int(s.job[i])} out of range 0..{f.n_jobs - 1}")
    valid_op = (s.op >= 0) & (s.op < f.job_lengths[s.job])
    if not valid_op.all():
        i = int(np.flatnonzero(~valid_op)[0])
        raise ScheduleError(f"job {int(s.job[i])} has no operation {int(s.op[i])}")
    rows = f.job_start[s.job] + s.op
    counts = np.bincount(rows, minlength=n)
    if (counts != 1).any():
        r = int(np.flatnonzero(counts != 1)[0])
        raise ScheduleError(
            f"completeness: operation (job {int(f.op_job[r])}, op {int(f.op_index[r])}) "
            f"appears {int(counts[r])} times"
        )
    # Sorted by (job, op), rows are now 0..n-1 in order.
    m = s.machine
    if ((m < 0) | (m >= f.n_machines)).any():
        i = int(np.flatnonzero((m < 0) | (m >= f.n_machines))[0])
        raise ScheduleError(f"operation (job {int(s.job[i])}, op {int(s.op[i])}): machine {int(m[i])} out of range")
    ok = f.eligible[np.arange(n), m]
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ScheduleError(
            f"eligibility: operation (job {int(s.job[i])}, op {int(s.op[i])}) on machine {int(m[i])}, "
            f"eligible machines {np.flatnonzero(f.eligible[i]).tolist()}"
        )
    dur = f.durations[np.arange(n), m]
    bad = (s.end - s.start) != dur
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScheduleError(
            f"duration: operation (job {int(s.job[i])}, op {int(s.op[i])}) runs "
            f"{int(s.end[i] - s.start[i])}, needs {int(dur[i])} on machine {int(m[i])}"
        )
    bad = s.start < f.release
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScheduleError(
            f"release: operation (job {int(s.job[i])}, op {int(s.op[i])}) starts at {int(s.start[i])} "
            f"before its release {int(f.release[i])}"
        )
    same_job = s.job[1:] == s.job[:-1]
    bad = same_job & (s.start[1:] < s.end[:-1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0]) + 1
        raise ScheduleError(
            f"precedence: job {int(s.job[i])} op {int(s.op[i])} starts at {int(s.start[i])} "
            f"before op {int(s.op[i - 1])} ends at {int(s.end[i - 1])}"
        )
    pos = dur > 0
    idx = np.flatnonzero(pos)
    order = idx[np.lexsort((s.start[idx], m[idx]))]
    same_m = m[order][1:] == m[order][:-1]
    bad = same_m & (s.start[order][1:] < s.end[order][:-1])
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        a, b = order[k], order[k + 1]
        raise ScheduleError(
            f"capacity: on machine {int(m[a])}, (job {int(s.job[a])}, op {int(s.op[a])}) "
            f"[{int(s.start[a])}, {int(s.end[a])}) overlaps (job {int(s.job[b])}, op {int(s.op[b])}) "
            f"[{int(s.start[b])}, {int(s.end[b])})"
        )
    return schedule


def makespan(schedule: Schedule) -> int:
    return schedule.makespan


def total_start_delay(instance: Instance, schedule: Schedule) -> int:
    """Sum over operations of (start - release): L-RHO's start-delay objective."""
    f = as_fjsp(instance)
    return int((schedule.start - f.release).sum())


def total_start_end_delay(instance: Instance, schedule: Schedule) -> int:
    """Start delay plus sum of max(0, end - due) (tardiness vs target end times, if any)."""
    f = as_fjsp(instance)
    total = total_start_delay(instance, schedule)
    if f.due is not None:
        total += int(np.maximum(0, schedule.end - f.due).sum())
    return total


DUE_DATE_OBJECTIVES = ("total_tardiness", "weighted_tardiness", "tardy_jobs", "max_lateness")


def require_due_dates(instance: Instance, what: str) -> None:
    """Raise a one-line JSchedError unless ``instance`` has job due dates (``what`` needs them)."""
    if getattr(instance, "job_due", None) is None:
        raise JSchedError(
            f"{what} needs job due dates; instance {instance.name!r} has none "
            "(add them with jsched.instances.with_due_dates, or 'job_due' in the instance JSON)"
        )


def due_date_metrics(instance: Instance, schedule: Schedule) -> dict[str, int]:
    """Total and weighted tardiness, tardy jobs and maximum lateness of a validated schedule.

    A job completes when its last operation ends (C_j); lateness L_j = C_j - due_j, tardiness
    T_j = max(0, L_j), weights default to 1.
    """
    require_due_dates(instance, "due-date metrics")
    f = as_fjsp(instance)
    done = np.zeros(f.n_jobs, np.int64)
    np.maximum.at(done, schedule.job, schedule.end)
    late = done - f.job_due
    tardy = np.maximum(late, 0)
    w = np.ones(f.n_jobs, np.int64) if f.job_weight is None else f.job_weight
    return {
        "total_tardiness": int(tardy.sum()),
        "weighted_tardiness": int((w * tardy).sum()),
        "tardy_jobs": int((late > 0).sum()),
        "max_lateness": int(late.max()) if f.n_jobs else 0,
    }


OBJECTIVES = {
    "makespan": lambda inst, s: makespan(s),
    "start_delay": total_start_delay,
    "start_end_delay": total_start_end_delay,
    **{k: (lambda inst, s, k=k: due_date_metrics(inst, s)[k]) for k in DUE_DATE_OBJECTIVES},
}


def gap_percent(value: float, best_known: float | None) -> float | None:
    """PG = 100 * (C / C_best_known - 1); None when no bound is known."""
    if best_known is None or best_known <= 0:
        return None
    return 100.0 * (value / best_known - 1.0)


def write_json_atomic(path: str | os.PathLike, payload: dict) -> None:
    """Write JSON to a temporary file in the same folder, then rename (never half-written)."""
    write_text_atomic(path, json.dumps(payload, indent=1))


def schedule_payload(
    instance: Instance,
    schedule: Schedule,
    method: str,
    best_known: float | None,
    time_seconds: float,
    **extra: Any,
) -> dict:
    """The schedule JSON contract as a dict (validates the schedule first)."""
    from jsched.instances.io import instance_to_json

    validate(instance, schedule)
    ms = schedule.makespan
    gap = gap_percent(ms, best_known)
    payload = {
        "format": SCHEDULE_FORMAT,
        "version": SCHEDULE_VERSION,
        "instance": instance.name,
        "instance_data": instance_to_json(instance.to_jsp() if hasattr(instance, "to_jsp") else instance),
        "method": method,
        "makespan": ms,
        **(due_date_metrics(instance, schedule) if getattr(instance, "job_due", None) is not None else {}),
        "best_known": best_known,
        "gap_percent": None if gap is None else round(gap, 4),
        "time_seconds": round(float(time_seconds), 4),
    }
    payload.update(extra)
    payload["operations"] = schedule.operations()
    return payload


def read_schedule(path: str | os.PathLike) -> tuple[Instance | None, Schedule, dict]:
    """``(instance, schedule, payload)`` of a schedule JSON file (not validated).

    ``instance`` is the file's ``instance_data``, or None for files written before it existed
    (their ``instance`` name is in ``payload``). A job-shop-lib schedule (``Schedule.to_dict``)
    is read too, as the semi-active schedule of its machine sequences. Unreadable files raise
    JSchedError; malformed operations raise ScheduleError.
    """
    from jsched.instances.io import instance_from_json, read_text
    from jsched.interop.jobshoplib import is_jobshoplib_schedule, schedule_from_jobshoplib

    p = os.fspath(path)
    try:
        data = json.loads(read_text(p))
    except json.JSONDecodeError as e:
        raise JSchedError(f"{p}:{e.lineno}: invalid JSON: {e.msg}") from None
    if is_jobshoplib_schedule(data):
        inst, schedule = schedule_from_jobshoplib(data, p)
        return inst, schedule, data
    if not isinstance(data, dict) or "operations" not in data:
        raise JSchedError(f"{p}: not a schedule file: expected a JSON object with 'operations'")
    fmt = data.get("format", SCHEDULE_FORMAT)
    if fmt != SCHEDULE_FORMAT:
        raise JSchedError(f"{p}: field format: expected {SCHEDULE_FORMAT!r}, got {str(fmt)[:40]!r}")
    version = data.get("version", SCHEDULE_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= SCHEDULE_VERSION:
        raise JSchedError(f"{p}: field version: unsupported {str(version)[:20]!r}, this jsched reads version {SCHEDULE_VERSION}")
    inst = None
    if data.get("instance_data") is not None:
        inst = instance_from_json(data["instance_data"], f"{p} (instance_data)")
    return inst, Schedule.from_operations(data["operations"]), data
