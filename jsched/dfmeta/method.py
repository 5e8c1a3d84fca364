"""``jsched solve INSTANCE --method dfmeta``: DF-Meta test-time adaptation from a theta_0.

``--policy auto`` (default) picks the policy from the instance: DANIEL on an FJSP, SLIM on a
JSP (the paper's two base models); ``--policy daniel|slim`` forces one. theta_0 is
``--theta0 PATH`` or the shipped default: the meta-trained DANIEL initialisation
(``jsched/assets/dfmeta/``), or for SLIM the shipped SLIM model (``jsched/assets/slim/slim.ckpt``;
no meta-trained SLIM theta_0 ships, so this is ES without meta-learning unless ``--theta0``
names a file from ``jsched train dfmeta --policy slim``). It runs K OpenAI-ES steps on the
instance (population ``--mu``, ``--L`` sampled rollouts per individual, ``--estimator``) and
returns the best schedule of every rollout seen (K * mu * L + L rollouts), validated by the
caller.
"""

from __future__ import annotations

import os

import jax

from jsched.dfmeta import daniel
from jsched.dfmeta.checkpoint import load_params
from jsched.dfmeta.es import ESTIMATORS, DFMetaConfig
from jsched.errors import JSchedError
from jsched.instances.model import JSPInstance
from jsched.methods import SolveOutput

ASSETS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets")
THETA0 = os.path.join(ASSETS, "dfmeta", "daniel_theta0.msgpack")
SLIM_THETA0 = os.path.join(ASSETS, "slim", "slim.ckpt")
THETA0_KIND = "dfmeta-theta0"
POLICIES = ("auto", "daniel", "slim")


def load_theta0(path: str = THETA0):
    """Meta-trained DANIEL variables and the meta-training record."""
    params, cfg, meta = load_params(path, daniel.init_params(jax.random.key(0)), THETA0_KIND)
    return jax.tree.map(jax.numpy.asarray, params), cfg, meta


def add_arguments(p) -> None:
    d = DFMetaConfig()
    p.add_argument("--policy", choices=POLICIES, default="auto",
                   help="base policy: auto (SLIM on a JSP, DANIEL on an FJSP), daniel or slim")
    p.add_argument("--K", type=int, default=d.K, help="ES steps per instance (default %(default)s)")
    p.add_argument("--mu", type=int, default=d.mu, help="ES population (even; default %(default)s)")
    p.add_argument("--L", type=int, default=d.L, help="sampled rollouts per individual (default %(default)s)")
    p.add_argument("--estimator", choices=ESTIMATORS, default=d.estimator)
    p.add_argument("--sigma", type=float, default=d.sigma, help="perturbation std (default %(default)s)")
    p.add_argument("--inner-lr", type=float, default=d.inner_lr, help="inner Adam step (default %(default)s)")
    p.add_argument("--chunk", type=int, default=d.chunk,
                   help="individuals rolled out together (0: whole population; on a 2-core CPU 5 was fastest at mu 100)")
    p.add_argument("--theta0", default=None,
                   help="theta_0 checkpoint (default: shipped DANIEL theta_0, or the shipped SLIM model)")


def pick_policy(instance, policy: str) -> str:
    """The policy ``--policy`` names, ``auto`` resolved from the instance kind; checks the match."""
    is_jsp = isinstance(instance, JSPInstance)
    if policy == "auto":
        return "slim" if is_jsp else "daniel"
    if policy == "slim" and not is_jsp:
        raise JSchedError(f"--policy slim solves JSP instances; {instance.name} is an FJSP (use --policy daniel)")
    return policy


def solve(instance, args) -> SolveOutput:
    cfg = DFMetaConfig(K=args.K, mu=args.mu, L=args.L, estimator=args.estimator, sigma=args.sigma,
                       inner_lr=args.inner_lr, chunk=args.chunk)
    policy = pick_policy(instance, getattr(args, "policy", "auto"))
    key = jax.random.key(args.seed)
    if policy == "slim":
        from jsched.dfmeta import slim_policy

        path = args.theta0 or SLIM_THETA0
        theta0, model_cfg, _ = slim_policy.load_theta0(path)
        out = slim_policy.adapt_instance(theta0, instance, cfg, key, model_cfg)
    else:
        from jsched.dfmeta.adapt import adapt_instance
        from jsched.dfmeta.train_policy import DANIEL_ENV

        path = args.theta0 or THETA0
        theta0, _, _ = load_theta0(path)
        out = adapt_instance(daniel.policy, DANIEL_ENV, theta0, instance, cfg, key)
    extra = {"policy": policy, "K": cfg.K, "mu": cfg.mu, "L": cfg.L, "estimator": cfg.estimator,
             "rollouts": out.rollouts, "curve": out.curve, "theta0": os.path.basename(path)}
    return SolveOutput(out.schedule, extra, summary=("policy", "rollouts"))
