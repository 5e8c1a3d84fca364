"""DF-Meta vs its baselines on DANIEL's SD2 test sets, greedy and sampling deployment, at equal rollout budgets.

Issue 18's protocol: every instance of an SD2 test set (``sd2/10x5/001..100``, the package's
copy of DANIEL's seed-200 set), gaps to ``reference.csv``'s OR-Tools makespans (1800 s), DANIEL's
released-model rows (``danielg`` / ``daniels``) and the DF-Meta paper's rows beside ours.
Methods: the base DANIEL policy (greedy: one rollout; sampling: best of R), Active Search and
EAS (REINFORCE, ``iterations = R // mu`` batches of ``mu``), FOMAML (Active Search from a
``--fomaml`` theta_0 with its inner learning rate), ES without meta (theta_0 = the PPO policy)
and DF-Meta (``--theta0``, default the shipped one). Modes: *greedy* decodes each adaptive
method's final parameters greedily (ES: after K ``--greedy-estimator`` steps, MC-Mean in the
paper's headline row);
*sample* returns the best schedule of all its rollouts (ES: MC-Best, the paper's sampling row).
AS/EAS give both modes from one run. R = K * mu * L + L (greedy ES: K * mu * L + 1).

Usage: ``nice -n 5 python bench/dfmeta.py --instances 100 --seeds 0 --K 3 --mu 10 --L 2 --sigma 0.05
--inner-lr 3e-2``. Rows go to ``PREFIX.jsonl`` as they come (a rerun skips the (instance, seed,
method) done: interrupt and resume at will); the summary to ``PREFIX.json``
(``--out PREFIX``, default ``bench/results/dfmeta-sd2-10x5``). ``--summary-only`` rebuilds it.

Every makespan is that of a schedule built from the method's own arrays and passed through
``jsched.schedule.validate``: the best greedy/sampled rollout (:func:`validated_best`), the AS /
EAS best action sequence replayed on the env (:func:`validated_search`), and the ES columns'
deployed schedule (``adapt_instance`` validates it).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dfmeta import baselines, daniel
from jsched.dfmeta.adapt import adapt_instance
from jsched.dfmeta.daniel_method import MODEL, load_model
from jsched.dfmeta.es import ESTIMATORS, DFMetaConfig
from jsched.dfmeta.method import THETA0, load_theta0
from jsched.errors import ScheduleError
from jsched.instances.arrays import fjsp_params
from jsched.instances.benchmarks import load_benchmark, reference_results
from jsched.instances.model import Instance
from jsched.kernels.env import Env
from jsched.rollout import RolloutResult, best_schedules, rollout
from jsched.schedule import write_json_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = ("base", "active_search", "eas", "fomaml", "es_no_meta", "dfmeta")
# DF-Meta paper (ICLR 2026), gap to OR-Tools in percent per SD2 set (ES without meta: 10x5 only)
PAPER = {"10x5": {"greedy": {"daniel": 25.20, "eas": 16.65, "es_no_meta": 14.38, "dfmeta": 13.18},
                  "sample": {"eas": 8.80, "dfmeta": 6.59}},
         "20x10": {"greedy": {"daniel": 32.09, "eas": 23.21, "dfmeta": 21.22}, "sample": {"eas": 17.08, "dfmeta": 14.72}},
         "30x10": {"greedy": {"daniel": 15.75, "eas": 10.51, "dfmeta": 9.47}, "sample": {"eas": 6.83, "dfmeta": 5.10}},
         "40x10": {"greedy": {"daniel": 2.59, "eas": -1.64, "dfmeta": -1.94}, "sample": {"eas": -3.72, "dfmeta": -5.20}}}  # fmt: skip


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


def run_methods(args, inst, seed, policy_params, theta0, todo) -> list[dict]:
    """Rows (method, mode, makespan, rollouts, seconds) of the methods in ``todo`` on one instance and seed."""
    es = dict(K=args.K, mu=args.mu, L=args.L, sigma=args.sigma, inner_lr=args.inner_lr, inner_optimizer=args.inner_optimizer,
              adapt_params=args.adapt_params)  # fmt: skip
    budget = DFMetaConfig(**es).rollouts_per_instance
    iters = max(1, budget // args.mu)
    key = jax.random.key(seed)
    fp = fjsp_params(inst)
    rows = []

    def add(method, mode, makespan, rollouts, t):
        rows.append({"method": method, "mode": mode, "makespan": int(makespan), "rollouts": rollouts,
                     "seconds": round(time.perf_counter() - t, 2)})  # fmt: skip

    greedy = lambda pol, prm: validated_best(inst, rollout(pol, prm, daniel.ENV, [inst], key, "greedy"))  # noqa: E731
    if "base" in todo:
        t = time.perf_counter()
        add("base", "greedy", greedy(daniel.policy, policy_params), 1, t)
        t = time.perf_counter()
        add("base", "sample", validated_best(inst, rollout(daniel.policy, policy_params, daniel.ENV, [inst], key, "sample", budget)), budget, t)
    if "active_search" in todo:
        t = time.perf_counter()
        res = _as("policy", iters, args.mu, args.as_lr)(key, fp)
        add("active_search", "sample", validated_search(inst, fp, res), iters * args.mu, t)
        add("active_search", "greedy", greedy(daniel.policy, res.params), iters * args.mu + 1, t)
    if "fomaml" in todo:  # Active Search from the FOMAML theta_0 with its own inner loop (Adam, its inner_lr)
        t = time.perf_counter()
        res = _as("fomaml", iters, args.mu, args.fomaml_lr)(key, fp)
        add("fomaml", "sample", validated_search(inst, fp, res), iters * args.mu, t)
        add("fomaml", "greedy", greedy(daniel.policy, res.params), iters * args.mu + 1, t)
    if "eas" in todo:
        t = time.perf_counter()
        res = _eas("policy", iters, args.mu, args.eas_lr)(key, fp)
        add("eas", "sample", validated_search(inst, fp, res), iters * args.mu, t)
        add("eas", "greedy", greedy(daniel.policy_eas, (policy_params, res.params)), iters * args.mu + 1, t)
    for name, start in (("es_no_meta", policy_params), ("dfmeta", theta0)):
        if name not in todo:
            continue
        for mode, est in (("greedy", args.greedy_estimator), ("sample", "mc-best")):
            t = time.perf_counter()
            out = adapt_instance(daniel.policy, daniel.ENV, start, inst, DFMetaConfig(**es, estimator=est), key, mode)
            add(name, mode, out.makespan, out.rollouts, t)
    return rows


@functools.lru_cache(maxsize=4)
def _as(params_id, iters, batch, lr):
    params = _PARAMS[params_id]
    return jax.jit(lambda k, fp: baselines.active_search(daniel.policy, daniel.ENV, params, fp, k, iters, batch, lr))


@functools.lru_cache(maxsize=4)
def _eas(params_id, iters, batch, lr):
    params = _PARAMS[params_id]
    eas0 = daniel.init_eas(jax.random.key(1))
    return jax.jit(lambda k, fp: baselines.eas(daniel.policy_eas, daniel.ENV, params, eas0, fp, k, iters, batch, lr))


_PARAMS: dict[str, object] = {}


def summarise(args, rows: list[dict]) -> dict:
    """Mean gap per (method, mode) and seed (headline: the first seed), the spread over seeds on the
    instances all seeds have, DANIEL's and the paper's rows, and paired Wilcoxon tests (per-instance
    gaps averaged over seeds)."""
    from scipy.stats import wilcoxon

    names = sorted({r["instance"] for r in rows})
    refs = {n: reference_results(n) for n in names}
    table: dict[str, dict] = {}
    per_inst: dict[tuple, dict] = {}
    for r in rows:
        g = gap(r["makespan"], refs[r["instance"]]["ortools_makespan"])
        table.setdefault(f"{r['method']}/{r['mode']}", {}).setdefault(r["seed"], []).append(g)
        per_inst.setdefault((r["method"], r["mode"]), {}).setdefault(r["instance"], []).append(g)
    seeds = sorted({r["seed"] for r in rows})
    by_key = {}
    for r in rows:
        by_key.setdefault(f"{r['method']}/{r['mode']}", {}).setdefault(r["seed"], {})[r["instance"]] = r
    out = {}
    for k, by_seed in sorted(table.items()):
        means = {s: float(np.mean(v)) for s, v in by_seed.items()}
        # the spread over seeds, on the instances every seed has
        common = sorted(set.intersection(*(set(by_key[k][s]) for s in seeds))) if set(by_seed) == set(seeds) else []
        on_common = [np.mean([gap(by_key[k][s][n]["makespan"], refs[n]["ortools_makespan"]) for n in common]) for s in seeds]
        out[k] = {"mean_gap": means[seeds[0]], "per_seed": means,  # headline: the first seed, all its instances
                  "instances": {s: len(v) for s, v in by_seed.items()},
                  "common_instances": len(common), "per_seed_on_common": [float(x) for x in on_common] if common else None,
                  "seed_std": float(np.std(on_common, ddof=1)) if len(seeds) > 1 and common else None,
                  "rollouts": int(np.median([r["rollouts"] for r in rows if f"{r['method']}/{r['mode']}" == k]))}  # fmt: skip
    daniel_rows = {m: float(np.mean([gap(refs[n][c], refs[n]["ortools_makespan"]) for n in names]))
                   for m, c in (("greedy", "danielg"), ("sample", "daniels"))}  # fmt: skip
    tests = {}
    for mode in ("greedy", "sample"):
        for a, b in (("dfmeta", "es_no_meta"), ("dfmeta", "eas"), ("es_no_meta", "eas"), ("dfmeta", "base"),
                     ("dfmeta", "fomaml"), ("es_no_meta", "base")):
            pa, pb = per_inst.get((a, mode), {}), per_inst.get((b, mode), {})
            common = sorted(set(pa) & set(pb))
            if len(common) < 5:
                continue
            x = np.array([np.mean(pa[n]) for n in common])
            y = np.array([np.mean(pb[n]) for n in common])
            p = float(wilcoxon(x, y).pvalue) if np.any(x != y) else 1.0
            tests[f"{mode}: {a} vs {b}"] = {"n": len(common), "mean_diff": float((x - y).mean()), "wilcoxon_p": p}
    return {"gap_percent": out, "daniel_released": daniel_rows, "paper": PAPER.get(args.set), "wilcoxon": tests,
            "instances": len(names)}  # fmt: skip


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="10x5", help="SD2 size (the 10x5 policy and theta_0 are applied to any)")
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--offset", type=int, default=0, help="start at instance OFFSET + 1")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--K", type=int, default=3)
    ap.add_argument("--mu", type=int, default=10)
    ap.add_argument("--L", type=int, default=2)
    ap.add_argument("--sigma", type=float, default=DFMetaConfig.sigma, help="inner ES sigma of both ES methods")
    ap.add_argument("--inner-lr", type=float, default=DFMetaConfig.inner_lr)
    ap.add_argument("--inner-optimizer", default=DFMetaConfig.inner_optimizer)
    ap.add_argument("--greedy-estimator", default="mc-mean", choices=ESTIMATORS,
                    help="ES estimator of the greedy rows (the paper: mc-mean; greedy: one greedy decode per individual)")
    ap.add_argument("--adapt-params", default="", help="regex of the parameters both ES methods adapt ('': all)")
    ap.add_argument("--as-lr", type=float, default=1e-4)
    ap.add_argument("--eas-lr", type=float, default=1e-3)
    ap.add_argument("--model", default=MODEL, help="DANIEL model file")
    ap.add_argument("--theta0", default=THETA0)
    ap.add_argument("--fomaml", default=None, help="FOMAML theta_0 (`jsched train dfmeta --meta fomaml`), for --methods fomaml")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "dfmeta-sd2-10x5"), help="output prefix")
    ap.add_argument("--summary-only", action="store_true")
    args = ap.parse_args()

    done: list[dict] = []
    if os.path.exists(args.out + ".jsonl"):
        with open(args.out + ".jsonl") as fh:
            done = [json.loads(line) for line in fh if line.strip()]
    if not args.summary_only:
        _PARAMS["policy"] = params = load_model(args.model)
        theta0 = load_theta0(args.theta0)[0]
        if "fomaml" in args.methods:
            if not args.fomaml:
                raise SystemExit("--methods fomaml needs --fomaml THETA0 (a `jsched train dfmeta --meta fomaml` model)")
            _PARAMS["fomaml"], cfg, _ = load_theta0(args.fomaml)
            if cfg.get("meta") != "fomaml":
                raise SystemExit(f"{args.fomaml} was not meta-trained by fomaml")
            args.fomaml_lr = cfg["inner_lr"]
        have = {(r["instance"], r["seed"], r["method"]) for r in done}
        names = [f"sd2/{args.set}/{k:03d}" for k in range(args.offset + 1, args.offset + args.instances + 1)]
        for seed in args.seeds:
            for name in names:
                todo = [m for m in args.methods if (name, seed, m) not in have]
                if not todo:
                    continue
                inst = load_benchmark(name)
                new = [{"instance": name, "seed": seed, **r} for r in run_methods(args, inst, seed, params, theta0, todo)]
                with open(args.out + ".jsonl", "a") as fh:
                    fh.writelines(json.dumps(r) + "\n" for r in new)
                done += new
                print(name, seed, " ".join(f"{r['method']}/{r['mode']}={r['makespan']}" for r in new), flush=True)
    result = {"args": vars(args), "device": str(jax.devices()[0]), **summarise(args, done)}
    write_json_atomic(args.out + ".json", result)
    for k, v in result["gap_percent"].items():
        spread = f" (std over seeds {v['seed_std']:.2f} on {v['common_instances']})" if v["seed_std"] is not None else ""
        print(f"  {k:26s} {v['mean_gap']:7.2f} %{spread}  rollouts {v['rollouts']}  n {v['instances']}")
    print("  DANIEL released:", result["daniel_released"], " paper:", result["paper"])
    for k, v in result["wilcoxon"].items():
        print(f"  {k}: n={v['n']} mean diff {v['mean_diff']:+.2f} points, p={v['wilcoxon_p']:.3g}")


if __name__ == "__main__":
    main()
