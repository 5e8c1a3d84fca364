"""``jsched train dfmeta``: first-order DF-Meta meta-training of a policy initialisation theta_0.

Each meta step draws B training instances (from a pool of generated instances, with a numpy
Generator seeded by (seed, step) so a resumed run draws the same batches), runs the inner ES
loop from theta_0 on each (vmapped) and applies the first-order outer update of
:func:`jsched.dfmeta.es.make_meta_learner`. theta_0 starts from a PPO-trained policy
(``--init``). Every ``save_every`` steps the outer state is checkpointed (``meta.msgpack``,
resumable) and theta_0 exported (``theta0.msgpack``, the file ``--method dfmeta`` reads).

Only the DANIEL FJSP policy is wired here; the ES loops themselves take any
``policy(params, obs) -> logits`` (see :mod:`jsched.dfmeta.adapt`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dfmeta import daniel
from jsched.dfmeta.adapt import policy_rollout
from jsched.dfmeta.checkpoint import load_params, save_params
from jsched.dfmeta.es import ESTIMATORS, DFMetaConfig, make_meta_learner
from jsched.dfmeta.method import THETA0_KIND
from jsched.dfmeta.train_policy import DANIEL_ENV, load_policy, make_instances
from jsched.errors import JSchedError
from jsched.instances.arrays import stack_fjsp_params
from jsched.schedule import write_json_atomic

META_KIND = "dfmeta-meta-state"


@dataclass(frozen=True)
class MetaTrainConfig:
    policy: str = "daniel"
    data: str = "sd2"
    n_jobs: int = 10
    n_machines: int = 5
    steps: int = 200
    pool_size: int = 1000
    save_every: int = 5
    seed: int = 0


def _batch(pool, cfg: MetaTrainConfig, B: int, step: int):
    rng = np.random.default_rng([cfg.seed, step])
    idx = rng.choice(pool.job_len.shape[0], size=B, replace=False)
    return jax.tree.map(lambda x: x[idx], pool)


def meta_train(out: str, init: str, es_cfg: DFMetaConfig = DFMetaConfig(), cfg: MetaTrainConfig = MetaTrainConfig(),
               resume: bool = False, progress: bool = True) -> dict:
    """Meta-train theta_0 from the policy checkpoint ``init``; write under ``out``; return the log.

    Each step costs B * (K + 1) * mu * L rollouts.
    """
    from tqdm import tqdm

    if cfg.policy != "daniel":
        raise JSchedError(f"policy {cfg.policy!r}: dfmeta meta-training is wired for 'daniel' (FJSP)")
    theta = load_policy(init)
    pool = stack_fjsp_params(make_instances(cfg.data, cfg.pool_size, cfg.n_jobs, cfg.n_machines, seed=400 + cfg.seed))
    ml = make_meta_learner(policy_rollout(daniel.policy, DANIEL_ENV, "sample"), es_cfg, theta)
    config = {"meta": {k: v for k, v in cfg.__dict__.items() if k != "steps"}, "es": es_cfg.to_dict(), "init": os.path.basename(init)}
    os.makedirs(out, exist_ok=True)
    meta_path, theta_path, log_path = (os.path.join(out, f) for f in ("meta.msgpack", "theta0.msgpack", "log.json"))
    state = ml.init(jax.random.PRNGKey(cfg.seed), theta)
    log = {"config": config, "steps": []}
    if resume:
        state, _, meta = load_params(meta_path, state, META_KIND, config)
        state = jax.tree.map(jnp.asarray, state)
        log = meta.get("log", log)
    bar = tqdm(total=cfg.steps, initial=int(state.step), disable=not progress, desc="dfmeta")
    while int(state.step) < cfg.steps:
        step = int(state.step)
        state, m = ml.step(jax.random.fold_in(jax.random.PRNGKey(cfg.seed), step), state, _batch(pool, cfg, es_cfg.B, step))
        entry = {"step": step + 1, "fitness_before": float(m.fitness_before.mean()),
                 "fitness_after": float(m.fitness_after.mean()), "best": float(m.best.mean())}
        log["steps"].append(entry)
        bar.update(1)
        bar.set_postfix(before=f"{entry['fitness_before']:.1f}", after=f"{entry['fitness_after']:.1f}", best=f"{entry['best']:.1f}")
        if int(state.step) % cfg.save_every == 0 or int(state.step) == cfg.steps:
            save_params(meta_path, state, META_KIND, config, {"log": log})
            save_params(theta_path, ml.theta0(state), THETA0_KIND, config, {"step": int(state.step), "log_tail": log["steps"][-5:]})
            write_json_atomic(log_path, log)
    bar.close()
    return log


def add_arguments(p) -> None:
    d, m = DFMetaConfig(), MetaTrainConfig()
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--init", required=True, help="PPO-trained policy checkpoint (theta_0 at step 0)")
    p.add_argument("--policy", choices=("daniel",), default=m.policy)
    p.add_argument("--data", choices=("sd1", "sd2"), default=m.data)
    p.add_argument("--jobs", type=int, default=m.n_jobs)
    p.add_argument("--machines", type=int, default=m.n_machines)
    p.add_argument("--steps", type=int, default=m.steps, help="meta steps (mini-batches)")
    p.add_argument("--K", type=int, default=d.K)
    p.add_argument("--mu", type=int, default=d.mu)
    p.add_argument("--L", type=int, default=d.L)
    p.add_argument("--B", type=int, default=d.B)
    p.add_argument("--sigma", type=float, default=d.sigma)
    p.add_argument("--estimator", choices=ESTIMATORS, default=d.estimator)
    p.add_argument("--inner-lr", type=float, default=d.inner_lr)
    p.add_argument("--outer-lr", type=float, default=d.outer_lr)
    p.add_argument("--seed", type=int, default=m.seed)
    p.add_argument("--resume", action="store_true")


def run(args) -> int:
    es_cfg = DFMetaConfig(K=args.K, mu=args.mu, L=args.L, B=args.B, sigma=args.sigma, estimator=args.estimator,
                          inner_lr=args.inner_lr, outer_lr=args.outer_lr)
    cfg = MetaTrainConfig(args.policy, args.data, args.jobs, args.machines, args.steps, seed=args.seed)
    meta_train(args.out, args.init, es_cfg, cfg, resume=args.resume)
    print(f"theta_0 -> {os.path.join(args.out, 'theta0.msgpack')}")
    return 0
