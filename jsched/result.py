"""``Result``: what every method returns — a validated schedule, its figures and the method's extras.

A method's ``solve`` builds ``Result(instance, schedule, extra=..., summary=...)``;
:func:`jsched.solve` validates it and fills in ``method`` and ``time_seconds``. ``to_json()`` is
the schedule JSON contract (:func:`jsched.schedule.schedule_payload`), ``gantt()`` a matplotlib
``Figure`` that leaves pyplot's state alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jsched.instances.model import Instance
from jsched.schedule import Schedule, gap_percent, schedule_payload, write_json_atomic


@dataclass(frozen=True, eq=False)
class Result:
    """A solved instance.

    Attributes:
        instance: the instance solved.
        schedule: the schedule (validated by :func:`jsched.solve` before it is returned).
        extra: the method's own fields (e.g. CP-SAT's ``status``/``bound``, a PFSP's ``emissions``);
            they go into the JSON.
        summary: keys of ``extra`` that the CLI prints on its one-line summary.
        method: the registry name of the method.
        time_seconds: wall time of the solve.
    """

    instance: Instance
    schedule: Schedule
    extra: dict[str, Any] = field(default_factory=dict)
    summary: tuple[str, ...] = ()
    method: str = ""
    time_seconds: float = 0.0

    @property
    def makespan(self) -> int:
        return self.schedule.makespan

    @property
    def objective(self) -> float:
        """The method's objective value: ``extra["objective"]`` (e.g. a delay), emissions on a
        CAS-PFSP, else the makespan."""
        for k in ("objective", "emissions"):
            if self.extra.get(k) is not None:
                return self.extra[k]
        return self.makespan

    @cached_property
    def best_known(self) -> int | None:
        """Best-known makespan of the benchmark this instance is (None for other instances)."""
        from jsched.instances import best_known, problem_kind

        return None if problem_kind(self.instance) == "pfsp" else best_known(self.instance)

    @property
    def gap(self) -> float | None:
        """Percentage gap of the makespan to the best known, ``100 * (C / C_bk - 1)``."""
        return gap_percent(self.makespan, self.best_known)

    def to_json(self) -> dict[str, Any]:
        """The schedule JSON contract as a dict (instance, method, makespan, ..., operations)."""
        return schedule_payload(self.instance, self.schedule, self.method, self.best_known, self.time_seconds, **self.extra)

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_json` to ``path`` atomically."""
        write_json_atomic(path, self.to_json())

    def gantt(self, title: str | None = None):
        """A matplotlib ``Figure`` of the schedule (one row per machine, one colour per job)."""
        from jsched.gantt import gantt_figure

        return gantt_figure(self.instance, self.schedule, title or self.title())

    def title(self) -> str:
        return f"{self.instance.name} - {self.method} - makespan {self.makespan}"

    def line(self) -> str:
        """The CLI's one-line summary."""
        bk, gap = self.best_known, self.gap
        parts = [
            f"instance={self.instance.name}",
            f"method={self.method}",
            f"makespan={self.makespan}",
            f"best_known={'-' if bk is None else bk}",
            f"gap={'-' if gap is None else f'{gap:.2f}%'}",
            f"time={self.time_seconds:.2f}s",
        ]
        return " ".join(parts + [f"{k}={self.extra[k]}" for k in self.summary])

    def __repr__(self) -> str:
        return f"Result({self.line()})"
