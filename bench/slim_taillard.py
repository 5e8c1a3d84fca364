"""Claim: the shipped SLIM checkpoint beats the MWKR rule on Taillard and gets within 12% with 128 samples.

Side by side in one run, on the Taillard instances of the chosen sizes (default 15x15,
ta01-ta10): MWKR (most work remaining, the paper's best rule, on non-delay schedules, plain numpy), SLIM greedy, and SLIM best of 128 and 512 samples. Every schedule passes the
validator; gaps are to the best-known makespans of ``../shared/data/jsp/bks.csv``. Prints a
table with ratios to MWKR and writes ``bench/results/slim_taillard.json``.

    python bench/slim_taillard.py [--sizes 15x15] [--samples 0,128,512]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from jsched import evaluate
from jsched.instances import best_known, load_set
from jsched.instances.model import JSPInstance
from jsched.schedule import Schedule, validate, write_json_atomic
from jsched.slim.method import DEFAULT_CHECKPOINT


def mwkr(inst: JSPInstance) -> Schedule:
    """MWKR on non-delay schedules, the usual PDR baseline.

    Among the jobs whose next operation can start earliest, dispatch the one with the most
    work remaining (ties: lowest index). On ta01-10 this gives 19.2% (the paper's MWKR: 19.5%
    over Taillard); the Giffler-Thompson active form gives 26.9% and plain dispatch 54.3%.
    """
    j, o = inst.machines.shape
    nxt, jr, mr = np.zeros(j, int), np.zeros(j, int), np.zeros(inst.n_machines, int)
    rem = inst.durations.sum(axis=1).astype(int)
    start = np.zeros((j, o), int)
    for _ in range(inst.n_ops):
        live = nxt < o
        k = np.minimum(nxt, o - 1)
        m = inst.machines[np.arange(j), k]
        est = np.maximum(jr, mr[m])
        conflict = live & (est == np.where(live, est, np.iinfo(np.int64).max).min())
        a = int(np.argmax(np.where(conflict, rem, -1)))
        d = inst.durations[a, nxt[a]]
        start[a, nxt[a]] = est[a]
        jr[a] = mr[m[a]] = est[a] + d
        rem[a] -= d
        nxt[a] += 1
    return Schedule.from_arrays(inst, start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="15x15")
    ap.add_argument("--samples", default="0,128,512", help="comma list; 0 = greedy")
    ap.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "slim_taillard.json"))
    args = ap.parse_args()
    sizes = args.sizes.split(",")
    insts = [i for size in sizes for i in load_set("taillard") if i.shape == size]
    bks = np.array([best_known(i) for i in insts], float)
    results = {"MWKR": np.array([validate(i, mwkr(i)).makespan for i in insts], float)}
    seconds = {"MWKR": 0.0}
    for s in (int(v) for v in args.samples.split(",")):
        name = "SLIM greedy" if s == 0 else f"SLIM b={s}"
        t0 = time.perf_counter()
        ms = [r.makespan for r in evaluate("slim", insts, samples=s, checkpoint=args.checkpoint)]  # validated
        seconds[name] = time.perf_counter() - t0
        results[name] = np.array(ms, float)
    base = float(np.mean(100 * (results["MWKR"] / bks - 1)))
    print(f"Taillard {','.join(sizes)} ({len(insts)} instances), checkpoint {Path(args.checkpoint).name}")
    print(f"{'method':14s} {'mean PG %':>9s} {'PG / MWKR':>9s} {'seconds':>8s}")
    rows = {}
    for name, ms in results.items():
        pg = float(np.mean(100 * (ms / bks - 1)))
        rows[name] = {"pg": pg, "makespans": ms.astype(int).tolist(), "seconds_incl_compile": seconds[name]}
        print(f"{name:14s} {pg:9.2f} {pg / base:9.2f} {seconds[name]:8.1f}")
    write_json_atomic(args.out, {"instances": [i.name for i in insts], "best_known": bks.astype(int).tolist(), "rows": rows})


if __name__ == "__main__":
    main()
