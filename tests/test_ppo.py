"""Tests of jsched.rl.ppo: GAE vs a slow reference, loss pieces, and learning two toy tasks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.kernels.env import Env
from jsched.rl import ppo

ARM_VALUES = jnp.array([0.1, 0.9, 0.3, 1.0, 0.5, 0.2])


# A masked contextual bandit: each episode (one step) a random subset of arms is valid and the
# obs is that mask; the reward is the arm's value. Invalid arms would pay 2.0, so a policy that
# ignores the mask would learn to pick them: learning the valid best arm proves masking works.
# The generator draws the mask (the episode's "instance"); the state is the mask too.
def _draw_mask(key):
    mask = jax.random.bernoulli(key, 0.5, ARM_VALUES.shape)
    return mask.at[jax.random.randint(key, (), 0, 6)].set(True)


def _bandit_step(key, params, state, action):
    return state, jnp.where(state[action], ARM_VALUES[action], 2.0), jnp.bool_(True)


BANDIT = Env(
    "bandit",
    reset=lambda key, params: params,
    step=_bandit_step,
    observe=lambda params, state: state.astype(jnp.float32),
    action_mask=lambda params, state: state,
)


# Continuous: match a random target vector in [-0.8, 0.8]^2 given as obs (one-step episodes).
def _draw_target(key):
    return jax.random.uniform(key, (2,), minval=-0.8, maxval=0.8)


TARGET = Env(
    "target",
    reset=lambda key, params: params,
    step=lambda key, params, state, action: (state, -jnp.sum((action - state) ** 2), jnp.bool_(True)),
    observe=lambda params, state: state,
)


def _gae_reference(rewards, values, dones, last_value, gamma, lam):
    T, N = rewards.shape
    adv = np.zeros((T, N))
    for n in range(N):
        running = 0.0
        for t in reversed(range(T)):
            nv = last_value[n] if t == T - 1 else values[t + 1, n]
            nonterm = 0.0 if dones[t, n] else 1.0
            delta = rewards[t, n] + gamma * nv * nonterm - values[t, n]
            running = delta + gamma * lam * nonterm * running
            adv[t, n] = running
    return adv, adv + values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_matches_reference(seed):
    rng = np.random.default_rng(seed)
    T, N = 7, 3
    r, v = rng.normal(size=(T, N)), rng.normal(size=(T, N))
    d = rng.random((T, N)) < 0.3
    lv = rng.normal(size=N)
    adv, ret = ppo.gae(jnp.array(r), jnp.array(v), jnp.array(d), jnp.array(lv), 0.97, 0.9)
    ref_adv, ref_ret = _gae_reference(r, v, d, lv, 0.97, 0.9)
    np.testing.assert_allclose(adv, ref_adv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, ref_ret, rtol=1e-5, atol=1e-5)


def test_masked_logits_never_sampled():
    logits = jnp.array([5.0, 0.0, 1.0])
    mask = jnp.array([False, True, True])
    ml = ppo.masked_logits(logits, mask)
    samples = jax.random.categorical(jax.random.PRNGKey(0), ml, shape=(1000,))
    assert not (samples == 0).any()
    ent = ppo.categorical_entropy(ml, mask)
    p = jax.nn.softmax(jnp.array([0.0, 1.0]))
    np.testing.assert_allclose(ent, -(p * jnp.log(p)).sum(), rtol=1e-5)


def test_gaussian_log_prob_matches_scipy_formula():
    mean, log_std, x = jnp.array([0.5, -1.0]), jnp.array([0.1, -0.3]), jnp.array([0.0, 0.2])
    std = np.exp(np.array(log_std))
    ref = np.sum(-0.5 * ((np.array(x) - np.array(mean)) / std) ** 2 - np.log(std * np.sqrt(2 * np.pi)))
    np.testing.assert_allclose(ppo.gaussian_log_prob(mean, log_std, x), ref, rtol=1e-5)


def test_loss_clips_ratio():
    cfg = ppo.PPOConfig(normalize_advantages=False, ent_coef=0.0, vf_coef=0.0)
    # A policy whose log-prob rose by log(2) on a positive advantage: the surrogate is clipped at 1.2.
    apply_fn = lambda p, obs: (jnp.zeros((obs.shape[0], 2)), jnp.zeros(obs.shape[0]))  # noqa: E731
    batch = ppo.Transition(
        obs=jnp.zeros((1, 1)), action=jnp.array([0]), mask=jnp.ones((1, 2), bool),
        log_prob=jnp.log(jnp.array([0.25])), value=jnp.zeros(1), reward=jnp.zeros(1), done=jnp.ones(1, bool),
    )
    total, aux = ppo.ppo_loss({"net": {}}, apply_fn, batch, jnp.array([1.0]), jnp.zeros(1), cfg)
    np.testing.assert_allclose(total, -1.2, rtol=1e-6)
    np.testing.assert_allclose(aux["clip_frac"], 1.0)


def test_config_validation():
    with pytest.raises(ValueError):
        ppo.PPOConfig(action_type="beta")
    with pytest.raises(ValueError):
        ppo.PPOConfig(num_envs=3, num_steps=3, num_minibatches=4)


BANDIT_CFG = ppo.PPOConfig(num_envs=32, num_steps=8, total_timesteps=32 * 8 * 40, lr=3e-3, num_minibatches=4,
                           update_epochs=4, ent_coef=0.001, gamma=0.0)


def test_ppo_learns_masked_bandit():
    net = ppo.ActorCritic(out_dim=6, hidden=(32,))
    train = ppo.make_train(BANDIT_CFG, BANDIT, net, _draw_mask)
    runner, metrics = jax.jit(train)(jax.random.PRNGKey(0))
    assert metrics["episode_return"].shape == (BANDIT_CFG.num_updates,)
    # Greedy policy on fresh masks: always valid, nearly always the best valid arm.
    masks = jax.vmap(_draw_mask)(jax.random.split(jax.random.PRNGKey(9), 500))
    obs = masks.astype(jnp.float32)
    a = ppo.select_action(BANDIT_CFG, net.apply, runner.train_state.params, obs, masks)
    assert bool(masks[jnp.arange(500), a].all())
    best = jnp.argmax(jnp.where(masks, ARM_VALUES, -1.0), axis=1)
    assert float((a == best).mean()) > 0.9
    assert float(metrics["episode_return"][-5:].mean()) > float(metrics["episode_return"][:3].mean()) + 0.1


def test_ppo_learns_continuous_target():
    cfg = ppo.PPOConfig(action_type="continuous", action_dim=2, num_envs=32, num_steps=8,
                        total_timesteps=32 * 8 * 60, lr=3e-3, gamma=0.0, ent_coef=0.0, log_std_init=-0.5)
    net = ppo.ActorCritic(out_dim=2, hidden=(32,))
    train = ppo.make_train(cfg, TARGET, net, _draw_target)
    runner, metrics = jax.jit(train)(jax.random.PRNGKey(1))
    obs = jax.vmap(_draw_target)(jax.random.split(jax.random.PRNGKey(5), 200))
    a = ppo.select_action(cfg, net.apply, runner.train_state.params, obs, None)
    err = float(jnp.sum((a - obs) ** 2, axis=1).mean())
    assert err < 0.05, err  # a zero action would give about 0.43
    assert float(metrics["episode_return"][-3:].mean()) > float(metrics["episode_return"][:3].mean())


def test_ppo_seeded_and_chunked_resume_equal():
    cfg = ppo.PPOConfig(num_envs=8, num_steps=4, total_timesteps=8 * 4 * 4, num_minibatches=2)
    net = ppo.ActorCritic(out_dim=6, hidden=(8,))
    train = ppo.make_train(cfg, BANDIT, net, _draw_mask)
    r1, m1 = jax.jit(train)(jax.random.PRNGKey(3))
    r2, m2 = jax.jit(train)(jax.random.PRNGKey(3))
    ra = train.init(jax.random.PRNGKey(3))
    ra, _ = train.update(ra, 2)
    ra, _ = train.update(ra, 2)
    for x, y, z in zip(jax.tree.leaves(r1.train_state.params), jax.tree.leaves(r2.train_state.params),
                       jax.tree.leaves(ra.train_state.params)):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_allclose(x, z, rtol=1e-5, atol=1e-6)
    assert int(ra.update) == 4
