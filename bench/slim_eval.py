"""Claim: SLIM's mean gap by instance size on Taillard and Demirkol, next to the paper's (Table 2).

Each cell is the mean of ``100 * (C / C_best_known - 1)`` over the instances of a size, every
schedule validated by ``jsched.evaluate``. The paper's figures are printed beside: per size for
Taillard, the average for both sets (the paper gives Demirkol only as an average). Writes the
summary and per-instance rows as JSON and the rows as CSV (same stem).

    python bench/slim_eval.py taillard [--samples 0,128,512] [--sizes 15x15,20x15] [--limit N]
        [--batch B] [--checkpoint CKPT] [--seed 0] [--out bench/results/slim_eval_taillard.json]
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from collections import defaultdict

import numpy as np

from jsched import evaluate
from jsched.atomic import write_text_atomic
from jsched.instances import load_set
from jsched.schedule import write_json_atomic

SETS = {"taillard": "taillard", "demirkol": "dmu"}
PAPER_SAMPLES = (0, 128, 512)  # greedy, beta = 128, beta = 512
PAPER_TAILLARD = {
    "15x15": (13.8, 7.2, 6.5), "20x15": (15.0, 9.3, 8.8), "20x20": (15.2, 10.0, 9.0), "30x15": (17.1, 11.0, 10.6),
    "30x20": (18.5, 13.4, 12.7), "50x15": (10.1, 5.5, 4.9), "50x20": (11.6, 8.4, 7.6), "100x20": (5.8, 2.3, 2.1),
}  # fmt: skip
PAPER_AVERAGE = {"taillard": (13.4, 8.4, 7.8), "demirkol": (20.3, 14.0, 13.1)}


def _size_key(size: str) -> tuple[int, ...]:
    return tuple(int(v) for v in size.split("x"))


def _paper(samples, values) -> str:
    return "/".join(str(values[PAPER_SAMPLES.index(s)]) if s in PAPER_SAMPLES else "-" for s in samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", choices=sorted(SETS))
    ap.add_argument("--samples", default="0,128,512", help="comma list; 0 = greedy")
    ap.add_argument("--sizes", default=None, help="only these sizes, e.g. 15x15,20x15")
    ap.add_argument("--limit", type=int, default=None, help="only the first N instances of each size")
    ap.add_argument("--batch", type=int, default=None, help="instances per decode call (default: a whole size)")
    ap.add_argument("--checkpoint", default=None, help="model file (default: the shipped one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="JSON results (and a CSV with the same stem)")
    a = ap.parse_args()
    samples = [int(s) for s in a.samples.split(",")]
    groups = defaultdict(list)
    for inst in load_set(SETS[a.set]):
        groups[inst.shape].append(inst)
    sizes = a.sizes.split(",") if a.sizes else sorted(groups, key=_size_key)
    rows, summary = [], []
    for size in sizes:
        insts = groups[size][: a.limit]
        step = a.batch or len(insts)
        for s in samples:
            t0 = time.perf_counter()
            res = [r for k in range(0, len(insts), step)
                   for r in evaluate("slim", insts[k : k + step], seed=a.seed, samples=s, checkpoint=a.checkpoint)]  # fmt: skip
            secs = time.perf_counter() - t0
            rows += [{"instance": r.instance.name, "size": size, "samples": s, "makespan": r.makespan,
                      "best_known": r.best_known, "gap_percent": round(r.gap, 4)} for r in res]  # fmt: skip
            summary.append({"size": size, "samples": s, "pg": float(np.mean([r.gap for r in res])), "n": len(res),
                            "seconds": secs})  # fmt: skip
    pg = {(r["size"], r["samples"]): r for r in summary}
    labels = ["greedy" if s == 0 else f"b={s}" for s in samples]
    print(" | ".join(["size", "n", *labels, *(f"s/inst {lb}" for lb in labels), "paper " + "/".join(labels)]))
    for size in sizes:
        n = pg[(size, samples[0])]["n"]
        paper = _paper(samples, PAPER_TAILLARD[size]) if a.set == "taillard" and size in PAPER_TAILLARD else "-"
        print(" | ".join([size, str(n), *(f"{pg[(size, s)]['pg']:.2f}" for s in samples),
                          *(f"{pg[(size, s)]['seconds'] / n:.2f}" for s in samples), paper]))  # fmt: skip
    full = len({r["instance"] for r in rows}) == len(load_set(SETS[a.set]))
    avg = [f"{np.mean([pg[(z, s)]['pg'] for z in sizes]):.2f}" for s in samples]
    print(" | ".join(["average", "", *avg, *[""] * len(samples),
                      _paper(samples, PAPER_AVERAGE[a.set]) + ("" if full else " (all instances)")]))  # fmt: skip
    if a.out:
        paper = {"average": dict(zip(PAPER_SAMPLES, PAPER_AVERAGE[a.set]))}
        if a.set == "taillard":
            paper["by_size"] = {z: dict(zip(PAPER_SAMPLES, v)) for z, v in PAPER_TAILLARD.items()}
        meta = {"checkpoint": a.checkpoint or "shipped (slim.ckpt)", "seed": a.seed, "limit": a.limit}
        write_json_atomic(a.out, {"set": a.set, "samples": samples, **meta, "summary": summary, "paper": paper,
                                  "instances": rows})  # fmt: skip
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        write_text_atomic(a.out.rsplit(".", 1)[0] + ".csv", buf.getvalue())
        print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
