"""kernels.petri (views of the JSP state) and the HH rules vs the plain-Python net and hand-made states."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from petri_reference import PyPetriNet, run_rule

from jsched.instances.arrays import jsp_params, stack_jsp_params
from jsched.instances.model import JSPInstance
from jsched.kernels import jsp, petri, rules
from jsched.schedule import Schedule, validate

J, M = 4, 3  # every random instance is padded to this shape: one compile for all tests
NAMES = tuple(n for n in rules.RULES if n not in rules.DUE_RULES)  # the table, HH variants included (EDD/ATC: test_rules)


def random_instance(seed, n_jobs=None, n_machines=None, pmax=9, zero=False):
    rng = np.random.default_rng(seed)
    nj = n_jobs or int(rng.integers(1, J + 1))
    nm = n_machines or int(rng.integers(1, M + 1))
    mach = np.stack([rng.permutation(nm) for _ in range(nj)])
    dur = rng.integers(0 if zero else 1, pmax + 1, size=(nj, nm))
    rel = rng.integers(0, 4, size=nj) if rng.random() < 0.3 else None
    return JSPInstance(f"r{seed}", mach, dur, release=rel)


def padded(inst):
    return jsp_params(inst, J, M, M)


_step = jax.jit(petri.step)
_reset = jax.jit(petri.reset)
_mask = jax.jit(petri.action_mask)
_clock = jax.jit(petri.clock)
_marking = jax.jit(petri.marking)
_incidence = jax.jit(petri.incidence)
_total_wait = jax.jit(petri.total_wait)
_all_choices = jax.jit(lambda p, s: rules.jsp_rule_actions(NAMES, p, s))


def rule_rollout(p, name):
    return petri.rollout(p, lambda q, s: rules.jsp_rule_action(name, q, s))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_matches_plain_python_net(seed, zero):
    """Random enabled transitions: same guard, marking, clock, waits and starts as the explicit net."""
    inst = random_instance(seed, zero=zero)
    p = padded(inst)
    rng = np.random.default_rng(seed + 1)
    net, s = PyPetriNet(inst), _reset(p)
    while not net.done():
        en = net.enabled()
        mask = np.asarray(_mask(p, s))
        assert sorted(en) == np.flatnonzero(mask).tolist()
        np.testing.assert_array_equal(mask, np.asarray(jsp.candidates(p, s, "nondelay")))
        assert int(_clock(p, s)) == net.time
        mk = np.asarray(_marking(p, s))
        py = net.marking()
        nj, nm = inst.n_jobs, inst.n_machines
        np.testing.assert_array_equal(mk[:nj], py[:nj])
        for k in range(3):  # buffer, proc, idle
            np.testing.assert_array_equal(mk[J + k * M: J + k * M + nm], py[nj + k * nm: nj + (k + 1) * nm])
        assert mk[-1] == py[-1]
        wait = np.asarray(_total_wait(p, s))
        for j in en:
            assert wait[j] == net.waited[j] + net.time - net.arrival[j]
        j = int(rng.choice(en))
        last = net.time
        net.allocate(j)
        s, _, d = _step(p, s, jnp.int32(j))
        assert bool(d) == net.done()
    assert int(_clock(p, s)) == last  # an empty net keeps its last decision time
    np.testing.assert_array_equal(np.asarray(s.start)[: inst.n_jobs, : inst.n_machines], net.start_array())
    assert int(petri.makespan(s)) == net.makespan()
    sched = Schedule.from_arrays(inst, np.asarray(s.start)[: inst.n_jobs, : inst.n_machines])
    assert validate(inst, sched).makespan == net.makespan()


def test_allocation_then_time_advance_follow_incidence():
    inst = random_instance(7, J, M)
    p = padded(inst)
    s = _reset(p)
    rng = np.random.default_rng(0)
    while not bool(petri.done(p, s)):
        en = np.flatnonzero(np.asarray(_mask(p, s)))
        j = int(rng.choice(en))
        c = np.asarray(_incidence(p, s))
        m = int(inst.machines[j, int(s.next_op[j])])
        t0 = _clock(p, s)
        mk0 = np.asarray(_marking(p, s))
        s1 = _step(p, s, jnp.int32(j))[0]
        # Allocate and the immediate start, at the same time.
        at_t0 = np.asarray(_marking(p, s1, t0))
        np.testing.assert_array_equal(at_t0, mk0 + c[:, j] + c[:, J + m])
        # Then the finish transitions fired by the time advance: machines busy before, idle after.
        t1 = _clock(p, s1)
        ready = np.asarray(s1.machine_ready)
        f = np.zeros(c.shape[1], np.int64)
        f[J + M:] = (ready > int(t0)) & ~(ready > int(t1))
        np.testing.assert_array_equal(np.asarray(_marking(p, s1)), at_t0 + c @ f)
        s = s1


def test_disabled_action_is_noop_and_episode_length():
    inst = random_instance(3, J, M)
    p = padded(inst)
    s = _reset(p)
    mask = np.asarray(_mask(p, s))
    for bad in [*np.flatnonzero(~mask).tolist(), -1, J, J + 5]:
        chex.assert_trees_all_equal(s, _step(p, s, jnp.int32(bad))[0])
    final = jax.jit(lambda p: rule_rollout(p, "fifo"))(p)
    assert int(final.t) == inst.n_ops
    assert bool(petri.done(p, final))


def test_jit_vmap_equals_loop_and_one_trace():
    insts = [random_instance(s, J, M) for s in range(4)]
    batch = stack_jsp_params(insts)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def batched(ps):
        return jax.vmap(lambda q: rule_rollout(q, "ltwr"))(ps)

    out = batched(batch)
    out2 = batched(jax.tree.map(lambda x: x[::-1], batch))
    obs = jax.jit(jax.vmap(petri.observation))(batch, out)
    for i, inst in enumerate(insts):
        single = run_rule(inst, "ltwr")
        np.testing.assert_array_equal(np.asarray(out.start[i]), single.start_array())
        np.testing.assert_array_equal(np.asarray(out2.start[3 - i]), single.start_array())
        one = petri.observation(batch_i(batch, i), batch_i(out, i))
        np.testing.assert_array_equal(np.asarray(obs[i]), np.asarray(one))


def batch_i(batch, i):
    return jax.tree.map(lambda x: x[i], batch)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_rules_match_plain_python_definitions(seed):
    """Every table rule picks the same job in the net as its plain-Python definition (the HH
    paper's, e.g. LWT as the total wait), along a random trajectory."""
    inst = random_instance(seed, pmax=5)  # small p: many ties, exercising the tie-breaks
    p = padded(inst)
    rng = np.random.default_rng(seed)
    net, s = PyPetriNet(inst), _reset(p)
    while not net.done():
        got = np.asarray(_all_choices(p, s))
        for k, name in enumerate(NAMES):
            assert got[k] == net.rule_choice(name), name
            assert np.asarray(_mask(p, s))[got[k]]
        j = int(rng.choice(net.enabled()))
        net.allocate(j)
        s = _step(p, s, jnp.int32(j))[0]


def _hand_state():
    """3 jobs x 3 machines at time 10; jobs 0 and 2 enabled, job 1 busy.

    job 0: ops (m0,p5) (m1,p2) (m2,p9); op 0 ran [1, 6), next op 1 (on m1, p=2): waited 1 so far
    job 1: ops (m1,p3) (m0,p4) (m2,p1); ops 0, 1 ran [0, 3) and [8, 12): running on m0 until 12
    job 2: ops (m2,p7) (m0,p1) (m1,p1); next op 0 (on m2, p=7), arrived at 0, waited 0 so far
    m1 and m2 are free from 10 (an earlier job's work, not shown).
    """
    inst = JSPInstance("hand", [[0, 1, 2], [1, 0, 2], [2, 0, 1]], [[5, 2, 9], [3, 4, 1], [7, 1, 1]])
    p = jsp_params(inst)
    s = jsp.JSPState(
        next_op=jnp.array([1, 2, 0], jnp.int32),
        job_ready=jnp.array([6, 12, 0], jnp.int32),
        machine_ready=jnp.array([12, 10, 10], jnp.int32),
        start=jnp.array([[1, -1, -1], [0, 8, -1], [-1, -1, -1]], jnp.int32),
        t=jnp.int32(3),
    )
    return p, s


@pytest.mark.parametrize(
    "name, expected",
    [
        ("fifo", 2),  # arrived at 0 < 6
        ("spt", 0),  # p 2 < 7
        ("sps", 0),  # all routes have 3 ops: lowest index
        ("sps_fifo", 2),  # all routes have 3 ops: FIFO order
        ("ltwr", 0),  # work left: job 0 2+9 = 11 > job 2 7+1+1 = 9
        ("spsr", 0),  # 2 ops left < 3
        ("lptn", 0),  # next after candidate: 9 > 1
        ("lwt", 2),  # total wait: job 0 1 + (10-6) = 5 < job 2 0 + 10 = 10
        ("lwkr", 2),
    ],
)
def test_rules_on_hand_made_state(name, expected):
    p, s = _hand_state()
    assert int(petri.clock(p, s)) == 10
    np.testing.assert_array_equal(np.asarray(petri.action_mask(p, s)), [True, False, True])
    np.testing.assert_array_equal(np.asarray(petri.waited(p, s)), [1, 5, 0])
    assert int(rules.jsp_rule_action(name, p, s)) == expected


def test_hand_state_marking_and_observation():
    p, s = _hand_state()
    # queue 2 1 3 | buffer 0 0 0 | proc m0 | idle m1 m2 | finished 3 - 1 = 2
    np.testing.assert_array_equal(np.asarray(petri.marking(p, s)), [2, 1, 3, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2])
    obs = np.asarray(petri.observation(p, s))
    lb = float(petri.time_scale(p))
    assert obs.shape == (4 * 3 + 4 * 3 + 2,)
    np.testing.assert_allclose(obs[13], 10 / lb)  # elapsed time
    np.testing.assert_allclose(obs[14:17], np.array([11, 1, 9]) / lb)  # work left
    np.testing.assert_allclose(obs[17:20], np.array([2, 0, 0]) / lb)  # machine m0 free in 2
    np.testing.assert_array_equal(obs[20:23], [1, 0, 1])  # guard
    np.testing.assert_allclose(obs[23:26], np.array([2, 1, 7]) / 9)  # head p / max p


def test_ties_break_by_lowest_job_index():
    inst = JSPInstance("tie", [[0, 1], [1, 0], [0, 1]], [[3, 3], [3, 3], [3, 3]])
    p = jsp_params(inst)
    s = petri.reset(p)
    # At time 0 every job is enabled and every rule's keys tie (same p, work, routes).
    assert np.asarray(petri.action_mask(p, s)).tolist() == [True, True, True]
    for name in rules.HH_RULES:
        assert int(rules.jsp_rule_action(name, p, s)) == 0


def test_sps_fifo_equals_fifo_on_rectangular_instances():
    for seed in range(5):
        p = padded(random_instance(seed, J, M))
        a = jax.jit(lambda q: rule_rollout(q, "sps_fifo"))(p)
        b = jax.jit(lambda q: rule_rollout(q, "fifo"))(p)
        np.testing.assert_array_equal(np.asarray(a.start), np.asarray(b.start))


def test_observation_shape_and_range():
    p = padded(random_instance(1, J, M))
    s = _reset(p)
    obs = jax.jit(petri.observation)(p, s)
    assert obs.shape == (4 * J + 4 * M + 2,)
    assert np.isfinite(np.asarray(obs)).all()
    assert float(obs.min()) >= 0.0 and float(obs.max()) <= 1.0 + 1e-6
    assert (petri.n_places(p), petri.n_transitions(p)) == (J + 3 * M + 1, J + 2 * M)
