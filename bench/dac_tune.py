"""Static MA tuning by random search with the DAC training budget (``jsched.dac.tune``).

    python bench/dac_tune.py --budget G --out FILE [--sets M1T1,M3T1] [--seed S] [--batch B]

The output's ``params`` is usable as ``jsched solve FILE.cas --method ma --params FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jsched.dac.train import TRAIN_SETS, training_instances  # noqa: E402
from jsched.dac.tune import tune  # noqa: E402
from jsched.errors import JSchedError  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="static MA tuning (random search)")
    ap.add_argument("--budget", type=int, required=True, help="MA generations in total (match the DAC training)")
    ap.add_argument("--out", required=True, help="results JSON (resumed if present; usable as --params FILE)")
    ap.add_argument("--sets", default=",".join(TRAIN_SETS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4, help="trials per jitted batch")
    args = ap.parse_args(argv)
    insts = training_instances(tuple(s.strip() for s in args.sets.split(",") if s.strip()))
    r = tune(args.out, args.budget, insts, args.seed, batch=args.batch)
    print(f"trials={len(r['trials'])} budget_used={r['budget_used_generations']} best_score={r['best_score']:.2f} "
          f"params={json.dumps(r['best'])}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except JSchedError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
