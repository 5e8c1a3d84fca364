"""Static MA parameter tuning with the DAC training budget: seeded random search over Table 1's ranges.

A trial costs ``len(instances) * n_gen`` generations and scores the mean best fitness over the
instances (the paper's score; it tunes with Optuna TPE, see the README for why random search).
Trials run ``batch`` at a time under one ``jit(vmap)`` per instance shape (instances of one
machine count and horizon are padded together: padding all 12 training instances to the largest
costs about 2.4x the generations' work); the results file is rewritten after every batch, a rerun
resumes from it, and its ``params`` is a ``params`` file for method ``ma``. ``rescore`` then
re-runs the best trials with fresh seeds on the same training instances, so that the parameters
shipped are not a one-run noise winner (the search's own scores are one run per instance).
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
from jsched.kernels import pfsp as K
from jsched.schedule import write_json_atomic


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
         pop_size: int = ma.POP_SIZE, batch: int = 4, time_limit_s: float | None = None, progress: bool = True,
         enqueue: tuple[dict, ...] = (ma.DEFAULT, ma.TABLE3)) -> dict:
    """Random search; returns {"best": params, "best_score", "trials": [...], "budget_used"}.

    The ``enqueue`` parameter sets are the first trials (as Optuna's ``enqueue_trial``): the
    result is never worse on the tuning score than the published defaults.
    ``time_limit_s`` stops after the batch that passes it (a rerun resumes); the trials and
    their best-so-far score are in the file either way.
    """
    from tqdm import tqdm

    per_trial = len(instances) * n_gen
    n_trials = max(1, budget_generations // per_trial)
    rng = np.random.default_rng(seed)
    candidates = [dict(c) for c in enqueue] + [sample_params(rng) for _ in range(n_trials)]
    candidates = candidates[:n_trials]
    state = {"seed": seed, "n_gen": n_gen, "pop_size": pop_size, "instances": [i.name for i in instances],
             "enqueue": len(enqueue), "budget_generations": budget_generations, "trials": []}
    if os.path.exists(out_path):
        with open(out_path) as fh:
            old = json.load(fh)
        if any(old.get(k) != state[k] for k in ("seed", "n_gen", "pop_size", "instances", "enqueue")):
            raise CheckpointError(f"{out_path}: existing tuning run has other settings; use another output file")
        state["trials"] = old["trials"]
        state["cpu_seconds"] = old.get("cpu_seconds", 0.0)
        if "rescore" in old and finished(old):  # the same trials it re-scored
            state["rescore"] = old["rescore"]
    groups = _shape_groups(instances)
    t0 = time.perf_counter()
    bar = tqdm(total=n_trials, initial=len(state["trials"]), desc="tune", disable=not progress)
    while len(state["trials"]) < n_trials:
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            break
        lo = len(state["trials"])
        c0 = time.process_time()
        todo = candidates[lo : lo + batch]
        todo += [todo[-1]] * (batch - len(todo))  # fixed batch shape: one compile
        # trial t, instance i: fold_in(t), fold_in(i) of the search's key (resume-stable)
        fit = _run_batch(todo, jax.random.key(seed + 1), [lo + b for b in range(batch)], groups, pop_size, n_gen)
        for c, f in list(zip(todo, fit))[: min(batch, n_trials - lo)]:
            state["trials"].append({"params": c, "score": float(f.mean()), "per_instance": f.tolist()})
        state["cpu_seconds"] = state.get("cpu_seconds", 0.0) + time.process_time() - c0
        _finish(state, out_path, per_trial)
        bar.update(min(batch, n_trials - lo))
        bar.set_postfix(best=f"{state['best_score']:.6g}")
    bar.close()
    return _finish(state, out_path, per_trial)


def finished(state: dict) -> bool:
    """Whether a tuning file's search has spent its budget."""
    per_trial = len(state["instances"]) * state["n_gen"]
    return len(state["trials"]) >= max(1, state["budget_generations"] // per_trial)


def rescore(out_path: str, instances, top: int, runs: int, pop_size: int = ma.POP_SIZE) -> dict:
    """Re-run the ``top`` best trials ``runs`` times per instance (fresh seeds, same instances) and
    make the best mean over those runs the file's ``params``; adds ``rescore`` to the file (kept
    as it is when it already holds this ``top`` and ``runs``)."""
    with open(out_path) as fh:
        state = json.load(fh)
    done = state.get("rescore", {})
    if done.get("runs") == runs and len(done.get("trials", ())) == top:
        return state
    order = sorted(range(len(state["trials"])), key=lambda t: state["trials"][t]["score"])[:top]
    cands = [state["trials"][t]["params"] for t in order]
    base = jax.random.key(state["seed"] + 2)  # not the search's key: fresh runs
    groups = _shape_groups(instances)
    # run r: the same seeds for every candidate (paired comparison)
    fit = np.stack([_run_batch(cands, base, [r] * len(cands), groups, pop_size, state["n_gen"]) for r in range(runs)])
    per_cand = fit.mean(axis=(0, 2))
    win = int(per_cand.argmin())
    state["rescore"] = {"runs": runs, "trials": [t + 1 for t in order], "score": per_cand.tolist(),
                        "run_scores": fit.mean(axis=2).T.tolist(), "chosen_trial": order[win] + 1,
                        "generations": runs * len(cands) * len(instances) * state["n_gen"]}
    return _finish(state, out_path, len(instances) * state["n_gen"])


def _run_batch(cands: list[dict], base, rows: list[int], groups, pop_size: int, n_gen: int) -> np.ndarray:
    """(B, I) best fitness of one run of candidate b on instance i, keyed fold_in(rows[b]), fold_in(i)."""
    cfgs = K.MAConfig(*[jnp.array([c[k] for c in cands], jnp.float32) for k in K.PARAM_NAMES])
    n = sum(len(idx) for idx, _ in groups)
    keys = jnp.stack([jnp.stack([jax.random.fold_in(jax.random.fold_in(base, r), i) for i in range(n)]) for r in rows])
    fit = np.zeros((len(cands), n))
    for idx, params in groups:
        fit[:, idx] = np.asarray(_trial_batch(keys[:, idx], params, cfgs, pop_size, n_gen, ma.LS_STEPS))
    return fit


def _shape_groups(instances) -> list[tuple[np.ndarray, object]]:
    """(instance indices, their stacked params) per (machines, horizon): little padding."""
    by_shape: dict[tuple[int, int], list[int]] = {}
    for i, inst in enumerate(instances):
        by_shape.setdefault((inst.n_machines, inst.horizon), []).append(i)
    return [(np.array(idx), ma.stack_params([instances[i] for i in idx])) for idx in by_shape.values()]


def _finish(state: dict, out_path: str, per_trial: int) -> dict:
    if state["trials"]:
        i = min(range(len(state["trials"])), key=lambda t: state["trials"][t]["score"])
        state["best"], state["best_score"] = state["trials"][i]["params"], state["trials"][i]["score"]
        state["chosen_trial"] = state["rescore"]["chosen_trial"] if "rescore" in state else i + 1
        state["params"] = state["trials"][state["chosen_trial"] - 1]["params"]  # what ma.load_params_spec reads
    state["budget_used_generations"] = len(state["trials"]) * per_trial
    write_json_atomic(out_path, state)
    return state
