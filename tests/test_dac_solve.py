"""``jsched solve FILE.cas --method ma / ma-dac``: JSON fields, plot, errors; slow quality checks."""

import json

import numpy as np
import pytest

from jsched.cli import main
from jsched.dac import ma
from jsched.dac.published import instance_path, published_runs
from jsched.instances.pfsp import generate_cas, read_cas, write_cas


@pytest.fixture(scope="module")
def cas_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cas") / "tiny.cas"
    write_cas(generate_cas(np.random.default_rng(0), 5, 2, days=1), path)
    return str(path)


def test_solve_ma_cli_writes_pfsp_fields(cas_file, tmp_path, capsys):
    out, plot = tmp_path / "m.json", tmp_path / "p.png"
    rc = main(["solve", cas_file, "--method", "ma", "--generations", "3", "--pop-size", "8",
               "--params", "tuned", "--out", str(out), "--plot", str(plot)])
    assert rc == 0
    line = capsys.readouterr().out
    assert "emissions=" in line and "method=ma" in line
    data = json.loads(out.read_text())
    inst = read_cas(cas_file)
    assert data["emissions"] == pytest.approx(inst.emissions(np.array(data["start_times"])), abs=1e-3)
    assert sorted(data["sequence"]) == list(range(5)) and len(data["operations"]) == 10
    assert data["params"] == ma.TUNED and len(data["curve_best"]) == 4
    assert plot.stat().st_size > 0


def test_solve_ma_bad_params_file(cas_file, tmp_path, capsys):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"xi": 0.8}))
    assert main(["solve", cas_file, "--method", "ma", "--params", str(bad), "--generations", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "field 'chi_j' missing" in err


def test_ma_rejects_jsp(capsys):
    from jsched.instances.model import JSPInstance

    assert main(["solve", "ft06", "--method", "ma"]) == 2
    assert "solves pfsp" in capsys.readouterr().err


@pytest.mark.slow
def test_ma_reaches_m1t1_1_optimum():
    # Published CPLEX optimum-grade value 1576988.957 (data README); 0.1 % tolerance.
    res = ma.solve_ma(read_cas(instance_path("M1T1", 1)), ma.DEFAULT, seed=0)
    assert res.emissions <= 1576988.957 * 1.001


@pytest.mark.slow
def test_done_when_m3t1_1_within_3_percent(tmp_path):
    out = tmp_path / "m.json"
    assert main(["solve", str(instance_path("M3T1", 1)), "--method", "ma", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["emissions"] <= 1.03 * data["best_published_emissions"]


@pytest.mark.slow
def test_ma_dac_shipped_policy_runs(tmp_path):
    out = tmp_path / "d.json"
    assert main(["solve", str(instance_path("M3T1", 1)), "--method", "ma-dac", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    # One run: it must land inside the published MA-DRL runs' range (their worst is 3.5 % above
    # the best published value on this instance, so a 3 % bound would fail the paper's own runs).
    assert data["emissions"] <= max(published_runs("M3T1", "drl")["CAS-PFSP-M3T1_1"])
    assert len(data["params_per_generation"]["xi"]) == ma.GENERATIONS
