"""SLIM evaluation tables on Taillard and Demirkol, by size, next to the paper's numbers.

``jsched eval slim taillard|demirkol [--samples 1,128,512] [--sizes 15x15,20x15] [--limit N]
[--batch B] [--checkpoint CKPT] [--out results.json]``.

Each cell is the mean percentage gap ``100 * (C / C_best_known - 1)`` over the instances of a
size; every schedule passes the validator first. Instances come from the shared benchmark
loader (``jsched.instances.load_benchmark``), best-known makespans (upper bounds) from
``jsched.instances.best_known`` (the shared ``jsp/bks.csv``). Instances of one size are decoded
in batches of ``--batch`` (one jitted call each, one compile per size and setting); a progress
bar counts instance decodes. ``--limit N`` keeps the first N instances of each size, so a CPU
user can run a subset; ``--out`` writes the summary and per-instance rows as JSON and the
per-instance rows as CSV next to it (same stem, ``.csv``).

The paper's numbers (Corsini et al. 2024, Table 2) are printed beside: per size for Taillard,
the average for both sets (the paper gives Demirkol only as an average).
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from jsched.errors import JSchedError
from jsched.instances import best_known, list_benchmarks, load_benchmark
from jsched.instances.model import JSPInstance
from jsched.schedule import validate

SETS = {"taillard": "taillard", "demirkol": "dmu"}  # jsched benchmark family of each set
SET_SIZE = 80  # both sets: 8 sizes x 10 instances

# Paper (Corsini et al. 2024), Taillard PG by size: greedy / beta=128 / beta=512.
PAPER_TAILLARD = {
    "15x15": (13.8, 7.2, 6.5), "20x15": (15.0, 9.3, 8.8), "20x20": (15.2, 10.0, 9.0), "30x15": (17.1, 11.0, 10.6),
    "30x20": (18.5, 13.4, 12.7), "50x15": (10.1, 5.5, 4.9), "50x20": (11.6, 8.4, 7.6), "100x20": (5.8, 2.3, 2.1),
}
PAPER_AVERAGE = {"taillard": (13.4, 8.4, 7.8), "demirkol": (20.3, 14.0, 13.1)}
PAPER_SAMPLES = (1, 128, 512)


def _size_key(size: str) -> tuple[int, int]:
    return tuple(int(v) for v in size.split("x"))


def select(which: str, sizes: list[str] | None = None, limit: int | None = None) -> dict[str, list[JSPInstance]]:
    """Instances of a set grouped by size (``"JxM"``), optionally only some sizes / the first ``limit`` of each."""
    if which not in SETS:
        raise JSchedError(f"unknown set {which!r}; choose one of: {', '.join(SETS)}")
    if limit is not None and limit < 1:
        raise JSchedError(f"--limit must be >= 1, got {limit}")
    by_size: dict[str, list[JSPInstance]] = defaultdict(list)
    for name in list_benchmarks(SETS[which]):
        inst = load_benchmark(name)
        by_size[inst.shape].append(inst)
    if sizes:
        unknown = [s for s in sizes if s not in by_size]
        if unknown:
            raise JSchedError(f"--sizes: {which} has no size {', '.join(unknown)} (sizes: {', '.join(sorted(by_size, key=_size_key))})")
        by_size = {s: by_size[s] for s in sizes}
    return {s: v[:limit] for s, v in sorted(by_size.items(), key=lambda kv: _size_key(kv[0]))}


def evaluate(groups: dict[str, list[JSPInstance]], samples: tuple[int, ...], checkpoint: str | None = None,
             seed: int = 0, batch: int | None = None, progress: bool = False) -> dict:
    """Per-instance makespans and per-size mean gaps for each ``samples`` setting.

    Returns ``{(size, samples): {"pg", "makespans", "best_known", "instances", "seconds"}}``;
    ``seconds`` is the wall time of that size's decodes (compile included).
    """
    from tqdm.auto import tqdm

    from jsched.slim.method import solve_many

    if any(s < 1 for s in samples):
        raise JSchedError(f"--samples must be >= 1, got {samples}")
    total = sum(len(v) for v in groups.values()) * len(samples)
    rows = {}
    with tqdm(total=total, disable=not progress, desc="slim eval", unit="inst", dynamic_ncols=True) as bar:
        for size, insts in groups.items():
            bks = np.array([best_known(i) for i in insts], np.float64)
            step = batch or len(insts)
            for s in samples:
                bar.set_postfix(size=size, samples=s)
                t0, ms = time.perf_counter(), []
                for k in range(0, len(insts), step):
                    chunk = insts[k : k + step]
                    scheds, _ = solve_many(chunk, s, checkpoint, seed)
                    ms += [validate(i, sc).makespan for i, sc in zip(chunk, scheds)]
                    bar.update(len(chunk))
                ms = np.array(ms, np.float64)
                rows[(size, s)] = {
                    "pg": float(np.mean(100 * (ms / bks - 1))),
                    "makespans": ms.astype(int).tolist(),
                    "best_known": bks.astype(int).tolist(),
                    "instances": [i.name for i in insts],
                    "seconds": time.perf_counter() - t0,
                }
    return rows


def _paper(samples: tuple[int, ...], values) -> str:
    return "/".join(str(values[PAPER_SAMPLES.index(s)]) if s in PAPER_SAMPLES else "-" for s in samples)


def format_table(rows: dict, samples: tuple[int, ...], which: str) -> str:
    """Mean gap (%) by size and setting, the average over sizes, and the paper's numbers."""
    sizes = sorted({k[0] for k in rows}, key=_size_key)
    labels = ["greedy" if s == 1 else f"b={s}" for s in samples]
    head = ["size", "n"] + labels + [f"s/inst {lb}" for lb in labels]
    paper_head = "paper " + "/".join("g" if s == 1 else str(s) for s in samples)
    lines = [" | ".join(head + [paper_head])]
    for size in sizes:
        n = len(next(rows[(size, s)]["instances"] for s in samples if (size, s) in rows))
        cells = [size, str(n)] + [f"{rows[(size, s)]['pg']:.2f}" if (size, s) in rows else "-" for s in samples]
        cells += [f"{rows[(size, s)]['seconds'] / n:.2f}" if (size, s) in rows else "-" for s in samples]
        cells.append(_paper(samples, PAPER_TAILLARD[size]) if which == "taillard" and size in PAPER_TAILLARD else "-")
        lines.append(" | ".join(cells))
    avg = ["average", ""] + [f"{np.mean([rows[(z, s)]['pg'] for z in sizes]):.2f}" for s in samples] + [""] * len(samples)
    n_inst = len({n for r in rows.values() for n in r["instances"]})
    avg.append(_paper(samples, PAPER_AVERAGE[which]) + ("" if n_inst == SET_SIZE else " (all 80 instances)"))
    lines.append(" | ".join(avg))
    return "\n".join(lines)


def per_instance_rows(rows: dict) -> list[dict]:
    out = []
    for (size, s), r in rows.items():
        for name, ms, bk in zip(r["instances"], r["makespans"], r["best_known"]):
            out.append({"instance": name, "size": size, "samples": s, "makespan": ms, "best_known": bk,
                        "gap_percent": round(100 * (ms / bk - 1), 4)})
    return out


def write_results(path: str | Path, rows: dict, samples: tuple[int, ...], which: str, meta: dict) -> tuple[Path, Path]:
    """Write ``path`` (JSON: summary by size, per-instance rows, paper numbers) and its ``.csv`` sibling."""
    from jsched.atomic import write_text_atomic
    from jsched.schedule import write_json_atomic

    path = Path(path)
    inst_rows = per_instance_rows(rows)
    summary = [{"size": k[0], "samples": k[1], "pg": v["pg"], "n": len(v["instances"]), "seconds": v["seconds"]}
               for k, v in rows.items()]
    paper = {"average": dict(zip(PAPER_SAMPLES, PAPER_AVERAGE[which]))}
    if which == "taillard":
        paper["by_size"] = {z: dict(zip(PAPER_SAMPLES, v)) for z, v in PAPER_TAILLARD.items()}
    write_json_atomic(path, {"set": which, "samples": list(samples), **meta, "summary": summary, "paper": paper,
                             "instances": inst_rows})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(inst_rows[0]))
    w.writeheader()
    w.writerows(inst_rows)
    csv_path = path.with_suffix(".csv")
    write_text_atomic(csv_path, buf.getvalue())
    return path, csv_path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("set", choices=sorted(SETS), help="benchmark set")
    p.add_argument("--samples", default="1,128,512", help="comma list; 1 = greedy")
    p.add_argument("--checkpoint", default=None, help="model checkpoint (default: the shipped one)")
    p.add_argument("--sizes", default=None, help="only these sizes, e.g. 15x15,20x15")
    p.add_argument("--limit", type=int, default=None, help="only the first N instances of each size")
    p.add_argument("--batch", type=int, default=None, help="instances per decode call (default: a whole size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write results as JSON here (and per-instance CSV with the same stem)")
    p.add_argument("--no-progress", action="store_true")


def _int_list(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        raise JSchedError(f"{what}: expected a comma list of integers, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    samples = _int_list(args.samples, "--samples")
    sizes = [s.strip().lower() for s in args.sizes.split(",")] if args.sizes else None
    if args.batch is not None and args.batch < 1:
        raise JSchedError(f"--batch must be >= 1, got {args.batch}")
    groups = select(args.set, sizes, args.limit)
    rows = evaluate(groups, samples, args.checkpoint, args.seed, args.batch, progress=not args.no_progress)
    print(format_table(rows, samples, args.set))
    if args.out:
        from jsched.slim.method import DEFAULT_CHECKPOINT

        meta = {"checkpoint": args.checkpoint or f"shipped ({DEFAULT_CHECKPOINT.name})", "seed": args.seed, "limit": args.limit}
        for f in write_results(args.out, rows, samples, args.set, meta):
            print(f"wrote {f}")
    return 0
