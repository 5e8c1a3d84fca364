"""One PPO for jsched: end-to-end jitted, masked discrete or continuous Gaussian actions.

Method: Proximal Policy Optimization (Schulman et al. 2017, arXiv:1707.06347) with generalised
advantage estimation (Schulman et al. 2016, arXiv:1506.02438), in the purejaxrl style (Lu et al.
2022): ``make_train(config, env, network, generator)`` returns ``train(key)``, a pure function
whose whole run (vmapped env rollouts in ``lax.scan``, GAE, minibatch epochs with optax) is one
``jax.jit``. The config is a frozen dataclass, the runner state a NamedTuple, GAE and the loss
module-level functions with their own tests.

The env is a ``jsched.kernels.env.Env`` (``reset(key, params)``, ``step(key, params, state,
action) -> (state, reward, done)``, ``observe(params, state)`` one array, ``action_mask(params,
state)`` or None) and ``generator(key) -> params`` draws each episode's instance
(``jsched.instances.generators``). ``done`` is a true termination (no bootstrap); PPO then draws
a new instance and resets that env (a ``jnp.where``, run only on steps where some env finished).
Time-limit truncation is not treated separately: jsched's envs have a fixed episode length.

Actions: ``discrete``: a categorical over ``network`` logits, invalid actions at ``-1e9`` in
the rollout and the loss (never sampled, no gradient). ``continuous``: a diagonal Gaussian with
mean from ``network`` and a learned state-independent log-std; the log-probability is that of
the raw sample ``u`` and the env gets ``clip(u, low, high)`` or ``low + (tanh(u) + 1) / 2 *
(high - low)``, a fixed function of ``u``, so the PPO ratio needs no Jacobian term.
``network.apply(params, obs) -> (out, value)``; :class:`ActorCritic` is a default MLP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.training.train_state import TrainState

from jsched.kernels.env import Env

NEG_INF = -1e9


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """PPO hyperparameters (defaults follow purejaxrl / CleanRL's PPO)."""

    action_type: str = "discrete"  # "discrete" or "continuous"
    num_envs: int = 16
    num_steps: int = 64  # env steps per env per update
    total_timesteps: int = 100_000
    update_epochs: int = 4
    num_minibatches: int = 4
    lr: float = 3e-4
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    clip_vloss: bool = True  # clip the value update to clip_eps too (CleanRL); SB3 does not
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantages: bool = True
    # Continuous actions only.
    action_dim: int = 1
    action_low: float = -1.0
    action_high: float = 1.0
    squash: str = "clip"  # "clip" or "tanh"
    log_std_init: float = 0.0

    def __post_init__(self):
        if self.action_type not in ("discrete", "continuous"):
            raise ValueError(f"action_type must be 'discrete' or 'continuous', got {self.action_type!r}")
        if self.squash not in ("clip", "tanh"):
            raise ValueError(f"squash must be 'clip' or 'tanh', got {self.squash!r}")
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ValueError("num_envs * num_steps must be divisible by num_minibatches")
        if self.num_updates < 1:
            raise ValueError("total_timesteps must be at least num_envs * num_steps")

    @property
    def num_updates(self) -> int:
        return self.total_timesteps // (self.num_envs * self.num_steps)

    @property
    def minibatch_size(self) -> int:
        return self.num_envs * self.num_steps // self.num_minibatches


class Transition(NamedTuple):
    """One rollout step of all envs; leading axes (T, N) once stacked by ``lax.scan``."""

    obs: jax.Array  # (N, *obs_shape)
    action: jax.Array  # (N,) int32 or (N, D) float32 (raw Gaussian sample)
    mask: jax.Array  # (N, A) bool (discrete) or (N, 1) True (continuous)
    log_prob: jax.Array  # (N,) float32
    value: jax.Array  # (N,) float32
    reward: jax.Array  # (N,) float32
    done: jax.Array  # (N,) bool


class EnvSlot(NamedTuple):
    """One env of the batch: its episode's instance and its state (leading axis N in the runner)."""

    params: Any
    state: Any


class RunnerState(NamedTuple):
    """Everything that carries from one PPO update to the next (checkpointable)."""

    train_state: TrainState
    env_state: EnvSlot
    obs: jax.Array  # (N, *obs_shape)
    ep_return: jax.Array  # (N,) float32, return of each env's running episode
    key: jax.Array
    update: jax.Array  # () int32, updates done


class ActorCritic(nn.Module):
    """Separate MLP actor and critic trunks (tanh, orthogonal init, as in purejaxrl)."""

    out_dim: int
    hidden: tuple[int, ...] = (64, 64)
    activation: Callable = nn.tanh

    @nn.compact
    def __call__(self, obs):
        x = obs.astype(jnp.float32)
        a = x
        for h in self.hidden:
            a = self.activation(nn.Dense(h, kernel_init=nn.initializers.orthogonal(np.sqrt(2)))(a))
        out = nn.Dense(self.out_dim, kernel_init=nn.initializers.orthogonal(0.01))(a)
        c = x
        for h in self.hidden:
            c = self.activation(nn.Dense(h, kernel_init=nn.initializers.orthogonal(np.sqrt(2)))(c))
        value = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0))(c)
        return out, value[..., 0]


# ----------------------------------------------------------------------------- pure pieces


def gae(rewards, values, dones, last_value, gamma: float, lam: float):
    """Generalised advantage estimation over a (T, ...) rollout, backwards with ``lax.scan``.

    ``dones[t]`` marks that the episode ended *at* step t (no bootstrap from ``values[t+1]``).

    Args:
        rewards, values, dones: (T, N) arrays; ``last_value``: (N,) value of the obs after T.
    Returns:
        (advantages, returns), both (T, N); returns = advantages + values.
    """

    def body(carry, xs):
        next_adv, next_value = carry
        r, v, d = xs
        nonterminal = 1.0 - d.astype(jnp.float32)
        delta = r + gamma * next_value * nonterminal - v
        adv = delta + gamma * lam * nonterminal * next_adv
        return (adv, v), adv

    _, adv = jax.lax.scan(body, (jnp.zeros_like(last_value), last_value), (rewards, values, dones), reverse=True)
    return adv, adv + values


def masked_logits(logits, mask):
    """Logits with invalid actions set to -1e9 (never sampled, no gradient through them)."""
    return jnp.where(mask, logits, NEG_INF)


def categorical_log_prob(logits, action):
    logp = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(logp, action[..., None].astype(jnp.int32), axis=-1)[..., 0]


def categorical_entropy(logits, mask):
    logp = jax.nn.log_softmax(logits)
    p = jnp.exp(logp)
    return -jnp.sum(jnp.where(mask, p * logp, 0.0), axis=-1)


def gaussian_log_prob(mean, log_std, x):
    z = (x - mean) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), axis=-1)


def gaussian_entropy(log_std, batch_shape):
    ent = jnp.sum(log_std + 0.5 * (1.0 + jnp.log(2 * jnp.pi)))
    return jnp.broadcast_to(ent, batch_shape)


def policy_stats(config: PPOConfig, apply_fn, params, obs, action, mask):
    """(log_prob, entropy, value) of ``action`` under the current policy, batched."""
    out, value = apply_fn(params["net"], obs)
    if config.action_type == "discrete":
        logits = masked_logits(out, mask)
        return categorical_log_prob(logits, action), categorical_entropy(logits, mask), value
    log_std = params["log_std"]
    return gaussian_log_prob(out, log_std, action), gaussian_entropy(log_std, value.shape), value


def ppo_loss(params, apply_fn, batch: Transition, advantages, targets, config: PPOConfig):
    """Clipped-surrogate PPO loss with a value loss (clipped when ``config.clip_vloss``) and an entropy bonus.

    Returns ``(total, aux)`` with aux = dict(value_loss, actor_loss, entropy, approx_kl,
    clip_frac). Advantages are normalised per minibatch when ``config.normalize_advantages``.
    """
    log_prob, entropy, value = policy_stats(config, apply_fn, params, batch.obs, batch.action, batch.mask)
    value_loss = (value - targets) ** 2
    if config.clip_vloss:
        v_clipped = batch.value + jnp.clip(value - batch.value, -config.clip_eps, config.clip_eps)
        value_loss = jnp.maximum(value_loss, (v_clipped - targets) ** 2)
    value_loss = 0.5 * value_loss.mean()
    if config.normalize_advantages:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_ratio = log_prob - batch.log_prob
    ratio = jnp.exp(log_ratio)
    surr = jnp.minimum(ratio * advantages, jnp.clip(ratio, 1 - config.clip_eps, 1 + config.clip_eps) * advantages)
    actor_loss = -surr.mean()
    ent = entropy.mean()
    total = actor_loss + config.vf_coef * value_loss - config.ent_coef * ent
    aux = {
        "value_loss": value_loss,
        "actor_loss": actor_loss,
        "entropy": ent,
        "approx_kl": ((ratio - 1) - log_ratio).mean(),
        "clip_frac": (jnp.abs(ratio - 1) > config.clip_eps).mean(),
    }
    return total, aux


def to_env_action(config: PPOConfig, action):
    """Map a sampled action to what the env receives (identity for discrete)."""
    if config.action_type == "discrete":
        return action
    lo, hi = config.action_low, config.action_high
    if config.squash == "tanh":
        return lo + (jnp.tanh(action) + 1.0) * 0.5 * (hi - lo)
    return jnp.clip(action, lo, hi)


def select_action(config: PPOConfig, apply_fn, params, obs, mask, key=None):
    """Greedy (``key=None``) or sampled env action for one batch of observations.

    Discrete: argmax / sample of the masked logits; continuous: the squashed mean / sample.
    """
    out, _ = apply_fn(params["net"], obs)
    if config.action_type == "discrete":
        logits = masked_logits(out, mask)
        a = jnp.argmax(logits, -1) if key is None else jax.random.categorical(key, logits)
        return a.astype(jnp.int32)
    u = out if key is None else out + jnp.exp(params["log_std"]) * jax.random.normal(key, out.shape)
    return to_env_action(config, u)


# ----------------------------------------------------------------------------- training


def make_train(config: PPOConfig, env: Env, network: nn.Module, generator: Callable, init_params=None):
    """Build the PPO run; returns ``train(key) -> (RunnerState, metrics)``.

    ``generator(key) -> params`` draws the instance of each episode (see
    ``jsched.instances.generators``). ``train`` is pure and jittable (and vmappable over keys
    for seeds). ``metrics`` holds one value per update (arrays of length
    ``config.num_updates``): ``episode_return`` (mean return of the episodes that ended during
    the update's rollout, NaN if none), ``episodes``, ``value_loss``, ``actor_loss``,
    ``entropy``, ``approx_kl``, ``clip_frac``.

    The returned function has attributes ``init(key) -> RunnerState`` and
    ``update(runner, n) -> (runner, metrics)`` (n updates, ``n`` static) for chunked training;
    ``train(key)`` is ``update(init(key), num_updates)``. ``init_params`` optionally starts
    from given network parameters.
    """
    discrete = config.action_type == "discrete"
    apply_fn = network.apply

    def lr_schedule(count):
        steps_per_update = config.num_minibatches * config.update_epochs
        frac = 1.0 - (count // steps_per_update) / config.num_updates
        return config.lr * jnp.maximum(frac, 0.0)

    tx = optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.adam(lr_schedule if config.anneal_lr else config.lr, eps=1e-5),
    )

    def get_mask(slot: EnvSlot, out):
        if discrete and env.action_mask is not None:
            return jax.vmap(env.action_mask)(slot.params, slot.state)
        return jnp.ones(out.shape if discrete else (out.shape[0], 1), bool)

    def new_episode(key):
        k_gen, k_reset = jax.random.split(key)
        params = generator(k_gen)
        state = env.reset(k_reset, params)
        return env.observe(params, state), EnvSlot(params, state)

    def new_episodes(key):
        return jax.vmap(new_episode)(jax.random.split(key, config.num_envs))

    def init(key) -> RunnerState:
        k_net, k_env, key = jax.random.split(key, 3)
        obs, slots = new_episodes(k_env)
        net_params = init_params if init_params is not None else network.init(k_net, obs[:1])
        params = {"net": net_params}
        if not discrete:
            params["log_std"] = jnp.full((config.action_dim,), config.log_std_init, jnp.float32)
        ts = TrainState.create(apply_fn=apply_fn, params=params, tx=tx)
        return RunnerState(ts, slots, obs, jnp.zeros((config.num_envs,), jnp.float32), key, jnp.zeros((), jnp.int32))

    def env_step(runner: RunnerState, _):
        ts = runner.train_state
        key, k_act, k_step, k_reset = jax.random.split(runner.key, 4)
        out, value = apply_fn(ts.params["net"], runner.obs)
        mask = get_mask(runner.env_state, out)
        if discrete:
            logits = masked_logits(out, mask)
            action = jax.random.categorical(k_act, logits).astype(jnp.int32)
            log_prob = categorical_log_prob(logits, action)
        else:
            log_std = ts.params["log_std"]
            action = out + jnp.exp(log_std) * jax.random.normal(k_act, out.shape)
            log_prob = gaussian_log_prob(out, log_std, action)
        env_action = to_env_action(config, action)
        keys = jax.random.split(k_step, config.num_envs)
        slots = runner.env_state
        st2, reward, done = jax.vmap(env.step)(keys, slots.params, slots.state, env_action)
        slots = EnvSlot(slots.params, st2)
        obs2 = jax.vmap(env.observe)(slots.params, st2)
        # Auto-reset finished envs with a new instance. The batch-level cond skips the (vmapped)
        # reset on steps where no env finished, so fixed-length envs pay for one reset per episode.
        sel = lambda a, b: jnp.where(done.reshape(done.shape + (1,) * (a.ndim - 1)), a, b)  # noqa: E731

        def do_reset(args):
            o, sl = args
            r_obs, r_slots = new_episodes(k_reset)
            return sel(r_obs, o), jax.tree.map(sel, r_slots, sl)

        obs2, slots = jax.lax.cond(done.any(), do_reset, lambda args: args, (obs2, slots))
        reward = reward.astype(jnp.float32)
        ep_ret = runner.ep_return + reward
        tr = Transition(runner.obs, action, mask, log_prob, value, reward, done)
        new = runner._replace(env_state=slots, obs=obs2, ep_return=jnp.where(done, 0.0, ep_ret), key=key)
        return new, (tr, ep_ret)

    def update_step(runner: RunnerState, _):
        runner, (traj, ep_ret) = jax.lax.scan(env_step, runner, None, config.num_steps)
        _, last_value = apply_fn(runner.train_state.params["net"], runner.obs)
        adv, targets = gae(traj.reward, traj.value, traj.done, last_value, config.gamma, config.gae_lambda)

        def epoch(carry, _):
            ts, key = carry
            key, k_perm = jax.random.split(key)
            n = config.num_envs * config.num_steps
            flat = jax.tree.map(lambda x: x.reshape((n,) + x.shape[2:]), (traj, adv, targets))
            perm = jax.random.permutation(k_perm, n)
            mbs = jax.tree.map(
                lambda x: x[perm].reshape((config.num_minibatches, config.minibatch_size) + x.shape[1:]), flat
            )

            def minibatch(ts, mb):
                b, a, t = mb
                grad_fn = jax.value_and_grad(ppo_loss, has_aux=True)
                (loss, aux), grads = grad_fn(ts.params, apply_fn, b, a, t, config)
                return ts.apply_gradients(grads=grads), aux

            ts, aux = jax.lax.scan(minibatch, ts, mbs)
            return (ts, key), aux

        (ts, key), aux = jax.lax.scan(epoch, (runner.train_state, runner.key), None, config.update_epochs)
        n_done = traj.done.sum()
        metrics = {k: v.mean() for k, v in aux.items()}
        metrics["episodes"] = n_done
        metrics["episode_return"] = jnp.where(n_done > 0, (ep_ret * traj.done).sum() / jnp.maximum(n_done, 1), jnp.nan)
        runner = runner._replace(train_state=ts, key=key, update=runner.update + 1)
        return runner, metrics

    def update(runner: RunnerState, n: int):
        return jax.lax.scan(update_step, runner, None, n)

    def train(key):
        return update(init(key), config.num_updates)

    train.init = init
    train.update = update
    train.apply_fn = apply_fn
    return train
