"""Interop: job-shop-lib's JSON (fixtures written by job-shop-lib 1.7.2 itself, see
tests/data/jobshoplib/make_fixtures.py) and the PyJobShop export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import jsched
from jsched.errors import InstanceFormatError, JSchedError, ScheduleError
from jsched.instances import FJSPInstance, JSPInstance, best_known
from jsched.instances.io import instances_equal
from jsched.interop import (
    instance_to_jobshoplib,
    pyjobshop_data,
    schedule_from_jobshoplib,
    schedule_to_jobshoplib,
    to_pyjobshop,
    write_jobshoplib,
)
from jsched.schedule import Schedule, read_schedule

DATA = Path(__file__).resolve().parent / "data" / "jobshoplib"


def fixture(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_load_reads_instances_written_by_jobshoplib():
    ft06 = jsched.load(str(DATA / "ft06.json"))
    assert isinstance(ft06, JSPInstance) and instances_equal(ft06, jsched.load("ft06")) and best_known(ft06) == 55
    flex = jsched.load(str(DATA / "flex3.json"))
    assert isinstance(flex, FJSPInstance) and flex.name == "flex3" and flex.job_lengths.tolist() == [3, 2, 3]
    assert flex.eligible[0].tolist() == [True, True, False] and flex.durations[0].tolist() == [3, 3, 0]
    assert flex.release.tolist() == [0, 0, 0, 2, 2, 0, 5, 5] and flex.due.tolist() == [4, 7, 12, 6, 12, 5, 9, 14]


def test_writer_gives_back_jobshoplibs_own_json(tmp_path):
    mine = instance_to_jobshoplib(jsched.load("ft06"))
    theirs = fixture("ft06.json")
    keys = ("name", "duration_matrix", "machines_matrix")
    assert {k: mine[k] for k in keys} == {k: theirs[k] for k in keys}
    assert mine["metadata"] == {"optimum": 55, "lower_bound": 55, "upper_bound": 55}
    flex = jsched.load(str(DATA / "flex3.json"))
    assert instance_to_jobshoplib(flex) == fixture("flex3.json")
    write_jobshoplib(tmp_path / "f.json", flex)
    assert instances_equal(jsched.load(str(tmp_path / "f.json")), flex)
    rel = JSPInstance("rel", np.array([[0, 1], [1, 0]]), np.array([[2, 3], [4, 1]]), release=[0, 3])
    write_jobshoplib(tmp_path / "r.json", rel)
    assert instances_equal(jsched.load(str(tmp_path / "r.json")), rel)


@pytest.mark.parametrize("name", ["ft06_schedule.json", "flex3_schedule.json"])
def test_reads_schedules_written_by_jobshoplib(name):
    data = fixture(name)
    inst, schedule, _ = read_schedule(DATA / name)
    assert jsched.validate(inst, schedule).makespan == data["metadata"]["makespan"]
    again = schedule_from_jobshoplib(schedule_to_jobshoplib(inst, schedule))[1]
    assert (again.start == schedule.start).all() and (again.machine == schedule.machine).all()


def test_exported_schedule_is_the_semi_active_one_of_its_sequences():
    inst, s, _ = read_schedule(DATA / "ft06_schedule.json")
    late = Schedule(s.job, s.op, s.machine, s.start + 5, s.end + 5)
    data = schedule_to_jobshoplib(inst, late, method="test")
    assert data["metadata"] == {"makespan": 66, "method": "test"} and len(data["job_sequences"]) == 6
    assert schedule_from_jobshoplib(data)[1].makespan == 61


def test_what_jobshoplib_cannot_hold_is_refused():
    with pytest.raises(JSchedError, match="one duration per operation"):
        instance_to_jobshoplib(jsched.load("mk01"))
    inst, s, _ = read_schedule(DATA / "flex3_schedule.json")
    # Job 2's op 1 on machine 1 (after job 0's op 2): the loader's replay would put it on machine 0.
    start = s.start + [0, 0, 0, 0, 0, 0, 1, 1]
    moved = Schedule(s.job, s.op, np.where(np.arange(8) == 6, 1, s.machine), start, start + [3, 2, 4, 2, 5, 4, 1, 3])
    jsched.validate(inst, moved)
    with pytest.raises(JSchedError, match="cannot hold this flexible schedule"):
        schedule_to_jobshoplib(inst, moved)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"deadlines_matrix": [[9] * 6] * 6}, "deadlines_matrix: hard deadlines"),
        ({"due_dates_matrix": [[None] * 6] * 5 + [[3] * 6]}, "every operation or on none"),
        ({"machines_matrix": [[-1] * 6] * 6}, r"machines_matrix\[0\]\[0\]"),
        ({"release_dates_matrix": [[0] * 5] * 6}, "release_dates_matrix: shape"),
    ],
)
def test_malformed_jobshoplib_instances(change, match, tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({**fixture("ft06.json"), **change}))
    with pytest.raises(InstanceFormatError, match=match):
        jsched.load(str(p))


def test_cyclic_job_sequences_are_a_deadlock():
    data = fixture("ft06_schedule.json")
    data["job_sequences"][0] = data["job_sequences"][0][::-1]
    with pytest.raises(ScheduleError, match="deadlock"):
        schedule_from_jobshoplib(data)


def test_pyjobshop_data_needs_no_pyjobshop():
    inst, s, _ = read_schedule(DATA / "flex3_schedule.json")
    d = pyjobshop_data(inst, s)
    assert d["n_machines"] == 3 and len(d["tasks"]) == 8 and d["precedences"] == [[0, 1], [1, 2], [3, 4], [5, 6], [6, 7]]
    assert d["tasks"][0] == {"job": 0, "op": 0, "earliest_start": 0, "modes": [[0, 3], [1, 3]]}
    assert d["jobs"][1] == {"release_date": 2, "due_date": 12}
    for t, sol in zip(d["tasks"], d["solution"]):
        assert t["modes"][sol["mode"]][0] == sol["machine"]
    mk = pyjobshop_data(jsched.load("mk01"))
    assert mk["tasks"][0]["modes"] == [[0, 5], [2, 4]] and mk["solution"] is None  # machine-dependent durations


def test_to_pyjobshop_solves_from_a_jsched_schedule():
    pytest.importorskip("pyjobshop")
    inst, s, _ = read_schedule(DATA / "flex3_schedule.json")
    model, solution = to_pyjobshop(inst, s)
    assert len(model.tasks) == 8 and len(model.modes) == 12 and solution.tasks[0].start == s.start[0]
    result = model.solve(time_limit=5, num_workers=1, display=False, initial_solution=solution)
    assert result.objective <= s.makespan
