"""Methods ``ma`` / ``ma-dac``: Result fields, plot, option errors; slow quality checks."""

import json

import jax
import numpy as np
import pytest

from jsched import solve
from jsched.dac import ma, ma_method
from jsched.dac.published import instance_path, published_runs
from jsched.errors import JSchedError
from jsched.instances.pfsp import generate_cas, read_cas, write_cas


@pytest.fixture(scope="module")
def cas_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cas") / "tiny.cas"
    write_cas(generate_cas(np.random.default_rng(0), 5, 2, days=1), path)
    return str(path)


def test_solve_ma_pfsp_fields_and_plot(cas_file, tmp_path):
    plot = tmp_path / "p.png"
    r = solve(cas_file, method="ma", generations=3, pop_size=8, params="table3", plot=str(plot), seed=4)
    assert "emissions=" in r.line() and "method=ma" in r.line()
    data = r.to_json()
    inst = read_cas(cas_file)
    assert data["emissions"] == pytest.approx(inst.emissions(np.array(data["start_times"])), abs=1e-3)
    assert r.objective == data["emissions"]
    assert sorted(data["sequence"]) == list(range(5)) and len(data["operations"]) == 10
    assert data["params"] == ma.TABLE3 and len(data["curve_best"]) == 4 and data["seed"] == 4
    assert plot.stat().st_size > 0


def test_ma_module_solve_matches_api(cas_file):
    inst = read_cas(cas_file)
    cfg = ma_method.Config(generations=2, pop_size=6)
    a = ma_method.solve(inst, cfg, jax.random.key(7))
    b = solve(inst, method="ma", generations=2, pop_size=6, seed=7)
    assert a.extra["emissions"] == b.extra["emissions"] and a.extra["sequence"] == b.extra["sequence"]


def test_solve_ma_bad_params_file(cas_file, tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"xi": 0.8}))
    with pytest.raises(JSchedError, match="field 'chi_j' missing") as e:
        solve(cas_file, method="ma", params=str(bad), generations=1)
    assert "\n" not in str(e.value)
    with pytest.raises(JSchedError, match="neither one of default, table3, tuned"):
        solve(cas_file, method="ma", params="fast", generations=1)


def test_shipped_tuned_params_in_ranges():
    tuned = ma.load_params_spec("tuned")
    assert tuned.keys() == ma.DEFAULT.keys()
    assert all(lo <= tuned[k] <= hi for k, (lo, hi) in ma.RANGES.items())


@pytest.mark.parametrize("method", ["ma", "ma-dac"])
def test_option_ranges(cas_file, method):
    with pytest.raises(JSchedError, match="generations must be >= 1"):
        solve(cas_file, method=method, generations=0)
    with pytest.raises(JSchedError, match="pop_size must be >= 2"):
        solve(cas_file, method=method, pop_size=1)


def test_ma_rejects_jsp():
    with pytest.raises(JSchedError, match="solves pfsp"):
        solve("ft06", method="ma")


def test_ma_dac_shipped_policy_small(cas_file):
    r = solve(cas_file, method="ma-dac", generations=2, pop_size=6)
    assert r.extra["policy"] == "shipped" and r.extra["policy_generations_trained"] == 614_400
    assert len(r.extra["params_per_generation"]["sigma_p"]) == 2


@pytest.mark.slow
def test_ma_reaches_m1t1_1_optimum():
    # Published CPLEX optimum-grade value 1576988.957 (data README); 0.1 % tolerance.
    res = ma.solve_ma(read_cas(instance_path("M1T1", 1)), ma.DEFAULT, jax.random.key(0))
    assert res.emissions <= 1576988.957 * 1.001


@pytest.mark.slow
def test_done_when_m3t1_1_within_3_percent():
    data = solve(str(instance_path("M3T1", 1)), method="ma").to_json()
    assert data["emissions"] <= 1.03 * data["best_published_emissions"]


@pytest.mark.slow
def test_ma_dac_shipped_policy_runs():
    data = solve(str(instance_path("M3T1", 1)), method="ma-dac").to_json()
    # One run: it must land inside the published MA-DRL runs' range (their worst is 3.5 % above
    # the best published value on this instance, so a 3 % bound would fail the paper's own runs).
    assert data["emissions"] <= max(published_runs("M3T1", "drl")["CAS-PFSP-M3T1_1"])
    assert len(data["params_per_generation"]["xi"]) == ma.GENERATIONS


def test_methods_figure_many_machines():
    from jsched.dac.plots import methods_figure

    inst = generate_cas(np.random.default_rng(1), 3, 6, days=1)
    fig = methods_figure(inst, {"a": np.zeros((3, 6), int)}, {"a": np.ones((2, 4))})
    assert len(fig.axes) >= 2
