"""jsched: a JAX-native solver suite for shop scheduling (JSP, FJSP, PFSP).

The Python API (the CLI calls the same functions)::

    import jsched
    r = jsched.solve("ta01", method="slim", samples=16)   # a validated Result
    r.makespan, r.gap, r.to_json(), r.gantt()
    jsched.methods()                                      # every method and its options

Two layers: ``jsched.kernels`` (pure, jittable, vmappable environments, rules and decoders) and
the rest of ``jsched`` (instances, models, training, CP-SAT, CLI).
"""

from jsched.api import MethodInfo, evaluate, load, methods, solve, suite, train, validate
from jsched.errors import JSchedError
from jsched.result import Result
from jsched.schedule import Schedule

__version__ = "0.1.0"

__all__ = ["JSchedError", "MethodInfo", "Result", "Schedule", "evaluate", "load", "methods", "solve", "suite",
           "train", "validate"]  # fmt: skip


def __getattr__(name: str):
    """``jsched.graph`` and ``jsched.envs`` without an import line, loaded on first use: they
    import JAX (and jraph), which ``import jsched`` alone does not."""
    if name in ("graph", "envs"):
        import importlib

        return importlib.import_module(f"jsched.{name}")
    raise AttributeError(f"module 'jsched' has no attribute {name!r}")
