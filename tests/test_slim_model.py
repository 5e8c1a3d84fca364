"""SLIM network: parameter count, decoder mask, padding invariance, policy interface."""

import jax
import jax.numpy as jnp
import numpy as np

from jsched.instances.model import JSPInstance
from jsched.kernels.jsp import reset, step
from jsched.slim.decode import encode, fast_step_logits, make_policy, observe, step_logits
from jsched.slim.features import op_features
from jsched.slim.graph import edge_list, slim_instance, stack_slim_instances
from jsched.slim.model import ModelConfig, count_params, init_params

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
    assert count_params(PARAMS) == 376_961  # the authors' model: encoder 166,784 + decoder 210,177


def test_edges_job_arcs_one_way_machine_cliques_no_self_loops():
    inst = JSPInstance("e", np.array([[0, 1], [1, 0]]), np.ones((2, 2), int), 2)
    s, r = edge_list(inst)
    edges = set(zip(s.tolist(), r.tolist()))
    # ops: 0=(0,0)m0 1=(0,1)m1 2=(1,0)m1 3=(1,1)m0
    assert edges == {(0, 1), (2, 3), (0, 3), (3, 0), (1, 2), (2, 1)}


def _gat_reference(p, x, snd, rcv, heads, concat, slope=0.15):
    """PyG GATv2Conv on an edge list, with segment sums (the formulation the encoder replaces)."""
    n = x.shape[0]
    xl = (x @ p["lin_l"]["kernel"] + p["lin_l"]["bias"]).reshape(n, heads, -1)
    xr = (x @ p["lin_r"]["kernel"] + p["lin_r"]["bias"]).reshape(n, heads, -1)
    e = jax.nn.leaky_relu(xl[snd] + xr[rcv], slope)
    sc = (e * p["att"]).sum(-1)
    mx = jax.ops.segment_max(sc, rcv, n)
    ex = jnp.exp(sc - mx[rcv])
    alpha = ex / jax.ops.segment_sum(ex, rcv, n)[rcv]
    out = jax.ops.segment_sum(alpha[..., None] * xl[snd], rcv, n)
    return (out.reshape(n, -1) if concat else out.mean(1)) + p["bias"]


def test_dense_encoder_equals_edge_list_gatv2():
    raw = JSPInstance("r", np.array([[0, 1, 1], [1, 0, 2], [2, 2, 0]]), np.arange(1, 10).reshape(3, 3), 3)  # repeats
    for inst, pad in [(_inst(5, 5, 4), (6, 5, 5)), (raw, (4, 4, 3))]:
        si = stack_slim_instances([inst])
        big = slim_instance(inst, *pad)
        for s in (jax.tree.map(lambda x: x[0], si), big):
            x = op_features(s.jsp)
            snd, rcv = edge_list(inst, s.jsp.machines.shape[1])
            h1 = jax.nn.relu(_gat_reference(PARAMS["gat1"], x, snd, rcv, 3, True))
            h2 = jax.nn.relu(_gat_reference(PARAMS["gat2"], jnp.concatenate([x, h1], 1), snd, rcv, 3, False))
            e = jnp.concatenate([x, h2], 1)
            ref = e @ PARAMS["linear3_embed"]["kernel"] + PARAMS["linear3_embed"]["bias"]
            got = encode(PARAMS, s, CFG)
            ids = (np.arange(inst.n_jobs)[:, None] * s.jsp.machines.shape[1] + np.arange(inst.n_ops_per_job)).ravel()
            np.testing.assert_allclose(got[ids], ref[ids], rtol=2e-5, atol=2e-5)


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
    big = slim_instance(raw, 6, 5, 5, 7)
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


def test_affine_decoder_equals_direct_decoder():
    """memory_logits (used by decodes) gives SlimNet.decode's logits, padding and step 0 included."""
    raw = _inst(7, 5, 4)
    inst = slim_instance(raw, 7, 5, 6)
    fast = jax.jit(lambda p, i, s: fast_step_logits(p, i, encode(p, i, CFG), s, CFG))
    rng = np.random.default_rng(0)
    for params in (PARAMS, init_params(CFG, jax.random.key(9))):
        state = reset(inst.jsp)
        for _ in range(raw.n_ops):
            a, b = np.asarray(_logits(params, inst, state)), np.asarray(fast(params, inst, state))
            np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b))
            np.testing.assert_allclose(b[np.isfinite(b)], a[np.isfinite(a)], rtol=1e-4, atol=1e-4)
            state, _, _ = step(inst.jsp, state, jnp.int32(rng.choice(np.flatnonzero(np.isfinite(a)))))
