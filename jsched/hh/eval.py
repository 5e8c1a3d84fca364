"""Evaluate HH agents against the 7 rules, per Taillard instance (``jsched eval hh taillard``).

For every instance: the makespan of each single rule, the best rule, and the agent (greedy, or
best of greedy + ``samples`` sampled rollouts), each schedule checked by the one validator.
Instances are padded into the smallest shipped (or given) agent that fits them; instances
that fit no agent are reported with rules only.
"""

from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.hh.agent import Policy, load_policy, shipped_policy_path, shipped_sizes
from jsched.hh.instances import best_known, taillard, taillard_names
from jsched.instances.arrays import jsp_params
from jsched.instances.model import JSPInstance
from jsched.schedule import Schedule, validate
from jsched.kernels import petri
from jsched.kernels import petri_rules as R


@jax.jit
def _all_rules(p):
    def one(rule):
        return petri.rollout(p, lambda q, s: R.choose(rule, q, s))

    return jax.vmap(one)(jnp.arange(len(R.RULES)))


def rule_schedules(inst: JSPInstance) -> dict[str, np.ndarray]:
    """Start times (J, O) of each of the 7 rules on ``inst``."""
    final = _all_rules(jsp_params(inst))
    return {name: np.asarray(final.start[k]) for k, name in enumerate(R.RULES)}


def rule_makespans(inst: JSPInstance) -> dict[str, int]:
    """Validated makespan of each rule."""
    out = {}
    for name, start in rule_schedules(inst).items():
        out[name] = validate(inst, Schedule.from_arrays(inst, start)).makespan
    return out


@functools.lru_cache(maxsize=None)
def _shipped(j: int, m: int) -> Policy:
    return load_policy(shipped_policy_path(j, m))


def policy_for(inst: JSPInstance, policies: list[Policy] | None = None) -> Policy | None:
    """The given or shipped agent of the smallest size that ``inst`` fits into (None if none)."""
    if policies is None:
        policies = [_shipped(j, m) for j, m in shipped_sizes()]
    fits = [p for p in policies if p.fits(inst)]
    return min(fits, key=lambda p: p.cfg.n_jobs * p.cfg.n_machines) if fits else None


def evaluate(names: list[str], policies: list[Policy] | None = None, samples: int = 0, seed: int = 0,
             commitment: int | None = None, instances: dict[str, JSPInstance] | None = None) -> list[dict]:
    """One row per instance: rules, best rule, agent makespan, gap of the agent to the best rule."""
    rows = []
    for name in names:
        inst = instances[name] if instances else taillard(name)
        rm = rule_makespans(inst)
        best_rule = min(rm, key=lambda k: (rm[k], R.RULES.index(k)))
        row = {"instance": name, "size": inst.shape, **rm, "best_rule": best_rule, "best_rule_makespan": rm[best_rule],
               "best_known": best_known(name)}
        pol = policy_for(inst, policies)
        if pol is not None:
            start, ms, rules, mode = pol.solve(inst, samples=samples, seed=seed, commitment=commitment)
            ms = validate(inst, Schedule.from_arrays(inst, start)).makespan
            row.update(hh=ms, hh_mode=mode, hh_agent=f"{pol.cfg.n_jobs}x{pol.cfg.n_machines}",
                       hh_gap_to_best_rule=round(100.0 * (ms / rm[best_rule] - 1.0), 3),
                       hh_rule_counts={r: rules.count(r) for r in R.RULES if r in rules})
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """A plain-text table with group averages per size."""
    cols = ["instance", "size", *R.RULES, "best_rule_makespan", "hh", "hh_gap_to_best_rule"]
    head = ["inst", "size", *R.RULES, "best", "HH", "gap%"]
    lines = [" ".join(f"{h:>7}" for h in head)]
    for r in rows:
        lines.append(" ".join(f"{'-' if r.get(c) is None else r.get(c):>7}" for c in cols))
    with_hh = [r for r in rows if "hh" in r]
    lines.append("")
    for size in dict.fromkeys(r["size"] for r in rows):
        grp = [r for r in rows if r["size"] == size]
        avg = {c: np.mean([r[c] for r in grp]) for c in (*R.RULES, "best_rule_makespan")}
        hh = [r["hh"] for r in grp if "hh" in r]
        lines.append(f"avg {size:>7} " + " ".join(f"{avg[c]:7.1f}" for c in (*R.RULES, "best_rule_makespan"))
                     + (f" {np.mean(hh):7.1f}" if len(hh) == len(grp) else "       -"))
    if with_hh:
        b = np.mean([r["best_rule_makespan"] for r in with_hh])
        h = np.mean([r["hh"] for r in with_hh])
        lines.append(f"agent vs best rule over {len(with_hh)} instances: {h:.1f} vs {b:.1f} ({100 * (h / b - 1):+.2f}%)")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``jsched eval hh BENCHMARK`` (BENCHMARK: taillard, a size like 15x15, or names)."""
    p.add_argument("benchmark", nargs="+", help="'taillard', a size group such as 15x15, or instance names ta01 ...")
    p.add_argument("--policy", action="append", help="policy file(s) to use instead of the shipped agents")
    p.add_argument("--samples", type=int, default=0, help="sampled rollouts besides the greedy one (best kept)")
    p.add_argument("--commitment", type=int, help="override the agent's commitment x")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the rows as JSON here")


def resolve_names(spec: list[str]) -> list[str]:
    names: list[str] = []
    for s in spec:
        s = s.lower()
        if s == "taillard":
            names += taillard_names()
        elif "x" in s and s.replace("x", "").isdigit():
            j, m = (int(v) for v in s.split("x"))
            grp = taillard_names(j, m)
            if not grp:
                raise JSchedError(f"no Taillard group of size {s}")
            names += grp
        else:
            names.append(s)
    return names


def run(args: argparse.Namespace) -> int:
    """``jsched eval hh BENCHMARK``: print the table, optionally write JSON."""
    from jsched.schedule import write_json_atomic

    policies = [load_policy(p) for p in args.policy] if args.policy else None
    rows = evaluate(resolve_names(args.benchmark), policies, samples=args.samples, seed=args.seed,
                    commitment=args.commitment)
    print(format_table(rows))
    if args.out:
        write_json_atomic(args.out, {"rows": rows})
    return 0
