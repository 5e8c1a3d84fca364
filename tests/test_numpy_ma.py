"""The numpy MA baselines (``bench/numpy_ma.py``) decode exactly like the kernel."""

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.dac import ma
from jsched.instances.pfsp import generate_cas
from jsched.kernels import pfsp as K

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from numpy_ma import NumpyMA  # noqa: E402


@pytest.mark.parametrize("m,scale", [(1, 1.0), (3, 1.0), (3, 0.1)])
def test_numpy_decoders_match_kernel(m, scale):
    inst = generate_cas(np.random.default_rng(m), 6, m, days=1, load=0.8)
    p = ma.pfsp_params(inst)
    rng = np.random.default_rng(0)
    jk = rng.random((5, 6)).astype(np.float32)
    pk = (scale * rng.random((5, 6, m)) * (rng.random((5, 6, m)) < 0.5)).astype(np.float32)
    want = np.asarray(jax.vmap(K.fitness, in_axes=(None, 0, 0))(p, jnp.asarray(jk), jnp.asarray(pk)))
    vec = NumpyMA(inst, 5)
    loop = NumpyMA(inst, 5, per_individual=True)
    np.testing.assert_allclose(vec.fitness(jk, pk), want, rtol=1e-5)
    np.testing.assert_allclose(loop.fitness(jk, pk), want, rtol=1e-5)
    if scale < 1:  # small keys: some schedules fit the horizon (unpenalised emissions compared too)
        assert (want < float(p.penalty)).any()
    for algo in (vec, loop):
        pop = algo.init(np.random.default_rng(1))
        new = algo.generation(np.random.default_rng(2), ma.DEFAULT, pop)
        assert new[2].min() <= pop[2].min() and new[0].min() >= 0 and new[1].max() <= 1
        np.testing.assert_allclose(algo.fitness(new[0], new[1]), new[2], rtol=1e-9)  # keys decode to what was evaluated
