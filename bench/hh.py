"""Benchmark of the Petri-net hyper-heuristic, in one run.

1. Taillard table: per instance, the 7 rules, the best rule, and the shipped HH agent (greedy,
   and best of greedy + S sampled rollouts), grouped by size.
2. Commitment ablation on a size (default 15x15): agents trained with x = 1, 5 and full episode
   under the same budget of Petri-net allocations (the env work; x = 1 thus gets 5x the agent
   decisions of x = 5), evaluated greedily on the Taillard group. Each trains with the shipped
   agents' settings (random instances, LTWR-normalised reward, lr 1e-3, entropy 0.001).
3. Environment speed: allocations per second of the jitted, vmapped CTPN (batch B, rule FIFO)
   against the plain-Python net (tests/petri_reference.py) on the same instance.

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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the plain-Python reference net

from petri_reference import run_rule  # noqa: E402

from jsched import api  # noqa: E402
from jsched.hh import env as R  # noqa: E402
from jsched.hh.instances import best_known, taillard, taillard_names  # noqa: E402
from jsched.hh.train import TrainConfig, train  # noqa: E402
from jsched.instances.arrays import jsp_params  # noqa: E402
from jsched.kernels import petri  # noqa: E402
from jsched.schedule import Schedule, validate, write_json_atomic  # noqa: E402
from jsched.training import CHECKPOINT, MODEL  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


@jax.jit
def _all_rules(p):
    return jax.vmap(lambda rule: R.rollout_rule(p, rule))(jnp.arange(len(R.RULES)))


def rule_makespans(inst) -> dict[str, int]:
    """Validated makespan of each of the 7 rules on ``inst``."""
    final = _all_rules(jsp_params(inst))
    return {name: validate(inst, Schedule.from_arrays(inst, np.asarray(final.start[k]))).makespan
            for k, name in enumerate(R.RULES)}  # fmt: skip


def evaluate(names, samples=0, seed=0, checkpoint=None):
    """One row per instance: the rules, the best rule, the agent (``jsched.evaluate``) and its
    gap to the best rule."""
    insts = [taillard(n) for n in names]
    results = api.evaluate("hh", insts, seed=seed, samples=samples, checkpoint=checkpoint)
    rows = []
    for inst, res in zip(insts, results):
        rm = rule_makespans(inst)
        best_rule = min(rm, key=lambda k: (rm[k], R.RULES.index(k)))
        rules = res.extra["rules"]
        rows.append({"instance": inst.name, "size": inst.shape, **rm, "best_rule": best_rule,
                     "best_rule_makespan": rm[best_rule], "best_known": best_known(inst.name), "hh": res.makespan,
                     "hh_mode": res.extra["mode"], "hh_agent": res.extra["agent"],
                     "hh_gap_to_best_rule": round(100.0 * (res.makespan / rm[best_rule] - 1.0), 3),
                     "hh_rule_counts": {r: rules.count(r) for r in R.RULES if r in rules}})  # fmt: skip
    return rows


def format_table(rows: list[dict]) -> str:
    """A plain-text table with group averages per size."""
    cols = ["instance", "size", *R.RULES, "best_rule_makespan", "hh", "hh_gap_to_best_rule"]
    head = ["inst", "size", *R.RULES, "best", "HH", "gap%"]
    lines = [" ".join(f"{h:>7}" for h in head)]
    for r in rows:
        lines.append(" ".join(f"{r[c]:>7}" for c in cols))
    lines.append("")
    for size in dict.fromkeys(r["size"] for r in rows):
        grp = [r for r in rows if r["size"] == size]
        avg = [np.mean([r[c] for r in grp]) for c in (*R.RULES, "best_rule_makespan", "hh")]
        lines.append(f"avg {size:>7} " + " ".join(f"{a:7.1f}" for a in avg))
    b = np.mean([r["best_rule_makespan"] for r in rows])
    h = np.mean([r["hh"] for r in rows])
    lines.append(f"agent vs best rule over {len(rows)} instances: {h:.1f} vs {b:.1f} ({100 * (h / b - 1):+.2f}%)")
    return "\n".join(lines)


def group_summary(rows):
    out = {}
    for size in dict.fromkeys(r["size"] for r in rows):
        grp = [r for r in rows if r["size"] == size]
        s = {name: float(np.mean([r[name] for r in grp])) for name in R.RULES}
        s["best_rule"] = float(np.mean([r["best_rule_makespan"] for r in grp]))
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
        out = os.path.join(folder, f"hh_{size}_x{x}_{allocations}")
        t0 = time.perf_counter()
        cfg = TrainConfig(size=size, commitment=x, steps=steps, lr=1e-3, ent_coef=0.001, out=out,
                          resume=os.path.exists(os.path.join(out, CHECKPOINT)))  # fmt: skip
        train(cfg, jax.random.key(seed))  # a finished run is reused as it is
        print(f"trained x={x}: {time.perf_counter() - t0:.0f}s")
        rows = evaluate(names, checkpoint=os.path.join(out, MODEL))
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
        run_rule(inst, "fifo")
        n += 1
    py_rate = n * inst.n_ops / (time.perf_counter() - t0)
    assert int(petri.makespan(jax.tree.map(lambda a: a[0], out))) == run_rule(inst, "fifo").makespan()
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
