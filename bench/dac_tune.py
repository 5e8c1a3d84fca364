"""Static MA tuning by random search with the DAC training budget (``jsched.dac.tune``).

    python bench/dac_tune.py --budget G --out FILE [--sets M1T1,M3T1] [--seed S] [--batch B] [--minutes T]
        [--rescore K [--rescore-runs R]] [--asset]

The output's ``params`` is usable as ``jsched solve FILE.cas --method ma --params FILE``; the
first trials are the published default and Table 3 parameters. Also writes FILE's ``_trend.png``:
each trial's score and the best so far vs trials. ``--rescore K`` (once the budget is spent)
re-runs the K best trials R times on the same training instances and makes the best mean the
output's ``params``: the search scores one run per instance, so its best trial may be a noise
winner. ``--minutes 0`` only rewrites the outputs; ``--asset`` also writes ``params`` with their
provenance to the shipped ``--params tuned`` file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from scipy.stats import wilcoxon

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jsched.dac import ma  # noqa: E402
from jsched.dac.plots import save_figure, tuning_figure  # noqa: E402
from jsched.dac.train import TRAIN_SETS, training_instances  # noqa: E402
from jsched.dac.tune import finished, rescore, tune  # noqa: E402
from jsched.errors import JSchedError  # noqa: E402
from jsched.schedule import write_json_atomic  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="static MA tuning (random search)")
    ap.add_argument("--budget", type=int, required=True, help="MA generations in total (match the DAC training)")
    ap.add_argument("--out", required=True, help="results JSON (resumed if present; usable as --params FILE)")
    ap.add_argument("--sets", default=",".join(TRAIN_SETS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4, help="trials per jitted batch")
    ap.add_argument("--minutes", type=float, help="stop after the batch that passes this wall time (rerun resumes)")
    ap.add_argument("--rescore", type=int, default=0, metavar="K",
                    help="after the search, re-run its K best trials --rescore-runs times each; ship the best mean")
    ap.add_argument("--rescore-runs", type=int, default=10)
    ap.add_argument("--asset", action="store_true", help="write the best parameters to the shipped 'tuned' file")
    args = ap.parse_args(argv)
    insts = training_instances(tuple(s.strip() for s in args.sets.split(",") if s.strip()))
    r = tune(args.out, args.budget, insts, args.seed, batch=args.batch,
             time_limit_s=None if args.minutes is None else 60 * args.minutes)
    if args.rescore and finished(r):
        r = rescore(args.out, insts, args.rescore, args.rescore_runs)
        rs = r["rescore"]
        runs = np.array(rs["run_scores"])  # (trials, runs): mean over the instances of each run
        ref = runs[rs["trials"].index(rs["chosen_trial"])]
        for t, sc, row in zip(rs["trials"], rs["score"], runs):
            if t == rs["chosen_trial"]:
                print(f"rescore trial {t}: {sc:.2f} (chosen)")
                continue
            d = 100 * (row / ref - 1)
            print(f"rescore trial {t}: {sc:.2f}, {d.mean():+.3f}% vs chosen (sd {d.std(ddof=1):.2f} over "
                  f"{len(d)} paired runs, Wilcoxon p {wilcoxon(row, ref).pvalue:.2f})")
    scores = np.array([t["score"] for t in r["trials"]])
    refs = {name: float(scores[i]) for i, name in enumerate(("default (trial 1)", "table3 (trial 2)")[: len(scores)])}
    save_figure(tuning_figure(scores, refs), os.path.splitext(args.out)[0] + "_trend.png")
    if args.asset:
        keep = ("instances", "seed", "n_gen", "pop_size", "budget_generations", "budget_used_generations", "rescore")
        asset = {"params": r["params"], "trials": len(r["trials"]), "chosen_trial": r["chosen_trial"],
                 "search_score": r["trials"][r["chosen_trial"] - 1]["score"], **{k: r[k] for k in keep if k in r},
                 "made_by": f"python bench/dac_tune.py --budget {args.budget} --out {args.out} --sets {args.sets} "
                            f"--seed {args.seed}" + (f" --rescore {args.rescore} --rescore-runs {args.rescore_runs}"
                                                  if args.rescore else "")}
        write_json_atomic(ma.TUNED_ASSET, asset)
    print(f"trials={len(r['trials'])} cpu_s={r.get('cpu_seconds', 0):.0f} budget_used={r['budget_used_generations']} "
          f"best_score={r['best_score']:.2f} params={json.dumps(r['params'])}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except JSchedError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
