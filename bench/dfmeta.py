"""DF-Meta vs its baselines at equal rollout budgets, and population-rollout throughput.

Claim 1 (spec table): on SD2 test instances (DANIEL's seed-200 set), gap to CP-SAT (stated
time limit) of the base DANIEL policy (greedy; sampling with the whole budget), Active Search,
EAS, ES without meta (theta_0 = the PPO policy) and DF-Meta (theta_0 meta-trained), every
adaptive method at the same budget R = K * mu * L + L rollouts per instance.

Population-rollout throughput (vmapped vs one individual at a time) is ``bench/dfmeta_throughput.py``.

Usage: ``python bench/dfmeta.py --instances 5 --K 3 --mu 20 --L 4 --cpsat-time 10``; writes
``bench/results/dfmeta.json`` and ``bench/results/dfmeta.csv`` (``--out PREFIX`` for others).
``--sigma`` / ``--inner-lr`` set the test-time ES of both ES columns (default: the spec's);
``--offset`` skips test instances, e.g. the first five that ``bench/dfmeta_sweep.py`` tuned on.

Every makespan in the table is that of a schedule built from the method's own arrays and passed
through ``jsched.schedule.validate``: the best greedy/sampled rollout (:func:`validated_best`), the
Active Search / EAS best action sequence replayed on the env (:func:`validated_search`), and the
ES columns' best schedule (``adapt_instance`` validates it).
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from jsched.atomic import atomic_path
from jsched.dfmeta import baselines, daniel
from jsched.dfmeta.adapt import adapt_instance
from jsched.dfmeta.daniel_method import MODEL, load_model
from jsched.dfmeta.es import DFMetaConfig
from jsched.dfmeta.method import THETA0, load_theta0
from jsched.errors import ScheduleError
from jsched.instances.arrays import fjsp_params
from jsched.instances.generators import sd2_fjsp_set
from jsched.instances.model import Instance
from jsched.kernels.env import Env
from jsched.rollout import RolloutResult, best_schedules, rollout
from jsched.schedule import write_json_atomic

HERE = os.path.dirname(os.path.abspath(__file__))


def gap(ms, ref):
    return 100.0 * (ms / ref - 1.0)


def validated_best(inst: Instance, res: RolloutResult, claimed: float | None = None) -> int:
    """The makespan of ``res``'s best rollout on ``inst`` (one instance), from its validated schedule.

    The schedule is built from the rollout's start/machine arrays and checked by
    ``jsched.schedule.validate``; a makespan that differs from the kernel's (or from ``claimed``,
    a search's reported best) is a ScheduleError: no unchecked number enters a figure.
    """
    sched = best_schedules([inst], res)[0]
    for what, value in (("rollout", np.asarray(res.makespan).min()), ("reported", claimed)):
        if value is not None and sched.makespan != value:
            raise ScheduleError(f"{inst.name}: {what} makespan {value} but its validated schedule's is {sched.makespan}")
    return sched.makespan


@functools.partial(jax.jit, static_argnames=("env",))
def replay(env: Env, params, actions: jax.Array) -> RolloutResult:
    """Replay an action sequence (-1: no step) on one instance's env params: a one-rollout result
    (leading axes (1, 1)) with the schedule's start and machine arrays."""
    key = jax.random.key(0)  # the dispatch envs ignore keys

    def body(state, a):
        new, _, _ = env.step(key, params, state, jnp.maximum(a, 0))
        return jax.tree.map(lambda n, o: jnp.where(a >= 0, n, o), new, state), None

    state, _ = jax.lax.scan(body, env.reset(key, params), actions)
    one = lambda x: x[None, None]  # noqa: E731
    return RolloutResult(one(actions), one(env.makespan(state)), one(state.start), one(env.op_machines(params, state)),
                         one(jnp.zeros((), jnp.float32)))


def validated_search(inst: Instance, fp, res: baselines.SearchResult, env: Env = daniel.ENV) -> int:
    """The makespan of an Active Search / EAS result: its best actions replayed and validated."""
    return validated_best(inst, replay(env, fp, res.best_actions), claimed=float(res.best_cost))


def quality(args, policy_params, theta0, insts, refs) -> list[dict]:
    cfg = DFMetaConfig(K=args.K, mu=args.mu, L=args.L, estimator=args.estimator, sigma=args.sigma, inner_lr=args.inner_lr)
    budget = cfg.rollouts_per_instance
    batch = args.mu
    iters = max(1, budget // batch)
    rows = []
    as_fn = jax.jit(lambda k, fp: baselines.active_search(daniel.policy, daniel.ENV, policy_params, fp, k, iters, batch, args.as_lr))
    eas0 = daniel.init_eas(jax.random.key(1))
    eas_fn = jax.jit(lambda k, fp: baselines.eas(daniel.policy_eas, daniel.ENV, policy_params, eas0, fp, k, iters, batch, args.eas_lr))
    for i, (inst, ref) in enumerate(zip(insts, refs)):
        key = jax.random.key(args.seed + i)
        fp = fjsp_params(inst)
        res = {}
        t = time.perf_counter()
        res["greedy"] = validated_best(inst, rollout(daniel.policy, policy_params, daniel.ENV, [inst], key, "greedy"))
        res["sampling"] = validated_best(inst, rollout(daniel.policy, policy_params, daniel.ENV, [inst], key, "sample", budget))
        res["active_search"] = validated_search(inst, fp, as_fn(key, fp))
        res["eas"] = validated_search(inst, fp, eas_fn(key, fp))
        res["es_no_meta"] = adapt_instance(daniel.policy, daniel.ENV, policy_params, inst, cfg, key).makespan
        if theta0 is not None:
            res["dfmeta"] = adapt_instance(daniel.policy, daniel.ENV, theta0, inst, cfg, key).makespan
        row = {"instance": inst.name, "cpsat": ref, "budget": budget, **res, "seconds": round(time.perf_counter() - t, 1)}
        rows.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--machines", type=int, default=5)
    ap.add_argument("--K", type=int, default=3)
    ap.add_argument("--mu", type=int, default=20)
    ap.add_argument("--L", type=int, default=4)
    ap.add_argument("--estimator", default="mc-best")
    ap.add_argument("--sigma", type=float, default=DFMetaConfig.sigma, help="ES perturbation std of ES without meta and DF-Meta")
    ap.add_argument("--inner-lr", type=float, default=DFMetaConfig.inner_lr, help="inner ES learning rate")
    ap.add_argument("--offset", type=int, default=0, help="skip the first OFFSET test instances (e.g. those a sweep tuned on)")
    ap.add_argument("--as-lr", type=float, default=1e-4)
    ap.add_argument("--eas-lr", type=float, default=1e-3)
    ap.add_argument("--cpsat-time", type=float, default=10.0)
    ap.add_argument("--model", default=MODEL, help="DANIEL model file")
    ap.add_argument("--theta0", default=THETA0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "dfmeta"), help="output prefix (.json and .csv)")
    args = ap.parse_args()

    from jsched import api

    params = load_model(args.model)
    theta0 = load_theta0(args.theta0)[0] if os.path.exists(args.theta0) else None
    insts = sd2_fjsp_set(args.offset + args.instances, args.jobs, args.machines, seed=200)[args.offset:]
    result = {"args": vars(args), "device": str(jax.devices()[0])}
    refs = [api.solve(i, method="cpsat", time_limit=args.cpsat_time, workers=2).makespan for i in insts]
    rows = quality(args, params, theta0, insts, refs)
    methods = [k for k in rows[0] if k not in ("instance", "cpsat", "budget", "seconds")]
    table = {m: float(np.mean([gap(r[m], r["cpsat"]) for r in rows])) for m in methods}
    result["rows"], result["mean_gap_percent"] = rows, table
    print(f"\nmean gap to CP-SAT ({args.cpsat_time:g} s) on SD2 {args.jobs}x{args.machines}, "
          f"{len(rows)} instances, budget {rows[0]['budget']} rollouts:")
    for m, g in table.items():
        print(f"  {m:14s} {g:7.2f} %")
    with atomic_path(args.out + ".csv") as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    write_json_atomic(args.out + ".json", result)


if __name__ == "__main__":
    main()
