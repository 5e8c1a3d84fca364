"""Claim check: does the L-RHO fixing model's label accuracy grow with its training data?

The makespan models train on 14-40 instances where the paper trains on 450; on one re-solve's
labels (``--oracle-pick objective``) they barely beat "keep all". This trains ``jsched train
lrho`` (the paper's options, ``--pos-weight`` aside) on the first n instances of a training pool
for each n in ``--sizes`` (and each training seed in ``--seeds``), picks the epoch
on fixed validation instances and reports the label accuracy on fixed test instances beside the
"keep all" accuracy there. Instances are sorted by seed: the last ``--test`` are the test
instances, the ``--val`` before them validate, the rest are the pool. All come from ``jsched rho
collect`` (training-pool seeds, 100+), none is a ``bench/rho.py`` test seed.

    python bench/rho_data.py --dataset mk400-a.npz,mk400-b.npz --val 3 --test 4 --sizes 2,5,10,21 --seeds 0,1

Writes ``bench/results/rho-data-SETTING.json``; ``--plot`` draws it (accuracy vs instances).
``--score A.msgpack,B.msgpack`` only scores those models on the last ``--val`` instances (a
training run's validation instances: how a shipped model is chosen) beside "keep all", with the
AUC of its keep probabilities (how well they rank kept above moved operations, whatever the threshold).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np
from scipy.stats import mannwhitneyu

import jsched
from jsched.atomic import atomic_path
from jsched.rho.collect import load_dataset, merge_datasets, save_dataset
from jsched.rho.net import keep_probabilities, load_model
from jsched.rho.train import label_metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, help="oracle datasets of one setting (.npz, comma-separated)")
    ap.add_argument("--val", type=int, default=3, help="validation instances (epoch selection)")
    ap.add_argument("--test", type=int, default=4, help="test instances (the reported accuracy)")
    ap.add_argument("--sizes", default="2,5,10", help="training instances per run (first n of the pool)")
    ap.add_argument("--seeds", default="0,1", help="training seeds per size")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--pos-weight", type=float, default=0.5,
                    help="BCE weight of 'keep' (0.5: the paper's; 1.0: the shipped makespan model's)")  # fmt: skip
    ap.add_argument("--out", default=None)
    ap.add_argument("--plot", action="store_true", help="only draw OUT's figure (OUT with .png)")
    ap.add_argument("--score", default=None, help="only score these checkpoints (comma-separated) on the last --val instances")
    a = ap.parse_args()

    arrays, meta = merge_datasets([load_dataset(p.strip()) for p in a.dataset.split(",") if p.strip()])
    if a.score:
        return score(arrays, a.val, a.score.split(","))
    out = a.out or os.path.join(os.path.dirname(__file__), "results", f"rho-data-{meta['setting']}.json")
    if a.plot:
        return plot(out)
    sizes, seeds = [int(n) for n in a.sizes.split(",")], [int(s) for s in a.seeds.split(",")]
    ids = np.unique(arrays["instance"])
    pool, val, test = ids[: -a.val - a.test], ids[-a.val - a.test : -a.test], ids[-a.test :]
    if a.val < 1 or a.test < 1 or max(sizes) > len(pool):
        raise SystemExit(f"{len(ids)} instances: {a.val} validation + {a.test} test leave {len(pool)} to train on, sizes {sizes}")
    test_arrays = _instances(arrays, test)
    keep_all = _metrics(np.ones(test_arrays["labels"].shape), test_arrays)
    print(f"{meta['setting']}: pool {len(pool)}, validation {val.tolist()}, test {test.tolist()}; "
          f"keep-all test accuracy {keep_all['accuracy']:.3f}", flush=True)  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = os.path.join(tmp, f"n{n}.npz")
            save_dataset(data, _instances(arrays, np.concatenate([pool[:n], val])), meta)
            for seed in seeds:
                run = jsched.train("lrho", seed=seed, dataset=data, val_fraction=a.val / (n + a.val), epochs=a.epochs,
                                   pos_weight=a.pos_weight, out=os.path.join(tmp, f"run-{n}-{seed}"), overwrite=True,
                                   progress=False)  # fmt: skip
                model = load_model(run["model"])
                m = _metrics(keep_probabilities(model, test_arrays), test_arrays)
                val_acc = model.meta["val"]["accuracy"]
                rows.append({"instances": n, "seed": seed, "epoch": model.meta["epoch"], "val_accuracy": val_acc, "test": m})
                print(f"n={n:3d} seed={seed}: epoch {model.meta['epoch']:3d}  validation {val_acc:.3f}  test {m['accuracy']:.3f} "
                      f"(precision {m['precision']:.3f}, recall {m['recall']:.3f})", flush=True)  # fmt: skip
    summary = {}
    for n in sizes:
        acc = [r["test"]["accuracy"] for r in rows if r["instances"] == n]
        gain = float(np.mean(acc) - keep_all["accuracy"])
        summary[str(n)] = {"mean": float(np.mean(acc)), "min": float(min(acc)), "max": float(max(acc)), "over_keep_all": gain}
        print(f"n={n:3d}: test accuracy {np.mean(acc):.3f} [{min(acc):.3f}, {max(acc):.3f}], {100 * gain:+.1f} points over keep-all")
    doc = {"command": " ".join(["python bench/rho_data.py", *sys.argv[1:]]), "args": vars(a), "setting": meta["setting"],
           "collect": meta.get("commands", []), "pool": pool.tolist(), "validation": val.tolist(), "test": test.tolist(), "keep_all": keep_all,
           "rows": rows, "summary": summary}  # fmt: skip
    with atomic_path(out, suffix=".json") as tmp_out, open(tmp_out, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"wrote {out}")


def score(arrays: dict, n_val: int, paths: list[str]) -> None:
    """Print each model's label metrics on the last ``n_val`` instances, and keep-all's."""
    val = np.unique(arrays["instance"])[-n_val:]
    data = _instances(arrays, val)
    print(f"validation instances {val.tolist()}: keep-all accuracy {_metrics(np.ones(data['labels'].shape), data)['accuracy']:.3f}")
    mask = data["overlap"] & data["op_mask"]
    kept = data["labels"][mask] >= 0.5
    for path in paths:
        prob = keep_probabilities(load_model(path.strip()), data)
        m = _metrics(prob, data)
        auc = mannwhitneyu(prob[mask][kept], prob[mask][~kept]).statistic / max(int(kept.sum() * (~kept).sum()), 1)
        print(f"{path.strip()}: accuracy {m['accuracy']:.3f} (precision {m['precision']:.3f}, recall {m['recall']:.3f}, "
              f"n={m['n']}), AUC {auc:.3f}")  # fmt: skip


def _instances(arrays: dict, seeds: np.ndarray) -> dict:
    """The windows of the given instances."""
    keep = np.isin(arrays["instance"], seeds)
    return {k: v[keep] for k, v in arrays.items()}


def _metrics(prob: np.ndarray, arrays: dict) -> dict:
    """Label metrics of keep probabilities on a dataset's overlapping operations."""
    return label_metrics(prob, arrays["labels"], arrays["overlap"] & arrays["op_mask"])


def plot(path: str) -> None:
    """Test accuracy per training run against the number of training instances, keep-all as a line."""
    from jsched.plots import figure

    doc = json.load(open(path))
    fig, ax = figure((5, 3.5))
    ns = sorted({r["instances"] for r in doc["rows"]})
    ax.scatter([r["instances"] for r in doc["rows"]], [r["test"]["accuracy"] for r in doc["rows"]], s=12, label="a training run")
    ax.plot(ns, [doc["summary"][str(n)]["mean"] for n in ns], "-o", label="mean")
    ax.axhline(doc["keep_all"]["accuracy"], color="grey", ls="--", label="keep all")
    ax.set_xscale("log")
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.minorticks_off()
    ax.set_xlabel("training instances")
    ax.set_ylabel(f"label accuracy on {len(doc['test'])} test instances")
    ax.set_title(f"L-RHO {doc['setting']}: accuracy vs training data")
    ax.legend(fontsize=8)
    png = os.path.splitext(path)[0] + ".png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
