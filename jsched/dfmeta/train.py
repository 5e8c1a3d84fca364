"""``jsched train dfmeta``: first-order DF-Meta meta-training of a policy initialisation theta_0.

Each meta step draws B training instances (from a pool of generated instances, with a numpy
Generator seeded by (seed, step) so a resumed run draws the same batches), runs the inner ES
loop from theta_0 on each (vmapped) and applies the first-order outer update of
:func:`jsched.dfmeta.es.make_meta_learner`. theta_0 starts from a PPO-trained policy
(``--init``). Every ``save_every`` steps the outer state is checkpointed (``meta.msgpack``,
resumable) and theta_0 exported (the file ``--method dfmeta --theta0`` reads).

Two base policies (``--policy``), the paper's two:

* ``daniel`` (FJSP): ``--init`` a ``jsched train fjsp-policy`` checkpoint, SD1/SD2 instances,
  theta_0 exported to ``theta0.msgpack``;
* ``slim`` (JSP): ``--init`` a SLIM model checkpoint (e.g. ``jsched/assets/slim/slim.ckpt``),
  Taillard-style instances (durations U{1..99}, a random machine permutation per job; data
  ``taillard``), the rollout of :mod:`jsched.dfmeta.slim_policy` (encoder once per individual),
  theta_0 exported to ``theta0.ckpt``, a SLIM model checkpoint that ``--method slim`` also reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dfmeta import daniel, slim_policy
from jsched.dfmeta.adapt import policy_rollout
from jsched.dfmeta.checkpoint import load_params, save_params
from jsched.dfmeta.es import ESTIMATORS, DFMetaConfig, make_meta_learner
from jsched.dfmeta.method import THETA0_KIND
from jsched.dfmeta.train_policy import DANIEL_ENV, load_policy, make_instances
from jsched.errors import JSchedError
from jsched.instances.arrays import stack_fjsp_params
from jsched.instances.generators import taillard_jsp
from jsched.schedule import write_json_atomic
from jsched.slim.graph import stack_slim_instances

META_KIND = "dfmeta-meta-state"
POLICIES = ("daniel", "slim")
DATA = {"daniel": ("sd2", "sd1"), "slim": ("taillard",)}  # first: the policy's default


@dataclass(frozen=True)
class MetaTrainConfig:
    policy: str = "daniel"
    data: str = ""  # "" = the policy's default (DATA)
    n_jobs: int = 10
    n_machines: int = 5
    steps: int = 200
    pool_size: int = 1000
    save_every: int = 5
    seed: int = 0

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise JSchedError(f"policy {self.policy!r}: choose one of {', '.join(POLICIES)}")
        if not self.data:
            object.__setattr__(self, "data", DATA[self.policy][0])
        if self.data not in DATA[self.policy]:
            raise JSchedError(f"data {self.data!r} does not suit policy {self.policy!r}: choose {', '.join(DATA[self.policy])}")


def _batch(pool, cfg: MetaTrainConfig, B: int, step: int):
    rng = np.random.default_rng([cfg.seed, step])
    idx = rng.choice(jax.tree.leaves(pool)[0].shape[0], size=B, replace=False)
    return jax.tree.map(lambda x: x[idx], pool)


def meta_train(out: str, init: str, es_cfg: DFMetaConfig = DFMetaConfig(), cfg: MetaTrainConfig = MetaTrainConfig(),
               resume: bool = False, progress: bool = True) -> dict:
    """Meta-train theta_0 from the policy checkpoint ``init``; write under ``out``; return the log.

    Each step costs B * (K + 1) * mu * L rollouts.
    """
    from tqdm import tqdm

    # chunk changes speed, not results (up to float rounding): a run may resume with another.
    es_dict = {k: v for k, v in es_cfg.to_dict().items() if k != "chunk"}
    config = {"meta": {k: v for k, v in cfg.__dict__.items() if k != "steps"}, "es": es_dict, "init": os.path.basename(init)}
    if cfg.policy == "slim":
        theta, model_cfg, _ = slim_policy.load_theta0(init)
        rng = np.random.default_rng(400 + cfg.seed)
        pool = stack_slim_instances([taillard_jsp(cfg.n_jobs, cfg.n_machines, rng) for _ in range(cfg.pool_size)])
        rollout = slim_policy.make_rollout(model_cfg)

        def export(path, params, meta):
            slim_policy.save_theta0(path, params, model_cfg, {"config": config, **meta})
    else:
        theta = load_policy(init)
        pool = stack_fjsp_params(make_instances(cfg.data, cfg.pool_size, cfg.n_jobs, cfg.n_machines, seed=400 + cfg.seed))
        rollout = policy_rollout(daniel.policy, DANIEL_ENV, "sample")

        def export(path, params, meta):
            save_params(path, params, THETA0_KIND, config, meta)
    ml = make_meta_learner(rollout, es_cfg, theta)
    os.makedirs(out, exist_ok=True)
    theta_name = "theta0.ckpt" if cfg.policy == "slim" else "theta0.msgpack"
    meta_path, theta_path, log_path = (os.path.join(out, f) for f in ("meta.msgpack", theta_name, "log.json"))
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
            export(theta_path, ml.theta0(state), {"step": int(state.step), "log_tail": log["steps"][-5:]})
            write_json_atomic(log_path, log)
    bar.close()
    return log


def add_arguments(p) -> None:
    d, m = DFMetaConfig(), MetaTrainConfig()
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--init", required=True,
                   help="theta_0 at step 0: a DANIEL policy checkpoint (daniel) or a SLIM model checkpoint (slim)")
    p.add_argument("--policy", choices=POLICIES, default=m.policy, help="daniel (FJSP) or slim (JSP)")
    p.add_argument("--data", choices=("sd1", "sd2", "taillard"), default=None,
                   help="instance generator (default: sd2 for daniel, taillard for slim)")
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
    p.add_argument("--chunk", type=int, default=d.chunk, help="individuals rolled out together (0: whole population)")
    p.add_argument("--seed", type=int, default=m.seed)
    p.add_argument("--resume", action="store_true")


def run(args) -> int:
    es_cfg = DFMetaConfig(K=args.K, mu=args.mu, L=args.L, B=args.B, sigma=args.sigma, estimator=args.estimator,
                          inner_lr=args.inner_lr, outer_lr=args.outer_lr, chunk=args.chunk)
    cfg = MetaTrainConfig(args.policy, args.data or "", args.jobs, args.machines, args.steps, seed=args.seed)
    meta_train(args.out, args.init, es_cfg, cfg, resume=args.resume)
    print(f"theta_0 -> {os.path.join(args.out, 'theta0.ckpt' if cfg.policy == 'slim' else 'theta0.msgpack')}")
    return 0
