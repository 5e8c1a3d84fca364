"""DF-Meta test-time ES: a small sweep of sigma and the inner learning rate on SD2 10x5.

Question (issue 8): why does DF-Meta (14.7 %) trail EAS (10.0 %) and barely beat ES without
meta (14.9 %) on SD2 10x5 at 244 rollouts? The spec fixes sigma = 0.2 and leaves the inner
learning rate open (jsched: Adam 1e-3, the spec's starting value). With evosax's centred-rank
shaping the Adam update moves every parameter by about ``lr`` per step, so K = 3 steps at
1e-3 move theta by at most ~3e-3 while the population explores at sigma = 0.2: the adapted
policy is nearly theta_0 and the result is mostly "best of perturbed samples". This script
measures that: for each (sigma, inner lr) it adapts the shipped theta_0 on the first
``--instances`` SD2 10x5 test instances (seed 200) with the benchmark's budget
(K = 3, mu = 20, L = 4, MC-Best: 244 rollouts) and reports the best makespan and the mean
sampled makespan of theta^(K) (64 samples) as gaps to the CP-SAT makespans recorded by
``bench/dfmeta.py`` in ``bench/results/dfmeta.csv`` (read at run time).

Usage: ``nice -n 10 python bench/dfmeta_sweep.py --instances 5 --sigma 0.05 0.2 --inner-lr 1e-3 1e-2 5e-2``;
writes ``bench/results/dfmeta_sweep.json``.

Every makespan is a validated schedule's: the adapted best (``adapt_instance`` validates it) and
each of the 64 samples behind a mean (built from the rollout's arrays by
``jsched.rollout.to_schedules``, which validates every one).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import time

import jax
import numpy as np

from jsched.dfmeta import daniel
from jsched.dfmeta.adapt import adapt_instance
from jsched.dfmeta.method import THETA0, load_theta0
from jsched.errors import ScheduleError
from jsched.instances.generators import sd2_fjsp_set
from jsched.rollout import rollout, to_schedules
from jsched.schedule import write_json_atomic

HERE = os.path.dirname(os.path.abspath(__file__))


def validated_makespans(insts, res) -> np.ndarray:
    """(I, S) makespans of every sampled schedule, each built from the rollout's arrays and validated;
    a kernel makespan that differs from its schedule's is a ScheduleError."""
    ms = np.array([[s.makespan for s in row] for row in to_schedules(insts, res)], np.int64)
    if not np.array_equal(ms, np.asarray(res.makespan)):
        raise ScheduleError("a rollout's makespan differs from its validated schedule's")
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--sigma", nargs="+", type=float, default=[0.05, 0.2])
    ap.add_argument("--inner-lr", nargs="+", type=float, default=[1e-3, 1e-2, 5e-2])
    ap.add_argument("--K", type=int, default=3)
    ap.add_argument("--mu", type=int, default=20)
    ap.add_argument("--L", type=int, default=4)
    ap.add_argument("--theta0", default=THETA0)
    ap.add_argument("--refs", default=os.path.join(HERE, "results", "dfmeta.csv"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from jsched.dfmeta.es import DFMetaConfig

    with open(args.refs) as fh:
        refs = {r["instance"]: int(r["cpsat"]) for r in csv.DictReader(fh)}
    insts = sd2_fjsp_set(args.instances, 10, 5, seed=200)
    theta0 = load_theta0(args.theta0)[0]
    rows = []
    for sigma, lr in itertools.product(args.sigma, args.inner_lr):
        cfg = DFMetaConfig(K=args.K, mu=args.mu, L=args.L, sigma=sigma, inner_lr=lr)
        t = time.perf_counter()
        best, mean_after = [], []
        for i, inst in enumerate(insts):
            key = jax.random.key(args.seed + i)
            out = adapt_instance(daniel.policy, daniel.ENV, theta0, inst, cfg, key)
            samples = rollout(daniel.policy, out.params, daniel.ENV, [inst], jax.random.key(99), "sample", 64)
            best.append(100 * (out.makespan / refs[inst.name] - 1))
            mean_after.append(100 * (float(validated_makespans([inst], samples).mean()) / refs[inst.name] - 1))
        row = {"sigma": sigma, "inner_lr": lr, "gap_best": float(np.mean(best)),
               "gap_mean_sample_after": float(np.mean(mean_after)), "seconds": round(time.perf_counter() - t, 1)}
        rows.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    before = validated_makespans(insts, rollout(daniel.policy, theta0, daniel.ENV, insts, jax.random.key(99), "sample", 64))
    base = float(np.mean([100 * (before[i].mean() / refs[x.name] - 1) for i, x in enumerate(insts)]))
    print(f"theta_0 mean sampled gap (64 samples): {base:.2f} %")
    write_json_atomic(os.path.join(HERE, "results", "dfmeta_sweep.json"),
                      {"args": vars(args), "budget": DFMetaConfig(K=args.K, mu=args.mu, L=args.L).rollouts_per_instance,
                       "theta0_mean_sample_gap": base, "rows": rows})


if __name__ == "__main__":
    main()
