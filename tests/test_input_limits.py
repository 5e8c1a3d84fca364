"""Input limits: NaN/inf, absurd numbers and sizes, int32 time bounds, missing paths (issue 22).

Every case is a one-line JSchedError naming the file (and line/field where there is one).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from jsched.errors import InstanceFormatError, JSchedError, UnknownInstanceError
from jsched.instances import FJSPInstance, JSPInstance, load, read_instance
from jsched.instances.io import instance_from_json, parse_fjsp_text, parse_jsp_text
from jsched.instances.model import MAX_TIME_BOUND
from jsched.instances.pfsp import PFSPInstance, generate_cas, read_cas, write_cas


def _one_line(e) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


def _jsp_json(duration_text: str, release: str | None = None) -> str:
    rel = "" if release is None else f', "release": [{release}]'
    return '{"kind": "jsp", "n_machines": 1, "jobs": [[{"machine": 0, "duration": ' + duration_text + "}]]" + rel + "}"


@pytest.mark.parametrize(
    "number, match",
    [
        ("9" * 5000, r"field jobs\[0\]\[0\]\.duration: 99999999999999999999\.\.\. \(5000 digits\) out of range"),
        ("-" + "9" * 5000, r"\(5000 digits\) out of range"),
        ("9" * 31, "out of range"),
        ("2147483648", "2147483648 out of range 0..2147483647"),
        ("NaN", "expected an integer, got 'NaN'"),
        ("Infinity", "expected an integer, got 'Infinity'"),
        ("-Infinity", "expected an integer"),
        ("1e999", "expected an integer, got 'inf'"),
        ("3.0", "expected an integer"),
    ],
)
def test_json_numbers(tmp_path, number, match):
    p = tmp_path / "big.json"
    p.write_text(_jsp_json(number))
    with pytest.raises(InstanceFormatError, match=match) as e:
        read_instance(p)
    assert _one_line(e).startswith(f"{p}:1: ")


def test_json_odd_values_elsewhere_are_one_line_errors():
    for doc in (
        '{"kind": "jsp", "n_machines": ' + "7" * 5000 + ', "jobs": [[]]}',
        '{"kind": "jsp", "n_machines": NaN, "jobs": [[]]}',
        '{"version": ' + "1" * 4400 + ', "kind": "jsp", "n_machines": 1, "jobs": [[]]}',
        '{"name": NaN, "kind": "jsp", "n_machines": 1, "jobs": [[{"machine": 0, "duration": 1}]]}',
    ):
        with pytest.raises(InstanceFormatError) as e:
            instance_from_json(doc, "f.json")
        _one_line(e)


@pytest.mark.parametrize("tok", ["1_0", "\uff13", "+", "9" * 40, "9" * 5000, "0x10", "nan", "inf"])
def test_text_tokens_strict(tok):
    with pytest.raises(InstanceFormatError) as e:
        parse_jsp_text(f"1 1\n0 {tok}\n", "f.txt")
    msg = _one_line(e)
    assert msg.startswith("f.txt:2: job 0: operation 0 duration: ")
    assert len(msg) < 200
    with pytest.raises(InstanceFormatError):
        parse_fjsp_text(f"1 1\n1 1 1 {tok}\n", "f.fjs")


def test_signed_and_padded_integers_still_read():
    inst = parse_jsp_text("1 1\n0 +007\n", "f.txt")
    assert inst.durations.tolist() == [[7]]


def test_time_sums_must_fit_int32(tmp_path):
    half = MAX_TIME_BOUND // 2 + 1
    p = tmp_path / "wide.txt"
    p.write_text(f"2 1\n0 {half}\n0 {half}\n")
    with pytest.raises(InstanceFormatError, match="too large for the solvers' 32-bit times") as e:
        read_instance(p)
    assert _one_line(e).startswith(f"{p}: ")
    p.write_text(f"2 1\n0 {half}\n0 {half - 1}\n")  # sum 2**31 - 1: still fits
    assert read_instance(p).horizon_bound() == MAX_TIME_BOUND
    # releases count too (latest release + total work)
    p = tmp_path / "rel.json"
    p.write_text(_jsp_json("10", release=str(MAX_TIME_BOUND - 5)))
    with pytest.raises(InstanceFormatError, match=r"latest release 2147483642 \+ total processing time 10"):
        read_instance(p)
    # an FJSP counts each operation's longest eligible duration
    f = FJSPInstance("ok", 2, [2], [[1, half], [half - 1, 1]], np.ones((2, 2), bool))
    assert f.horizon_bound() == MAX_TIME_BOUND
    with pytest.raises(InstanceFormatError, match="32-bit"):
        FJSPInstance("big", 2, [2], [[1, half], [half, 1]], np.ones((2, 2), bool))
    with pytest.raises(InstanceFormatError, match="due times"):
        FJSPInstance("due", 1, [1], [[1]], [[True]], due=[-1])


@pytest.mark.parametrize(
    "durations, match",
    [
        ([[3.9]], "3.9 is not an integer"),
        ([[float("nan")]], "is not an integer"),
        ([[2**70]], "out of range"),
        (np.array([[2**63]], np.uint64), "out of range"),
        ([["3"]], "must be integers"),
        ([[2**40]], "32-bit"),
    ],
)
def test_model_rejects_truncating_values(durations, match):
    with pytest.raises(InstanceFormatError, match=match) as e:
        JSPInstance("m", [[0]], durations)
    _one_line(e)
    assert JSPInstance("m", [[0]], [[3.0]]).durations.dtype == np.int64


def _cas(tmp_path, mutate):
    inst = generate_cas(np.random.default_rng(0), 3, 2, days=1)
    p = tmp_path / "x.cas"
    write_cas(inst, p)
    lines = p.read_text().splitlines()
    mutate(lines)
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda ls: ls.__setitem__(-1, "nan," + ls[-1].split(",", 1)[1]), r":10: series: field 1 is 'nan', not a finite number"),
        (lambda ls: ls.__setitem__(-2, ls[-2].rsplit(",", 1)[0] + ",inf"), "field 96 is 'inf', not a finite number"),
        (lambda ls: ls.__setitem__(-3, "-Infinity," + ls[-3].split(",", 1)[1]), "not a finite number"),
        (lambda ls: ls.__setitem__(-1, "1e999," + ls[-1].split(",", 1)[1]), "out of range"),
        (lambda ls: ls.__setitem__(-1, "1_0," + ls[-1].split(",", 1)[1]), "not a number"),
        (lambda ls: ls.__setitem__(1, "0,0,5,nan"), ":2: power values: field 2 is 'nan', not an integer"),
        (lambda ls: ls.__setitem__(1, "0,0,2.5"), "field 1 is '2.5', not an integer"),
        (lambda ls: ls.__setitem__(1, "0,0," + "9" * 5000), "out of range"),
        (lambda ls: ls.__setitem__(0, "9" * 40 + "," + ls[0].split(",", 1)[1]), ":1: header: field 1 .* out of range"),
    ],
)
def test_cas_rejects_non_finite_and_absurd_numbers(tmp_path, mutate, match):
    p = _cas(tmp_path, mutate)
    with pytest.raises(InstanceFormatError, match=match) as e:
        read_cas(p)
    _one_line(e)


def test_pfsp_model_rejects_non_finite_series():
    inst = generate_cas(np.random.default_rng(1), 2, 1)
    gen = np.array(inst.generation)
    gen[3] = np.nan
    with pytest.raises(InstanceFormatError, match="generation value nan"):
        PFSPInstance("p", inst.durations, inst.power, gen, inst.carbon)
    power = np.array(inst.power)
    power[0, 0, 0] = np.inf
    with pytest.raises(InstanceFormatError, match="power values must be finite"):
        PFSPInstance("p", inst.durations, power, inst.generation, inst.carbon)


def test_missing_path_without_extension_keeps_its_path(tmp_path):
    for spec in (str(tmp_path / "no-such-instance"), "./no-such-instance", "some/dir/inst", "~/nothing-here"):
        with pytest.raises(InstanceFormatError) as e:
            load(spec)
        assert _one_line(e) == f"{spec}: no such file (and not a benchmark name)"
    with pytest.raises(UnknownInstanceError) as e:
        load("no-such-benchmark")
    msg = _one_line(e)
    assert "'no-such-benchmark'" in msg and "list_benchmarks" not in msg and "file path" in msg
    with pytest.raises(UnknownInstanceError, match="did you mean ta10"):
        load("ta1000")


def test_json_writer_reader_round_trip_unchanged(tmp_path):
    inst = JSPInstance("r", [[0, 1], [1, 0]], [[3, 2], [4, 0]], release=[0, 5])
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"format": "jsched-instance", "version": 1, "kind": "jsp", "name": "r", "n_machines": 2,
                             "jobs": [[{"machine": 0, "duration": 3}, {"machine": 1, "duration": 2}],
                                      [{"machine": 1, "duration": 4}, {"machine": 0, "duration": 0}]],
                             "release": [0, 5]}))  # fmt: skip
    back = read_instance(p)
    assert np.array_equal(back.durations, inst.durations) and back.release.tolist() == [0, 5]


def test_errors_are_jsched_errors():
    assert issubclass(InstanceFormatError, JSchedError)
