"""kernels.fjsp against a slow plain-Python reference, under jit and vmap, with padding."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jsched.instances.arrays import fjsp_params, stack_fjsp_params
from jsched.instances.model import FJSPInstance, JSPInstance
from jsched.kernels import fjsp

PAD = (4, 4, 4)


def random_fjsp(rng: np.random.Generator, name="r") -> FJSPInstance:
    j, m = (int(x) for x in rng.integers(1, 5, 2))
    lens = rng.integers(0, 5, j)
    n = int(lens.sum())
    elig = rng.random((n, m)) < 0.5
    elig[np.arange(n), rng.integers(0, m, n)] = True
    dur = np.where(elig, rng.integers(0, 9, (n, m)), 0)
    return FJSPInstance(name, m, lens, dur, elig, release=rng.integers(0, 4, n))


def ref_rollout(f: FJSPInstance, actions, m_pad):
    """Plain-Python FJSP append env; actions are job * m_pad + machine."""
    nxt = [0] * f.n_jobs
    jr = [0] * f.n_jobs
    mr = [0] * f.n_machines
    start, mach = {}, {}
    trace = []
    for a in actions:
        j, k = divmod(int(a), m_pad)
        if j < f.n_jobs and nxt[j] < f.job_lengths[j] and k < f.n_machines:
            row = f.op_id(j, nxt[j])
            if f.eligible[row, k]:
                s = max(jr[j], mr[k], int(f.release[row]))
                e = s + int(f.durations[row, k])
                start[(j, nxt[j])], mach[(j, nxt[j])] = s, k
                jr[j], mr[k] = e, e
                nxt[j] += 1
        trace.append((dict(start), dict(mach), list(jr), list(mr), list(nxt)))
    return trace


@jax.jit
def _run(params, actions):
    def body(s, a):
        s, r, d = fjsp.step(params, s, a)
        return s, s

    return jax.lax.scan(body, fjsp.reset(params), actions)[1]


_run_batch = jax.jit(jax.vmap(_run.__wrapped__))


def _check(f, trace, states, i=None):
    pick = (lambda x: x) if i is None else (lambda x: x[i])
    elig = np.asarray(fjsp_params(f, *PAD).eligible)
    for t, (start, mach, jr, mr, nxt) in enumerate(trace):
        s = jax.tree.map(lambda x: np.asarray(pick(x))[t], states)
        got = {(j, o): int(s.start[j, o]) for j, o in zip(*np.nonzero(s.start >= 0))}
        assert got == start
        assert {(j, o): int(s.machine[j, o]) for j, o in got} == mach
        assert (s.machine >= 0).sum() == len(mach)
        np.testing.assert_array_equal(s.job_ready[: f.n_jobs], jr)
        np.testing.assert_array_equal(s.machine_ready[: f.n_machines], mr)
        np.testing.assert_array_equal(s.next_op[: f.n_jobs], nxt)
        # Never an ineligible machine.
        for (j, o), k in zip(got, [int(s.machine[j, o]) for j, o in got]):
            assert elig[j, o, k]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_step_matches_reference_under_jit(seed):
    rng = np.random.default_rng(seed)
    f = random_fjsp(rng)
    p = fjsp_params(f, *PAD)
    # Uniform over all J*M pairs: ineligible ones (most) must be no-ops.
    actions = rng.integers(0, PAD[0] * PAD[2], 30)
    states = _run(p, jnp.asarray(actions))
    _check(f, ref_rollout(f, actions, PAD[2]), states)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_step_matches_reference_under_vmap(seed):
    rng = np.random.default_rng(seed)
    fs = [random_fjsp(rng, f"r{i}") for i in range(3)]
    actions = rng.integers(0, PAD[0] * PAD[2], (3, 30))
    params = jax.tree.map(lambda *x: jnp.stack(x), *[fjsp_params(f, *PAD) for f in fs])
    states = _run_batch(params, jnp.asarray(actions))
    for i, f in enumerate(fs):
        _check(f, ref_rollout(f, actions[i], PAD[2]), states, i)


@jax.jit
def _masked_random_episode(params, key):
    def body(s, k):
        mask = fjsp.action_mask(params, s)
        a = jax.random.categorical(k, jnp.where(mask, 0.0, -jnp.inf))
        return fjsp.step(params, s, a)[0], mask.any()

    return jax.lax.scan(body, fjsp.reset(params), jax.random.split(key, PAD[0] * PAD[1]))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_masked_episode_completes_and_validates(seed):
    from jsched.schedule import Schedule, validate

    rng = np.random.default_rng(seed)
    f = random_fjsp(rng)
    s, _ = _masked_random_episode(fjsp_params(f, *PAD), jax.random.key(seed))
    assert int(s.t) == f.n_ops
    st_, mc = np.asarray(s.start), np.asarray(s.machine)
    validate(f, Schedule.from_arrays(f, st_[f.op_job, f.op_index], mc[f.op_job, f.op_index]))


def test_jsp_as_fjsp_gives_same_starts():
    from jsched.instances.arrays import jsp_params
    from jsched.kernels import jsp

    inst = JSPInstance("t", [[0, 1, 2], [2, 1, 0]], [[3, 2, 4], [1, 5, 2]])
    pj, pf = jsp_params(inst), fjsp_params(inst)
    sj, sf = jsp.reset(pj), fjsp.reset(pf)
    for a in [1, 0, 0, 1, 1, 0]:
        sj = jsp.step(pj, sj, jnp.int32(a))[0]
        sf = fjsp.step(pf, sf, jnp.int32(a * 3 + int(inst.machines[a, int(sf.next_op[a])])))[0]
    np.testing.assert_array_equal(sj.start, sf.start)
    np.testing.assert_array_equal(sf.machine, inst.machines)


def hand_instance():
    # job0: op0 {m0:2, m1:4}, op1 {m1:3} | job1: op0 {m1:1}, op1 {m0:5, m2:6}
    dur = np.array([[2, 4, 0], [0, 3, 0], [0, 1, 0], [5, 0, 6]])
    return FJSPInstance("h", 3, [2, 2], dur, dur > 0)


def test_features_on_hand_made_state():
    f = hand_instance()
    p = fjsp_params(f)
    s = fjsp.step(p, fjsp.reset(p), jnp.int32(0 * 3 + 0))[0]  # job0 op0 on m0: [0, 2)
    pf = fjsp.pair_features(p, s)
    np.testing.assert_array_equal(pf.eligible, [[False, True, False], [False, True, False]])
    np.testing.assert_array_equal(pf.est, [[2, 2, 2], [2, 0, 0]])
    assert int(fjsp.t_star(p, s)) == 0
    np.testing.assert_array_equal(fjsp.candidates(p, s, "nondelay"), [[False] * 3, [False, True, False]])
    np.testing.assert_array_equal(fjsp.candidates(p, s, "all"), pf.eligible)
    of = fjsp.op_features(p, s)
    np.testing.assert_array_equal(of.scheduled, [[True, False], [False, False]])
    np.testing.assert_allclose(of.completion_lb, [[2, 5], [1, 6]])
    np.testing.assert_array_equal(of.ops_left, [1, 2])
    np.testing.assert_allclose(of.work_left, [3, 1 + 5.5])
    np.testing.assert_allclose(of.stats.min_pt, [[2, 3], [1, 5]])
    np.testing.assert_allclose(of.stats.max_pt, [[4, 3], [1, 6]])
    np.testing.assert_array_equal(of.stats.n_eligible, [[2, 1], [1, 2]])
    mf = fjsp.machine_features(p, s)
    assert int(mf.t_star) == 0
    np.testing.assert_array_equal(mf.n_candidates, [0, 1, 0])
    np.testing.assert_array_equal(mf.n_unscheduled, [1, 2, 1])
    np.testing.assert_allclose(mf.max_pt, [5, 3, 6])
    np.testing.assert_allclose(mf.mean_pt, [5, 2, 6])
    np.testing.assert_array_equal(mf.busy, [True, False, False])
    np.testing.assert_array_equal(mf.busy_left, [2, 0, 0])
    np.testing.assert_array_equal(mf.idle, [0, 0, 0])


def test_stack_pads_jobs_ops_and_machines():
    rng = np.random.default_rng(1)
    fs = [random_fjsp(rng, f"r{i}") for i in range(3)]
    p = stack_fjsp_params(fs)
    assert p.durations.shape[0] == 3
    for i, f in enumerate(fs):
        assert int(p.job_len[i].sum()) == f.n_ops
        assert int(p.eligible[i].sum()) == int(f.eligible.sum())
        assert int(p.machine_mask[i].sum()) == f.n_machines
