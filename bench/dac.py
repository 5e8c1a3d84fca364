"""Claim: jsched's MA reproduces MA-CAS-PFSP, DAC vs static parameters, and the jitted MA's speed.

Part 1 (quality), per dataset: ``--runs`` runs (vmapped) on each of the first ``--instances``
test instances of each of ``--methods``: ``default`` (paper Table 3 default), ``table3`` (paper
Table 3 tuned, tuned for the authors' MA), ``tuned`` (jsched's MA tuned by ``bench/dac_tune.py``,
the shipped ``--params tuned``; ``--tuned-file`` for another) and ``dac`` (the shipped policy or
``--policy``); every run's best schedule is decoded and validated. Per set, as the paper reports
them: mean = average over instances of the per-instance run mean, best = average of per-instance
best runs, std = average of per-instance std (ddof 0); %Delta = (mean_static - mean_DAC) /
mean_DAC * 100 (positive: DAC better); per instance a Wilcoxon rank-sum test (scipy) DAC vs each
static method, counted as better / worse at p < 0.05 (the paper's count), and per set a Wilcoxon
signed-rank test over the instances' run means (paired by instance); the mean improvement over
the seed individual (file order, no idle); the published MA default / tuned / MA-DRL means of the
same instances, per set and per instance beside ours. For the first instance of each set a
figure: each method's best schedule's power profile and the emissions over generations.

The out file keeps every run's value; a rerun with the same sets, instances, runs, seed and
budget reuses the methods already there (so methods can be added one invocation at a time).

Part 2 (speed): MA generations per second on one instance, population 250: the jitted
generation (one run; and ``--runs`` runs vmapped), the numpy version vectorised over the
population, and the per-individual loop (``bench/numpy_ma.py``); best of ``--speed-repeats``
interleaved rounds, since the CPU is shared.

    PYTHONPATH=$PWD python bench/dac.py [--sets M10T3,M15T3] [--instances 10] [--runs 10]
        [--methods default,table3,tuned,dac] [--out bench/results/dac_10x10] [--skip-speed]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from numpy_ma import NumpyMA  # noqa: E402  (bench/numpy_ma.py, beside this script)

from jsched.atomic import atomic_path  # noqa: E402
from jsched.dac import ma  # noqa: E402
from jsched.dac.env import DACSettings  # noqa: E402
from jsched.dac.policy import load_policy, run_dac_batch  # noqa: E402
from jsched.dac.published import SETS, instance_path, published_runs  # noqa: E402
from jsched.instances.pfsp import read_cas  # noqa: E402
from jsched.kernels import pfsp as K  # noqa: E402
from jsched.schedule import write_json_atomic  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
STATIC = ("default", "table3", "tuned")


def seed_value(inst) -> float:
    p = ma.pfsp_params(inst)
    return float(jax.jit(K.decode)(p, *K.seed_individual(p)).emissions)


def final_values(insts, fit_keys) -> tuple[np.ndarray, list[np.ndarray]]:
    """(I, R) float64 emissions of the best individuals, each decoded and validated (ma.finish),
    and the first instance's start slots per run."""
    jk, pk = fit_keys
    out = np.zeros(jk.shape[:2])
    starts = []
    for i, inst in enumerate(insts):
        p = ma.pfsp_params(inst, jk.shape[2], None, None, pk.shape[3])  # the run's job/machine padding
        for r in range(jk.shape[1]):
            res = ma.finish(inst, p, jk[i, r], pk[i, r])
            out[i, r] = res.emissions
            if i == 0:
                starts.append(res.start)
    return out, starts


def run_method(name, args, policy, keys, stacked, insts):
    """(values (I, R), first instance's best start, its curves (R, G + 1), seconds) of one method."""
    t = time.perf_counter()
    if name == "dac":
        settings = DACSettings(args.generations, args.pop, ma.LS_STEPS)
        (jk, pk, _), curve, _ = run_dac_batch(keys, stacked, policy, settings)
    else:
        cfg = ma.make_config(static_params(name, args))
        (jk, pk, _), stats = ma.run_batch(keys, stacked, cfg, args.pop, args.generations, ma.LS_STEPS)
        curve = stats.best
    vals, starts = final_values(insts, (np.asarray(jk), np.asarray(pk)))
    return vals, starts[int(vals[0].argmin())], np.asarray(curve)[0], time.perf_counter() - t


def static_params(name: str, args) -> dict:
    return ma.load_params_spec(args.tuned_file or "tuned") if name == "tuned" else ma.load_params_spec(name)


def stats(v: np.ndarray, seeds: np.ndarray) -> dict:
    return {"mean": float(v.mean(1).mean()), "best": float(v.min(1).mean()), "std": float(v.std(1).mean()),
            "improvement_over_seed_percent": float((100 * (1 - v / seeds[:, None])).mean())}


def compare(dac: np.ndarray, other: np.ndarray) -> dict:
    """%Delta (positive: DAC better), per-instance rank-sum counts, per-set signed-rank p."""
    from scipy.stats import ranksums, wilcoxon

    better = worse = 0
    for a, b in zip(dac, other):
        if not np.allclose(a, b) and ranksums(a, b).pvalue < 0.05:
            better += a.mean() < b.mean()
            worse += a.mean() > b.mean()
    md, mo = dac.mean(1), other.mean(1)
    p = float(wilcoxon(md, mo).pvalue) if not np.allclose(md, mo) else 1.0
    return {"delta_percent": float(100 * (mo.mean() - md.mean()) / md.mean()),
            "instances_better": int(better), "instances_worse": int(worse), "instances": len(dac),
            "signed_rank_p": p, "dac_better_on_instances": int((md < mo).sum())}


def previous_raw(args, s: str, names: list[str]) -> dict:
    """Run values of set ``s`` already in the out file under the same protocol."""
    path = args.out + ".json"
    if not os.path.exists(path):
        return {}
    with open(path) as fh:
        old = json.load(fh)
    keys = ("runs", "seed", "generations", "pop", "policy", "tuned_file")
    same = all(old.get("args", {}).get(k) == getattr(args, k) for k in keys)
    for row in old.get("quality", []):
        if same and row["set"] == s and row["instances"] == names:
            return row.get("raw", {})
    return {}


def quality(args, policy, out: dict) -> list[dict]:
    rows = out.setdefault("quality", [])
    for s in args.sets:
        insts = [read_cas(instance_path(s, k)) for k in range(1, args.instances + 1)]
        names = [i.name for i in insts]
        raw = previous_raw(args, s, names)
        rows[:] = [r for r in rows if r["set"] != s]
        stacked = ma.stack_params(insts)
        keys = jax.random.split(jax.random.key(args.seed), len(insts) * args.runs).reshape(len(insts), args.runs)
        seeds = np.array([seed_value(i) for i in insts])
        row = {"set": s, "instances": names, "runs": args.runs, "raw": raw}
        rows.append(row)
        for name in args.methods:
            same = [m for m in raw if {m, name} <= set(STATIC) and static_params(m, args) == static_params(name, args)]
            if name not in raw and same:  # same parameters, same keys: the same runs
                raw[name] = {**raw[same[0]], "same_parameters_as": same[0]}
            if name in raw:
                continue
            vals, start, curve, secs = run_method(name, args, policy, keys, stacked, insts)
            raw[name] = {"values": vals.tolist(), "seconds": round(secs, 1), "first_instance_start": start.tolist(),
                         "first_instance_curves": np.round(curve, 2).tolist()}
            write_json_atomic(args.out + ".json", out)  # keep finished methods if a long run is stopped
        summarise(row, seeds, insts)
        write_json_atomic(args.out + ".json", out)
        print_row(row)
        shown = {m: r for m, r in raw.items() if "same_parameters_as" not in r}
        if shown:
            from jsched.dac.plots import methods_figure, save_figure

            fig = methods_figure(insts[0], {m: np.array(r["first_instance_start"]) for m, r in shown.items()},
                                 {m: np.array(r["first_instance_curves"]) for m, r in shown.items()})
            save_figure(fig, f"{args.out}_{s}_{names[0]}.png")
    return rows


def summarise(row: dict, seeds: np.ndarray, insts) -> None:
    """The row's per-set and per-instance figures from its run values and the published runs."""
    s = row["set"]
    vals = {m: np.array(r["values"]) for m, r in row["raw"].items()}
    pub = {m: np.array([published_runs(s, m)[i.name] for i in insts]) for m in ("default", "tuned", "drl")}
    for name, v in [(f"published-{m}", x) for m, x in pub.items()] + list(vals.items()):
        row[name] = stats(v, seeds)
        if name in row["raw"]:
            row[name]["seconds"] = row["raw"][name]["seconds"]
            row[name]["vs_published_default_percent"] = 100 * (row[name]["mean"] / row["published-default"]["mean"] - 1)
    for name in STATIC:
        if "dac" in vals and name in vals:
            row[f"dac_vs_{name}"] = compare(vals["dac"], vals[name])
    row["per_instance"] = [
        {"instance": inst.name, "seed_individual": float(seeds[i]),
         **{m: float(v[i].mean()) for m, v in vals.items()},
         **{f"published-{m}": float(v[i].mean()) for m, v in pub.items()}}
        for i, inst in enumerate(insts)
    ]


def print_row(row):
    names = [k for k in row if isinstance(row[k], dict) and "mean" in row[k]]
    print(f"\n== {row['set']} ({len(row['instances'])} instances x {row['runs']} runs)")
    print(f"{'method':20s} {'mean':>14s} {'best':>14s} {'std':>11s} {'impr.seed%':>10s} {'vs pub.def%':>11s} {'sec':>7s}")
    for n in names:
        r = row[n]
        print(f"{n:20s} {r['mean']:14.2f} {r['best']:14.2f} {r['std']:11.2f} {r['improvement_over_seed_percent']:10.2f} "
              f"{r.get('vs_published_default_percent', float('nan')):11.2f} {r.get('seconds', float('nan')):7.1f}")
    for k in row:
        if k.startswith("dac_vs_"):
            c = row[k]
            print(f"{k}: {c['delta_percent']:+.3f}%  signed-rank p={c['signed_rank_p']:.4f}  "
                  f"rank-sum better/worse {c['instances_better']}/{c['instances_worse']} of {c['instances']}")


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
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--instances", type=int, default=10)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--generations", type=int, default=ma.GENERATIONS)
    ap.add_argument("--pop", type=int, default=ma.POP_SIZE)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="default,table3,tuned,dac")
    ap.add_argument("--policy", help="DAC policy (default: the shipped one)")
    ap.add_argument("--tuned-file", help="parameters of the 'tuned' row (default: the shipped --params tuned)")
    ap.add_argument("--speed-set", default="M3T1")
    ap.add_argument("--speed-generations", type=int, default=40)
    ap.add_argument("--speed-repeats", type=int, default=5, help="interleaved timing rounds; the best counts")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--out", default=os.path.join(RESULTS, "dac"))
    args = ap.parse_args()
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if set(args.methods) - {*STATIC, "dac"}:
        ap.error(f"--methods: choose from {', '.join((*STATIC, 'dac'))}")
    policy = None
    if "dac" in args.methods and not args.skip_quality:
        policy, pcfg = load_policy(args.policy)
        print("DAC policy:", args.policy or "shipped", "trained generations:", pcfg.get("generations_trained"))
    out = {"command": " ".join(sys.argv), "device": jax.devices()[0].device_kind, "args": vars(args)}
    if os.path.exists(args.out + ".json"):  # other sets of an earlier invocation stay
        with open(args.out + ".json") as fh:
            out["quality"] = json.load(fh).get("quality", [])
    if not args.skip_quality:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        quality(args, policy, out)
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
