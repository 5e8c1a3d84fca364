"""The 10-set DAC table: one row per CAS-PFSP set from ``bench/dac.py``'s per-set results.

Reads ``PREFIX_SET.json`` for every set (as written by ``python bench/dac.py --sets SET --methods
dac,tuned,table3,default --skip-speed --out PREFIX_SET``), prints a markdown table (mean emissions
in millions per method, %Delta of DAC against each static row with the signed-rank p over the
instance means, and the published means of the same instances) and writes it to ``PREFIX.md``
and ``PREFIX.json``. Sets without a finished summary are listed as missing.

    python bench/dac_table.py [--prefix bench/results/dac_10x10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jsched.dac.published import SETS  # noqa: E402
from jsched.schedule import write_json_atomic  # noqa: E402

ROWS = ("dac", "tuned", "table3", "default")
PUBLISHED = ("published-drl", "published-tuned", "published-default")


def set_row(q: dict) -> dict:
    """The table's numbers for one set's ``quality`` entry."""
    row = {"set": q["set"], "instances": len(q["instances"]), "runs": q["runs"]}
    row.update({k: q[k]["mean"] for k in ROWS + PUBLISHED})
    for other in ("tuned", "default"):
        c = q[f"dac_vs_{other}"]
        row[f"dac_vs_{other}"] = {k: c[k] for k in ("delta_percent", "signed_rank_p", "instances_better", "instances_worse")}
    return row


def markdown(rows: list[dict]) -> str:
    head = ("| set | I x R | DAC | tuned (= Table 3) | default | DAC vs tuned % (p) | DAC vs default % (p) "
            "| published MA-DRL / tuned / default |")  # fmt: skip
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        m = [f"{r[k] / 1e6:.3f}" for k in ("dac", "tuned", "default")]
        d = [f"{r[f'dac_vs_{o}']['delta_percent']:+.2f} ({r[f'dac_vs_{o}']['signed_rank_p']:.3g})" for o in ("tuned", "default")]
        pub = " / ".join(f"{r[k] / 1e6:.3f}" for k in PUBLISHED)
        lines.append(f"| {r['set']} | {r['instances']} x {r['runs']} | " + " | ".join(m + d) + f" | {pub} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="the 10-set DAC table from bench/dac.py's per-set results")
    ap.add_argument("--prefix", default=os.path.join("bench", "results", "dac_10x10"))
    a = ap.parse_args(argv)
    rows, missing = [], []
    for s in SETS:
        path = f"{a.prefix}_{s}.json"
        q = json.load(open(path))["quality"][0] if os.path.exists(path) else {}
        if all(f"dac_vs_{o}" in q for o in ("tuned", "default")):
            rows.append(set_row(q))
        else:
            missing.append(s)
    table = markdown(rows)
    note = ("Mean emissions in millions (mean over instances of the run means); %Delta = (static - DAC) / DAC "
            "* 100, positive: DAC better; p: Wilcoxon signed-rank over the instance means.")  # fmt: skip
    with open(a.prefix + ".md", "w") as fh:
        fh.write(table + "\n\n" + note + ("\n\nMissing: " + ", ".join(missing) if missing else "") + "\n")
    write_json_atomic(a.prefix + ".json", {"command": " ".join(["python bench/dac_table.py", *sys.argv[1:]]),
                                            "rows": rows, "missing": missing})  # fmt: skip
    print(table)
    print(note)
    if missing:
        print("missing:", ", ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
