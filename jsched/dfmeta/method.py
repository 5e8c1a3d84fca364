"""``jsched solve INSTANCE --method dfmeta``: DF-Meta test-time adaptation from a shipped theta_0.

Starts from the meta-trained DANIEL initialisation theta_0 (``jsched/assets/dfmeta/``, or
``--theta0 PATH``), runs K OpenAI-ES steps on the instance (population ``--mu``, ``--L``
sampled rollouts per individual, ``--estimator``) and returns the best schedule of every
rollout seen (K * mu * L + L rollouts), validated by the caller.
"""

from __future__ import annotations

import os

import jax

from jsched.dfmeta import daniel
from jsched.dfmeta.adapt import adapt_instance
from jsched.dfmeta.checkpoint import load_params
from jsched.dfmeta.es import ESTIMATORS, DFMetaConfig
from jsched.methods import SolveOutput

ASSETS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets")
THETA0 = os.path.join(ASSETS, "dfmeta", "daniel_theta0.msgpack")
THETA0_KIND = "dfmeta-theta0"


def load_theta0(path: str = THETA0):
    """Meta-trained DANIEL variables and the meta-training record."""
    params, cfg, meta = load_params(path, daniel.init_params(jax.random.key(0)), THETA0_KIND)
    return jax.tree.map(jax.numpy.asarray, params), cfg, meta


def add_arguments(p) -> None:
    d = DFMetaConfig()
    p.add_argument("--K", type=int, default=d.K, help="ES steps per instance (default %(default)s)")
    p.add_argument("--mu", type=int, default=d.mu, help="ES population (even; default %(default)s)")
    p.add_argument("--L", type=int, default=d.L, help="sampled rollouts per individual (default %(default)s)")
    p.add_argument("--estimator", choices=ESTIMATORS, default=d.estimator)
    p.add_argument("--sigma", type=float, default=d.sigma, help="perturbation std (default %(default)s)")
    p.add_argument("--inner-lr", type=float, default=d.inner_lr, help="inner Adam step (default %(default)s)")
    p.add_argument("--theta0", default=THETA0, help="theta_0 checkpoint (default: shipped)")


def solve(instance, args) -> SolveOutput:
    from jsched.dfmeta.train_policy import DANIEL_ENV

    theta0, _, meta = load_theta0(args.theta0)
    cfg = DFMetaConfig(K=args.K, mu=args.mu, L=args.L, estimator=args.estimator, sigma=args.sigma,
                       inner_lr=args.inner_lr)
    out = adapt_instance(daniel.policy, DANIEL_ENV, theta0, instance, cfg, jax.random.key(args.seed))
    extra = {"K": cfg.K, "mu": cfg.mu, "L": cfg.L, "estimator": cfg.estimator, "rollouts": out.rollouts,
             "curve": out.curve, "theta0": os.path.basename(args.theta0)}
    return SolveOutput(out.schedule, extra, summary=("rollouts",))
