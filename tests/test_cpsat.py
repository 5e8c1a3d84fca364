"""CP-SAT models: known optima, brute force on tiny FJSPs, hints, fixing, windows, delays."""

from __future__ import annotations

import itertools
import json

import jax
import numpy as np
import pytest

import jsched
from jsched import cpsat
from jsched.cpsat import method as cpsat_method
from jsched.errors import SolverError
from jsched.instances import FJSPInstance, JSPInstance
from jsched.schedule import DUE_DATE_OBJECTIVES, validate
from jsched.schedule import OBJECTIVES as SCHED_OBJECTIVES

ONE = cpsat.CPSatOptions(time_limit=20.0, num_workers=1, random_seed=0)


def ft06() -> JSPInstance:
    return jsched.load("ft06")


def random_fjsp(rng: np.random.Generator, n_jobs=3, max_ops=3, with_due=False) -> FJSPInstance:
    m = int(rng.integers(2, 4))
    jl = rng.integers(2, max_ops + 1, size=n_jobs)
    jl[rng.permutation(n_jobs)[: max(0, n_jobs - 1)]] = 2  # at most one 3-op job: brute force stays fast
    n = int(jl.sum())
    elig = rng.random((n, m)) < 0.6
    elig[np.arange(n), rng.integers(0, m, n)] = True
    dur = np.where(elig, rng.integers(1, 8, (n, m)), 0)
    release = rng.integers(0, 6, n)
    due = release + rng.integers(2, 12, n) if with_due else None
    job_due = rng.integers(3, 20, n_jobs) if with_due else None
    job_weight = rng.integers(1, 4, n_jobs) if with_due else None
    return FJSPInstance("rand", m, jl, dur, elig, release=release, due=due, job_due=job_due, job_weight=job_weight)


def brute_force(f: FJSPInstance, objective: str) -> int:
    """Best objective over every dispatch order x machine choice (append at earliest time).

    Sorting an optimal schedule's operations by start time and appending them in that order
    never starts an operation later, so for these regular objectives this enumeration (of
    semi-active schedules) contains an optimum.
    """
    best = [np.inf]
    ends_by_row: dict[int, int] = {}

    def value(starts):
        if objective == "makespan":
            return max(ends_by_row.values())
        if objective in DUE_DATE_OBJECTIVES:
            late = [ends_by_row[int(f.job_start[j] + f.job_lengths[j] - 1)] - int(f.job_due[j]) for j in range(f.n_jobs)]
            return {
                "total_tardiness": sum(max(0, x) for x in late),
                "weighted_tardiness": sum(int(w) * max(0, x) for w, x in zip(f.job_weight, late)),
                "tardy_jobs": sum(x > 0 for x in late),
                "max_lateness": max(late),
            }[objective]
        v = sum(s - int(f.release[r]) for r, s in starts.items())
        if objective == "start_end_delay" and f.due is not None:
            v += sum(max(0, e - int(f.due[r])) for r, e in ends_by_row.items())
        return v

    def dfs(next_op, job_ready, mach_ready, starts):
        if all(next_op[j] == f.job_lengths[j] for j in range(f.n_jobs)):
            best[0] = min(best[0], value(starts))
            return
        for j in range(f.n_jobs):
            if next_op[j] == f.job_lengths[j]:
                continue
            r = int(f.job_start[j] + next_op[j])
            for m in np.flatnonzero(f.eligible[r]):
                s = max(job_ready[j], mach_ready[m], int(f.release[r]))
                e = s + int(f.durations[r, m])
                nj, nm = list(job_ready), list(mach_ready)
                nj[j], nm[m] = e, e
                no = list(next_op)
                no[j] += 1
                starts[r], ends_by_row[r] = s, e
                dfs(no, nj, nm, starts)
                del starts[r], ends_by_row[r]

    dfs([0] * f.n_jobs, [0] * f.n_jobs, [0] * f.n_machines, {})
    return int(best[0])


def test_ft06_optimum_proved():
    res = cpsat.solve(ft06(), options=cpsat.CPSatOptions(time_limit=30.0, num_workers=2))
    assert res.status == "OPTIMAL"
    assert res.objective == 55 and res.bound == 55
    assert res.schedule is not None and res.schedule.makespan == 55
    validate(ft06(), res.schedule)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("objective", cpsat.OBJECTIVES)
def test_tiny_fjsp_matches_brute_force(seed, objective):
    f = random_fjsp(np.random.default_rng(seed), with_due=True)
    res = cpsat.solve(f, objective, options=ONE)
    assert res.status == "OPTIMAL"
    validate(f, res.schedule)
    assert res.objective == SCHED_OBJECTIVES[objective](f, res.schedule)
    assert res.objective == brute_force(f, objective)


def test_delay_objectives_hand_made():
    # One machine; A: release 0, p 5, due 5; B: release 1, p 2, due 3.
    f = FJSPInstance("delay", 1, [1, 1], [[5], [2]], [[True], [True]], release=[0, 1], due=[5, 3])
    sd = cpsat.solve(f, "start_delay", options=ONE)
    # B at 1, A at 3: start delays 3 + 0 (A first: 0 + 4).
    assert sd.objective == 3 and list(sd.start) == [3, 1]
    sed = cpsat.solve(f, "start_end_delay", options=ONE)
    # B first: 3 + tardiness(A ends 8, due 5) = 6; A first: 4 + (B ends 7, due 3) = 8.
    assert sed.objective == 6
    ms = cpsat.solve(f, "makespan", options=ONE)
    assert ms.objective == 7


def test_hint_is_followed_among_symmetric_optima():
    f = FJSPInstance("sym", 2, [1, 1], [[5, 5], [5, 5]], np.ones((2, 2), bool))
    base = cpsat.solve(f, options=ONE)
    swapped = {0: (int(base.machine[1]), 0), 1: (int(base.machine[0]), 0)}
    res = cpsat.solve(f, hints=swapped, options=ONE)
    assert res.assignment() == swapped
    # A Schedule works as a hint too.
    again = cpsat.solve(f, hints=res.schedule, options=ONE)
    assert again.assignment() == swapped


def test_fix_machine_and_start():
    f = random_fjsp(np.random.default_rng(7))
    free = cpsat.solve(f, options=ONE)
    # Fix op 0 to a machine it did not choose (if it has one) and op 1's start late.
    r = int(np.flatnonzero(f.eligible.sum(axis=1) > 1)[0])
    other = int(next(m for m in np.flatnonzero(f.eligible[r]) if m != free.machine[r]))
    late = int(free.schedule.makespan + 3)
    last = int(f.job_start[1] + f.job_lengths[1] - 1)
    res = cpsat.solve(f, fix={r: (other, None), last: (None, late)}, options=ONE)
    validate(f, res.schedule)
    assert res.machine[r] == other
    assert res.start[last] == late
    assert res.objective >= late + f.durations[last, res.machine[last]]


def test_fix_infeasible_or_ineligible_raises():
    f = FJSPInstance("two", 1, [2], [[3], [3]], [[True], [True]])
    with pytest.raises(SolverError, match="INFEASIBLE"):
        cpsat.solve(f, fix={0: (None, 5), 1: (None, 6)}, options=ONE)
    g = FJSPInstance("elig", 2, [1], [[3, 0]], [[True, False]])
    with pytest.raises(SolverError, match="cannot run on machine 1"):
        cpsat.solve(g, fix={0: (1, None)}, options=ONE)
    with pytest.raises(SolverError, match="unknown objective"):
        cpsat.solve(g, "tardiness")


@pytest.mark.parametrize("seed", range(3))
def test_window_respects_boundary(seed):
    rng = np.random.default_rng(100 + seed)
    f = random_fjsp(rng, n_jobs=4, max_ops=4)
    # Window: ops 1.. of every job (op 0 "executed").
    window = np.concatenate([np.arange(f.job_start[j] + 1, f.job_start[j] + f.job_lengths[j]) for j in range(4)])
    job_ready = rng.integers(0, 20, f.n_jobs)
    mach_ready = rng.integers(0, 20, f.n_machines)
    op_ready = rng.integers(0, 25, f.n_ops)
    b = cpsat.Boundary(job_ready=job_ready, machine_ready=mach_ready, op_ready=op_ready)
    res = cpsat.solve(f, ops=window, boundary=b, options=ONE)
    assert res.schedule is None and list(res.ops) == sorted(window)
    assert (res.start >= job_ready[f.op_job[res.ops]]).all()
    assert (res.start >= mach_ready[res.machine]).all()
    assert (res.start >= op_ready[res.ops]).all()
    assert (res.start >= f.release[res.ops]).all()
    assert f.eligible[res.ops, res.machine].all()
    assert (res.end - res.start == f.durations[res.ops, res.machine]).all()
    # Precedence and no overlap among the window's ops.
    for a, c in zip(range(len(res.ops) - 1), range(1, len(res.ops))):
        if f.op_job[res.ops[a]] == f.op_job[res.ops[c]]:
            assert res.start[c] >= res.end[a]
    for a, c in itertools.combinations(range(len(res.ops)), 2):
        if res.machine[a] == res.machine[c] and min(res.end[a] - res.start[a], res.end[c] - res.start[c]) > 0:
            assert res.end[a] <= res.start[c] or res.end[c] <= res.start[a]
    assert res.objective == res.end.max()


def test_window_must_be_consecutive_per_job():
    f = FJSPInstance("gap", 1, [3], [[1], [1], [1]], np.ones((3, 1), bool))
    with pytest.raises(SolverError, match="not consecutive"):
        cpsat.solve(f, ops=[0, 2])


def test_blocked_intervals_and_allowed_mask():
    f = FJSPInstance("blk", 2, [1, 1], [[4, 4], [4, 4]], np.ones((2, 2), bool))
    res = cpsat.solve(f, blocked=[(0, 0, 10)], options=ONE)
    # Machine 0 is down until 10: one op on machine 1 at 0, the other at 4 on machine 1 (ends 8 < 14).
    assert set(res.machine.tolist()) == {1} and res.objective == 8
    allowed = np.array([[True, False], [True, False]])
    res = cpsat.solve(f, allowed=allowed, options=ONE)
    assert (res.machine == 0).all() and res.objective == 8


def test_early_stop_fires_before_time_limit():
    rng = np.random.default_rng(0)
    j, m = 20, 15
    inst = JSPInstance("r20x15", np.argsort(rng.random((j, m)), axis=1), rng.integers(1, 100, (j, m)))
    res = cpsat.solve(inst, options=cpsat.CPSatOptions(time_limit=60.0, num_workers=2, stop_after=0.3))
    assert res.status == "FEASIBLE"
    assert res.wall_time < 30.0
    validate(inst, res.schedule)


def test_method_solve_fields():
    out = cpsat_method.solve(ft06(), cpsat_method.Config(), jax.random.key(0))
    assert out.extra["status"] == "OPTIMAL" and out.extra["bound"] == 55
    assert out.schedule.makespan == 55 and "status" in out.summary
    r = jsched.solve(ft06(), method="cpsat", time_limit=5)
    assert r.makespan == 55 and r.gap == 0.0 and r.method == "cpsat"


def test_pack_reports_cmax_and_a_valid_bound():
    f = random_fjsp(np.random.default_rng(3))
    res = cpsat.solve(f, pack=True, options=ONE)
    opt = brute_force(f, "makespan")
    assert res.objective == res.schedule.makespan >= opt
    assert res.bound <= opt


def test_pack_then_packs_ends_at_the_same_cmax():
    f = random_fjsp(np.random.default_rng(5))
    plain = cpsat.solve(f, options=ONE)
    packed = cpsat.solve(f, pack=True, options=ONE)  # phase 1 is the plain solve (one worker: reproducible)
    assert packed.objective == plain.objective == packed.end.max()
    assert packed.end.sum() <= plain.end.sum()


def test_keep_holds_cmax_and_keeps_the_most_machines():
    f = random_fjsp(np.random.default_rng(5))
    plain = cpsat.solve(f, options=ONE)
    other = {int(r): int(np.flatnonzero(f.eligible[r])[-1]) for r in range(f.n_ops)}  # each op's last machine
    kept = cpsat.solve(f, keep=other, options=ONE)
    assert kept.objective == plain.objective == kept.end.max()
    n_kept = sum(int(kept.machine[r] == m) for r, m in other.items())
    assert n_kept >= sum(int(plain.machine[r] == m) for r, m in other.items())
    same = cpsat.solve(f, keep=dict(enumerate(plain.machine.tolist())), options=ONE)  # reachable: keeps all
    assert np.array_equal(same.machine, plain.machine) and same.objective == plain.objective
    with pytest.raises(SolverError, match="keep is a second phase"):
        cpsat.solve(f, keep=other, pack=True, options=ONE)


def test_deterministic_search_repeats_with_two_workers():
    f = random_fjsp(np.random.default_rng(6))
    opts = cpsat.CPSatOptions(time_limit=20.0, num_workers=2, deterministic=True)
    runs = [cpsat.solve(f, pack=True, options=opts) for _ in range(3)]
    assert all(np.array_equal(r.start, runs[0].start) and np.array_equal(r.machine, runs[0].machine) for r in runs)


def test_hint_from_a_schedule_json(tmp_path):
    spt = jsched.solve(ft06(), method="spt")
    spt.save(tmp_path / "s.json")
    r = jsched.solve(ft06(), method="cpsat", time_limit=5, hint=str(tmp_path / "s.json"))
    assert r.extra["hint_makespan"] == spt.makespan and r.makespan <= spt.makespan
    (tmp_path / "bad.json").write_text('{"operations": [{"job": 0, "op": 0, "machine": 0, "start": 0, "end": 1}]}')
    with pytest.raises(jsched.JSchedError, match="the hint is not a valid schedule"):
        jsched.solve(ft06(), method="cpsat", hint=str(tmp_path / "bad.json"))
    with pytest.raises(jsched.JSchedError, match="cannot read the hint"):
        jsched.solve(ft06(), method="cpsat", hint=str(tmp_path / "none.json"))


@pytest.mark.parametrize("instance, objective", [("ft06", "makespan"), ("mk01", "weighted_tardiness")])
def test_cli_hint_is_cp_sats_feasible_first_solution(instance, objective, tmp_path, capsys):
    """``jsched solve I --method cpsat --hint s.json``: the complete hint (starts, machines on the
    FJSP, the objective's variables) is CP-SAT's first solution."""
    from jsched import cli
    from jsched.instances import load, with_due_dates, write_instance

    path = instance
    if objective != "makespan":
        path = str(tmp_path / f"{instance}.json")
        write_instance(with_due_dates(load(instance), 1.3, seed=0), path)
    assert cli.main(["solve", path, "--method", "fifo", "--out", str(tmp_path / "s.json")]) == 0
    out = tmp_path / "cp.json"
    assert cli.main(["solve", path, "--method", "cpsat", "--objective", objective, "--time-limit", "2",
                     "--hint", str(tmp_path / "s.json"), "--out", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    payload = json.loads(out.read_text())
    hint = json.loads((tmp_path / "s.json").read_text())
    assert payload["hint_feasible"] is True
    assert payload["first_objective"] == payload["hint_objective"] == hint[objective]
    assert payload["objective"] <= payload["hint_objective"]


def test_large_instance_with_a_tiny_limit_returns_the_rule_hint(monkeypatch):
    from jsched.cpsat import method as m

    monkeypatch.setattr(m, "RULE_HINT_OPS", 10)  # ft06 (36 ops) counts as large here
    r = jsched.solve(ft06(), method="cpsat", time_limit=0.0)
    assert r.extra["status"] in ("HINT", "FEASIBLE", "OPTIMAL") and r.extra["hint_makespan"] == jsched.solve(ft06(), method="mwkr").makespan
    assert r.makespan <= r.extra["hint_makespan"]
