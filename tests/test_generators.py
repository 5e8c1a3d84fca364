"""Generators: reproducible with a seed, values in range, faithful to the original code."""

from __future__ import annotations

import random

import numpy as np
import pytest

from jsched.errors import JSchedError
from jsched.instances import load
from jsched.instances.generators import (
    sd1_fjsp,
    sd1_fjsp_set,
    sd2_fjsp,
    sd2_fjsp_set,
    taillard_jsp,
    taillard_jsp_seeded,
)
from jsched.instances.io import fjsp_text, instances_equal


def test_taillard_reproducible_and_in_range():
    a, b, c = taillard_jsp(10, 5, 3), taillard_jsp(10, 5, np.random.default_rng(3)), taillard_jsp(10, 5, 4)
    assert instances_equal(a, b) and not instances_equal(a, c)
    assert a.durations.min() >= 1 and a.durations.max() <= 99
    assert all(sorted(r) == list(range(5)) for r in a.machines.tolist())
    big = taillard_jsp(200, 10, 0)
    assert big.durations.min() == 1 and big.durations.max() == 99  # whole range reached


def test_taillard_seeded_rebuilds_ta01():
    """Taillard's LCG with ta01's published seeds gives the benchmark exactly."""
    gen = taillard_jsp_seeded(15, 15, 840612802, 398197754)
    assert instances_equal(gen, load("ta01"))


def test_sd2_reproduces_daniel_published_test_set():
    """DANIEL's data/SD2/10x5+mix/10x5+mix_001.fjs and _002 (seed 200), first lines."""
    a, b = sd2_fjsp_set(2, 10, 5, seed=200)
    ta, tb = fjsp_text(a).splitlines(), fjsp_text(b).splitlines()
    assert ta[0] == "10 5 2.98" and tb[0] == "10 5 2.9"
    assert ta[1] == "5 3 1 65 2 90 5 95 2 3 89 4 23 1 2 31 5 1 6 2 41 3 27 4 66 5 98 3 2 72 3 91 4 1"
    assert tb[1] == "5 4 2 59 3 49 4 15 5 66 1 4 25 2 1 47 5 13 3 2 91 3 71 5 59 5 1 37 2 12 3 13 4 63 5 90"


@pytest.mark.parametrize("rng", [7, np.random.default_rng(7)], ids=["legacy", "generator"])
def test_sd2_ranges(rng):
    f = sd2_fjsp(20, 6, rng)
    assert (f.job_lengths == 6).all() and f.n_ops == 120
    d = f.durations[f.eligible]
    assert d.min() >= 1 and d.max() <= 99 and (f.durations[~f.eligible] == 0).all()
    k = f.eligible.sum(axis=1)
    assert k.min() >= 1 and k.max() <= 6 and len(set(k.tolist())) > 3


def test_sd2_reproducible_and_options():
    assert instances_equal(sd2_fjsp(5, 4, 11), sd2_fjsp(5, 4, 11))
    nf = sd2_fjsp(5, 4, 1, flexibility=(1, 1), ops_per_job=3)
    assert (nf.eligible.sum(axis=1) == 1).all() and (nf.job_lengths == 3).all()
    with pytest.raises(JSchedError):
        sd2_fjsp(5, 4, 1, flexibility=(0, 5))


@pytest.mark.parametrize("rng", [3, random.Random(3), np.random.default_rng(3)], ids=["seed", "random", "generator"])
def test_sd1_ranges(rng):
    f = sd1_fjsp(30, 10, rng)
    assert f.job_lengths.min() >= 8 and f.job_lengths.max() <= 12
    k = f.eligible.sum(axis=1)
    assert k.min() >= 1 and k.max() <= 10
    d = f.durations[f.eligible]
    assert d.min() >= 1 and d.max() <= 20
    # per-op spread within +-20% of a mean in 1..20: max/min <= round(1.2 mu)/round(0.8 mu) <= 2
    lo = np.where(f.eligible, f.durations, 99).min(axis=1)
    hi = f.durations.max(axis=1)
    assert (hi <= 2 * lo).all()


def test_sd1_reproducible_and_shared_job_lengths():
    assert instances_equal(sd1_fjsp(6, 4, 5), sd1_fjsp(6, 4, 5))
    assert not instances_equal(sd1_fjsp(6, 4, 5), sd1_fjsp(6, 4, 6))
    batch = sd1_fjsp_set(4, 6, 4, seed=1, same_job_lengths=True)
    assert all((b.job_lengths == batch[0].job_lengths).all() for b in batch)
    assert instances_equal(sd1_fjsp_set(2, 6, 4, seed=1)[1], sd1_fjsp_set(2, 6, 4, seed=1)[1])
    fixed = sd1_fjsp(3, 4, 0, job_lengths=[1, 2, 3])
    assert fixed.job_lengths.tolist() == [1, 2, 3]


def test_bad_sizes():
    for bad in (lambda: taillard_jsp(0, 3, 0), lambda: sd1_fjsp(2, 0, 0), lambda: taillard_jsp(2, 2, 0, low=5, high=1)):
        with pytest.raises(JSchedError):
            bad()


# ------------------------------------------------------------------ in-graph generators (key -> arrays)


def test_taillard_generator_jit_vmap_and_ranges():
    import jax

    from jsched.instances.generators import taillard_generator

    gen = taillard_generator(6, 4, low=3, high=7)
    keys = jax.random.split(jax.random.key(0), 50)
    batch = jax.jit(jax.vmap(gen))(keys)
    assert batch.machines.shape == (50, 6, 4) and batch.durations.dtype == np.int32
    assert all(sorted(r) == [0, 1, 2, 3] for r in np.asarray(batch.machines).reshape(-1, 4).tolist())
    d = np.asarray(batch.durations)
    assert d.min() == 3 and d.max() == 7
    np.testing.assert_array_equal(batch.job_len, 4)
    assert bool(np.asarray(batch.machine_mask).all()) and not np.asarray(batch.release).any()
    one = gen(keys[7])  # the vmapped batch equals one call per key, and is reproducible
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(a[7], b), batch, one)
    assert not np.array_equal(np.asarray(gen(keys[8]).durations), np.asarray(one.durations))
    with pytest.raises(JSchedError):
        taillard_generator(0, 3)


def test_pool_and_fixed_generators():
    import jax

    from jsched.instances.arrays import stack_jsp_params
    from jsched.instances.generators import fixed_generator, pool_generator

    insts = [taillard_jsp(3, 2, s) for s in range(3)]
    pool = stack_jsp_params(insts)
    gen = pool_generator(pool)
    draws = jax.jit(jax.vmap(gen))(jax.random.split(jax.random.key(1), 60))
    seen = set()
    for k in range(60):
        d = np.asarray(draws.durations[k])
        i = next(i for i, inst in enumerate(insts) if np.array_equal(d, inst.durations))
        np.testing.assert_array_equal(draws.machines[k], insts[i].machines)
        seen.add(i)
    assert seen == {0, 1, 2}
    np.testing.assert_array_equal(fixed_generator(pool)(jax.random.key(5)).durations, pool.durations)
    with pytest.raises(JSchedError):
        pool_generator(jax.tree.map(lambda a: a[:0], pool))
