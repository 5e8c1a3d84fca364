"""Benchmark of the Petri-net hyper-heuristic under both training protocols, in one run.

1. Taillard (ta01-ta80), one table per shipped agent set (``--protocol``): "instances" agents
   were trained on the 10 Taillard instances of their size, the ones evaluated here (the HH
   paper's PetriRL practice); "generated" agents on random instances only (generalisation). Per
   size, over the paper's 8 instances (ta01, ta11, ..., ta71) and overall: the mean makespan of
   every single rule, the best single rule (the rule of lowest mean on that group), the best rule
   per instance, the greedy agent (one rollout, the rules' budget), its gaps, wins/ties/losses
   against the best rule per instance and a Wilcoxon signed-rank p-value.
2. Demirkol (dmu01-dmu80) with the generated agents: instances of other sizes and distributions
   that no agent saw (40xM pads into the 50xM agents).
3. Unequal budget, labelled as such and never the headline: the best of the greedy rollout and
   ``--samples`` sampled ones (S+1 rollouts against one per rule).
4. ``--ablation SIZE,...``: commitment x = 1, 5, 10 and the full episode, trained as the shipped
   agents of ``--ablation-protocol`` with the same Petri-net allocations (``--ablation-allocations``,
   the env work: x = 1 thus takes 5x the agent decisions of x = 5), ``--seeds`` each, greedy on
   the Taillard instances of the size; mean and spread over seeds, Wilcoxon p against x = 5 over
   the (seed, instance) pairs. Runs are reused from
   ``--ablation-dir``, so the part can be extended size by size.
5. Environment speed: allocations per second of the jitted, vmapped CTPN against the plain-Python
   net (tests/petri_reference.py) on ta01.

Every makespan is of a schedule that passed the validator. Writes ``--out`` (JSON) and prints the
tables. The report's figures:

    PYTHONPATH=. nice -n 5 python bench/hh.py --samples 32                          # hh.json
    PYTHONPATH=. nice -n 5 python bench/hh.py --parts ablation --ablation 15x15 \\
        --out bench/results/hh_ablation_15x15.json                                    # hh_ablation_15x15.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import wilcoxon

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the plain-Python reference net

from petri_reference import run_rule  # noqa: E402

from jsched import api  # noqa: E402
from jsched.hh import env as R  # noqa: E402
from jsched.hh.agent import PROTOCOLS  # noqa: E402
from jsched.hh.instances import best_known, taillard_names  # noqa: E402
from jsched.hh.train import TrainConfig, train  # noqa: E402
from jsched.instances.arrays import jsp_params  # noqa: E402
from jsched.kernels import petri  # noqa: E402
from jsched.schedule import Schedule, validate, write_json_atomic  # noqa: E402
from jsched.training import CHECKPOINT, MODEL  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
PAPER8 = [f"ta{k:02d}" for k in range(1, 80, 10)]
DMU = [f"dmu{k:02d}" for k in range(1, 81)]
PARTS = ("tables", "dmu", "sampled", "ablation", "speed")


@jax.jit
def _all_rules(p):
    return jax.vmap(lambda rule: R.rollout_rule(p, rule))(jnp.arange(len(R.RULES)))


def rule_makespans(inst) -> dict[str, int]:
    """Validated makespan of each of the 7 rules on ``inst``."""
    final = _all_rules(jsp_params(inst))
    return {name: validate(inst, Schedule.from_arrays(inst, np.asarray(final.start[k]))).makespan
            for k, name in enumerate(R.RULES)}  # fmt: skip


def evaluate(insts, rules, **opts):
    """One row per instance: the rules' makespans, the best rule and the agent (``jsched``'s
    ``evaluate``, which validates every schedule)."""
    results = api.evaluate("hh", insts, seed=opts.pop("seed", 0), **opts)
    rows = []
    for inst, res in zip(insts, results):
        rm = rules[inst.name]
        best = min(rm, key=lambda k: (rm[k], R.RULES.index(k)))
        used = res.extra["rules"]
        rows.append({"instance": inst.name, "size": inst.shape, **rm, "best_rule": best, "best_rule_makespan": rm[best],
                     "best_known": best_known(inst.name), "hh": res.makespan, "hh_mode": res.extra["mode"],
                     "hh_agent": res.extra["agent"], "hh_protocol": res.extra["protocol"],
                     "hh_rule_counts": {r: used.count(r) for r in R.RULES if r in used}})  # fmt: skip
    return rows


def summarise(rows) -> dict:
    """Means over a group of rows: each rule, the best single rule, the best rule per instance, HH."""
    hh = np.array([r["hh"] for r in rows], float)
    per_inst = np.array([r["best_rule_makespan"] for r in rows], float)
    means = {name: float(np.mean([r[name] for r in rows])) for name in R.RULES}
    single = min(means, key=lambda k: (means[k], R.RULES.index(k)))
    diff = hh - per_inst
    p = float(wilcoxon(hh, per_inst).pvalue) if len(rows) > 1 and np.any(diff) else None
    return {"n": len(rows), "rules": means, "best_single_rule": single, "best_single_rule_mean": means[single],
            "best_rule_per_instance_mean": float(per_inst.mean()), "hh_mean": float(hh.mean()),
            "gap_to_best_single_rule_pct": round(100 * (hh.mean() / means[single] - 1), 3),
            "gap_to_best_rule_per_instance_pct": round(100 * (hh.mean() / per_inst.mean() - 1), 3),
            "wins_ties_losses_vs_best_rule_per_instance": [int((diff < 0).sum()), int((diff == 0).sum()),
                                                           int((diff > 0).sum())],
            "wilcoxon_p_vs_best_rule_per_instance": p}  # fmt: skip


def groups(rows) -> dict[str, dict]:
    out = {size: summarise([r for r in rows if r["size"] == size]) for size in dict.fromkeys(r["size"] for r in rows)}
    paper = [r for r in rows if r["instance"] in PAPER8]
    if len(paper) == len(PAPER8):
        out["paper8"] = summarise(paper)
    out["all"] = summarise(rows)
    return out


def format_groups(title: str, summary: dict) -> str:
    head = ["group", "n", *R.RULES, "single", "per-inst", "HH", "vs single", "vs per-inst", "W/T/L", "p"]
    lines = [f"== {title} ==", " ".join(f"{h:>8}" for h in head)]
    for name, s in summary.items():
        p = s["wilcoxon_p_vs_best_rule_per_instance"]
        cells = [name, s["n"], *(f"{s['rules'][k]:.1f}" for k in R.RULES), f"{s['best_single_rule_mean']:.1f}",
                 f"{s['best_rule_per_instance_mean']:.1f}", f"{s['hh_mean']:.1f}",
                 f"{s['gap_to_best_single_rule_pct']:+.2f}%", f"{s['gap_to_best_rule_per_instance_pct']:+.2f}%",
                 "/".join(map(str, s["wins_ties_losses_vs_best_rule_per_instance"])),
                 "-" if p is None else f"{p:.3f}"]  # fmt: skip
        lines.append(" ".join(f"{c:>8}" for c in cells))
    lines.append("single = best single rule of the group (" + ", ".join(
        f"{k}: {s['best_single_rule']}" for k, s in summary.items()) + "); per-inst = best rule per instance")
    return "\n".join(lines)


def table(title, insts, rules, **opts):
    rows = evaluate(insts, rules, **opts)
    summary = groups(rows)
    print(format_groups(title, summary) + "\n")
    return {"rows": rows, "groups": summary}


def ablation(sizes, protocol, allocations, seeds, folder):
    """Agents with x = 1, 5, 10, full episode at equal Petri-net allocations, greedy on the size's
    Taillard instances; per x the mean over seeds of the group's mean makespan, and its spread."""
    out = {"protocol": protocol, "allocations": allocations, "seeds": seeds, "sizes": {}}
    for size in sizes:
        j, m = (int(v) for v in size.split("x"))
        insts = [api.load(n) for n in taillard_names(j, m)]
        rules = {i.name: rule_makespans(i) for i in insts}
        per_inst = float(np.mean([min(rules[i.name].values()) for i in insts]))
        res = {}
        for x in (1, 5, 10, j * m):
            runs = []
            for seed in seeds:
                run = os.path.join(folder, f"{protocol}_{size}_x{x}_a{allocations}_s{seed}")
                t0 = time.perf_counter()
                cfg = TrainConfig(size=size, commitment=x, steps=allocations // x, protocol=protocol, lr=1e-3,
                                  ent_coef=0.001, gae_lambda=1.0, out=run, progress=False,
                                  resume=os.path.exists(os.path.join(run, CHECKPOINT)))  # fmt: skip
                train(cfg, jax.random.key(seed))  # a finished run is reused as it is
                rows = evaluate(insts, rules, checkpoint=os.path.join(run, MODEL))
                mean = float(np.mean([r["hh"] for r in rows]))
                runs.append({"seed": seed, "mean_hh": mean, "per_instance": {r["instance"]: r["hh"] for r in rows},
                             "rule_counts": _total_counts(rows), "seconds": round(time.perf_counter() - t0, 1)})
                print(f"{size} x={x} seed {seed}: mean {mean:.1f} ({runs[-1]['seconds']}s)", flush=True)
            means = np.array([r["mean_hh"] for r in runs])
            res[x] = {"decisions": cfg.ppo_config().total_timesteps, "mean": float(means.mean()),
                      "std": float(means.std(ddof=1)) if len(runs) > 1 else 0.0, "min": float(means.min()),
                      "max": float(means.max()), "runs": runs}  # fmt: skip
        paired = {x: [r["per_instance"][i.name] for r in res[x]["runs"] for i in insts] for x in res}
        for x in res:  # seeds x instances pairs against x = 5
            same = paired[x] == paired[5]
            res[x]["wilcoxon_p_vs_x5"] = None if same else float(wilcoxon(paired[x], paired[5]).pvalue)
        out["sizes"][size] = {"best_rule_per_instance_mean": per_inst, "x": res}
        print(f"\n== Commitment ablation, Taillard {size}, {protocol} protocol, {allocations:,} allocations each, "
              f"seeds {seeds} (greedy) ==")
        head = ("x", "decisions", "mean", "std", "min", "max", "vs per-inst", "p vs x=5")
        print(" ".join(f"{h:>{w}}" for h, w in zip(head, (6, 10, 8, 6, 7, 7, 11, 9))))
        for x, r in res.items():
            p = r["wilcoxon_p_vs_x5"]
            print(f"{x:>6} {r['decisions']:>10} {r['mean']:8.1f} {r['std']:6.1f} {r['min']:7.1f} {r['max']:7.1f} "
                  f"{100 * (r['mean'] / per_inst - 1):+10.2f}% {'-' if p is None else f'{p:.2g}':>9}")
        print(f"best rule per instance: {per_inst:.1f}\n")
    return out


def _total_counts(rows):
    total: dict[str, int] = {}
    for r in rows:
        for k, v in r["hh_rule_counts"].items():
            total[k] = total.get(k, 0) + v
    return total


def speed(name, batch, repeats):
    inst = api.load(name)
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
    print(f"== CTPN speed on {name} ({inst.shape}), rule FIFO ==")
    print(f"jitted vmapped CTPN, batch {batch}: {jax_rate:,.0f} allocations/s")
    print(f"plain-Python net, one at a time:   {py_rate:,.0f} allocations/s  (ratio {jax_rate / py_rate:.1f}x)\n")
    return {"instance": name, "batch": batch, "jax_allocations_per_s": jax_rate, "python_allocations_per_s": py_rate,
            "ratio": jax_rate / py_rate}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="tables,dmu,sampled,speed", help=f"comma-separated subset of {', '.join(PARTS)}")
    ap.add_argument("--protocol", default=",".join(PROTOCOLS), help="agent sets of the Taillard tables")
    ap.add_argument("--instances", default="taillard", help="'taillard' (ta01-80) or comma-separated names")
    ap.add_argument("--samples", type=int, default=32, help="sampled rollouts of the unequal-budget row")
    ap.add_argument("--ablation", default="15x15", help="sizes of the commitment ablation")
    ap.add_argument("--ablation-protocol", default="instances", choices=PROTOCOLS)
    ap.add_argument("--ablation-allocations", type=int, default=5_000_000,
                    help="Petri-net allocations of training per ablation agent (the shipped instances agents': 1 M "
                         "decisions at x = 5)")  # fmt: skip
    ap.add_argument("--seeds", default="0,1,2", help="training seeds of the ablation")
    ap.add_argument("--ablation-dir", default="runs/hh_ablation", help="ablation runs (reused; not committed)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(RESULTS, "hh.json"))
    args = ap.parse_args()
    parts = args.parts.split(",")
    if set(parts) - set(PARTS):
        ap.error(f"--parts: unknown {sorted(set(parts) - set(PARTS))}")
    names = taillard_names() if args.instances == "taillard" else args.instances.split(",")
    result = {"command": " ".join(sys.argv), "device": str(jax.devices()[0])}
    if "speed" in parts:
        result["speed"] = speed("ta01", 512, 3)
    if {"tables", "sampled"} & set(parts):
        insts = [api.load(n) for n in names]
        rules = {i.name: rule_makespans(i) for i in insts}
        for protocol in args.protocol.split(","):
            if "tables" in parts:
                result[f"taillard_{protocol}"] = table(f"Taillard, {protocol} agents, greedy", insts, rules,
                                                       protocol=protocol, seed=args.seed)  # fmt: skip
            if "sampled" in parts and args.samples:
                result[f"taillard_{protocol}_sampled"] = table(
                    f"UNEQUAL BUDGET: Taillard, {protocol} agents, best of greedy + {args.samples} samples",
                    insts, rules, protocol=protocol, samples=args.samples, seed=args.seed)  # fmt: skip
    if "dmu" in parts:
        insts = [api.load(n) for n in DMU]
        rules = {i.name: rule_makespans(i) for i in insts}
        result["dmu_generated"] = table("Demirkol dmu01-80, generated agents, greedy", insts, rules,
                                        protocol="generated", seed=args.seed)  # fmt: skip
    if "ablation" in parts:
        seeds = [int(s) for s in args.seeds.split(",")]
        result["ablation"] = ablation(args.ablation.split(","), args.ablation_protocol, args.ablation_allocations,
                                      seeds, args.ablation_dir)  # fmt: skip
    write_json_atomic(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
