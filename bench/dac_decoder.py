"""Claim: jsched's idle-key decoder reproduces the published MA-CAS-PFSP; a capped one does not.

The paper says only that the pause keys "distribute available slack". Two readings, same MA
otherwise (``kernels/pfsp.py``; population 250, 100 generations):

* ``slack`` (jsched's decoder): a pause key asks for a share of the sequence's whole slack
  S = H - (no-idle makespan), min(floor(p (S + 1)), S) slots; idle times add up and a schedule
  may overrun the horizon (penalised);
* ``capped`` (jsched's first decoder, defined here only): the share is of the slack still left
  to that operation before its latest start, so no schedule ever overruns.

Per set and parameter preset, ``--runs`` runs on the first ``--instances`` test instances:
the mean over instances of (our run mean / published run mean of the same preset), the mean
improvement over the seed individual (file order, no idle) beside the published one, and how
many runs return the seed unchanged (published: M10T3 270/500, M15T1 62/500, M15T3 500/500
for MA default). Writes ``bench/results/dac_decoder.json``.

Every emissions figure is that of a validated schedule: each run's best individual (and the seed
individual) is decoded again with the decoder under test, its start slots checked by
``PFSPInstance.check_schedule`` (horizon, permutation) and ``jsched.schedule.validate``, and its
emissions recomputed in float64 by the instance's own model (``validated_emissions``).

    PYTHONPATH=$PWD nice -n 10 python bench/dac_decoder.py --sets M1T1,M1T3,M3T1,M3T3,M15T1 \
        --instances 3 --runs 4 --presets default --extra M3T3:tuned
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jsched.dac import ma  # noqa: E402
from jsched.dac.published import instance_path, published_runs  # noqa: E402
from jsched.errors import ScheduleError  # noqa: E402
from jsched.instances.pfsp import PFSPInstance, read_cas  # noqa: E402
from jsched.kernels import pfsp as K  # noqa: E402
from jsched.schedule import Schedule, validate, write_json_atomic  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
SLACK_DECODE = K.decode_sequence


def capped_decode_sequence(params, seq, pause_keys):
    """The capped reading: idle = min(floor(p (L + 1)), L), L = latest start - earliest start."""
    n, m = params.durations.shape
    d = params.durations[seq]
    h = params.horizon
    real_pos = jnp.arange(n) < params.job_mask.sum()

    def backward(next_ls, d_i):
        out, later = [], h
        for k in range(m - 1, -1, -1):
            later = jnp.minimum(later, next_ls[k]) - d_i[k]
            out.append(later)
        ls_i = jnp.stack(out[::-1])
        return ls_i, ls_i

    _, ls = jax.lax.scan(backward, jnp.full((m,), h, jnp.int32), d, reverse=True)

    def forward(c_mach, xs):
        d_i, ls_i, p_i, real = xs
        prev, starts, ends = jnp.zeros((), jnp.int32), [], []
        for k in range(m):
            e = jnp.maximum(prev, c_mach[k])
            slack = jnp.maximum(ls_i[k] - e, 0)
            idle = jnp.minimum(jnp.floor(p_i[k] * (slack + 1).astype(jnp.float32)).astype(jnp.int32), slack)
            s = e + jnp.where(real, idle, 0)
            prev = s + d_i[k]
            starts.append(s)
            ends.append(prev)
        return jnp.stack(ends), jnp.stack(starts)

    _, s_pos = jax.lax.scan(forward, jnp.zeros((m,), jnp.int32), (d, ls, pause_keys, real_pos))
    start = jnp.zeros((n, m), jnp.int32).at[seq].set(s_pos)
    end_max = jnp.max(jnp.where(params.job_mask[:, None], start + params.durations, 0))
    em = K.emissions(params, start)
    excess = jnp.maximum(end_max - h, 0).astype(jnp.float32)
    return K.Decoded(seq, start, end_max, em, jnp.where(excess > 0, em + params.penalty * (1.0 + excess), em))


DECODERS = {"slack": SLACK_DECODE, "capped": capped_decode_sequence}


@partial(jax.jit, static_argnames=("decoder",))
def _decode(decoder: str, params, job_keys, pause_keys) -> K.Decoded:
    return DECODERS[decoder](params, K.sequence_of(params, job_keys), pause_keys)


def validated_emissions(inst: PFSPInstance, params, decoder: str, job_keys, pause_keys, fitness=None) -> float:
    """Float64 emissions of one individual's schedule under ``decoder``, after validation.

    ``params`` may be padded (real jobs and machines come first). The start slots must keep the
    horizon and the job sequence (``check_schedule``) and pass ``jsched.schedule.validate``;
    ``fitness``, the kernel's float32 value for the individual, must match the float64 emissions
    (within float32 rounding), else ScheduleError.
    """
    dec = _decode(decoder, params, jnp.asarray(job_keys), jnp.asarray(pause_keys))
    n, m = inst.n_jobs, inst.n_machines
    seq, start = np.asarray(dec.sequence)[:n], np.asarray(dec.start)[:n, :m]
    inst.check_schedule(seq, start)
    validate(inst, Schedule.from_arrays(inst, start))
    em = inst.emissions(start)
    if fitness is not None and not np.isclose(em, float(fitness), rtol=1e-4, atol=1e-3):
        raise ScheduleError(f"{inst.name}: kernel fitness {float(fitness):.4f}, validated schedule's emissions {em:.4f}")
    return em


def seed_value(inst) -> float:
    p = ma.pfsp_params(inst)
    jk, pk = K.seed_individual(p)
    return validated_emissions(inst, p, "slack", jk, pk)


def best_individuals(keys, params, cfg, pop_size, n_gen, ls_steps):
    """(job keys, pause keys, fitness) of each run's best individual, (I, R, ...)."""

    def one(key, p):
        pop, _ = K.run(key, p, cfg, pop_size, n_gen, ls_steps, ma.INIT_PAUSE_PROB)
        i = jnp.argmin(pop.fitness)
        return pop.job_keys[i], pop.pause_keys[i], pop.fitness[i]

    return jax.vmap(jax.vmap(one, in_axes=(0, None)), in_axes=(0, 0))(keys, params)


def measure(decoder: str, set_name: str, preset: str, args) -> dict:
    # The kernel looks ``decode_sequence`` up at trace time: each (decoder) gets its own trace.
    K.decode_sequence = SLACK_DECODE if decoder == "slack" else capped_decode_sequence
    run = jax.jit(partial(best_individuals, pop_size=args.pop, n_gen=args.generations, ls_steps=ma.LS_STEPS))
    insts = [read_cas(instance_path(set_name, k)) for k in range(1, args.instances + 1)]
    keys = jax.random.split(jax.random.key(args.seed), len(insts) * args.runs).reshape(len(insts), args.runs)
    params = ma.stack_params(insts)
    t = time.perf_counter()
    jk, pk, kernel_fit = jax.block_until_ready(run(keys, params, ma.make_config({"default": ma.DEFAULT, "tuned": ma.TABLE3}[preset])))
    secs = time.perf_counter() - t
    K.decode_sequence = SLACK_DECODE
    fit = np.array([[validated_emissions(inst, jax.tree.map(lambda x: x[i], params), decoder, jk[i, r], pk[i, r], kernel_fit[i, r])
                     for r in range(args.runs)] for i, inst in enumerate(insts)])  # fmt: skip
    seeds = np.array([seed_value(i) for i in insts])
    pub = np.array([published_runs(set_name, preset)[i.name] for i in insts])
    is_seed = lambda v: np.isclose(v, seeds[:, None], rtol=1e-6, atol=0.02)  # noqa: E731
    return {
        "decoder": decoder, "set": set_name, "preset": preset, "instances": [i.name for i in insts],
        "runs": args.runs, "seconds": round(secs, 1),
        "ratio_to_published": float((fit.mean(1) / pub.mean(1)).mean()),
        "improvement_over_seed_percent": float((100 * (1 - fit / seeds[:, None])).mean()),
        "published_improvement_over_seed_percent": float((100 * (1 - pub / seeds[:, None])).mean()),
        "seed_returned": int(is_seed(fit).sum()), "published_seed_returned": int(is_seed(pub).sum()),
        "published_runs": int(pub.size),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="M1T1,M1T3,M3T1,M3T3,M15T1")
    ap.add_argument("--presets", default="default")
    ap.add_argument("--extra", default="M3T3:tuned", help="more SET:PRESET pairs, comma-separated")
    ap.add_argument("--decoders", default="slack,capped")
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--generations", type=int, default=ma.GENERATIONS)
    ap.add_argument("--pop", type=int, default=ma.POP_SIZE)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(RESULTS, "dac_decoder.json"))
    args = ap.parse_args()
    pairs = [(s, p) for s in args.sets.split(",") for p in args.presets.split(",")]
    pairs += [tuple(x.split(":")) for x in args.extra.split(",") if x]
    out = {"command": " ".join(sys.argv), "device": jax.devices()[0].device_kind, "args": vars(args), "rows": []}
    print(f"{'set':6s} {'preset':8s} {'decoder':8s} {'ours/pub':>9s} {'impr.seed%':>10s} {'pub impr%':>9s} "
          f"{'seed kept':>9s} {'pub kept':>9s} {'sec':>6s}")
    for s, preset in pairs:
        for dec in args.decoders.split(","):
            r = measure(dec, s, preset, args)
            out["rows"].append(r)
            n = len(r["instances"]) * r["runs"]
            print(f"{s:6s} {preset:8s} {dec:8s} {r['ratio_to_published']:9.4f} {r['improvement_over_seed_percent']:10.2f} "
                  f"{r['published_improvement_over_seed_percent']:9.2f} {r['seed_returned']:>5d}/{n:<3d} "
                  f"{r['published_seed_returned']:>5d}/{r['published_runs']:<3d} {r['seconds']:6.0f}", flush=True)
            write_json_atomic(args.out, out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
