"""Taillard instances for the HH agent, through the shared benchmark loader."""

from __future__ import annotations

from jsched.errors import UnknownInstanceError
from jsched.instances import best_known as _best_known
from jsched.instances import load
from jsched.instances.model import JSPInstance

TAILLARD_SIZES = {1: (15, 15), 11: (20, 15), 21: (20, 20), 31: (30, 15), 41: (30, 20), 51: (50, 15), 61: (50, 20), 71: (100, 20)}


def taillard(name: str) -> JSPInstance:
    """The Taillard instance ``taNN`` (NN = 01..80)."""
    if name.lower() not in taillard_names():
        raise UnknownInstanceError(f"unknown Taillard instance {name!r}; use ta01 .. ta80")
    inst = load(name.lower())
    assert isinstance(inst, JSPInstance)
    return inst


def taillard_names(n_jobs: int | None = None, n_machines: int | None = None) -> list[str]:
    """ta01..ta80, or only those of one size."""
    out = []
    for first, (j, m) in TAILLARD_SIZES.items():
        if (n_jobs is None or j == n_jobs) and (n_machines is None or m == n_machines):
            out += [f"ta{k:02d}" for k in range(first, first + 10)]
    return out


def best_known(name: str) -> int | None:
    """Best-known makespan of a benchmark instance (None if unknown or not a benchmark)."""
    try:
        return _best_known(name)
    except UnknownInstanceError:
        return None
