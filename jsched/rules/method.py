"""A dispatching rule (``--method fifo|spt|mwkr|...``), rolled out greedily in the jitted env.

The JSP env for a JSP instance, the FJSP env for an FJSP instance; candidates default to the
non-delay set; FJSP job rules choose their machine by ``machine_rule`` (``spt``, or ``eet``:
earliest end time). Each registry entry fixes ``rule``. EDD and ATC need job due dates.
"""

from __future__ import annotations

from dataclasses import dataclass

from jsched.errors import JSchedError
from jsched.options import option
from jsched.registry import BOTH_RULES, DUE_RULES, JSP_RULES
from jsched.result import Result


@dataclass(frozen=True)
class Config:
    rule: str = option("mwkr", "the dispatching rule (fixed by the method name)", choices=JSP_RULES + BOTH_RULES + DUE_RULES, cli=False)
    candidates: str = option("nondelay", "jobs a rule chooses from: Giffler-Thompson non-delay, active (JSP only) or all",
                             choices=("nondelay", "active", "all"))  # fmt: skip
    machine_rule: str = option("spt", "FJSP: machine choice of a job rule", choices=("spt", "eet"))


def evaluate(instances, config: Config, key) -> list[Result]:
    """The rule on every instance; one jitted rollout per instance shape."""
    from jsched.instances import problem_kind
    from jsched.kernels.rules import rule_policy
    from jsched.rollout import best_schedules, env_for, rollout
    from jsched.schedule import require_due_dates

    if config.rule in DUE_RULES:
        for inst in instances:
            require_due_dates(inst, f"rule {config.rule}")
    out: dict[int, Result] = {}
    groups: dict[tuple, list[int]] = {}
    for i, inst in enumerate(instances):
        groups.setdefault((problem_kind(inst), inst.shape), []).append(i)
    for (kind, _), idx in groups.items():
        if kind == "fjsp" and config.candidates == "active":
            raise JSchedError("candidates 'active' is defined for the JSP only; use nondelay or all")
        policy = rule_policy(config.rule, kind, config.candidates, config.machine_rule)
        insts = [instances[i] for i in idx]
        res = rollout(policy, None, env_for(insts[0]), insts, key)
        extra = {"rule": config.rule, "candidates": config.candidates}
        if kind == "fjsp":
            extra["machine_rule"] = config.machine_rule
        for i, inst, sched in zip(idx, insts, best_schedules(insts, res)):
            out[i] = Result(inst, sched, dict(extra))
    return [out[i] for i in range(len(instances))]


def solve(instance, config: Config, key) -> Result:
    return evaluate([instance], config, key)[0]
