"""Training of the L-RHO fixing network (``jsched train lrho``).

Entry point for the shared ``jsched train`` command: :func:`train_lrho` (and
:func:`add_arguments` / :func:`main` for its argparse wiring).

Data: oracle datasets from ``jsched rho collect`` (``jsched.rho.collect``). The split is by
instance (the last ``val_fraction`` of instances validate). Features are standardised with the
train split's mean/std (stored in the checkpoint). Optimiser: Adam (the code: lr 1e-4, 200
epochs, batch 64, positive weight 0.5 in the BCE); one jitted update per minibatch, a tqdm bar
over epochs, an explicit seed, and resume from ``OUT.state.msgpack`` (written every epoch).
The checkpoint kept is the epoch with the best validation accuracy (the code evaluates a fixed
epoch, 120, which needs a validation run anyway to pick).
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from jsched.errors import CheckpointError, JSchedError
from jsched.rho.collect import load_dataset, merge_datasets
from jsched.rho.net import LRHONet, NetConfig, feature_stats, normalise, save_checkpoint, weighted_bce


def _split(arrays: dict, val_fraction: float) -> tuple[dict, dict]:
    inst = arrays["instance"]
    ids = np.unique(inst)
    n_val = int(round(val_fraction * len(ids))) if len(ids) > 1 else 0
    val_ids = ids[len(ids) - n_val :]
    is_val = np.isin(inst, val_ids)
    return ({k: v[~is_val] for k, v in arrays.items()}, {k: v[is_val] for k, v in arrays.items()})


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


def train_lrho(
    datasets: list[str],
    out: str,
    *,
    epochs: int = 200,
    batch_size: int = 64,
    lr: float = 1e-4,
    pos_weight: float = 0.5,
    hidden: int = 64,
    seed: int = 0,
    val_fraction: float = 0.1,
    resume: bool = True,
    progress: bool = True,
) -> dict:
    """Train the network on oracle datasets and write the best checkpoint to ``out``.

    Returns a dict with the validation metrics of the saved epoch, the epoch, losses, the
    number of train/validation samples and the wall time.
    """
    from tqdm import trange

    if not datasets:
        raise JSchedError("no dataset given")
    arrays, meta = merge_datasets([load_dataset(p) for p in datasets])
    train, val = _split(arrays, val_fraction)
    if len(train["labels"]) == 0:
        raise JSchedError("empty training split")
    norm = feature_stats(train)
    cfg = NetConfig(hidden=hidden)
    net = LRHONet(hidden)
    key = jax.random.PRNGKey(seed)
    tx = optax.adam(lr)

    def loss_fn(params, b):
        logits = net.apply({"params": params}, *normalise(b, norm))
        return weighted_bce(logits, b["labels"], b["overlap"] & b["op_mask"], pos_weight)

    @jax.jit
    def update(params, opt_state, b):
        loss, g = jax.value_and_grad(loss_fn)(params, b)
        upd, opt_state = tx.update(g, opt_state, params)
        return optax.apply_updates(params, upd), opt_state, loss

    @jax.jit
    def predict(params, b):
        return jax.nn.sigmoid(net.apply({"params": params}, *normalise(b, norm)))

    keys = ("op_x", "op_mask", "m_x", "m_mask", "prev_m", "labels", "overlap")
    tr = {k: jnp.asarray(train[k]) for k in keys}
    va = {k: jnp.asarray(val[k]) for k in keys} if len(val["labels"]) else tr
    params = net.init(key, *[x[:1] for x in normalise({k: tr[k] for k in keys}, norm)])["params"]
    opt_state = tx.init(params)
    state_path = out + ".state.msgpack"
    start_epoch, best = 0, {"accuracy": -1.0}
    if resume and os.path.exists(state_path):
        try:
            with open(state_path, "rb") as fh:
                st = serialization.msgpack_restore(fh.read())
            params = serialization.from_state_dict(params, st["params"])
            opt_state = serialization.from_state_dict(opt_state, st["opt_state"])
            start_epoch = int(st["epoch"])
            best = {"accuracy": float(st["best_accuracy"])}
        except Exception as e:
            raise CheckpointError(f"{state_path}: cannot resume ({type(e).__name__}); delete it to restart") from None
    n = len(train["labels"])
    rng = np.random.default_rng([seed, start_epoch])
    t0 = time.perf_counter()
    losses = []
    bar = trange(start_epoch, epochs, desc="train lrho", disable=not progress)
    for epoch in bar:
        perm = rng.permutation(n)
        ep_loss = []
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            if len(idx) < batch_size and n >= batch_size:  # fixed shapes: one compile
                idx = np.concatenate([idx, perm[: batch_size - len(idx)]])
            b = {k: v[idx] for k, v in tr.items()}
            params, opt_state, loss = update(params, opt_state, b)
            ep_loss.append(float(loss))
        losses.append(float(np.mean(ep_loss)))
        prob = np.asarray(predict(params, va))
        m = label_metrics(prob, np.asarray(va["labels"]), np.asarray(va["overlap"] & va["op_mask"]))
        bar.set_postfix(loss=f"{losses[-1]:.4f}", val_acc=f"{m['accuracy']:.3f}")
        if m["accuracy"] > best["accuracy"]:
            best = {**m, "epoch": epoch + 1}
            save_checkpoint(
                out,
                params,
                norm,
                cfg,
                extra={"setting": meta["setting"], "rho": meta["config"], "epoch": epoch + 1, "val": m},
            )
        st = {
            "epoch": epoch + 1,
            "best_accuracy": best["accuracy"],
            "params": serialization.to_state_dict(params),
            "opt_state": serialization.to_state_dict(opt_state),
        }
        tmp = state_path + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(serialization.msgpack_serialize(jax.tree_util.tree_map(np.asarray, st)))
        os.replace(tmp, state_path)
    return {
        "best": best,
        "losses": losses,
        "n_train": int(n),
        "n_val": int(len(val["labels"])),
        "seconds": time.perf_counter() - t0,
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``jsched train lrho``."""
    p.add_argument("datasets", nargs="+", help="oracle datasets (.npz) from `jsched rho collect`")
    p.add_argument("--out", required=True, help="checkpoint path (.msgpack)")
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--pos-weight", type=float, default=0.5)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--no-resume", action="store_true", help="ignore OUT.state.msgpack")


def run(args: argparse.Namespace) -> int:
    """Run :func:`train_lrho` from parsed arguments; print one summary line."""
    r = train_lrho(
        args.datasets,
        args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        pos_weight=args.pos_weight,
        hidden=args.hidden,
        seed=args.seed,
        val_fraction=args.val_fraction,
        resume=not args.no_resume,
    )
    b = r["best"]
    print(
        f"lrho: saved {args.out} epoch={b.get('epoch')} val_accuracy={b['accuracy']:.3f} "
        f"keep_rate={b.get('keep_rate', float('nan')):.3f} train={r['n_train']} val={r['n_val']} "
        f"time={r['seconds']:.1f}s"
    )
    return 0
