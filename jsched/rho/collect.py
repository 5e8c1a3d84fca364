"""Oracle label collection for L-RHO (``jsched rho collect``), parallel over instances.

Each generated instance runs the RHO loop with the ``oracle`` variant; every window with both
overlapping and new operations gives a sample (its features and the oracle's keep labels). The
instances run in a local process pool or as Ray tasks (the optional extra ``jsched[ray]``).
The dataset is one ``.npz`` (no pickle) with a JSON ``meta``.

Faults: each finished instance's labels are written at once to a shard in a parts folder beside
the output (``OUT.parts/seed-S.npz``, :func:`parts_dir`), so a dead worker (a
``BrokenProcessPool``), a failing instance, a crash or Ctrl-C loses only the instances still
running. ``resume`` keeps the shards of an interrupted run with the same options and collects
only the rest; the dataset is then the same as an uninterrupted run's. The command removes the
shards once the dataset is written.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import json
import logging
import multiprocessing as mp
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jsched.atomic import atomic_path
from jsched.errors import CheckpointError, JSchedError
from jsched.options import option
from jsched.rho.generators import SETTINGS, setting_instance
from jsched.seeds import parse_seeds

if TYPE_CHECKING:
    from jsched.rho.features import WindowFeatures
    from jsched.rho.loop import RHOConfig

DATASET_VERSION = 1
BACKENDS = ("process", "ray")

logger = logging.getLogger(__name__)


def collect_instance(setting: str, seed: int, config: RHOConfig) -> tuple[list[WindowFeatures], list[np.ndarray], dict]:
    """Run the oracle RHO on instance ``seed`` of ``setting``; return samples and run stats."""
    from jsched.rho.features import window_features
    from jsched.rho.generators import instance_breakdowns
    from jsched.rho.loop import run_rho

    inst = setting_instance(setting, seed)
    bd = instance_breakdowns(inst, config.breakdowns, seed, config.breakdown_machines) if config.breakdowns else ()
    feats, labels = [], []
    breakdown = config.breakdowns is not None  # labels under breakdowns carry the breakdown features

    def record(st, lab):
        if st.overlap.any() and (~st.overlap).any():
            feats.append(window_features(st, config.H, breakdown))
            labels.append(np.asarray(lab, np.float32))

    res = run_rho(inst, dataclasses.replace(config, variant="oracle"), recorder=record, breakdowns=bd)
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
    resume: bool = option(False, "keep the instances an interrupted collect left beside --out (OUT.parts/) and collect only the rest")


def collect(options: CollectConfig, config: RHOConfig, progress: bool = True, parts: str | None = None) -> tuple[dict, dict]:
    """Oracle samples on the seeds of ``options.setting`` with loop settings ``config``; returns
    (arrays, meta). One-line JSchedError for an unknown backend or a missing ray.

    ``parts`` (e.g. ``parts_dir(out)``): the folder where each finished instance's labels are
    written at once; with ``options.resume`` the instances already there are not collected
    again. When instances fail (a worker died, an exception), the others still run and are
    kept there, then a one-line JSchedError says how many failed and how to resume.
    """
    from jsched.rho.features import feature_names, pad_batch

    setting, seeds, processes, backend = options.setting, parse_seeds(options.seeds), options.processes, options.backend
    config = dataclasses.replace(config, variant="oracle")
    if backend not in BACKENDS:
        raise JSchedError(f"unknown collect backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if options.resume and parts is None:
        raise JSchedError("rho collect: resume needs the parts folder of the interrupted run")
    results: dict[int, tuple] = {}

    def on_done(seed: int, res: tuple) -> None:
        if parts is not None:
            save_shard(parts, seed, setting, config, res)  # at once: a later failure cannot lose it
        results[seed] = res

    if parts is not None:
        found = [s for s in seeds if os.path.exists(_shard_path(parts, s))]
        if found and not options.resume:
            raise JSchedError(
                f"{parts}: holds the labels of {len(found)} of these instances from an interrupted collect; "
                "pass --resume (resume=True) to keep them, or delete the folder"
            )
        for s in found:
            results[s] = load_shard(parts, s, setting, config)
        if found:
            logger.info("rho collect: resuming, %d of %d instances already in %s", len(found), len(seeds), parts)

    todo = [s for s in seeds if s not in results]
    if backend == "ray":
        failures = _collect_ray(setting, todo, config, processes, progress, options.ray_address, on_done)
    else:
        failures = _collect_processes(setting, todo, config, processes, progress, on_done)
    if failures:
        s, e = next(iter(failures.items()))
        why = (str(e).strip().splitlines() or [""])[0][:160]
        kept = f"the {len(results)} collected are kept in {parts}; run the same command with --resume (resume=True) to collect the rest" \
            if parts is not None else "nothing was kept (no parts folder)"  # fmt: skip
        raise JSchedError(
            f"rho collect: {len(failures)} of {len(seeds)} instances failed (seed {s}: {type(e).__name__}: {why}); {kept}"
        ) from e
    feats, labels, inst_idx, stats = [], [], [], []
    for s in seeds:
        fe, la, st = results[s]
        feats += fe
        labels += la
        inst_idx += [s] * len(fe)
        stats.append(st)
    M = max((len(x.machine) for x in feats), default=0)
    op_names, machine_names = feature_names(config.breakdowns is not None)
    arrays = pad_batch(feats, config.H, M, labels, config.breakdowns is not None)
    arrays["instance"] = np.asarray(inst_idx, np.int64)
    meta = {
        "version": DATASET_VERSION,
        "setting": setting,
        "seeds": list(map(int, seeds)),
        "config": dataclasses.asdict(config),
        "backend": backend,
        "op_features": list(op_names),
        "machine_features": list(machine_names),
        "runs": stats,
    }
    return arrays, meta


def _collect_processes(setting, seeds, config, processes, progress, on_done) -> dict[int, BaseException]:
    """Run the instances, handing each result to ``on_done`` as it arrives; returns the failures
    (seed -> exception): a failing instance or a dead worker stops none of the others' results."""
    from tqdm import tqdm

    failures: dict[int, BaseException] = {}
    if processes <= 1:
        for s in tqdm(seeds, desc="oracle", disable=not progress):
            try:
                res = collect_instance(setting, s, config)
            except Exception as e:  # noqa: BLE001 - reported with the others after the rest ran
                failures[s] = e
                continue
            on_done(s, res)
        return failures
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
        futs = {pool.submit(collect_instance, setting, s, config): s for s in seeds}
        try:
            for fut in tqdm(cf.as_completed(futs), total=len(futs), desc="oracle", disable=not progress):
                try:
                    res = fut.result()
                except Exception as e:  # noqa: BLE001 - e.g. BrokenProcessPool: a worker died
                    failures[futs[fut]] = e
                    continue
                on_done(futs[fut], res)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return dict(sorted(failures.items()))


def _collect_ray(setting, seeds, config, processes, progress, address, on_done) -> dict[int, BaseException]:
    try:
        import ray
    except ImportError:
        raise JSchedError(
            "the ray backend needs ray, which is not installed: pip install 'jsched[ray]' (or ray), "
            "or use --backend process"
        ) from None
    from tqdm import tqdm

    if not seeds:
        return {}
    address = address or os.environ.get("RAY_ADDRESS") or None
    started = not ray.is_initialized()
    if started:
        kw = {} if address else {"num_cpus": max(1, processes) * config.workers}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **kw)
    try:
        task = ray.remote(num_cpus=config.workers)(collect_instance)
        refs = {task.remote(setting, s, config): s for s in seeds}
        failures: dict[int, BaseException] = {}
        pending = list(refs)
        with tqdm(total=len(seeds), desc="oracle (ray)", disable=not progress) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                bar.update(1)
                try:
                    res = ray.get(done[0])
                except Exception as e:  # noqa: BLE001 - a task error or a dead worker / node
                    failures[refs[done[0]]] = e
                    continue
                on_done(refs[done[0]], res)
        return dict(sorted(failures.items()))
    finally:
        if started:
            ray.shutdown()


def parts_dir(out: str | os.PathLike) -> str:
    """The folder beside the dataset ``out`` where finished instances' labels are kept."""
    return os.fspath(out) + ".parts"


def _shard_path(parts: str, seed: int) -> str:
    return os.path.join(parts, f"seed-{seed}.npz")


def _json_config(config: RHOConfig) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def save_shard(parts: str, seed: int, setting: str, config: RHOConfig, result: tuple) -> None:
    """Write one instance's samples and run stats (``collect_instance``'s result) atomically."""
    from jsched.rho.features import feature_names

    feats, labels, stats = result
    op_names, machine_names = feature_names(config.breakdowns is not None)

    def cat(xs, width=None, dtype=None):
        if xs:
            return np.concatenate([np.asarray(x) for x in xs])
        return np.zeros((0, width) if width else 0, dtype)

    arrays = {
        "op": cat([f.op for f in feats], len(op_names), np.float32),
        "machine": cat([f.machine for f in feats], len(machine_names), np.float32),
        "overlap": cat([f.overlap for f in feats], dtype=bool),
        "prev_machine": cat([f.prev_machine for f in feats], dtype=np.int64),
        "labels": cat(labels, dtype=np.float32),
        "op_len": np.array([len(f.op) for f in feats], np.int64),
        "m_len": np.array([len(f.machine) for f in feats], np.int64),
        "label_len": np.array([len(x) for x in labels], np.int64),
    }
    meta = {"version": DATASET_VERSION, "setting": setting, "seed": int(seed), "config": _json_config(config), "stats": stats}
    with atomic_path(_shard_path(parts, seed), suffix=".npz") as tmp:
        np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **arrays)


def load_shard(parts: str, seed: int, setting: str, config: RHOConfig) -> tuple:
    """Read back what :func:`save_shard` wrote, as ``collect_instance`` returned it; a shard of
    other options (or a corrupt one) is a one-line CheckpointError."""
    from jsched.rho.features import WindowFeatures

    path = _shard_path(parts, seed)
    try:
        with np.load(path, allow_pickle=False) as z:
            a = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"]))
        bounds = {k: np.cumsum(np.r_[0, a[n]]) for k, n in (("op", "op_len"), ("m", "m_len"), ("lab", "label_len"))}
        n = len(a["op_len"])
        if len(a["m_len"]) != n or len(a["label_len"]) != n or bounds["op"][-1] != len(a["op"]) \
                or bounds["m"][-1] != len(a["machine"]) or bounds["lab"][-1] != len(a["labels"]):  # fmt: skip
            raise ValueError("array lengths disagree")
    except FileNotFoundError:
        raise CheckpointError(f"{path}: shard not found") from None
    except Exception as e:  # zipfile/ValueError/KeyError/JSON errors: all mean a corrupt file
        raise CheckpointError(f"{path}: not a readable collect shard ({type(e).__name__}); delete it to collect seed {seed} again") from None
    want = {"version": DATASET_VERSION, "setting": setting, "seed": int(seed), "config": _json_config(config)}
    diff = [k for k in want if meta.get(k) != want[k]]
    if "config" in diff:
        c = meta.get("config") or {}
        diff = [k for k in diff if k != "config"] + sorted(k for k in want["config"] if c.get(k) != want["config"][k])
    if diff:
        raise CheckpointError(
            f"{path}: collected with other options ({', '.join(diff)}); resume with the same options, or delete {parts}"
        )
    feats, labels = [], []
    for i in range(n):
        o, m, lab = (slice(bounds[k][i], bounds[k][i + 1]) for k in ("op", "m", "lab"))
        feats.append(WindowFeatures(a["op"][o], a["machine"][m], a["overlap"][o], a["prev_machine"][o]))
        labels.append(a["labels"][lab])
    return feats, labels, meta["stats"]


def remove_parts(parts: str, seeds: list[int]) -> None:
    """Delete the shards of ``seeds`` (once the dataset holds them), and the folder if then empty."""
    for s in seeds:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_shard_path(parts, s))
    with contextlib.suppress(OSError):
        os.rmdir(parts)


def save_dataset(path: str, arrays: dict, meta: dict) -> None:
    """Write arrays + JSON meta to ``path`` (.npz) atomically."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **arrays)


def load_dataset(path: str) -> tuple[dict, dict]:
    """Read a dataset written by :func:`save_dataset`; CheckpointError if missing/corrupt/mismatched."""
    from jsched.rho.features import feature_names

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"]))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: dataset not found") from None
    except Exception as e:  # zipfile/ValueError/KeyError/JSON errors: all mean a corrupt file
        raise CheckpointError(f"{path}: not a readable L-RHO dataset ({type(e).__name__}: {e})") from None
    known = [list(feature_names(b)[0]) for b in (False, True)]
    if meta.get("version") != DATASET_VERSION or meta.get("op_features") not in known:
        raise CheckpointError(f"{path}: dataset version/features do not match this jsched (version {meta.get('version')})")
    return arrays, meta


def merge_datasets(parts: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """Concatenate datasets of the same setting, H and features (machines padded to the largest M)."""
    if len({tuple(m["op_features"]) for _, m in parts}) > 1:
        raise CheckpointError("datasets with and without the breakdown features cannot be merged")
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
    meta["commands"] = sum((m.get("commands", []) for _, m in parts), [])
    return out, meta
