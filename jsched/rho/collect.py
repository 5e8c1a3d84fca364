"""Oracle label collection for L-RHO (``jsched rho collect``), parallel over instances.

Each generated instance runs the RHO loop with the ``oracle`` variant; every window with both
overlapping and new operations gives a sample (its features and the oracle's keep labels). The
instances run in a local process pool or as Ray tasks (the optional extra ``jsched[ray]``).
The dataset is one ``.npz`` (no pickle) with a JSON ``meta``.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import multiprocessing as mp
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jsched.atomic import atomic_path
from jsched.errors import CheckpointError, JSchedError
from jsched.options import option
from jsched.rho.generators import SETTINGS, setting_instance

if TYPE_CHECKING:
    from jsched.rho.features import WindowFeatures
    from jsched.rho.loop import RHOConfig

DATASET_VERSION = 1
BACKENDS = ("process", "ray")


def collect_instance(setting: str, seed: int, config: RHOConfig) -> tuple[list[WindowFeatures], list[np.ndarray], dict]:
    """Run the oracle RHO on instance ``seed`` of ``setting``; return samples and run stats."""
    from jsched.rho.features import window_features
    from jsched.rho.loop import run_rho

    inst = setting_instance(setting, seed)
    feats, labels = [], []

    def record(st, lab):
        if st.overlap.any() and (~st.overlap).any():
            feats.append(window_features(st, config.H))
            labels.append(np.asarray(lab, np.float32))

    res = run_rho(inst, dataclasses.replace(config, variant="oracle"), recorder=record)
    stats = {"seed": seed, "objective": res.objective, "solve_time": res.solve_time, "total_time": res.total_time}
    return feats, labels, stats


@dataclass(frozen=True)
class CollectConfig:
    """Options of ``jsched rho collect`` (the RHO loop's own come from :class:`jsched.rho.method.Config`)."""

    setting: str = option("mk-small", "generator setting of the instances", choices=tuple(SETTINGS))
    seeds: str = option("0-9", "instance seeds, e.g. 0-49 or 1,2,5")
    processes: int = option(1, "instances solved in parallel", min=1)
    backend: str = option("process", "local process pool, or Ray tasks (the optional extra jsched[ray]; for clusters)",
                          choices=BACKENDS)  # fmt: skip
    ray_address: str | None = option(None, "Ray cluster address (default: RAY_ADDRESS, else a local Ray)")


def parse_seeds(text: str) -> list[int]:
    """``"0-2,5"`` -> ``[0, 1, 2, 5]``."""
    out: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part:
                a, b = part.split("-")
                out += list(range(int(a), int(b) + 1))
            elif part.strip():
                out.append(int(part))
    except ValueError:
        raise JSchedError(f"seeds: cannot read {text!r} (use e.g. 0-49 or 1,2,5)") from None
    return out


def collect(options: CollectConfig, config: RHOConfig, progress: bool = True) -> tuple[dict, dict]:
    """Oracle samples on the seeds of ``options.setting`` with loop settings ``config``; returns
    (arrays, meta). One-line JSchedError for an unknown backend or a missing ray."""
    from jsched.rho.features import MACHINE_FEATURES, OP_FEATURES, pad_batch

    setting, seeds, processes, backend = options.setting, parse_seeds(options.seeds), options.processes, options.backend
    config = dataclasses.replace(config, variant="oracle")
    if backend not in BACKENDS:
        raise JSchedError(f"unknown collect backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "ray":
        results = _collect_ray(setting, seeds, config, processes, progress, options.ray_address)
    else:
        results = _collect_processes(setting, seeds, config, processes, progress)
    feats, labels, inst_idx, stats = [], [], [], []
    for s in seeds:
        fe, la, st = results[s]
        feats += fe
        labels += la
        inst_idx += [s] * len(fe)
        stats.append(st)
    M = max((len(x.machine) for x in feats), default=0)
    arrays = pad_batch(feats, config.H, M, labels)
    arrays["instance"] = np.asarray(inst_idx, np.int64)
    meta = {
        "version": DATASET_VERSION,
        "setting": setting,
        "seeds": list(map(int, seeds)),
        "config": dataclasses.asdict(config),
        "backend": backend,
        "op_features": list(OP_FEATURES),
        "machine_features": list(MACHINE_FEATURES),
        "runs": stats,
    }
    return arrays, meta


def _collect_processes(setting, seeds, config, processes, progress) -> dict[int, tuple]:
    from tqdm import tqdm

    results: dict[int, tuple] = {}
    if processes <= 1:
        for s in tqdm(seeds, desc="oracle", disable=not progress):
            results[s] = collect_instance(setting, s, config)
        return results
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
        futs = {pool.submit(collect_instance, setting, s, config): s for s in seeds}
        for fut in tqdm(cf.as_completed(futs), total=len(futs), desc="oracle", disable=not progress):
            results[futs[fut]] = fut.result()
    return results


def _collect_ray(setting, seeds, config, processes, progress, address) -> dict[int, tuple]:
    try:
        import ray
    except ImportError:
        raise JSchedError(
            "the ray backend needs ray, which is not installed: pip install 'jsched[ray]' (or ray), "
            "or use --backend process"
        ) from None
    from tqdm import tqdm

    address = address or os.environ.get("RAY_ADDRESS") or None
    started = not ray.is_initialized()
    if started:
        kw = {} if address else {"num_cpus": max(1, processes) * config.workers}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **kw)
    try:
        task = ray.remote(num_cpus=config.workers)(collect_instance)
        refs = {task.remote(setting, s, config): s for s in seeds}
        results: dict[int, tuple] = {}
        pending = list(refs)
        with tqdm(total=len(seeds), desc="oracle (ray)", disable=not progress) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                results[refs[done[0]]] = ray.get(done[0])
                bar.update(1)
        return results
    finally:
        if started:
            ray.shutdown()


def save_dataset(path: str, arrays: dict, meta: dict) -> None:
    """Write arrays + JSON meta to ``path`` (.npz) atomically."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **arrays)


def load_dataset(path: str) -> tuple[dict, dict]:
    """Read a dataset written by :func:`save_dataset`; CheckpointError if missing/corrupt/mismatched."""
    from jsched.rho.features import OP_FEATURES

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"]))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: dataset not found") from None
    except Exception as e:  # zipfile/ValueError/KeyError/JSON errors: all mean a corrupt file
        raise CheckpointError(f"{path}: not a readable L-RHO dataset ({type(e).__name__}: {e})") from None
    if meta.get("version") != DATASET_VERSION or meta.get("op_features") != list(OP_FEATURES):
        raise CheckpointError(f"{path}: dataset version/features do not match this jsched (version {meta.get('version')})")
    return arrays, meta


def merge_datasets(parts: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """Concatenate datasets of the same setting and H (machines padded to the largest M)."""
    M = max(a["m_x"].shape[1] for a, _ in parts)
    out = {}
    for k in parts[0][0]:
        chunks = []
        for a, _ in parts:
            x = a[k]
            if k in ("m_x", "m_mask") and x.shape[1] < M:
                pad = [(0, 0), (0, M - x.shape[1])] + [(0, 0)] * (x.ndim - 2)
                x = np.pad(x, pad)
            chunks.append(x)
        out[k] = np.concatenate(chunks)
    meta = dict(parts[0][1])
    meta["seeds"] = sum((m["seeds"] for _, m in parts), [])
    meta["runs"] = sum((m["runs"] for _, m in parts), [])
    return out, meta
