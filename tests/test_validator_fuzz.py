"""The validator against an independent, slow checker: mutate valid schedules field by field.

The reference checker below is written from the problem definition alone, in plain Python over
the test's own instance description (no jsched code, no numpy vectorisation, O(n^2) overlap
test). Hypothesis draws small JSP/FJSP instances with releases and zero-length operations,
builds a valid schedule, applies up to three mutations (a field set to a near or far integer,
a fraction, NaN/inf, a boolean, a string, None, a numpy scalar; a shifted or re-routed
operation; a dropped, duplicated or incomplete entry) and requires the validator's verdict
(ScheduleError or not, nothing else ever raised) to equal the checker's, through each entry
point: ``Schedule.from_operations``, ``Schedule(**lists)`` and ``Schedule(**numpy arrays)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsched.errors import ScheduleError
from jsched.instances import FJSPInstance, JSPInstance
from jsched.schedule import MAX_TIME, Schedule, validate

FIELDS = ("job", "op", "machine", "start", "end")
LIMIT = 2**40  # the documented range, restated here on purpose (MAX_TIME is checked against it)


# ------------------------------------------------------------------------ reference checker
def _as_int(v):
    """The integer a schedule value stands for, or None when it is not a valid value."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        v = int(v)
    elif isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isnan(x) or math.isinf(x) or x != math.floor(x):
            return None
        v = int(x)
    else:
        return None
    return v if 0 <= v < LIMIT else None


def reference_ok(jobs, releases, n_machines, ops) -> bool:
    """True when ``ops`` (list of dicts) is a complete feasible schedule of the instance.

    ``jobs[j][i]`` is a dict {machine: duration} of operation i of job j; ``releases[j][i]`` its
    earliest start.
    """
    rows = []
    for o in ops:
        if not isinstance(o, dict):
            return False
        row = []
        for k in FIELDS:
            if k not in o:
                return False
            v = _as_int(o[k])
            if v is None:
                return False
            row.append(v)
        rows.append(row)
    seen = {}
    for j, i, m, s, e in rows:
        if j >= len(jobs) or i >= len(jobs[j]):
            return False
        if (j, i) in seen:
            return False
        seen[(j, i)] = (m, s, e)
    if len(seen) != sum(len(job) for job in jobs):
        return False
    for (j, i), (m, s, e) in seen.items():
        if m >= n_machines or m not in jobs[j][i]:
            return False
        if e - s != jobs[j][i][m]:
            return False
        if s < releases[j][i]:
            return False
        if i > 0 and s < seen[(j, i - 1)][2]:
            return False
    items = list(seen.values())
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            ma, sa, ea = items[a]
            mb, sb, eb = items[b]
            if ma == mb and ea > sa and eb > sb and sa < eb and sb < ea:
                return False
    return True


def test_reference_limit_is_the_documented_one():
    assert MAX_TIME == LIMIT


# ------------------------------------------------------------------------ instances
@st.composite
def instances(draw):
    """(jsched instance, jobs, releases, n_machines): a small JSP or FJSP with releases."""
    m = draw(st.integers(1, 3))
    n_jobs = draw(st.integers(1, 4))
    flexible = draw(st.booleans())
    if not flexible:
        n_ops = draw(st.integers(1, 3))
        machines = [[draw(st.integers(0, m - 1)) for _ in range(n_ops)] for _ in range(n_jobs)]
        durs = [[draw(st.integers(0, 5)) for _ in range(n_ops)] for _ in range(n_jobs)]
        rel = [draw(st.integers(0, 4)) for _ in range(n_jobs)]
        inst = JSPInstance("h", machines, durs, m, release=rel)
        jobs = [[{machines[j][i]: durs[j][i]} for i in range(n_ops)] for j in range(n_jobs)]
        releases = [[rel[j]] + [0] * (n_ops - 1) for j in range(n_jobs)]
        return inst, jobs, releases, m
    jobs, releases = [], []
    for _ in range(n_jobs):
        ops, rels = [], []
        for _ in range(draw(st.integers(1, 3))):
            elig = draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True))
            ops.append({k: draw(st.integers(0, 5)) for k in elig})
            rels.append(draw(st.integers(0, 4)))
        jobs.append(ops)
        releases.append(rels)
    n = sum(len(o) for o in jobs)
    dur = np.zeros((n, m), np.int64)
    elig = np.zeros((n, m), bool)
    r = 0
    for ops in jobs:
        for op in ops:
            for k, d in op.items():
                dur[r, k] = d
                elig[r, k] = True
            r += 1
    inst = FJSPInstance("h", m, [len(o) for o in jobs], dur, elig, release=[x for rs in releases for x in rs])
    return inst, jobs, releases, m


def greedy(jobs, releases, choose) -> list[dict]:
    """A valid schedule: jobs appended in a drawn order, each op at its earliest free time."""
    free = {}
    ops = []
    order = choose(len(jobs))
    for j in order:
        t = 0
        for i, opts in enumerate(jobs[j]):
            m = sorted(opts)[0]
            s = max(t, releases[j][i], free.get(m, 0))
            e = s + opts[m]
            free[m] = max(free.get(m, 0), e)
            ops.append({"job": j, "op": i, "machine": m, "start": s, "end": e})
            t = e
    return ops


# ------------------------------------------------------------------------ mutations
_SPECIAL = [
    LIMIT - 1, LIMIT, 2**31 - 1, 2**31, 2**32, 2**63 - 2, 2**63 - 1, 2**63, 2**64, 2**70, -1, -(2**63), -(2**70),
    3.9, 0.5, -0.0, 1e300, float("nan"), float("inf"), float("-inf"), True, False, "3", "x", "", None, [1], {"v": 1},
    np.int32(2), np.uint64(2**63), np.float32(2.5), np.float64(4.0), np.bool_(True), complex(1, 0),
]  # fmt: skip


@st.composite
def new_value(draw, old):
    kind = draw(st.sampled_from(["small", "near", "special", "asfloat", "frac", "numpy"]))
    if kind == "small":
        return draw(st.integers(-2, 25))
    if kind == "near":
        return old + draw(st.integers(-3, 3))
    if kind == "asfloat":
        return float(old)
    if kind == "frac":
        return old + draw(st.sampled_from([0.1, 0.5, 0.9, -0.9]))
    if kind == "numpy":
        return draw(st.sampled_from([np.int64, np.int16, np.uint32, np.float64]))(abs(old) % 30000)
    return draw(st.sampled_from(_SPECIAL))


@st.composite
def mutated(draw, ops: list[dict], m: int):
    ops = [dict(o) for o in ops]
    for _ in range(draw(st.integers(1, 3))):
        if not ops:
            break
        i = draw(st.integers(0, len(ops) - 1))
        what = draw(st.sampled_from(["field", "field", "field", "shift", "machine", "drop", "dup", "delkey", "swap"]))
        if what == "field":
            k = draw(st.sampled_from(FIELDS))
            old = ops[i].get(k)
            old = old if isinstance(old, int) and not isinstance(old, bool) else 0
            ops[i][k] = draw(new_value(old))
        elif what == "shift" and isinstance(ops[i].get("start"), int) and isinstance(ops[i].get("end"), int):
            d = draw(st.integers(-6, 6))
            ops[i]["start"] += d
            ops[i]["end"] += d
        elif what == "machine":
            ops[i]["machine"] = draw(st.integers(0, m))
        elif what == "drop":
            ops.pop(i)
        elif what == "dup":
            ops.append(dict(ops[i]))
        elif what == "delkey":
            ops[i].pop(draw(st.sampled_from(FIELDS)), None)
        elif what == "swap":
            k = draw(st.sampled_from(FIELDS))
            jdx = draw(st.integers(0, len(ops) - 1))
            if k in ops[i] and k in ops[jdx]:
                ops[i][k], ops[jdx][k] = ops[jdx][k], ops[i][k]
    return ops


def _verdict(build, inst) -> bool:
    try:
        validate(inst, build())
    except ScheduleError as e:
        assert "\n" not in str(e) and str(e)
        return False
    return True


def _numpy_columns(ops):
    """The columns as numpy would convert them (bools and ints may merge, strings take over)."""
    cols = {}
    for k in FIELDS:
        try:
            cols[k] = np.array([o[k] for o in ops])
        except (ValueError, TypeError, OverflowError):
            return None
        if cols[k].dtype.kind == "c":
            return None
    return cols


FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=st.data(), spec=instances())
def test_validator_agrees_with_reference_checker(data, spec):
    inst, jobs, releases, m = spec
    base = greedy(jobs, releases, lambda n: data.draw(st.permutations(range(n))))
    assert reference_ok(jobs, releases, m, base)
    assert _verdict(lambda: Schedule.from_operations(base), inst)
    ops = data.draw(mutated(base, m))
    want = reference_ok(jobs, releases, m, ops)
    assert _verdict(lambda: Schedule.from_operations(ops), inst) == want, ops
    if all(isinstance(o, dict) and all(k in o for k in FIELDS) for o in ops):
        lists = {k: [o[k] for o in ops] for k in FIELDS}
        assert _verdict(lambda: Schedule(**lists), inst) == want, ops
        cols = _numpy_columns(ops)
        if cols is not None:
            # numpy has already converted the values: judge what the validator receives
            as_ops = [{k: cols[k][r] for k in FIELDS} for r in range(len(ops))]
            want_np = reference_ok(jobs, releases, m, as_ops)
            assert _verdict(lambda: Schedule(**cols), inst) == want_np, cols


# ------------------------------------------------------------------------ the probe cases
JSP = JSPInstance("toy", [[0, 1], [1, 0]], [[3, 2], [4, 0]])
VALID = [
    {"job": 0, "op": 0, "machine": 0, "start": 0, "end": 3},
    {"job": 0, "op": 1, "machine": 1, "start": 4, "end": 6},
    {"job": 1, "op": 0, "machine": 1, "start": 0, "end": 4},
    {"job": 1, "op": 1, "machine": 0, "start": 4, "end": 4},
]


def _with(i, **kv):
    ops = [dict(o) for o in VALID]
    ops[i].update(kv)
    return ops


@pytest.mark.parametrize(
    "ops, match",
    [
        (_with(0, end=3.9), r"field end, operation 0: '3.9' is not an integer"),
        (_with(0, end=float("nan")), "is not an integer"),
        (_with(0, start=float("inf")), "is not an integer"),
        (_with(1, job=True), "is a boolean"),
        (_with(1, machine="1"), "is a str, not an integer"),
        (_with(2, start="0"), "is a str"),
        (_with(2, start=None), "is a NoneType"),
        (_with(3, start=2**63 - 2, end=2**63 - 2), r"out of range 0 <= start < 2\*\*40"),
        (_with(3, start=2**70, end=2**70), "out of range"),
        (_with(3, start=-1, end=-1), "out of range"),
        (_with(3, start=2**40, end=2**40), "out of range"),
        (_with(0, op=np.float64(0.5)), "is not an integer"),
    ],
)
def test_probe_values_rejected_with_one_line_error(ops, match):
    with pytest.raises(ScheduleError, match=match) as e:
        validate(JSP, Schedule.from_operations(ops))
    assert "\n" not in str(e.value)


def test_integral_floats_and_numpy_scalars_accepted():
    ops = _with(0, start=0.0, end=np.float64(3.0))
    ops[1]["end"] = np.int32(6)
    assert validate(JSP, Schedule.from_operations(ops)).makespan == 6
    s = Schedule(*(np.array([o[k] for o in VALID], dtype=np.float64) for k in FIELDS))
    assert s.start.dtype == np.int64 and validate(JSP, s).makespan == 6


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: Schedule(*(np.array([o[k] for o in VALID]) for k in FIELDS[:3]), np.array([0, 4, 0, 4]) > 0, np.array([3, 6, 4, 4])), "boolean"),
        (lambda: Schedule(*(np.array([o[k] for o in VALID]) for k in FIELDS[:4]), np.array(["3", "6", "4", "4"])), "are not integers"),
        (lambda: Schedule(*(np.array([o[k] for o in VALID]) for k in FIELDS[:4]), np.array([3.0, 6.5, 4, 4])), "operation 1: '6.5' is not an integer"),
        (lambda: Schedule(*(np.array([o[k] for o in VALID], np.uint64) for k in FIELDS[:4]), np.array([3, 6, 4, 2**63], np.uint64)), "out of range"),
        (lambda: Schedule([0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0], [0, 4, 0], [3, 6, 4, 4]), "different lengths"),
        (lambda: Schedule.from_operations({"job": 0}), "expected a list"),
        (lambda: Schedule.from_operations([1, 2]), "entry 0 is a int"),
        (lambda: Schedule.from_operations([{"job": 0}]), "entry 0 has no 'op'"),
        (lambda: Schedule.from_arrays(JSP, np.array([[0, 4], [0, 4.5]])), "not an integer"),
        (lambda: Schedule.from_arrays(JSP, [[0, 4], [0, True]]), "boolean"),
        (lambda: Schedule.from_arrays(JSP, np.array([0, 4, 0])), "start has 3 values"),
        (lambda: Schedule.from_arrays(JSP, np.array([[0, 4], [0, 2**63 - 2]])), "out of range"),
    ],
)
def test_array_entry_points_rejected(build, match):
    with pytest.raises(ScheduleError, match=match) as e:
        validate(JSP, build())
    assert "\n" not in str(e.value)


def test_from_arrays_machine_out_of_range_is_a_schedule_error():
    f = FJSPInstance("e", 2, [1], [[5, 0]], [[True, False]])
    with pytest.raises(ScheduleError, match="machine 7 out of range"):
        validate(f, Schedule.from_arrays(f, np.array([0]), np.array([7])))
    with pytest.raises(ScheduleError, match="expected a Schedule"):
        validate(f, VALID)

