"""Training of the L-RHO fixing network on oracle datasets (``jsched train lrho``).

One update is one epoch of Adam minibatches on the weighted BCE; the model exported is the epoch
with the best validation accuracy (the last ``val_fraction`` of instances validate).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from jsched.errors import JSchedError
from jsched.options import option
from jsched.training import RunConfig, run_training


@dataclass(frozen=True)
class TrainConfig(RunConfig):
    """Options of ``jsched train lrho``."""

    dataset: str | None = option(None, "oracle dataset(s) from `jsched rho collect` (.npz; several: comma-separated)")
    epochs: int = option(200, "training epochs", min=1)
    batch_size: int = option(64, "windows per minibatch", min=1)
    lr: float = option(1e-4, "Adam learning rate", min=0)
    pos_weight: float = option(0.5, "BCE weight of the 'keep' class", min=0)
    hidden: int = option(64, "network width", min=1)
    val_fraction: float = option(0.1, "fraction of the instances held out for validation", min=0, max=1)


def train(config: TrainConfig, key) -> dict:
    """Train (or resume) in the run folder; its ``model.msgpack`` is the best validation epoch."""
    if not config.dataset:
        raise JSchedError("lrho training needs dataset=PATH (--dataset: the .npz of `jsched rho collect`)")
    return run_training(LRHOTrainer(config, key), config, key)


def label_metrics(prob: np.ndarray, labels: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> dict:
    """Accuracy, precision and recall of 'keep' predictions, and the all-keep accuracy."""
    p = prob[mask] >= threshold
    y = labels[mask] >= 0.5
    n = max(len(y), 1)
    tp = int((p & y).sum())
    return {
        "accuracy": float((p == y).sum() / n),
        "precision": float(tp / max(int(p.sum()), 1)),
        "recall": float(tp / max(int(y.sum()), 1)),
        "keep_rate": float(y.sum() / n),
        "n": int(len(y)),
    }


_KEYS = ("op_x", "op_mask", "m_x", "m_mask", "prev_m", "labels", "overlap")


class LRHOTrainer:
    """The :class:`jsched.training.Trainer` of the fixing network: an epoch per update."""

    name = "lrho"
    chunk = 1
    extendable = ("epochs",)

    def __init__(self, config: TrainConfig, key):
        import jax
        import jax.numpy as jnp
        import optax

        from jsched.rho.collect import load_dataset, merge_datasets
        from jsched.rho.features import feature_names
        from jsched.rho.net import LRHONet, NetConfig, feature_stats, normalise, weighted_bce
        from jsched.seeds import seed_of

        paths = [p.strip() for p in config.dataset.split(",") if p.strip()]
        arrays, self.data_meta = merge_datasets([load_dataset(p) for p in paths])
        train, val = _split(arrays, config.val_fraction)
        self.train_seeds = sorted({int(i) for i in train["instance"]})
        self.val_seeds = sorted({int(i) for i in val["instance"]})
        if len(train["labels"]) == 0:
            raise JSchedError(f"{config.dataset}: empty training split")
        self.total = config.epochs
        self.seed = seed_of(key)
        self.norm = feature_stats(train)
        breakdown = self.data_meta["op_features"] == list(feature_names(True)[0])  # labels collected under breakdowns
        self.net_config = NetConfig(config.hidden, train["op_x"].shape[-1], train["m_x"].shape[-1], int(breakdown))
        self.n_train, self.n_val = len(train["labels"]), len(val["labels"])
        net, norm, tx = LRHONet(config.hidden), self.norm, optax.adam(config.lr)
        tr = {k: jnp.asarray(train[k]) for k in _KEYS}
        va = {k: jnp.asarray(val[k]) for k in _KEYS} if self.n_val else tr
        self._tr, self._va = tr, va
        bs = config.batch_size
        n_batches = -(-self.n_train // bs)

        perm_key = jax.random.split(key)[1]

        def predict(params, b):
            return jax.nn.sigmoid(net.apply({"params": params}, *normalise(b, norm)))

        def loss_fn(params, b):
            logits = net.apply({"params": params}, *normalise(b, norm))
            return weighted_bce(logits, b["labels"], b["overlap"] & b["op_mask"], config.pos_weight)

        def epoch(state, tr, va):
            # A fresh permutation per epoch; the last minibatch is filled from its start (one shape).
            perm = jax.random.permutation(jax.random.fold_in(perm_key, state["epoch"]), self.n_train)
            idx = jnp.resize(perm, (n_batches * bs,)).reshape(n_batches, bs)

            def step(carry, i):
                params, opt_state = carry
                loss, g = jax.value_and_grad(loss_fn)(params, {k: v[i] for k, v in tr.items()})
                upd, opt_state = tx.update(g, opt_state, params)
                return (optax.apply_updates(params, upd), opt_state), loss

            (params, opt_state), losses = jax.lax.scan(step, (state["params"], state["opt_state"]), idx)
            mask = va["overlap"] & va["op_mask"]
            right = ((predict(params, va) >= 0.5) == (va["labels"] >= 0.5)) & mask
            acc = right.sum() / jnp.maximum(mask.sum(), 1)
            better = acc > state["best_accuracy"]
            new = {
                "params": params,
                "opt_state": opt_state,
                "best_params": jax.tree.map(lambda a, b: jnp.where(better, a, b), params, state["best_params"]),
                "best_accuracy": jnp.where(better, acc, state["best_accuracy"]),
                "best_epoch": jnp.where(better, state["epoch"] + 1, state["best_epoch"]),
                "epoch": state["epoch"] + 1,
            }
            return new, {"loss": losses.mean(), "val_accuracy": acc}

        @partial(jax.jit, static_argnums=3)
        def epochs(state, tr, va, n):
            return jax.lax.scan(lambda s, _: epoch(s, tr, va), state, None, length=n)

        self._epochs = epochs
        self._init = lambda k: net.init(jax.random.split(k)[0], *[x[:1] for x in normalise(tr, norm)])["params"]
        self._predict = jax.jit(predict)
        self._tx = tx

    def init(self, key):
        import jax.numpy as jnp

        params = self._init(key)
        return {
            "params": params,
            "opt_state": self._tx.init(params),
            "best_params": params,
            "best_accuracy": jnp.float32(-1.0),
            "best_epoch": jnp.int32(0),
            "epoch": jnp.int32(0),
        }

    def run_chunk(self, state, n: int):
        return self._epochs(state, self._tr, self._va, n)

    def export(self, state, path: str, meta: dict) -> None:
        from jsched.rho.net import save_model

        va = self._va
        prob = np.asarray(self._predict(state["best_params"], va))
        val = label_metrics(prob, np.asarray(va["labels"]), np.asarray(va["overlap"] & va["op_mask"]))
        rho = self.data_meta["config"]
        meta = {**meta, "seed": self.seed, "setting": self.data_meta["setting"], "rho": rho,
                "train_seeds": self.train_seeds, "val_seeds": self.val_seeds,
                "collect_commands": self.data_meta.get("commands", []),
                "epoch": int(state["best_epoch"]), "val": val, "n_train": self.n_train, "n_val": self.n_val}  # fmt: skip
        save_model(path, state["best_params"], self.norm, self.net_config, rho["objective"], meta)


def _split(arrays: dict, val_fraction: float) -> tuple[dict, dict]:
    """(train, validation) by instance: the last ``val_fraction`` of instances validate."""
    inst = arrays["instance"]
    ids = np.unique(inst)
    n_val = int(round(val_fraction * len(ids))) if len(ids) > 1 else 0
    is_val = np.isin(inst, ids[len(ids) - n_val :])
    return ({k: v[~is_val] for k, v in arrays.items()}, {k: v[is_val] for k, v in arrays.items()})
