"""SLIM decoding: valid schedules, greedy = argmax replay, best-of-beta label, one compile."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.instances.generators import taillard_jsp
from jsched.instances.model import JSPInstance
from jsched.kernels.jsp import reset, step
from jsched.schedule import Schedule, validate
from jsched.slim import decode as slim_decode
from jsched.slim.decode import decode, encode, sequence_logprob, step_logits
from jsched.slim.graph import stack_slim_instances
from jsched.slim.model import ModelConfig, init_params
from jsched.slim.train import make_train_step

CFG = ModelConfig()
PARAMS = init_params(CFG, jax.random.key(1))
RNG = np.random.default_rng(0)
INSTS = [taillard_jsp(4, 3, RNG), taillard_jsp(5, 4, RNG), taillard_jsp(3, 4, RNG)]
BATCH = stack_slim_instances(INSTS)  # mixed sizes, padded to 5 x 4 x 4
LOGITS = jax.jit(step_logits, static_argnames="cfg")


def keys(seed):
    return jax.random.split(jax.random.key(seed), len(INSTS))
ENCODE = jax.jit(encode, static_argnames="cfg")


def replay(inst: JSPInstance, actions):
    """Plain-Python append dispatch of a job sequence; returns the makespan."""
    jr, mr, no = [0] * inst.n_jobs, [0] * inst.n_machines, [0] * inst.n_jobs
    for a in actions:
        a = int(a)
        if a >= inst.n_jobs or no[a] >= inst.n_ops_per_job:
            continue
        m, d = inst.machines[a, no[a]], inst.durations[a, no[a]]
        jr[a] = mr[m] = max(jr[a], mr[m]) + d
        no[a] += 1
    assert all(n == inst.n_ops_per_job for n in no)
    return max(jr)


def test_greedy_and_sampled_schedules_are_valid():
    for greedy, s in [(True, 1), (False, 6)]:
        out = decode(PARAMS, BATCH, keys(0), n_samples=s, greedy=greedy, cfg=CFG)
        for b, inst in enumerate(INSTS):
            sched = Schedule.from_arrays(inst, np.asarray(out.best_start[b])[: inst.n_jobs, : inst.n_ops_per_job])
            validate(inst, sched)
            assert sched.makespan == int(out.makespans[b].min()) == replay(inst, out.best_actions[b])


def test_greedy_takes_the_argmax_at_every_step():
    out = decode(PARAMS, BATCH, keys(0), n_samples=1, greedy=True, cfg=CFG)
    inst = jax.tree.map(lambda x: x[1], BATCH)
    emb = ENCODE(PARAMS, inst, CFG)
    state = reset(inst.jsp)
    for a in np.asarray(out.best_actions[1])[: INSTS[1].n_ops]:
        assert int(jnp.argmax(LOGITS(PARAMS, inst, emb, state, CFG))) == a
        state, _, _ = step(inst.jsp, state, jnp.int32(a))


@pytest.mark.parametrize("chunk", [7, 50])  # noise drawn in chunks that do / do not divide the steps
def test_sampling_draws_categorical_of_the_direct_network(monkeypatch, chunk):
    """Each sampled step is ``jax.random.categorical(fold_in(key, t), logits)`` on the direct
    network's logits: the folded decode draws the same schedules as the plain formulation."""
    monkeypatch.setattr(slim_decode, "NOISE_CHUNK", chunk)
    inst = jax.tree.map(lambda x: x[1], BATCH)
    emb = ENCODE(PARAMS, inst, CFG)
    roll = jax.jit(lambda k: slim_decode.rollout(PARAMS, inst, emb, k, False, CFG)[1])
    for k in jax.random.split(jax.random.key(5), 3):
        state = reset(inst.jsp)
        for t, a in enumerate(np.asarray(roll(k))[: INSTS[1].n_ops]):
            logits = LOGITS(PARAMS, inst, emb, state, CFG)
            assert int(jax.random.categorical(jax.random.fold_in(k, t), logits)) == a
            state, _, _ = step(inst.jsp, state, jnp.int32(a))


def test_best_of_beta_is_the_label_and_sampling_is_seeded():
    a = decode(PARAMS, BATCH, keys(3), n_samples=16, greedy=False, cfg=CFG)
    b = decode(PARAMS, BATCH, keys(3), n_samples=16, greedy=False, cfg=CFG)
    chex.assert_trees_all_equal(a, b)
    ms = np.asarray(a.makespans)
    assert (np.asarray(a.best) == ms.argmin(axis=1)).all()
    assert len(np.unique(ms[1])) > 1  # samples differ
    for i, inst in enumerate(INSTS):
        assert replay(inst, a.best_actions[i]) == ms[i].min()


def test_sequence_logprob_of_greedy_path():
    inst = jax.tree.map(lambda x: x[0], BATCH)
    out = decode(PARAMS, BATCH, keys(0), n_samples=1, greedy=True, cfg=CFG)
    acts = out.best_actions[0]
    emb = ENCODE(PARAMS, inst, CFG)
    state, total = reset(inst.jsp), 0.0
    for a in np.asarray(acts)[: INSTS[0].n_ops]:
        total += float(jax.nn.log_softmax(LOGITS(PARAMS, inst, emb, state, CFG))[a])
        state, _, _ = step(inst.jsp, state, jnp.int32(a))
    got = float(sequence_logprob(PARAMS, inst, acts, CFG))
    np.testing.assert_allclose(got, total / (INSTS[0].n_ops - 1), rtol=1e-4)
    assert got < 0


def test_train_step_raises_label_likelihood_and_compiles_once():
    opt, train_step = make_train_step(CFG, 8, 1e-3)
    params, opt_state = PARAMS, opt.init(PARAMS)
    insts = stack_slim_instances([taillard_jsp(4, 3, s) for s in range(2)])
    losses = []
    for s in range(4):
        params, opt_state, m = train_step(params, opt_state, insts, jax.random.key(0))
        losses.append(float(m["loss"]))
    assert losses[-1] < losses[0]  # same key, same label set: CE on it must fall
    assert train_step._cache_size() == 1
