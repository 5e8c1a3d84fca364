"""``jsched train dac``: train the DAC policy (PPO over MA generations) with checkpoints and resume."""

from __future__ import annotations

import argparse

from jsched.errors import JSchedError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs/dac", help="output folder (checkpoint.msgpack, policy.msgpack, train_log.json)")
    p.add_argument("--generations", type=int, default=200_000, help="PPO budget in MA generations (paper: 4,000,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.msgpack")
    p.add_argument("--envs", type=int, default=8, help="parallel MA episodes")
    p.add_argument("--steps", type=int, default=128, help="generations per env per PPO update")
    p.add_argument("--pop-size", type=int, default=250)
    p.add_argument("--episode-generations", type=int, default=100)
    p.add_argument("--sets", default="M1T1,M1T3,M3T1,M3T3", help="training sets (comma-separated; paper: all four)")
    p.add_argument("--log-std-init", type=float, default=0.0,
                   help="initial log-std of PPO's Gaussian actions (SB3/paper default 0, i.e. std 1 on [-1, 1])")
    p.add_argument("--ent-coef", type=float, default=0.0, help="PPO entropy bonus (SB3/paper default 0)")
    p.add_argument("--chunk", type=int, default=1, help="PPO updates between checkpoints")


def run(args) -> int:
    from jsched.dac.env import DACSettings
    from jsched.dac.ma import LS_STEPS
    from jsched.dac.train import TRAIN_SETS, train_dac, training_instances

    if args.generations < args.envs * args.steps:
        raise JSchedError(f"--generations must be at least --envs * --steps = {args.envs * args.steps}")
    if (args.envs * args.steps) % 64 and args.envs * args.steps > 64:
        raise JSchedError("--envs * --steps must be a multiple of the minibatch size 64")
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    if not sets or set(sets) - set(TRAIN_SETS):
        raise JSchedError(f"--sets: choose from {', '.join(TRAIN_SETS)}")
    r = train_dac(args.out, args.generations, args.seed, args.resume, args.envs, args.steps,
                  DACSettings(args.episode_generations, args.pop_size, LS_STEPS), args.chunk,
                  instances=training_instances(sets), log_std_init=args.log_std_init, ent_coef=args.ent_coef)
    last = r["log"][-1] if r["log"] else {}
    print(f"trained updates={len(r['log'])} episode_return={last.get('episode_return', float('nan')):.4f} "
          f"policy={r['policy']} checkpoint={r['checkpoint']}")
    return 0
