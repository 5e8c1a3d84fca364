"""Published CAS-PFSP results (read at run time from the shared data folder, never copied)."""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

METHOD_FILES = {
    "default": "MA-CAS-PFSP_{s}_MA_default.csv",
    "tuned": "MA-CAS-PFSP_{s}_MA_tuned.csv",
    "drl": "MA-DRL-CAS-PFSP_{s}_MA-DRL.csv",
}
SETS = ("M1T1", "M1T3", "M3T1", "M3T3", "M5T1", "M5T3", "M10T1", "M10T3", "M15T1", "M15T3")


def data_dir() -> Path | None:
    """``$JSCHED_DATA/cas_pfsp`` or ``<repo>/../shared/data/cas_pfsp``, if it exists."""
    cands = []
    if os.environ.get("JSCHED_DATA"):
        cands.append(Path(os.environ["JSCHED_DATA"]) / "cas_pfsp")
    cands += [Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cas_pfsp",
              Path.cwd() / ".." / "shared" / "data" / "cas_pfsp"]
    for c in cands:
        if c.is_dir():
            return c.resolve()
    return None


def instance_path(set_name: str, k: int) -> Path:
    return data_dir() / "Data" / f"CAS-PFSP-{set_name}" / f"CAS-PFSP-{set_name}_{k}.cas"


@lru_cache(maxsize=None)
def reference_best() -> dict[str, float]:
    """Instance stem -> best published emissions (``reference_best.csv``); {} without data."""
    d = data_dir()
    if d is None or not (d / "reference_best.csv").exists():
        return {}
    with open(d / "reference_best.csv") as fh:
        return {r["instance"].removesuffix(".cas"): float(r["best_published_objective"]) for r in csv.DictReader(fh)}


@lru_cache(maxsize=None)
def published_runs(set_name: str, method: str) -> dict[str, list[float]]:
    """Instance stem -> the 10 published run values of ``method`` (default/tuned/drl)."""
    f = data_dir() / "Results" / METHOD_FILES[method].format(s=set_name)
    out = {}
    with open(f) as fh:
        for row in fh:
            parts = [p.strip() for p in row.split(",") if p.strip()]
            if parts:
                out[parts[0].removesuffix(".cas")] = [float(v) for v in parts[1:]]
    return out
