"""Method ``dfmeta``: DF-Meta test-time adaptation, K ES steps on the instance from a theta_0
(DANIEL on an FJSP, SLIM on a JSP) within a time limit, deployed greedily or by sampling; and the
meta-training of theta_0 (through ``jsched.training``).

No meta-trained SLIM theta_0 ships: on a JSP the default starts from the shipped SLIM model
(ES without meta-learning) unless ``checkpoint`` names a theta_0 from ``train`` with base slim.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from jsched.checkpoint import load_checkpoint, save_checkpoint
from jsched.dfmeta import daniel
from jsched.dfmeta.adapt import DEPLOY_MODES
from jsched.dfmeta.es import DFMetaConfig, es_option, merge_params, population_rollout, select_params, subset_rollout
from jsched.errors import JSchedError
from jsched.instances.model import JSPInstance
from jsched.options import option
from jsched.result import Result
from jsched.training import RunConfig, run_training

ASSETS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets")
THETA0 = os.path.join(ASSETS, "dfmeta", "daniel_theta0.msgpack")
SLIM_THETA0 = os.path.join(ASSETS, "slim", "slim.ckpt")
KIND = "dfmeta-theta0"
BASES = ("auto", "daniel", "slim")


@dataclass(frozen=True)
class ESOptions:
    """The inner ES's options of meta-training (defaults: ``DFMetaConfig``)."""

    K: int = es_option("K")
    mu: int = es_option("mu")
    L: int = es_option("L")
    sigma: float = es_option("sigma")
    inner_lr: float = es_option("inner_lr")
    adapt_params: str = es_option("adapt_params")
    chunk: int = es_option("chunk")


TUNED = ("K", "mu", "L", "sigma", "inner_lr", "adapt_params", "estimator")  # the inner step theta_0 was trained for


def _deferred(name: str) -> Any:
    """A solve option that may stay unset (None): it then follows the mode (see :class:`Config`)."""
    f = DFMetaConfig.__dataclass_fields__[name]
    other = "mc-mean; in sample mode mc-best" if name == "estimator" else repr(f.default)
    return option(None, f"{f.metadata['help']} (default: in greedy mode the value theta_0 was meta-trained with, else "
                  f"{other})", choices=f.metadata["choices"], min=f.metadata["min"], max=f.metadata["max"])  # fmt: skip


@dataclass(frozen=True)
class Config:
    """Deployment. ``mode`` sample (default) returns the best schedule of all the adaptation's
    rollouts, which a user wants from a solver; greedy returns theta^K's greedy decode, the
    paper's headline protocol (``bench/dfmeta.py`` reports both).

    Inner ES options left unset follow the mode: greedy adapts with the inner step theta_0 was
    meta-trained for (its stored config; the shipped theta_0: the output layer, greedy
    estimator, mu 20, Adam 0.1, the README's figures), sample runs the paper's wider search
    (``DFMetaConfig``'s defaults: all parameters, mu 100, L 8, MC-Best).
    """

    K: int | None = _deferred("K")
    mu: int | None = _deferred("mu")
    L: int | None = _deferred("L")
    sigma: float | None = _deferred("sigma")
    inner_lr: float | None = _deferred("inner_lr")
    adapt_params: str | None = _deferred("adapt_params")
    estimator: str | None = _deferred("estimator")
    chunk: int = es_option("chunk")
    mode: str = option("sample", "deploy theta^K: sample (best schedule of all rollouts) or greedy (theta^K's greedy decode)",
                       choices=DEPLOY_MODES)  # fmt: skip
    time_limit: float = option(40.0, "seconds for the adaptation, compilation included (its first call always "
                               "runs); at the limit it deploys the last completed ES step", min=0)  # fmt: skip
    base: str = option("auto", "base policy: auto (SLIM on a JSP, DANIEL on an FJSP), daniel or slim", choices=BASES)
    checkpoint: str | None = option(None, "theta_0 file (default: the shipped DANIEL theta_0, or the shipped SLIM model)")

    def __post_init__(self):
        self.es()  # the ES's cross-field checks (mu even, ...)

    def es(self, trained: dict | None = None) -> DFMetaConfig:
        """The inner ES: the options set here; unset ones from ``trained`` (theta_0's meta-training
        config) in greedy mode, else ``DFMetaConfig``'s defaults (estimator: mc-mean in greedy mode)."""
        base = {}
        if self.mode == "greedy":
            base = {"estimator": "mc-mean", **{k: v for k, v in (trained or {}).items() if k in TUNED}}
        given = {k: getattr(self, k) for k in TUNED if getattr(self, k) is not None}
        return DFMetaConfig(**{**base, **given, "chunk": self.chunk})


def solve(instance, config: Config, key) -> Result:
    deadline = time.monotonic() + config.time_limit
    base = pick_base(instance, config.base)
    if base == "slim":
        from jsched.dfmeta import slim_policy

        path = config.checkpoint or SLIM_THETA0
        theta0, model_cfg, meta = slim_policy.load_theta0(path)
        cfg = config.es(meta.get("config"))  # a SLIM model file has none: DF-Meta's defaults
        out = slim_policy.adapt_instance(theta0, instance, cfg, key, model_cfg, config.mode, deadline)
    else:
        from jsched.dfmeta.adapt import adapt_instance

        path = config.checkpoint or THETA0
        theta0, trained, _ = load_theta0(path)
        if trained.get("meta") == "fomaml":
            raise JSchedError(f"{path} is a FOMAML theta_0 (its adaptation is Active Search, not ES): "
                              "compare it with python bench/dfmeta.py --methods fomaml --fomaml PATH")  # fmt: skip
        cfg = config.es(trained)
        out = adapt_instance(daniel.policy, daniel.ENV, theta0, instance, cfg, key, config.mode, deadline)
    extra = {"base": base, "mode": config.mode, "K": cfg.K, "steps": out.steps, "mu": cfg.mu, "L": cfg.L,
             "sigma": cfg.sigma, "inner_lr": cfg.inner_lr, "adapt_params": cfg.adapt_params, "estimator": cfg.estimator,
             "rollouts": out.rollouts, "curve": out.curve, "theta0": os.path.basename(path)}  # fmt: skip
    return Result(instance, out.schedule, extra=extra, summary=("base", "mode", "steps", "rollouts"))


def pick_base(instance, base: str) -> str:
    """The base policy ``base`` names, ``auto`` resolved from the instance kind; checks the match."""
    is_jsp = isinstance(instance, JSPInstance)
    if base == "auto":
        return "slim" if is_jsp else "daniel"
    if base == "slim" and not is_jsp:
        raise JSchedError(f"base slim solves JSP instances; {instance.name} is an FJSP (use base daniel)")
    return base


def load_theta0(path: str = THETA0) -> tuple[Any, dict, dict]:
    """A DANIEL theta_0 (``dfmeta-theta0``): (variables, meta-training config, meta)."""
    cp = load_checkpoint(path, KIND, template=daniel.init_params(jax.random.key(0)))
    return jax.tree.map(jax.numpy.asarray, cp.tree), cp.config, cp.meta


def _es_config(cfg: TrainConfig) -> DFMetaConfig:
    """The DFMetaConfig of a TrainConfig (its ES fields; the rest keep their defaults)."""
    names = DFMetaConfig.__dataclass_fields__
    return DFMetaConfig(**{k: v for k, v in vars(cfg).items() if k in names})


# ---------------------------------------------------------------------------------------------
# Meta-training of theta_0


DATA = {"daniel": ("sd2", "sd1"), "slim": ("taillard",)}  # first: the base's default
META = ("es", "fomaml")


@dataclass(frozen=True)
class TrainConfig(ESOptions, RunConfig):
    """First-order DF-Meta meta-training from a trained policy. Each meta step draws B instances
    from a pool (numpy Generator seeded by (seed, step), so a resumed run draws the same
    batches) and costs B * (K + 1) * mu * L rollouts (``meta fomaml``: B * (K + 1) * mu with
    backpropagation). Base daniel: SD1/SD2 FJSP instances;
    base slim: Taillard-style JSP instances, theta_0 saved as a SLIM model file (which
    ``--method slim --checkpoint`` also reads)."""

    base: str = option("daniel", "policy meta-trained: daniel (FJSP) or slim (JSP)", choices=("daniel", "slim"))
    meta: str = option("es", "meta-learner: es (DF-Meta) or fomaml (the gradient baseline: K Active Search steps of mu "
                       "rollouts inside, Adam inner_lr; base daniel, all parameters)", choices=META)  # fmt: skip
    init: str | None = option(None, "theta_0 at step 0: a DANIEL or SLIM model file (default: the shipped one)")
    data: str | None = option(None, "instance generator (default: sd2 for daniel, taillard for slim)",
                              choices=("sd1", "sd2", "taillard"))  # fmt: skip
    jobs: int = option(10, "jobs per training instance", min=1)
    machines: int = option(5, "machines per training instance", min=1)
    steps: int = option(200, "meta steps (mini-batches)", min=1)
    pool: int = option(1000, "pre-generated training instances (seed 400 + seed)", min=1)
    save_every: int = option(5, "meta steps between checkpoints (one chunk)", min=1)
    estimator: str = es_option("estimator")
    B: int = es_option("B")
    outer_lr: float = es_option("outer_lr")

    def __post_init__(self):
        if self.data is not None and self.data not in DATA[self.base]:
            raise JSchedError(f"data {self.data} does not suit base {self.base}: choose {', '.join(DATA[self.base])}")
        if self.meta not in META:
            raise JSchedError(f"meta {self.meta!r}: choose one of {', '.join(META)}")
        if self.meta == "fomaml" and (self.base != "daniel" or self.adapt_params):
            raise JSchedError("meta fomaml trains all parameters of base daniel (no slim base, no adapt_params)")
        _es_config(self)


def train(config: TrainConfig, key) -> dict:
    """Meta-train theta_0; the run folder's ``model.msgpack`` is theta_0 (``dfmeta --checkpoint``)."""
    trainer = _FOMAMLTrainer if config.meta == "fomaml" else _MetaTrainer
    return run_training(trainer(config, key), config, key)


class _MetaTrainer:
    """DF-Meta's first-order ES meta-learner (:func:`jsched.dfmeta.es.make_meta_learner`)."""

    name = "dfmeta"
    extendable = ("steps", "chunk")  # chunk changes speed, not results

    def __init__(self, cfg: TrainConfig, key):
        from jsched.seeds import seed_of

        self.cfg, self.es = cfg, _es_config(cfg)
        self.key = jax.random.key_data(key)
        self.seed = seed_of(key)
        data = cfg.data or DATA[cfg.base][0]
        if cfg.base == "slim":
            from jsched.dfmeta import slim_policy
            from jsched.instances.generators import taillard_jsp
            from jsched.slim.graph import stack_slim_instances

            self.theta, self.model_cfg, _ = slim_policy.load_theta0(cfg.init or SLIM_THETA0)
            rng = np.random.default_rng(400 + self.seed)
            self.pool = stack_slim_instances([taillard_jsp(cfg.jobs, cfg.machines, rng) for _ in range(cfg.pool)])
            rollout = population_rollout(self.es, slim_policy.make_rollout(self.model_cfg),
                                         slim_policy.make_rollout(self.model_cfg, True))  # fmt: skip
        else:
            from jsched.dfmeta.adapt import policy_rollout
            from jsched.dfmeta.daniel_method import MODEL, load_model, make_instances
            from jsched.instances.arrays import stack_fjsp_params

            self.theta = load_model(cfg.init or MODEL)
            self.pool = stack_fjsp_params(make_instances(data, cfg.pool, cfg.jobs, cfg.machines, seed=400 + self.seed))
            rollout = population_rollout(self.es, policy_rollout(daniel.policy, daniel.ENV, "sample"),
                                         policy_rollout(daniel.policy, daniel.ENV, "greedy"))  # fmt: skip
        self.total, self.chunk = cfg.steps, cfg.save_every
        self._build(rollout)

    def _build(self, rollout) -> None:
        from jsched.dfmeta.es import make_meta_learner

        self.start, self.frozen = self.theta, None
        if self.cfg.adapt_params:  # meta-learn the adapted leaves only; the frozen theta rides with each instance
            rollout = subset_rollout(rollout, self.cfg.adapt_params)
            self.start = select_params(self.theta, self.cfg.adapt_params)
            self.frozen = jax.tree.map(lambda x: jax.numpy.broadcast_to(x, (self.es.B,) + x.shape), self.theta)
        self.ml = make_meta_learner(rollout, self.es, self.start)

    def init(self, key):
        return self.ml.init(jax.random.key_data(key), self.start)

    def _batch(self, step: int):
        return _batch(self.pool, self.seed, self.es.B, step), jax.random.fold_in(self.key, step)

    def run_chunk(self, state, n: int):
        rows = []
        for _ in range(n):
            batch, key = self._batch(int(state.step))
            state, m = self.ml.step(key, state, batch if self.frozen is None else (batch, self.frozen))
            rows.append([float(m.fitness_before.mean()), float(m.fitness_after.mean()), float(m.best.mean())])
        before, after, best = np.asarray(rows).T
        return state, {"fitness_before": before, "fitness_after": after, "best": best}

    def theta0(self, state):
        theta0 = self.ml.theta0(state)
        return merge_params(self.theta, theta0, self.cfg.adapt_params) if self.cfg.adapt_params else theta0

    def export(self, state, path: str, meta: dict) -> None:
        theta0 = self.theta0(state)
        meta = {**meta, "step": int(state.step)}
        if self.cfg.base == "slim":
            from jsched.dfmeta import slim_policy

            slim_policy.save_theta0(path, theta0, self.model_cfg, meta)
        else:
            save_checkpoint(path, KIND, theta0, meta["config"], meta)


class _FOMAMLTrainer(_MetaTrainer):
    """The FOMAML baseline (:func:`jsched.dfmeta.baselines.make_fomaml`) on the same pool and batches."""

    def _build(self, rollout) -> None:
        from jsched.dfmeta.baselines import make_fomaml

        self.fomaml_init, self.fomaml_step = make_fomaml(daniel.policy, daniel.ENV, self.cfg.K, self.cfg.mu,
                                                         self.cfg.inner_lr, self.cfg.outer_lr)  # fmt: skip

    def init(self, key):
        return self.fomaml_init(self.theta)

    def run_chunk(self, state, n: int):
        costs = []
        for _ in range(n):
            batch, key = self._batch(int(state.step))
            state, cost = self.fomaml_step(key, state, batch)
            costs.append(float(cost.mean()))
        return state, {"mean_sampled_after": np.asarray(costs)}

    def theta0(self, state):
        return state.theta0


def _batch(pool, seed: int, B: int, step: int):
    rng = np.random.default_rng([seed, step])
    idx = rng.choice(jax.tree.leaves(pool)[0].shape[0], size=B, replace=False)
    return jax.tree.map(lambda x: x[idx], pool)
