"""Benchmark loading by name, bounds, families and suggestions for unknown names."""

from __future__ import annotations

import numpy as np
import pytest

from jsched.errors import JSchedError, UnknownInstanceError
from jsched.instances import FJSPInstance, JSPInstance, best_known, bounds, list_benchmarks, load, load_set
from jsched.instances.benchmarks import FAMILIES, canonical_name, data_dir

DATA = data_dir()
needs_data = pytest.mark.skipif(DATA is None, reason="shared benchmark data folder not found")


def test_ta01():
    inst = load("ta01")
    assert isinstance(inst, JSPInstance) and inst.shape == "15x15" and inst.name == "ta01"
    assert best_known("ta01") == 1231 and best_known(inst) == 1231 and bounds("ta01") == (1231, 1231)
    assert inst.durations[0, :5].tolist() == [94, 66, 10, 53, 26]  # Taillard's published first row
    assert inst.machines.min() == 0 and inst.machines.max() == 14
    assert all(sorted(r) == list(range(15)) for r in inst.machines.tolist())


def test_ft06_is_55_and_zero_based():
    inst = load("ft06")
    assert inst.shape == "6x6" and best_known(inst) == 55
    assert inst.machines[0].tolist() == [2, 0, 1, 3, 5, 4] and inst.durations[0].tolist() == [1, 3, 6, 7, 3, 6]


def test_dmu01():
    inst = load("dmu01")
    assert inst.shape == "20x15" and best_known("dmu01") == 2563


@needs_data
def test_bks_csv_is_preferred_for_open_taillard():
    lb, ub = bounds("ta42")
    assert (lb, ub) == (1900, 1937)  # the package only knows the UB; bks.csv has the 2026 LB


def test_other_families_bounds():
    assert bounds("swv06") == (1630, 1671) and bounds("la40") == (1222, 1222)
    for name in list_benchmarks("swv") + list_benchmarks("yn") + list_benchmarks("abz"):
        lb, ub = bounds(name)
        assert 0 < lb <= ub and lb >= load(name).trivial_lower_bound()


@needs_data
def test_mk01_and_other_fjsp_names():
    mk = load("mk01")
    assert isinstance(mk, FJSPInstance) and mk.shape == "10x6" and mk.name == "mk01"
    assert best_known("mk01") == 40 and best_known(mk) == 40
    assert load("brandimarte/mk01").name == "mk01"
    la = load("hurink/edata/la01")
    assert la.name == "hurink/edata/la01" and bounds(la) == (609, 609)
    assert load(str(DATA / "fjsp/hurink/rdata/la20.fjs")).name == "hurink/rdata/la20" and best_known("hurink/rdata/la20") == 756
    assert isinstance(load("dauzere/01a"), FJSPInstance) and bounds("mk10") == (189, 193)


def test_name_normalisation():
    assert canonical_name("TA1") == "ta01" and canonical_name("yn01") == "yn1" and canonical_name("orb1") == "orb01"
    assert load("TA1").name == "ta01" and load("yn01").name == "yn1" and load("abz05").name == "abz5"


def test_unknown_name_suggests_near_names():
    with pytest.raises(UnknownInstanceError, match="did you mean ta80") as e:
        load("ta81")
    assert "\n" not in str(e.value)
    with pytest.raises(UnknownInstanceError, match="ta01"):
        load("taa01")
    with pytest.raises(UnknownInstanceError):
        bounds("nonsense")


def test_bounds_of_a_changed_instance_are_none():
    inst = load("ft06")
    other = JSPInstance("ft06", inst.machines, inst.durations + 1)
    assert best_known(other) is None and bounds(other) is None
    assert best_known(JSPInstance("ft06", inst.machines, inst.durations, release=np.arange(6))) is None


def test_families():
    assert list_benchmarks("taillard") == [f"ta{i:02d}" for i in range(1, 81)] == list_benchmarks("ta")
    assert len(list_benchmarks("dmu")) == 80 and list_benchmarks("ft") == ["ft06", "ft10", "ft20"]
    assert len(list_benchmarks()) == 80 + 80 + 3 + 40 + 5 + 10 + 20 + 4
    ft = load_set("ft")
    assert [i.name for i in ft] == ["ft06", "ft10", "ft20"] and [i.shape for i in ft] == ["6x6", "10x10", "20x5"]
    with pytest.raises(UnknownInstanceError, match="taillard"):
        list_benchmarks("tailard")
    assert "brandimarte" in FAMILIES


@needs_data
def test_fjsp_families():
    assert list_benchmarks("brandimarte") == [f"mk{i:02d}" for i in range(1, 11)]
    ed = list_benchmarks("hurink-edata")
    assert len(ed) == 66 and ed.index("hurink/edata/la02") == ed.index("hurink/edata/la01") + 1
    assert [i.name for i in load_set("brandimarte")][:2] == ["mk01", "mk02"]


def test_missing_data_folder_gives_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("JSCHED_DATA", str(tmp_path / "nope"))
    monkeypatch.chdir(tmp_path)
    import jsched.instances.benchmarks as b

    monkeypatch.setattr(b, "__file__", str(tmp_path / "x" / "y" / "benchmarks.py"))
    assert b.data_dir() is None
    assert load("ta01").shape == "15x15" and bounds("ta01") == (1231, 1231)  # package fallback
    with pytest.raises(JSchedError):
        load("mk01")


def test_every_jsp_benchmark_loads_with_consistent_bounds():
    for name in list_benchmarks():
        inst = load(name)
        lb, ub = bounds(name)
        assert inst.trivial_lower_bound() <= lb <= ub, name


@needs_data
def test_every_fjsp_benchmark_loads_with_consistent_bounds():
    fams = ["brandimarte", "brandimarte-extra", "hurink-edata", "hurink-rdata", "hurink-vdata", "hurink-sdata", "dauzere"]
    names = [n for f in fams for n in list_benchmarks(f)]
    assert len(names) == 297
    for name in names:
        lb, ub = bounds(name)
        assert load(name).trivial_lower_bound() <= lb <= ub, name
