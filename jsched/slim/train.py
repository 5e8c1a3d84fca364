"""SLIM self-labelling training (Corsini et al. 2024, Sec. 4; authors' ``train.py``).

Each step draws a batch of random Taillard-style instances of one size, samples ``beta``
solutions of each with the current model (one jitted ``vmap(vmap(scan))`` decode), keeps the
one with the smallest makespan as the pseudo-label, and minimises the cross-entropy of its
decisions, ``-(1/(|O|-1)) sum_t log p(y_t | y_<t)``, with Adam (optax). No baseline, entropy
term, clipping or dropout, as in the code.

Choices where the paper and code leave room (all in ``TrainConfig``):

* Data: generated on the fly by the shared seeded generator
  ``jsched.instances.generators.taillard_jsp`` instead of the code's fixed 30k-file set;
  durations U[lo, hi] (spec: U[1, 99]; the authors' files use 5..199), machine orders random
  permutations. Instance batch of step ``s`` comes from ``np.random.default_rng([seed, s])``,
  so a resumed run sees exactly the instances and keys it would have seen.
  Data version 2: until 2026-11-25 SLIM had a private generator drawing the machine
  permutations before the durations; ``taillard_jsp`` draws durations first, so the same seed
  now gives other instances. Training checkpoints record ``data_version``; one written before
  (no ``data_version``) cannot be resumed with its original data and is refused with a
  ``CheckpointError`` (it can still be exported).
* Gradient: the label is fixed once chosen, so instead of back-propagating through all
  ``beta`` sampled rollouts (the code records logits with autograd on) the loss re-scores
  the label by teacher forcing: same gradient, a fraction of the memory.
* Batch: ``batch`` instances of one size per Adam step (the code accumulates 16, one at a time).
  Sizes cycle through ``sizes`` with a random draw per step; each size compiles once.
* Fine-tuning: ``init`` names a model checkpoint whose parameters replace the random
  initialisation (fresh Adam state, step 0, the model config must match); the path is part of
  the config, so a resumed fine-tuning run checks it like every other setting.
* Validation: a fixed random set (``val_per_size`` per size of ``val_sizes``, seed-derived),
  greedy and ``val_samples``-sampling gap to a CP-SAT upper bound found once at the start
  (``val_ref_seconds`` per instance, 2 workers, fixed seed) and stored in the checkpoint.
  The best parameters by sampling validation gap are kept, as in the code.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from jsched.errors import CheckpointError, JSchedError
from jsched.instances.generators import taillard_jsp
from jsched.instances.model import JSPInstance
from jsched.slim import checkpoint as ckpt
from jsched.slim.decode import decode, sequence_logprob
from jsched.slim.graph import SlimInstance, stack_slim_instances
from jsched.slim.model import ModelConfig, init_params

PAPER_SIZES = ((10, 10), (15, 10), (15, 15), (20, 10), (20, 15), (20, 20))
DATA_VERSION = 2  # 2: jsched.instances.generators.taillard_jsp (1: SLIM's former private generator)


@dataclass(frozen=True)
class TrainConfig:
    sizes: tuple[tuple[int, int], ...] = PAPER_SIZES  # (jobs, machines) of training instances
    beta: int = 128  # sampled solutions per instance; the best is the pseudo-label
    batch: int = 8  # instances per Adam step
    lr: float = 1e-4
    steps: int = 20_000
    seed: int = 0
    dur_low: int = 1
    dur_high: int = 99
    val_sizes: tuple[tuple[int, int], ...] = ((10, 10), (15, 15))
    val_per_size: int = 8
    val_samples: int = 32
    val_every: int = 100
    val_ref_seconds: float = 2.0
    ckpt_every: int = 25
    init: str = ""  # model checkpoint to start from ("" = random initialisation)
    model: ModelConfig = field(default_factory=ModelConfig)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["sizes"] = [list(s) for s in self.sizes]
        d["val_sizes"] = [list(s) for s in self.val_sizes]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d["sizes"] = tuple(tuple(s) for s in d["sizes"])
        d["val_sizes"] = tuple(tuple(s) for s in d["val_sizes"])
        d["model"] = ModelConfig.from_dict(d["model"])
        return cls(**d)


def training_batch(cfg: TrainConfig, step: int) -> list[JSPInstance]:
    """The instances of training step ``step`` (a pure function of the seed and the step)."""
    rng = np.random.default_rng([cfg.seed, step])
    n, m = cfg.sizes[int(rng.integers(len(cfg.sizes)))]
    return [taillard_jsp(n, m, rng, cfg.dur_low, cfg.dur_high, f"train{step}_{i}") for i in range(cfg.batch)]


def validation_set(cfg: TrainConfig) -> list[JSPInstance]:
    rng = np.random.default_rng([cfg.seed, 1_000_003])
    return [
        taillard_jsp(n, m, rng, cfg.dur_low, cfg.dur_high, f"val{n}x{m}_{i}")
        for n, m in cfg.val_sizes
        for i in range(cfg.val_per_size)
    ]


def cpsat_makespan(inst: JSPInstance, seconds: float, workers: int = 2, seed: int = 0) -> int:
    """Best makespan CP-SAT finds in ``seconds`` (a validation reference, not a bound)."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    horizon = int(inst.durations.sum())
    ends, per_machine = [], [[] for _ in range(inst.n_machines)]
    for j in range(inst.n_jobs):
        prev = None
        for k in range(inst.n_ops_per_job):
            d = int(inst.durations[j, k])
            s = m.new_int_var(0, horizon, "")
            e = m.new_int_var(0, horizon, "")
            per_machine[int(inst.machines[j, k])].append(m.new_interval_var(s, d, e, ""))
            if prev is not None:
                m.add(s >= prev)
            prev = e
        ends.append(prev)
    for ivs in per_machine:
        m.add_no_overlap(ivs)
    cmax = m.new_int_var(0, horizon, "cmax")
    m.add_max_equality(cmax, ends)
    m.minimize(cmax)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return horizon
    return int(solver.value(cmax))


@functools.lru_cache(maxsize=8)
def make_train_step(cfg: TrainConfig):
    """``train_step(params, opt_state, insts, key) -> (params, opt_state, metrics)``, jitted (cached per config)."""
    opt = optax.adam(cfg.lr)
    mcfg = cfg.model

    @jax.jit
    def train_step(params, opt_state, insts: SlimInstance, key):
        out = decode(jax.lax.stop_gradient(params), insts, key, n_samples=cfg.beta, greedy=False, cfg=mcfg)
        labels = out.best_actions  # (B, T): best of beta is the pseudo-label

        def loss_fn(p):
            ll = jax.vmap(lambda i, a: sequence_logprob(p, i, a, mcfg))(insts, labels)
            return -ll.mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        ms = out.makespans.astype(jnp.float32)
        metrics = {"loss": loss, "best_makespan": ms.min(axis=1).mean(), "mean_makespan": ms.mean()}
        return params, opt_state, metrics

    return opt, train_step


def validate_model(params, cfg: TrainConfig, val_insts: SlimInstance, refs: np.ndarray) -> dict:
    """Mean gap (%) of greedy and sampling decodes on the validation set."""
    g = decode(params, val_insts, jax.random.key(12345), n_samples=1, greedy=True, cfg=cfg.model)
    s = decode(params, val_insts, jax.random.key(12345), n_samples=cfg.val_samples, greedy=False, cfg=cfg.model)
    greedy = np.asarray(g.makespans[:, 0], np.float64)
    best = np.asarray(s.makespans.min(axis=1), np.float64)
    return {
        "val_greedy_pg": float(np.mean(100 * (greedy / refs - 1))),
        f"val_sample{cfg.val_samples}_pg": float(np.mean(100 * (best / refs - 1))),
    }


def initial_params(cfg: TrainConfig):
    """Random parameters from ``cfg.seed``, or those of the model checkpoint ``cfg.init``."""
    if not cfg.init:
        return init_params(cfg.model, jax.random.key(cfg.seed))
    params, mcfg, _ = ckpt.load_model(cfg.init)
    if mcfg != cfg.model:
        diff = [k for k, v in cfg.model.to_dict().items() if mcfg.to_dict().get(k) != v]
        raise CheckpointError(f"{cfg.init}: --init model differs from the training model in {diff}")
    return params


def _train_body(cfg, params, opt_state, step, best_params, best_val, history, refs) -> dict:
    return {
        "kind": "train",
        "data_version": DATA_VERSION,
        "model_config": json.dumps(cfg.model.to_dict()),
        "train_config": json.dumps(cfg.to_dict()),
        "step": step,
        "params": serialization.to_state_dict(params),
        "opt_state": serialization.to_state_dict(opt_state),
        "best_params": serialization.to_state_dict(best_params),
        "best_val": best_val,
        "history": json.dumps(history),
        "val_refs": np.asarray(refs, np.int64),
    }


def train(cfg: TrainConfig, out: str | Path, *, resume: bool = True, max_minutes: float | None = None, progress: bool = True) -> dict:
    """Self-labelling training; writes a resumable training checkpoint to ``out``.

    Args:
        cfg: the training configuration (stored in the checkpoint).
        out: checkpoint path; if it exists and ``resume``, training continues from it (its
            config must equal ``cfg``), with the same data and keys an uninterrupted run uses.
        max_minutes: stop (and save) after this wall time.
        progress: show a tqdm bar.

    Returns:
        ``{"step", "best_val", "history"}``: ``best_val`` is the best sampling validation gap,
        ``history`` lists the validation records.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    opt, train_step = make_train_step(cfg)
    val = validation_set(cfg)
    val_insts = stack_slim_instances(val)
    if resume and out.exists():
        body = ckpt.read(out)
        if body.get("kind") != "train":
            raise CheckpointError(f"{out}: not a training checkpoint (kind {body.get('kind')!r})")
        saved = TrainConfig.from_dict(json.loads(body["train_config"]))
        if saved != cfg:
            diff = [k for k, v in cfg.to_dict().items() if saved.to_dict().get(k) != v]
            raise CheckpointError(f"{out}: training config differs from the checkpoint's in {diff}; use another --out")
        template = ckpt.param_template(cfg.model)
        params = ckpt.restore_params(out, template, body["params"])
        best_params = ckpt.restore_params(out, template, body["best_params"])
        opt_state = serialization.from_state_dict(jax.eval_shape(opt.init, template), body["opt_state"])
        step, best_val = int(body["step"]), float(body["best_val"])
        version = int(body.get("data_version", 1))
        if version != DATA_VERSION and step < cfg.steps:
            raise CheckpointError(
                f"{out}: written with training data version {version} (this jsched generates version {DATA_VERSION}: "
                "the shared Taillard generator draws other instances), so it cannot be resumed with the same data; "
                "export it (jsched.slim.train.export_model) or train into another --out"
            )
        history, refs = json.loads(body["history"]), np.asarray(body["val_refs"], np.float64)
    else:
        params = initial_params(cfg)
        best_params, opt_state, step, best_val, history = params, opt.init(params), 0, float("inf"), []
        refs = np.array([cpsat_makespan(i, cfg.val_ref_seconds) for i in val], np.float64)
        if cfg.init:  # the starting point competes for "best": fine-tuning never exports a worse model
            history.append({"step": 0, "time": time.time(), **validate_model(params, cfg, val_insts, refs)})
            best_val = history[-1][f"val_sample{cfg.val_samples}_pg"]

    def save():
        ckpt.save(out, _train_body(cfg, params, opt_state, step, best_params, best_val, history, refs))

    def on_term(signum, frame):
        raise KeyboardInterrupt

    try:  # SIGTERM (e.g. a job scheduler's kill) saves like Ctrl-C; only possible in the main thread
        old = signal.signal(signal.SIGTERM, on_term)
    except ValueError:
        old = None
    t_end = None if max_minutes is None else time.monotonic() + 60 * max_minutes
    bar = tqdm(total=cfg.steps, initial=step, disable=not progress, desc="slim train", dynamic_ncols=True)
    root = jax.random.key(cfg.seed)
    try:
        while step < cfg.steps and (t_end is None or time.monotonic() < t_end):
            insts = stack_slim_instances(training_batch(cfg, step))
            new = train_step(params, opt_state, insts, jax.random.fold_in(root, step))
            # One tuple store (no signal check inside it): a kill never splits params from step.
            params, opt_state, m, step = *new, step + 1
            bar.update(1)
            post = {k: float(v) for k, v in m.items()}
            if step % cfg.val_every == 0 or step == cfg.steps:
                rec = {"step": step, "time": time.time(), **post, **validate_model(params, cfg, val_insts, refs)}
                history.append(rec)
                score = rec[f"val_sample{cfg.val_samples}_pg"]
                if score < best_val:
                    best_val, best_params = score, params
                bar.write(json.dumps(rec))
                save()
            elif step % cfg.ckpt_every == 0:
                save()
            bar.set_postfix(loss=f"{post['loss']:.3f}", best_val=f"{best_val:.2f}")
        save()
    except KeyboardInterrupt:
        save()
        raise
    finally:
        bar.close()
        if old is not None:
            signal.signal(signal.SIGTERM, old)
    return {"step": step, "best_val": best_val, "history": history}


def export_model(train_ckpt: str | Path, out: str | Path, which: str = "best") -> None:
    """Write the ``best`` (by validation) or ``last`` parameters of a training checkpoint as a model checkpoint."""
    body = ckpt.read(train_ckpt)
    if which not in ("best", "last") or body.get("kind") != "train":
        raise CheckpointError(f"{train_ckpt}: cannot export {which!r} parameters (kind {body.get('kind')!r})")
    cfg = ckpt.model_config_of(train_ckpt, body)
    tree = body["best_params" if which == "best" else "params"]
    params = ckpt.restore_params(train_ckpt, ckpt.param_template(cfg), tree)
    meta = {
        "train_config": json.loads(body["train_config"]),
        "steps": int(body["step"]),
        "exported": which,
        "history": json.loads(body["history"]),
    }
    ckpt.save_model(out, params, cfg, meta)


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    try:
        return tuple(tuple(int(v) for v in s.lower().split("x")) for s in text.split(","))
    except ValueError:
        raise JSchedError(f"--sizes: expected e.g. 10x10,15x15, got {text!r}") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``jsched train slim``."""
    d = TrainConfig()
    p.add_argument("--sizes", default=",".join(f"{n}x{m}" for n, m in d.sizes), help="training sizes JOBSxMACHINES")
    p.add_argument("--beta", type=int, default=d.beta, help="sampled solutions per instance")
    p.add_argument("--batch", type=int, default=d.batch, help="instances per Adam step")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--val-every", type=int, default=d.val_every)
    p.add_argument("--val-sizes", default=",".join(f"{n}x{m}" for n, m in d.val_sizes))
    p.add_argument("--val-per-size", type=int, default=d.val_per_size)
    p.add_argument("--val-samples", type=int, default=d.val_samples, help="samples per validation instance (best of them is scored)")
    m = ModelConfig()
    for name in ("gat_hidden", "gat_heads", "embed", "mem_hidden", "mem_heads", "mem_size", "clf_size"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(m, name), help="model size (default: the authors' code)")
    p.add_argument("--init", default="", help="start from this model checkpoint's parameters (fine-tuning)")
    p.add_argument("--max-minutes", type=float, default=None, help="stop and save after this wall time")
    p.add_argument("--out", required=True, help="training checkpoint (resumed if it exists)")
    p.add_argument("--export", help="also write the best parameters as a model checkpoint here")
    p.add_argument("--export-which", choices=("best", "last"), default="best")
    p.add_argument("--no-progress", action="store_true")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The ``TrainConfig`` that ``jsched train slim``'s options describe."""
    return TrainConfig(
        sizes=_sizes(args.sizes), beta=args.beta, batch=args.batch, lr=args.lr, steps=args.steps,
        seed=args.seed, init=args.init, val_every=args.val_every, val_sizes=_sizes(args.val_sizes), val_per_size=args.val_per_size,
        val_samples=args.val_samples,
        model=ModelConfig(
            gat_hidden=args.gat_hidden, gat_heads=args.gat_heads, embed=args.embed, mem_hidden=args.mem_hidden,
            mem_heads=args.mem_heads, mem_size=args.mem_size, clf_size=args.clf_size,
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``jsched train slim``."""
    cfg = config_from_args(args)
    res = train(cfg, args.out, max_minutes=args.max_minutes, progress=not args.no_progress)
    if args.export:
        export_model(args.out, args.export, args.export_which)
    print(f"slim train: step={res['step']} best_val_sample_pg={res['best_val']:.2f} out={args.out}")
    return 0
