"""Carbon-aware permutation flow shop (CAS-PFSP): instance model, ``.cas`` reader, generator.

Problem (Mencaroni et al. 2025, arXiv:2503.01325; data of ugent-isye/MA-DRL-CAS-PFSP): N jobs
visit machines 0..M-1 in order, in the same job sequence on every machine. Time is split into
15-minute slots, 96 per day, and the horizon has ``96 * days`` slots. An operation occupies its
machine for ``durations[j, m]`` consecutive slots (0: the job skips that machine) and draws the
per-slot power ``power[j, m, :durations[j, m]]``. With P_t the summed power of all running
operations, G_t the on-site generation and CI_t the grid carbon intensity, the objective is

    emissions = 0.25 * sum_t CI_t * max(0, P_t - G_t)

(unused on-site power is lost), with every operation ending by the horizon. This formula
reproduces the published CPLEX optima of CAS-PFSP-M1T1_1 and _2 to every printed digit.

``PFSPInstance.to_jsp()`` gives the flow shop as a :class:`JSPInstance` (job j visits machines
0..M-1, zero-length operations kept), so the one validator ``jsched.schedule.validate`` checks
precedence and machine capacity of every flow-shop schedule; :meth:`PFSPInstance.check_schedule`
adds what the JSP view cannot see (the horizon and the common job sequence).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from jsched.atomic import write_text_atomic
from jsched.errors import InstanceFormatError, ScheduleError
from jsched.instances.model import JSPInstance, _frozen

SLOTS_PER_DAY = 96
SLOT_HOURS = 0.25  # one slot is 15 minutes: kW * slot -> kWh
MAX_SERIES = 1e12  # |generation|, |carbon|, |price| and power beyond this are corrupt data
_MAX_INT = 2**31 - 1  # header numbers and per-slot power values in a .cas file
_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?\Z")


@dataclass(frozen=True, eq=False)
class PFSPInstance:
    """A CAS-PFSP instance (immutable numpy, 0-based jobs and machines).

    Attributes:
        name: instance name (file stem for files).
        durations: (N, M) int, slots each operation occupies its machine (0 = machine skipped).
        power: (N, M, D) float, per-slot power of each operation, zero beyond its duration
            (D = longest operation, at least 1).
        generation: (H,) float, on-site renewable generation per slot.
        carbon: (H,) float, grid carbon intensity per slot.
        price: (H,) float day-ahead price per slot, or None (training files have no price line).
        days: horizon in days; H = 96 * days slots.
    """

    name: str
    durations: np.ndarray
    power: np.ndarray
    generation: np.ndarray
    carbon: np.ndarray
    price: np.ndarray | None = None
    days: int = 1

    kind = "pfsp"

    def __post_init__(self):
        d = np.asarray(self.durations, np.int64)
        if d.ndim != 2 or d.shape[0] < 1 or d.shape[1] < 1:
            raise InstanceFormatError(f"{self.name}: durations must be a non-empty (N, M) array, got {d.shape}")
        if (d < 0).any():
            raise InstanceFormatError(f"{self.name}: negative operation length")
        p = np.asarray(self.power, np.float64)
        if not np.isfinite(p).all() or (np.abs(p) > MAX_SERIES).any():
            raise InstanceFormatError(f"{self.name}: power values must be finite and at most {MAX_SERIES:g}")
        dmax = max(int(d.max()), 1)
        if p.ndim != 3 or p.shape[:2] != d.shape or p.shape[2] < dmax:
            raise InstanceFormatError(f"{self.name}: power must be (N, M, >= {dmax}), got {p.shape}")
        if (p < 0).any():
            raise InstanceFormatError(f"{self.name}: negative power value")
        beyond = np.arange(p.shape[2])[None, None, :] >= d[:, :, None]
        if (p[beyond] != 0).any():
            raise InstanceFormatError(f"{self.name}: power must be zero beyond each operation's length")
        if not 1 <= int(self.days) <= _MAX_INT // SLOTS_PER_DAY:
            raise InstanceFormatError(f"{self.name}: days must be in 1..{_MAX_INT // SLOTS_PER_DAY}, got {self.days}")
        h = SLOTS_PER_DAY * int(self.days)
        series = {"generation": self.generation, "carbon": self.carbon, "price": self.price}
        for key, val in series.items():
            if val is None:
                continue
            a = np.asarray(val, np.float64)
            if a.shape != (h,):
                raise InstanceFormatError(f"{self.name}: {key} must have {h} values (96 * {self.days} days), got {a.shape}")
            if not np.isfinite(a).all() or (np.abs(a) > MAX_SERIES).any():
                bad = a[~np.isfinite(a) | (np.abs(a) > MAX_SERIES)][0].item()
                raise InstanceFormatError(f"{self.name}: {key} value {bad!r} is not a finite number of at most {MAX_SERIES:g}")
            object.__setattr__(self, key, _frozen(a))
        if (self.generation < 0).any() or (self.carbon < 0).any():
            raise InstanceFormatError(f"{self.name}: generation and carbon intensity must be >= 0")
        object.__setattr__(self, "durations", _frozen(d))
        object.__setattr__(self, "power", _frozen(p[:, :, :dmax]))
        object.__setattr__(self, "days", int(self.days))

    @property
    def n_jobs(self) -> int:
        return int(self.durations.shape[0])

    @property
    def n_machines(self) -> int:
        return int(self.durations.shape[1])

    @property
    def n_ops(self) -> int:
        return int(self.durations.size)

    @property
    def horizon(self) -> int:
        return SLOTS_PER_DAY * self.days

    @property
    def shape(self) -> str:
        return f"{self.n_jobs}x{self.n_machines}"

    def to_jsp(self) -> JSPInstance:
        """The flow shop as a JSP: job j's operation m runs on machine m (length 0 kept)."""
        machines = np.tile(np.arange(self.n_machines), (self.n_jobs, 1))
        return JSPInstance(self.name, machines, self.durations, n_machines=self.n_machines)

    def to_fjsp(self):
        return self.to_jsp().to_fjsp()

    def trivial_lower_bound(self) -> int:
        return self.to_jsp().trivial_lower_bound()

    # ----------------------------------------------------------------------------- objective
    def load_profile(self, start: np.ndarray) -> np.ndarray:
        """(H,) total power drawn per slot for (N, M) start slots (operations past H are cut)."""
        start = np.asarray(start, np.int64).reshape(self.n_jobs, self.n_machines)
        load = np.zeros(self.horizon + self.power.shape[2] + int(start.max(initial=0)), np.float64)
        for j in range(self.n_jobs):
            for m in range(self.n_machines):
                dj = int(self.durations[j, m])
                load[start[j, m] : start[j, m] + dj] += self.power[j, m, :dj]
        return load[: self.horizon]

    def grid_power(self, start: np.ndarray) -> np.ndarray:
        """(H,) power bought from the grid, max(0, P_t - G_t)."""
        return np.maximum(0.0, self.load_profile(start) - self.generation)

    def emissions(self, start: np.ndarray) -> float:
        """Scope-2 emissions 0.25 * sum_t CI_t * max(0, P_t - G_t) of (N, M) start slots."""
        return float(SLOT_HOURS * np.dot(self.carbon, self.grid_power(start)))

    def cost(self, start: np.ndarray) -> float | None:
        """Energy cost sum_t price_t * max(0, P_t - G_t) / 4000 (None without a price line)."""
        if self.price is None:
            return None
        return float(np.dot(self.price, self.grid_power(start)) / 4000.0)

    def check_schedule(self, sequence: np.ndarray, start: np.ndarray) -> None:
        """Raise ScheduleError unless ``start`` keeps the horizon and the permutation ``sequence``.

        Machine capacity and precedence are checked by ``jsched.schedule.validate`` on
        ``to_jsp()``; this adds the flow-shop rules: every operation ends by the horizon, and
        on every machine the jobs start in the order ``sequence`` (a permutation schedule).
        """
        seq = np.asarray(sequence, np.int64)
        start = np.asarray(start, np.int64).reshape(self.n_jobs, self.n_machines)
        if sorted(seq.tolist()) != list(range(self.n_jobs)):
            raise ScheduleError(f"{self.name}: sequence is not a permutation of 0..{self.n_jobs - 1}")
        end = start + self.durations
        if (start < 0).any():
            raise ScheduleError(f"{self.name}: negative start slot")
        if (end > self.horizon).any():
            j, m = np.argwhere(end > self.horizon)[0]
            raise ScheduleError(
                f"{self.name}: horizon: job {j} machine {m} ends at slot {end[j, m]} > {self.horizon}"
            )
        s = start[seq]
        bad = s[1:] < s[:-1]
        if bad.any():
            i, m = np.argwhere(bad)[0]
            raise ScheduleError(
                f"{self.name}: permutation: on machine {m}, job {seq[i + 1]} starts before job {seq[i]}"
            )


# ---------------------------------------------------------------------------------- reader
def read_cas(path: str | os.PathLike) -> PFSPInstance:
    """Read a ``.cas`` file (the MA-DRL-CAS-PFSP data format).

    Line 1 holds 12 integers (M, T, N, total duration, total power, 6 statistics, "LB"); then
    N (M = 1, bare power lists) or N*M (``j,m,p1..pd``, job-major) operation lines; then 2 or 3
    series of 96*T values: generation, carbon intensity and, in test files, price. Header
    fields 4 and 5 are checked against the body. Errors name the file and line.
    """
    path = os.fspath(path)
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path, encoding="ascii") as fh:
            lines = [ln.strip() for ln in fh.read().splitlines()]
    except (OSError, UnicodeDecodeError) as e:
        raise InstanceFormatError(f"cannot read file: {e}", path) from None
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise InstanceFormatError("empty file", path, 1)
    head = _numbers(lines[0], int, path, 1, "header")
    if len(head) != 12:
        raise InstanceFormatError(f"header: expected 12 integers, got {len(head)}", path, 1)
    n_m, days, n_j = head[0], head[1], head[2]
    for field, val in (("machines", n_m), ("days", days), ("jobs", n_j)):
        if val < 1:
            raise InstanceFormatError(f"header: number of {field} must be >= 1, got {val}", path, 1)
    n_op_lines = n_j if n_m == 1 else n_j * n_m
    if len(lines) < 1 + n_op_lines + 2:
        raise InstanceFormatError(
            f"expected {n_op_lines} operation lines and >= 2 series lines, file has {len(lines) - 1} lines after the header",
            path,
            len(lines),
        )
    profiles: list[list[int]] = []
    for k in range(n_op_lines):
        ln = 2 + k
        text = lines[1 + k]
        if n_m == 1:
            vals = _numbers(text, int, path, ln, "power values", allow_empty=True)
        else:
            fields = text.split(",")
            if len(fields) < 2:
                raise InstanceFormatError("operation line must start with 'job,machine,'", path, ln)
            jm = _numbers(",".join(fields[:2]), int, path, ln, "job/machine index")
            want = (k // n_m, k % n_m)
            if tuple(jm) != want:
                raise InstanceFormatError(f"expected operation (job {want[0]}, machine {want[1]}), got {tuple(jm)}", path, ln)
            vals = _numbers(",".join(fields[2:]), int, path, ln, "power values", allow_empty=True)
        if any(v < 0 for v in vals):
            raise InstanceFormatError("negative power value", path, ln)
        profiles.append(vals)
    h = SLOTS_PER_DAY * days
    series = []
    for k in range(1 + n_op_lines, len(lines)):
        vals = _numbers(lines[k], float, path, k + 1, "series")
        if len(vals) != h:
            raise InstanceFormatError(f"series: expected {h} values (96 * {days} days), got {len(vals)}", path, k + 1)
        series.append(vals)
    if len(series) > 3:
        raise InstanceFormatError(f"expected 2 or 3 series lines, got {len(series)}", path, 2 + n_op_lines + 3)
    lengths = np.array([len(p) for p in profiles], np.int64).reshape(n_j, n_m)
    dmax = max(int(lengths.max()), 1)
    power = np.zeros((n_j, n_m, dmax), np.float64)
    for k, p in enumerate(profiles):
        power[k // n_m, k % n_m, : len(p)] = p
    if int(lengths.sum()) != head[3]:
        raise InstanceFormatError(f"header field 4 (total duration) is {head[3]}, operations sum to {int(lengths.sum())}", path, 1)
    if int(power.sum()) != head[4]:
        raise InstanceFormatError(f"header field 5 (total energy) is {head[4]}, power values sum to {int(power.sum())}", path, 1)
    try:
        return PFSPInstance(
            name,
            lengths,
            power,
            np.array(series[0]),
            np.array(series[1]),
            np.array(series[2]) if len(series) == 3 else None,
            days=days,
        )
    except InstanceFormatError as e:
        raise InstanceFormatError(str(e), path) from None


def _numbers(text: str, typ, path: str, line: int, what: str, allow_empty: bool = False) -> list:
    parts = [p.strip() for p in text.split(",")]
    if parts and parts[-1] == "":
        parts = parts[:-1]  # trailing comma (zero-length operation or line end)
    if not parts and not allow_empty:
        raise InstanceFormatError(f"{what}: no values", path, line)
    out = []
    for i, p in enumerate(parts):
        if typ is int:
            if not _INT_RE.match(p):
                kind = "an integer" if _FLOAT_RE.match(p) or p.lower() in ("nan", "inf", "-inf", "+inf") else "a number"
                raise InstanceFormatError(f"{what}: field {i + 1} is {p[:40]!r}, not {kind}", path, line)
            v = int(p) if len(p) <= 30 else None  # never convert absurdly long digit strings
            if v is None or abs(v) > _MAX_INT:
                raise InstanceFormatError(f"{what}: field {i + 1} is {p[:20]}, out of range (max {_MAX_INT})", path, line)
        else:
            v = float(p) if _FLOAT_RE.match(p) else None
            if v is None or not abs(v) <= MAX_SERIES:
                why = "not a number" if v is None and p.lower().lstrip("+-") not in ("nan", "inf", "infinity") else "not a finite number"
                why = why if v is None else f"out of range (|value| <= {MAX_SERIES:g})"
                raise InstanceFormatError(f"{what}: field {i + 1} is {p[:40]!r}, {why}", path, line)
        out.append(v)
    return out


def write_cas(instance: PFSPInstance, path: str | os.PathLike) -> None:
    """Write an instance in the ``.cas`` format (atomic; statistics fields recomputed)."""

    d = instance.durations
    vals = np.concatenate([instance.power[j, m, : d[j, m]] for j in range(instance.n_jobs) for m in range(instance.n_machines)])
    vals = vals if vals.size else np.zeros(1)
    head = [
        instance.n_machines, instance.days, instance.n_jobs, int(d.sum()), int(round(vals.sum())),
        int(d.min()), int(np.median(d)), int(d.max()), int(vals.min()), int(np.median(vals)), int(vals.max()), 999999999,
    ]
    lines = [",".join(map(str, head))]
    for j in range(instance.n_jobs):
        for m in range(instance.n_machines):
            p = ",".join(str(int(round(v))) for v in instance.power[j, m, : d[j, m]])
            lines.append(p if instance.n_machines == 1 else f"{j},{m}," + p)
    for s in (instance.generation, instance.carbon, instance.price):
        if s is not None:
            lines.append(",".join(repr(float(v)) for v in s))
    write_text_atomic(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------------------- generator
def generate_cas(
    rng: np.random.Generator,
    n_jobs: int,
    n_machines: int,
    days: int = 1,
    load: float = 0.9,
    skip_prob: float = 0.15,
    name: str | None = None,
) -> PFSPInstance:
    """A random CAS-PFSP instance with the structure of the public sets.

    Choices (the public generator is not released; values mimic the files' ranges):
    operation lengths are uniform on 1..L, with L chosen so that the file-order no-idle
    makespan is about ``load`` of the horizon (the public sets leave 1-15 % slack); for M > 1
    each operation is skipped (length 0) with probability ``skip_prob`` (never all of a job);
    per-slot power is a job level in 100..3000 kW times a +-15 % slot-level noise; generation
    is a solar bell (peak 25-60 % of the mean load, 06:00-20:00, zero at night); carbon
    intensity is a daily wave between about 40 and 290 with noise; the price is hourly (4 equal
    slots), negative around midday. If the file order would miss the horizon, lengths are cut
    until it fits, so the file order with no idle time is always feasible (the seed individual).
    """
    if n_jobs < 1 or n_machines < 1 or days < 1 or not 0 < load <= 1:
        raise InstanceFormatError("generate_cas: need n_jobs, n_machines, days >= 1 and 0 < load <= 1")
    h = SLOTS_PER_DAY * days
    # Flow-shop makespan ~ (sum of the bottleneck machine) + fill-in; aim the sum per machine.
    per_machine = load * h * (1.0 if n_machines == 1 else 0.75)
    lmax = max(1, int(round(2 * per_machine / n_jobs)) - 1)
    d = rng.integers(1, lmax + 1, size=(n_jobs, n_machines))
    if n_machines > 1:
        skip = rng.random((n_jobs, n_machines)) < skip_prob
        skip[np.arange(n_jobs), rng.integers(0, n_machines, n_jobs)] = False
        d = np.where(skip, 0, d)
    while _no_idle_makespan(d) > h:
        j, m = np.unravel_index(int(np.argmax(d)), d.shape)
        d[j, m] -= 1
    level = rng.uniform(100, 3000, size=(n_jobs, n_machines, 1))
    dmax = max(int(d.max()), 1)
    power = np.round(level * rng.uniform(0.85, 1.15, size=(n_jobs, n_machines, dmax)))
    power = np.where(np.arange(dmax)[None, None, :] < d[:, :, None], power, 0.0)
    t = np.arange(h) % SLOTS_PER_DAY / 4.0  # hour of day
    mean_load = power.sum() / h
    peak = rng.uniform(0.25, 0.6, size=days).repeat(SLOTS_PER_DAY) * mean_load
    gen = np.round(np.clip(np.sin(np.pi * (t - 6.0) / 14.0), 0, None) * peak, 2)
    carbon = 165 + 100 * np.cos(2 * np.pi * (t - 3.0) / 24.0) * 0.8 + rng.normal(0, 15, h)
    carbon = np.round(np.clip(carbon, 41, 289), 2)
    hourly = 90 - 120 * np.clip(np.sin(np.pi * (np.arange(h // 4) % 24 - 8) / 10.0), 0, None) + rng.normal(0, 10, h // 4)
    price = np.round(np.repeat(hourly, 4), 2)
    return PFSPInstance(name or f"gen-M{n_machines}T{days}-N{n_jobs}", d, power, gen, carbon, price, days=days)


def _no_idle_makespan(d: np.ndarray) -> int:
    """Makespan of the file order with no idle time (zero-length operations kept)."""
    c = np.zeros(d.shape[1], np.int64)
    for j in range(d.shape[0]):
        prev = 0
        for m in range(d.shape[1]):
            prev = max(prev, c[m]) + d[j, m]
            c[m] = prev
    return int(c.max(initial=0))
