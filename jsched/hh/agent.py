"""The HH policy: network, greedy / sampling rollouts over instances, loading shipped agents.

The policy is :class:`jsched.rl.ppo.ActorCritic` over the CTPN observation with 7 logits (one
per rule). Inference follows the paper's two modes: greedy (argmax rule at each decision) and
sampling (draw rules from the policy; jsched keeps the best of ``n`` sampled schedules).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import CheckpointError, JSchedError
from jsched.hh.env import N_RULES, HHEnvConfig, HHState, apply_rule, init_state, observe
from jsched.instances.arrays import jsp_params
from jsched.instances.model import JSPInstance
from jsched.rl import checkpoint
from jsched.rl.ppo import ActorCritic, masked_logits
from jsched.kernels import petri
from jsched.kernels import petri_rules as R
from jsched.kernels.jsp import JSPParams

POLICY_KIND = "hh-policy"


def make_network(hidden: tuple[int, ...]) -> ActorCritic:
    return ActorCritic(out_dim=N_RULES, hidden=tuple(hidden))


@functools.partial(jax.jit, static_argnames=("cfg", "hidden"))
def rollout_policy(net_params, inst: JSPParams, key, cfg: HHEnvConfig, hidden: tuple[int, ...], greedy: bool = True):
    """One episode of the HH policy on ``inst``; returns the final :class:`HHState`.

    ``greedy`` may be traced (so greedy and sampled rollouts share one compile).
    """
    apply = make_network(hidden).apply
    _, s = init_state(cfg, inst, with_ref=False)

    def body(carry, _):
        s, key = carry
        key, k = jax.random.split(key)
        logits, _ = apply(net_params, observe(cfg, s))
        logits = masked_logits(logits, R.rule_mask(s.inst, s.net))
        rule = jnp.where(greedy, jnp.argmax(logits), jax.random.categorical(k, logits))
        return (apply_rule(cfg, s, rule), key), None

    return jax.lax.scan(body, (s, key), None, cfg.n_decisions)[0][0]


def fixed_rule_rollout(inst: JSPParams, rule: int, cfg: HHEnvConfig) -> HHState:
    """The HH env driven by one fixed rule (the full-commitment policy)."""
    _, s = init_state(cfg, inst, with_ref=False)
    return jax.lax.scan(lambda s, _: (apply_rule(cfg, s, jnp.int32(rule)), None), s, None, cfg.n_decisions)[0]


@dataclasses.dataclass
class Policy:
    """A trained HH agent: its env config, network shape and parameters."""

    cfg: HHEnvConfig
    hidden: tuple[int, ...]
    params: dict
    info: dict

    def fits(self, inst: JSPInstance) -> bool:
        """True if ``inst`` pads into this agent's shape (jobs, machines and ops per job)."""
        return inst.n_jobs <= self.cfg.n_jobs and inst.n_machines <= self.cfg.n_machines and (
            inst.n_ops_per_job <= self.cfg.n_machines
        )

    def params_for(self, inst: JSPInstance) -> JSPParams:
        """``inst`` padded to the agent's shape (padded jobs hold no tokens, padded machines idle)."""
        if not self.fits(inst):
            raise JSchedError(
                f"{inst.name}: {inst.shape} does not fit the HH agent trained on "
                f"{self.cfg.n_jobs}x{self.cfg.n_machines}"
            )
        return jsp_params(inst, self.cfg.n_jobs, self.cfg.n_machines, self.cfg.n_machines)

    def solve(self, inst: JSPInstance, samples: int = 0, seed: int = 0, commitment: int | None = None):
        """Best schedule of the greedy rollout and ``samples`` sampled ones.

        Returns (start (J, O) numpy, makespan, rules used (list of rule names), mode).
        """
        p = self.params_for(inst)
        cfg = self.cfg if commitment is None else dataclasses.replace(self.cfg, commitment=commitment)
        keys = jax.random.split(jax.random.PRNGKey(seed), samples + 1)
        greedy = jnp.arange(samples + 1) == 0
        run = jax.vmap(lambda k, g: rollout_policy(self.params, p, k, cfg, self.hidden, g))
        final = run(keys, greedy)
        ms = np.asarray(jax.vmap(petri.makespan)(final.net))
        b = int(np.argmin(ms))
        rules = [R.RULES[int(r)] for r in np.asarray(final.rules[b]) if r >= 0]
        start = np.asarray(final.net.start[b])[: inst.n_jobs, : inst.n_ops_per_job]
        return start, int(ms[b]), rules, "greedy" if b == 0 else f"sample {b}"


def policy_config(cfg: HHEnvConfig, hidden) -> dict:
    return {"env": dataclasses.asdict(cfg), "hidden": list(hidden), "obs_dim": cfg.obs_dim}


def save_policy(path, cfg: HHEnvConfig, hidden, params, info: dict) -> None:
    checkpoint.save(path, params, policy_config(cfg, hidden), POLICY_KIND, info)


def load_policy(path) -> Policy:
    """Load a policy file written by :func:`save_policy` (CheckpointError if unusable)."""
    config, _, _ = checkpoint.read_header(path, POLICY_KIND)
    try:
        cfg = HHEnvConfig(**config["env"])
        hidden = tuple(int(h) for h in config["hidden"])
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{os.fspath(path)}: bad HH policy config ({e})") from None
    net = make_network(hidden)
    template = net.init(jax.random.PRNGKey(0), jnp.zeros((1, cfg.obs_dim)))
    params, _, info = checkpoint.load(path, template, POLICY_KIND)
    return Policy(cfg, hidden, params, info)


def shipped_policy_path(n_jobs: int, n_machines: int) -> str:
    """Path of the shipped agent for a size (``jsched/assets/hh/hh_{J}x{M}.msgpack``)."""
    name = f"hh_{n_jobs}x{n_machines}.msgpack"
    return str(resources.files("jsched") / "assets" / "hh" / name)


def shipped_sizes() -> list[tuple[int, int]]:
    folder = resources.files("jsched") / "assets" / "hh"
    out = []
    for f in folder.iterdir() if folder.is_dir() else []:
        stem = f.name.removeprefix("hh_").removesuffix(".msgpack")
        if f.name.endswith(".msgpack") and "x" in stem:
            j, m = stem.split("x")
            out.append((int(j), int(m)))
    return sorted(out)
