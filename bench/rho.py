"""Claim: L-RHO solves long-horizon FJSP faster than default RHO, at a better objective.

Every RHO variant runs on the same held-out generated instances; per method the mean solve time
(counted window solves; their CPU time beside it, steadier on a loaded machine) and objective,
TI% / OI% = time / objective improvement over default RHO, a full-problem CP-SAT column with
default RHO's time, and the model's label accuracy on the oracle's windows. ``--repeats N`` runs
default RHO N times (seeds 0..N-1; ``default-rK`` rows) for its run-to-run spread per instance;
per method the instances where it beats / loses to default and a paired Wilcoxon p-value.
``--candidate CKPT`` adds a second model as ``lrho-cand``; ``--thresholds T,...`` adds the model at
other fixing thresholds (``lrho@T``; ``lrho`` is 0.5); ``--breakdowns LEVEL`` runs all under
the same breakdowns, ``--noise P`` under observation noise (the online settings); ``--objective``
overrides the setting's (e.g. start_end_delay on a delay setting). Held-out test seeds are 0-99;
models train and validate on 100+.

    nice -n 10 python bench/rho.py --setting mk-400 --seeds 0-2 --H 40 --S 15 --T 5 --stop-after 0.5 --workers 1 --repeats 2

Writes ``bench/results/rho-SETTING[-OBJECTIVE][-noiseP][-breakdowns-LEVEL].json`` and ``.csv`` (the suffixes
when those options are given).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import multiprocessing as mp
import os
import time

import numpy as np

from jsched import cpsat
from jsched.atomic import atomic_path
from jsched.errors import SolverError
from jsched.rho.generators import SETTINGS, instance_breakdowns, setting_instance
from jsched.rho.loop import RHOConfig, run_rho
from jsched.rho.method import OBJECTIVES as RHO_OBJECTIVES
from jsched.rho.method import ORACLE_PICKS, VARIANTS, shipped_model
from jsched.rho.net import Predictor
from jsched.rho.train import label_metrics
from jsched.schedule import OBJECTIVES, validate, write_json_atomic
from jsched.seeds import parse_seeds


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
    ap.add_argument("--oracle-pick", choices=ORACLE_PICKS, default="overlap",
                    help="oracle trial kept (as the model's training labels were collected)")  # fmt: skip
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pack", action="store_true", help="makespan windows: Cmax, then the sum of ends at that Cmax")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--model", default=None,
                    help="L-RHO checkpoint, or 'none' (no lrho, no accuracy); default: the shipped one for the setting's objective "
                         "(under --breakdowns its breakdown model)")  # fmt: skip
    ap.add_argument("--candidate", default=None, help="second L-RHO checkpoint, run as method 'lrho-cand'")
    ap.add_argument("--thresholds", default="", help="the model also at these keep-probability thresholds ('lrho@T')")
    ap.add_argument("--breakdowns", choices=("low", "mid", "high"), default=None,
                    help="machine breakdowns at this level, seeded per instance (every method sees the same)")  # fmt: skip
    ap.add_argument("--noise", type=float, default=0.0,
                    help="observation noise: probability that a later window operation's durations are perturbed")  # fmt: skip
    ap.add_argument("--objective", choices=sorted(RHO_OBJECTIVES), default=None, help="default: the setting's")
    ap.add_argument("--repeats", type=int, default=1, help="runs of default RHO (seeds 0..N-1) for its spread")
    ap.add_argument("--no-full", action="store_true", help="skip the full-problem CP-SAT column")
    ap.add_argument("--processes", type=int, default=1, help="instances run in parallel (each runs every method)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    if not 0 <= a.noise <= 1:
        ap.error(f"--noise must lie in [0, 1], got {a.noise}")
    a.objective = a.objective or SETTINGS[a.setting][2]
    if (a.objective == "makespan") != (SETTINGS[a.setting][2] == "makespan"):
        ap.error(f"--objective {a.objective} needs a {'makespan' if a.objective == 'makespan' else 'delay'} setting")
    objective = a.objective
    if a.model is None:  # the shipped checkpoint trained for this objective, as `jsched rho` picks it
        a.model = os.path.relpath(shipped_model(objective, a.breakdowns))
    seeds = parse_seeds(a.seeds)
    variants = a.variants.split(",")
    if "default" not in variants:
        ap.error("--variants must include default (every TI / OI is relative to default RHO)")
    variants[variants.index("default") + 1 : variants.index("default") + 1] = [f"default-r{k}" for k in range(1, a.repeats)]
    if "lrho-cand" in variants and not a.candidate:
        ap.error("--variants lrho-cand needs --candidate CKPT")
    if a.candidate and "lrho-cand" not in variants:
        variants.append("lrho-cand")
    variants += [f"lrho@{float(t):g}" for t in a.thresholds.split(",") if t.strip()]
    a.variants = ",".join(variants)
    todo = [(seed, a) for seed in seeds]
    results, t_begin = {}, time.perf_counter()
    if a.processes > 1:
        ctx = mp.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=a.processes, mp_context=ctx) as pool:
            futs = {pool.submit(run_instance, *t): t[0] for t in todo}
            for fut in cf.as_completed(futs):
                try:
                    results[futs[fut]] = fut.result()
                except Exception as e:  # noqa: BLE001 - one failed instance must not lose the others
                    print(f"seed={futs[fut]} failed: {type(e).__name__}: {e}", flush=True)
                    continue
                report(a, [s for s in seeds if s in results], results, time.perf_counter() - t_begin)
    else:
        for t in todo:
            results[t[0]] = run_instance(*t)
            report(a, [s for s in seeds if s in results], results, time.perf_counter() - t_begin)


def run_instance(seed: int, a: argparse.Namespace) -> tuple[list[dict], list, dict]:
    """Every method on instance ``seed``: (rows, oracle labels, model probabilities on them)."""
    objective = a.objective
    variants = a.variants.split(",")
    base = RHOConfig(H=a.H, S=a.S, T=a.T, stop_after=a.stop_after, objective=objective, p=a.p,
                     oracle_k=a.oracle_k, oracle_pick=a.oracle_pick, workers=a.workers, pack=a.pack,
                     noise_prob=a.noise)  # fmt: skip
    use_model = a.model != "none" and any(v.startswith("lrho@") or v in ("lrho", "oracle") for v in variants)
    predictors = {"lrho": Predictor(a.model, a.H, objective)} if use_model else {}
    if a.candidate:
        predictors["lrho-cand"] = Predictor(a.candidate, a.H, objective)
    rows, acc_lab = [], []
    acc_prob: dict[str, list] = {k: [] for k in predictors}
    inst = setting_instance(a.setting, seed)
    bd = instance_breakdowns(inst, a.breakdowns, seed) if a.breakdowns else ()
    for v in variants:
        name, _, rep = v.partition("-r")
        name, _, thr = name.partition("@")
        variant = "lrho" if v == "lrho-cand" else name
        cfg = RHOConfig(**{**base.__dict__, "variant": variant, "seed": int(rep) if name == "default" and rep else 0,
                           "threshold": float(thr) if thr else base.threshold})  # fmt: skip

        def record(st, lab):
            for k, pred in predictors.items():
                acc_prob[k].append(pred(st))
            acc_lab.append(np.asarray(lab))

        res = run_rho(inst, cfg, predictor=predictors.get("lrho" if thr else v), breakdowns=bd,
                      recorder=record if v == "oracle" and predictors else None)  # fmt: skip
        cpu = res.solve_cpu
        rows.append(dict(seed=seed, method=v, objective=res.objective, solve_time=res.solve_time,
                         total_time=res.total_time, cpu_time=cpu, windows=res.n_windows,
                         overlap=res.n_overlap, fixed=res.n_fixed, events=len(res.events),
                         interrupted=res.n_interrupted))  # fmt: skip
        print(f"seed={seed} {v:10s} obj={res.objective} solve={res.solve_time:.1f}s cpu={cpu:.1f}s "
              f"fixed={res.n_fixed}/{res.n_overlap} events={len(res.events)}", flush=True)  # fmt: skip
    if not a.no_full and not bd and not a.noise:  # the full problem has no breakdown or noise model
        t_def = next(r["solve_time"] for r in rows if r["method"] == "default")
        cpu0 = time.process_time()
        try:
            out = cpsat.solve(inst, objective, options=cpsat.CPSatOptions(time_limit=t_def, num_workers=a.workers))
            val, status, wall = int(OBJECTIVES[objective](inst, validate(inst, out.schedule))), out.status, out.wall_time
        except SolverError as e:  # no solution within default RHO's time: a result, not a crash
            val, status, wall = None, "no solution" if "UNKNOWN" in str(e) else str(e), t_def
        rows.append(dict(seed=seed, method="cpsat-full", objective=val, solve_time=wall, total_time=wall,
                         cpu_time=time.process_time() - cpu0, windows=1, overlap=0, fixed=0, events=0,
                         interrupted=0))  # fmt: skip
        print(f"seed={seed} cpsat-full obj={val} time={wall:.1f}s ({status})", flush=True)
    return rows, acc_lab, acc_prob


def report(a: argparse.Namespace, seeds: list[int], results: dict, wall: float) -> None:
    """Summarise the instances done so far; print and (re)write the results files."""
    rows = [r for s in seeds for r in results[s][0]]
    acc_lab = [x for s in seeds for x in results[s][1]]
    objective = a.objective
    methods = list(dict.fromkeys(r["method"] for r in rows))
    # A method without a solution on an instance (cpsat-full: objective None) is averaged over the others.
    mean = {m: {k: float(np.mean([r[k] for r in rows if r["method"] == m and r[k] is not None] or [np.nan]))
                for k in ("objective", "solve_time", "cpu_time")} for m in methods}  # fmt: skip
    d = mean.get("default")
    summary = []
    for m in methods:
        ti = 100 * (d["solve_time"] - mean[m]["solve_time"]) / d["solve_time"] if d else None
        ti_cpu = 100 * (d["cpu_time"] - mean[m]["cpu_time"]) / d["cpu_time"] if d else None
        oi = 100 * (d["objective"] - mean[m]["objective"]) / d["objective"] if d else None
        solved = sum(r["objective"] is not None for r in rows if r["method"] == m)
        summary.append(dict(method=m, solved=solved, objective=mean[m]["objective"], solve_time=mean[m]["solve_time"],
                            cpu_time=mean[m]["cpu_time"], TI=ti, TI_cpu=ti_cpu, OI=oi,
                            **(_paired(rows, m, seeds) if d else {})))  # fmt: skip
    acc = {}
    if acc_lab:
        lab = np.concatenate(acc_lab).astype(np.float32)
        for k in results[seeds[0]][2]:
            probs = np.concatenate([p for s in seeds for p in results[s][2][k]])
            acc[k] = label_metrics(probs, lab, np.ones(len(lab), bool))
    online = (f" breakdowns {a.breakdowns}" if a.breakdowns else "") + (f" noise {a.noise:g}" if a.noise else "")
    print(f"\n{a.setting}{online}: {len(seeds)} instances {seeds}, (H, S, T, stop) = ({a.H}, {a.S}, {a.T}, {a.stop_after}), "
          f"objective {objective}, {a.workers} CP-SAT workers")  # fmt: skip
    print(f"{'method':12s} {'objective':>10s} {'solve s':>9s} {'TI%':>7s} {'OI%':>7s} {'cpu s':>8s} {'TI-cpu%':>8s}")
    for s in summary:
        print(f"{s['method']:12s} {s['objective']:10.1f} {s['solve_time']:9.2f} {s['TI']:7.1f} {s['OI']:7.2f} "
              f"{s['cpu_time']:8.2f} {s['TI_cpu']:8.1f}  obj better/worse than default: {s['obj_better']}/{s['obj_worse']} "
              f"(Wilcoxon p {s['obj_wilcoxon_p']}), solved {s['solved']}/{len(seeds)}")  # fmt: skip
    spread = _spread(rows, seeds, a.repeats)
    if spread:
        print(f"default RHO over {a.repeats} runs: per-instance objective range {spread['objective_range_pct']} % of the "
              f"mean (mean {spread['objective_range_pct_mean']:.2f}%), time range {spread['time_range_pct']} %")  # fmt: skip
    for k, m in acc.items():
        print(f"{k} label accuracy {m['accuracy']:.3f} (all-keep {m['keep_rate']:.3f}, precision "
              f"{m['precision']:.3f}, recall {m['recall']:.3f}, n={m['n']})")  # fmt: skip
    out = a.out or os.path.join(os.path.dirname(__file__), "results", f"rho-{_name(a)}.json")
    write_json_atomic(out, {"args": vars(a), "summary": summary, "default_spread": spread,
                            "label_accuracy": acc or None, "runs": rows,
                            "wall_seconds": wall})  # fmt: skip
    with atomic_path(out[:-5] + ".csv") as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out}")


def _name(a: argparse.Namespace) -> str:
    """The results file stem: the setting, then the objective, noise and breakdowns when not the setting's."""
    name = a.setting
    if a.objective != SETTINGS[a.setting][2]:
        name += f"-{a.objective.replace('_', '-')}"
    if a.noise:
        name += f"-noise{a.noise:g}"
    return name + (f"-breakdowns-{a.breakdowns}" if a.breakdowns else "")


def _paired(rows: list[dict], method: str, seeds: list[int]) -> dict:
    """Per-instance objective of ``method`` vs default RHO (seed 0): wins, losses, Wilcoxon p."""
    from scipy.stats import wilcoxon

    by = {(r["seed"], r["method"]): r["objective"] for r in rows}
    diff = np.array([by[(s, method)] - by[(s, "default")] for s in seeds if by.get((s, method)) is not None], float)
    p = float(wilcoxon(diff).pvalue) if np.count_nonzero(diff) >= 1 and method != "default" else None
    return {"obj_better": int((diff < 0).sum()), "obj_worse": int((diff > 0).sum()),
            "obj_wilcoxon_p": None if p is None else round(p, 4)}  # fmt: skip


def _spread(rows: list[dict], seeds: list[int], repeats: int) -> dict | None:
    """Default RHO's run-to-run spread per instance: (max - min) / mean of objective and time, in %."""
    if repeats < 2:
        return None
    names = ["default"] + [f"default-r{k}" for k in range(1, repeats)]
    obj, tim = [], []
    for s in seeds:
        o = np.array([r["objective"] for r in rows if r["seed"] == s and r["method"] in names], float)
        t = np.array([r["solve_time"] for r in rows if r["seed"] == s and r["method"] in names], float)
        obj.append(round(100 * float(np.ptp(o) / o.mean()), 2))
        tim.append(round(100 * float(np.ptp(t) / t.mean()), 1))
    return {"repeats": repeats, "objective_range_pct": obj, "objective_range_pct_mean": float(np.mean(obj)),
            "time_range_pct": tim}  # fmt: skip


if __name__ == "__main__":
    main()
