"""Claim: SLIM decodes a 100x20 Taillard instance greedily in < 1 s after compile on CPU.

Times one jitted decode of ta71 (100 jobs x 20 machines, 2,000 steps) with greedy decoding
and with 128 samples for the shipped checkpoint, and greedy for the authors' full-size network
(random weights, timing only; ``--paper-samples`` adds its 128-sample row, slow on 2 cores),
after a warm-up call that compiles. Prints a table and writes
``bench/results/slim_decode.json``.

    PYTHONPATH=$PWD python bench/slim_decode.py [--instance ta71] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import jax
import numpy as np

from jsched.instances import best_known, load_benchmark
from jsched.schedule import Schedule, validate
from jsched.slim.decode import decode
from jsched.slim.graph import stack_slim_instances
from jsched.slim.method import DEFAULT_CHECKPOINT
from jsched.slim.model import ModelConfig, count_params, init_params, load_model

PAPER_SECONDS = {1: 0.59, 128: 0.96}  # mean per Taillard instance, authors' code (GPU not stated)


def time_decode(params, cfg, inst, samples, repeats):
    batch = stack_slim_instances([inst])
    kw = dict(n_samples=samples, greedy=samples == 1, cfg=cfg)
    t0 = time.perf_counter()
    out = jax.block_until_ready(decode(params, batch, jax.random.split(jax.random.key(0), 1), **kw))
    first = time.perf_counter() - t0
    runs = []
    for r in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(decode(params, batch, jax.random.split(jax.random.key(r + 1), 1), **kw))
        runs.append(time.perf_counter() - t0)
    sched = Schedule.from_arrays(inst, np.asarray(out.best_start[0]))
    validate(inst, sched)
    return first, float(np.median(runs)), sched.makespan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instance", default="ta71")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    ap.add_argument("--paper-samples", action="store_true", help="also time the full-size network with 128 samples")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "slim_decode.json"))
    args = ap.parse_args()
    inst = load_benchmark(args.instance)
    bk = best_known(inst)
    shipped, shipped_cfg, _ = load_model(args.checkpoint)
    models = [("shipped", shipped, shipped_cfg), ("paper-size (random)", init_params(ModelConfig(), jax.random.key(0)), ModelConfig())]
    rows = []
    for name, params, cfg in models:
        for samples in (1, 128) if name == "shipped" or args.paper_samples else (1,):
            first, t, ms = time_decode(params, cfg, inst, samples, args.repeats)
            rows.append({
                "model": name, "params": count_params(params), "samples": samples, "compile_and_first_s": round(first, 3),
                "decode_s": round(t, 3), "makespan": ms, "gap_percent": round(100 * (ms / bk - 1), 2),
                "paper_s": PAPER_SECONDS[samples],
            })
    base = rows[0]["decode_s"]
    device = jax.devices()[0].device_kind
    print(f"SLIM decode, {inst.name} ({inst.shape}, {inst.n_ops} steps), {device}, {os.cpu_count()} CPU cores, jax {jax.__version__}")
    print(f"{'model':22s} {'params':>8s} {'samples':>7s} {'first s':>8s} {'decode s':>9s} {'x greedy':>8s} {'gap %':>7s} {'paper s':>7s}")
    for r in rows:
        print(f"{r['model']:22s} {r['params']:8d} {r['samples']:7d} {r['compile_and_first_s']:8.2f} {r['decode_s']:9.3f} "
              f"{r['decode_s'] / base:8.1f} {r['gap_percent'] if r['model'] == 'shipped' else '-':>7} {r['paper_s']:7.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    from jsched.schedule import write_json_atomic

    write_json_atomic(args.out, {"instance": inst.name, "best_known": bk, "machine": platform.processor() or platform.machine(),
                                 "device": device, "cpu_count": os.cpu_count(), "jax": jax.__version__, "rows": rows})


if __name__ == "__main__":
    main()
