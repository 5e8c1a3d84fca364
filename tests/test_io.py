"""Instance file formats: round trips, format detection and one test per malformed kind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jsched.errors import InstanceFormatError, JSchedError
from jsched.instances import FJSPInstance, JSPInstance, load
from jsched.instances.benchmarks import data_dir
from jsched.instances.generators import sd1_fjsp, sd2_fjsp, taillard_jsp
from jsched.instances.io import (
    detect_format,
    fjsp_text,
    instance_from_json,
    instance_to_json,
    instances_equal,
    jsp_text,
    parse_fjsp_text,
    parse_jsp_text,
    read_instance,
    write_instance,
)

DATA = data_dir()
needs_data = pytest.mark.skipif(DATA is None, reason="shared benchmark data folder not found")

FT06_HEAD = "6 6\n2 1 0 3 1 6 3 7 5 3 4 6\n"


def _jsp(seed=0, n=4, m=3):
    return taillard_jsp(n, m, seed, name="t")


def _fjsp_with_times():
    f = sd2_fjsp(3, 3, 5, name="f")
    rel = np.arange(f.n_ops) % 3
    due = rel + 50
    return FJSPInstance("f", f.n_machines, f.job_lengths, f.durations, f.eligible, rel, due)


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_jsp_text_round_trip(seed):
    inst = _jsp(seed, 5, 4)
    assert instances_equal(parse_jsp_text(jsp_text(inst)), inst)


@pytest.mark.parametrize("seed", range(5))
def test_fjsp_text_round_trip(seed):
    inst = sd1_fjsp(4, 3, seed)
    assert instances_equal(parse_fjsp_text(fjsp_text(inst)), inst)


@pytest.mark.parametrize(
    "inst",
    [_jsp(1), JSPInstance("r", [[0, 1], [1, 0]], [[3, 0], [2, 2]], release=[0, 7]), sd2_fjsp(3, 4, 1), _fjsp_with_times()],
    ids=["jsp", "jsp-release", "fjsp", "fjsp-release-due"],
)
def test_json_round_trip(inst, tmp_path):
    back = instance_from_json(json.loads(json.dumps(instance_to_json(inst))))
    assert instances_equal(back, inst) and back.name == inst.name
    p = tmp_path / "x.json"
    write_instance(inst, p)
    assert instances_equal(read_instance(p), inst)


def test_files_round_trip_and_atomic_write(tmp_path):
    j, f = _jsp(2), sd1_fjsp(3, 4, 2)
    for inst, name in [(j, "a.txt"), (f, "b.fjs"), (j, "c.fjs")]:
        p = tmp_path / name
        write_instance(inst, p)
        back = read_instance(p)
        assert instances_equal(back, inst if name != "c.fjs" else j.to_fjsp())
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.txt", "b.fjs", "c.fjs"]  # no temp files left


def test_text_formats_refuse_release_times(tmp_path):
    with pytest.raises(JSchedError, match="JSON"):
        write_instance(JSPInstance("r", [[0]], [[1]], release=[3]), tmp_path / "r.txt")
    with pytest.raises(JSchedError, match="JSON"):
        write_instance(_fjsp_with_times(), tmp_path / "r.fjs")


def test_standard_and_taillard_layouts_agree():
    inst = _jsp(3, 4, 3)
    times = "\n".join(" ".join(map(str, r)) for r in inst.durations)
    machs = "\n".join(" ".join(str(int(x) + 1) for x in r) for r in inst.machines)
    plain = f"4 3\n{times}\n{machs}\n"
    labelled = f"Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound\n4 3 1 2 99 9\nTimes\n{times}\nMachines\n{machs}\n"
    for text in (plain, labelled):
        assert instances_equal(parse_jsp_text(text), inst)


def test_jsp_zero_duration_and_comments():
    inst = parse_jsp_text("# comment\n2 2\n\n0 0 1 5\n1 3 0 0\n")
    assert inst.durations.tolist() == [[0, 5], [3, 0]]


def test_fjsp_header_two_numbers_zero_duration_and_unused_machine():
    inst = parse_fjsp_text("2 4\n2 1 1 0 2 2 3 3 4\n1 1 2 7\n")
    assert inst.n_machines == 4 and inst.job_lengths.tolist() == [2, 1]
    assert inst.eligible[0].tolist() == [True, False, False, False] and inst.durations[0, 0] == 0
    assert inst.eligible[1].tolist() == [False, True, True, False] and inst.durations[1, 1:3].tolist() == [3, 4]
    assert not inst.eligible[:, 3].any()  # machine 4 declared, never used


@needs_data
def test_every_shared_fjsp_file_round_trips():
    files = sorted((DATA / "fjsp").rglob("*.fjs"))
    assert len(files) == 297
    for p in files:
        inst = read_instance(p)
        assert instances_equal(parse_fjsp_text(fjsp_text(inst)), inst), p
    orb7 = read_instance(DATA / "fjsp/hurink/edata/orb7.fjs")
    assert (orb7.durations[orb7.eligible] == 0).any()  # zero durations accepted
    mk06 = read_instance(DATA / "fjsp/brandimarte/mk06.fjs")
    assert mk06.n_machines == 15 and not mk06.eligible[:, 10:].any()  # declared but unused


def test_detect_format_by_extension_and_content(tmp_path):
    assert detect_format("a.fjs") == "fjsp" and detect_format("a.json") == "json" and detect_format("a.cas") == "cas"
    assert detect_format("a.jsp") == "jsp"
    for name, text, kind in [
        ("j", FT06_HEAD + "1 8 2 5 4 10 5 10 0 10 3 4\n" * 5, JSPInstance),
        ("f", "2 3 1.5\n1 2 1 4 3 5\n2 1 2 3 1 1 1\n", FJSPInstance),
        ("mk.txt", "2 3\n1 2 1 4 3 5\n2 1 2 3 1 1 1\n", FJSPInstance),  # Brandimarte files are .txt
        ("j.txt", "2 3\n0 1 1 2 2 3\n2 1 1 1 0 1\n", JSPInstance),
        ("g", '{"kind": "jsp", "n_machines": 1, "jobs": [[{"machine": 0, "duration": 2}]]}', JSPInstance),
    ]:
        p = tmp_path / name
        p.write_text(text)
        assert isinstance(load(str(p)), kind)


# --- malformed input: one test per kind, each names file and line ------------------------------

JSP_BAD = {
    "wrong-count": ("2 2\n0 1 1 2\n", 3, "header says 2 jobs"),
    "extra-data": ("1 2\n0 1 1 2\n0 1 1 2\n", 3, "extra data"),
    "machine-out-of-range": ("2 2\n0 1 2 3\n1 1 0 1\n", 2, "machine: 2 out of range"),
    "negative-duration": ("2 2\n0 1 1 2\n1 -4 0 1\n", 3, "negative duration"),
    "truncated-line": ("2 2\n0 1 1\n1 1 0 1\n", 2, "truncated"),
    "non-numeric": ("2 2\n0 1 1 2\n1 x 0 1\n", 3, "not an integer"),
    "float-token": ("2 2\n0 1 1 2.5\n1 1 0 1\n", 2, "not an integer"),
    "bad-header": ("2\n0 1 1 2\n", 1, "missing n_machines"),
    "header-extra": ("2 2 7\n0 1 1 2\n1 1 0 1\n", 1, "extra number"),
    "line-too-long": ("1 2\n0 1 1 2 1\n", 2, "extra number"),
    "taillard-machine-range": ("2 2\n1 2\n3 4\n1 2\n2 3\n", 5, "out of range 1..2"),
}
FJSP_BAD = {
    "wrong-count": ("2 2 1\n1 1 1 5\n", 3, "header says 2 jobs"),
    "machine-out-of-range": ("1 2\n1 1 3 5\n", 2, "out of range 1..2"),
    "machine-zero": ("1 2\n1 1 0 5\n", 2, "out of range 1..2"),
    "negative-duration": ("1 2\n1 1 1 -5\n", 2, "negative duration"),
    "truncated-line": ("2 2\n2 1 1 5 1\n1 1 1 1\n", 2, "truncated"),
    "non-numeric": ("1 2\n1 1 a 5\n", 2, "not an integer"),
    "no-machines": ("1 2\n1 0\n", 2, "number of machines: 0"),
    "duplicate-machine": ("1 2\n1 2 1 5 1 6\n", 2, "listed twice"),
    "extra-tokens": ("1 2\n1 1 1 5 9\n", 2, "extra number"),
    "header-too-long": ("1 2 1 9\n1 1 1 5\n", 1, "2 or 3 numbers"),
    "header-bad-flex": ("1 2 abc\n1 1 1 5\n", 1, "not a number"),
    "zero-jobs": ("0 2\n", 1, "n_jobs: 0"),
}


@pytest.mark.parametrize("case", JSP_BAD, ids=list(JSP_BAD))
def test_jsp_malformed(case, tmp_path):
    text, line, msg = JSP_BAD[case]
    p = tmp_path / "bad.jsp"
    p.write_text(text)
    with pytest.raises(InstanceFormatError, match=msg) as e:
        read_instance(p)
    assert e.value.line == line and e.value.path == str(p)
    assert str(e.value).startswith(f"{p}:{line}: ")


@pytest.mark.parametrize("case", ["wrong-count", "machine-out-of-range", "negative-duration", "truncated-line", "non-numeric"])
def test_jsp_malformed_txt_gets_jsp_messages(case, tmp_path):
    text, line, msg = JSP_BAD[case]
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(InstanceFormatError, match=msg) as e:
        read_instance(p)
    assert e.value.line == line


@pytest.mark.parametrize("case", FJSP_BAD, ids=list(FJSP_BAD))
def test_fjsp_malformed(case, tmp_path):
    text, line, msg = FJSP_BAD[case]
    p = tmp_path / "bad.fjs"
    p.write_text(text)
    with pytest.raises(InstanceFormatError, match=msg) as e:
        read_instance(p)
    assert e.value.line == line and str(e.value).startswith(f"{p}:{line}: ")


@pytest.mark.parametrize("ext", [".txt", ".fjs", ".json", ""])
def test_binary_and_empty_files(ext, tmp_path):
    p = tmp_path / f"bin{ext}"
    p.write_bytes(b"10 5\n\x89PNG\x00\x01\xff")
    with pytest.raises(InstanceFormatError, match="binary") as e:
        read_instance(p)
    assert e.value.line == 2
    p.write_bytes(b"3 3\n\xff\xfe garbage")
    with pytest.raises(InstanceFormatError, match="binary"):
        read_instance(p)
    for empty in (b"", b"  \n\n\t\n"):
        p.write_bytes(empty)
        with pytest.raises(InstanceFormatError, match="empty") as e:
            read_instance(p)
        assert e.value.line == 1


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InstanceFormatError, match="no such file"):
        read_instance(tmp_path / "nope.fjs")
    with pytest.raises(JSchedError):
        load(str(tmp_path))


JSON_BAD = {
    "syntax": ('{"kind": "jsp",\n "jobs": [}', "invalid JSON", 2),
    "kind": ('{"kind": "pfsp", "n_machines": 1, "jobs": [[]]}', "field kind", 1),
    "version": ('{"version": 9, "kind": "jsp", "n_machines": 1, "jobs": [[]]}', "field version", 1),
    "missing-jobs": ('{"kind": "jsp", "n_machines": 1}', "field jobs: expected a list", 1),
    "machine-range": ('{"kind": "jsp", "n_machines": 1, "jobs": [[{"machine": 1, "duration": 2}]]}', r"jobs\[0\]\[0\]\.machine: 1 out of range", 1),
    "negative": ('{"kind": "jsp", "n_machines": 1, "jobs": [[{"machine": 0, "duration": -2}]]}', "negative duration", 1),
    "ragged": ('{"kind": "jsp", "n_machines": 1, "jobs": [[{"machine": 0, "duration": 2}], []]}', r"jobs\[1\]", 1),
    "not-int": ('{"kind": "fjsp", "n_machines": 2, "jobs": [[{"machines": [0], "durations": [1.5]}]]}', "expected an integer", 1),
    "length": ('{"kind": "fjsp", "n_machines": 2, "jobs": [[{"machines": [0, 1], "durations": [1]}]]}', "'durations' has 1", 1),
    "due-partial": ('{"kind": "fjsp", "n_machines": 1, "jobs": [[{"machines": [0], "durations": [1], "due": 3}, {"machines": [0], "durations": [1]}]]}', "every operation", 1),
    "release-count": ('{"kind": "jsp", "n_machines": 1, "jobs": [[{"machine": 0, "duration": 2}]], "release": [1, 2]}', "one per job", 1),
}  # fmt: skip


@pytest.mark.parametrize("case", JSON_BAD, ids=list(JSON_BAD))
def test_json_malformed(case, tmp_path):
    text, msg, line = JSON_BAD[case]
    p = tmp_path / "bad.json"
    p.write_text(text)
    with pytest.raises(InstanceFormatError, match=msg) as e:
        read_instance(p)
    assert e.value.path == str(p) and e.value.line == line


def test_json_structure_errors_name_the_line_of_the_field():
    doc = {"kind": "fjsp", "n_machines": 2, "jobs": [[{"machines": [0], "durations": [3]}], [{"machines": [0, 1], "durations": [1, -2]}]]}
    text = json.dumps(doc, indent=1)
    with pytest.raises(InstanceFormatError, match=r"jobs\[1\]\[0\]\.durations\[1\]: negative duration") as e:
        instance_from_json(text, "x.json")
    assert text.splitlines()[e.value.line - 1].strip() == "-2"
