"""Pick an HH agent per size on *validation* instances, never on the Taillard/Demirkol test sets.

Each candidate folder holds agent files ``hh_JxM.msgpack`` (e.g. two training runs of the
generated protocol). Per size, ``--instances`` fresh Taillard-style random instances (numpy seeds
``--seed``, ``--seed`` + 1, ...; the training draws its instances from JAX keys) are solved
greedily by every candidate and by the 7 rules; the candidate of lowest mean makespan is the
pick, with the paired mean difference to the other candidates and a Wilcoxon p-value. Every
schedule passes the validator. Writes ``--out`` (JSON). The report's figures
(``bench/results/hh_validation.json``): ``3M`` = ``jsched/assets/hh/generated/`` at commit 96f104f,
``eq`` = the 66.4 k-episode runs of ``jsched/assets/hh/README.md`` (each run's ``model.msgpack``
copied to ``hh_JxM.msgpack``):

    PYTHONPATH=. python bench/hh_validation.py --candidates 3M=DIR,eq=DIR --instances 300

``bench/results/hh_validation_seeds.json`` adds training seeds 1-4 of the ``eq`` runs (``s1`` ...
``s4``, same command with ``--seed K``) at the six sizes whose run takes under 10 minutes, on 1,000
instances (numpy seeds 20000-20999); 50x20 and 100x20 (27 and 51 min per run) keep the picks above:

    PYTHONPATH=. python bench/hh_validation.py --candidates 3M=DIR,eq=DIR,s1=DIR,s2=DIR,s3=DIR,s4=DIR \
        --sizes 15x15,20x15,20x20,30x15,30x20,50x15 --instances 1000 --out bench/results/hh_validation_seeds.json
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from scipy.stats import wilcoxon

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from jsched import api  # noqa: E402
from jsched.hh.instances import TAILLARD_SIZES  # noqa: E402
from jsched.instances.generators import taillard_jsp  # noqa: E402
from jsched.schedule import write_json_atomic  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "bench"))
from hh import rule_makespans  # noqa: E402

RESULTS = os.path.join(ROOT, "bench", "results")


def agent_makespans(path: str, insts) -> list[int]:
    """Greedy makespan of the agent file ``path`` on each instance (``jsched.evaluate``, which
    validates every schedule)."""
    return [r.makespan for r in api.evaluate("hh", insts, checkpoint=path)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", required=True, help="NAME=FOLDER,... of agent files hh_JxM.msgpack")
    ap.add_argument("--sizes", default=",".join(f"{j}x{m}" for j, m in TAILLARD_SIZES.values()))
    ap.add_argument("--instances", type=int, default=100, help="validation instances per size")
    ap.add_argument("--seed", type=int, default=20_000, help="numpy seed of the first validation instance")
    ap.add_argument("--out", default=os.path.join(RESULTS, "hh_validation.json"))
    args = ap.parse_args()
    cands = dict(c.split("=", 1) for c in args.candidates.split(","))
    rows = []
    for size in args.sizes.split(","):
        j, m = (int(x) for x in size.split("x"))
        insts = [taillard_jsp(j, m, args.seed + k, name=f"val_{size}_{k}") for k in range(args.instances)]
        rules = [rule_makespans(i) for i in insts]
        ms = {name: agent_makespans(os.path.join(folder, f"hh_{size}.msgpack"), insts) for name, folder in cands.items()}
        means = {name: float(np.mean(v)) for name, v in ms.items()}
        pick = min(means, key=means.get)
        rule_means = {r: float(np.mean([x[r] for x in rules])) for r in rules[0]}
        best_rule = min(rule_means, key=rule_means.get)
        row = {"size": size, "instances": args.instances, "means": means, "pick": pick,
               "best_single_rule": best_rule, "best_single_rule_mean": rule_means[best_rule], "rule_means": rule_means,
               "vs_pick": {}}  # fmt: skip
        for name, v in ms.items():
            if name != pick:
                d = np.asarray(v) - np.asarray(ms[pick])
                p = float(wilcoxon(d).pvalue) if d.any() else 1.0
                row["vs_pick"][name] = {"mean_diff": float(d.mean()), "p": p}
        rows.append(row)
        cells = "  ".join(f"{n} {x:8.1f}" for n, x in means.items())
        print(f"{size:>7}  {cells}  {best_rule} {rule_means[best_rule]:8.1f}  pick {pick}  "
              + "  ".join(f"{n}: {r['mean_diff']:+.1f} (p={r['p']:.3g})" for n, r in row["vs_pick"].items()), flush=True)
    write_json_atomic(args.out, {"command": " ".join(["bench/hh_validation.py"] + sys.argv[1:]), "seed": args.seed, "rows": rows})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
