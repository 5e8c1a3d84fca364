"""``jsched train fjsp-policy``: train the DANIEL policy with the shared PPO on SD1/SD2.

Follows DANIEL's recipe (notes section 4) with the shared ``jsched.rl.ppo``: Adam 3e-4, 20
envs with one full episode each per update (``num_steps`` = operations per instance), 4 epochs,
one minibatch per epoch (DANIEL's 1024 covers a 10x5 batch), clip 0.2, value coefficient 0.5,
entropy 0.01, gamma 1, GAE lambda 0.98; greedy validation on DANIEL's validation set (seed 100)
every ``val_every`` updates, keeping the best parameters. Choices where this differs: the
training instances come from a pool of ``pool_size`` pre-generated instances drawn at random
per episode (instead of a fresh batch every 20 updates), advantages are normalised per
minibatch (the shared PPO's convention), and the learning rate is annealed linearly.

Outputs (``out`` folder): ``policy.msgpack`` (best validated network, kind ``daniel-policy``),
``runner.msgpack`` (full PPO state for ``resume``) and ``log.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from jsched.dfmeta import daniel, fjsp_env
from jsched.dfmeta.checkpoint import load_params, save_params
from jsched.errors import JSchedError
from jsched.instances.arrays import stack_fjsp_params
from jsched.instances.generators import sd1_fjsp_set, sd2_fjsp_set
from jsched.rl.ppo import PPOConfig, make_train
from jsched.rollout import rollout_fn
from jsched.schedule import write_json_atomic
from jsched.kernels.env import FJSP_ENV

POLICY_KIND = "daniel-policy"
POLICY_CONFIG = {"model": "daniel", "heads": 4, "head_dims": [32, 8]}
DANIEL_ENV = FJSP_ENV._replace(observe=daniel.observe)


@dataclass(frozen=True)
class PolicyTrainConfig:
    data: str = "sd2"  # "sd1" or "sd2"
    n_jobs: int = 10
    n_machines: int = 5
    updates: int = 1000
    num_envs: int = 20
    pool_size: int = 1000
    lr: float = 3e-4
    val_every: int = 10
    n_val: int = 100
    seed: int = 0


def make_instances(data: str, count: int, n_jobs: int, n_machines: int, seed: int):
    """DANIEL-style instances: SD2 (numpy legacy stream) or SD1 (python ``random`` stream)."""
    if data == "sd2":
        return sd2_fjsp_set(count, n_jobs, n_machines, seed=seed)
    if data == "sd1":
        return sd1_fjsp_set(count, n_jobs, n_machines, seed=seed)
    raise JSchedError(f"data {data!r}: choose sd1 or sd2")


def greedy_makespans(params, instances_stacked) -> jax.Array:
    """(I,) greedy makespans of the DANIEL policy on stacked padded instances."""
    return _greedy(params, instances_stacked)


@jax.jit
def _greedy(params, stacked):
    res = rollout_fn(daniel.policy, DANIEL_ENV, "greedy", 1)(params, stacked, jax.random.key(0))
    return res.makespan[:, 0]


def train_fjsp_policy(out: str, config: PolicyTrainConfig = PolicyTrainConfig(), resume: bool = False,
                      progress: bool = True, chunk: int | None = None) -> dict:
    """Train DANIEL with PPO; write checkpoints under ``out``; return the training log.

    Args:
        out: output folder (``policy.msgpack``, ``runner.msgpack``, ``log.json``).
        config: sizes, data, budget and seed.
        resume: continue from ``out/runner.msgpack`` (same config required).
        progress: show a tqdm bar.
        chunk: updates per jitted call between validations (default ``config.val_every``).
    """
    from tqdm import tqdm

    cfg = config
    pool_insts = make_instances(cfg.data, cfg.pool_size, cfg.n_jobs, cfg.n_machines, seed=300 + cfg.seed)
    pool = stack_fjsp_params(pool_insts)
    j, o, m = (int(s) for s in pool.durations.shape[1:])
    val = stack_fjsp_params(make_instances(cfg.data, cfg.n_val, cfg.n_jobs, cfg.n_machines, seed=100))
    ppo_cfg = PPOConfig(
        num_envs=cfg.num_envs, num_steps=j * o, total_timesteps=cfg.updates * cfg.num_envs * j * o,
        update_epochs=4, num_minibatches=1, lr=cfg.lr, gamma=1.0, gae_lambda=0.98, clip_eps=0.2,
        ent_coef=0.01, vf_coef=0.5,
    )
    net = daniel.DanielPPONet(j, o, m)
    train = make_train(ppo_cfg, fjsp_env.ENV, net, env_params=pool)
    update = jax.jit(train.update, static_argnums=1)
    cfg_dict = {**{k: v for k, v in cfg.__dict__.items() if k != "updates"}, **POLICY_CONFIG}
    os.makedirs(out, exist_ok=True)
    runner_path, policy_path, log_path = (os.path.join(out, f) for f in ("runner.msgpack", "policy.msgpack", "log.json"))
    runner = jax.jit(train.init)(jax.random.PRNGKey(cfg.seed))
    log = {"config": cfg_dict, "updates": [], "best_val": None}
    if resume:
        runner, _, meta = load_params(runner_path, runner, "daniel-ppo-runner", cfg_dict)
        runner = jax.tree.map(jnp.asarray, runner)
        log = meta.get("log", log)
    chunk = chunk or cfg.val_every
    bar = tqdm(total=cfg.updates, initial=int(runner.update), disable=not progress, desc="ppo")
    while int(runner.update) < cfg.updates:
        n = min(chunk, cfg.updates - int(runner.update))
        runner, metrics = update(runner, n)
        policy_params = {"params": runner.train_state.params["net"]["params"]["net"]}
        val_ms = float(greedy_makespans(policy_params, val).mean())
        entry = {"update": int(runner.update), "val_makespan": val_ms,
                 **{k: float(np.nanmean(np.asarray(v))) for k, v in metrics.items()}}
        log["updates"].append(entry)
        if log["best_val"] is None or val_ms < log["best_val"]:
            log["best_val"] = val_ms
            save_params(policy_path, policy_params, POLICY_KIND, POLICY_CONFIG,
                        {"val_makespan": val_ms, "update": int(runner.update), "train": cfg_dict})
        save_params(runner_path, runner, "daniel-ppo-runner", cfg_dict, {"log": log})
        write_json_atomic(log_path, log)
        bar.update(n)
        bar.set_postfix(val=f"{val_ms:.1f}", best=f"{log['best_val']:.1f}", ret=f"{entry['episode_return']:.3f}")
    bar.close()
    return log


def load_policy(path: str):
    """DANIEL network variables from a ``daniel-policy`` checkpoint."""
    template = daniel.init_params(jax.random.key(0))
    params, _, _ = load_params(path, template, POLICY_KIND, POLICY_CONFIG)
    return jax.tree.map(jnp.asarray, params)


def add_arguments(p) -> None:
    """Options of ``jsched train fjsp-policy``."""
    d = PolicyTrainConfig()
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--data", choices=("sd1", "sd2"), default=d.data)
    p.add_argument("--jobs", type=int, default=d.n_jobs)
    p.add_argument("--machines", type=int, default=d.n_machines)
    p.add_argument("--updates", type=int, default=d.updates)
    p.add_argument("--envs", type=int, default=d.num_envs)
    p.add_argument("--pool", type=int, default=d.pool_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--val-every", type=int, default=d.val_every)
    p.add_argument("--n-val", type=int, default=d.n_val)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--resume", action="store_true")


def run(args) -> int:
    cfg = PolicyTrainConfig(args.data, args.jobs, args.machines, args.updates, args.envs, args.pool, args.lr,
                            args.val_every, args.n_val, args.seed)
    log = train_fjsp_policy(args.out, cfg, resume=args.resume)
    print(f"best validation makespan {log['best_val']:.2f} -> {os.path.join(args.out, 'policy.msgpack')}")
    return 0
