"""Schedules, the one independent validator, objectives and the schedule JSON contract.

Every schedule any jsched method reports goes through :func:`validate` first. The validator
is written in plain numpy/Python, independent of the kernels and of CP-SAT, and raises a
:class:`~jsched.errors.ScheduleError` that names the first violation it finds.

JSON contract (read by outside checkers): ``{"instance", "method", "makespan", "best_known",
"gap_percent", "time_seconds", "operations": [{"job", "op", "machine", "start", "end"}, ...]}``,
everything 0-based.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from jsched.atomic import write_text_atomic
from jsched.errors import ScheduleError
from jsched.instances.model import FJSPInstance, Instance, as_fjsp


@dataclass(frozen=True, eq=False)
class Schedule:
    """One start time and machine per operation, in flat order (job, op) sorted.

    Attributes (all (N,) int arrays): job, op, machine, start, end.
    """

    job: np.ndarray
    op: np.ndarray
    machine: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def __post_init__(self):
        arrs = [np.asarray(getattr(self, k), np.int64).ravel() for k in ("job", "op", "machine", "start", "end")]
        if len({a.shape for a in arrs}) != 1:
            raise ScheduleError("schedule arrays have different lengths")
        order = np.lexsort((arrs[1], arrs[0]))
        for k, a in zip(("job", "op", "machine", "start", "end"), arrs):
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
        an FJSP, with ``machine`` (N,) the chosen machine of each operation.
        """
        f = as_fjsp(instance)
        start = np.asarray(start, np.int64).ravel()[: f.n_ops]
        if machine is None:
            machine = f.eligible.argmax(axis=1)
        machine = np.asarray(machine, np.int64).ravel()[: f.n_ops]
        end = start + f.durations[np.arange(f.n_ops), machine]
        return cls(f.op_job, f.op_index, machine, start, end)

    def operations(self) -> list[dict[str, int]]:
        return [
            {"job": int(j), "op": int(o), "machine": int(m), "start": int(s), "end": int(e)}
            for j, o, m, s, e in zip(self.job, self.op, self.machine, self.start, self.end)
        ]

    @classmethod
    def from_operations(cls, ops: list[dict[str, Any]]) -> "Schedule":
        try:
            cols = {k: [int(o[k]) for o in ops] for k in ("job", "op", "machine", "start", "end")}
        except (KeyError, TypeError, ValueError) as e:
            raise ScheduleError(f"malformed operations list: {e!r}") from None
        return cls(**{k: np.array(v, np.int64) for k, v in cols.items()})


def validate(instance: Instance, schedule: Schedule) -> Schedule:
    """Check a schedule against its instance; return it unchanged or raise ScheduleError.

    Checks, in order: completeness (every operation exactly once), machine eligibility,
    durations (end - start equals the processing time on the chosen machine), release times,
    precedence within each job, and machine capacity (no two operations overlap on a machine;
    zero-length operations never conflict).
    """
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


OBJECTIVES = {
    "makespan": lambda inst, s: makespan(s),
    "start_delay": total_start_delay,
    "start_end_delay": total_start_end_delay,
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
    validate(instance, schedule)
    ms = schedule.makespan
    gap = gap_percent(ms, best_known)
    payload = {
        "instance": instance.name,
        "method": method,
        "makespan": ms,
        "best_known": best_known,
        "gap_percent": None if gap is None else round(gap, 4),
        "time_seconds": round(float(time_seconds), 4),
    }
    payload.update(extra)
    payload["operations"] = schedule.operations()
    return payload
