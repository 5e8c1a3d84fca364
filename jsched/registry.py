"""The one registry of methods: a line per method covers solve, train and evaluate.

A method is a module (imported only when used) that exports

* ``Config`` (a frozen dataclass of :func:`jsched.options.option` fields) and
  ``solve(instance, config, key) -> jsched.Result``;
* optionally ``TrainConfig`` and ``train(config, key) -> dict`` (a training run's summary);
* optionally ``evaluate(instances, config, key) -> list[Result]``: a batched solve of many
  instances with the same ``Config`` (without it, :func:`jsched.evaluate` solves one by one).

``preset`` fixes options of an entry (the rules share one module, each entry fixing ``rule``;
``lrho`` is ``rho`` with ``variant="lrho"``). Adding a method is one module plus one
:func:`register` line.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any, Mapping

from jsched.errors import JSchedError

VERBS = ("solve", "train", "evaluate")
_CONFIG = {"solve": "Config", "train": "TrainConfig", "evaluate": "Config"}


@dataclass(frozen=True)
class Method:
    """A registry entry.

    Attributes:
        name: what users type (``--method NAME``, ``jsched.solve(..., method=NAME)``).
        module: dotted path of the module implementing it.
        problems: the instance kinds it solves, a subset of ("jsp", "fjsp", "pfsp").
        help: one line for listings.
        preset: options this entry fixes (users may not set them).
        verbs: the verbs this entry offers (default: those its module implements).
    """

    name: str
    module: str
    problems: tuple[str, ...]
    help: str
    preset: Mapping[str, Any] = field(default_factory=dict)
    verbs: tuple[str, ...] | None = None

    def load(self) -> ModuleType:
        try:
            return importlib.import_module(self.module)
        except ImportError as e:
            raise JSchedError(f"method {self.name!r} is unavailable: {e}") from None

    def offers(self, verb: str) -> bool:
        if self.verbs is not None:
            return verb in self.verbs
        if verb == "evaluate":  # every method can evaluate a set, batched or one by one
            return True
        mod = self.load()
        return hasattr(mod, verb) and hasattr(mod, _CONFIG[verb])

    def config_class(self, verb: str = "solve") -> type:
        if not self.offers(verb):
            have = [v for v in VERBS if self.offers(v)]
            raise JSchedError(f"method {self.name!r} has no {verb}; it offers: {', '.join(have)}")
        return getattr(self.load(), _CONFIG[verb])

    def config(self, verb: str = "solve", **options: Any) -> Any:
        """The verb's Config from user options plus this entry's preset (checked, one-line errors)."""
        from jsched.options import make_config

        fixed = sorted(set(options) & set(self.preset))
        if fixed:
            raise JSchedError(f"method {self.name!r} fixes {', '.join(fixed)}; choose another method instead")
        cls = self.config_class(verb)
        names = {f.name for f in dataclasses.fields(cls)}
        preset = {k: v for k, v in self.preset.items() if k in names}  # e.g. lrho's variant: no train option
        return make_config(cls, {**options, **preset}, f"method {self.name!r}")

    def function(self, verb: str):
        """The module's function for ``verb`` (None for an ``evaluate`` it does not batch)."""
        self.config_class(verb)  # the "has no VERB" error
        return getattr(self.load(), verb, None)


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add (or replace) a registry entry; returns it."""
    object.__setattr__(method, "preset", MappingProxyType(dict(method.preset)))
    METHODS[method.name] = method
    return method


def get(name: str) -> Method:
    """The entry called ``name``; an unknown name lists the known ones."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise JSchedError(f"unknown method {name!r}; choose one of: {', '.join(sorted(METHODS))}") from None


JSP_RULES = ("lpt", "sps", "lwkr", "spsr", "lptn", "lwt")  # the rules defined for the JSP only
BOTH_RULES = ("fifo", "spt", "mwkr", "ltwr", "mor", "lor")  # the rules that also take FJSP instances
DUE_RULES = ("edd", "atc")  # the due-date rules (JSP and FJSP instances with job due dates)

register(Method("cpsat", "jsched.cpsat.method", ("jsp", "fjsp"), "OR-tools CP-SAT (exact, time-limited)"))
for _rule in JSP_RULES + BOTH_RULES + DUE_RULES:
    register(Method(_rule, "jsched.rules.method", ("jsp",) if _rule in JSP_RULES else ("jsp", "fjsp"),
                    f"dispatching rule {_rule.upper()} (greedy, jitted)", preset={"rule": _rule}))  # fmt: skip
register(Method("ma", "jsched.dac.ma_method", ("pfsp",), "memetic algorithm for carbon-aware PFSP (static parameters)"))
register(Method("ma-dac", "jsched.dac.method", ("pfsp",), "memetic algorithm for carbon-aware PFSP, parameters set by a DAC policy"))
register(Method("hh", "jsched.hh.method", ("jsp",), "Petri-net hyper-heuristic PPO over 7 dispatching rules"))
register(Method("slim", "jsched.slim.method", ("jsp",), "SLIM self-labelling pointer network (greedy, or best of N samples)"))
register(Method("daniel", "jsched.dfmeta.daniel_method", ("fjsp",), "DANIEL dual-attention FJSP policy (PPO), greedy or best of N samples"))
register(Method("dfmeta", "jsched.dfmeta.method", ("jsp", "fjsp"), "DF-Meta: ES test-time adaptation from a meta-trained theta_0"))
register(Method("best", "jsched.portfolio.method", ("jsp", "fjsp"),
                "portfolio: rules and learned sampling, then CP-SAT from their best schedule"))  # fmt: skip
register(Method("rho", "jsched.rho.method", ("fjsp",), "rolling-horizon CP-SAT (default RHO and its variants)",
                verbs=("solve", "evaluate")))  # fmt: skip
register(Method("lrho", "jsched.rho.method", ("fjsp",), "L-RHO: rolling-horizon CP-SAT, a learned model fixes operations",
                preset={"variant": "lrho"}))  # fmt: skip
