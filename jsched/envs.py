"""The dispatch kernels (JSP, FJSP, JSP as a Petri net) as gymnax- and Jumanji-style environments.

jsched's one env convention is ``jsched.kernels.env.Env``: pure functions in (key, params,
state) order with the instance as ``params``, run in fixed-length scans (every episode lasts
its operation count, so no auto-reset). Its methods (rollouts, PPO, HH, DAC) rely on that
order, so the two conventions of the JAX RL ecosystem are thin layers over it here:

* :class:`GymnaxEnv` (gymnax / purejaxrl): ``obs, state = env.reset(key, params)`` and
  ``obs, state, reward, done, info = env.step(key, state, action, params)``, with
  ``default_params``, ``action_space(params)``, ``observation_space(params)`` and gymnax's
  auto-reset (a finished episode continues from a freshly drawn instance; both branches are
  computed and one is selected, as gymnax does, so under ``vmap`` each step pays for a reset).
  ``step_env``/``reset_env`` are the same without auto-reset. ``done`` is gymnax 1.0's
  ``terminated or truncated``; ``info["truncated"]`` tells them apart (only a policy that ignores
  the action mask can hit the time limit).
* :class:`JumanjiEnv` (Jumanji): ``state, timestep = env.reset(key)``, ``state, timestep =
  env.step(state, action)``, the key in the state, ``observation_spec``/``action_spec``.
  ``TimeStep`` and the specs are Jumanji's own when ``jumanji`` is importable, else the
  compatible minimal :class:`TimeStep`, :class:`BoundedArray` and :class:`DiscreteArray` here.

Instances come from a ``jsched.instances.generators.Generator`` (``key -> params``) held by the
env, as in Jumanji; each reset draws one and keeps it in the state. The observation is
:class:`Observation`: a flat float32 feature vector (features scaled by a makespan lower bound,
zero on finished jobs) and the action mask. The reward is minus the makespan increase, so an
episode's return is minus its makespan (instances without release times). An invalid action
is a no-op: reward 0, state unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jsched.errors import JSchedError
from jsched.instances.generators import Generator
from jsched.kernels import fjsp, jsp, petri
from jsched.kernels.env import FJSP_ENV, JSP_ENV, PETRI_ENV, Env

__all__ = ["BoundedArray", "Box", "Discrete", "DiscreteArray", "EnvParams", "EnvState", "GymnaxEnv", "JumanjiEnv",
           "JumanjiState", "Observation", "StepType", "TimeStep", "fjsp_features", "jsp_features", "make"]  # fmt: skip


class Observation(NamedTuple):
    """What the agent sees (as Jumanji's observations, the mask travels with it)."""

    features: jax.Array  # (F,) float32, see the ``*_features`` functions
    action_mask: jax.Array  # (A,) bool, the valid actions


class EnvState(NamedTuple):
    """Episode state: the drawn instance, the kernel's dispatch state and the step count."""

    instance: Any  # JSPParams | FJSPParams, drawn by the generator at reset
    dispatch: Any  # JSPState | FJSPState
    time: jax.Array  # () int32, steps taken, invalid ones included


class EnvParams(NamedTuple):
    """gymnax's per-batch env parameters (the instance comes from the generator).

    ``max_steps_in_episode`` truncates the episodes of policies that ignore the action mask
    (their invalid actions are no-ops); a masked episode ends after its operation count, which
    the default (twice the padded operation count, set by :func:`make`) never cuts.
    """

    max_steps_in_episode: int


class Discrete(NamedTuple):
    """gymnax-style discrete space ``{0, ..., n-1}``."""

    n: int
    shape: tuple = ()
    dtype: Any = jnp.int32

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.randint(key, self.shape, 0, self.n, self.dtype)

    def contains(self, x: jax.Array) -> jax.Array:
        return jnp.logical_and(x >= 0, x < self.n)


class Box(NamedTuple):
    """gymnax-style box space (inclusive bounds)."""

    low: float
    high: float
    shape: tuple
    dtype: Any = jnp.float32

    def sample(self, key: jax.Array) -> jax.Array:
        if self.dtype == jnp.bool_:
            return jax.random.bernoulli(key, 0.5, self.shape)
        return jax.random.uniform(key, self.shape, self.dtype, self.low, self.high)

    def contains(self, x: jax.Array) -> jax.Array:
        return jnp.logical_and(jnp.all(x >= self.low), jnp.all(x <= self.high))


# ---------------------------------------------------------------------------------------------
# Features


def jsp_features(params: jsp.JSPParams, state: jsp.JSPState) -> jax.Array:
    """(5J + M,) float32: per job [duration, earliest start, earliest completion, work left]
    of its next operation over the lower bound LB, operations left over O; then machine
    ready times over LB (LB = ``petri.time_scale``)."""
    f = jsp.job_features(params, state)
    live = jsp.action_mask(params, state)
    lb = petri.time_scale(params)
    ops_left = f.ops_left / params.machines.shape[1]
    per_job = jnp.stack([f.duration / lb, f.est / lb, f.ect / lb, f.work_left / lb, ops_left], 1)
    per_job = jnp.where(live[:, None], per_job, 0.0)
    return jnp.concatenate([per_job.ravel(), state.machine_ready / lb]).astype(jnp.float32)


def fjsp_features(params: fjsp.FJSPParams, state: fjsp.FJSPState) -> jax.Array:
    """(3JM + 2J + M,) float32: per (job, machine) pair [duration, earliest start, earliest
    completion] of the job's next operation over a lower bound LB (0 where ineligible); per
    job operations left over O and remaining minimum work over LB; machine ready times over LB.

    LB = max(longest job, total work / machines), with each operation's minimum duration."""
    pf = fjsp.pair_features(params, state)
    st = fjsp.op_stats(params)
    n_machines = jnp.maximum(params.machine_mask.sum(), 1)
    lb = jnp.maximum(jnp.maximum(st.min_pt.sum(1).max(), st.min_pt.sum() / n_machines), 1.0)
    pairs = jnp.where(pf.eligible[..., None], jnp.stack([pf.duration, pf.est, pf.ect], -1) / lb, 0.0)
    o = params.eligible.shape[1]
    left = jnp.arange(o)[None, :] >= state.next_op[:, None]
    work_left = jnp.where(left & st.op_mask, st.min_pt, 0.0).sum(1) / lb
    ops_left = (params.job_len - state.next_op) / o
    return jnp.concatenate([pairs.ravel(), ops_left, work_left, state.machine_ready / lb]).astype(jnp.float32)


KINDS: dict[str, tuple[Env, Callable]] = {
    "jsp": (JSP_ENV, jsp_features),
    "fjsp": (FJSP_ENV, fjsp_features),
    "petri": (PETRI_ENV, petri.observation),
}


# ---------------------------------------------------------------------------------------------
# gymnax


class GymnaxEnv:
    """A dispatch kernel in gymnax's convention; build it with :func:`make`.

    Shapes (actions, features) are fixed by the generator's instance shape, as gymnax keeps
    shape-setting sizes on the object. The methods are pure: ``jax.jit(env.step)`` and
    ``jax.vmap(env.step, in_axes=(0, 0, 0, None))`` work as on any gymnax env.
    """

    def __init__(self, kind: str, generator: Generator):
        if kind not in KINDS:
            raise JSchedError(f"env kind must be one of {sorted(KINDS)}, got {kind!r}")
        self.kind = kind
        self.kernel, self._features = KINDS[kind]
        self.generator = generator
        instance = jax.eval_shape(generator, jax.random.key(0))
        want = fjsp.FJSPParams if kind == "fjsp" else jsp.JSPParams
        if not isinstance(instance, want):
            raise JSchedError(f"the {kind} env needs a generator of {want.__name__}, got {type(instance).__name__}")
        obs = jax.eval_shape(lambda p: self._observe(p, self.kernel.reset(None, p)), instance)
        self._n_actions = obs.action_mask.shape[0]
        self._n_features = obs.features.shape[0]
        self._n_ops = jax.eval_shape(self.kernel.reset, None, instance).start.size  # J * O, padded

    @property
    def name(self) -> str:
        return f"jsched-{self.kind}"

    @property
    def default_params(self) -> EnvParams:
        return EnvParams(max_steps_in_episode=2 * self._n_ops)

    @property
    def num_actions(self) -> int:
        return self._n_actions

    def action_space(self, params: EnvParams | None = None) -> Discrete:
        return Discrete(self._n_actions)

    def observation_space(self, params: EnvParams | None = None) -> Observation:
        """A space per observation field: features in [0, inf), the mask boolean."""
        return Observation(Box(0.0, float("inf"), (self._n_features,)), Box(0, 1, (self._n_actions,), jnp.bool_))

    def reset_env(self, key: jax.Array, params: EnvParams | None = None) -> tuple[Observation, EnvState]:
        """Draw an instance and start an empty schedule on it."""
        instance = self.generator(key)
        state = EnvState(instance, self.kernel.reset(key, instance), jnp.zeros((), jnp.int32))
        return self.observe(state), state

    def step_env(self, key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams | None = None):
        """One dispatch, no auto-reset: ``(obs, state, reward, done, info)``; info has the
        partial ``makespan`` (the schedule's makespan when done) and ``truncated`` (the episode
        hit ``max_steps_in_episode`` before its schedule was complete)."""
        params = self.default_params if params is None else params
        dispatch, reward, terminated = self.kernel.step(key, state.instance, state.dispatch, action)
        state = EnvState(state.instance, dispatch, state.time + 1)
        truncated = ~terminated & (state.time >= params.max_steps_in_episode)
        info = {"makespan": self.kernel.makespan(dispatch), "truncated": truncated}
        return self.observe(state), state, reward, terminated | truncated, info

    def reset(self, key: jax.Array, params: EnvParams | None = None) -> tuple[Observation, EnvState]:
        return self.reset_env(key, params)

    def step(self, key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams | None = None):
        """:meth:`step_env`, then a finished episode is replaced by a fresh one (gymnax's auto-reset)."""
        key_step, key_reset = jax.random.split(key)
        obs_st, state_st, reward, done, info = self.step_env(key_step, state, action, params)
        obs_re, state_re = self.reset_env(key_reset, params)
        state = jax.tree.map(lambda r, s: jax.lax.select(done, r, s), state_re, state_st)
        obs = jax.tree.map(lambda r, s: jax.lax.select(done, r, s), obs_re, obs_st)
        return obs, state, reward, done, info

    def observe(self, state: EnvState) -> Observation:
        return self._observe(state.instance, state.dispatch)

    def _observe(self, instance, dispatch) -> Observation:
        return Observation(self._features(instance, dispatch), self.kernel.action_mask(instance, dispatch))


def make(kind: str, generator: Generator) -> tuple[GymnaxEnv, EnvParams]:
    """``gymnax.make``'s shape: the env of ``kind`` ("jsp", "fjsp" or "petri") and its params.

    The JSP and Petri envs take ``JSPParams`` generators, the FJSP env ``FJSPParams`` ones
    (e.g. ``pool_generator(stack_fjsp_params(instances))``).
    """
    env = GymnaxEnv(kind, generator)
    return env, env.default_params


# ---------------------------------------------------------------------------------------------
# Jumanji


class JumanjiState(NamedTuple):
    """Jumanji keeps the key in the state."""

    env: EnvState
    key: jax.Array


class StepType:
    """Jumanji's step types (int8)."""

    FIRST, MID, LAST = 0, 1, 2


class TimeStep(NamedTuple):
    """Jumanji's ``TimeStep`` fields, used when jumanji is not installed."""

    step_type: jax.Array  # () int8
    reward: jax.Array  # () float32
    discount: jax.Array  # () float32
    observation: Observation
    extras: dict

    def first(self) -> jax.Array:
        return self.step_type == StepType.FIRST

    def mid(self) -> jax.Array:
        return self.step_type == StepType.MID

    def last(self) -> jax.Array:
        return self.step_type == StepType.LAST


class BoundedArray(NamedTuple):
    """Jumanji's ``specs.BoundedArray`` fields, used when jumanji is not installed."""

    shape: tuple
    dtype: Any
    minimum: Any
    maximum: Any
    name: str = ""

    def generate_value(self) -> jax.Array:
        return jnp.broadcast_to(jnp.asarray(self.minimum, self.dtype), self.shape)

    def validate(self, value: Any) -> Any:
        v = np.asarray(value)
        if v.shape != tuple(self.shape) or v.dtype != np.dtype(self.dtype):
            raise ValueError(f"{self.name}: expected {self.shape} {np.dtype(self.dtype)}, got {v.shape} {v.dtype}")
        if (v < self.minimum).any() or (v > self.maximum).any():
            raise ValueError(f"{self.name}: values outside [{self.minimum}, {self.maximum}]")
        return value


class DiscreteArray(BoundedArray):
    """Jumanji's ``specs.DiscreteArray``: a scalar in ``0..num_values-1``."""

    @property
    def num_values(self) -> int:
        return int(self.maximum) + 1


@functools.cache
def _jumanji():
    """jumanji's ``types`` and ``specs`` modules, or None when it is not installed."""
    try:
        from jumanji import specs, types
    except ImportError:
        return None
    return types, specs


class JumanjiEnv:
    """A :class:`GymnaxEnv` in Jumanji's convention (``reset(key)``, ``step(state, action)``)."""

    def __init__(self, env: GymnaxEnv):
        self.env = env

    @property
    def observation_spec(self):
        a, f = self.env.num_actions, self.env.observation_space().features.shape
        features = _bounded(f, jnp.float32, 0.0, np.inf, "features")
        mask = _bounded((a,), jnp.bool_, False, True, "action_mask")
        lib = _jumanji()
        if lib is None:
            return Observation(features, mask)
        return lib[1].Spec(Observation, "ObservationSpec", features=features, action_mask=mask)

    @property
    def action_spec(self):
        lib = _jumanji()
        if lib is None:
            return DiscreteArray((), jnp.int32, 0, self.env.num_actions - 1, "action")
        return lib[1].DiscreteArray(self.env.num_actions, jnp.int32, "action")

    @property
    def reward_spec(self):
        return _bounded((), jnp.float32, -np.inf, 0.0, "reward")

    @property
    def discount_spec(self):
        return _bounded((), jnp.float32, 0.0, 1.0, "discount")

    def reset(self, key: jax.Array):
        key, k = jax.random.split(key)
        obs, state = self.env.reset_env(k)
        return JumanjiState(state, key), _timestep(StepType.FIRST, jnp.float32(0), jnp.float32(1), obs, {})

    def step(self, state: JumanjiState, action: jax.Array):
        """One dispatch; the episode ends (``LAST``) when the schedule is complete (discount 0) or
        at the time limit (discount 1, Jumanji's truncation). ``extras``: the step's info."""
        key, k = jax.random.split(state.key)
        obs, env_state, reward, done, info = self.env.step_env(k, state.env, action)
        step_type = jnp.where(done, StepType.LAST, StepType.MID).astype(jnp.int8)
        discount = 1.0 - (done & ~info["truncated"]).astype(jnp.float32)
        return JumanjiState(env_state, key), _timestep(step_type, reward, discount, obs, info)


def _bounded(shape, dtype, minimum, maximum, name):
    lib = _jumanji()
    return (BoundedArray if lib is None else lib[1].BoundedArray)(shape, dtype, minimum, maximum, name)


def _timestep(step_type, reward, discount, obs, extras):
    lib = _jumanji()
    cls = TimeStep if lib is None else lib[0].TimeStep
    step_type = jnp.asarray(step_type, jnp.int8)
    return cls(step_type=step_type, reward=reward, discount=discount, observation=obs, extras=extras)
