"""One error hierarchy: every expected failure is a ``JSchedError`` with a clear message.

The CLI catches ``JSchedError`` and prints its message on one line (no traceback).
"""

from __future__ import annotations


class JSchedError(Exception):
    """Base class of every error jsched raises on purpose."""


class InstanceFormatError(JSchedError):
    """A malformed instance file or object; the message names file, line and field."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        super().__init__(where + message)
        self.path = path
        self.line = line


class UnknownInstanceError(JSchedError):
    """A benchmark name that does not exist (the message suggests near names)."""


class ScheduleError(JSchedError):
    """An infeasible or incomplete schedule; the message names the first violation."""


class CheckpointError(JSchedError):
    """A missing, corrupt or mismatched checkpoint."""


class SolverError(JSchedError):
    """A solver failed to return a schedule (e.g. CP-SAT found none in the time limit)."""
