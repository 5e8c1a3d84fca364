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
    """``jsched.graph`` without an import line, loaded on first use: it imports jraph and JAX,
    which ``import jsched`` alone does not."""
    if name == "graph":
        import importlib

        return importlib.import_module("jsched.graph")
    raise AttributeError(f"module 'jsched' has no attribute {name!r}")
