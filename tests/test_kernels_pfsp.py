"""kernels/pfsp.py: decoder vs a slow Python reference, feasibility, operators, seeds, vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsched.dac import ma
from jsched.instances.pfsp import generate_cas
from jsched.kernels import pfsp as K
from jsched.schedule import Schedule, validate

N, M, D = 7, 3, 96  # every test instance is padded to these shapes: one compile


def make(seed, n_jobs=6, n_machines=3, days=1, load=0.9):
    inst = generate_cas(np.random.default_rng(seed), n_jobs, n_machines, days=days, load=load)
    return inst, ma.pfsp_params(inst, N, 96 * days, D) if n_machines == M else None


def ref_decode(inst, job_keys, pause_keys):
    """Plain-Python decoder, written from the module docstring."""
    n, m, h = inst.n_jobs, inst.n_machines, inst.horizon
    seq = sorted(range(n), key=lambda j: (job_keys[j], j))
    d = [[int(inst.durations[j, k]) for k in range(m)] for j in seq]
    c = [0] * m
    for i in range(n):  # makespan without idle time
        for k in range(m):
            c[k] = max(c[k - 1] if k else 0, c[k]) + d[i][k]
    slack = max(h - max(c), 0)
    c = [0] * m
    start = np.zeros((n, m), int)
    for i, j in enumerate(seq):
        prev = 0
        for k in range(m):
            idle = min(int(np.floor(np.float32(pause_keys[i][k]) * np.float32(slack + 1))), slack) if d[i][k] else 0
            s = max(prev, c[k]) + idle
            start[j, k] = s
            prev = c[k] = s + d[i][k]
    return seq, start


decode = jax.jit(K.decode)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(1, 6), st.floats(0.5, 1.0))
def test_decoder_matches_reference_and_is_feasible(seed, n_jobs, load):
    inst, p = make(seed, n_jobs=n_jobs, load=load)
    rng = np.random.default_rng(seed)
    jk = rng.random(N).astype(np.float32)
    pk = (rng.random((N, M)) * (rng.random((N, M)) < 0.5)).astype(np.float32)
    dec = decode(p, jnp.asarray(jk), jnp.asarray(pk))
    seq, start = ref_decode(inst, jk[:n_jobs], pk[:n_jobs])
    assert np.asarray(dec.sequence)[:n_jobs].tolist() == seq
    got = np.asarray(dec.start)[:n_jobs]
    feasible = int((start + inst.durations).max()) <= inst.horizon
    np.testing.assert_array_equal(got, start)
    validate(inst, Schedule.from_arrays(inst, got))  # precedence, capacity
    if feasible:
        inst.check_schedule(seq, got)  # horizon, permutation
        assert float(dec.fitness) == pytest.approx(inst.emissions(got), rel=1e-5)
    else:  # a sequence that cannot fit is penalised above every feasible fitness
        assert float(dec.fitness) > float(p.penalty)


def test_seed_individual_is_file_order_without_idle():
    inst, p = make(1)
    jk, pk = K.seed_individual(p)
    dec = decode(p, jk, pk)
    _, start = ref_decode(inst, np.arange(inst.n_jobs), np.zeros((inst.n_jobs, M)))
    np.testing.assert_array_equal(np.asarray(dec.start)[: inst.n_jobs], start)
    assert np.asarray(dec.sequence)[: inst.n_jobs].tolist() == list(range(inst.n_jobs))


def test_pause_key_takes_a_share_of_the_whole_slack():
    inst, p = make(2, load=0.6)
    first = int(np.argmax(inst.durations[:, 0] > 0))  # a job that uses machine 0 goes first
    jk = jnp.asarray(np.where(np.arange(N) == first, 0.0, np.linspace(0.1, 1, N)), jnp.float32)
    free = decode(p, jk, jnp.zeros((N, M)))
    slack = inst.horizon - int(free.end_max)
    assert slack > 0 and int(np.asarray(free.sequence)[0]) == first
    one = jnp.zeros((N, M)).at[0, 0].set(1.0)
    dec = decode(p, jk, one)  # the whole slack before the first operation: every start shifts by it
    n = inst.n_jobs
    np.testing.assert_array_equal(np.asarray(dec.start)[:n], np.asarray(free.start)[:n] + slack)
    assert int(dec.end_max) == inst.horizon and float(dec.fitness) == pytest.approx(float(dec.emissions))
    half = decode(p, jk, one * 0.5)
    assert int(half.end_max) == int(free.end_max) + (slack + 1) // 2
    # Each key asks for a share of the whole slack, so two full shares overrun: penalised.
    second = int(np.argmax(inst.durations[np.asarray(free.sequence)[1]] > 0))
    over = decode(p, jk, one.at[1, second].set(1.0))
    assert int(over.end_max) > inst.horizon and float(over.fitness) > float(p.penalty)


def test_single_machine_hand_case():
    # Two jobs, horizon 96: durations 2 and 1; all slack (93) before the first job.
    from jsched.instances.pfsp import PFSPInstance

    pw = np.zeros((2, 1, 2))
    pw[0, 0] = [4, 4]
    pw[1, 0, 0] = 10
    ci = np.ones(96)
    ci[:93] = 5.0
    inst = PFSPInstance("h", np.array([[2], [1]]), pw, np.zeros(96), ci)
    p = ma.pfsp_params(inst)
    dec = decode(p, jnp.array([0.1, 0.9]), jnp.array([[1.0], [0.0]]))
    np.testing.assert_array_equal(np.asarray(dec.start), [[93], [95]])
    assert float(dec.emissions) == pytest.approx(0.25 * (4 + 4 + 10))


GEN = jax.jit(K.generation, static_argnames="ls_steps")
CFG = ma.make_config(ma.DEFAULT)


def small_pop(key, p, size=16):
    return K.init_population(key, p, size, 0.5)


def test_operators_keep_keys_in_range_and_elitism():
    inst, p = make(3)
    pop = small_pop(jax.random.key(0), p)
    wild = ma.make_config(dict(xi=0.9, chi_j=0.5, chi_p=0.5, pi_j=1.0, pi_p=1.0, sigma_j=5.0, sigma_p=5.0))
    for i in range(3):
        new, stats = GEN(jax.random.key(i), p, wild, pop, ls_steps=2)
        for a in (new.job_keys, new.pause_keys):
            assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
        assert float(stats.best) <= float(pop.fitness.min())  # elitist
        np.testing.assert_allclose(np.asarray(new.fitness),
                                   np.asarray(K._pop_fitness(p, new.job_keys, new.pause_keys)), rtol=1e-6)
        pop = new


def test_local_search_never_worsens():
    inst, p = make(4)
    pop = small_pop(jax.random.key(1), p)
    jk, fit = K.local_search(jax.random.key(2), p, pop.job_keys, pop.pause_keys, pop.fitness, 5)
    assert (np.asarray(fit) <= np.asarray(pop.fitness)).all()
    np.testing.assert_allclose(np.asarray(fit), np.asarray(K._pop_fitness(p, jk, pop.pause_keys)), rtol=1e-6)


def test_local_search_keys_decode_to_the_evaluated_sequence_with_ties():
    # Keys clipped to 0 and 1 tie often; a move is evaluated on the swapped sequence without
    # re-sorting, so it must be rejected whenever the new keys would sort differently.
    inst, p = make(10, load=0.7)
    pop = small_pop(jax.random.key(3), p, 32)
    rng = np.random.default_rng(0)
    jk = np.asarray(pop.job_keys).copy()
    jk[rng.random(jk.shape) < 0.5] = 1.0
    jk[rng.random(jk.shape) < 0.3] = 0.0
    jk = jnp.asarray(jk)
    pk = pop.pause_keys * 0.05
    fit0 = K._pop_fitness(p, jk, pk)
    jk2, fit = K.local_search(jax.random.key(4), p, jk, pk, fit0, 30)
    np.testing.assert_allclose(np.asarray(fit), np.asarray(K._pop_fitness(p, jk2, pk)), rtol=1e-6)
    assert (np.asarray(fit) <= np.asarray(fit0)).all() and (np.asarray(fit) < np.asarray(fit0)).any()


def test_run_batch_seeds_and_vmap_equal_loop():
    insts = [make(s)[0] for s in (5, 6)]
    stacked = ma.stack_params(insts)
    keys = jax.random.split(jax.random.key(7), 4).reshape(2, 2)
    (jk, pk, fit), curve = ma.run_batch(keys, stacked, CFG, 16, 3, 1)
    (jk2, _, fit2), _ = ma.run_batch(keys, stacked, CFG, 16, 3, 1)
    np.testing.assert_array_equal(np.asarray(fit), np.asarray(fit2))  # same seed, same result
    assert curve.best.shape == (2, 2, 4)
    assert (np.diff(np.asarray(curve.best), axis=-1) <= 0).all()  # elitist curve never rises
    for i in range(2):
        for r in range(2):
            p_i = jax.tree.map(lambda x: x[i : i + 1], stacked)
            (_, _, f1), _ = ma.run_batch(keys[i : i + 1, r : r + 1], p_i, CFG, 16, 3, 1)
            assert float(f1[0, 0]) == pytest.approx(float(fit[i, r]), rel=1e-6)
    res = ma.finish(insts[0], ma.pfsp_params(insts[0], stacked.durations.shape[1], 96, stacked.power.shape[3]),
                    jk[0, 0], pk[0, 0])
    assert res.emissions == pytest.approx(float(fit[0, 0]), rel=1e-5)


def test_stack_pads_machines():
    a, _ = make(8, n_machines=1)
    b, _ = make(9, n_machines=3, days=3)
    st_ = ma.stack_params([a, b])
    assert st_.durations.shape[1:] == (b.n_jobs if b.n_jobs > a.n_jobs else a.n_jobs, 3)
    jk, pk = K.seed_individual(jax.tree.map(lambda x: x[0], st_))
    d = decode(jax.tree.map(lambda x: x[0], st_), jk, pk)
    p_a = ma.pfsp_params(a)
    d_a = decode(p_a, *K.seed_individual(p_a))
    assert float(d.fitness) == pytest.approx(float(d_a.fitness), rel=1e-6)


@pytest.mark.parametrize("n", [9, 70])  # counting sort (<= 64 jobs) and jnp.argsort
def test_sequence_is_stable_key_order_with_ties_and_padding(n):
    rng = np.random.default_rng(n)
    keys = np.round(rng.random(n), 1).astype(np.float32)  # many ties
    mask = np.arange(n) < n - 2  # two padded jobs go last
    params = K.PFSPParams(*[None] * 5, jnp.asarray(mask), None)
    got = np.asarray(jax.jit(K.sequence_of)(params, jnp.asarray(keys)))
    want = np.lexsort((np.arange(n), np.where(mask, keys, 2.0)))
    np.testing.assert_array_equal(got, want)
