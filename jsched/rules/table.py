"""Every dispatching rule on every instance of a benchmark set (``jsched rules SET``).

Instances are grouped by shape; each group runs every rule in ONE jitted call (a rollout
vmapped over the rule index and the instances, ``jsched.kernels.rules.rule_set_policy``). Every
schedule passes the validator before it enters the table. The table shows the makespan and
the gap to the best-known makespan of each rule on each instance, the best rule per instance,
and the average gap of every column; ``--out`` writes the same as JSON (atomically).
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from jsched.errors import JSchedError


def rule_columns(kind: str, due_dates: bool = False) -> list[tuple[str, str, str]]:
    """(column name, rule, machine rule) for a problem kind; ``due_dates``: EDD and ATC too."""
    from jsched.kernels.rules import DUE_RULES, FJSP_JOB_RULES, JSP_RULES

    extra = DUE_RULES if due_dates else ()
    if kind == "jsp":
        return [(r, r, "spt") for r in JSP_RULES + extra]
    cols = [("spt", "spt", "spt")]
    for r in [r for r in FJSP_JOB_RULES if r not in DUE_RULES] + list(extra):
        cols += [(f"{r}-spt", r, "spt"), (f"{r}-eet", r, "eet")]
    return cols


def evaluate(instances, columns, kind: str, candidates: str = "nondelay") -> tuple[np.ndarray, list[list]]:
    """(n_instances, n_columns) validated makespans and the schedules behind them
    (``[instance][column]``); one jitted call per shape and machine rule.

    In the non-delay setting every candidate pair of a job starts at t*, so the FJSP machine
    rules SPT and EET (earliest end) coincide; they differ with ``candidates="all"``.
    """
    import jax
    import jax.numpy as jnp

    from jsched.kernels.rules import rule_set_policy
    from jsched.rollout import env_for, rollout_population, to_schedules

    out = np.zeros((len(instances), len(columns)), np.int64)
    schedules: list[list] = [[None] * len(columns) for _ in instances]
    # JSP sets come in blocks of equal size (one call each); FJSP sets mix sizes, so they are
    # padded to one shape (padding never changes a result) and run in a single call.
    groups = defaultdict(list)
    for i, inst in enumerate(instances):
        groups[(inst.n_jobs, inst.n_ops_per_job, inst.n_machines) if kind == "jsp" else "all"].append(i)
    by_machine_rule = defaultdict(list)
    for c, (_, rule, mr) in enumerate(columns):
        by_machine_rule[mr].append(c)
    for idx in groups.values():
        insts = [instances[i] for i in idx]
        env = env_for(insts[0])
        for mr, cols in by_machine_rule.items():
            names = tuple(columns[c][1] for c in cols)
            policy = rule_set_policy(names, kind, candidates, mr)
            res = rollout_population(policy, jnp.arange(len(names)), env, insts, jax.random.key(0))
            for k, c in enumerate(cols):
                scheds = to_schedules(insts, jax.tree.map(lambda x: x[k], res))
                for i, row in zip(idx, scheds):
                    out[i, c] = row[0].makespan
                    schedules[i][c] = row[0]
    return out, schedules


def _gap(ms, bk):
    return None if bk is None else 100.0 * (ms / bk - 1.0)


def rule_table(set_name: str, candidates: str = "nondelay", rules: str | None = None, out: str | None = None) -> dict:
    """Print the table of every rule (or the comma-separated ``rules``) on a set; ``out``: its JSON."""
    from jsched.instances import best_known, load_set, problem_kind
    from jsched.schedule import write_json_atomic

    name = set_name  # aliases (ta, mk, ...) are resolved by load_set
    instances = load_set(name)
    if not instances:
        raise JSchedError(f"benchmark set {set_name!r} is empty")
    kinds = {problem_kind(i) for i in instances}
    if len(kinds) != 1 or not kinds <= {"jsp", "fjsp"}:
        raise JSchedError(f"set {set_name!r}: rules need a set of JSP or of FJSP instances, got {sorted(kinds)}")
    kind = kinds.pop()
    if kind == "fjsp" and candidates == "active":
        raise JSchedError("--candidates active is defined for the JSP only")
    columns = rule_columns(kind)
    if rules:
        wanted = [r.strip().lower() for r in rules.split(",") if r.strip()]
        unknown = [r for r in wanted if r not in {c[0] for c in columns}]
        if unknown:
            raise JSchedError(f"unknown rule(s) {unknown} for {kind}; choose from {[c[0] for c in columns]}")
        columns = [c for c in columns if c[0] in wanted]
    t0 = time.perf_counter()
    ms, _ = evaluate(instances, columns, kind, candidates)
    elapsed = time.perf_counter() - t0
    bks = [best_known(i) for i in instances]
    names = [c[0] for c in columns]
    print_table(instances, names, ms, bks)
    print(f"{len(instances)} instances x {len(names)} rules in {elapsed:.1f}s (candidates={candidates})")
    rows = []
    for i, inst in enumerate(instances):
        best = int(ms[i].min())
        rows.append({
            "instance": inst.name,
            "best_known": bks[i],
            "makespan": {n: int(ms[i, c]) for c, n in enumerate(names)},
            "gap_percent": {n: _round(_gap(ms[i, c], bks[i])) for c, n in enumerate(names)},
            "best_rule": names[int(ms[i].argmin())],
            "best_makespan": best,
            "best_gap_percent": _round(_gap(best, bks[i])),
        })
    avg = average_gaps(ms, bks)
    table = {
        "set": name, "candidates": candidates, "rules": names, "instances": rows,
        "average_gap_percent": {n: _round(avg[c]) for c, n in enumerate(names)},
        "average_best_gap_percent": _round(avg[-1]), "time_seconds": round(elapsed, 3),
    }  # fmt: skip
    if out:
        write_json_atomic(out, table)
    return table


def _round(x):
    return None if x is None or np.isnan(x) else round(float(x), 4)


def average_gaps(ms: np.ndarray, bks) -> np.ndarray:
    """Mean gap of each column and of the best column, over instances with a best-known value."""
    have = np.array([b is not None for b in bks])
    if not have.any():
        return np.full(ms.shape[1] + 1, np.nan)
    b = np.array([bk for bk in bks if bk is not None], float)[:, None]
    full = np.concatenate([ms[have], ms[have].min(1, keepdims=True)], axis=1)
    return (100.0 * (full / b - 1.0)).mean(0)


def print_table(instances, names, ms, bks) -> None:
    """One row per instance: best-known, then 'makespan gap%' for every rule and the best."""
    cols = names + ["best"]
    w = 13
    print(f"{'instance':<10}{'bks':>7} " + "".join(f"{c:>{w}}" for c in cols))
    for i, inst in enumerate(instances):
        vals = list(ms[i]) + [ms[i].min()]
        cells = []
        for v in vals:
            g = _gap(v, bks[i])
            cells.append(f"{int(v)}" + ("" if g is None else f" {g:5.1f}%"))
        bk = "-" if bks[i] is None else str(int(bks[i]))
        print(f"{inst.name:<10}{bk:>7} " + "".join(f"{c:>{w}}" for c in cells))
    avg = average_gaps(ms, bks)
    print(f"{'avg gap':<10}{'':>7} " + "".join(f"{'-' if np.isnan(g) else f'{g:.2f}%':>{w}}" for g in avg))
