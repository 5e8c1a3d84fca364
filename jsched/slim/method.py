"""SLIM on the JSP: greedy decoding (``samples=0``) or the best of ``samples`` sampled constructions.

The model is ``checkpoint`` (a ``slim-model`` file, or a DF-Meta SLIM theta_0) or the one shipped in
``jsched/assets/slim/slim.ckpt``. ``evaluate`` decodes the instances of one shape in one jitted
call; each instance gets the key a lone ``solve`` gives it, so both return the same schedules.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.model import JSPInstance
from jsched.options import option
from jsched.result import Result
from jsched.schedule import Schedule
from jsched.slim.decode import decode
from jsched.slim.graph import stack_slim_instances
from jsched.slim.model import MODEL_KIND, load_model
from jsched.slim.train import TrainConfig, train  # noqa: F401  (the registry's train verb)

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "assets" / "slim" / "slim.ckpt"
MODEL_KINDS = (MODEL_KIND, "dfmeta-theta0")  # a DF-Meta theta_0 is a SLIM network too


@dataclass(frozen=True)
class Config:
    samples: int = option(0, "sampled constructions, the best kept; 0 = greedy decoding", min=0)
    checkpoint: str | None = option(None, "SLIM model file (default: the shipped slim.ckpt)")


def solve(instance: JSPInstance, config: Config, key: jax.Array) -> Result:
    """One instance (greedy, or the best of ``config.samples`` samples)."""
    return evaluate([instance], config, key)[0]


def evaluate(instances: list[JSPInstance], config: Config, key: jax.Array) -> list[Result]:
    """Every instance, those of one shape padded into one decode; results in the given order."""
    for inst in instances:
        if not isinstance(inst, JSPInstance):
            raise JSchedError(f"slim solves JSP instances, not {type(inst).__name__} ({inst.name})")
    path = os.fspath(config.checkpoint or DEFAULT_CHECKPOINT)
    params, cfg = _model(path, *_stamp(path))
    greedy = config.samples == 0
    one = jax.random.split(key, 1)  # the key decode gives a lone instance (keeps seeds' results)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, inst in enumerate(instances):
        groups[(inst.n_jobs, inst.n_ops_per_job, inst.n_machines)].append(i)
    extra = {"samples": config.samples, "decoding": "greedy" if greedy else "sampling", "checkpoint": path}
    out: list[Result | None] = [None] * len(instances)
    for idx in groups.values():
        batch = [instances[i] for i in idx]
        res = decode(params, stack_slim_instances(batch), jnp.repeat(one, len(batch)),
                     n_samples=max(config.samples, 1), greedy=greedy, cfg=cfg)  # fmt: skip
        starts = np.asarray(res.best_start)
        for b, (i, inst) in enumerate(zip(idx, batch)):
            sched = Schedule.from_arrays(inst, starts[b, : inst.n_jobs, : inst.n_ops_per_job])
            out[i] = Result(inst, sched, extra=dict(extra), summary=("samples",))
    return out


def _stamp(path: str) -> tuple[int, int]:
    """(mtime, size) of a model file, so a rewritten file (a training run's export) is reloaded."""
    try:
        st = os.stat(path)
    except OSError:
        return 0, 0  # load_model names the missing file
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=4)
def _model(path: str, mtime: int, size: int):
    params, cfg, _ = load_model(path, MODEL_KINDS)
    return params, cfg
