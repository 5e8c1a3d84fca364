"""The hyper-heuristic MDP over the Petri net: pick one of 7 rules, apply it for x allocations.

One agent step (the HH paper's "commitment"): the policy picks a rule k, then rule k chooses
the allocate transition at each of the next x decision points of the CTPN (fewer if the episode
ends first); ``commitment >= N`` is the single-rule policy. The reward is terminal only,
``-makespan / C_ref`` for a per-instance constant fixed at reset: the makespan lower bound
(``reference="lb"``, :func:`jsched.kernels.petri.time_scale`), one rule's makespan (e.g.
``"LTWR"``) or the best of the 7 (``"best"``); a rule reference removes most of the
instance-to-instance spread of the return, which the critic cannot see.

Observation: the CTPN marking and temporal features (:func:`jsched.kernels.petri.observation`)
and, unless ``rule_features=False``, what each rule would allocate now (:func:`rule_proposals`,
jsched's addition: choosing between rules is easier when the agent sees where they disagree).
The env follows ``jsched.kernels.env.Env``; :func:`generator` draws its instances.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.instances.generators import Generator, pool_generator, taillard_generator
from jsched.kernels import jsp, petri, rules
from jsched.kernels.env import Env
from jsched.kernels.jsp import JSPParams, JSPState

# The agents' actions by the paper's names, in its order; each is the rule table entry of the
# same position in ``rules.HH_RULES`` (SPS is the variant with FIFO ties, ``sps_fifo``).
RULES = ("FIFO", "SPT", "SPS", "LTWR", "SPSR", "LPTN", "LWT")
N_RULES = len(RULES)
assert N_RULES == len(rules.HH_RULES)


@dataclasses.dataclass(frozen=True)
class HHEnvConfig:
    """Static shape and behaviour of the HH env."""

    n_jobs: int = 15
    n_machines: int = 15
    commitment: int = 5  # allocations per agent decision; >= n_jobs * n_machines = one rule per episode
    pmin: int = 1  # durations of the random training instances
    pmax: int = 99
    reference: str = "LTWR"  # reward normaliser: "lb", "best" or a rule of RULES
    rule_features: bool = True  # append each rule's proposal (rule_proposals)

    def __post_init__(self):
        if self.reference not in ("lb", "best", *RULES):
            raise ValueError(f"reference must be 'lb', 'best' or one of {RULES}, got {self.reference!r}")

    @property
    def n_ops(self) -> int:
        return self.n_jobs * self.n_machines

    @property
    def n_decisions(self) -> int:
        """Agent decisions per episode."""
        x = min(self.commitment, self.n_ops)
        return -(-self.n_ops // x)

    @property
    def obs_dim(self) -> int:
        return 4 * self.n_jobs + 4 * self.n_machines + 2 + (6 * N_RULES if self.rule_features else 0)


class HHState(NamedTuple):
    net: JSPState  # the Petri net's state (kernels.petri views the JSP dispatch state)
    rules: jax.Array  # (n_decisions,) int32, the rules chosen so far (-1 = not yet)
    decision: jax.Array  # () int32, decisions taken
    ref: jax.Array  # () float32, the reward normaliser C_ref of this instance


def choose(rule: jax.Array, params: JSPParams, net: JSPState) -> jax.Array:
    """The job the rule with (traced) index ``rule`` into :data:`RULES` allocates."""
    return rules.jsp_rule_actions(rules.HH_RULES, params, net)[rule]


def rule_mask(params: JSPParams, net: JSPState) -> jax.Array:
    """(7,) bool: rules that have an enabled transition to pick (all, unless none is enabled)."""
    return jnp.broadcast_to(petri.action_mask(params, net).any(), (N_RULES,))


def rollout_rule(params: JSPParams, rule: int | str) -> JSPState:
    """A full Petri-net episode under one rule (a name of :data:`RULES` or its index)."""
    k = RULES.index(rule) if isinstance(rule, str) else rule
    return petri.rollout(params, lambda p, s: choose(k, p, s))


def rule_proposals(params: JSPParams, net: JSPState) -> jax.Array:
    """(7, 6) float32: what each rule would allocate now, described by its job.

    Per rule: [p of the candidate / max p, p of the op after it / max p, work left / LB,
    operations left / O, total wait / LB, 1 if no earlier rule picks the same job], with
    LB = :func:`jsched.kernels.petri.time_scale`; zero once the net is empty.
    """
    f = jsp.job_features(params, net)
    jobs = rules.jsp_rule_actions(rules.HH_RULES, params, net)
    lb = petri.time_scale(params)
    dmax = jnp.maximum(params.durations.max(), 1).astype(jnp.float32)
    o = params.machines.shape[1]
    wait = petri.total_wait(params, net)
    first = jnp.argmax(jobs[:, None] == jobs[None, :], axis=1) == jnp.arange(N_RULES)
    feats = jnp.stack(
        [f.duration[jobs] / dmax, f.next_duration[jobs] / dmax, f.work_left[jobs] / lb, f.ops_left[jobs] / o,
         wait[jobs] / lb, first.astype(jnp.float32)],
        axis=1,
    )
    return jnp.where(petri.action_mask(params, net).any(), feats, 0.0).astype(jnp.float32)


def observe(cfg: HHEnvConfig, inst: JSPParams, state: HHState) -> jax.Array:
    """The CTPN observation (marking + temporal features), plus the rules' proposals if enabled."""
    obs = petri.observation(inst, state.net)
    if cfg.rule_features:
        obs = jnp.concatenate([obs, rule_proposals(inst, state.net).ravel()])
    return obs


def reference_makespan(cfg: HHEnvConfig, inst: JSPParams) -> jax.Array:
    """C_ref of ``inst`` (see the module docstring), float32."""
    if cfg.reference == "lb":
        return petri.time_scale(inst)
    if cfg.reference == "best":
        run = lambda r: petri.makespan(rollout_rule(inst, r))  # noqa: E731
        return jax.vmap(run)(jnp.arange(N_RULES)).min().astype(jnp.float32)
    return petri.makespan(rollout_rule(inst, cfg.reference)).astype(jnp.float32)


def init_state(cfg: HHEnvConfig, inst: JSPParams, with_ref: bool = True) -> HHState:
    """First state; ``with_ref=False`` skips C_ref (inference needs no reward)."""
    ref = reference_makespan(cfg, inst) if with_ref else jnp.float32(1.0)
    return HHState(petri.reset(inst), jnp.full((cfg.n_decisions,), -1, jnp.int32), jnp.zeros((), jnp.int32),
                   jnp.maximum(ref, 1.0))


def apply_rule(cfg: HHEnvConfig, inst: JSPParams, state: HHState, rule: jax.Array) -> HHState:
    """Let ``rule`` allocate at the next ``commitment`` decision points (no-ops once done)."""
    x = min(cfg.commitment, cfg.n_ops)

    def body(net, _):
        return petri.step(inst, net, choose(rule, inst, net))[0], None

    net = jax.lax.scan(body, state.net, None, x)[0]
    rules_ = state.rules.at[jnp.minimum(state.decision, cfg.n_decisions - 1)].set(jnp.asarray(rule, jnp.int32))
    return HHState(net, rules_, state.decision + 1, state.ref)


def make_env(cfg: HHEnvConfig) -> Env:
    """The HH env (``jsched.kernels.env.Env``; params: one ``JSPParams`` of the config's shape)."""

    def reset(key, inst):
        return init_state(cfg, inst)

    def step(key, inst, state, action):
        s = apply_rule(cfg, inst, state, action)
        d = petri.done(inst, s.net)
        reward = jnp.where(d, -petri.makespan(s.net) / s.ref, 0.0).astype(jnp.float32)
        return s, reward, d

    def observe_(inst, state):
        return observe(cfg, inst, state)

    def action_mask(inst, state):
        return rule_mask(inst, state.net)

    return Env("hh", reset, step, observe_, action_mask, lambda s: petri.makespan(s.net))


def generator(cfg: HHEnvConfig, pool: JSPParams | None = None) -> Generator:
    """Training instances: one of ``pool`` (stacked ``JSPParams`` of the config's shape)
    uniformly, or with no pool a fresh Taillard-style instance (Taillard 1993)."""
    if pool is not None:
        return pool_generator(pool)
    return taillard_generator(cfg.n_jobs, cfg.n_machines, cfg.pmin, cfg.pmax)
