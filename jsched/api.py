"""The Python API: ``jsched.solve``, ``train``, ``evaluate``, ``methods``, ``load``, ``validate``.

Every call goes through the one registry (:mod:`jsched.registry`); the CLI calls these same
functions. ``seed`` becomes the method's ``jax.random`` key; every other keyword is an option of
the method's ``Config`` (``jsched.methods()`` lists them with their defaults).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Any

from jsched.errors import JSchedError
from jsched.instances.model import Instance
from jsched.registry import METHODS, VERBS, get
from jsched.result import Result
from jsched.schedule import Schedule


@dataclass(frozen=True)
class MethodInfo:
    """What :func:`methods` lists per method: its problems, verbs and solve options."""

    name: str
    problems: tuple[str, ...]
    help: str
    verbs: tuple[str, ...]
    options: tuple[tuple[str, str, Any, str], ...]  # (name, type, default, help)


def load(instance: str | os.PathLike | Instance) -> Instance:
    """An instance from a benchmark name (``ta01``, ``mk01``), a file path, or as given."""
    if isinstance(instance, (str, os.PathLike)):
        from jsched.instances import load as load_instance

        return load_instance(instance)
    from jsched.instances import problem_kind

    if problem_kind(instance) not in ("jsp", "fjsp", "pfsp"):
        raise JSchedError(f"expected an instance name, path or instance object, got {type(instance).__name__}")
    return instance


def validate(instance: str | os.PathLike | Instance, schedule: Schedule) -> Schedule:
    """Check ``schedule`` against ``instance`` (precedence, capacity, eligibility, releases,
    completeness); raises :class:`~jsched.errors.ScheduleError` naming the first violation."""
    from jsched.schedule import validate as check

    return check(load(instance), schedule)


def methods() -> dict[str, MethodInfo]:
    """Every registered method with its problems, verbs and solve options (name, type, default, help)."""
    from jsched.options import describe

    out = {}
    for name in sorted(METHODS):
        m = METHODS[name]
        try:
            opts = tuple(o for o in describe(m.config_class("solve")) if o[0] not in m.preset)
            out[name] = MethodInfo(name, m.problems, m.help, tuple(v for v in VERBS if m.offers(v)), opts)
        except JSchedError as e:  # listed, but marked: e.g. an optional dependency is missing
            out[name] = MethodInfo(name, m.problems, f"{m.help} [{e}]", (), ())
    return out


def _key(seed: int):
    import jax

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise JSchedError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return jax.random.key(seed)


def _check_kind(entry, inst: Instance) -> None:
    from jsched.instances import problem_kind

    kind = problem_kind(inst)
    if kind not in entry.problems:
        raise JSchedError(f"method {entry.name!r} solves {'/'.join(entry.problems)}, not {kind} ({inst.name})")


def _finish(entry, result: Result, inst: Instance, seconds: float) -> Result:
    from jsched.schedule import validate as check

    check(inst, result.schedule)
    return replace(result, instance=inst, method=entry.name, time_seconds=seconds)


def solve(instance: str | os.PathLike | Instance, method: str = "cpsat", *, seed: int = 0, **options: Any) -> Result:
    """Solve one instance with one method; returns a validated :class:`~jsched.Result`.

    Example:
        >>> r = jsched.solve("ta01", method="slim", samples=16)
        >>> r.makespan, r.gap, r.to_json()["operations"][0]
    """
    entry = get(method)
    config = entry.config("solve", **options)
    inst = load(instance)
    _check_kind(entry, inst)
    key = _key(seed)
    t0 = time.perf_counter()
    result = entry.function("solve")(inst, config, key)
    return _finish(entry, result, inst, time.perf_counter() - t0)


def train(method: str, *, seed: int = 0, **options: Any) -> dict:
    """Train the model behind ``method`` (progress bar, a checkpoint per chunk, ``resume``);
    returns the run's summary (checkpoint path, steps, metrics)."""
    entry = get(method)
    config = entry.config("train", **options)
    return entry.function("train")(config, _key(seed))


def suite(name_or_instances: str | list) -> list[Instance]:
    """The instances of a benchmark set (``taillard``, ``dmu``, ``brandimarte``, ...) or of a list
    of names, paths and instances."""
    if isinstance(name_or_instances, (str, os.PathLike)):
        from jsched.instances import load_set

        return load_set(os.fspath(name_or_instances))
    return [load(x) for x in name_or_instances]


def evaluate(method: str, instances: str | list, *, seed: int = 0, **options: Any) -> list[Result]:
    """Solve every instance of a benchmark set (or list) with ``method``: a validated
    :class:`~jsched.Result` each, batched where the method supports it."""
    entry = get(method)
    config = entry.config("evaluate", **options)
    insts = suite(instances)
    for inst in insts:
        _check_kind(entry, inst)
    key = _key(seed)
    batched = entry.function("evaluate")
    if batched is not None:
        t0 = time.perf_counter()
        results = batched(insts, config, key)
        per = (time.perf_counter() - t0) / max(len(insts), 1)
        return [_finish(entry, r, inst, per) for r, inst in zip(results, insts)]
    solve_one = entry.function("solve")
    out = []
    for inst in insts:
        t0 = time.perf_counter()
        out.append(_finish(entry, solve_one(inst, config, key), inst, time.perf_counter() - t0))
    return out
