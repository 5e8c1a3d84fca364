"""Dispatching rules: hand-made states, a slow plain-Python dispatcher, and ta01 schedules."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_jsp import hand_state, random_jsp

from jsched.instances import with_due_dates
from jsched.instances.arrays import fjsp_params, jsp_params
from jsched.instances.model import FJSPInstance
from jsched.kernels import fjsp, jsp, rules
from jsched.kernels.env import FJSP_ENV, JSP_ENV
from jsched.rollout import rollout, rollout_population, to_schedules

# Expected pick among all jobs (candidates="all"); ties go to the lowest index.
EXPECTED_ALL = {
    "fifo": 2,  # ready times 6, 2, 0
    "spt": 0,  # durations 1, 9, 3
    "lpt": 1,
    "sps": 2,  # 3, 3, 2 operations
    "sps_fifo": 2,
    "ltwr": 1,  # work left 2, 18, 5
    "mwkr": 1,
    "lwkr": 0,
    "spsr": 0,  # 2, 2, 2 left: tie
    "lptn": 1,  # next-after durations 1, 9, 2
    "lwt": 0,  # waited 1, 0, 0
    "mor": 0,  # tie
    "lor": 0,  # tie
}


def test_every_jsp_rule_has_an_expectation():
    assert set(EXPECTED_ALL) == set(rules.JSP_RULES) | set(rules.VARIANTS) == set(rules.RULES) - set(rules.DUE_RULES)
    # The table's order is what the HH agents and the rule-set policies index: due-date rules come last.
    old = ["fifo", "spt", "lpt", "sps", "sps_fifo", "ltwr", "mwkr", "lwkr", "spsr", "lptn", "lwt", "mor", "lor"]
    assert list(rules.RULES) == old + list(rules.DUE_RULES)
    assert list(rules.FJSP_JOB_RULES) == ["fifo", "mwkr", "ltwr", "mor", "lor"] + list(rules.DUE_RULES)
    assert set(rules.HH_RULES) <= set(rules.RULES) and not set(rules.VARIANTS) & set(rules.JSP_RULES)


@pytest.mark.parametrize("name", sorted(EXPECTED_ALL))
def test_rule_on_hand_made_state(name):
    p, s = hand_state()
    assert int(rules.jsp_rule_action(name, p, s, "all")) == EXPECTED_ALL[name]
    # Non-delay: only job 2 can start at t* = 0. Active: jobs 1 and 2 compete on machine 2.
    assert int(rules.jsp_rule_action(name, p, s, "nondelay")) == 2
    assert int(rules.jsp_rule_action(name, p, s, "active")) in (1, 2)


def test_active_set_choice():
    p, s = hand_state()
    assert int(rules.jsp_rule_action("spt", p, s, "active")) == 2
    assert int(rules.jsp_rule_action("lpt", p, s, "active")) == 1


def ref_priority(name, inst, nxt, jr, mr):
    """Independent slow version of the rule definitions (key tuples, higher first), per job."""
    out = []
    f32 = np.float32
    live = [j for j in range(inst.n_jobs) if nxt[j] < inst.n_ops_per_job]
    pbar = f32(sum(int(inst.durations[j, nxt[j]]) for j in live)) / f32(max(len(live), 1))
    for j in range(inst.n_jobs):
        o = min(nxt[j], inst.n_ops_per_job - 1)
        dur = int(inst.durations[j, o])
        est = max(jr[j], mr[int(inst.machines[j, o])])
        left = inst.n_ops_per_job - nxt[j]
        work = int(inst.durations[j, nxt[j] :].sum())
        done_w = int(inst.durations[j, : nxt[j]].sum())
        after = int(inst.durations[j, nxt[j] + 1]) if nxt[j] + 1 < inst.n_ops_per_job else 0
        if name in rules.DUE_RULES:  # ATC in float32, the kernel's precision
            due, w = int(inst.job_due[j]), int(inst.job_weight[j])
            slack = max(f32(due) - f32(work) - f32(est), f32(0))
            atc = np.log(f32(w)) - np.log(max(f32(dur), f32(1))) - slack / (f32(rules.ATC_K) * max(pbar, f32(1)))
            out.append({"edd": (-due,), "atc": (atc,)}[name])
            continue
        out.append(
            {
                "fifo": (-jr[j],), "spt": (-dur,), "lpt": (dur,), "sps": (-inst.n_ops_per_job,),
                "sps_fifo": (-inst.n_ops_per_job, -jr[j]), "ltwr": (work,), "mwkr": (work,), "lwkr": (-work,),
                "spsr": (-left,), "lptn": (after,), "lwt": (est - int(inst.release[j]) - done_w,), "mor": (left,),
                "lor": (-left,),
            }[name]
        )
    return out


def ref_dispatch(name, inst):
    """Giffler-Thompson non-delay dispatching with rule ``name``: returns the start matrix."""
    nxt = [0] * inst.n_jobs
    jr = [int(r) for r in inst.release]
    mr = [0] * inst.n_machines
    start = np.full(inst.machines.shape, -1)
    for _ in range(inst.n_ops):
        live = [j for j in range(inst.n_jobs) if nxt[j] < inst.n_ops_per_job]
        est = {j: max(jr[j], mr[int(inst.machines[j, nxt[j]])]) for j in live}
        t_star = min(est.values())
        cand = [j for j in live if est[j] == t_star]
        prio = ref_priority(name, inst, nxt, jr, mr)
        j = max(cand, key=lambda c: (prio[c], -c))
        o = nxt[j]
        m = int(inst.machines[j, o])
        start[j, o] = t_star
        jr[j] = mr[m] = t_star + int(inst.durations[j, o])
        nxt[j] += 1
    return start


ALL = tuple(sorted(rules.RULES))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_rules_match_plain_python_dispatcher(seed):
    rng = np.random.default_rng(seed)
    insts = [with_due_dates(random_jsp(rng, f"r{i}"), float(rng.uniform(0.3, 2.0)), seed=i) for i in range(3)]
    policy = rules.rule_set_policy(ALL)
    res = rollout_population(policy, jnp.arange(len(ALL)), JSP_ENV, _stack(insts), jax.random.key(0))
    for r, name in enumerate(ALL):
        for i, inst in enumerate(insts):
            j, o = inst.machines.shape
            np.testing.assert_array_equal(np.asarray(res.start)[r, i, 0, :j, :o], ref_dispatch(name, inst), err_msg=name)


def test_rule_set_policy_equals_single_rule_policies():
    rng = np.random.default_rng(5)
    insts = _stack([random_jsp(rng, f"r{i}") for i in range(2)])
    res = rollout_population(rules.rule_set_policy(("lpt", "mwkr")), jnp.arange(2), JSP_ENV, insts, jax.random.key(0))
    for r, name in enumerate(("lpt", "mwkr")):
        one = rollout(rules.rule_policy(name), None, JSP_ENV, insts, jax.random.key(0))
        np.testing.assert_array_equal(res.start[r], one.start)


def _stack(insts):
    return jax.tree.map(lambda *x: jnp.stack(x), *[jsp_params(i, 4, 4, 4) for i in insts])


def test_sps_equals_index_order_on_rectangular_instances():
    """Every job has the same length: SPS ties everywhere and picks the lowest candidate index."""
    rng = np.random.default_rng(0)
    inst = random_jsp(rng)
    p = jsp_params(inst)
    s = jsp.reset(p)
    for _ in range(inst.n_ops):
        cand = np.flatnonzero(np.asarray(jsp.candidates(p, s)))
        a = rules.jsp_rule_action("sps", p, s)
        assert int(a) == cand[0]
        s = jsp.step(p, s, a)[0]


def fjsp_hand():
    # At t = 0 the pairs are: job0 on m0 (pt 4) / m1 (pt 2); job1 on m1 / m2 (pt 3 both);
    # job2 on m2 (pt 1). job0 has the most work left, job1 the most operations.
    dur = np.array(
        [
            [4, 2, 0], [9, 0, 0],  # job0
            [0, 3, 3], [1, 0, 0], [0, 2, 0],  # job1
            [0, 0, 1],  # job2
        ]
    )
    return FJSPInstance("f", 3, [2, 3, 1], dur, dur > 0)


def test_fjsp_rules_on_hand_made_state():
    f = fjsp_hand()
    p = fjsp_params(f)
    s = fjsp.reset(p)
    m = 3

    def act(name, mr="spt"):
        return divmod(int(rules.fjsp_rule_action(name, p, s, mr)), m)

    assert act("spt") == (2, 2)  # shortest pair
    assert act("mwkr") == (0, 1)  # work left: job0 3 + 9 = 12, job1 3 + 1 + 2 = 6, job2 1; SPT machine m1
    assert act("mwkr", "eet") == (0, 1)
    assert act("mor") == (1, 1)  # 3 ops; SPT tie m1 = m2 -> lowest index
    assert act("lor") == (2, 2)
    assert act("fifo") == (0, 1)  # all ready at 0: lowest index
    # Earliest end differs from SPT once m1 is busy.
    s = fjsp.step(p, s, jnp.int32(2 * m + 2))[0]  # job2 on m2: [0, 1)
    s = fjsp.step(p, s, jnp.int32(0 * m + 1))[0]  # job0 on m1: [0, 2)
    # Now job1 op0: m1 free at 2 (end 5), m2 free at 1 (end 4); t* over pairs = 1 (m2) -> nondelay only m2.
    assert act("mor", "spt") == (1, 2)
    assert divmod(int(rules.fjsp_rule_action("mor", p, s, "spt", "all")), m) == (1, 1)
    assert divmod(int(rules.fjsp_rule_action("mor", p, s, "eet", "all")), m) == (1, 2)


def test_fjsp_due_date_rules_on_hand_made_state():
    # Due dates 30, 8, 20; weights 1, 1, 5. At t* = 0 the next mean times are 3, 3, 1 and the work
    # left (mean times) 12, 6, 1, so the slacks are 18, 2, 19 (mean time of the live jobs 7/3).
    f = dataclasses.replace(fjsp_hand(), job_due=[30, 8, 20], job_weight=[1, 1, 5])
    p = fjsp_params(f)
    s = fjsp.reset(p)
    atc = [np.log(w) - np.log(pt) - slack / (rules.ATC_K * 7 / 3) for w, pt, slack in ((1, 3, 18), (1, 3, 2), (5, 1, 19))]
    assert int(np.argmax(atc)) == 1  # job2's weight does not make up for its slack
    for name, job in (("edd", 1), ("atc", 1)):
        assert divmod(int(rules.fjsp_rule_action(name, p, s, "spt", "all")), 3) == (job, 1)
    with pytest.raises(ValueError, match="needs job due dates"):
        rules.fjsp_rule_action("edd", fjsp_params(fjsp_hand()), s)


def test_fjsp_rule_rollouts_validate():
    f = fjsp_hand()
    for mr in rules.FJSP_MACHINE_RULES:
        policy = rules.rule_set_policy(rules.FJSP_RULES, "fjsp", machine_rule=mr)
        res = rollout_population(policy, jnp.arange(len(rules.FJSP_RULES)), FJSP_ENV, [f], jax.random.key(0))
        for r, name in enumerate(rules.FJSP_RULES):
            (sched,), = to_schedules([f], jax.tree.map(lambda x: x[r], res))
            assert sched.makespan == int(res.makespan[r, 0, 0]), name


def test_every_rule_on_ta01_passes_the_validator(ta01):
    ta01 = with_due_dates(ta01, 1.3)  # for EDD and ATC; the other rules ignore due dates
    res = rollout_population(rules.rule_set_policy(ALL), jnp.arange(len(ALL)), JSP_ENV, [ta01], jax.random.key(0))
    ms = {}
    for r, name in enumerate(ALL):
        (sched,), = to_schedules([ta01], jax.tree.map(lambda x: x[r], res))
        ms[name] = sched.makespan
        assert sched.makespan == int(res.makespan[r, 0, 0]) > 1231  # optimum of ta01
    assert ms["mwkr"] == ms["ltwr"] < 1231 * 1.3
    assert ms["lor"] == ms["spsr"]


@pytest.fixture(scope="module")
def ta01():
    from jsched.instances import load

    return load("ta01")


def test_unknown_rule_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown JSP rule"):
        rules.rule_policy("nope")
    with pytest.raises(ValueError, match="unknown FJSP rule"):
        rules.rule_policy("lpt", "fjsp")
    with pytest.raises(ValueError, match="candidate mode"):
        rules.rule_policy("spt", "jsp", "weird")


def test_fjsp_rules_padding_never_changes_a_result():
    """Alone vs padded inside a batch with larger instances: identical makespans for every rule."""
    from test_fjsp import random_fjsp

    rng = np.random.default_rng(11)
    fs = [f for f in (random_fjsp(rng, f"f{i}") for i in range(12)) if f.n_ops][:6]
    _padding_never_changes_a_result(fs, rules.FJSP_RULES)


def test_fjsp_due_date_rules_padding_never_changes_a_result():
    from test_fjsp import random_fjsp

    rng = np.random.default_rng(12)
    fs = [with_due_dates(f, 0.8, seed=1) for f in (random_fjsp(rng, f"f{i}") for i in range(8)) if f.n_ops][:3]
    _padding_never_changes_a_result(fs, rules.DUE_RULES)


def _padding_never_changes_a_result(fs, names):
    # Mean times like 10/3 make float sums order-dependent unless the rule rounds them.
    policy = rules.rule_set_policy(names, "fjsp", machine_rule="eet", candidates="all")
    idx = jnp.arange(len(names))
    batch = rollout_population(policy, idx, FJSP_ENV, fs, jax.random.key(0))
    for i, f in enumerate(fs):
        alone = rollout_population(policy, idx, FJSP_ENV, [f] * 2, jax.random.key(0))
        np.testing.assert_array_equal(alone.makespan[:, 0, 0], batch.makespan[:, i, 0], err_msg=f.name)
