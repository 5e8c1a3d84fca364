"""Registry of the methods behind ``jsched solve --method NAME``.

Each method lives in its own module, imported only when used, which provides:

* ``add_arguments(parser)`` (optional): method-specific command-line options;
* ``solve(instance, args) -> SolveOutput``: a schedule (validated by the caller) and extra
  fields for the JSON payload.

To add a method, add one ``Method`` line to ``METHODS``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from jsched.errors import JSchedError
from jsched.schedule import Schedule


@dataclass
class SolveOutput:
    """What a method returns: the schedule and extra JSON fields.

    ``extra`` goes into the JSON payload; the keys named in ``summary`` are also printed
    on the one-line summary (e.g. CP-SAT's ``status``, PFSP's ``emissions``).
    """

    schedule: Schedule
    extra: dict[str, Any] = field(default_factory=dict)
    summary: tuple[str, ...] = ()


@dataclass(frozen=True)
class Method:
    name: str
    module: str
    problems: tuple[str, ...]  # subset of ("jsp", "fjsp", "pfsp")
    help: str

    def load(self):
        try:
            return importlib.import_module(self.module)
        except ImportError as e:
            raise JSchedError(f"method {self.name!r} is unavailable: {e}") from None


METHODS: dict[str, Method] = {}


def register(method: Method) -> None:
    METHODS[method.name] = method


register(Method("cpsat", "jsched.cpsat_method", ("jsp", "fjsp"), "OR-tools CP-SAT (exact, time-limited)"))
for _rule, _problems in importlib.import_module("jsched.rule_method").RULE_METHODS:  # fifo, spt, mwkr, ...
    register(Method(_rule, "jsched.rule_method", _problems, f"dispatching rule {_rule.upper()} (greedy, jitted)"))
register(Method("ma", "jsched.dac.solve_ma", ("pfsp",), "memetic algorithm for carbon-aware PFSP (static parameters)"))
register(Method("ma-dac", "jsched.dac.solve_dac", ("pfsp",), "memetic algorithm for carbon-aware PFSP, parameters set by a DAC policy"))
register(Method("hh", "jsched.hh.method", ("jsp",), "Petri-net hyper-heuristic PPO over 7 dispatching rules"))
register(Method("slim", "jsched.slim.method", ("jsp",), "SLIM self-labelling pointer network (greedy or --samples N)"))
register(Method("daniel", "jsched.dfmeta.daniel_method", ("fjsp",), "DANIEL dual-attention FJSP policy (PPO), greedy or sampling"))
register(Method("dfmeta", "jsched.dfmeta.method", ("jsp", "fjsp"), "DF-Meta: K ES steps of test-time adaptation from a theta_0 (DANIEL on FJSP, SLIM on JSP)"))
