"""CAS-PFSP instance model, .cas reader/writer, generator and hand-computed objectives."""

import os

import numpy as np
import pytest

from jsched.errors import InstanceFormatError, ScheduleError
from jsched.instances.benchmarks import data_dir
from jsched.instances.model import as_fjsp
from jsched.instances.pfsp import PFSPInstance, generate_cas, read_cas, write_cas
from jsched.schedule import Schedule, validate

# The shared data folder ($JSCHED_DATA or <repo>/../shared/data), never a fixed machine path.
_ROOT = data_dir()
DATA = None if _ROOT is None else str(_ROOT / "cas_pfsp" / "Data")
needs_data = pytest.mark.skipif(
    DATA is None or not os.path.isdir(DATA), reason="CAS-PFSP data folder not found (set JSCHED_DATA)"
)


def tiny(days=1):
    # 2 jobs x 2 machines; job 1 skips machine 0.
    d = np.array([[2, 1], [0, 3]])
    p = np.zeros((2, 2, 3))
    p[0, 0, :2] = [10, 20]
    p[0, 1, :1] = [5]
    p[1, 1, :3] = [1, 2, 3]
    h = 96 * days
    gen = np.zeros(h)
    gen[1] = 15.0
    ci = np.full(h, 100.0)
    ci[3] = 200.0
    return PFSPInstance("tiny", d, p, gen, ci, None, days=days)


def test_hand_computed_emissions():
    inst = tiny()
    start = np.array([[0, 2], [2, 3]])  # job0: m0 [0,2) m1 [2,3); job1: m1 [3,6)
    # load: t0=10, t1=20, t2=5, t3=1, t4=2, t5=3; grid: 10, 5 (20-15), 5, 1, 2, 3
    # emissions = 0.25 * (100*10 + 100*5 + 100*5 + 200*1 + 100*2 + 100*3) = 0.25 * 2700
    assert inst.emissions(start) == pytest.approx(675.0)
    # Unused generation earns nothing: move job0's op0 so t1 draws 10 < 15.
    start2 = np.array([[1, 3], [3, 4]])  # load t1=10 t2=20 t3=5 t4=1 t5=2 t6=3
    # grid: t1 0, t2 20, t3 5*200, t4 1, t5 2, t6 3
    assert inst.emissions(start2) == pytest.approx(0.25 * (2000 + 1000 + 100 + 200 + 300))


def test_to_jsp_validator_sees_pfsp():
    inst = tiny()
    start = np.array([[0, 2], [2, 3]])
    validate(inst, Schedule.from_arrays(inst, start))
    assert as_fjsp(inst).n_ops == 4
    with pytest.raises(ScheduleError, match="capacity"):
        validate(inst, Schedule.from_arrays(inst, np.array([[0, 2], [2, 2]])))
    inst.check_schedule([0, 1], start)
    with pytest.raises(ScheduleError, match="horizon"):
        inst.check_schedule([0, 1], np.array([[0, 2], [2, 94]]))
    with pytest.raises(ScheduleError, match="permutation"):
        inst.check_schedule([1, 0], start)


@needs_data
def test_published_seed_value_m15t3():
    # File order, no idle, zero-length operations kept in the recurrence: the published
    # MA_default value of CAS-PFSP-M15T3_1 (every published run of it keeps the seed individual).
    inst = read_cas(f"{DATA}/CAS-PFSP-M15T3/CAS-PFSP-M15T3_1.cas")
    d = inst.durations
    c = np.zeros(inst.n_machines, int)
    s = np.zeros_like(d)
    for j in range(inst.n_jobs):
        prev = 0
        for m in range(inst.n_machines):
            s[j, m] = max(prev, c[m])
            prev = c[m] = s[j, m] + d[j, m]
    assert round(inst.emissions(s), 2) == 78580470.77


@needs_data
def test_read_all_kinds():
    m1 = read_cas(f"{DATA}/CAS-PFSP-M1T1/CAS-PFSP-M1T1_1.cas")
    assert (m1.n_jobs, m1.n_machines, m1.horizon, m1.kind) == (10, 1, 96, "pfsp")
    assert m1.price is not None and int(m1.durations.sum()) == 86
    tr = read_cas(f"{DATA}/Training_instances/CAS-PFSP-M3T3_tuning_1.cas")
    assert tr.price is None and tr.horizon == 288


@needs_data
@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda ls: ["1,2,3"] + ls[1:], "expected 12 integers"),
        (lambda ls: [ls[0]] + ["0,0,5,x"] + ls[2:], "field 2 is 'x'"),
        (lambda ls: [ls[0]] + ["1,0,5"] + ls[2:], "expected operation .job 0, machine 0."),
        (lambda ls: ls[:-1] + [ls[-1] + ",1.0"], "expected 96 values"),
        (lambda ls: ls[:5], "operation lines"),
    ],
)
def test_read_errors(tmp_path, mutate, match):
    src = open(f"{DATA}/CAS-PFSP-M3T1/CAS-PFSP-M3T1_1.cas").read().splitlines()
    f = tmp_path / "bad.cas"
    f.write_text("\n".join(mutate(src)) + "\n")
    with pytest.raises(InstanceFormatError, match=match) as e:
        read_cas(f)
    assert "bad.cas:" in str(e.value)


@needs_data
def test_header_totals_checked(tmp_path):
    src = open(f"{DATA}/CAS-PFSP-M1T1/CAS-PFSP-M1T1_1.cas").read().splitlines()
    src[0] = src[0].replace("1,1,10,86,", "1,1,10,87,")
    (tmp_path / "h.cas").write_text("\n".join(src))
    with pytest.raises(InstanceFormatError, match="h.cas:1: header field 4"):
        read_cas(tmp_path / "h.cas")


def test_generator_seeded_feasible_roundtrip(tmp_path):
    a = generate_cas(np.random.default_rng(3), 12, 3, days=1)
    b = generate_cas(np.random.default_rng(3), 12, 3, days=1)
    assert np.array_equal(a.power, b.power) and np.array_equal(a.carbon, b.carbon)
    assert (a.durations == 0).any() and a.horizon == 96
    write_cas(a, tmp_path / "g.cas")
    c = read_cas(tmp_path / "g.cas")
    assert np.array_equal(c.durations, a.durations) and np.allclose(c.power, a.power)
    assert np.allclose(c.carbon, a.carbon) and np.allclose(c.price, a.price)
