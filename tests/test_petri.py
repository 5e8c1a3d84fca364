"""kernels.petri and kernels.petri_rules vs the plain-Python net, kernels.jsp and hand-made states."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsched.hh.pynet import PyPetriNet, run_rule
from jsched.instances.arrays import jsp_params, stack_jsp_params
from jsched.instances.model import JSPInstance
from jsched.schedule import Schedule, validate
from jsched.kernels import jsp, petri
from jsched.kernels import petri_rules as R

J, M = 4, 3  # every random instance is padded to this shape: one compile for all tests


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
_fire = jax.jit(petri.fire)
_advance = jax.jit(petri.advance)
_reset = jax.jit(petri.reset)
_mask = jax.jit(petri.action_mask)
_marking = jax.jit(petri.marking)
_incidence = jax.jit(petri.incidence)
_all_choices = jax.jit(lambda p, s: R.all_choices(p, s, R.RULES + R.EXTRA_RULES))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_matches_plain_python_net(seed, zero):
    """Random enabled transitions: same guard, marking, clock and starts as the explicit net."""
    inst = random_instance(seed, zero=zero)
    p = padded(inst)
    rng = np.random.default_rng(seed + 1)
    net, s = PyPetriNet(inst), _reset(p)
    while not net.done():
        en = net.enabled()
        mask = np.asarray(_mask(p, s))
        assert sorted(en) == np.flatnonzero(mask).tolist()
        assert int(s.time) == net.time
        mk = np.asarray(_marking(p, s))
        py = net.marking()
        nj, nm = inst.n_jobs, inst.n_machines
        np.testing.assert_array_equal(mk[:nj], py[:nj])
        for k in range(3):  # buffer, proc, idle
            np.testing.assert_array_equal(mk[J + k * M: J + k * M + nm], py[nj + k * nm: nj + (k + 1) * nm])
        assert mk[-1] == py[-1]
        j = int(rng.choice(en))
        net.allocate(j)
        s, d = _step(p, s, jnp.int32(j))
        assert bool(d) == net.done()
    np.testing.assert_array_equal(np.asarray(s.start)[: inst.n_jobs, : inst.n_machines], net.start_array())
    assert int(petri.makespan(s)) == net.makespan()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_same_decisions_same_schedule_as_jsp_env(seed):
    """Replaying the Petri net's allocation order into kernels.jsp gives equal start times."""
    inst = random_instance(seed)
    p = padded(inst)
    rng = np.random.default_rng(seed)
    s, order = _reset(p), []
    for _ in range(inst.n_ops):
        en = np.flatnonzero(np.asarray(_mask(p, s)))
        j = int(rng.choice(en))
        order.append(j)
        s, _ = _step(p, s, jnp.int32(j))
    js = jsp.reset(p)
    for j in order:
        js, _, _ = jsp.step(p, js, jnp.int32(j))
    np.testing.assert_array_equal(np.asarray(s.start), np.asarray(js.start))
    sched = Schedule.from_arrays(inst, np.asarray(s.start)[: inst.n_jobs, : inst.n_machines])
    validate(inst, sched)
    assert sched.makespan == int(petri.makespan(s))


def test_fire_and_advance_follow_incidence():
    inst = random_instance(7, J, M)
    p = padded(inst)
    s = _reset(p)
    rng = np.random.default_rng(0)
    while not bool(petri.done(p, s)):
        en = np.flatnonzero(np.asarray(_mask(p, s)))
        j = int(rng.choice(en))
        c = np.asarray(_incidence(p, s))
        m = int(inst.machines[j, int(s.next_op[j])])
        mk0 = np.asarray(_marking(p, s))
        s1 = _fire(p, s, jnp.int32(j))
        np.testing.assert_array_equal(np.asarray(_marking(p, s1)), mk0 + c[:, j] + c[:, J + m])
        s2 = _advance(p, s1)
        # Finish transitions fired by the time advance: machines busy before, idle after.
        busy = lambda st: np.asarray(st.machine_ready > st.time)  # noqa: E731
        f = np.zeros(c.shape[1], np.int64)
        f[J + M:] = busy(s1) & ~busy(s2)
        np.testing.assert_array_equal(np.asarray(_marking(p, s2)), np.asarray(_marking(p, s1)) + c @ f)
        # Time only moves when no allocation is enabled.
        if int(s2.time) > int(s1.time):
            assert not np.asarray(_mask(p, s1)).any()
        s = s2


def test_disabled_action_is_noop_and_episode_length():
    inst = random_instance(3, J, M)
    p = padded(inst)
    s = _reset(p)
    bad = int(np.flatnonzero(~np.asarray(_mask(p, s)))[0]) if not np.asarray(_mask(p, s)).all() else None
    if bad is not None:
        s2, _ = _step(p, s, jnp.int32(bad))
        chex.assert_trees_all_equal(s, s2)
    final = jax.jit(lambda p: R.rollout_rule(p, "FIFO"))(p)
    assert int(final.steps) == inst.n_ops
    assert bool(petri.done(p, final))


def test_jit_vmap_equals_loop_and_one_trace():
    insts = [random_instance(s, J, M) for s in range(4)]
    batch = stack_jsp_params(insts)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def batched(ps):
        return jax.vmap(lambda q: R.rollout_rule(q, "LTWR"))(ps)

    out = batched(batch)
    out2 = batched(jax.tree.map(lambda x: x[::-1], batch))
    for i, inst in enumerate(insts):
        single = run_rule(inst, "LTWR")
        np.testing.assert_array_equal(np.asarray(out.start[i]), single.start_array())
        np.testing.assert_array_equal(np.asarray(out2.start[3 - i]), single.start_array())


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_rules_match_plain_python_definitions(seed):
    """Each rule picks the same job as its plain-Python definition, along a random trajectory."""
    inst = random_instance(seed, pmax=5)  # small p: many ties, exercising the tie-breaks
    p = padded(inst)
    names = R.RULES + R.EXTRA_RULES
    rng = np.random.default_rng(seed)
    net, s = PyPetriNet(inst), _reset(p)
    while not net.done():
        got = np.asarray(_all_choices(p, s))
        for k, name in enumerate(names):
            assert got[k] == net.rule_choice(name), name
            assert np.asarray(_mask(p, s))[got[k]]
        j = int(rng.choice(net.enabled()))
        net.allocate(j)
        s, _ = _step(p, s, jnp.int32(j))


def _hand_state():
    """3 jobs x 3 machines at time 10; jobs 0 and 2 enabled, job 1 busy.

    job 0: ops (m0,p5) (m1,p2) (m2,p9); next op 1 (on m1, p=2), arrived at 6, waited 4 so far
    job 1: ops (m1,p3) (m0,p4) (m2,p1); running on m0 until 12
    job 2: ops (m2,p7) (m0,p1) (m1,p1); next op 0 (on m2, p=7), arrived at 0, waited 0 so far
    """
    inst = JSPInstance("hand", [[0, 1, 2], [1, 0, 2], [2, 0, 1]], [[5, 2, 9], [3, 4, 1], [7, 1, 1]])
    p = jsp_params(inst)
    s = petri.PetriState(
        next_op=jnp.array([1, 2, 0], jnp.int32),
        job_ready=jnp.array([6, 12, 0], jnp.int32),
        machine_ready=jnp.array([12, 0, 0], jnp.int32),
        start=jnp.array([[1, -1, -1], [0, 8, -1], [-1, -1, -1]], jnp.int32),
        time=jnp.int32(10),
        waited=jnp.array([4, 5, 0], jnp.int32),
        steps=jnp.int32(3),
    )
    return p, s


@pytest.mark.parametrize(
    "name, expected",
    [
        ("FIFO", 2),  # arrived at 0 < 6
        ("SPT", 0),  # p 2 < 7
        ("SPS", 2),  # all routes have 3 ops: FIFO order
        ("LTWR", 0),  # work left: job 0 2+9 = 11 > job 2 7+1+1 = 9
        ("SPSR", 0),  # 2 ops left < 3
        ("LPTN", 0),  # next after candidate: 9 > 1
        ("LWT", 2),  # total wait: job 0 4 + (10-6) = 8 < job 2 0 + 10 = 10
        ("LTWR_LEAST", 2),
    ],
)
def test_rules_on_hand_made_state(name, expected):
    p, s = _hand_state()
    np.testing.assert_array_equal(np.asarray(petri.action_mask(p, s)), [True, False, True])
    assert int(R.choose_by_name(name, p, s)) == expected


def test_ties_break_by_lowest_job_index():
    inst = JSPInstance("tie", [[0, 1], [1, 0], [0, 1]], [[3, 3], [3, 3], [3, 3]])
    p = jsp_params(inst)
    s = petri.reset(p)
    # At time 0 every job is enabled and every rule's keys tie (same p, work, routes).
    assert np.asarray(petri.action_mask(p, s)).tolist() == [True, True, True]
    for name in R.RULES:
        assert int(R.choose_by_name(name, p, s)) == 0


def test_sps_equals_fifo_on_rectangular_instances():
    for seed in range(5):
        p = padded(random_instance(seed, J, M))
        a = jax.jit(lambda q: R.rollout_rule(q, "SPS"))(p)
        b = jax.jit(lambda q: R.rollout_rule(q, "FIFO"))(p)
        np.testing.assert_array_equal(np.asarray(a.start), np.asarray(b.start))


def test_observation_shape_and_range():
    p = padded(random_instance(1, J, M))
    s = _reset(p)
    obs = jax.jit(petri.observation)(p, s)
    assert obs.shape == (4 * J + 4 * M + 2,)
    assert np.isfinite(np.asarray(obs)).all()
    assert float(obs.min()) >= 0.0 and float(obs.max()) <= 1.0 + 1e-6


def test_unknown_rule():
    p, s = _hand_state()
    with pytest.raises(ValueError, match="unknown rule"):
        R.rule_keys("EDD", p, s)
