"""SLIM self-labelling training (Corsini et al. 2024, Sec. 4) on the one training driver.

Each step samples ``beta`` solutions of a batch of random Taillard-style instances, keeps the best
of each as its pseudo-label and takes an Adam step on the label's cross-entropy (re-scored by
teacher forcing). Each chunk of ``val_every`` steps ends with a validation; ``model.msgpack``
holds the best parameters by validation (or the last, ``export="last"``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jsched.errors import CheckpointError, JSchedError, ScheduleError
from jsched.instances.generators import taillard_jsp
from jsched.instances.model import JSPInstance
from jsched.options import option
from jsched.schedule import Schedule, validate
from jsched.seeds import seed_of
from jsched.slim.decode import decode, sequence_logprob
from jsched.slim.graph import SlimInstance, stack_slim_instances
from jsched.slim.model import ModelConfig, init_params, load_model, save_model
from jsched.training import RunConfig, run_training

VAL_KEY = 12345  # validation decodes always use the same keys, so scores compare across steps


def parse_sizes(text: str, what: str) -> tuple[tuple[int, int], ...]:
    """``"10x10,15x15"`` -> ((10, 10), (15, 15)); a malformed list is a one-line JSchedError."""
    try:
        sizes = tuple((int(n), int(m)) for n, m in (s.strip().lower().split("x") for s in text.split(",")))
    except ValueError:
        raise JSchedError(f"{what}: expected sizes like 10x10,15x15, got {text!r}") from None
    if any(n < 1 or m < 1 for n, m in sizes):
        raise JSchedError(f"{what}: jobs and machines must be >= 1, got {text!r}")
    return sizes


@dataclass(frozen=True)
class TrainConfig(RunConfig):
    sizes: str = option("10x10,15x10,15x15,20x10,20x15,20x20", "training sizes JOBSxMACHINES, one drawn per step")
    beta: int = option(128, "sampled solutions per instance; the best is the pseudo-label", min=1)
    batch: int = option(8, "instances per Adam step", min=1)
    lr: float = option(1e-4, "Adam learning rate", min=0)
    steps: int = option(20_000, "Adam steps of the whole run", min=1)
    dur_low: int = option(1, "smallest processing time of a generated instance", min=1)
    dur_high: int = option(99, "largest processing time of a generated instance", min=1)
    val_sizes: str = option("10x10,15x15", "validation sizes JOBSxMACHINES")
    val_per_size: int = option(8, "validation instances per size", min=1)
    val_samples: int = option(32, "samples per validation instance (the best is scored)", min=1)
    val_every: int = option(100, "steps between validations (and checkpoints)", min=1)
    val_ref_seconds: float = option(2.0, "CP-SAT seconds per validation instance (the reference makespans)", min=0.1)
    init: str | None = option(None, "start from this model file's parameters (fine-tuning)")
    export: str = option("best", "parameters model.msgpack holds: best by validation or last", choices=("best", "last"))
    gat_hidden: int = option(ModelConfig.gat_hidden, "per-head width of GAT layer 1", min=1)
    gat_heads: int = option(ModelConfig.gat_heads, "GAT heads", min=1)
    embed: int = option(ModelConfig.embed, "width of GAT layer 2", min=1)
    mem_hidden: int = option(ModelConfig.mem_hidden, "per-head width of the memory network's attention", min=1)
    mem_heads: int = option(ModelConfig.mem_heads, "memory network heads", min=1)
    mem_size: int = option(ModelConfig.mem_size, "memory network output width", min=1)
    clf_size: int = option(ModelConfig.clf_size, "classifier width", min=1)

    def __post_init__(self):
        parse_sizes(self.sizes, "sizes")
        parse_sizes(self.val_sizes, "val_sizes")
        if self.dur_low > self.dur_high:
            raise JSchedError(f"dur_low {self.dur_low} > dur_high {self.dur_high}")

    @property
    def model(self) -> ModelConfig:
        return ModelConfig(gat_hidden=self.gat_hidden, gat_heads=self.gat_heads, embed=self.embed,
                           mem_hidden=self.mem_hidden, mem_heads=self.mem_heads, mem_size=self.mem_size,
                           clf_size=self.clf_size)  # fmt: skip


def train(config: TrainConfig, key: jax.Array) -> dict:
    """Self-labelling training in the run folder ``config.out`` (see :func:`jsched.training.run_training`)."""
    return run_training(SlimTrainer(config), config, key)


def training_batch(cfg: TrainConfig, seed: int, step: int) -> list[JSPInstance]:
    """The instances of training step ``step``: a pure function of the seed and the step."""
    rng = np.random.default_rng([seed, step])
    sizes = parse_sizes(cfg.sizes, "sizes")
    n, m = sizes[int(rng.integers(len(sizes)))]
    return [taillard_jsp(n, m, rng, cfg.dur_low, cfg.dur_high, f"train{step}_{i}") for i in range(cfg.batch)]


def validation_set(cfg: TrainConfig, seed: int) -> list[JSPInstance]:
    rng = np.random.default_rng([seed, 1_000_003])
    return [taillard_jsp(n, m, rng, cfg.dur_low, cfg.dur_high, f"val{n}x{m}_{i}")
            for n, m in parse_sizes(cfg.val_sizes, "val_sizes") for i in range(cfg.val_per_size)]  # fmt: skip


def reference_makespan(inst: JSPInstance, seconds: float) -> int:
    """The makespan of the schedule CP-SAT finds in ``seconds`` (2 workers, seed 0), validated:
    a validation reference."""
    from jsched.cpsat import CPSatOptions, solve

    return int(solve(inst, options=CPSatOptions(time_limit=seconds, num_workers=2, random_seed=0)).schedule.makespan)


@functools.lru_cache(maxsize=8)
def make_train_step(model: ModelConfig, beta: int, lr: float):
    """``(opt, train_step)``: ``train_step(params, opt_state, insts, key) -> (params, opt_state, metrics)``, jitted."""
    opt = optax.adam(lr)

    @jax.jit
    def train_step(params, opt_state, insts: SlimInstance, key):
        keys = jax.random.split(key, insts.jsp.job_len.shape[0])
        out = decode(jax.lax.stop_gradient(params), insts, keys, n_samples=beta, greedy=False, cfg=model)
        labels = out.best_actions  # (B, T): the best of beta is the pseudo-label

        def loss_fn(p):
            return -jax.vmap(lambda i, a: sequence_logprob(p, i, a, model))(insts, labels).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        ms = out.makespans.astype(jnp.float32)
        metrics = {"loss": loss, "best_makespan": ms.min(axis=1).mean(), "mean_makespan": ms.mean()}
        return optax.apply_updates(params, updates), opt_state, metrics

    return opt, train_step


def validate_model(params, cfg: TrainConfig, instances: list[JSPInstance], refs: np.ndarray,
                   stacked: SlimInstance | None = None) -> dict:
    """Mean gap (%) to ``refs`` of greedy and best-of-``val_samples`` decodes of the validation set.

    These gaps choose the exported (and shipped) model, so every makespan in them is that of a
    schedule built from the decode's start times and passed through ``jsched.schedule.validate``
    (one greedy and one best-sampled schedule per instance). ``stacked`` is
    ``stack_slim_instances(instances)``, passed to skip re-stacking.
    """
    stacked = stack_slim_instances(instances) if stacked is None else stacked
    keys = jax.random.split(jax.random.key(VAL_KEY), len(instances))
    g = decode(params, stacked, keys, n_samples=1, greedy=True, cfg=cfg.model)
    s = decode(params, stacked, keys, n_samples=cfg.val_samples, greedy=False, cfg=cfg.model)
    greedy = validated_makespans(instances, g)
    best = validated_makespans(instances, s)
    return {
        "val_greedy_pg": float(np.mean(100 * (greedy / refs - 1))),
        f"val_sample{cfg.val_samples}_pg": float(np.mean(100 * (best / refs - 1))),
    }


def validated_makespans(instances: list[JSPInstance], out) -> np.ndarray:
    """(B,) float64 makespans of each instance's best decoded schedule, validated; a decode whose
    reported best makespan differs from its schedule's is a ScheduleError."""
    starts, reported = np.asarray(out.best_start), np.asarray(out.makespans).min(axis=1)
    ms = []
    for b, inst in enumerate(instances):
        sched = validate(inst, Schedule.from_arrays(inst, starts[b, : inst.n_jobs, : inst.n_ops_per_job]))
        if sched.makespan != reported[b]:
            raise ScheduleError(f"{inst.name}: decoded makespan {int(reported[b])}, its validated schedule's {sched.makespan}")
        ms.append(sched.makespan)
    return np.asarray(ms, np.float64)


def initial_params(cfg: TrainConfig, key: jax.Array):
    """Random parameters from ``key``, or those of the model file ``cfg.init`` (same model sizes)."""
    if not cfg.init:
        return init_params(cfg.model, key)
    params, mcfg, _ = load_model(cfg.init)
    if mcfg != cfg.model:
        diff = [k for k, v in cfg.model.to_dict().items() if mcfg.to_dict().get(k) != v]
        raise CheckpointError(f"{cfg.init}: init model differs from the training model in {', '.join(diff)}")
    return params


class SlimTrainer:
    """The self-labelling loss, batches and validation behind :func:`jsched.training.run_training`.

    The state holds the parameters, Adam's state, the best parameters by validation and their
    score, the step, the run's key and the validation references, so a resumed run draws the
    same instances and keys as an uninterrupted one.
    """

    name = "slim"
    extendable = ("steps", "export")

    def __init__(self, config: TrainConfig):
        self.config = config
        self.total, self.chunk = config.steps, config.val_every
        self.score = f"val_sample{config.val_samples}_pg"
        self.opt, self.train_step = make_train_step(config.model, config.beta, config.lr)
        self._val: dict[int, tuple[list[JSPInstance], SlimInstance]] = {}

    def _val_insts(self, seed: int) -> tuple[list[JSPInstance], SlimInstance]:
        """The validation instances of ``seed`` and their stacked arrays (built once)."""
        if seed not in self._val:
            insts = validation_set(self.config, seed)
            self._val[seed] = (insts, stack_slim_instances(insts))
        return self._val[seed]

    def init(self, key: jax.Array) -> dict:
        c, seed = self.config, seed_of(key)
        params = initial_params(c, key)
        n_val = len(parse_sizes(c.val_sizes, "val_sizes")) * c.val_per_size
        best = math.inf
        if c.resume:  # only a template: the driver restores the checkpoint's state into it
            refs = np.zeros(n_val)
        else:
            refs = np.array([reference_makespan(i, c.val_ref_seconds) for i in validation_set(c, seed)], np.float64)
            if c.init:  # the starting point competes for "best": fine-tuning never exports a worse model
                insts, stacked = self._val_insts(seed)
                best = validate_model(params, c, insts, refs, stacked)[self.score]
        return {"params": params, "opt_state": self.opt.init(params), "best_params": params,
                "best_val": np.float64(best), "step": np.int64(0), "key": np.asarray(jax.random.key_data(key)),
                "val_refs": refs}  # fmt: skip

    def run_chunk(self, state: dict, n: int) -> tuple[dict, dict]:
        c = self.config
        root = jax.random.wrap_key_data(jnp.asarray(state["key"]))
        seed, step = seed_of(root), int(state["step"])
        params, opt_state = state["params"], state["opt_state"]
        rows: dict[str, list[float]] = {"loss": [], "best_makespan": [], "mean_makespan": []}
        for _ in range(n):
            insts = stack_slim_instances(training_batch(c, seed, step))
            params, opt_state, m = self.train_step(params, opt_state, insts, jax.random.fold_in(root, step))
            step += 1
            for k in rows:
                rows[k].append(float(m[k]))
        insts, stacked = self._val_insts(seed)
        val = validate_model(params, c, insts, np.asarray(state["val_refs"], np.float64), stacked)
        best_val, best_params = float(state["best_val"]), state["best_params"]
        if val[self.score] < best_val:
            best_val, best_params = val[self.score], params
        state = {**state, "params": params, "opt_state": opt_state, "best_params": best_params,
                 "best_val": np.float64(best_val), "step": np.int64(step)}  # fmt: skip
        at_end = {k: np.r_[np.full(n - 1, np.nan), v] for k, v in {**val, "best_val": best_val}.items()}
        return state, {**{k: np.array(v) for k, v in rows.items()}, **at_end}

    def export(self, state: dict, path: str, meta: dict) -> None:
        which = self.config.export
        params = state["best_params" if which == "best" else "params"]
        save_model(path, params, self.config.model,
                   {**meta, "steps": int(state["step"]), "exported": which, "best_val": float(state["best_val"])})  # fmt: skip
