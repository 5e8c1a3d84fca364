"""Claim: SLIM samples 128 schedules of a 100x20 Taillard instance in < 10 s after compile on 2
CPU cores, with the same schedules as the previous decode for the same keys.

Times one jitted decode of ta71 (100 jobs x 20 machines, 2,000 steps), greedy and with 128
samples, for the current decode (``jsched.slim.decode``) and the previous one (a copy below,
``previous_decode``: the memory network per step from ``decode_affine``, commit ed96a3d), run
alternately in one process after a warm-up call that compiles each. Rows give the median wall
and process-CPU seconds and the makespans; ``same_schedules`` says whether every sample's
action sequence is identical. The shipped checkpoint is timed, and the authors' full-size
network (random weights) greedy; ``--paper-samples`` adds its 128-sample rows. Writes
``bench/results/slim_decode.json``.

    PYTHONPATH=$PWD python bench/slim_decode.py [--instance ta71] [--repeats 3] [--paper-samples]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jsched.instances import best_known, load_benchmark
from jsched.kernels.jsp import action_mask, makespan, reset, step
from jsched.schedule import Schedule, validate, write_json_atomic
from jsched.slim.decode import _log_probs, _ready_ids, decode, encode
from jsched.slim.features import context_parts
from jsched.slim.graph import stack_slim_instances
from jsched.slim.method import DEFAULT_CHECKPOINT
from jsched.slim.model import ModelConfig, count_params, init_params, load_model

PAPER_SECONDS = {1: 0.59, 128: 0.96}  # mean per Taillard instance, authors' code (GPU not stated)


# --- the previous decode (ed96a3d), kept here only to be timed beside the current one ----------


def _decode_affine(params, cfg, emb_jobs, jc, a, stats, keep, job_real, mask):
    w1, b1 = params["linear1"]["kernel"], params["linear1"]["bias"]
    qj, mean_j, qm, mean_m, t = stats[0:3], stats[3], stats[4:7], stats[7], stats[8]
    u = w1[0] + w1[1] + w1[2] + w1[3] + w1[4] + w1[5] / t
    v = -w1[0] + w1[6] + w1[7] + w1[8] + w1[9] + w1[10] / t
    g = ((mean_j - mean_m) * w1[0] + (mean_j - qj) @ w1[1:4] + (mean_j / t) * w1[5]
         + (mean_m - qm) @ w1[6:9] + (mean_m / t) * w1[10])
    x_basis = jnp.stack([u, v, g, b1])
    kf = keep.astype(jc.dtype)
    z = jnp.stack([kf * (jc - mean_j), kf * (a - mean_m), kf, jnp.ones_like(jc)], axis=1)
    h, dh = cfg.mem_heads, cfg.mem_hidden
    d = h * dh
    inp = params["attn"]["in_proj"]
    qkv = x_basis @ inp["kernel"] + jnp.array([0.0, 0.0, 0.0, 1.0])[:, None] * inp["bias"]
    qkv = qkv.reshape(4, 3, h, dh)
    bq, bk, bv = qkv[:, 0], qkv[:, 1], qkv[:, 2]
    amat = jnp.einsum("ahd,bhd->hab", bq, bk) / jnp.sqrt(dh).astype(jc.dtype)
    s = jnp.einsum("ja,hab,lb->hjl", z, amat, z)
    s = jnp.where(job_real[None, None, :], s, -1e30)
    p = jax.nn.softmax(s, axis=-1)
    wz = jnp.einsum("hjl,lb->jhb", p, z)
    wo = params["attn"]["out_proj"]["kernel"].reshape(h, dh, d)
    c_h = jnp.einsum("bhe,hef->hbf", bv, wo)
    w2, b2 = params["linear2"]["kernel"], params["linear2"]["bias"]
    pre = (z @ (x_basis @ w2) + jnp.einsum("jhb,hbf->jf", wz, jnp.einsum("hbe,ef->hbf", c_h, w2))
           + params["attn"]["out_proj"]["bias"] @ w2 + b2)
    zc = nn.leaky_relu(emb_jobs + nn.relu(pre) @ params["linear3_mem"]["kernel"], cfg.leaky_slope)
    logits = (zc @ params["linear4"]["kernel"])[:, 0] + params["linear4"]["bias"][0]
    return jnp.where(mask, logits, -jnp.inf)


def _previous_rollout(params, inst, emb, key, greedy, cfg):
    def body(state, t):
        c = context_parts(inst.jsp, state)
        stats = jnp.concatenate([c.qj, c.mean_j[None], c.qm, c.mean_m[None], c.t[None]])
        logits = _decode_affine(params, cfg, emb[_ready_ids(inst, state)], c.jc, c.a, stats, c.keep,
                                inst.jsp.job_len > 0, action_mask(inst.jsp, state))
        _, live = _log_probs(logits)
        if greedy:
            a = jnp.argmax(logits).astype(jnp.int32)
        else:
            a = jax.random.categorical(jax.random.fold_in(key, t), logits).astype(jnp.int32)
        a = jnp.where(live, a, 0)
        state, _, _ = step(inst.jsp, state, a)
        return state, a

    return jax.lax.scan(body, reset(inst.jsp), jnp.arange(inst.jsp.machines.size))


@partial(jax.jit, static_argnames=("n_samples", "greedy", "cfg"))
def previous_decode(params, insts, keys, n_samples=1, greedy=True, cfg=ModelConfig()):
    def one(inst, key):
        emb = encode(params, inst, cfg)
        states, actions = jax.vmap(lambda k: _previous_rollout(params, inst, emb, k, greedy, cfg))(jax.random.split(key, n_samples))
        ms = jax.vmap(makespan)(states).astype(jnp.int32)
        best = jnp.argmin(ms)
        return ms, states.start[best], actions

    return jax.vmap(one)(insts, keys)


# ---------------------------------------------------------------------------------------------


def _current(params, batch, keys, n_samples, greedy, cfg):
    out = decode(params, batch, keys, n_samples=n_samples, greedy=greedy, cfg=cfg)
    return out.makespans, out.best_start, None


def _actions_of_current(params, batch, keys, n_samples, greedy, cfg):
    """Every sample's actions from the current decode (its output keeps only the best's)."""
    from jsched.slim.decode import rollout
    from jsched.slim.model import memory_tables

    inst = jax.tree.map(lambda x: x[0], batch)
    emb, tables = encode(params, inst, cfg), memory_tables(params, cfg)
    ks = jax.random.split(keys[0], n_samples)
    return jax.jit(jax.vmap(lambda k: rollout(params, inst, emb, k, greedy, cfg, tables)[1]))(ks)


def time_pair(params, cfg, inst, samples, repeats):
    """Median wall and CPU seconds of the current and the previous decode, run alternately."""
    batch = stack_slim_instances([inst])
    kw = dict(n_samples=samples, greedy=samples == 1, cfg=cfg)
    fns = {"current": lambda k: _current(params, batch, k, **kw), "previous": lambda k: previous_decode(params, batch, k, **kw)}
    first, wall, cpu, outs = {}, {n: [] for n in fns}, {n: [] for n in fns}, {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        outs[name] = jax.block_until_ready(fn(jax.random.split(jax.random.key(0), 1)))
        first[name] = time.perf_counter() - t0
    for r in range(repeats):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn(jax.random.split(jax.random.key(r + 1), 1)))
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(time.process_time() - c0)
    rows = {}
    for name in fns:
        ms, start, _ = outs[name]
        sched = Schedule.from_arrays(inst, np.asarray(start[0]))
        validate(inst, sched)
        assert sched.makespan == int(np.min(ms))
        rows[name] = {"compile_and_first_s": round(first[name], 3), "decode_s": round(float(np.median(wall[name])), 3),
                      "cpu_s": round(float(np.median(cpu[name])), 3), "makespan": sched.makespan,
                      "sample_makespans": np.asarray(ms[0]).tolist()}
    prev_actions = np.asarray(outs["previous"][2][0])
    cur_actions = np.asarray(_actions_of_current(params, batch, jax.random.split(jax.random.key(0), 1), **kw))
    same = bool((prev_actions == cur_actions).all())
    return rows, same, int((prev_actions != cur_actions).any(axis=1).sum())


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
            pair, same, n_diff = time_pair(params, cfg, inst, samples, args.repeats)
            for code, r in pair.items():
                rows.append({"model": name, "params": count_params(params), "samples": samples, "decode": code, **r,
                             "same_schedules_as_previous": same, "samples_that_differ": n_diff,
                             "gap_percent": round(100 * (r["makespan"] / bk - 1), 2), "paper_s": PAPER_SECONDS[samples]})
    device = jax.devices()[0].device_kind
    load = os.getloadavg()
    print(f"SLIM decode, {inst.name} ({inst.shape}, {inst.n_ops} steps), {device}, {os.cpu_count()} CPU cores, "
          f"load average {load[0]:.1f}, jax {jax.__version__}")
    print(f"{'model':20s} {'params':>7s} {'samples':>7s} {'decode':>8s} {'first s':>8s} {'wall s':>7s} {'cpu s':>7s} "
          f"{'makespan':>8s} {'same':>5s} {'paper s':>7s}")
    for r in rows:
        print(f"{r['model']:20s} {r['params']:7d} {r['samples']:7d} {r['decode']:>8s} {r['compile_and_first_s']:8.2f} "
              f"{r['decode_s']:7.2f} {r['cpu_s']:7.2f} {r['makespan']:8d} {str(r['same_schedules_as_previous']):>5s} {r['paper_s']:7.2f}")
    write_json_atomic(args.out, {
        "claim": "128 samples of a 100x20 instance in < 10 s after compile on 2 CPU cores; same schedules as before",
        "command": "PYTHONPATH=$PWD python bench/slim_decode.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in
                                                                          [("instance", args.instance), ("repeats", args.repeats)]),
        "instance": inst.name, "best_known": bk, "machine": platform.processor() or platform.machine(), "device": device,
        "cpu_count": os.cpu_count(), "load_average_at_end": [round(v, 2) for v in load], "jax": jax.__version__,
        "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()
