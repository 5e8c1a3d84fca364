"""The HH agent: an actor-critic over the Petri-net observation with one logit per rule.

Inference follows the paper's two modes, greedy (argmax rule at each decision) and sampling
(rules drawn from the policy); jsched runs the greedy rollout plus any sampled ones in one
batch and keeps the best schedule. Agent files are ``jsched.checkpoint`` files of kind
``hh-model``; jsched ships one set per training protocol (:data:`PROTOCOLS`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from jsched.checkpoint import load_checkpoint, save_checkpoint
from jsched.errors import CheckpointError, JSchedError
from jsched.hh.env import N_RULES, RULES, HHEnvConfig, HHState, apply_rule, init_state, observe, rule_mask
from jsched.instances.arrays import jsp_params
from jsched.instances.model import JSPInstance
from jsched.kernels import petri
from jsched.kernels.jsp import JSPParams
from jsched.rl.ppo import ActorCritic, masked_logits

MODEL_KIND = "hh-model"
# How an agent was trained: on the benchmark instances of its size that it is evaluated on (the
# HH paper's practice), or on random instances of that size (never seeing the benchmark).
PROTOCOLS = ("generated", "instances")


def make_network(hidden: tuple[int, ...]) -> ActorCritic:
    return ActorCritic(out_dim=N_RULES, hidden=tuple(hidden))


@functools.partial(jax.jit, static_argnames=("cfg", "hidden"))
def rollout_policy(net_params, inst: JSPParams, key, cfg: HHEnvConfig, hidden: tuple[int, ...], greedy: bool = True):
    """One episode of the HH policy on ``inst``; returns the final :class:`HHState`.

    ``greedy`` may be traced (so greedy and sampled rollouts share one compile).
    """
    apply = make_network(hidden).apply
    s = init_state(cfg, inst, with_ref=False)

    def body(carry, _):
        s, key = carry
        key, k = jax.random.split(key)
        logits, _ = apply(net_params, observe(cfg, inst, s))
        logits = masked_logits(logits, rule_mask(inst, s.net))
        rule = jnp.where(greedy, jnp.argmax(logits), jax.random.categorical(k, logits))
        return (apply_rule(cfg, inst, s, rule), key), None

    return jax.lax.scan(body, (s, key), None, cfg.n_decisions)[0][0]


@functools.partial(jax.jit, static_argnames=("cfg", "hidden"))
def rollouts(net_params, insts: JSPParams, keys, cfg: HHEnvConfig, hidden: tuple[int, ...]):
    """B stacked instances x S rollouts each (``keys`` (S,); the first greedy, the rest sampled).

    Returns start times (B, S, J, O), makespans (B, S) and the rules chosen (B, S, decisions).
    """
    greedy = jnp.arange(keys.shape[0]) == 0
    one = lambda p, k, g: rollout_policy(net_params, p, k, cfg, hidden, g)  # noqa: E731
    final = jax.vmap(jax.vmap(one, (None, 0, 0)), (0, None, None))(insts, keys, greedy)
    return final.net.start, jax.vmap(jax.vmap(petri.makespan))(final.net), final.rules


def fixed_rule_rollout(inst: JSPParams, rule: int, cfg: HHEnvConfig) -> HHState:
    """The HH env driven by one fixed rule (the full-commitment policy)."""
    s = init_state(cfg, inst, with_ref=False)
    return jax.lax.scan(lambda s, _: (apply_rule(cfg, inst, s, jnp.int32(rule)), None), s, None, cfg.n_decisions)[0]


@dataclasses.dataclass
class Policy:
    """A trained HH agent: its env config, network shape, parameters and training record."""

    cfg: HHEnvConfig
    hidden: tuple[int, ...]
    params: dict
    info: dict

    @property
    def size(self) -> str:
        return f"{self.cfg.n_jobs}x{self.cfg.n_machines}"

    def fits(self, inst: JSPInstance) -> bool:
        """True if ``inst`` pads into this agent's shape (jobs, machines and ops per job)."""
        return _fits(inst, self.cfg.n_jobs, self.cfg.n_machines)

    def params_for(self, inst: JSPInstance) -> JSPParams:
        """``inst`` padded to the agent's shape (padded jobs hold no tokens, padded machines idle)."""
        if not self.fits(inst):
            raise JSchedError(f"{inst.name}: {inst.shape} does not fit the HH agent trained on {self.size}")
        return jsp_params(inst, self.cfg.n_jobs, self.cfg.n_machines, self.cfg.n_machines)

    def solve_many(self, insts: list[JSPInstance], samples: int = 0, key=None, commitment: int | None = None):
        """Best of the greedy rollout and ``samples`` sampled ones, for each instance (one batch;
        every instance uses the same ``key``, so a batch gives what one-by-one calls give).

        Returns per instance (start (J, O) numpy, makespan, rules used (rule names), mode).
        """
        ps = [self.params_for(i) for i in insts]
        stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *ps)
        cfg = self.cfg if commitment is None else dataclasses.replace(self.cfg, commitment=commitment)
        keys = jax.random.split(jax.random.key(0) if key is None else key, samples + 1)
        start, ms, rules = jax.device_get(rollouts(self.params, stacked, keys, cfg, self.hidden))
        out = []
        for k, inst in enumerate(insts):
            b = int(np.argmin(ms[k]))
            used = [RULES[int(r)] for r in rules[k, b] if r >= 0]
            out.append((start[k, b, : inst.n_jobs, : inst.n_ops_per_job], int(ms[k, b]), used,
                        "greedy" if b == 0 else f"sample {b}"))  # fmt: skip
        return out

    def solve(self, inst: JSPInstance, samples: int = 0, key=None, commitment: int | None = None):
        """:meth:`solve_many` of one instance: (start, makespan, rules, mode)."""
        return self.solve_many([inst], samples, key, commitment)[0]


def save_policy(path, cfg: HHEnvConfig, hidden, params, info: dict) -> None:
    """Write an agent file (kind ``hh-model``): the network parameters, env config and ``info``."""
    config = {"env": dataclasses.asdict(cfg), "hidden": list(hidden), "obs_dim": cfg.obs_dim}
    save_checkpoint(path, MODEL_KIND, params, config, info)


def load_policy(path) -> Policy:
    """Load an agent file written by :func:`save_policy` (CheckpointError if unusable)."""
    config = load_checkpoint(path, MODEL_KIND).config
    try:
        cfg = HHEnvConfig(**config["env"])
        hidden = tuple(int(h) for h in config["hidden"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{os.fspath(path)}: bad HH agent config ({e})") from None
    template = make_network(hidden).init(jax.random.PRNGKey(0), jnp.zeros((1, cfg.obs_dim)))
    cp = load_checkpoint(path, MODEL_KIND, template=template)
    return Policy(cfg, hidden, cp.tree, cp.meta)


def shipped_policy_path(n_jobs: int, n_machines: int, protocol: str = "generated") -> str:
    """Path of the shipped agent for a size (``jsched/assets/hh/{protocol}/hh_{J}x{M}.msgpack``)."""
    return str(_assets(protocol) / f"hh_{n_jobs}x{n_machines}.msgpack")


def shipped_sizes(protocol: str = "generated") -> list[tuple[int, int]]:
    """(jobs, machines) of every shipped agent of a protocol."""
    folder = _assets(protocol)
    out = []
    for f in folder.iterdir() if folder.is_dir() else []:
        stem = f.name.removeprefix("hh_").removesuffix(".msgpack")
        if f.name.endswith(".msgpack") and "x" in stem:
            j, m = stem.split("x")
            out.append((int(j), int(m)))
    return sorted(out)


@functools.lru_cache(maxsize=None)
def shipped_policy(n_jobs: int, n_machines: int, protocol: str = "generated") -> Policy:
    return load_policy(shipped_policy_path(n_jobs, n_machines, protocol))


def policy_for(inst: JSPInstance, protocol: str = "generated") -> Policy:
    """The shipped agent of a protocol of the smallest size ``inst`` fits into (JSchedError if none)."""
    fits = [(j * m, j, m) for j, m in shipped_sizes(protocol) if _fits(inst, j, m)]
    if not fits:
        sizes = ", ".join(f"{j}x{m}" for j, m in shipped_sizes(protocol)) or "none"
        raise JSchedError(
            f"{inst.name}: no shipped {protocol} HH agent fits {inst.shape} (shipped: {sizes}); "
            f"train one with `jsched train hh --size {inst.shape}` and pass its model as checkpoint"
        )
    _, j, m = min(fits)
    return shipped_policy(j, m, protocol)


def _assets(protocol: str):
    if protocol not in PROTOCOLS:
        raise JSchedError(f"HH protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    return resources.files("jsched") / "assets" / "hh" / protocol


def _fits(inst: JSPInstance, n_jobs: int, n_machines: int) -> bool:
    return inst.n_jobs <= n_jobs and inst.n_machines <= n_machines and inst.n_ops_per_job <= n_machines
