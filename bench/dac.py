"""Claim: jsched's MA reproduces MA-CAS-PFSP, DAC vs static parameters, and the jitted MA's speed.

Part 1 (quality), per dataset: ``--runs`` runs on each of the first ``--instances`` test
instances of MA default, MA tuned (paper Table 3), optionally MA tuned by our random search
(``--tuned-file``), and MA-DAC (the shipped policy or ``--policy``). Per set, as the paper
reports them: mean = average over instances of the per-instance run mean,
best = average of per-instance best runs, std = average of per-instance std (ddof 0);
%Delta = (mean_static - mean_DAC) / mean_DAC * 100 (positive: DAC better); a Wilcoxon rank-sum
test (scipy) per instance, DAC vs tuned, counted as wins / losses at p < 0.05; mean improvement
over the seed individual (file order, no idle); and the published MA default / tuned / MA-DRL
means of the same instances side by side.

Part 2 (speed): MA generations per second on one instance, population 250: the jitted
generation (one run; and ``--runs`` runs vmapped), the numpy version vectorised over the
population, and the per-individual loop (``bench/numpy_ma.py``); best of ``--speed-repeats``
interleaved rounds, since the CPU is shared.

The CPU default subset is M1T1, M3T1 (known) and M5T1, M10T1 (unknown), 3 instances x 10 runs
each. Writes ``bench/results/dac.json`` and ``dac.csv``.

    PYTHONPATH=$PWD python bench/dac.py [--sets M1T1,M3T1,M5T1,M10T1] [--instances 3] [--runs 10]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from numpy_ma import NumpyMA  # noqa: E402  (bench/numpy_ma.py, beside this script)

from jsched.atomic import atomic_path
from jsched.dac import ma  # noqa: E402
from jsched.dac.env import DACSettings  # noqa: E402
from jsched.dac.policy import load_policy, run_dac_batch  # noqa: E402
from jsched.dac.published import instance_path, published_runs  # noqa: E402
from jsched.instances.pfsp import read_cas  # noqa: E402
from jsched.kernels import pfsp as K  # noqa: E402
from jsched.schedule import write_json_atomic  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def seed_value(inst) -> float:
    p = ma.pfsp_params(inst)
    return float(jax.jit(K.decode)(p, *K.seed_individual(p)).emissions)


def final_values(insts, fit_keys) -> np.ndarray:
    """(I, R) float64 emissions of the best individuals, each decoded, validated (ma.finish)."""
    jk, pk = fit_keys
    out = np.zeros(jk.shape[:2])
    for i, inst in enumerate(insts):
        p = ma.pfsp_params(inst, jk.shape[2], None, None, pk.shape[3])  # the run's job/machine padding
        for r in range(jk.shape[1]):
            out[i, r] = ma.finish(inst, p, jk[i, r], pk[i, r]).emissions
    return out


def quality(args, policy, partial_out: dict | None = None) -> list[dict]:
    from scipy.stats import ranksums

    rows = []
    if partial_out is not None:
        partial_out["quality"] = rows
    methods = {"default": ma.DEFAULT, "tuned": ma.TUNED}
    if args.tuned_file:
        methods["tuned-rs"] = ma.load_params_spec(args.tuned_file)
    for s in args.sets:
        insts = [read_cas(instance_path(s, k)) for k in range(1, args.instances + 1)]
        stacked = ma.stack_params(insts)
        keys = jax.random.split(jax.random.key(args.seed), len(insts) * args.runs).reshape(len(insts), args.runs)
        seeds = np.array([seed_value(i) for i in insts])
        vals, secs, curves = {}, {}, {}
        for name, values in methods.items():
            t = time.perf_counter()
            (jk, pk, _), curve = ma.run_batch(keys, stacked, ma.make_config(values), args.pop, args.generations, ma.LS_STEPS)
            vals[name] = final_values(insts, (np.asarray(jk), np.asarray(pk)))
            secs[name] = time.perf_counter() - t
            curves[name] = np.asarray(curve.best)
        if policy is not None:
            t = time.perf_counter()
            settings = DACSettings(args.generations, args.pop, ma.LS_STEPS)
            (jk, pk, _), curve, _ = run_dac_batch(keys, stacked, policy, settings)
            vals["dac"] = final_values(insts, (np.asarray(jk), np.asarray(pk)))
            secs["dac"] = time.perf_counter() - t
            curves["dac"] = np.asarray(curve)
        # Convergence: best-so-far relative to the seed individual, runs x generations per method.
        from jsched.dac.plots import plot_convergence

        rel = {k: (c / seeds[:, None, None]).reshape(-1, c.shape[-1]) for k, c in curves.items()}
        plot_convergence(rel, f"{args.out}_convergence_{s}.png", title=f"{s}: mean (band: min-max over runs)",
                         ylabel="best emissions / seed individual's")
        pub = {m: np.array([published_runs(s, m)[i.name] for i in insts]) for m in ("default", "tuned", "drl")}
        row = {"set": s, "instances": [i.name for i in insts], "runs": args.runs}
        for name, v in list(vals.items()) + [(f"published-{m}", x) for m, x in pub.items()]:
            row[name] = {
                "mean": float(v.mean(1).mean()), "best": float(v.min(1).mean()), "std": float(v.std(1).mean()),
                "improvement_over_seed_percent": float((100 * (1 - v / seeds[:, None])).mean()),
            }
            if name in secs:
                row[name]["seconds"] = round(secs[name], 1)
        for name in vals:
            row[name]["vs_published_default_percent"] = 100 * (row[name]["mean"] / row["published-default"]["mean"] - 1)
        if "dac" in vals:
            d = row["dac"]["mean"]
            for name in vals:
                if name != "dac":
                    row[f"delta_dac_vs_{name}"] = 100 * (row[name]["mean"] - d) / d
            wins = losses = 0
            for i in range(len(insts)):
                if np.allclose(vals["dac"][i], vals["tuned"][i]):
                    continue
                pval = ranksums(vals["dac"][i], vals["tuned"][i]).pvalue
                if pval < 0.05:
                    wins += vals["dac"][i].mean() < vals["tuned"][i].mean()
                    losses += vals["dac"][i].mean() > vals["tuned"][i].mean()
            row["wilcoxon_dac_vs_tuned"] = {"better": int(wins), "worse": int(losses), "instances": len(insts)}
        rows.append(row)
        print_row(row)
        if partial_out is not None:  # keep finished sets if a long run is stopped
            write_json_atomic(args.out + ".json", partial_out)
    return rows


def print_row(row):
    names = [k for k in row if isinstance(row[k], dict) and "mean" in row[k]]
    print(f"\n== {row['set']} ({len(row['instances'])} instances x {row['runs']} runs)")
    print(f"{'method':20s} {'mean':>14s} {'best':>14s} {'std':>11s} {'impr.seed%':>10s} {'vs pub.def%':>11s} {'sec':>7s}")
    for n in names:
        r = row[n]
        print(f"{n:20s} {r['mean']:14.2f} {r['best']:14.2f} {r['std']:11.2f} {r['improvement_over_seed_percent']:10.2f} "
              f"{r.get('vs_published_default_percent', float('nan')):11.2f} {r.get('seconds', float('nan')):7.1f}")
    for k in row:
        if k.startswith("delta_"):
            print(f"{k}: {row[k]:+.3f}%")
    if "wilcoxon_dac_vs_tuned" in row:
        print("Wilcoxon rank-sum DAC vs tuned (p<0.05):", row["wilcoxon_dac_vs_tuned"])


def speed(args) -> dict:
    """Generations per second of each MA version, best of ``--speed-repeats`` interleaved rounds.

    The CPU is shared, so every round times all versions one after the other and each keeps
    its fastest round (as ``timeit`` does): transient load from other processes then hits no
    version harder than another.
    """
    inst = read_cas(instance_path(args.speed_set, 1))
    cfg = ma.make_config(ma.DEFAULT)
    p = ma.pfsp_params(inst)
    gen = jax.jit(K.generation, static_argnames="ls_steps")
    pop = jax.jit(K.init_population, static_argnums=2)(jax.random.key(0), p, args.pop)
    n = args.speed_generations
    gen(jax.random.key(0), p, cfg, pop, ls_steps=ma.LS_STEPS)[0].fitness.block_until_ready()
    # R independent runs in one vmapped call, as the quality part runs them.
    pops = jax.vmap(lambda k: K.init_population(k, p, args.pop))(jax.random.split(jax.random.key(1), args.runs))
    vgen = jax.jit(jax.vmap(lambda k, q: K.generation(k, p, cfg, q, ma.LS_STEPS)[0]))
    vgen(jax.random.split(jax.random.key(0), args.runs), pops).fitness.block_until_ready()
    algos = {label: NumpyMA(inst, args.pop, ma.LS_STEPS, per_individual=per_ind)
             for label, per_ind in (("numpy_vectorised", False), ("numpy_per_individual", True))}
    states = {label: a.init(np.random.default_rng(0)) for label, a in algos.items()}

    def timed_jax():
        t = time.perf_counter()
        q = pop
        for i in range(n):
            q = gen(jax.random.key(i), p, cfg, q, ls_steps=ma.LS_STEPS)[0]
        q.fitness.block_until_ready()
        return n / (time.perf_counter() - t)

    def timed_vmap():
        t = time.perf_counter()
        q = pops
        for i in range(n):
            q = vgen(jax.random.split(jax.random.key(i), args.runs), q)
        q.fitness.block_until_ready()
        return args.runs * n / (time.perf_counter() - t)

    def timed_numpy(label):
        gens = n if label == "numpy_vectorised" else max(1, n // 20)
        rng = np.random.default_rng(0)
        state = states[label]
        t = time.perf_counter()
        for _ in range(gens):
            state = algos[label].generation(rng, ma.DEFAULT, state)
        return gens / (time.perf_counter() - t)

    timers = {"jax_jit_gen_per_s": timed_jax, f"jax_jit_vmap_{args.runs}_runs_gen_per_s": timed_vmap,
              "numpy_vectorised_gen_per_s": lambda: timed_numpy("numpy_vectorised"),
              "numpy_per_individual_gen_per_s": lambda: timed_numpy("numpy_per_individual")}
    rounds = {k: [] for k in timers}
    for _ in range(args.speed_repeats):
        for k, f in timers.items():
            rounds[k].append(f())
    res = {"instance": inst.name, "pop": args.pop, "ls_steps": ma.LS_STEPS, "repeats": args.speed_repeats}
    res.update({k: max(v) for k, v in rounds.items()})
    res["rounds"] = rounds
    base = res["jax_jit_gen_per_s"]
    res["ratio_jax_vs_numpy_vectorised"] = base / res["numpy_vectorised_gen_per_s"]
    res["ratio_jax_vs_per_individual"] = base / res["numpy_per_individual_gen_per_s"]
    print(f"\n== speed on {inst.name} ({inst.shape}, H={inst.horizon}), population {args.pop}, LS {ma.LS_STEPS}, "
          f"best of {args.speed_repeats} rounds")
    for k, v in res.items():
        if isinstance(v, float):
            print(f"{k:40s} {v:12.2f}")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="M1T1,M3T1,M5T1,M10T1")
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--generations", type=int, default=ma.GENERATIONS)
    ap.add_argument("--pop", type=int, default=ma.POP_SIZE)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--policy", help="DAC policy (default: shipped); 'none' skips DAC")
    ap.add_argument("--tuned-file", help="also run MA with these parameters (e.g. our tuner's JSON)")
    ap.add_argument("--speed-set", default="M3T1")
    ap.add_argument("--speed-generations", type=int, default=40)
    ap.add_argument("--speed-repeats", type=int, default=5, help="interleaved timing rounds; the best counts")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--out", default=os.path.join(RESULTS, "dac"))
    args = ap.parse_args()
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    policy = None
    if args.policy != "none" and not args.skip_quality:
        policy, pcfg = load_policy(args.policy)
        print("DAC policy:", args.policy or "shipped", "trained generations:", pcfg.get("generations_trained"))
    out = {"command": " ".join(sys.argv), "device": jax.devices()[0].device_kind, "args": vars(args)}
    if not args.skip_quality:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        out["quality"] = quality(args, policy, out)
    if not args.skip_speed:
        out["speed"] = speed(args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_json_atomic(args.out + ".json", out)
    if "quality" in out:
        with atomic_path(args.out + ".csv") as tmp, open(tmp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["set", "method", "mean", "best", "std", "improvement_over_seed_percent", "vs_published_default_percent"])
            for row in out["quality"]:
                for k, v in row.items():
                    if isinstance(v, dict) and "mean" in v:
                        w.writerow([row["set"], k, v["mean"], v["best"], v["std"], v["improvement_over_seed_percent"],
                                    v.get("vs_published_default_percent", "")])
    print("\nwrote", args.out + ".json")


if __name__ == "__main__":
    main()
