"""Immutable instance data models (numpy): JSP and FJSP.

Conventions (see DESIGN): integer processing times, 0-based machines, jobs and operations.
A JSP instance is rectangular (every job has ``n_ops`` operations); an FJSP instance is stored
flat, one row per operation, in job order, with an eligibility matrix. ``JSPInstance.to_fjsp``
gives the FJSP view of a JSP, which the one validator and CP-SAT use for both problems.

Release times are per operation (an operation may not start before its release); due times
("target end times" in L-RHO's delay setting) are optional, per operation. Job due dates and
weights (``job_due``, ``job_weight``, one per job) are optional too: they define the tardiness
objectives (``jsched.schedule.due_date_metrics``); without them (None) nothing changes.

Size limit: the device kernels compute times in int32, so every instance must satisfy
``latest release + sum over operations of the longest eligible duration <= MAX_TIME_BOUND``
(2**31 - 1); that sum bounds the makespan of every semi-active schedule (any schedule a
dispatching rule, a policy or CP-SAT's search reports), so no kernel time can wrap. Due times
and job due dates must lie in 0..MAX_TIME_BOUND as well, job weights in 1..MAX_WEIGHT. Larger
instances raise InstanceFormatError.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from jsched.errors import InstanceFormatError

MAX_TIME_BOUND = 2**31 - 1
MAX_WEIGHT = 2**20  # keeps sums of weighted tardiness far inside int64


def _check_time_bound(name: str, per_op_max: np.ndarray, release: np.ndarray) -> None:
    """Raise unless latest release + total (longest) processing time fits in int32."""
    if (per_op_max > MAX_TIME_BOUND).any() or (release > MAX_TIME_BOUND).any():
        big = int(max(per_op_max.max(initial=0), release.max(initial=0)))
        raise InstanceFormatError(f"{name}: time value {big} does not fit the solvers' 32-bit times (max {MAX_TIME_BOUND})")
    total = int(per_op_max.sum(dtype=np.int64))  # < N * 2**31: no int64 wrap for N < 2**32
    rel = int(release.max(initial=0))
    if total + rel > MAX_TIME_BOUND:
        raise InstanceFormatError(
            f"{name}: too large for the solvers' 32-bit times: latest release {rel} + total processing "
            f"time {total} = {rel + total} > {MAX_TIME_BOUND}"
        )


def _ints(name: str, field: str, x) -> np.ndarray:
    """``x`` as int64 without silent truncation or wrap-around: integer arrays, or floats with
    exact integer values; fractions, NaN/inf, strings and values beyond +-2**62 raise."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise InstanceFormatError(f"{name}: {field} is not a rectangular array of integers ({str(e)[:60]})") from None
    kind = a.dtype.kind
    if kind == "O":
        flat = a.ravel()
        for v in flat:
            if not isinstance(v, (int, np.integer)) and not (isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer()):
                raise InstanceFormatError(f"{name}: {field} value {str(v)[:40]!r} is not an integer")
        if any(abs(int(v)) > 2**62 for v in flat):
            raise InstanceFormatError(f"{name}: {field} value out of range (beyond 2**62)")
        return np.array([int(v) for v in flat], np.int64).reshape(a.shape)
    if kind == "f":
        bad = ~np.isfinite(a) | (a != np.floor(a))
        if bad.any():
            raise InstanceFormatError(f"{name}: {field} value {a[bad].ravel()[0].item()!r} is not an integer")
    elif kind not in "iub":
        raise InstanceFormatError(f"{name}: {field} must be integers, got {a.dtype} values")
    if a.size and kind != "b" and (a.max() > 2**62 or a.min() < -(2**62)):
        raise InstanceFormatError(f"{name}: {field} value out of range (beyond 2**62)")
    return a.astype(np.int64)


def _job_due_dates(name: str, n_jobs: int, due, weight) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Checked, frozen job due dates and weights (weights need due dates)."""
    if due is None:
        if weight is not None:
            raise InstanceFormatError(f"{name}: job_weight needs job_due (due dates)")
        return None, None
    d = _ints(name, "job_due", due)
    if d.shape != (n_jobs,) or ((d < 0) | (d > MAX_TIME_BOUND)).any():
        raise InstanceFormatError(f"{name}: job_due must be ({n_jobs},) due dates in 0..{MAX_TIME_BOUND}")
    if weight is None:
        return _frozen(d), None
    w = _ints(name, "job_weight", weight)
    if w.shape != (n_jobs,) or ((w < 1) | (w > MAX_WEIGHT)).any():
        raise InstanceFormatError(f"{name}: job_weight must be ({n_jobs},) integer weights in 1..{MAX_WEIGHT}")
    return _frozen(d), _frozen(w)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class FJSPInstance:
    """A flexible job shop: ``n_jobs`` chains of operations, each with eligible machines.

    Attributes:
        name: instance name (benchmark name or file stem).
        n_machines: number of machines (some may be unused).
        job_lengths: (J,) number of operations of each job.
        durations: (N, M) processing time of operation n on machine m (0 where ineligible).
        eligible: (N, M) bool, True where machine m can process operation n.
        release: (N,) earliest start time of each operation (zeros by default).
        due: (N,) optional target end time of each operation, or None.
        job_due: (J,) optional due date of each job, or None.
        job_weight: (J,) optional weight of each job (None: all 1; needs ``job_due``).
    """

    name: str
    n_machines: int
    job_lengths: np.ndarray
    durations: np.ndarray
    eligible: np.ndarray
    release: np.ndarray | None = None
    due: np.ndarray | None = None
    job_due: np.ndarray | None = None
    job_weight: np.ndarray | None = None
    # Derived, filled in __post_init__.
    job_start: np.ndarray = field(init=False, repr=False)
    op_job: np.ndarray = field(init=False, repr=False)
    op_index: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        jl = _ints(self.name, "job_lengths", self.job_lengths)
        d = _ints(self.name, "durations", self.durations)
        e = np.asarray(self.eligible, dtype=bool)
        n = int(jl.sum())
        if jl.ndim != 1 or (jl < 0).any():
            raise InstanceFormatError(f"{self.name}: job_lengths must be a 1-d array of counts >= 0")
        if d.shape != (n, self.n_machines) or e.shape != (n, self.n_machines):
            raise InstanceFormatError(
                f"{self.name}: durations/eligible must have shape ({n}, {self.n_machines}), "
                f"got {d.shape} and {e.shape}"
            )
        if (d < 0).any():
            raise InstanceFormatError(f"{self.name}: negative duration")
        if n and not e.any(axis=1).all():
            bad = int(np.flatnonzero(~e.any(axis=1))[0])
            raise InstanceFormatError(f"{self.name}: operation {bad} has no eligible machine")
        d = np.where(e, d, 0)
        rel = np.zeros(n, np.int64) if self.release is None else _ints(self.name, "release", self.release)
        if rel.shape != (n,) or (rel < 0).any():
            raise InstanceFormatError(f"{self.name}: release must be ({n},) and >= 0")
        _check_time_bound(self.name, d.max(axis=1, initial=0), rel)
        object.__setattr__(self, "job_lengths", _frozen(jl))
        object.__setattr__(self, "durations", _frozen(d))
        object.__setattr__(self, "eligible", _frozen(e))
        object.__setattr__(self, "release", _frozen(rel))
        if self.due is not None:
            due = _ints(self.name, "due", self.due)
            if due.shape != (n,):
                raise InstanceFormatError(f"{self.name}: due must be ({n},)")
            if ((due < 0) | (due > MAX_TIME_BOUND)).any():
                raise InstanceFormatError(f"{self.name}: due times must lie in 0..{MAX_TIME_BOUND}")
            object.__setattr__(self, "due", _frozen(due))
        jd, jw = _job_due_dates(self.name, len(jl), self.job_due, self.job_weight)
        object.__setattr__(self, "job_due", jd)
        object.__setattr__(self, "job_weight", jw)
        start = np.concatenate([[0], np.cumsum(jl)[:-1]]).astype(np.int64)
        object.__setattr__(self, "job_start", _frozen(start))
        object.__setattr__(self, "op_job", _frozen(np.repeat(np.arange(len(jl)), jl)))
        object.__setattr__(self, "op_index", _frozen(np.arange(n) - np.repeat(start, jl)))

    @property
    def n_jobs(self) -> int:
        return int(len(self.job_lengths))

    @property
    def n_ops(self) -> int:
        return int(self.job_lengths.sum())

    @property
    def shape(self) -> str:
        return f"{self.n_jobs}x{self.n_machines}"

    def op_id(self, job: int, op: int) -> int:
        """Flat row of operation ``op`` of ``job``."""
        return int(self.job_start[job] + op)

    def horizon_bound(self) -> int:
        """Latest release + sum over operations of the longest eligible duration: an upper bound
        on the makespan of every semi-active schedule (at most MAX_TIME_BOUND, see module doc)."""
        return int(self.release.max(initial=0)) + int(self.durations.max(axis=1, initial=0).sum())

    def trivial_lower_bound(self) -> int:
        """max(longest job by min durations, total min work / machines): a valid makespan LB."""
        dmin = np.where(self.eligible, self.durations, np.iinfo(np.int64).max).min(axis=1)
        dmin = np.where(self.eligible.any(axis=1), dmin, 0)
        job_lb = np.zeros(self.n_jobs, np.int64)
        np.add.at(job_lb, self.op_job, dmin)
        return int(max(job_lb.max(initial=0), -(-int(dmin.sum()) // max(self.n_machines, 1))))


@dataclass(frozen=True, eq=False)
class JSPInstance:
    """A job shop: J jobs x O operations; operation (j, i) runs on ``machines[j, i]``.

    Attributes:
        name: instance name.
        machines: (J, O) machine of each operation, 0-based.
        durations: (J, O) processing time of each operation (>= 0).
        n_machines: number of machines (defaults to ``machines.max() + 1``).
        release: (J,) optional earliest start of each job's first operation.
        job_due: (J,) optional due date of each job, or None.
        job_weight: (J,) optional weight of each job (None: all 1; needs ``job_due``).
    """

    name: str
    machines: np.ndarray
    durations: np.ndarray
    n_machines: int = -1
    release: np.ndarray | None = None
    job_due: np.ndarray | None = None
    job_weight: np.ndarray | None = None

    def __post_init__(self):
        m = _ints(self.name, "machines", self.machines)
        d = _ints(self.name, "durations", self.durations)
        if m.ndim != 2 or m.shape != d.shape:
            raise InstanceFormatError(
                f"{self.name}: machines and durations must be equal 2-d arrays, "
                f"got {m.shape} and {d.shape}"
            )
        nm = int(m.max(initial=-1)) + 1 if self.n_machines < 0 else int(self.n_machines)
        if (m < 0).any() or (m >= nm).any():
            raise InstanceFormatError(f"{self.name}: machine index out of range 0..{nm - 1}")
        if (d < 0).any():
            raise InstanceFormatError(f"{self.name}: negative duration")
        rel = np.zeros(m.shape[0] if m.ndim else 0, np.int64) if self.release is None else _ints(self.name, "release", self.release)
        if rel.shape != (m.shape[0],) or (rel < 0).any():
            raise InstanceFormatError(f"{self.name}: release must be ({m.shape[0]},) and >= 0")
        _check_time_bound(self.name, d.ravel(), rel)
        object.__setattr__(self, "machines", _frozen(m))
        object.__setattr__(self, "durations", _frozen(d))
        object.__setattr__(self, "n_machines", nm)
        object.__setattr__(self, "release", _frozen(rel))
        jd, jw = _job_due_dates(self.name, m.shape[0], self.job_due, self.job_weight)
        object.__setattr__(self, "job_due", jd)
        object.__setattr__(self, "job_weight", jw)

    @property
    def n_jobs(self) -> int:
        return int(self.machines.shape[0])

    @property
    def n_ops_per_job(self) -> int:
        return int(self.machines.shape[1])

    @property
    def n_ops(self) -> int:
        return int(self.machines.size)

    @property
    def shape(self) -> str:
        return f"{self.n_jobs}x{self.n_machines}"

    def to_fjsp(self) -> FJSPInstance:
        """The same problem as an FJSP with one eligible machine per operation."""
        j, o = self.machines.shape
        n = j * o
        dur = np.zeros((n, self.n_machines), np.int64)
        elig = np.zeros((n, self.n_machines), bool)
        rows = np.arange(n)
        dur[rows, self.machines.ravel()] = self.durations.ravel()
        elig[rows, self.machines.ravel()] = True
        rel = np.zeros(n, np.int64)
        if o:
            rel[np.arange(j) * o] = self.release
        return FJSPInstance(self.name, self.n_machines, np.full(j, o), dur, elig, release=rel,
                            job_due=self.job_due, job_weight=self.job_weight)  # fmt: skip

    def horizon_bound(self) -> int:
        """Latest release + total processing time (see FJSPInstance.horizon_bound)."""
        return int(self.release.max(initial=0)) + int(self.durations.sum())

    def trivial_lower_bound(self) -> int:
        return self.to_fjsp().trivial_lower_bound()


Instance = JSPInstance | FJSPInstance


def as_fjsp(instance: Instance) -> FJSPInstance:
    """FJSP view of any instance (a PFSP instance goes through its ``to_jsp()``)."""
    if isinstance(instance, FJSPInstance):
        return instance
    if hasattr(instance, "to_jsp"):
        return instance.to_jsp().to_fjsp()
    return instance.to_fjsp()
