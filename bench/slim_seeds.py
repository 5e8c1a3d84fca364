"""Claim: SLIM's best-of-N makespan depends on the sampling seed; this measures how much.

``jsched solve ta01 --method slim --samples 128`` uses seed 0; another ``--seed`` draws other
samples and can give another best. For each checkpoint (side by side, same seeds, same run)
and each instance, this decodes ``--samples`` solutions under every seed of ``--seeds`` and
reports the mean, min and max of the best makespan, its gap to the best-known value, and the
share of seeds within ``--target-gap`` percent. Every best schedule passes the validator (``jsched.evaluate``).
Writes ``bench/results/slim_seeds.json``.

    python bench/slim_seeds.py --checkpoints jsched/assets/slim/slim.ckpt OTHER.ckpt \
        --instances ta01 --samples 128 --seeds 0-15
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from jsched import evaluate
from jsched.instances import best_known, load
from jsched.schedule import write_json_atomic
from jsched.seeds import parse_seeds
from jsched.slim.method import DEFAULT_CHECKPOINT


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoints", nargs="+", default=[os.path.relpath(DEFAULT_CHECKPOINT)])
    ap.add_argument("--instances", default="ta01", help="comma-separated JSP benchmark names")
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--seeds", default="0-15")
    ap.add_argument("--target-gap", type=float, default=12.0, help="percent (the SLIM issue's ta01 bar)")
    ap.add_argument("--out", default=os.path.relpath(os.path.join(os.path.dirname(__file__), "results", "slim_seeds.json")))
    a = ap.parse_args()
    insts = [load(n) for n in a.instances.split(",")]
    bks = np.array([best_known(i) for i in insts], np.float64)
    seeds = parse_seeds(a.seeds)
    rows = []
    print(f"{'checkpoint':40s} {'instance':8s} {'mean':>8s} {'min':>6s} {'max':>6s} {'mean gap%':>9s} {'<=target':>8s}")
    for ck in a.checkpoints:
        best = np.zeros((len(seeds), len(insts)), np.int64)
        t0 = time.perf_counter()
        for s_i, seed in enumerate(seeds):
            best[s_i] = [r.makespan for r in evaluate("slim", insts, seed=seed, samples=a.samples, checkpoint=ck)]
        secs = time.perf_counter() - t0
        for k, inst in enumerate(insts):
            col = best[:, k]
            gaps = 100 * (col / bks[k] - 1)
            row = {"checkpoint": ck, "instance": inst.name, "best_known": int(bks[k]), "seeds": seeds,
                   "makespans": col.tolist(), "mean": float(col.mean()), "min": int(col.min()), "max": int(col.max()),
                   "mean_gap_percent": float(gaps.mean()), "share_within_target": float((gaps <= a.target_gap).mean()),
                   "seconds_all_seeds": secs}  # fmt: skip
            rows.append(row)
            print(f"{ck[-40:]:40s} {inst.name:8s} {row['mean']:8.1f} {row['min']:6d} {row['max']:6d} "
                  f"{row['mean_gap_percent']:9.2f} {row['share_within_target']:8.2f}")  # fmt: skip
    write_json_atomic(a.out, {"args": vars(a), "rows": rows})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
