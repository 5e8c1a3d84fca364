"""DF-Meta's inner ES step on validation instances: which optimiser / learning rate / sigma moves the policy.

Issue 18: with Adam 1e-3 the K = 3 inner steps move every parameter by at most ~3e-3 and theta^K
samples like theta_0. For each (optimiser, inner lr, sigma) this adapts a start policy (default:
the shipped DANIEL PPO policy, i.e. ES without meta) on ``--instances`` generated SD2 10x5
*validation* instances (DANIEL's validation seed 100, not the seed-200 test sets) with
``--estimator`` (default MC-Mean) over the parameters ``--adapt-params`` selects, at the bench's
budget, then measures on the same keys for theta_0 and theta^K: the mean makespan of ``--eval``
sampled rollouts and the greedy makespan. ``drop_*`` are the relative
decreases in percent (positive: theta^K is better), with the 95% half-width over instances.

Usage: ``nice -n 5 python bench/dfmeta_sweep.py --instances 16 --optimizer adam --inner-lr 1e-2 3e-2
--sigma 0.02 0.05 0.1``; writes ``bench/results/dfmeta_sweep.json`` (``--out``). Several ``--start``
policies (``ppo``: the PPO policy, e.g. theta_0 snapshots of one meta-training run) give a row
each per setting, with the paired difference of the greedy makespans after adaptation to the
first start's (mean, Wilcoxon p): a meta-training budget trend.

Every makespan is a validated schedule's (``jsched.rollout.to_schedules`` validates every one).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import jax
import numpy as np
from scipy.stats import wilcoxon

from jsched.checkpoint import read_kind
from jsched.dfmeta import daniel
from jsched.dfmeta.adapt import adapt_instance
from jsched.dfmeta.daniel_method import load_model
from jsched.dfmeta.es import ESTIMATORS, DFMetaConfig
from jsched.dfmeta.method import KIND, load_theta0
from jsched.errors import ScheduleError
from jsched.instances.generators import sd2_fjsp_set
from jsched.rollout import rollout, to_schedules
from jsched.schedule import write_json_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATION_SEED = 100  # DANIEL's validation set; the test sets are seed 200


def validated_makespans(insts, res) -> np.ndarray:
    """(I, S) makespans of every rollout, each built from the rollout's arrays and validated;
    a kernel makespan that differs from its schedule's is a ScheduleError."""
    ms = np.array([[s.makespan for s in row] for row in to_schedules(insts, res)], np.int64)
    if not np.array_equal(ms, np.asarray(res.makespan)):
        raise ScheduleError("a rollout's makespan differs from its validated schedule's")
    return ms


def policy_quality(params, inst, n_eval: int) -> tuple[float, int]:
    """(mean of ``n_eval`` sampled makespans on fixed keys, greedy makespan), all validated."""
    s = validated_makespans([inst], rollout(daniel.policy, params, daniel.ENV, [inst], jax.random.key(99), "sample", n_eval))
    g = validated_makespans([inst], rollout(daniel.policy, params, daniel.ENV, [inst], jax.random.key(0), "greedy"))
    return float(s.mean()), int(g[0, 0])


def ci95(x) -> float:
    x = np.asarray(x, float)
    return float(1.96 * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=16)
    ap.add_argument("--optimizer", nargs="+", default=["adam"])
    ap.add_argument("--inner-lr", nargs="+", type=float, default=[1e-3, 1e-2, 3e-2])
    ap.add_argument("--sigma", nargs="+", type=float, default=[0.02, 0.05, 0.2])
    ap.add_argument("--K", type=int, default=3)
    ap.add_argument("--mu", type=int, default=10)
    ap.add_argument("--L", type=int, default=4)
    ap.add_argument("--eval", type=int, default=32, help="sampled rollouts behind each mean")
    ap.add_argument("--estimator", default="mc-mean", choices=ESTIMATORS, help="greedy: one greedy decode per individual")
    ap.add_argument("--adapt-params", default="", help="regex of the parameters the ES adapts ('': all)")
    ap.add_argument("--start", nargs="+", default=["ppo"],
                    help="start policies: DANIEL model or dfmeta theta_0 files, ppo: the shipped PPO policy (ES without meta)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "dfmeta_sweep.json"))
    args = ap.parse_args()

    insts = sd2_fjsp_set(args.instances, 10, 5, seed=VALIDATION_SEED)
    rows, first = [], {}
    for start in args.start:
        theta0 = load_start(start)
        before = [policy_quality(theta0, inst, args.eval) for inst in insts]
        for opt, lr, sigma in itertools.product(args.optimizer, args.inner_lr, args.sigma):
            cfg = DFMetaConfig(K=args.K, mu=args.mu, L=args.L, sigma=sigma, inner_lr=lr, inner_optimizer=opt,
                               estimator=args.estimator, adapt_params=args.adapt_params)  # fmt: skip
            row = adapt_row(theta0, insts, before, cfg, args)
            row = {"start": start, "optimizer": opt, "inner_lr": lr, "sigma": sigma, **row}
            ref = first.setdefault((opt, lr, sigma), row["greedy_after_per_instance"])
            if len(args.start) > 1:
                diff = np.subtract(row["greedy_after_per_instance"], ref)
                row["greedy_after_vs_first"] = float(diff.mean())
                row["wilcoxon_p_vs_first"] = float(wilcoxon(diff).pvalue) if np.any(diff) else 1.0
            rows.append(row)
            print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
                           if not isinstance(v, list)), flush=True)  # fmt: skip
    result = {"args": vars(args), "budget": cfg.K * cfg.mu * cfg.L + 1, "instances": [i.name for i in insts],
              "rows": rows}  # fmt: skip
    write_json_atomic(args.out, result)


def load_start(start: str):
    """The start policy's parameters: ``ppo`` (the shipped PPO policy), a dfmeta theta_0 or a DANIEL model file."""
    if start == "ppo":
        return load_model()
    return load_theta0(start)[0] if read_kind(start) == KIND else load_model(start)


def adapt_row(theta0, insts, before, cfg: DFMetaConfig, args) -> dict:
    """Adapt from ``theta0`` on every instance (greedy deployment); mean drops and qualities before and after."""
    t = time.perf_counter()
    drop_mean, drop_greedy, after = [], [], []
    for i, inst in enumerate(insts):
        out = adapt_instance(daniel.policy, daniel.ENV, theta0, inst, cfg, jax.random.key(args.seed + i), "greedy")
        mean_after, greedy_after = policy_quality(out.params, inst, args.eval)
        if greedy_after != out.makespan:
            raise ScheduleError(f"{inst.name}: greedy decode {greedy_after} != deployed {out.makespan}")
        after.append((mean_after, greedy_after))
        drop_mean.append(100 * (1 - mean_after / before[i][0]))
        drop_greedy.append(100 * (1 - greedy_after / before[i][1]))
    return {"theta0_mean_sample": float(np.mean([b[0] for b in before])),
            "theta0_greedy": float(np.mean([b[1] for b in before])), "drop_mean_sample": float(np.mean(drop_mean)),
            "ci95_mean_sample": ci95(drop_mean), "drop_greedy": float(np.mean(drop_greedy)),
            "ci95_greedy": ci95(drop_greedy), "mean_sample_after": float(np.mean([a[0] for a in after])),
            "greedy_after": float(np.mean([a[1] for a in after])), "seconds": round(time.perf_counter() - t, 1),
            "greedy_after_per_instance": [a[1] for a in after]}  # fmt: skip


if __name__ == "__main__":
    main()
