"""The hyper-heuristic MDP over the Petri net: pick one of 7 rules, apply it for x allocations.

One agent step (paper Sec. 4.2, "commitment"): the policy picks a rule k, then rule k chooses
the allocate transition at each of the next x decision points of the CTPN (fewer if the episode
ends first). The reward is terminal only, ``-makespan / C_ref`` for a per-instance constant
C_ref fixed at reset (the paper's "normalised" is not specified further): ``reference="lb"``
divides by the simple makespan lower bound (:func:`jsched.kernels.petri.time_scale`);
``reference="LTWR"`` (or another rule name) by that rule's makespan on the same instance, and
``"best"`` by the best of the 7 rules. A rule reference removes most of the instance-to-instance
spread of the return (which the critic cannot see from the first observation), so the policy
gradient sees the effect of the rule choices; a return above -1 beats the reference.
Summing the rewards of the x low-level steps into the one macro step is exactly the paper's
aggregation of the x steps' advantages into one decision, with the decision horizon shortened
from N to ceil(N / x). ``commitment >= N`` is the single-rule (full-episode) policy.

Observation: the CTPN marking and temporal features (:func:`jsched.kernels.petri.observation`) and,
by default, what each of the 7 rules would allocate now (6 numbers per rule, see
:func:`jsched.kernels.petri_rules.proposal_features`): the paper's observation is the marking plus
temporal features; the proposals are jsched's addition (``rule_features=False`` turns them
off), since choosing between rules is easier when the agent sees where they disagree.

Episodes draw an instance at reset: from a fixed pool (e.g. the Taillard instances of one size)
or, with no pool, a fresh Taillard-style random instance (durations U{1..99}, each job a random
permutation of the machines; Taillard 1993).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jsched.rl.ppo import Env
from jsched.kernels import petri
from jsched.kernels import petri_rules as R
from jsched.kernels.jsp import JSPParams

N_RULES = len(R.RULES)


@dataclasses.dataclass(frozen=True)
class HHEnvConfig:
    """Static shape and behaviour of the HH env."""

    n_jobs: int = 15
    n_machines: int = 15
    commitment: int = 5  # allocations per agent decision; >= n_jobs * n_machines = one rule per episode
    pmin: int = 1
    pmax: int = 99
    reference: str = "LTWR"  # reward normaliser: "lb", "best" or a rule name
    rule_features: bool = True  # append each rule's proposal (kernels.petri_rules.proposal_features)

    def __post_init__(self):
        if self.reference not in ("lb", "best", *R.RULES):
            raise ValueError(f"reference must be 'lb', 'best' or one of {R.RULES}, got {self.reference!r}")

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
    inst: JSPParams  # the episode's instance
    net: petri.PetriState
    rules: jax.Array  # (n_decisions,) int32, the rules chosen so far (-1 = not yet)
    decision: jax.Array  # () int32, decisions taken
    ref: jax.Array  # () float32, the reward normaliser C_ref of this instance


def random_instance(key, cfg: HHEnvConfig) -> JSPParams:
    """A Taillard-style random JSP instance as device arrays."""
    k_perm, k_dur = jax.random.split(key)
    keys = jax.random.split(k_perm, cfg.n_jobs)
    machines = jax.vmap(lambda k: jax.random.permutation(k, cfg.n_machines))(keys).astype(jnp.int32)
    durations = jax.random.randint(k_dur, (cfg.n_jobs, cfg.n_machines), cfg.pmin, cfg.pmax + 1, jnp.int32)
    return JSPParams(
        machines=machines,
        durations=durations,
        job_len=jnp.full((cfg.n_jobs,), cfg.n_machines, jnp.int32),
        release=jnp.zeros((cfg.n_jobs,), jnp.int32),
        machine_mask=jnp.ones((cfg.n_machines,), bool),
    )


def observe(cfg: HHEnvConfig, state: HHState) -> jax.Array:
    """The CTPN observation (marking + temporal features), plus the rules' proposals if enabled."""
    obs = petri.observation(state.inst, state.net)
    if cfg.rule_features:
        obs = jnp.concatenate([obs, R.proposal_features(state.inst, state.net).ravel()])
    return obs


def reference_makespan(cfg: HHEnvConfig, inst: JSPParams) -> jax.Array:
    """C_ref of ``inst`` (see the module docstring), float32."""
    if cfg.reference == "lb":
        return petri.time_scale(inst)
    if cfg.reference == "best":
        run = lambda r: petri.makespan(petri.rollout(inst, lambda p, s: R.choose(r, p, s)))  # noqa: E731
        return jax.vmap(run)(jnp.arange(N_RULES)).min().astype(jnp.float32)
    return petri.makespan(R.rollout_rule(inst, cfg.reference)).astype(jnp.float32)


def init_state(cfg: HHEnvConfig, inst: JSPParams, with_ref: bool = True) -> tuple[jax.Array, HHState]:
    """First observation and state; ``with_ref=False`` skips C_ref (inference needs no reward)."""
    ref = reference_makespan(cfg, inst) if with_ref else jnp.float32(1.0)
    s = HHState(inst, petri.reset(inst), jnp.full((cfg.n_decisions,), -1, jnp.int32), jnp.zeros((), jnp.int32),
                jnp.maximum(ref, 1.0))
    return observe(cfg, s), s


def apply_rule(cfg: HHEnvConfig, state: HHState, rule: jax.Array) -> HHState:
    """Let ``rule`` allocate at the next ``commitment`` decision points (no-ops once done)."""
    x = min(cfg.commitment, cfg.n_ops)

    def body(net, _):
        return petri.step(state.inst, net, R.choose(rule, state.inst, net))[0], None

    net = jax.lax.scan(body, state.net, None, x)[0]
    rules = state.rules.at[jnp.minimum(state.decision, cfg.n_decisions - 1)].set(rule.astype(jnp.int32))
    return HHState(state.inst, net, rules, state.decision + 1, state.ref)


def make_env(cfg: HHEnvConfig) -> Env:
    """The HH env in :mod:`jsched.rl.ppo`'s interface; ``env_params`` is a stacked pool or None."""

    def reset(key, pool):
        if pool is None:
            inst = random_instance(key, cfg)
        else:
            k = jax.random.randint(key, (), 0, pool.machines.shape[0])
            inst = jax.tree.map(lambda a: a[k], pool)
        return init_state(cfg, inst)

    def step(key, state, action, pool):
        s = apply_rule(cfg, state, action)
        d = petri.done(s.inst, s.net)
        reward = jnp.where(d, -petri.makespan(s.net) / s.ref, 0.0).astype(jnp.float32)
        return observe(cfg, s), s, reward, d, {"makespan": petri.makespan(s.net)}

    def action_mask(state, pool):
        return R.rule_mask(state.inst, state.net)

    return Env(reset, step, action_mask)
