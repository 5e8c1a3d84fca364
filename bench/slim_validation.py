"""Claim: a SLIM model checkpoint's gap on a training run's own validation set, side by side.

Model selection for the shipped SLIM checkpoint compares models on the validation set of a
``jsched train slim`` run (generated instances, best of ``val_samples`` samples, gaps to the
CP-SAT makespans the run computed once at its start). This scores any model checkpoints on that
same set with the same references and keys, so a candidate and the checkpoint shipped before it
are compared on equal terms (every makespan a validated schedule's, as in training).
Writes ``bench/results/slim_validation.json``.

    python bench/slim_validation.py --train-checkpoint RUN/checkpoint.msgpack --checkpoints jsched/assets/slim/slim.ckpt OTHER.ckpt
"""

from __future__ import annotations

import argparse
import os

import jax
import numpy as np

from jsched.checkpoint import load_checkpoint
from jsched.schedule import write_json_atomic
from jsched.seeds import seed_of
from jsched.slim.graph import stack_slim_instances
from jsched.slim.method import DEFAULT_CHECKPOINT, MODEL_KINDS
from jsched.slim.model import load_model
from jsched.slim.train import TrainConfig, validate_model, validation_set


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-checkpoint", required=True, help="a `jsched train slim` checkpoint: its validation set and references")
    ap.add_argument("--checkpoints", nargs="+", default=[os.path.relpath(DEFAULT_CHECKPOINT)])
    ap.add_argument("--out", default=os.path.relpath(os.path.join(os.path.dirname(__file__), "results", "slim_validation.json")))
    a = ap.parse_args()
    run = load_checkpoint(a.train_checkpoint, "slim-train")
    cfg = TrainConfig(**run.config)
    refs = np.asarray(run.tree["val_refs"], np.float64)
    seed = seed_of(jax.random.wrap_key_data(run.tree["key"]))
    insts = validation_set(cfg, seed)
    val = stack_slim_instances(insts)
    print(f"validation set: {len(refs)} instances {cfg.val_sizes}, seed {seed}, best of {cfg.val_samples} samples")
    rows = []
    for path in a.checkpoints:
        params, mcfg, _ = load_model(path, MODEL_KINDS)
        if mcfg != cfg.model:
            raise SystemExit(f"{path}: model config differs from the training run's")
        rows.append({"checkpoint": path, **validate_model(params, cfg, insts, refs, val)})
        print(f"{path[-40:]:40s} " + "  ".join(f"{k} {v:.2f}" for k, v in rows[-1].items() if k != "checkpoint"))
    write_json_atomic(a.out, {"args": vars(a), "validation": {"sizes": cfg.val_sizes, "per_size": cfg.val_per_size, "seed": seed,
                                                              "samples": cfg.val_samples, "ref_seconds": cfg.val_ref_seconds}, "rows": rows})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
