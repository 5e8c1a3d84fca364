"""Claim check: is an L-RHO model's result on one instance outside default RHO's own seed spread?

Issue 17 bounds ``jsched rho mk01.fjs --variant lrho --H 20 --S 10 --T 5`` by 44. One run per
model cannot say whether a model moved that result or CP-SAT's seed did: this runs default RHO and
each model over solver seeds, with and without ``--deterministic`` window solves, and per arm
prints the makespans, their mean, how many stay <= ``--bound``, and a Mann-Whitney p-value against
default RHO in the same mode. Every schedule is validated.

    python bench/rho_seeds.py --instance mk01 --H 20 --S 10 --T 5 --seeds 0-15 --models shipped,MODEL.msgpack

``--models``: ``shipped`` (the model ``--variant lrho`` loads) or checkpoint paths. Writes
``bench/results/rho-seeds-INSTANCE.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from scipy.stats import mannwhitneyu
from tqdm import tqdm

from jsched import api
from jsched.atomic import atomic_path
from jsched.seeds import parse_seeds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instance", default="mk01", help="benchmark name or instance file")
    ap.add_argument("--H", type=int, default=20)
    ap.add_argument("--S", type=int, default=10)
    ap.add_argument("--T", type=float, default=5.0)
    ap.add_argument("--seeds", default="0-15", help="solver seeds per arm")
    ap.add_argument("--models", default="shipped", help="'shipped' and/or checkpoint paths, comma-separated")
    ap.add_argument("--bound", type=float, default=44, help="the makespan bound to count runs against")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    inst, seeds = api.load(a.instance), parse_seeds(a.seeds)
    arms = {"default": {"method": "rho", "variant": "default"}}
    for m in filter(None, (x.strip() for x in a.models.split(","))):
        arms[m] = {"method": "lrho"} if m == "shipped" else {"method": "lrho", "checkpoint": m}
    rows, bar = [], tqdm(total=2 * len(arms) * len(seeds), desc="rho seeds")
    for det in (False, True):
        for name, kw in arms.items():
            ms, fixed = [], []
            for s in seeds:
                r = api.solve(inst, H=a.H, S=a.S, T=a.T, deterministic=det, seed=s, **kw)
                ms.append(int(r.makespan))  # api.solve validates every schedule
                fixed.append(int(r.extra["fixed_ops"]))
                bar.update()
            if name == "default":  # the first arm: each model is compared with it
                base, p = ms, None
            else:
                p = float(mannwhitneyu(ms, base).pvalue)
            rows.append({"arm": name, "deterministic": det, "makespans": ms, "fixed_ops": fixed, "mean": float(np.mean(ms)),
                         "within_bound": sum(m <= a.bound for m in ms), "p_vs_default": p})  # fmt: skip
    bar.close()
    print(f"{inst.name}: H {a.H} S {a.S} T {a.T}, solver seeds {seeds[0]}-{seeds[-1]}, bound {a.bound:g}")
    for r in rows:
        p = "" if r["p_vs_default"] is None else f"  vs default p = {r['p_vs_default']:.3g}"
        print(f"{r['arm']:>12} {'deterministic' if r['deterministic'] else 'default solves':>14}: mean {r['mean']:.2f}, "
              f"<= bound {r['within_bound']}/{len(seeds)}, range {min(r['makespans'])}-{max(r['makespans'])}, "
              f"fixed {min(r['fixed_ops'])}-{max(r['fixed_ops'])}{p}")  # fmt: skip
    out = a.out or os.path.join(os.path.dirname(__file__), "results", f"rho-seeds-{inst.name}.json")
    doc = {"command": " ".join(["python bench/rho_seeds.py", *sys.argv[1:]]), "args": vars(a), "rows": rows}
    with atomic_path(out, suffix=".json") as tmp, open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
