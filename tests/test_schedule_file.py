"""The schedule JSON contract (format, version, instance data; old files still read) and the
``jsched validate`` / ``jsched gantt`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jsched
from jsched import cli
from jsched.errors import JSchedError
from jsched.instances.io import instances_equal
from jsched.schedule import read_schedule

DATA = Path(__file__).resolve().parent / "data" / "jobshoplib"


@pytest.fixture
def saved(tmp_path) -> Path:
    """ft06 with job-shop-lib's dispatching-rule schedule, saved as a jsched schedule file."""
    inst, schedule, _ = read_schedule(DATA / "ft06_schedule.json")
    path = tmp_path / "s.json"
    jsched.Result(jsched.load("ft06"), schedule, extra={"rule": "mwkr"}, method="test").save(path)
    return path


def test_schedule_json_carries_format_version_and_instance(saved):
    data = json.loads(saved.read_text())
    assert (data["format"], data["version"], data["instance"], data["rule"]) == ("jsched-schedule", 1, "ft06", "mwkr")
    inst, schedule, payload = read_schedule(saved)
    assert instances_equal(inst, jsched.load("ft06")) and jsched.validate(inst, schedule).makespan == payload["makespan"] == 61


def test_old_files_without_the_tags_are_read(saved):
    data = json.loads(saved.read_text())
    for k in ("format", "version", "instance_data"):
        del data[k]
    saved.write_text(json.dumps(data))
    inst, schedule, payload = read_schedule(saved)
    assert inst is None and payload["instance"] == "ft06" and schedule.makespan == 61


@pytest.mark.parametrize("change, match", [({"format": "other"}, "field format"), ({"version": 2}, "field version"),
                                           ({"operations": None}, "expected a list")])  # fmt: skip
def test_foreign_or_newer_files_are_refused(saved, change, match):
    saved.write_text(json.dumps({**json.loads(saved.read_text()), **change}))
    with pytest.raises(JSchedError, match=match):
        read_schedule(saved)


def test_validate_prints_metrics(saved, capsys):
    assert cli.main(["validate", "ft06", str(saved)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("valid: instance=ft06 operations=36 makespan=61 best_known=55 gap=10.91%") and out.count("\n") == 1
    assert cli.main(["validate", "ft06", str(DATA / "ft06_schedule.json")]) == 0  # job-shop-lib's own file


def test_validate_without_instance_reads_the_embedded_or_named_one(saved, tmp_path, capsys):
    assert cli.main(["validate", str(saved)]) == 0
    assert capsys.readouterr().out.startswith("valid: instance=ft06 operations=36 makespan=61")
    old = {k: v for k, v in json.loads(saved.read_text()).items() if k != "instance_data"}
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert cli.main(["validate", str(tmp_path / "old.json")]) == 0  # names ft06
    (tmp_path / "bare.json").write_text(json.dumps({"operations": old["operations"]}))
    assert cli.main(["validate", str(tmp_path / "bare.json")]) == 2
    assert "neither embeds nor names its instance" in capsys.readouterr().err
    assert cli.main(["validate", "ft06", str(saved), str(saved)]) == 2


def test_validate_invalid_exits_1_with_one_line(saved, capsys):
    data = json.loads(saved.read_text())
    data["operations"][0]["start"] += 1
    data["operations"][0]["end"] += 1
    broken = saved.with_name("broken.json")
    broken.write_text(json.dumps(data))
    assert cli.main(["validate", "ft06", str(broken)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("invalid: ") and out.count("\n") == 1
    assert cli.main(["validate", "ft10", str(saved)]) == 1
    assert "made for another instance (ft06)" in capsys.readouterr().out
    assert cli.main(["validate", "ft06", str(saved.with_name("missing.json"))]) == 2


def test_gantt_draws_a_schedule_file(saved, tmp_path, capsys):
    out = tmp_path / "g.svg"
    assert cli.main(["gantt", str(saved), "-o", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml") and "makespan 61" in out.read_text()
    assert cli.main(["gantt", str(saved), "-o", str(tmp_path / "g.jpg")]) == 2
    assert "format must be one of .png, .svg, .pdf" in capsys.readouterr().err
    old = json.loads(saved.read_text())
    del old["instance_data"], old["instance"]
    saved.write_text(json.dumps(old))
    assert cli.main(["gantt", str(saved), "-o", str(out)]) == 2 and "pass --instance" in capsys.readouterr().err
    assert cli.main(["gantt", str(saved), "-o", str(out), "--instance", "ft06"]) == 0
