"""kernels.jsp against a slow plain-Python reference, under jit and vmap, with padding."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jsched.instances.arrays import jsp_params, stack_jsp_params
from jsched.instances.model import JSPInstance
from jsched.kernels import jsp

PAD = (4, 4, 4)  # one padded shape for every random instance: one compile


def random_jsp(rng: np.random.Generator, name="r") -> JSPInstance:
    j, o, m = (int(x) for x in rng.integers(1, 5, 3))
    mach = rng.integers(0, m, (j, o))
    dur = rng.integers(0, 9, (j, o))
    rel = rng.integers(0, 5, j)
    return JSPInstance(name, mach, dur, n_machines=m, release=rel)


def ref_rollout(inst: JSPInstance, actions):
    """Plain-Python append env: returns per-step (start matrix, job_ready, machine_ready)."""
    nxt = [0] * inst.n_jobs
    jr = [int(r) for r in inst.release]
    mr = [0] * inst.n_machines
    start = [[-1] * inst.n_ops_per_job for _ in range(inst.n_jobs)]
    trace = []
    for a in actions:
        if a < inst.n_jobs and nxt[a] < inst.n_ops_per_job:
            o = nxt[a]
            m = int(inst.machines[a, o])
            s = max(jr[a], mr[m])
            e = s + int(inst.durations[a, o])
            start[a][o] = s
            jr[a] = e
            mr[m] = e
            nxt[a] += 1
        trace.append((np.array(start), list(jr), list(mr), list(nxt)))
    return trace


@jax.jit
def _run(params, actions):
    def body(s, a):
        s, r, d = jsp.step(params, s, a)
        return s, (s, r, d)

    return jax.lax.scan(body, jsp.reset(params), actions)[1]


_run_batch = jax.jit(jax.vmap(_run.__wrapped__))


def _check(inst, trace, states, rewards, i=None):
    j, o = inst.machines.shape
    pick = (lambda x: x) if i is None else (lambda x: x[i])
    prev_ms = int(inst.release.max())
    for t, (start, jr, mr, nxt) in enumerate(trace):
        s = jax.tree.map(lambda x: np.asarray(pick(x))[t], states)
        np.testing.assert_array_equal(s.start[:j, :o], start)
        np.testing.assert_array_equal(s.job_ready[:j], jr)
        np.testing.assert_array_equal(s.machine_ready[: inst.n_machines], mr)
        np.testing.assert_array_equal(s.next_op[:j], nxt)
        assert (s.start[j:] == -1).all() and (s.start[:, o:] == -1).all()
        assert (s.machine_ready[inst.n_machines :] == 0).all()
        assert s.t == sum(nxt)
        assert float(np.asarray(pick(rewards))[t]) == prev_ms - max(jr)
        prev_ms = max(jr)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_step_matches_reference_under_jit(seed):
    rng = np.random.default_rng(seed)
    inst = random_jsp(rng)
    actions = rng.integers(0, PAD[0], 20)  # includes padded and finished jobs: no-ops
    states, rewards, _ = _run(jsp_params(inst, *PAD), jnp.asarray(actions))
    _check(inst, ref_rollout(inst, actions), states, rewards)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_step_matches_reference_under_vmap(seed):
    rng = np.random.default_rng(seed)
    insts = [random_jsp(rng, f"r{i}") for i in range(3)]
    actions = rng.integers(0, PAD[0], (3, 20))
    params = jax.tree.map(lambda *x: jnp.stack(x), *[jsp_params(i, *PAD) for i in insts])
    states, rewards, _ = _run_batch(params, jnp.asarray(actions))
    for i, inst in enumerate(insts):
        _check(inst, ref_rollout(inst, actions[i]), states, rewards, i)


def test_eager_step_equals_jit():
    rng = np.random.default_rng(3)
    inst = random_jsp(rng)
    p = jsp_params(inst, *PAD)
    s = jsp.reset(p)
    actions = rng.integers(0, PAD[0], 12)
    for a in actions:
        s, _, _ = jsp.step(p, s, jnp.int32(a))
    states, _, _ = _run(p, jnp.asarray(actions))
    np.testing.assert_array_equal(s.start, states.start[-1])


def test_out_of_range_actions_are_noops():
    rng = np.random.default_rng(4)
    p = jsp_params(random_jsp(rng), *PAD)
    s = jsp.reset(p)
    step = jax.jit(jsp.step)
    for a in (-1, PAD[0], PAD[0] + 7, -PAD[0]):
        s2, r, _ = step(p, s, jnp.int32(a))
        jax.tree.map(np.testing.assert_array_equal, s, s2)
        assert float(r) == 0.0


def test_done_and_makespan_after_all_ops():
    inst = JSPInstance("t", [[0, 1], [1, 0]], [[3, 2], [2, 4]])
    p = jsp_params(inst)
    s = jsp.reset(p)
    for a in [0, 1, 0, 1]:
        assert not bool(jsp.done(p, s))
        s, _, d = jsp.step(p, s, jnp.int32(a))
    assert bool(d) and int(jsp.makespan(s)) == 7
    np.testing.assert_array_equal(s.start, [[0, 3], [0, 3]])
    assert not jsp.action_mask(p, s).any()


def hand_state():
    """3 jobs; job2 has 2 operations. est = [6, 2, 0], durations [1, 9, 3].

    job0: m0 5, m1 1, m2 1 | job1: m1 2, m2 9, m0 9 | job2 (2 ops): m2 3, m0 2; jobs 0 and 1
    have their first operation scheduled.
    """
    inst = JSPInstance("h", [[0, 1, 2], [1, 2, 0], [2, 0, 0]], [[5, 1, 1], [2, 9, 9], [3, 2, 0]])
    p = jsp_params(inst)._replace(job_len=jnp.array([3, 3, 2], jnp.int32))
    s = jsp.JSPState(
        next_op=jnp.array([1, 1, 0], jnp.int32),
        job_ready=jnp.array([6, 2, 0], jnp.int32),
        machine_ready=jnp.array([6, 2, 0], jnp.int32),
        start=jnp.array([[1, -1, -1], [0, -1, -1], [-1, -1, -1]], jnp.int32),
        t=jnp.int32(2),
    )
    return p, s


def test_features_and_candidates_on_hand_made_state():
    p, s = hand_state()
    f = jsp.job_features(p, s)
    np.testing.assert_array_equal(f.machine, [1, 2, 2])
    np.testing.assert_array_equal(f.duration, [1, 9, 3])
    np.testing.assert_array_equal(f.next_duration, [1, 9, 2])
    np.testing.assert_array_equal(f.est, [6, 2, 0])
    np.testing.assert_array_equal(f.ect, [7, 11, 3])
    np.testing.assert_array_equal(f.ops_left, [2, 2, 2])
    np.testing.assert_array_equal(f.work_left, [2, 18, 5])
    np.testing.assert_array_equal(f.work_done, [5, 2, 0])
    np.testing.assert_array_equal(jsp.candidates(p, s, "all"), [True, True, True])
    np.testing.assert_array_equal(jsp.candidates(p, s, "nondelay"), [False, False, True])
    np.testing.assert_array_equal(jsp.candidates(p, s, "active"), [False, True, True])
    sched, lb, op_mask = jsp.op_features(p, s)
    np.testing.assert_array_equal(sched, [[1, 0, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lb, [[6, 7, 8], [2, 11, 20], [3, 5, 0]])
    np.testing.assert_array_equal(op_mask, [[1, 1, 1], [1, 1, 1], [1, 1, 0]])


def test_stack_pads_to_common_shape():
    rng = np.random.default_rng(0)
    insts = [random_jsp(rng, f"r{i}") for i in range(4)]
    p = stack_jsp_params(insts)
    nj = max(i.n_jobs for i in insts)
    assert p.machines.shape[:2] == (4, nj)
    np.testing.assert_array_equal(p.job_len[:, :], [[i.n_ops_per_job] * i.n_jobs + [0] * (nj - i.n_jobs) for i in insts])
