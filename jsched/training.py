"""The one training driver: chunks of updates, a progress bar, an atomic checkpoint per chunk,
``resume``, a wall-time budget and a JSON metrics log.

A trainer keeps only what is its own (loss, batch, evaluation) behind the :class:`Trainer`
protocol; :func:`run_training` does the rest, the same way for every method. A run lives in one
folder (``out``): ``checkpoint.msgpack`` (the whole training state, kind ``<name>-train``),
``metrics.json`` (a row per update) and ``model.msgpack`` (what ``jsched solve`` loads,
re-exported after every chunk, so an interrupted run still leaves a usable model). The run's
start, resume, early stop and end go to the ``jsched.training`` logger (the progress bar stays).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from jsched.checkpoint import load_checkpoint, save_checkpoint
from jsched.errors import JSchedError
from jsched.options import option

CHECKPOINT = "checkpoint.msgpack"
METRICS = "metrics.json"
MODEL = "model.msgpack"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunConfig:
    """The options every ``TrainConfig`` inherits (one name and default for each)."""

    out: str | None = option(None, "run folder (default: runs/<method>)")
    resume: bool = option(False, "continue the run in the run folder from its last checkpoint")
    overwrite: bool = option(False, "replace an existing run in the run folder")
    max_minutes: float | None = option(None, "stop after the chunk that passes this wall time (then --resume)", min=0)
    progress: bool = option(True, "show a progress bar")


class Trainer(Protocol):
    """What a method's trainer provides to :func:`run_training`."""

    name: str  # the method; the run checkpoint's kind is f"{name}-train"
    total: int  # updates in the whole run
    chunk: int  # updates per chunk (one jitted call, one checkpoint, one bar tick)
    extendable: tuple[str, ...]  # config fields a resumed run may change (e.g. the total steps)

    def init(self, key) -> Any:
        """The initial training state (a pytree of arrays; it is what the checkpoint stores)."""

    def run_chunk(self, state: Any, n: int) -> tuple[Any, dict[str, Any]]:
        """``n`` updates; returns the new state and metrics, each an array of ``n`` values or a scalar."""

    def export(self, state: Any, path: str, meta: dict) -> None:
        """Write the model that ``solve`` loads (``meta``: the run's record)."""


def run_dir(config: RunConfig, name: str) -> str:
    return config.out or os.path.join("runs", name)


def run_training(trainer: Trainer, config: Any, key) -> dict:
    """Train (or resume) to ``trainer.total`` updates or ``config.max_minutes``; returns a summary
    (run folder, model path, updates done, seconds, last metrics, whether it stopped early)."""
    from tqdm import tqdm

    from jsched.schedule import write_json_atomic

    folder = run_dir(config, trainer.name)
    ckpt, log, model = (os.path.join(folder, f) for f in (CHECKPOINT, METRICS, MODEL))
    kind = f"{trainer.name}-train"
    from jsched.seeds import seed_of

    stored_cfg = {**_config_dict(config), "seed": seed_of(key)}  # a resume must use the same seed
    if os.path.exists(ckpt) and not (config.resume or config.overwrite):
        raise JSchedError(f"{folder}: a run exists here; pass resume=True (--resume) or overwrite=True (--overwrite)")
    if config.resume and not os.path.exists(ckpt):
        raise JSchedError(f"{ckpt}: nothing to resume")
    os.makedirs(folder, exist_ok=True)
    state = trainer.init(key)
    done, metrics, seconds = 0, [], 0.0
    if config.resume:
        want = dict(stored_cfg)
        got = load_checkpoint(ckpt, kind).config
        for k in trainer.extendable:
            want[k] = got.get(k)
        cp = load_checkpoint(ckpt, kind, template=state, config=want)
        state, done, metrics, seconds = cp.tree, int(cp.meta["done"]), cp.meta["metrics"], float(cp.meta["seconds"])
        logger.info("%s: resuming %s at update %d of %d", trainer.name, folder, done, trainer.total)
    else:
        logger.info("%s: training %d updates in %s", trainer.name, trainer.total, folder)
    t0 = time.perf_counter() - seconds
    budget = math.inf if config.max_minutes is None else 60.0 * config.max_minutes
    stopped = False
    with tqdm(total=trainer.total, initial=done, desc=trainer.name, unit="upd", disable=not config.progress) as bar:
        while done < trainer.total:
            if time.perf_counter() - t0 - seconds >= budget:
                stopped = True
                break
            n = min(trainer.chunk, trainer.total - done)
            state, m = trainer.run_chunk(state, n)
            metrics += _rows(m, n, done)
            done += n
            meta = {"done": done, "total": trainer.total, "seconds": time.perf_counter() - t0, "metrics": metrics}
            save_checkpoint(ckpt, kind, state, stored_cfg, meta)
            write_json_atomic(log, metrics)
            trainer.export(state, model, {"config": stored_cfg, "updates": done, "seconds": meta["seconds"]})
            bar.set_postfix({k: f"{v:.4g}" for k, v in metrics[-1].items() if isinstance(v, float)}, refresh=False)
            bar.update(n)
            logger.debug("%s: update %d of %d, checkpoint written", trainer.name, done, trainer.total)
    elapsed = time.perf_counter() - t0
    if stopped:
        logger.info("%s: stopped at update %d of %d (max_minutes); resume to continue",
                    trainer.name, done, trainer.total)  # fmt: skip
    else:
        logger.info("%s: %d updates done in %.1f s; model %s", trainer.name, done, elapsed, model)
    return {"out": folder, "checkpoint": ckpt, "model": model, "metrics": log, "updates": done, "total": trainer.total,
            "seconds": round(elapsed, 1), "stopped_early": stopped,
            "last": metrics[-1] if metrics else {}}  # fmt: skip


def _config_dict(config: Any) -> dict:
    """The stored config: every field but the driver's own (they may change between resumes)."""
    driver = {f.name for f in dataclasses.fields(RunConfig)}
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in driver}


def _rows(m: dict[str, Any], n: int, done: int) -> list[dict]:
    """A metrics row per update: ``update`` plus each metric (NaN -> None, so the JSON is valid)."""
    rows = [{"update": done + i + 1} for i in range(n)]
    for k, v in m.items():
        a = np.asarray(v, dtype=np.float64).ravel()
        vals = a if a.size == n else np.full(n, a[-1] if a.size else np.nan)
        for r, x in zip(rows, vals):
            r[k] = None if not math.isfinite(x) else float(x)
    return rows
