"""``jsched bench [--quick] [--json FILE]``: env and rollout throughput, every contender in one run.

The measurements are :mod:`jsched.throughput` (imported only when the command runs: it imports
jax after setting its ``XLA_FLAGS`` default).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from jsched.options import add_flags, make_config, option, options_from_args


@dataclass(frozen=True)
class BenchConfig:
    quick: bool = option(False, "a quick run (2 repeats, batches 1 and 1024, fewer Python episodes, MLP h32)")
    repeats: int = option(5, "timed runs per row (the best is kept)", min=1)
    batches: str = option("1,64,1024", "batch sizes of the env rows")
    unroll: int = option(4, "scan unroll of the hand-specialised loop (a)", min=1)
    python_episodes: int = option(200, "episodes of the plain Python env (b)", min=1)
    jumanji_batch: int = option(1024, "batch of Jumanji's JobShop (d)", min=1)
    mlp_batches: str = option("1,64", "batch sizes of the MLP rows (e)")
    mlp_hidden: str = option("32,64", "hidden widths of the MLP (two layers each)")
    json: str | None = option(None, "write the rows and ratios as JSON here")


QUICK = {"repeats": 2, "batches": "1,1024", "python_episodes": 50, "jumanji_batch": 256, "mlp_hidden": "32"}


def register(sub) -> None:
    p = sub.add_parser("bench", help="throughput of the jitted env, jsched.rollout, a fused MLP, numpy, Python "
                                     "and Jumanji (when installed), side by side with ratios")  # fmt: skip
    add_flags(p, BenchConfig)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import jsched.throughput as t

    config = make_config(BenchConfig, options_from_args(BenchConfig, args), "jsched bench")
    t.run(config, command="jsched " + " ".join(sys.argv[1:]))
    return 0
