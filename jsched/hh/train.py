"""Train the HH agent (PPO over the 7 rules with commitment) for one instance size.

``train_hh(config, checkpoint_path)`` runs :mod:`jsched.rl.ppo` in jitted chunks of updates,
with a tqdm bar, a checkpoint after every chunk (msgpack: version, config, the whole runner
state and the curves, so a resumed run continues exactly), and writes the greedy policy file
(network parameters + config) that ``jsched solve --method hh`` loads.

Choices where the paper is silent (see ``shared/specs/hh.md``): gamma = 1 (terminal reward,
finite episodes), GAE lambda 0.95, 32 envs x 64 decisions per update, 4 epochs x 4
minibatches, Adam 3e-4 annealed, entropy 0.01, two tanh hidden layers of 64. Training
instances: fresh Taillard-style random instances of the size (``instances="random"``, the
default: the agent never sees the evaluation instances), or the 10 Taillard instances of the
size (``instances="taillard"``, what the public PetriRL code does: it trains on ta01).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time

import jax
import numpy as np
from tqdm import tqdm

from jsched.errors import JSchedError
from jsched.hh.agent import make_network, save_policy
from jsched.hh.env import HHEnvConfig, make_env
from jsched.hh.instances import taillard, taillard_names
from jsched.instances.arrays import stack_jsp_params
from jsched.rl import checkpoint, ppo

RUN_KIND = "hh-train"


@dataclasses.dataclass(frozen=True)
class HHTrainConfig:
    n_jobs: int = 15
    n_machines: int = 15
    commitment: int = 5
    steps: int = 200_000  # agent decisions (PPO env steps), summed over envs
    instances: str = "random"  # "random" or "taillard"
    reference: str = "LTWR"  # reward normaliser (see jsched.hh.env)
    rule_features: bool = True  # observe the rules' proposals (see jsched.hh.env)
    num_envs: int = 32
    num_steps: int = 64
    update_epochs: int = 4
    num_minibatches: int = 4
    lr: float = 3e-4
    ent_coef: float = 0.01
    gamma: float = 1.0
    gae_lambda: float = 0.95
    hidden: tuple[int, ...] = (64, 64)
    seed: int = 0
    chunk_updates: int = 10  # updates per jitted chunk (one checkpoint + bar tick each)

    def __post_init__(self):
        if self.instances not in ("random", "taillard"):
            raise JSchedError(f"instances must be 'random' or 'taillard', got {self.instances!r}")
        if self.commitment < 1:
            raise JSchedError("commitment must be >= 1")
        if self.instances == "taillard" and not taillard_names(self.n_jobs, self.n_machines):
            raise JSchedError(f"no Taillard instances of size {self.n_jobs}x{self.n_machines}")

    def env_config(self) -> HHEnvConfig:
        return HHEnvConfig(self.n_jobs, self.n_machines, self.commitment, reference=self.reference,
                            rule_features=self.rule_features)

    def ppo_config(self) -> ppo.PPOConfig:
        per_update = self.num_envs * self.num_steps
        return ppo.PPOConfig(
            num_envs=self.num_envs,
            num_steps=self.num_steps,
            # Whole chunks only: a shorter last chunk would compile the update scan a second time.
            total_timesteps=max(1, round(self.steps / (per_update * self.chunk_updates))) * per_update * self.chunk_updates,
            update_epochs=self.update_epochs,
            num_minibatches=self.num_minibatches,
            lr=self.lr,
            ent_coef=self.ent_coef,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
        )

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def instance_pool(cfg: HHTrainConfig):
    """Stacked training instances (None = draw random ones at every reset)."""
    if cfg.instances == "random":
        return None
    return stack_jsp_params([taillard(n) for n in taillard_names(cfg.n_jobs, cfg.n_machines)])


def train_hh(cfg: HHTrainConfig, checkpoint_path: str, policy_path: str | None = None, resume: bool = False,
             progress: bool = True) -> dict:
    """Train (or resume) and write the run checkpoint and the policy file; return the curves.

    Curves (one entry per update): ``update``, ``decisions`` (agent steps so far),
    ``episode_return`` (mean -makespan/LB of finished episodes), ``entropy``, ``value_loss``,
    ``approx_kl``, ``seconds``.
    """
    env_cfg, pcfg = cfg.env_config(), cfg.ppo_config()
    net = make_network(cfg.hidden)
    train = ppo.make_train(pcfg, make_env(env_cfg), net, instance_pool(cfg))
    init = jax.jit(train.init)
    update = jax.jit(train.update, static_argnums=1)
    runner = init(jax.random.PRNGKey(cfg.seed))
    curves: dict[str, list] = {k: [] for k in ("update", "decisions", "episode_return", "entropy", "value_loss", "approx_kl", "seconds")}
    if resume and os.path.exists(checkpoint_path):
        # Everything but ``steps`` must match: a resumed run may be extended (the annealed
        # learning rate then follows the new, longer schedule from where the run stopped).
        stored, _, _ = checkpoint.read_header(checkpoint_path, RUN_KIND)
        want = dict(cfg.as_dict(), steps=stored.get("steps"))
        runner, _, extra = checkpoint.load(checkpoint_path, runner, RUN_KIND, want)
        curves = extra["curves"]
    done_updates = int(runner.update)
    t0 = time.perf_counter() - (curves["seconds"][-1] if curves["seconds"] else 0.0)
    per_update = pcfg.num_envs * pcfg.num_steps
    with tqdm(total=pcfg.num_updates, initial=done_updates, desc=f"hh {cfg.n_jobs}x{cfg.n_machines} x={cfg.commitment}",
              unit="upd", disable=not progress) as bar:
        while done_updates < pcfg.num_updates:
            n = min(cfg.chunk_updates, pcfg.num_updates - done_updates)
            runner, m = update(runner, n)
            m = jax.device_get(m)
            for i in range(n):
                curves["update"].append(done_updates + i + 1)
                curves["decisions"].append((done_updates + i + 1) * per_update)
                for k in ("episode_return", "entropy", "value_loss", "approx_kl"):
                    v = float(m[k][i])
                    curves[k].append(None if math.isnan(v) else v)
                curves["seconds"].append(time.perf_counter() - t0)
            done_updates += n
            checkpoint.save(checkpoint_path, runner, cfg.as_dict(), RUN_KIND, {"curves": curves})
            recent = [r for r in curves["episode_return"][-n:] if r is not None]
            bar.set_postfix(ret=f"{np.mean(recent):.4f}" if recent else "-", ent=f"{curves['entropy'][-1]:.3f}")
            bar.update(n)
    if policy_path:
        info = {"train_config": cfg.as_dict(), "updates": done_updates, "decisions": done_updates * per_update,
                "seconds": curves["seconds"][-1], "final_return": curves["episode_return"][-1]}
        save_policy(policy_path, env_cfg, cfg.hidden, runner.train_state.params["net"], info)
    return curves


# ----------------------------------------------------------------------------- CLI glue


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``jsched train hh``."""
    p.add_argument("--size", default="15x15", help="JxM of the training instances (default 15x15)")
    p.add_argument("--steps", type=int, default=HHTrainConfig.steps, help="agent decisions to train for")
    p.add_argument("--commitment", type=int, default=5, help="allocations per rule choice (1, 5, ... >= J*M = one rule)")
    p.add_argument("--instances", choices=("random", "taillard"), default="random",
                   help="train on random Taillard-style instances or on the 10 Taillard instances of the size")
    p.add_argument("--reference", default="LTWR", help="reward normaliser: lb, best, or a rule name (default LTWR)")
    p.add_argument("--no-rule-features", action="store_true", help="observe only the marking and temporal features")
    p.add_argument("--envs", type=int, default=HHTrainConfig.num_envs)
    p.add_argument("--lr", type=float, default=HHTrainConfig.lr)
    p.add_argument("--ent-coef", type=float, default=HHTrainConfig.ent_coef)
    p.add_argument("--gae-lambda", type=float, default=HHTrainConfig.gae_lambda)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", help="run checkpoint (default runs/hh_JxM_xC.msgpack)")
    p.add_argument("--policy-out", help="policy file to write (default runs/hh_JxM_xC.policy.msgpack)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--curves", help="write the training curves (JSON) here")


def parse_size(size: str) -> tuple[int, int]:
    try:
        j, m = (int(x) for x in size.lower().split("x"))
    except ValueError:
        raise JSchedError(f"--size must look like 15x15, got {size!r}") from None
    if j < 1 or m < 1:
        raise JSchedError(f"--size must be positive, got {size!r}")
    return j, m


def run(args: argparse.Namespace) -> int:
    """``jsched train hh``: train, checkpoint, write the policy and (optionally) curves."""
    from jsched.schedule import write_json_atomic

    j, m = parse_size(args.size)
    cfg = HHTrainConfig(n_jobs=j, n_machines=m, commitment=args.commitment, steps=args.steps,
                        instances=args.instances, reference=args.reference,
                        rule_features=not args.no_rule_features, num_envs=args.envs, lr=args.lr, ent_coef=args.ent_coef, gae_lambda=args.gae_lambda,
                        seed=args.seed)
    stem = os.path.join("runs", f"hh_{j}x{m}_x{args.commitment}")
    ckpt = args.checkpoint or stem + ".msgpack"
    pol = args.policy_out or stem + ".policy.msgpack"
    curves = train_hh(cfg, ckpt, pol, resume=args.resume)
    if args.curves:
        write_json_atomic(args.curves, curves)
    print(json.dumps({"checkpoint": ckpt, "policy": pol, "updates": curves["update"][-1],
                      "final_return": curves["episode_return"][-1], "seconds": round(curves["seconds"][-1], 1)}))
    return 0
