"""Dispatching rules as ``jsched solve INSTANCE --method RULE`` methods.

A rule is rolled out greedily in the jitted dispatch env (``jsched.kernels.rules``): the JSP env for
a JSP instance, the FJSP env for an FJSP instance. Candidates default to the non-delay set
(``--candidates``); FJSP job rules choose their machine by ``--machine-rule`` (``spt`` or
``eet``, earliest end time). Heavy imports are deferred so that the method registry stays
light; ``RULE_METHODS`` must list the rules of ``jsched.kernels.rules`` (a test checks it).
"""

from __future__ import annotations

import argparse

# (method name, problems it solves): every JSP rule; the FJSP ones also take FJSP instances.
JSP_ONLY = ("lpt", "sps", "lwkr", "spsr", "lptn", "lwt")
BOTH = ("fifo", "spt", "mwkr", "ltwr", "mor", "lor")
RULE_METHODS = tuple((r, ("jsp",)) for r in JSP_ONLY) + tuple((r, ("jsp", "fjsp")) for r in BOTH)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--candidates",
        choices=("nondelay", "active", "all"),
        default="nondelay",
        help="jobs a rule chooses from: Giffler-Thompson non-delay (default) or active set, or all "
        "(active is JSP only)",
    )
    parser.add_argument(
        "--machine-rule", choices=("spt", "eet"), default="spt", help="FJSP machine choice of job rules"
    )


def solve(instance, args):
    import jax

    from jsched.errors import JSchedError
    from jsched.instances import problem_kind
    from jsched.methods import SolveOutput
    from jsched.rollout import best_schedules, env_for, rollout
    from jsched.kernels.rules import rule_policy

    kind = problem_kind(instance)
    candidates = getattr(args, "candidates", "nondelay")
    machine_rule = getattr(args, "machine_rule", "spt")
    if kind == "fjsp" and candidates == "active":
        raise JSchedError("--candidates active is defined for the JSP only; use nondelay or all")
    policy = rule_policy(args.method, kind, candidates, machine_rule)
    res = rollout(policy, None, env_for(instance), [instance], jax.random.key(args.seed))
    (sched,) = best_schedules([instance], res)
    extra = {"rule": args.method, "candidates": candidates}
    if kind == "fjsp":
        extra["machine_rule"] = machine_rule
    return SolveOutput(sched, extra)
