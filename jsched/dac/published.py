"""Published CAS-PFSP results (read at run time from the shared data folder, never copied)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

METHOD_FILES = {
    "default": "MA-CAS-PFSP_{s}_MA_default.csv",
    "tuned": "MA-CAS-PFSP_{s}_MA_tuned.csv",
    "drl": "MA-DRL-CAS-PFSP_{s}_MA-DRL.csv",
}
SETS = ("M1T1", "M1T3", "M3T1", "M3T3", "M5T1", "M5T3", "M10T1", "M10T3", "M15T1", "M15T3")


def data_dir() -> Path | None:
    """The ``cas_pfsp`` folder of the benchmark data folder (``JSCHED_DATA``, or a source
    checkout's ``../shared/data``), if it exists; never relative to the working directory."""
    from jsched.instances.benchmarks import data_dir as benchmark_data

    root = benchmark_data()
    return None if root is None or not (root / "cas_pfsp").is_dir() else (root / "cas_pfsp").resolve()


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
