"""SLIM network: parameter count, decoder mask, padding invariance, policy interface."""

import jax
import jax.numpy as jnp
import numpy as np

from jsched.instances.model import JSPInstance
from jsched.slim.decode import encode, make_policy, observe, step_logits
from jsched.slim.graph import edge_list, slim_instance
from jsched.slim.model import ModelConfig, count_params, init_params
from kernels.jsp import reset, step

CFG = ModelConfig()
PARAMS = init_params(CFG, jax.random.key(0))


def _inst(seed, j=4, m=3):
    rng = np.random.default_rng(seed)
    return JSPInstance("t", np.stack([rng.permutation(m) for _ in range(j)]), rng.integers(1, 50, (j, m)), m)


@jax.jit
def _logits(params, inst, state):
    return step_logits(params, inst, encode(params, inst, CFG), state, CFG)


def _advance(inst, actions):
    s = reset(inst.jsp)
    for a in actions:
        s, _, _ = step(inst.jsp, s, jnp.int32(a))
    return s


def test_parameter_count_matches_authors_b256_checkpoint():
    assert count_params(PARAMS) == 376_961  # slim-code-notes: encoder 166,784 + decoder 210,177


def test_edges_job_arcs_one_way_machine_cliques_no_self_loops():
    inst = JSPInstance("e", np.array([[0, 1], [1, 0]]), np.ones((2, 2), int), 2)
    s, r = edge_list(inst)
    edges = set(zip(s.tolist(), r.tolist()))
    # ops: 0=(0,0)m0 1=(0,1)m1 2=(1,0)m1 3=(1,1)m0
    assert edges == {(0, 1), (2, 3), (0, 3), (3, 0), (1, 2), (2, 1)}


def test_decoder_mask_excludes_finished_jobs():
    inst = slim_instance(_inst(1))
    state = _advance(inst, [0, 0, 0, 2])  # job 0 finished
    logits = np.asarray(_logits(PARAMS, inst, state))
    assert np.isneginf(logits[0]) and np.isfinite(logits[1:]).all()
    probs = jax.nn.softmax(logits)
    assert probs[0] == 0 and abs(float(probs.sum()) - 1) < 1e-6


def test_padding_does_not_change_logits():
    raw = _inst(2)
    small = slim_instance(raw)
    big = slim_instance(raw, 6, 5, 5, 64)
    acts = [1, 2, 1, 0, 3]
    a = np.asarray(_logits(PARAMS, small, _advance(small, acts)))
    b = np.asarray(_logits(PARAMS, big, _advance(big, acts)))
    np.testing.assert_allclose(b[:4], a, rtol=1e-4, atol=1e-4)
    assert np.isneginf(b[4:]).all()


def test_policy_interface_equals_cached_decoder():
    inst = slim_instance(_inst(3))
    state = _advance(inst, [2, 2, 0])
    pol = jax.jit(make_policy(CFG))
    np.testing.assert_allclose(pol(PARAMS, observe(inst, state, CFG)), _logits(PARAMS, inst, state), rtol=1e-5, atol=1e-5)
