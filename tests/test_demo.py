"""`jsched demo`: one table, CSV and Gantt per instance, for each problem kind (tiny, subsets of methods)."""

import csv

from jsched.cli import main


def _table(out_dir, name):
    with open(out_dir / f"{name}_comparison.csv") as fh:
        return list(csv.DictReader(fh))


def test_demo_jsp_table_sorted_and_gantts_written(tmp_path, capsys):
    assert main(["demo", "--instance", "ft06", "--methods", "mwkr,cpsat", "--time-limit", "5", "--out-dir", str(tmp_path)]) == 0
    rows = _table(tmp_path, "ft06")
    assert [r["method"] for r in rows] == ["cpsat", "mwkr"]  # sorted by makespan
    assert int(rows[0]["makespan"]) == 55 and float(rows[0]["gap_percent"]) == 0.0
    assert int(rows[1]["makespan"]) > 55
    assert all((tmp_path / f"ft06_{m}.png").stat().st_size > 0 for m in ("cpsat", "mwkr"))
    assert "All schedules passed the validator" in capsys.readouterr().out


def test_demo_fjsp_is_mk01_with_both_rho_rows(tmp_path):
    assert main(["demo", "--instance", "fjsp", "--methods", "mwkr,rho,lrho", "--time-limit", "2", "--out-dir", str(tmp_path)]) == 0
    rows = _table(tmp_path, "mk01")
    assert sorted(r["method"] for r in rows) == ["lrho", "mwkr", "rho"]
    assert all(int(r["makespan"]) >= 40 for r in rows)


def test_demo_pfsp_reports_emissions(tmp_path):
    assert main(["demo", "--instance", "pfsp", "--methods", "ma", "--out-dir", str(tmp_path)]) == 0
    (row,) = _table(tmp_path, "CAS-PFSP-gen-10x3-seed0")
    assert row["method"] == "ma" and float(row["emissions"]) > 0 and row["gap_percent"] == ""


def test_demo_unknown_method_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--methods", "nope", "--out-dir", str(tmp_path)]) == 2
    assert "unknown methods ['nope']" in capsys.readouterr().err
