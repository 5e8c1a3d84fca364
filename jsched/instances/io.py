"""Instance files: readers and writers for JSP text, ``.fjs`` FJSP text and jsched JSON.

Formats
-------
**JSP text (Taillard / OR-Library "standard" layout)**::

    n_jobs n_machines
    m d m d ...        <- one line per job: n_machines (machine, duration) pairs, machines 0-based

Blank lines and lines starting with ``#`` are ignored anywhere.  The Taillard "specification"
layout is recognised as well: a header whose first two numbers are ``n m`` (Taillard's own files
add seeds and bounds after them, and a text line above), then an ``n x m`` matrix of processing
times and an ``n x m`` matrix of **1-based** machines, optionally introduced by lines reading
``Times`` and ``Machines``.  It is detected when the lines after the header hold ``m`` numbers
each instead of ``2m``.

**FJSP text (``.fjs``, Brandimarte / Hurink / Dauzère-Pérès)**::

    n_jobs n_machines [avg_machines_per_op]      <- third number nominal, ignored
    n_ops  k m d m d ...  k m d ...              <- one line per job, machines 1-based

Durations may be 0; declared machines may be unused (the header's count is trusted).

**JSON** (``{"format": "jsched-instance", "version": 1, ...}``)::

    {"format": "jsched-instance", "version": 1, "kind": "jsp", "name": "ft06",
     "n_machines": 6,
     "jobs": [[{"machine": 2, "duration": 1}, ...], ...],      # 0-based machines
     "release": [0, 0, ...]}                                     # optional, one per job

    {"format": "jsched-instance", "version": 1, "kind": "fjsp", "name": "mk01",
     "n_machines": 6,
     "jobs": [[{"machines": [0, 2], "durations": [5, 4],        # 0-based, same length
                "release": 0, "due": 30}, ...], ...]}           # release/due optional

FJSP ``due`` is written for every operation when the instance has due times, and must then be
present on every operation when read. Either kind may carry job due dates and weights, one per
job, at the top level (both optional; ``job_weight`` needs ``job_due``)::

     "job_due": [120, 95, ...], "job_weight": [2, 1, ...]

job-shop-lib's instance JSON (no ``format`` tag, a ``duration_matrix``) is read as well (:mod:`jsched.interop.jobshoplib`).

Every malformed input raises :class:`~jsched.errors.InstanceFormatError` naming the file, the
line and the field (for JSON, a path like ``jobs[3][1].machines``, and the line where that value,
or its nearest existing parent, starts) and what was expected.  Writers are atomic (temporary file, then rename) and ``write -> read`` gives back an
equal instance (:func:`instances_equal`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from jsched.atomic import write_text_atomic
from jsched.errors import InstanceFormatError, JSchedError
from jsched.instances.model import FJSPInstance, Instance, JSPInstance

__all__ = [
    "JSON_FORMAT",
    "JSON_VERSION",
    "decode_text",
    "detect_format",
    "fjsp_text",
    "instance_from_json",
    "instance_to_json",
    "instances_equal",
    "jsp_text",
    "parse_fjsp_text",
    "parse_jsp_text",
    "parse_text",
    "read_instance",
    "read_text",
    "write_instance",
]

JSON_FORMAT = "jsched-instance"
JSON_VERSION = 1
# Larger values are certainly a corrupt file, and they would overflow the int32 device arrays
# (the instance models also bound the total: latest release + total processing < 2**31).
_MAX_VALUE = 2**31 - 1
_INT_TOKEN = re.compile(r"[+-]?[0-9]+\Z")  # ASCII digits only (no '1_000', no other scripts)
_MAX_DIGITS = 30  # longer integers are out of range anyway; never convert them (int() is quadratic)
_MAX_JOBS = 10**7
_MAX_MACHINES = 10**5  # FJSP arrays are (operations x machines); bigger headers are corrupt files

# --------------------------------------------------------------------------------------------
# Reading files


def read_text(path: str | os.PathLike) -> str:
    """Read a text instance file; binary, undecodable or empty files raise InstanceFormatError."""
    p = os.fspath(path)
    try:
        data = Path(p).read_bytes()
    except IsADirectoryError:
        raise InstanceFormatError("is a directory, not an instance file", p) from None
    except FileNotFoundError:
        raise InstanceFormatError("no such file", p) from None
    except OSError as e:
        raise InstanceFormatError(f"cannot read file: {e.strerror or e}", p) from None
    return decode_text(data, p)


def decode_text(data: bytes, path: str = "<bytes>") -> str:
    """Decode instance file bytes; binary, non-UTF-8 or empty content raises InstanceFormatError."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InstanceFormatError("binary file (NUL byte), not an instance text file", path, data.count(b"\n", 0, nul) + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InstanceFormatError(f"binary or non-UTF-8 file (byte {e.start}), not an instance text file", path, line) from None
    if not text.strip():
        raise InstanceFormatError("empty file", path, 1)
    return text


def detect_format(path: str | os.PathLike, text: str | None = None) -> str:
    """'jsp', 'fjsp', 'json' or 'cas' from the extension, else from the content.

    ``.fjs``, ``.json``, ``.cas``, ``.jsp``/``.jss`` fix the format; ``.txt`` is used for JSP and
    for FJSP files alike (e.g. Brandimarte's ``mkNN.txt``), so its content decides, JSP by default.
    """
    fmt = _format_from_extension(path)
    if fmt is not None:
        return fmt
    return _sniff(read_text(path) if text is None else text)


def _format_from_extension(path: str | os.PathLike) -> str | None:
    ext = os.path.splitext(os.fspath(path))[1].lower()
    return {".fjs": "fjsp", ".json": "json", ".cas": "cas", ".jsp": "jsp", ".jss": "jsp", ".jssp": "jsp"}.get(ext)


def read_instance(path: str | os.PathLike, name: str | None = None) -> Instance:
    """Read a JSP or FJSP instance file (format by extension, else by content).

    ``.cas`` (carbon-aware permutation flow shop) files are passed on to
    ``jsched.instances.pfsp.read_cas``.
    """
    p = os.fspath(path)
    fmt = _format_from_extension(p)
    if fmt == "cas":
        return _read_cas(p)
    text = read_text(p)
    return parse_text(text, fmt or _sniff(text), p, name or Path(p).stem)


def parse_text(text: str, fmt: str, path: str = "<string>", name: str = "instance") -> Instance:
    """Parse instance text of a known format ('jsp', 'fjsp' or 'json')."""
    if fmt == "jsp":
        return parse_jsp_text(text, path, name)
    if fmt == "fjsp":
        return parse_fjsp_text(text, path, name)
    if fmt == "json":
        return instance_from_json(text, path, name)
    raise JSchedError(f"unknown instance format {fmt!r}")


def _read_cas(path: str):
    try:
        from jsched.instances.pfsp import read_cas
    except ImportError as e:
        raise JSchedError(f"{path}: .cas (PFSP) files need jsched.instances.pfsp.read_cas, which is not available ({e})") from None
    return read_cas(path)


def _sniff(text: str) -> str:
    """Guess the format of an instance text: JSON, FJSP or JSP (the default when unsure)."""
    if text.lstrip().startswith(("{", "[")):
        return "json"
    lines = [toks for _, toks in _data_lines(text)]
    if not lines or any(toks[0].lower() in ("times", "machines") for toks in lines):
        return "jsp"  # empty (the JSP parser reports it) or Taillard's specification layout
    head = lines[0]
    if len(head) == 3:
        return "fjsp"  # 'n_jobs n_machines avg_flexibility'
    if len(head) == 2 and _all_int(head) and len(lines) > 1:
        m = int(head[1])
        if not _jsp_job_line(lines[1], m) and _fjsp_job_line(lines[1], m):
            return "fjsp"
    return "jsp"


def _jsp_job_line(tokens: list[str], m: int) -> bool:
    """True when ``tokens`` are a valid JSP job line (m 0-based pairs, or m Taillard times)."""
    if len(tokens) == m:
        return _all_int(tokens)
    if len(tokens) != 2 * m or not _all_int(tokens):
        return False
    return all(0 <= int(t) < m for t in tokens[::2])


def _fjsp_job_line(tokens: list[str], m: int) -> bool:
    """True when ``tokens`` parse exactly as one .fjs job line over ``m`` machines."""
    try:
        v = [int(t) for t in tokens]
    except ValueError:
        return False
    i, n_ops = 1, v[0] if v else 0
    for _ in range(n_ops):
        if i >= len(v) or not 1 <= v[i] <= m:
            return False
        i += 1 + 2 * v[i]
    return n_ops >= 1 and i == len(v)


def _all_int(tokens) -> bool:
    try:
        [int(t) for t in tokens]
        return True
    except ValueError:
        return False


def _data_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """(1-based line number, tokens) of every line that is not blank or a '#' comment."""
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith("#"):
            yield i, s.split()


class _Line:
    """Integer tokens of one line, consumed left to right, with errors naming file and line."""

    def __init__(self, path: str, lineno: int, tokens: list[str], what: str):
        self.path, self.lineno, self.tokens, self.what, self.pos = path, lineno, tokens, what, 0

    def error(self, msg: str) -> InstanceFormatError:
        return InstanceFormatError(f"{self.what}: {msg}", self.path, self.lineno)

    def int(self, field: str, lo: int = 0, hi: int = _MAX_VALUE) -> int:
        if self.pos >= len(self.tokens):
            raise self.error(f"line ends early (truncated): missing {field} after {len(self.tokens)} numbers")
        tok = self.tokens[self.pos]
        self.pos += 1
        if not _INT_TOKEN.match(tok):
            raise self.error(f"{field}: {tok[:40]!r} is not an integer")
        if len(tok) > _MAX_DIGITS:
            raise self.error(f"{field}: {tok[:20]}... ({len(tok.lstrip('+-'))} digits) out of range {lo}..{hi}")
        v = int(tok)
        if v < lo or v > hi:
            if "duration" in field and v < 0:
                raise self.error(f"{field}: negative duration {v}")
            raise self.error(f"{field}: {v} out of range {lo}..{hi}")
        return v

    def done(self) -> None:
        if self.pos != len(self.tokens):
            extra = len(self.tokens) - self.pos
            raise self.error(f"{extra} unexpected extra number(s) at the end of the line (wrong count?)")


# --------------------------------------------------------------------------------------------
# JSP text


def parse_jsp_text(text: str, path: str = "<string>", name: str = "instance") -> JSPInstance:
    """Parse a JSP in the standard layout (0-based pairs) or Taillard's matrix layout (1-based)."""
    lines = list(_data_lines(text))
    if not lines:
        raise InstanceFormatError("empty file: no 'n_jobs n_machines' header", path, 1)
    labelled = any(t[0].lower() in ("times", "machines") for _, t in lines)
    hi = 0
    if labelled:  # Taillard's own files open with a text line ("Nb of jobs, Nb of Machines, ...").
        while hi < len(lines) - 1 and not any(_all_int([t]) for t in lines[hi][1]):
            hi += 1
    ln, toks = lines[hi]
    header = _Line(path, ln, toks, "header")
    n = header.int("n_jobs", 1, _MAX_JOBS)
    m = header.int("n_machines", 1, _MAX_MACHINES)
    body = lines[hi + 1 :]
    if labelled or (len(body) == 2 * n and all(len(t) == m for _, t in body)):
        return _parse_taillard_matrices(body, n, m, path, name, ln)
    header.done()  # standard layout: exactly 'n_jobs n_machines'
    if len(body) < n:
        last = body[-1][0] if body else ln
        raise InstanceFormatError(
            f"wrong count: header says {n} jobs, found {len(body)} job line(s) (truncated file?)", path, last + 1 if body else ln
        )
    if len(body) > n:
        raise InstanceFormatError(f"wrong count: header says {n} jobs, found extra data after the last job", path, body[n][0])
    mach, dur = [], []
    for j, (lj, tj) in enumerate(body):
        line = _Line(path, lj, tj, f"job {j}")
        if len(tj) < 2 * m:
            raise line.error(f"line ends early (truncated): expected {2 * m} numbers ({m} machine/duration pairs), got {len(tj)}")
        for i in range(m):
            mach.append(line.int(f"operation {i} machine", 0, m - 1))
            dur.append(line.int(f"operation {i} duration"))
        line.done()
    return _make(lambda: JSPInstance(name, np.reshape(mach, (n, m)), np.reshape(dur, (n, m)), m), path)


def _parse_taillard_matrices(body, n, m, path, name, header_line) -> JSPInstance:
    """Taillard layout: n rows of times, then n rows of 1-based machines (labels optional)."""
    sections: list[list[tuple[int, list[str]]]] = [[], []]
    k = 0
    for ln, toks in body:
        word = toks[0].lower()
        if word == "times":
            k = 0
            continue
        if word == "machines":
            k = 1
            continue
        if k == 0 and len(sections[0]) == n:
            k = 1
        sections[k].append((ln, toks))
    out = []
    for s, (rows, what) in enumerate(zip(sections, ("processing time", "machine"))):
        if len(rows) != n:
            where = rows[n][0] if len(rows) > n else (rows[-1][0] + 1 if rows else header_line)
            raise InstanceFormatError(
                f"wrong count: Taillard layout needs {n} rows of {what}s, found {len(rows)}", path, where
            )
        field, lo, hi = ("duration", 0, _MAX_VALUE) if s == 0 else ("machine (1-based)", 1, m)
        vals = []
        for j, (lj, tj) in enumerate(rows):
            line = _Line(path, lj, tj, f"job {j} {what}s")
            vals += [line.int(f"operation {i} {field}", lo, hi) for i in range(m)]
            line.done()
        out.append(np.reshape(vals, (n, m)))
    return _make(lambda: JSPInstance(name, out[1] - 1, out[0], m), path)


def jsp_text(instance: JSPInstance) -> str:
    """The standard JSP text (0-based machine/duration pairs); release times cannot be stored."""
    if instance.release.any() or instance.job_due is not None:
        raise JSchedError(f"{instance.name}: the JSP text format has no release times or due dates; write JSON instead")
    lines = [f"{instance.n_jobs} {instance.n_machines}"]
    for mj, dj in zip(instance.machines, instance.durations):
        lines.append(" ".join(f"{int(a)} {int(b)}" for a, b in zip(mj, dj)))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# FJSP text


def parse_fjsp_text(text: str, path: str = "<string>", name: str = "instance") -> FJSPInstance:
    """Parse ``.fjs`` text (1-based machines in the file, 0-based in the instance)."""
    lines = list(_data_lines(text))
    if not lines:
        raise InstanceFormatError("empty file: no 'n_jobs n_machines' header", path, 1)
    ln, toks = lines[0]
    header = _Line(path, ln, toks, "header")
    n = header.int("n_jobs", 1, _MAX_JOBS)
    m = header.int("n_machines", 1, _MAX_MACHINES)
    if len(toks) == 3:
        try:
            flex = float(toks[2])
        except ValueError:
            raise header.error(f"average machines per operation: {toks[2][:40]!r} is not a number") from None
        if not math.isfinite(flex) or flex < 0:
            raise header.error(f"average machines per operation: {toks[2][:40]!r} must be a number >= 0")
    elif len(toks) > 3:
        raise header.error(f"expected 2 or 3 numbers (n_jobs n_machines [avg machines per op]), got {len(toks)}")
    body = lines[1:]
    if len(body) < n:
        last = body[-1][0] if body else ln
        raise InstanceFormatError(f"wrong count: header says {n} jobs, found {len(body)} job line(s) (truncated file?)", path, last + 1)
    if len(body) > n:
        raise InstanceFormatError(f"wrong count: header says {n} jobs, found extra data after the last job", path, body[n][0])
    job_len = np.empty(n, np.int64)
    rows_m: list[int] = []
    rows_d: list[int] = []
    op_of: list[int] = []
    n_op = 0
    for j, (lj, tj) in enumerate(body):
        line = _Line(path, lj, tj, f"job {j}")
        k_ops = line.int("number of operations", 1, len(tj))
        job_len[j] = k_ops
        for o in range(k_ops):
            k = line.int(f"operation {o}: number of machines", 1, m)
            seen = set()
            for _ in range(k):
                mm = line.int(f"operation {o}: machine (1-based)", 1, m)
                if mm in seen:
                    raise line.error(f"operation {o}: machine {mm} listed twice")
                seen.add(mm)
                rows_m.append(mm - 1)
                rows_d.append(line.int(f"operation {o}: duration on machine {mm}"))
                op_of.append(n_op)
            n_op += 1
        line.done()
    dur = np.zeros((n_op, m), np.int64)
    elig = np.zeros((n_op, m), bool)
    dur[op_of, rows_m] = rows_d
    elig[op_of, rows_m] = True
    return _make(lambda: FJSPInstance(name, m, job_len, dur, elig), path)


def fjsp_text(instance: FJSPInstance) -> str:
    """``.fjs`` text (1-based machines); the third header number is the true mean flexibility."""
    if instance.release.any() or instance.due is not None or instance.job_due is not None:
        raise JSchedError(f"{instance.name}: the .fjs format has no release/due times; write JSON instead")
    flex = instance.eligible.sum() / max(instance.n_ops, 1)
    lines = [f"{instance.n_jobs} {instance.n_machines} {flex:.6g}"]
    for j in range(instance.n_jobs):
        parts = [str(int(instance.job_lengths[j]))]
        for r in range(instance.job_start[j], instance.job_start[j] + instance.job_lengths[j]):
            ms = np.flatnonzero(instance.eligible[r])
            parts.append(str(len(ms)))
            parts += [f"{int(k) + 1} {int(instance.durations[r, k])}" for k in ms]
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# JSON


def instance_to_json(instance: Instance) -> dict:
    """The JSON form (see the module docstring) as a dict."""
    out = {"format": JSON_FORMAT, "version": JSON_VERSION, "name": instance.name, "n_machines": int(instance.n_machines)}
    if isinstance(instance, JSPInstance):
        out["kind"] = "jsp"
        out["jobs"] = [
            [{"machine": int(a), "duration": int(b)} for a, b in zip(mj, dj)]
            for mj, dj in zip(instance.machines, instance.durations)
        ]
        if instance.release.any():
            out["release"] = [int(r) for r in instance.release]
        return _job_due_to_json(instance, out)
    if isinstance(instance, FJSPInstance):
        out["kind"] = "fjsp"
        jobs = []
        for j in range(instance.n_jobs):
            ops = []
            for r in range(instance.job_start[j], instance.job_start[j] + instance.job_lengths[j]):
                ms = np.flatnonzero(instance.eligible[r])
                op = {"machines": [int(k) for k in ms], "durations": [int(instance.durations[r, k]) for k in ms]}
                if instance.release[r]:
                    op["release"] = int(instance.release[r])
                if instance.due is not None:
                    op["due"] = int(instance.due[r])
                ops.append(op)
            jobs.append(ops)
        out["jobs"] = jobs
        return _job_due_to_json(instance, out)
    raise JSchedError(f"cannot write {type(instance).__name__} as a jsched JSON instance")


def _job_due_to_json(instance: Instance, out: dict) -> dict:
    for key in ("job_due", "job_weight"):
        if getattr(instance, key) is not None:
            out[key] = [int(v) for v in getattr(instance, key)]
    return out


def _job_due_from_json(r: "_JSONReader", top: dict, n_jobs: int) -> dict:
    """``job_due`` / ``job_weight`` lists (one per job) as model keyword arguments."""
    out = {}
    for key in ("job_due", "job_weight"):
        if top.get(key) is not None:
            vals = r.list(top[key], key)
            if len(vals) != n_jobs:
                raise r.error(key, f"has {len(vals)} entries, expected one per job ({n_jobs})")
            out[key] = [r.int(x, f"{key}[{j}]", 1 if key == "job_weight" else 0) for j, x in enumerate(vals)]
    return out


def instance_from_json(data: str | dict, path: str = "<string>", name: str | None = None) -> Instance:
    """Build an instance from JSON text or an already-decoded dict."""
    text = None
    if isinstance(data, str):
        text = data
        try:
            data = json.loads(data, parse_int=_json_int, parse_constant=_JSONOdd)
        except json.JSONDecodeError as e:
            raise InstanceFormatError(f"invalid JSON: {e.msg} (column {e.colno})", path, e.lineno) from None
        except RecursionError:
            raise InstanceFormatError("invalid JSON: nested too deeply", path) from None
    r = _JSONReader(path, text)
    top = r.obj(data, "")
    if "format" not in top and "duration_matrix" in top:  # job-shop-lib's instance JSON
        from jsched.interop.jobshoplib import instance_from_jobshoplib

        return instance_from_jobshoplib(top, path, name)
    fmt = top.get("format", JSON_FORMAT)
    if fmt != JSON_FORMAT:
        raise r.error("format", f"expected {JSON_FORMAT!r}, got {str(fmt)[:40]!r}")
    version = top.get("version", JSON_VERSION)
    if version != JSON_VERSION:
        raise r.error("version", f"unsupported version {str(version)[:20]!r}, this jsched reads version {JSON_VERSION}")
    kind = top.get("kind")
    if kind not in ("jsp", "fjsp"):
        raise r.error("kind", f"expected 'jsp' or 'fjsp', got {str(kind)[:40]!r}")
    nm = name if name is not None else top.get("name", "instance")
    if not isinstance(nm, str) or not nm.isprintable():
        raise r.error("name", "must be a one-line printable string")
    m = r.int(top.get("n_machines"), "n_machines", 1, _MAX_MACHINES)
    jobs = r.list(top.get("jobs"), "jobs", min_len=1)
    due = _job_due_from_json(r, top, len(jobs))
    if kind == "jsp":
        return _jsp_from_json(r, top, jobs, nm, m, due)
    return _fjsp_from_json(r, jobs, nm, m, due)


def _jsp_from_json(r: "_JSONReader", top: dict, jobs: list, name: str, m: int, due: dict) -> JSPInstance:
    n_ops = None
    mach, dur = [], []
    for j, job in enumerate(jobs):
        ops = r.list(job, f"jobs[{j}]", min_len=1)
        if n_ops is None:
            n_ops = len(ops)
        elif len(ops) != n_ops:
            raise r.error(f"jobs[{j}]", f"has {len(ops)} operations, job 0 has {n_ops} (a JSP is rectangular; use kind 'fjsp')")
        row_m, row_d = [], []
        for i, op in enumerate(ops):
            f = f"jobs[{j}][{i}]"
            op = r.obj(op, f)
            row_m.append(r.int(op.get("machine"), f + ".machine", 0, m - 1))
            row_d.append(r.int(op.get("duration"), f + ".duration"))
        mach.append(row_m)
        dur.append(row_d)
    release = None
    if top.get("release") is not None:
        rel = r.list(top["release"], "release")
        if len(rel) != len(jobs):
            raise r.error("release", f"has {len(rel)} entries, expected one per job ({len(jobs)})")
        release = [r.int(x, f"release[{j}]") for j, x in enumerate(rel)]
    return _make(lambda: JSPInstance(name, np.array(mach), np.array(dur), m, release=release, **due), r.path)


def _fjsp_from_json(r: "_JSONReader", jobs: list, name: str, m: int, job_due: dict) -> FJSPInstance:
    job_len, rows_d, rows_e, rel, due = [], [], [], [], []
    for j, job in enumerate(jobs):
        ops = r.list(job, f"jobs[{j}]", min_len=1)
        job_len.append(len(ops))
        for i, op in enumerate(ops):
            f = f"jobs[{j}][{i}]"
            op = r.obj(op, f)
            ms = r.list(op.get("machines"), f + ".machines", min_len=1)
            ds = r.list(op.get("durations"), f + ".durations", min_len=1)
            if len(ms) != len(ds):
                raise r.error(f, f"'machines' has {len(ms)} entries but 'durations' has {len(ds)}")
            d_row = np.zeros(m, np.int64)
            e_row = np.zeros(m, bool)
            for k, (mk, dk) in enumerate(zip(ms, ds)):
                mk = r.int(mk, f"{f}.machines[{k}]", 0, m - 1)
                if e_row[mk]:
                    raise r.error(f"{f}.machines[{k}]", f"machine {mk} listed twice")
                e_row[mk] = True
                d_row[mk] = r.int(dk, f"{f}.durations[{k}]")
            rows_d.append(d_row)
            rows_e.append(e_row)
            rel.append(r.int(op.get("release", 0), f + ".release"))
            if "due" in op:
                due.append(r.int(op["due"], f + ".due"))
    if due and len(due) != len(rel):
        raise r.error("jobs", "'due' must be given on every operation or on none")
    return _make(
        lambda: FJSPInstance(name, m, np.array(job_len), np.array(rows_d), np.array(rows_e), np.array(rel), np.array(due) if due else None, **job_due),
        r.path,
    )


class _JSONOdd:
    """A JSON number Python should not convert: NaN, Infinity, or an integer of more than
    ``_MAX_DIGITS`` digits (``int()`` refuses over 4,300 digits and is slow before that). Kept as
    text so that the field that holds it is reported as out of range or not an integer."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        t = self.text.lstrip("-")
        return self.text if not t.isdigit() else f"{self.text[:20]}... ({len(t)} digits)"


def _json_int(text: str):
    return _JSONOdd(text) if len(text) > _MAX_DIGITS else int(text)


class _JSONReader:
    """Type checks for decoded JSON; errors name the file, the field path and its line."""

    def __init__(self, path: str, text: str | None = None):
        self.path, self.text = path, text

    def error(self, field: str, msg: str) -> InstanceFormatError:
        line = None if self.text is None else _json_field_line(self.text, field)
        return InstanceFormatError(f"field {field or '<top>'}: {msg}", self.path, line)

    def obj(self, x, field: str) -> dict:
        if not isinstance(x, dict):
            raise self.error(field, f"expected an object, got {type(x).__name__}")
        return x

    def list(self, x, field: str, min_len: int = 0) -> list:
        if not isinstance(x, list):
            raise self.error(field, f"expected a list, got {'nothing (missing)' if x is None else type(x).__name__}")
        if len(x) < min_len:
            raise self.error(field, f"needs at least {min_len} entr{'y' if min_len == 1 else 'ies'}")
        return x

    def int(self, x, field: str, lo: int = 0, hi: int = _MAX_VALUE) -> int:
        if x is None:
            raise self.error(field, "missing")
        if isinstance(x, _JSONOdd) and x.text.lstrip("-").isdigit():
            raise self.error(field, f"{x} out of range {lo}..{hi}")
        if isinstance(x, bool) or not isinstance(x, int):
            raise self.error(field, f"expected an integer, got {str(x)[:40]!r}")
        if x < lo or x > hi:
            if x < 0 and "duration" in field:
                raise self.error(field, f"negative duration {x}")
            raise self.error(field, f"{x} out of range {lo}..{hi}")
        return x


class _At:
    """A decoded JSON value and the index where it starts in the text."""

    __slots__ = ("v", "pos")

    def __init__(self, v, pos: int):
        self.v, self.pos = v, pos


def _json_field_line(text: str, field: str) -> int | None:
    """Line of the value at ``field`` (e.g. ``jobs[3][1].machines``), or of its deepest parent.

    Only run when reporting an error: the text is decoded again with the pure-Python scanner,
    wrapping every value with its start index.
    """

    def wrap(scan_once):
        def scan(s, idx):
            v, end = scan_once(s, idx)
            return _At(v, idx), end

        return scan

    dec = json.JSONDecoder(parse_int=_json_int, parse_constant=_JSONOdd)
    dec.parse_object = lambda se, strict, so, *a: json.decoder.JSONObject(se, strict, wrap(so), *a)
    dec.parse_array = lambda se, so: json.decoder.JSONArray(se, wrap(so))
    dec.scan_once = wrap(json.scanner.py_make_scanner(dec))
    try:
        node = dec.decode(text)
    except (ValueError, RecursionError):
        return None
    pos = node.pos
    for key, idx in re.findall(r"([A-Za-z_]\w*)|\[(\d+)\]", field):
        try:
            node = node.v[key] if key else node.v[int(idx)]
        except (KeyError, IndexError, TypeError):
            break
        pos = node.pos
    return text.count("\n", 0, pos) + 1


# --------------------------------------------------------------------------------------------
# Writing


def write_instance(instance: Instance, path: str | os.PathLike, fmt: str | None = None) -> None:
    """Write an instance atomically; format from ``fmt`` or the extension (.json, .fjs, else JSP text)."""
    p = os.fspath(path)
    if fmt is None:
        ext = os.path.splitext(p)[1].lower()
        fmt = {".json": "json", ".fjs": "fjsp"}.get(ext, "jsp" if isinstance(instance, JSPInstance) else "fjsp")
    if fmt == "json":
        text = json.dumps(instance_to_json(instance), separators=(",", ":")) + "\n"
    elif fmt == "fjsp":
        fj = instance.to_fjsp() if isinstance(instance, JSPInstance) else instance
        text = fjsp_text(fj)
    elif fmt == "jsp":
        if not isinstance(instance, JSPInstance):
            raise JSchedError(f"{instance.name}: an FJSP instance cannot be written as JSP text; use .fjs or .json")
        text = jsp_text(instance)
    else:
        raise JSchedError(f"unknown instance format {fmt!r}; use 'jsp', 'fjsp' or 'json'")
    write_text_atomic(p, text)


def instances_equal(a: Instance, b: Instance) -> bool:
    """Same kind, machine count and arrays (names are not compared)."""
    if type(a) is not type(b) or a.n_machines != b.n_machines:
        return False
    for k in ("job_due", "job_weight"):
        x, y = getattr(a, k), getattr(b, k)
        if (x is None) != (y is None) or (x is not None and not np.array_equal(x, y)):
            return False
    if isinstance(a, JSPInstance):
        keys = ("machines", "durations", "release")
    else:
        keys = ("job_lengths", "durations", "eligible", "release")
        if (a.due is None) != (b.due is None) or (a.due is not None and not np.array_equal(a.due, b.due)):
            return False
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in keys)


def _make(build, path: str):
    """Run a model constructor, re-raising its validation errors with the file name."""
    try:
        return build()
    except InstanceFormatError as e:
        if e.path is None:
            raise InstanceFormatError(str(e), path) from None
        raise
