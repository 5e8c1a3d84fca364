"""DF-Meta population-rollout throughput: one vmapped call vs one jitted call per individual.

Claim (spec): the population x samples rollout must be one ``jit(vmap(vmap(rollout)))``,
never a Python loop over individuals; the paper measures a batched GPU population (3.8 s)
against CPU workers (122.3 s) for mu = 100 on 20x10. This script measures, on this machine and
in one run, for both base policies (DANIEL on an SD2 10x5 FJSP, SLIM on ta01):

1. **vmapped vs loop** at each ``--mu`` with ``--L`` samples: the whole population in one
   jitted :func:`jsched.dfmeta.es.evaluate_population` call (whole-population vmap, and
   ``chunk = --chunk`` individuals per ``lax.map`` step), against ``mu`` calls of the same
   jitted function on one individual (L samples each): the same rollouts, the same work;
   repeats alternate the variants so machine load hits all alike, and the fastest repeat
   of each counts (the machine is shared; the minimum is the least disturbed run);
2. **why**: the time per rollout as the batch grows, (a) with one shared parameter set
   (B samples of one individual) and (b) with per-individual parameters (P individuals,
   L = 1), and the FLOPs XLA counts for one rollout (one policy step times the episode
   length, plus SLIM's encoder once; XLA's cost analysis counts a loop body once),
   hence the GFLOP/s achieved. A batched call can only beat the loop by the per-call and
   per-op overhead it amortises; once one call is compute-bound, the ratio tends to 1.

Usage: ``python bench/dfmeta_throughput.py --mu 20 100 --L 4 --chunk 5 --repeats 3``; writes
``bench/results/dfmeta_throughput.json``.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np

from jsched.dfmeta import daniel, slim_policy
from jsched.dfmeta.adapt import policy_rollout
from jsched.dfmeta.daniel_method import load_model
from jsched.dfmeta.es import evaluate_population
from jsched.dfmeta.method import SLIM_THETA0
from jsched.instances import load
from jsched.instances.arrays import fjsp_params
from jsched.instances.generators import sd2_fjsp_set
from jsched.kernels import fjsp, jsp
from jsched.schedule import write_json_atomic
from jsched.slim.decode import encode, step_logits
from jsched.slim.graph import slim_instance

HERE = os.path.dirname(os.path.abspath(__file__))


def _flops(fn, *args) -> float:
    ca = jax.jit(fn).lower(*args).compile().cost_analysis()
    ca = ca[0] if isinstance(ca, (list, tuple)) else ca
    return float(ca.get("flops", float("nan")))


def _population(params, p: int):
    rng = np.random.default_rng(0)
    return jax.tree.map(lambda x: x[None] + 0.01 * rng.standard_normal((p,) + x.shape).astype(x.dtype), params)


def _time(fn, repeats: int) -> float:
    """Fastest of ``repeats`` timed calls (after one warm-up call)."""
    jax.block_until_ready(fn(0))
    best = float("inf")
    for r in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn(r + 1))
        best = min(best, time.perf_counter() - t)
    return best


def rollout_flops(policy: str, params, inst, cfg) -> tuple[float, float]:
    """(FLOPs of one rollout, of which SLIM's encoder): one step's FLOPs x steps (+ encoder)."""
    if policy == "daniel":
        state = fjsp.reset(inst)
        per_step = _flops(lambda p, s: fjsp.step(inst, s, jax.numpy.argmax(daniel.policy(p, daniel.observe(inst, s))))[0],
                          params, state)
        return per_step * inst.durations.shape[0] * inst.durations.shape[1], 0.0
    state = jsp.reset(inst.jsp)
    emb = encode(params, inst, cfg)
    per_step = _flops(lambda p, s: jsp.step(inst.jsp, s, jax.numpy.argmax(step_logits(p, inst, emb, s, cfg)))[0],
                      params, state)
    enc = _flops(lambda p: encode(p, inst, cfg), params)
    return enc + per_step * inst.jsp.machines.size, enc


def setup(policy: str):
    if policy == "daniel":
        params = load_model()
        inst = sd2_fjsp_set(1, 10, 5, seed=200)[0]
        return params, fjsp_params(inst), policy_rollout(daniel.policy, daniel.ENV, "sample"), inst.name, None
    params, cfg, _ = slim_policy.load_theta0(SLIM_THETA0)
    inst = slim_instance(load("ta01"))
    return params, inst, slim_policy.make_rollout(cfg), "ta01", cfg


def measure(policy: str, mus, L: int, repeats: int, batches, chunk: int) -> dict:
    params, inst, roll, name, cfg = setup(policy)
    key = jax.random.key(0)
    ev = jax.jit(lambda k, pop, n, c=0: evaluate_population(roll, k, pop, inst, n, c)[0], static_argnums=(2, 3))

    def one(p):
        return jax.tree.map(lambda x: x[None], p)
    out = {"policy": policy, "instance": name, "L": L, "claim": [], "scaling": []}

    flops, enc = rollout_flops(policy, params, inst, cfg)
    out["flops_per_rollout"] = flops
    if enc:
        out["flops_encoder"] = enc

    for mu in mus:
        pop = _population(params, mu)
        members = [jax.tree.map(lambda x, i=i: x[i], pop) for i in range(mu)]
        variants = {
            "vmapped": lambda r, pop=pop: ev(jax.random.fold_in(key, r), pop, L),
            "chunked": lambda r, pop=pop: ev(jax.random.fold_in(key, r), pop, L, chunk),
            "loop": lambda r, mu=mu, members=members: [
                ev(jax.random.fold_in(key, r * mu + i), one(m), L) for i, m in enumerate(members)
            ],
        }
        t = {v: float("inf") for v in variants}
        for _ in range(repeats):  # alternate, so load changes hit every variant
            for v, fn in variants.items():
                t[v] = min(t[v], _time(fn, 1))
        row = {"mu": mu, "L": L, "chunk": chunk, "vmapped_s": t["vmapped"], "chunked_s": t["chunked"], "loop_s": t["loop"],
               "speedup": t["loop"] / t["vmapped"], "speedup_chunked": t["loop"] / t["chunked"],
               "ms_per_rollout": {v: 1e3 * x / (mu * L) for v, x in t.items()}}
        out["claim"].append(row)
        print(f"{policy:6s} {name:14s} mu={mu:4d} L={L}  vmapped {t['vmapped']:7.3f} s  chunked({chunk}) "
              f"{t['chunked']:7.3f} s  loop {t['loop']:7.3f} s  speedup {row['speedup']:5.2f}x / "
              f"{row['speedup_chunked']:5.2f}x", flush=True)

    for b in batches:
        shared = _time(lambda r, b=b: ev(jax.random.fold_in(key, r), one(params), b), repeats)
        pop = _population(params, b)
        indiv = _time(lambda r, pop=pop: ev(jax.random.fold_in(key, r), pop, 1), repeats)
        row = {"batch": b, "ms_per_rollout_shared": 1e3 * shared / b, "ms_per_rollout_individual": 1e3 * indiv / b,
               "gflops_shared": flops * b / shared / 1e9, "gflops_individual": flops * b / indiv / 1e9}
        out["scaling"].append(row)
        print(f"{policy:6s} batch {b:4d}: ms/rollout shared params {row['ms_per_rollout_shared']:7.2f} "
              f"({row['gflops_shared']:.2f} GFLOP/s), per-individual params {row['ms_per_rollout_individual']:7.2f} "
              f"({row['gflops_individual']:.2f} GFLOP/s)", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", nargs="+", default=["daniel", "slim"], choices=["daniel", "slim"])
    ap.add_argument("--mu", nargs="+", type=int, default=[20, 100])
    ap.add_argument("--L", type=int, default=4)
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 4, 16, 80, 400])
    ap.add_argument("--chunk", type=int, default=5, help="individuals per lax.map step in the chunked variant")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "dfmeta_throughput.json"))
    args = ap.parse_args()
    load0 = os.getloadavg()
    results = []
    for p in args.policies:  # written after each policy: a run cut short keeps what it measured
        r = measure(p, args.mu, args.L, args.repeats, args.batches, args.chunk)
        results.append(r)
        extra = f", encoder {r['flops_encoder'] / 1e6:.1f} MFLOP" if "flops_encoder" in r else ""
        print(f"{r['policy']}: {r['flops_per_rollout'] / 1e6:.1f} MFLOP per rollout{extra}", flush=True)
        write_json_atomic(args.out, {"args": vars(args), "device": jax.devices()[0].device_kind, "cpus": os.cpu_count(),
                                     "loadavg_before": load0, "loadavg_after": os.getloadavg(), "results": results})


if __name__ == "__main__":
    main()
