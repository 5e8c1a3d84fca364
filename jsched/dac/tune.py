"""Static parameter tuning with the DAC training budget: random search over the Table 1 ranges.

The paper tunes with Optuna TPE (333 trials x 12 training instances x 100 generations). Here a
seeded random search (uniform in the Table 1 ranges, the DAC action box; the published default
and tuned sets lie inside it) gets a budget in MA generations equal to the DAC policy's
training budget: each trial costs ``len(instances) * n_gen`` generations, so the number of
trials is ``budget // (12 * 100)``. A trial's score is the paper's: the mean final objective
over the training instances (one run each, seeded per trial). Random search is used instead of
TPE because with tens of trials TPE barely leaves its 10 random start-up trials, and it needs
no extra dependency. Trials run ``batch`` at a time under one ``jit(vmap)``. Results are
appended to a JSON file after every batch and a rerun resumes from it; the best parameters are
written in the ``--params FILE`` format of ``jsched solve --method ma``.
"""

from __future__ import annotations

import json
import os
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dac import ma
from jsched.errors import CheckpointError
from jsched.schedule import write_json_atomic
from jsched.kernels import pfsp as K


@partial(jax.jit, static_argnames=("pop_size", "n_gen", "ls_steps"))
def _trial_batch(keys, params, cfgs, pop_size, n_gen, ls_steps):
    """keys (B, I, 2), cfgs MAConfig of (B,) -> best fitness (B, I), one run per instance."""

    def one_cfg(k, cfg):
        def one_inst(kk, p):
            pop, _ = K.run(kk, p, cfg, pop_size, n_gen, ls_steps, ma.INIT_PAUSE_PROB)
            return pop.fitness.min()

        return jax.vmap(one_inst)(k, params)

    return jax.vmap(one_cfg)(keys, cfgs)


def sample_params(rng: np.random.Generator) -> dict:
    return {k: float(rng.uniform(*ma.RANGES[k])) for k in K.PARAM_NAMES}


def tune(out_path: str, budget_generations: int, instances, seed: int = 0, n_gen: int = ma.GENERATIONS,
         pop_size: int = ma.POP_SIZE, batch: int = 4, time_limit_s: float | None = None, progress: bool = True) -> dict:
    """Random search; returns {"best": params, "best_score", "trials": [...], "budget_used"}."""
    from tqdm import tqdm

    per_trial = len(instances) * n_gen
    n_trials = max(1, budget_generations // per_trial)
    rng = np.random.default_rng(seed)
    candidates = [sample_params(rng) for _ in range(n_trials)]
    state = {"seed": seed, "n_gen": n_gen, "pop_size": pop_size, "instances": [i.name for i in instances],
             "budget_generations": budget_generations, "trials": []}
    if os.path.exists(out_path):
        with open(out_path) as fh:
            old = json.load(fh)
        if any(old.get(k) != state[k] for k in ("seed", "n_gen", "pop_size", "instances")):
            raise CheckpointError(f"{out_path}: existing tuning run has other settings; use another output file")
        state["trials"] = old["trials"]
    params = ma.stack_params(instances)
    t0 = time.perf_counter()
    bar = tqdm(total=n_trials, initial=len(state["trials"]), desc="tune", disable=not progress)
    while len(state["trials"]) < n_trials:
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            break
        lo = len(state["trials"])
        todo = candidates[lo : lo + batch]
        todo += [todo[-1]] * (batch - len(todo))  # fixed batch shape: one compile
        cfgs = K.MAConfig(*[jnp.array([c[k] for c in todo], jnp.float32) for k in K.PARAM_NAMES])
        base = jax.random.key(seed + 1)  # trial t, instance i: fold_in(t), fold_in(i) (resume-stable)
        keys = jnp.stack([jnp.stack([jax.random.fold_in(jax.random.fold_in(base, lo + b), i)
                                     for i in range(len(instances))]) for b in range(batch)])
        fit = np.asarray(_trial_batch(keys, params, cfgs, pop_size, n_gen, ma.LS_STEPS))
        for c, f in list(zip(todo, fit))[: min(batch, n_trials - lo)]:
            state["trials"].append({"params": c, "score": float(f.mean()), "per_instance": f.tolist()})
        _finish(state, out_path, per_trial)
        bar.update(min(batch, n_trials - lo))
        bar.set_postfix(best=f"{state['best_score']:.6g}")
    bar.close()
    return _finish(state, out_path, per_trial)


def _finish(state: dict, out_path: str, per_trial: int) -> dict:
    if state["trials"]:
        best = min(state["trials"], key=lambda t: t["score"])
        state["best"], state["best_score"] = best["params"], best["score"]
        state["params"] = best["params"]  # the --params FILE format
    state["budget_used_generations"] = len(state["trials"]) * per_trial
    write_json_atomic(out_path, state)
    return state


def main(argv=None) -> int:
    """``python -m jsched.dac.tune --budget G --out FILE [--sets M1T1,M3T1] [--seed S]``."""
    import argparse

    from jsched.dac.train import TRAIN_SETS, training_instances

    ap = argparse.ArgumentParser(prog="python -m jsched.dac.tune", description="static MA tuning (random search)")
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
    import sys

    from jsched.errors import JSchedError

    try:
        sys.exit(main())
    except JSchedError as e:
        print(f"jsched: error: {e}", file=sys.stderr)
        sys.exit(2)
