"""``jsched solve FILE.fjs --method daniel``: the PPO-trained DANIEL policy, greedy or sampling.

Greedy is one argmax rollout; sampling draws ``--samples`` episodes in one batch and keeps
the best (DANIEL's test protocol uses 100).
"""

from __future__ import annotations

import os

import jax

from jsched.dfmeta import daniel
from jsched.methods import SolveOutput
from jsched.rollout import best_schedules, rollout

POLICY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets", "daniel", "daniel_sd2_10x5.msgpack")


def add_arguments(p) -> None:
    p.add_argument("--mode", choices=("greedy", "sample"), default="greedy")
    p.add_argument("--samples", type=int, default=100, help="episodes in sampling mode (default %(default)s)")
    p.add_argument("--policy", default=POLICY, help="DANIEL checkpoint (default: shipped)")


def solve(instance, args) -> SolveOutput:
    from jsched.dfmeta.train_policy import DANIEL_ENV, load_policy

    params = load_policy(args.policy)
    n = 1 if args.mode == "greedy" else max(1, args.samples)
    res = rollout(daniel.policy, params, DANIEL_ENV, [instance], jax.random.key(args.seed), args.mode, n)
    return SolveOutput(best_schedules([instance], res)[0], {"mode": args.mode, "samples": n}, summary=("mode",))
