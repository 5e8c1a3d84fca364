"""Benchmark loading by name, bounds, families and suggestions for unknown names; the packaged
data (jsched/data/) against the shared data folder it was built from, when that is present."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import jsched.instances.benchmarks as bm
from jsched.errors import UnknownInstanceError
from jsched.instances import (
    FJSPInstance,
    JSPInstance,
    best_known,
    bounds,
    list_benchmarks,
    load,
    load_set,
    read_instance,
    reference_results,
)
from jsched.instances.benchmarks import FAMILIES, canonical_name, data_dir

DATA = data_dir()  # the shared folder the archives were built from (a source checkout), or None
needs_data = pytest.mark.skipif(DATA is None, reason="shared benchmark data folder not found")
PACKAGED = Path(bm.__file__).resolve().parents[1] / "data"


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


def test_scheduleopt_bounds_for_open_taillard():
    lb, ub = bounds("ta42")
    assert (lb, ub) == (1900, 1937)  # ScheduleOpt's 2026 table (the older sources knew only the UB)


def test_other_families_bounds():
    assert bounds("swv06") == (1630, 1671) and bounds("la40") == (1222, 1222)
    for name in list_benchmarks("swv") + list_benchmarks("yn") + list_benchmarks("abz"):
        lb, ub = bounds(name)
        assert 0 < lb <= ub and lb >= load(name).trivial_lower_bound()


def test_mk01_and_other_fjsp_names():
    mk = load("mk01")
    assert isinstance(mk, FJSPInstance) and mk.shape == "10x6" and mk.name == "mk01"
    assert best_known("mk01") == 40 and best_known(mk) == 40
    assert load("brandimarte/mk01").name == "mk01"
    la = load("hurink/edata/la01")
    assert la.name == "hurink/edata/la01" and bounds(la) == (609, 609)
    assert best_known("hurink/rdata/la20") == 756
    assert isinstance(load("dauzere/01a"), FJSPInstance) and bounds("mk10") == (189, 193)


@needs_data
def test_a_file_of_the_data_folder_is_named_by_its_benchmark():
    assert load(str(DATA / "fjsp/hurink/rdata/la20.fjs")).name == "hurink/rdata/la20"
    assert load(DATA / "fjsp/brandimarte/mk01.fjs").name == "mk01" and best_known(DATA / "fjsp/brandimarte/mk01.fjs") == 40
    sd = load(DATA / "sd2/10x5/10x5+mix_001.fjs")
    assert sd.name == "sd2/10x5/001" and bounds(sd) == (388, 388)


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


def test_fjsp_families():
    assert list_benchmarks("brandimarte") == [f"mk{i:02d}" for i in range(1, 11)]
    ed = list_benchmarks("hurink-edata")
    assert len(ed) == 66 and ed.index("hurink/edata/la02") == ed.index("hurink/edata/la01") + 1
    assert [i.name for i in load_set("brandimarte")][:2] == ["mk01", "mk02"]


def test_no_data_folder_needed(monkeypatch, tmp_path):
    """Everything is served from the package: no JSCHED_DATA, no sibling folder, any cwd."""
    monkeypatch.setenv("JSCHED_DATA", str(tmp_path / "nope"))  # a missing folder is ignored
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bm, "__file__", str(tmp_path / "x" / "y" / "benchmarks.py"))
    assert bm.data_dir() is None and bm.override_dir() is None
    assert load("ta01").shape == "15x15" and bounds("ta01") == (1231, 1231)
    assert best_known("mk01") == 40 and load("mk01").shape == "10x6"
    assert len(list_benchmarks("hurink-vdata")) == 66 and bounds("sd2/20x10/007")[1] > 0


def test_lookup_does_not_depend_on_the_working_directory(tmp_path):
    """A fresh interpreter in an unrelated folder, without JSCHED_DATA, finds mk01 and its bound;
    a decoy ../shared/data next to the working directory is not read."""
    cwd = tmp_path / "work" / "here"
    decoy = tmp_path / "work" / "shared" / "data" / "fjsp"
    (decoy / "brandimarte").mkdir(parents=True)
    cwd.mkdir()
    (decoy / "brandimarte" / "mk01.fjs").write_text("1 1\n1 1 1 7\n")
    (decoy / "bks.csv").write_text("instance,lower_bound,upper_bound,source\nbrandimarte/mk01,7,7,decoy\n")
    env = {k: v for k, v in os.environ.items() if k != "JSCHED_DATA"}
    code = "import jsched; from jsched.instances import best_known; i = jsched.load('mk01'); print(i.shape, best_known('mk01'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["10x6", "40"]


def test_jsched_data_overrides_files_and_bounds(monkeypatch, tmp_path):
    (tmp_path / "fjsp" / "brandimarte").mkdir(parents=True)
    (tmp_path / "fjsp" / "mine").mkdir()
    (tmp_path / "jsp").mkdir()
    (tmp_path / "fjsp" / "brandimarte" / "mk02.fjs").write_text("1 2\n1 2 1 5 2 6\n")
    (tmp_path / "fjsp" / "mine" / "tiny.fjs").write_text("1 1\n2 1 1 3 1 1 4\n")
    (tmp_path / "fjsp" / "bks.csv").write_text(
        "instance,lower_bound,upper_bound,source\nbrandimarte/mk02,5,5,mine\nmine/tiny,7,7,mine\n"
    )
    (tmp_path / "jsp" / "bks.csv").write_text("instance,lower_bound,upper_bound,source\nft06,50,55,mine\n")
    monkeypatch.setenv("JSCHED_DATA", str(tmp_path))
    assert bm.override_dir() == tmp_path.resolve()
    mk02 = load("mk02")
    assert mk02.shape == "1x2" and mk02.name == "mk02" and bounds("mk02") == (5, 5)
    assert load("mine/tiny").n_ops == 2 and best_known("mine/tiny") == 7
    assert bounds("ft06") == (50, 55) and bounds("ft10") == (930, 930)  # other rows stay packaged
    assert load("mk01").shape == "10x6" and best_known("mk01") == 40  # not overridden: packaged
    monkeypatch.delenv("JSCHED_DATA")
    assert load("mk02").shape == "10x6" and bounds("mk02") == (26, 26)


def test_sd2_test_sets():
    """DANIEL's SD2 test sets by name, rebuilt by jsched's generator, with published results."""
    assert list_benchmarks("sd2-10x5")[:2] == ["sd2/10x5/001", "sd2/10x5/002"] and len(list_benchmarks("sd2-40x10")) == 100
    assert canonical_name("SD2/10x5/1") == canonical_name("sd2/10x5/10x5+mix_001.fjs") == "sd2/10x5/001"
    first = load("sd2/10x5/1")
    assert isinstance(first, FJSPInstance) and first.name == "sd2/10x5/001" and first.shape == "10x5"
    assert load("sd2/40x10/100").shape == "40x10"
    ref = reference_results("sd2/10x5/001")
    assert ref["ortools_makespan"] == 388 and ref["daniels"] == 433 and ref["daniel_model"] == "10x5"
    assert bounds("sd2/10x5/001") == (388, 388)  # OR-Tools stopped before its limit: optimal
    lb, ub = bounds("sd2/40x10/001")  # OR-Tools hit the limit; the learned policies beat it on 40x10
    ref = reference_results("sd2/40x10/001")
    assert lb == load("sd2/40x10/001").trivial_lower_bound() and ub == min(ref[c] for c in bm._SD2_SCHEDULE_COLUMNS)
    assert reference_results("mk01") is None
    with pytest.raises(UnknownInstanceError, match="did you mean"):
        load("sd2/10x5/101")
    # The rebuilt 10x5 set equals DANIEL's published files (digest taken when they were compared).
    h = hashlib.sha256()
    for inst in load_set("sd2-10x5"):
        for a in (inst.job_lengths, inst.durations, inst.eligible):
            h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
    assert h.hexdigest() == "2ec6cdf5d5e217f9799f861aa6524b14a74375d777ff6daf732d5a4fc1320103"


def test_every_sd2_instance_has_consistent_bounds():
    for size in bm.SD2_SIZES:
        for name in list_benchmarks(f"sd2-{size}"):
            lb, ub = bounds(name)
            assert load(name).trivial_lower_bound() <= lb <= ub, name


def test_packaged_notice_names_every_archive():
    notice = (PACKAGED / "NOTICE.md").read_text()
    for f in ("jsp.zip", "fjsp.zip", "sd2.zip"):
        assert (PACKAGED / f).is_file() and f"`{f}`" in notice
    assert "CC BY-SA 4.0" in notice and "MIT" in notice


def _same_instance(a, b) -> bool:
    return (
        np.array_equal(a.job_lengths, b.job_lengths)
        and np.array_equal(a.eligible, b.eligible)
        and np.array_equal(a.durations, b.durations)
    )


@needs_data
def test_packaged_data_equal_the_shared_folder():
    """The archives hold the shared folder's FJSP files and bound tables unchanged, and the SD2
    sets rebuilt by the generator equal DANIEL's published files."""
    with zipfile.ZipFile(PACKAGED / "fjsp.zip") as z:
        files = sorted(p for p in (DATA / "fjsp").rglob("*.fjs"))
        assert sorted(m for m in z.namelist() if m.endswith(".fjs")) == sorted(
            str(p.relative_to(DATA / "fjsp")).replace(os.sep, "/") for p in files
        )
        for p in files:
            assert z.read(str(p.relative_to(DATA / "fjsp")).replace(os.sep, "/")) == p.read_bytes(), p
        assert z.read("bks.csv") == (DATA / "fjsp" / "bks.csv").read_bytes()
    with zipfile.ZipFile(PACKAGED / "sd2.zip") as z:
        assert z.read("reference.csv") == (DATA / "sd2" / "reference.csv").read_bytes()
    with zipfile.ZipFile(PACKAGED / "jsp.zip") as z:
        packaged = {r["instance"]: r for r in csv.DictReader(io.StringIO(z.read("bounds.csv").decode()))}
    with open(DATA / "jsp" / "bks.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            assert packaged[r["instance"]] == r
    for size in bm.SD2_SIZES:
        for k, inst in enumerate(load_set(f"sd2-{size}"), 1):
            assert _same_instance(inst, read_instance(DATA / "sd2" / size / f"{size}+mix_{k:03d}.fjs")), (size, k)


def test_every_jsp_benchmark_loads_with_consistent_bounds():
    for name in list_benchmarks():
        inst = load(name)
        lb, ub = bounds(name)
        assert inst.trivial_lower_bound() <= lb <= ub, name


def test_every_fjsp_benchmark_loads_with_consistent_bounds():
    fams = ["brandimarte", "brandimarte-extra", "hurink-edata", "hurink-rdata", "hurink-vdata", "hurink-sdata", "dauzere"]
    names = [n for f in fams for n in list_benchmarks(f)]
    assert len(names) == 297
    for name in names:
        lb, ub = bounds(name)
        assert load(name).trivial_lower_bound() <= lb <= ub, name
