"""Instances: data models, file formats, generators, benchmarks and device arrays.

``load(spec)`` accepts a benchmark name (``ta01``, ``ft06``, ``dmu42``, ``mk01``,
``hurink/edata/la01``, ``sd2/10x5/001``, ...) or a file path (format by extension: ``.fjs``,
``.json``, ``.txt``/``.jsp``, ``.cas``; else by content) and returns a JSP, FJSP (or PFSP)
instance. ``best_known`` / ``bounds`` give the best-known makespan bounds of benchmark
instances; ``with_due_dates`` adds job due dates and weights to any of them (tardiness
objectives). The benchmarks ship with the package (see ``jsched.instances.benchmarks``).
"""

from __future__ import annotations

import os
from pathlib import Path

from jsched.errors import JSchedError
from jsched.instances.benchmarks import (
    FAMILIES,
    benchmark_bounds,
    fjsp_key_for_path,
    is_benchmark,
    list_benchmarks,
    load_benchmark,
    load_set,
    matches_benchmark,
    reference_results,
)
from jsched.instances.due_dates import with_due_dates
from jsched.instances.io import read_instance, write_instance
from jsched.instances.model import FJSPInstance, Instance, JSPInstance, as_fjsp

__all__ = [
    "FAMILIES",
    "FJSPInstance",
    "Instance",
    "JSPInstance",
    "as_fjsp",
    "best_known",
    "bounds",
    "list_benchmarks",
    "load",
    "load_set",
    "problem_kind",
    "read_instance",
    "reference_results",
    "with_due_dates",
    "write_instance",
]

_FILE_EXTS = (".fjs", ".json", ".txt", ".jsp", ".jss", ".jssp", ".cas")


def problem_kind(instance) -> str:
    """'jsp', 'fjsp' or 'pfsp'."""
    if isinstance(instance, JSPInstance):
        return "jsp"
    if isinstance(instance, FJSPInstance):
        return "fjsp"
    return getattr(instance, "kind", type(instance).__name__.lower())


def load(spec: str | os.PathLike) -> Instance:
    """Load a benchmark by name or an instance file by path.

    An existing file wins over a benchmark name; a spec that looks like a path (has a known
    extension) but does not exist raises InstanceFormatError rather than guessing a name.
    Files inside a data folder's ``fjsp/`` or ``sd2/`` (``$JSCHED_DATA``) are named by their
    benchmark name (e.g. ``hurink/edata/la01``, ``mk01``) so that their bounds are found.
    """
    if isinstance(spec, os.PathLike) or os.path.isfile(spec):
        key = fjsp_key_for_path(spec)
        return read_instance(spec, name=key)
    s = str(spec)
    if os.path.splitext(s)[1].lower() in _FILE_EXTS and not is_benchmark(s):
        return read_instance(s)  # raises "no such file" naming the path
    if os.path.isdir(s) and not is_benchmark(s):
        raise JSchedError(f"{s}: is a directory, not an instance file or benchmark name")
    return load_benchmark(s)


def bounds(name_or_instance) -> tuple[int, int] | None:
    """(lower, upper) best-known makespan bounds of a benchmark, or None when unknown.

    For an instance, the bounds apply only when its data equal the benchmark of the same name
    (a file called ``ta01.txt`` holding other numbers gets None).
    """
    if isinstance(name_or_instance, (str, Path)):
        name = str(name_or_instance)
        if os.path.isfile(name):
            key = fjsp_key_for_path(name)
            return benchmark_bounds(key) if key else None
        if not is_benchmark(name):
            from jsched.instances.benchmarks import _unknown

            raise _unknown(name)
        return benchmark_bounds(name)
    inst = name_or_instance
    name = getattr(inst, "name", None)
    if not name or not is_benchmark(name) or not matches_benchmark(inst, name):
        return None
    return benchmark_bounds(name)


def best_known(name_or_instance) -> int | None:
    """Best-known makespan (upper bound) of a benchmark name or instance, or None."""
    b = bounds(name_or_instance)
    return None if b is None else b[1]
