"""Claim: L-RHO solves long-horizon FJSP faster than default RHO, at a better objective.

Every RHO variant runs on the same held-out generated instances; per method the mean solve time
(counted window solves; their CPU time beside it, steadier on a loaded machine) and objective,
TI% / OI% = time / objective improvement over default RHO, a full-problem CP-SAT column with
default RHO's time, and the model's label accuracy on the oracle's windows. ``--candidate CKPT``
adds a second model as ``lrho-cand``; ``--breakdowns LEVEL`` runs all under the same breakdowns.

    nice -n 10 python bench/rho.py --setting mk-small --seeds 0-4 --H 40 --S 15 --T 5 --stop-after 0.5

Writes ``bench/results/rho-SETTING.json`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np

from jsched import cpsat
from jsched.atomic import atomic_path
from jsched.rho.collect import parse_seeds
from jsched.rho.generators import SETTINGS, breakdowns, setting_instance
from jsched.rho.loop import RHOConfig, run_rho
from jsched.rho.method import VARIANTS, shipped_model
from jsched.rho.net import Predictor
from jsched.rho.train import label_metrics
from jsched.schedule import OBJECTIVES, validate, write_json_atomic


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setting", default="mk-small", choices=sorted(SETTINGS))
    ap.add_argument("--seeds", default="0-4", help="held-out instance seeds (training used 100+)")
    ap.add_argument("--H", type=int, default=40)
    ap.add_argument("--S", type=int, default=15)
    ap.add_argument("--T", type=float, default=5.0)
    ap.add_argument("--stop-after", type=float, default=0.5)
    ap.add_argument("--p", type=float, default=0.5)
    ap.add_argument("--oracle-k", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--model", default=None,
                    help="L-RHO checkpoint, or 'none' (no lrho, no accuracy); default: the shipped one for the setting's objective")
    ap.add_argument("--candidate", default=None, help="second L-RHO checkpoint, run as method 'lrho-cand'")
    ap.add_argument("--breakdowns", choices=("low", "mid", "high"), default=None,
                    help="machine breakdowns at this level, seeded per instance (every method sees the same)")  # fmt: skip
    ap.add_argument("--no-full", action="store_true", help="skip the full-problem CP-SAT column")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    objective = SETTINGS[a.setting][2]
    if a.model is None:  # the shipped checkpoint trained for this objective, as `jsched rho` picks it
        a.model = os.path.relpath(shipped_model(objective))
    seeds = parse_seeds(a.seeds)
    variants = a.variants.split(",")
    base = RHOConfig(H=a.H, S=a.S, T=a.T, stop_after=a.stop_after, objective=objective, p=a.p,
                     oracle_k=a.oracle_k, workers=a.workers)  # fmt: skip
    use_model = a.model != "none" and ("lrho" in variants or "oracle" in variants)
    predictors = {"lrho": Predictor(a.model, a.H, objective)} if use_model else {}
    if a.candidate:
        predictors["lrho-cand"] = Predictor(a.candidate, a.H, objective)
        variants.append("lrho-cand")
    rows, acc_lab = [], []
    acc_prob: dict[str, list] = {k: [] for k in predictors}
    t_begin = time.perf_counter()
    for seed in seeds:
        inst = setting_instance(a.setting, seed)
        bd = ()
        if a.breakdowns:
            horizon = int(inst.durations.max(axis=1).sum())
            bd = breakdowns(np.random.default_rng(seed), inst.n_machines, horizon, a.breakdowns)
        for v in variants:
            cfg = RHOConfig(**{**base.__dict__, "variant": "lrho" if v == "lrho-cand" else v, "seed": 0})

            def record(st, lab):
                for k, pred in predictors.items():
                    acc_prob[k].append(pred(st))
                acc_lab.append(np.asarray(lab))

            res = run_rho(inst, cfg, predictor=predictors.get(v), breakdowns=bd,
                          recorder=record if v == "oracle" and predictors else None)  # fmt: skip
            cpu = res.solve_cpu
            rows.append(dict(seed=seed, method=v, objective=res.objective, solve_time=res.solve_time,
                             total_time=res.total_time, cpu_time=cpu, windows=res.n_windows,
                             overlap=res.n_overlap, fixed=res.n_fixed, events=len(res.events),
                             interrupted=res.n_interrupted))  # fmt: skip
            print(f"seed={seed} {v:9s} obj={res.objective} solve={res.solve_time:.1f}s cpu={cpu:.1f}s "
                  f"fixed={res.n_fixed}/{res.n_overlap} events={len(res.events)}", flush=True)  # fmt: skip
        if not a.no_full and not bd:  # the full problem has no breakdown model
            t_def = next(r["solve_time"] for r in rows if r["seed"] == seed and r["method"] == "default")
            out = cpsat.solve(inst, objective, options=cpsat.CPSatOptions(time_limit=t_def, num_workers=a.workers))
            val = OBJECTIVES[objective](inst, validate(inst, out.schedule))
            rows.append(dict(seed=seed, method="cpsat-full", objective=int(val), solve_time=out.wall_time,
                             total_time=out.wall_time, cpu_time=float("nan"), windows=1, overlap=0,
                             fixed=0, events=0, interrupted=0))  # fmt: skip
            print(f"seed={seed} cpsat-full obj={val} time={out.wall_time:.1f}s ({out.status})", flush=True)

    methods = variants + ([] if a.no_full or a.breakdowns else ["cpsat-full"])
    mean = {m: {k: float(np.mean([r[k] for r in rows if r["method"] == m])) for k in ("objective", "solve_time", "cpu_time")}
            for m in methods}  # fmt: skip
    d = mean.get("default")
    summary = []
    for m in methods:
        ti = 100 * (d["solve_time"] - mean[m]["solve_time"]) / d["solve_time"] if d else None
        ti_cpu = 100 * (d["cpu_time"] - mean[m]["cpu_time"]) / d["cpu_time"] if d else None
        oi = 100 * (d["objective"] - mean[m]["objective"]) / d["objective"] if d else None
        summary.append(dict(method=m, objective=mean[m]["objective"], solve_time=mean[m]["solve_time"],
                            cpu_time=mean[m]["cpu_time"], TI=ti, TI_cpu=ti_cpu, OI=oi))  # fmt: skip
    acc = {}
    if acc_lab:
        lab = np.concatenate(acc_lab).astype(np.float32)
        for k, probs in acc_prob.items():
            acc[k] = label_metrics(np.concatenate(probs), lab, np.ones(len(lab), bool))
    print(f"\n{a.setting}{' breakdowns ' + a.breakdowns if a.breakdowns else ''}: {len(seeds)} instances, (H, S, T, stop) = ({a.H}, {a.S}, {a.T}, {a.stop_after}), "
          f"objective {objective}, {a.workers} CP-SAT workers")  # fmt: skip
    print(f"{'method':12s} {'objective':>10s} {'solve s':>9s} {'TI%':>7s} {'OI%':>7s} {'cpu s':>8s} {'TI-cpu%':>8s}")
    for s in summary:
        print(f"{s['method']:12s} {s['objective']:10.1f} {s['solve_time']:9.2f} {s['TI']:7.1f} {s['OI']:7.2f} "
              f"{s['cpu_time']:8.2f} {s['TI_cpu']:8.1f}")  # fmt: skip
    for k, m in acc.items():
        print(f"{k} label accuracy {m['accuracy']:.3f} (all-keep {m['keep_rate']:.3f}, precision "
              f"{m['precision']:.3f}, recall {m['recall']:.3f}, n={m['n']})")  # fmt: skip
    out = a.out or os.path.join(os.path.dirname(__file__), "results", f"rho-{a.setting}.json")
    write_json_atomic(out, {"args": vars(a), "summary": summary, "label_accuracy": acc or None, "runs": rows,
                            "wall_seconds": time.perf_counter() - t_begin})  # fmt: skip
    with atomic_path(out[:-5] + ".csv") as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
