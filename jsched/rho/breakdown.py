"""Machine breakdowns in the RHO loop: the event queue and validation against down windows.

A breakdown ``(machine, start, end)`` is revealed when execution reaches ``start``; the repair
time is unknown, so the machine is unusable until its recovery event at ``end`` (paper App.
A.5.1). :func:`validate_with_breakdowns` reuses the one validator: each down window becomes a
blocking single-operation job on its machine.
"""

from __future__ import annotations

import numpy as np

from jsched.errors import JSchedError, ScheduleError
from jsched.instances.model import FJSPInstance, Instance, as_fjsp
from jsched.schedule import Schedule, validate

Interval = tuple[int, int, int]  # (machine, start, end)


def check_breakdowns(breakdowns, n_machines: int) -> list[Interval]:
    """Sorted ``(machine, start, end)`` tuples without empty ones; JSchedError on bad input."""
    out = []
    for i, b in enumerate(breakdowns):
        try:
            m, lo, hi = (int(x) for x in b)
        except (TypeError, ValueError):
            raise JSchedError(f"breakdown {i}: expected (machine, start, end), got {b!r}") from None
        if not 0 <= m < n_machines:
            raise JSchedError(f"breakdown {i}: machine {m} out of range 0..{n_machines - 1}")
        if lo < 0 or hi < lo:
            raise JSchedError(f"breakdown {i}: need 0 <= start <= end, got [{lo}, {hi})")
        if hi > lo:
            out.append((m, lo, hi))
    return sorted(out, key=lambda b: (b[1], b[0], b[2]))


class BreakdownQueue:
    """Pending breakdown starts and ends, revealed one event time at a time.

    Attributes:
        down: (M,) number of active (revealed, not yet recovered) breakdowns per machine.
    """

    def __init__(self, breakdowns: list[Interval], n_machines: int):
        # (time, kind, machine); at equal times recoveries come first (a machine repaired at t
        # and broken again at t is down from t on).
        ev = [(lo, 1, m) for m, lo, _ in breakdowns] + [(hi, 0, m) for m, _, hi in breakdowns]
        self._events = sorted(ev)
        self._i = 0
        self.down = np.zeros(n_machines, np.int64)

    def next_time(self) -> int | None:
        """Time of the next unrevealed event, or None."""
        return self._events[self._i][0] if self._i < len(self._events) else None

    @property
    def up(self) -> np.ndarray:
        """(M,) bool, True for machines that are not down."""
        return self.down == 0

    def pop(self) -> tuple[int, list[int], list[int]]:
        """Reveal every event at the next event time: (time, machines down, machines repaired)."""
        t = self.next_time()
        if t is None:
            raise IndexError("no pending breakdown event")
        went_down, repaired = [], []
        while self._i < len(self._events) and self._events[self._i][0] == t:
            _, kind, m = self._events[self._i]
            self._i += 1
            if kind == 1:
                self.down[m] += 1
                went_down.append(m)
            else:
                self.down[m] -= 1
                repaired.append(m)
        return t, went_down, repaired


def merged_windows(breakdowns: list[Interval]) -> list[Interval]:
    """Per machine, the union of its down intervals as disjoint ``(machine, start, end)``."""
    out: list[Interval] = []
    for m in sorted({b[0] for b in breakdowns}):
        spans = sorted((lo, hi) for mm, lo, hi in breakdowns if mm == m and hi > lo)
        cur = None
        for lo, hi in spans:
            if cur is not None and lo <= cur[1]:
                cur = (cur[0], max(cur[1], hi))
            else:
                if cur is not None:
                    out.append((m, *cur))
                cur = (lo, hi)
        if cur is not None:
            out.append((m, *cur))
    return out


def validate_with_breakdowns(instance: Instance, schedule: Schedule, breakdowns) -> Schedule:
    """:func:`jsched.schedule.validate`, plus: no operation runs on a machine while it is down.

    The schedule is first validated on ``instance``; then on an augmented instance where each
    merged down window is a single-operation job placed exactly on it (see the module docstring).
    Returns ``schedule`` unchanged; raises ScheduleError naming the window and the operation.
    """
    f = as_fjsp(instance)
    validate(f, schedule)
    win = merged_windows(check_breakdowns(breakdowns, f.n_machines))
    if not win:
        return schedule
    k, M = len(win), f.n_machines
    dur = np.zeros((k, M), np.int64)
    elig = np.zeros((k, M), bool)
    for i, (m, lo, hi) in enumerate(win):
        dur[i, m], elig[i, m] = hi - lo, True
    aug = FJSPInstance(
        f"{f.name}+breakdowns",
        M,
        np.concatenate([f.job_lengths, np.ones(k, np.int64)]),
        np.concatenate([f.durations, dur]),
        np.concatenate([f.eligible, elig]),
        release=np.concatenate([f.release, [lo for _, lo, _ in win]]),
    )
    sched = Schedule(
        np.concatenate([schedule.job, f.n_jobs + np.arange(k)]),
        np.concatenate([schedule.op, np.zeros(k, np.int64)]),
        np.concatenate([schedule.machine, [m for m, _, _ in win]]),
        np.concatenate([schedule.start, [lo for _, lo, _ in win]]),
        np.concatenate([schedule.end, [hi for _, _, hi in win]]),
    )
    try:
        validate(aug, sched)
    except ScheduleError as e:
        raise ScheduleError(
            f"machine breakdown: {e} (jobs {f.n_jobs}..{f.n_jobs + k - 1} are the down windows "
            f"{[(m, lo, hi) for m, lo, hi in win]})"
        ) from None
    return schedule
