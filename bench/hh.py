"""Benchmark of the Petri-net hyper-heuristic (claims of shared/specs/hh.md), in one run.

1. Taillard table: per instance, the 7 rules, the best rule, and the shipped HH agent (greedy,
   and best of greedy + S sampled rollouts), grouped by size; instances that fit no shipped agent
   get rules only.
2. Commitment ablation on a size (default 15x15): agents trained with x = 1, 5 and full episode
   under the same budget of Petri-net allocations (the env work; x = 1 thus gets 5x the agent
   decisions of x = 5), evaluated greedily on the Taillard group. Each trains with the shipped
   agents' settings (random instances, LTWR-normalised reward, lr 1e-3, entropy 0.001).
3. Environment speed: allocations per second of the jitted, vmapped CTPN (batch B, rule FIFO)
   against the plain-Python net (jsched.hh.pynet) on the same instance.

Writes bench/results/hh.json and prints the tables. Example (what the report quotes):

    PYTHONPATH=. nice -n 10 python bench/hh.py --samples 32 --ablation-allocations 5000000
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jsched.hh.agent import load_policy  # noqa: E402
from jsched.hh.eval import evaluate, format_table  # noqa: E402
from jsched.hh.instances import taillard, taillard_names  # noqa: E402
from jsched.hh.pynet import run_rule  # noqa: E402
from jsched.hh.train import HHTrainConfig, train_hh  # noqa: E402
from jsched.instances.arrays import jsp_params  # noqa: E402
from jsched.schedule import write_json_atomic  # noqa: E402
from jsched.kernels import petri  # noqa: E402
from jsched.kernels import petri_rules as R  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def group_summary(rows):
    out = {}
    for size in dict.fromkeys(r["size"] for r in rows):
        grp = [r for r in rows if r["size"] == size]
        s = {name: float(np.mean([r[name] for r in grp])) for name in R.RULES}
        s["best_rule"] = float(np.mean([r["best_rule_makespan"] for r in grp]))
        if all("hh" in r for r in grp):
            s["hh"] = float(np.mean([r["hh"] for r in grp]))
        out[size] = s
    return out


def taillard_table(names, samples, seed):
    greedy = evaluate(names, samples=0, seed=seed)
    print("== Taillard, shipped agents, greedy ==")
    print(format_table(greedy))
    out = {"greedy": greedy, "greedy_groups": group_summary(greedy)}
    if samples:
        sampled = evaluate(names, samples=samples, seed=seed)
        print(f"\n== Taillard, shipped agents, best of greedy + {samples} samples ==")
        print(format_table(sampled))
        out["sampled"] = sampled
        out["sampled_groups"] = group_summary(sampled)
    return out


def ablation(size, allocations, seed, folder):
    j, m = (int(v) for v in size.split("x"))
    names = taillard_names(j, m)
    res = {}
    for x in (1, 5, j * m):
        steps = allocations // x
        pol_path = os.path.join(folder, f"hh_{size}_x{x}_{allocations}.policy.msgpack")
        if not os.path.exists(pol_path):
            cfg = HHTrainConfig(n_jobs=j, n_machines=m, commitment=x, steps=steps, lr=1e-3, ent_coef=0.001, seed=seed,
                                chunk_updates=10)
            t0 = time.perf_counter()
            train_hh(cfg, pol_path.replace(".policy", ".run"), pol_path)
            print(f"trained x={x}: {time.perf_counter() - t0:.0f}s")
        rows = evaluate(names, [load_policy(pol_path)])
        res[x] = {"decisions": steps, "mean_hh": float(np.mean([r["hh"] for r in rows])),
                  "mean_best_rule": float(np.mean([r["best_rule_makespan"] for r in rows])),
                  "per_instance": {r["instance"]: r["hh"] for r in rows}}
    print(f"\n== Commitment ablation on Taillard {size} (greedy, {allocations} training allocations each) ==")
    print(f"{'x':>6} {'decisions':>10} {'mean HH':>9} {'best rule':>9} {'ratio':>7}")
    for x, r in res.items():
        print(f"{x:>6} {r['decisions']:>10} {r['mean_hh']:9.1f} {r['mean_best_rule']:9.1f} "
              f"{r['mean_hh'] / r['mean_best_rule']:7.4f}")
    return res


def speed(name, batch, repeats):
    inst = taillard(name)
    p = jsp_params(inst)
    ps = jax.tree.map(lambda a: jnp.broadcast_to(a, (batch,) + a.shape), p)
    run = jax.jit(jax.vmap(lambda q: R.rollout_rule(q, "FIFO")))
    jax.block_until_ready(run(ps))
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = run(ps)
    jax.block_until_ready(out)
    jax_rate = batch * repeats * inst.n_ops / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 3.0:
        run_rule(inst, "FIFO")
        n += 1
    py_rate = n * inst.n_ops / (time.perf_counter() - t0)
    assert int(petri.makespan(jax.tree.map(lambda a: a[0], out))) == run_rule(inst, "FIFO").makespan()
    print(f"\n== CTPN speed on {name} ({inst.shape}), rule FIFO ==")
    print(f"jitted vmapped CTPN, batch {batch}: {jax_rate:,.0f} allocations/s")
    print(f"plain-Python net, one at a time:   {py_rate:,.0f} allocations/s")
    print(f"ratio: {jax_rate / py_rate:.1f}x")
    return {"instance": name, "batch": batch, "jax_allocations_per_s": jax_rate, "python_allocations_per_s": py_rate,
            "ratio": jax_rate / py_rate}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", default="taillard", help="'taillard' (ta01-80) or comma-separated names")
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--ablation-size", default="15x15")
    ap.add_argument("--ablation-allocations", type=int, default=5_000_000,
                    help="Petri-net allocations of training per ablation agent (0: skip)")
    ap.add_argument("--ablation-dir", default="runs/hh_ablation",
                    help="where the ablation agents are trained / reused from (not committed)")
    ap.add_argument("--speed-batch", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(RESULTS, "hh.json"))
    args = ap.parse_args()
    names = taillard_names() if args.instances == "taillard" else args.instances.split(",")
    result = {"command": " ".join(sys.argv), "device": str(jax.devices()[0])}
    result["speed"] = speed(names[0], args.speed_batch, 3)
    result["taillard"] = taillard_table(names, args.samples, args.seed)
    if args.ablation_allocations:
        result["ablation"] = ablation(args.ablation_size, args.ablation_allocations, args.seed, args.ablation_dir)
    write_json_atomic(args.out, result)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
