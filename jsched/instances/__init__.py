"""Instances: data models, file formats, generators, benchmarks and device arrays.

``load(spec)`` accepts a benchmark name (``ta01``, ``ft06``, ``dmu42``, ``mk01``, ...) or a
file path (format by extension or content) and returns a JSP or FJSP instance.
"""

from jsched.instances.model import FJSPInstance, Instance, JSPInstance, as_fjsp

__all__ = ["FJSPInstance", "Instance", "JSPInstance", "as_fjsp", "problem_kind"]


def problem_kind(instance) -> str:
    """'jsp', 'fjsp' or 'pfsp'."""
    if isinstance(instance, JSPInstance):
        return "jsp"
    if isinstance(instance, FJSPInstance):
        return "fjsp"
    return getattr(instance, "kind", type(instance).__name__.lower())
