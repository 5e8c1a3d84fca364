"""Known-optimum instance generators: the optimum is a lower bound reached by construction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsched import cpsat
from jsched.errors import JSchedError
from jsched.instances import FJSPInstance, JSPInstance
from jsched.instances.io import instance_from_json, instance_to_json
from jsched.instances.optimum import KnownOptimum, known_optimum_fjsp, known_optimum_jsp
from jsched.schedule import Schedule, gap_percent, schedule_payload, validate


def _invariants(k: KnownOptimum, n_jobs: int, n_machines: int) -> None:
    inst = k.instance
    assert inst.n_jobs == n_jobs and inst.n_machines == n_machines
    assert validate(inst, k.schedule) is k.schedule
    assert k.schedule.makespan == k.makespan == inst.trivial_lower_bound()
    if isinstance(inst, JSPInstance):
        assert (inst.durations >= 1).all()
        assert all(sorted(row) == list(range(n_machines)) for row in inst.machines.tolist())
    else:
        assert inst.job_lengths.tolist() == [n_machines] * n_jobs
        chosen = inst.durations[np.arange(inst.n_ops), k.schedule.machine]
        assert (chosen >= 1).all()
        # no eligible alternative is faster than the constructed choice
        fastest = np.where(inst.eligible, inst.durations, np.iinfo(np.int64).max).min(axis=1)
        assert np.array_equal(fastest, chosen)
    # the always-busy side has no idle time from 0 to C
    s = k.schedule
    busy_m = np.bincount(s.machine, weights=s.end - s.start, minlength=n_machines)
    busy_j = np.bincount(s.job, weights=s.end - s.start, minlength=n_jobs)
    side = busy_j if n_jobs < n_machines else busy_m
    assert (side == k.makespan).all()
    assert gap_percent(k.schedule.makespan, k.makespan) == 0.0
    assert gap_percent(k.makespan + 1, k.makespan) > 0.0


@pytest.mark.parametrize("n_jobs, n_machines", [(1, 1), (1, 4), (4, 1), (3, 3), (6, 4), (4, 6), (15, 15), (30, 10), (5, 70), (100, 20)])
def test_jsp_and_fjsp_invariants(n_jobs, n_machines):
    _invariants(known_optimum_jsp(n_jobs, n_machines, 7), n_jobs, n_machines)
    _invariants(known_optimum_fjsp(n_jobs, n_machines, 7), n_jobs, n_machines)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**32 - 1), st.integers(1, 30), st.floats(0, 1.5))
def test_any_size_any_seed(n_jobs, n_machines, seed, mean, jitter):
    _invariants(known_optimum_jsp(n_jobs, n_machines, seed, mean_duration=mean, jitter=jitter), n_jobs, n_machines)
    k = known_optimum_fjsp(n_jobs, n_machines, seed, mean_duration=mean, jitter=jitter, max_machines_per_op=n_machines, slowdown=1.0)
    _invariants(k, n_jobs, n_machines)


def test_seeded_by_int_or_generator():
    a, b = known_optimum_jsp(8, 5, 3), known_optimum_jsp(8, 5, np.random.default_rng(3))
    assert np.array_equal(a.instance.machines, b.instance.machines) and np.array_equal(a.instance.durations, b.instance.durations)
    c = known_optimum_jsp(8, 5, 4)
    assert not np.array_equal(a.instance.durations, c.instance.durations)
    f1, f2 = known_optimum_fjsp(6, 4, 11), known_optimum_fjsp(6, 4, 11)
    assert np.array_equal(f1.instance.durations, f2.instance.durations) and np.array_equal(f1.instance.eligible, f2.instance.eligible)
    assert f1.instance.eligible.sum(axis=1).max() > 1  # some flexibility
    rng = np.random.default_rng(0)
    assert not np.array_equal(known_optimum_jsp(5, 5, rng).instance.durations, known_optimum_jsp(5, 5, rng).instance.durations)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: known_optimum_jsp(0, 3, 0), "n_jobs must be an integer >= 1"),
        (lambda: known_optimum_jsp(3, True, 0), "n_machines"),
        (lambda: known_optimum_jsp(3, 3, -1), "seed"),
        (lambda: known_optimum_jsp(3, 3, "1"), "seed"),
        (lambda: known_optimum_jsp(3, 3, 0, mean_duration=2**31), "32-bit"),
        (lambda: known_optimum_fjsp(3, 3, 0, max_machines_per_op=4), "max_machines_per_op"),
        (lambda: known_optimum_fjsp(3, 3, 0, slowdown=float("nan")), "slowdown"),
        (lambda: known_optimum_jsp(3, 3, 0, jitter=float("nan")), "jitter"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(JSchedError, match=match):
        call()


def test_round_trips_through_json_and_schedule_payload():
    k = known_optimum_fjsp(5, 3, 2)
    back = instance_from_json(instance_to_json(k.instance))
    assert isinstance(back, FJSPInstance) and back.trivial_lower_bound() == k.makespan
    payload = schedule_payload(k.instance, k.schedule, "construction", k.makespan, 0.0)
    assert payload["makespan"] == payload["best_known"] == k.makespan and payload["gap_percent"] == 0.0
    assert validate(back, Schedule.from_operations(payload["operations"])).makespan == k.makespan


ONE = cpsat.CPSatOptions(time_limit=60.0, num_workers=2, random_seed=0)


@pytest.mark.parametrize("n_jobs, n_machines, seed", [(5, 4, 0), (3, 5, 1), (4, 4, 2)])
def test_cpsat_proves_the_constructed_optimum(n_jobs, n_machines, seed):
    for k in (known_optimum_jsp(n_jobs, n_machines, seed, mean_duration=10),
              known_optimum_fjsp(n_jobs, n_machines, seed, mean_duration=10)):  # fmt: skip
        res = cpsat.solve(k.instance, options=ONE)
        assert res.optimal and res.objective == res.bound == k.makespan
        assert validate(k.instance, res.schedule).makespan == k.makespan
        assert gap_percent(res.schedule.makespan, k.makespan) == 0.0
