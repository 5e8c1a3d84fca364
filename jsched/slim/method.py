"""``jsched solve INSTANCE --method slim [--samples N] [--checkpoint CKPT]``.

Greedy decoding with ``--samples 1`` (the default), else ``N`` sampled constructions and the
best of them (the paper's beta), all in one jitted call; the schedule goes back to ``solve``,
which validates it. Without ``--checkpoint`` the small model shipped in
``jsched/assets/slim/slim.ckpt`` is used.
"""

from __future__ import annotations

import argparse
from functools import lru_cache
from pathlib import Path

import jax
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.model import JSPInstance
from jsched.methods import SolveOutput
from jsched.schedule import Schedule
from jsched.slim.checkpoint import load_model
from jsched.slim.decode import decode
from jsched.slim.graph import stack_slim_instances

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "assets" / "slim" / "slim.ckpt"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=1, help="SLIM: 1 = greedy, N > 1 = best of N samples")
    p.add_argument("--checkpoint", default=None, help=f"SLIM model checkpoint (default: shipped {DEFAULT_CHECKPOINT.name})")


@lru_cache(maxsize=4)
def _model(path: str):
    return load_model(path)


def solve_many(instances: list[JSPInstance], samples: int = 1, checkpoint: str | None = None, seed: int = 0):
    """Decode a list of JSP instances (padded into one batch); returns (schedules, makespans (B, S))."""
    if samples < 1:
        raise JSchedError(f"--samples must be >= 1, got {samples}")
    for inst in instances:
        if not isinstance(inst, JSPInstance):
            raise JSchedError(f"slim solves JSP instances, not {type(inst).__name__} ({inst.name})")
    params, cfg, _ = _model(str(checkpoint or DEFAULT_CHECKPOINT))
    batch = stack_slim_instances(instances)
    out = decode(params, batch, jax.random.key(seed), n_samples=samples, greedy=samples == 1, cfg=cfg)
    starts = np.asarray(out.best_start)
    scheds = [
        Schedule.from_arrays(inst, starts[b, : inst.n_jobs, : inst.n_ops_per_job]) for b, inst in enumerate(instances)
    ]
    return scheds, np.asarray(out.makespans)


def solve(instance, args: argparse.Namespace) -> SolveOutput:
    samples = getattr(args, "samples", 1)
    ckpt = getattr(args, "checkpoint", None)
    (sched,), _ = solve_many([instance], samples, ckpt, getattr(args, "seed", 0))
    return SolveOutput(
        sched,
        extra={"samples": samples, "decoding": "greedy" if samples == 1 else "sampling", "checkpoint": str(ckpt or DEFAULT_CHECKPOINT)},
        summary=("samples",),
    )
