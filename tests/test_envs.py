"""jsched.envs: gymnax- and Jumanji-style envs over the JSP, FJSP and Petri-net kernels.

Episodes under jit and vmap return minus the makespan and end in a validated schedule; the
auto-reset starts a fresh episode; a purejaxrl-style masked PPO loop runs on the gymnax env.
"""

from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jsched
from jsched import envs
from jsched.instances.arrays import fjsp_params, jsp_params
from jsched.instances.generators import fixed_generator, sd2_fjsp, taillard_generator, taillard_jsp
from jsched.schedule import Schedule, validate

N_ENVS = 4


def _instance(kind):
    if kind == "fjsp":
        inst = sd2_fjsp(3, 3, 0)
        return inst, fjsp_params(inst)
    inst = taillard_jsp(3, 3, 0)
    return inst, jsp_params(inst)


def _masked_sample(key, mask):
    return jax.random.categorical(key, jnp.where(mask, 0.0, -1e9))


@partial(jax.jit, static_argnums=(0, 2))
def _episodes(env, keys, n_steps):
    """vmapped random masked episodes of ``step_env``: (rewards (B, T), dones (B, T), final states)."""

    def one(key):
        obs, state = env.reset(key, env.default_params)

        def body(carry, k):
            obs, state = carry
            action = _masked_sample(k, obs.action_mask)
            obs, state, reward, done, info = env.step_env(k, state, action, env.default_params)
            return (obs, state), (reward, done, info["makespan"])

        (_, state), (r, d, ms) = jax.lax.scan(body, (obs, state), jax.random.split(key, n_steps))
        return r, d, ms, state

    return jax.vmap(one)(keys)


@pytest.mark.parametrize("kind", ["jsp", "fjsp", "petri"])
def test_episode_returns_minus_makespan_and_a_valid_schedule(kind):
    inst, params = _instance(kind)
    env, env_params = envs.make(kind, fixed_generator(params))
    n = inst.n_ops
    rewards, dones, makespans, final = _episodes(env, jax.random.split(jax.random.key(0), N_ENVS), n)
    np.testing.assert_allclose(rewards.sum(1), -makespans[:, -1])
    assert bool(dones[:, -1].all()) and not bool(dones[:, :-1].any())
    for b in range(N_ENVS):
        d = jax.tree.map(lambda x: np.asarray(x[b]), final.dispatch)
        if kind == "fjsp":
            ops = inst.op_job, inst.op_index
            sched = Schedule.from_arrays(inst, d.start[ops], d.machine[ops])
        else:
            sched = Schedule.from_arrays(inst, d.start)
        assert validate(inst, sched).makespan == int(makespans[b, -1])


def test_spaces_and_auto_reset():
    env, params = envs.make("jsp", taillard_generator(3, 3))
    assert env.num_actions == 3 and env.action_space(params).n == 3
    space = env.observation_space(params)
    obs, state = jax.jit(env.reset)(jax.random.key(1), params)
    assert space.features.shape == obs.features.shape and bool(space.features.contains(obs.features))
    assert bool(env.action_space(params).contains(env.action_space(params).sample(jax.random.key(2))))
    step = jax.jit(env.step)
    for t in range(9):  # a 3x3 episode, then the auto-reset
        action = jnp.argmax(obs.action_mask).astype(jnp.int32)
        obs, state, reward, done, info = step(jax.random.key(t), state, action, params)
    assert bool(done) and not bool(info["truncated"]) and int(info["makespan"]) > 0
    assert int(state.dispatch.t) == 0 and bool(obs.action_mask.all())
    # an invalid action is a no-op
    obs2, state2, reward, done, _ = step(jax.random.key(0), state, jnp.int32(7), params)
    assert float(reward) == 0.0 and not bool(done) and int(state2.dispatch.t) == 0
    # a policy that ignores the mask is cut at max_steps_in_episode, then auto-reset
    assert params.max_steps_in_episode == 18
    short = params._replace(max_steps_in_episode=2)
    for t in range(2):
        obs, state, reward, done, info = step(jax.random.key(t), state, jnp.int32(7), short)
    assert bool(done) and bool(info["truncated"]) and int(state.time) == 0
    with pytest.raises(jsched.JSchedError, match="env kind"):
        envs.make("pfsp", taillard_generator(3, 3))
    with pytest.raises(jsched.JSchedError, match="needs a generator of FJSPParams, got JSPParams"):
        envs.make("fjsp", taillard_generator(3, 3))


def test_jumanji_wrapper_runs_an_episode():
    inst, params = _instance("fjsp")
    env = envs.JumanjiEnv(envs.GymnaxEnv("fjsp", fixed_generator(params)))
    state, ts = jax.jit(env.reset)(jax.random.key(0))
    assert bool(ts.first())
    step, total = jax.jit(env.step), 0.0
    for _ in range(inst.n_ops):
        action = jnp.argmax(ts.observation.action_mask)
        state, ts = step(state, action)
        total += float(ts.reward)
    assert bool(ts.last()) and float(ts.discount) == 0.0
    assert total == -int(ts.extras["makespan"])
    assert int(env.action_spec.num_values) == env.env.num_actions
    spec = env.observation_spec
    if envs._jumanji() is not None:
        spec.validate(ts.observation)
    else:
        for s, x in zip(spec, ts.observation):
            s.validate(x)


def test_jumanji_auto_reset_wrapper_runs_on_it():
    wrappers = pytest.importorskip("jumanji.wrappers")
    env = wrappers.AutoResetWrapper(envs.JumanjiEnv(envs.make("jsp", taillard_generator(3, 3))[0]))

    @jax.jit
    def run(key):
        def body(carry, _):
            state, ts = env.step(*carry)
            return (state, jnp.argmax(ts.observation.action_mask)), ts.step_type

        state, ts = env.reset(key)
        (state, _), types = jax.lax.scan(body, (state, jnp.argmax(ts.observation.action_mask)), None, 10)
        return state, types

    state, types = run(jax.random.key(0))
    assert types.tolist() == [1] * 8 + [2, 1] and int(state.env.dispatch.t) == 1


def test_fallback_specs_and_timestep():
    spec = envs.DiscreteArray((), jnp.int32, 0, 4, "action")
    assert spec.num_values == 5 and int(spec.generate_value()) == 0
    spec.validate(jnp.int32(4))
    with pytest.raises(ValueError, match="outside"):
        spec.validate(jnp.int32(5))
    ts = envs.TimeStep(jnp.int8(envs.StepType.LAST), jnp.float32(-1), jnp.float32(0), None, {})
    assert bool(ts.last()) and not bool(ts.first())


# ---------------------------------------------------------------------------------------------
# A purejaxrl-style PPO loop (Lu et al. 2022) written against the gymnax convention only


class _ActorCritic(nn.Module):
    n_actions: int

    @nn.compact
    def __call__(self, features):
        h = nn.tanh(nn.Dense(16)(features))
        return nn.Dense(self.n_actions)(h), nn.Dense(1)(h)[..., 0]


def _make_train(env, env_params, n_envs=4, n_steps=9, n_updates=3, gamma=0.99, lam=0.95, clip=0.2):
    net = _ActorCritic(env.action_space(env_params).n)
    tx = optax.adam(3e-3)
    vstep = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def policy(p, obs):
        logits, value = net.apply(p, obs.features)
        return jnp.where(obs.action_mask, logits, -1e9), value

    def train(key):
        key, k_net, k_env = jax.random.split(key, 3)
        p = net.init(k_net, jnp.zeros(env.observation_space(env_params).features.shape))
        opt = tx.init(p)
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_env, n_envs), env_params)
        ep_return = jnp.zeros(n_envs)

        def update(runner, _):
            p, opt, obs, state, ep_return, key = runner

            def env_step(carry, _):
                obs, state, ep_return, key = carry
                key, k_act, k_step = jax.random.split(key, 3)
                logits, value = policy(p, obs)
                action = jax.random.categorical(k_act, logits)
                logp = jax.nn.log_softmax(logits)[jnp.arange(n_envs), action]
                keys = jax.random.split(k_step, n_envs)
                obs2, state, reward, done, info = vstep(keys, state, action, env_params)
                ep_return = ep_return + reward
                finished = jnp.where(done, ep_return, jnp.nan)  # LogWrapper's returned_episode_returns
                traj = (obs, action, logp, value, reward, done, finished, info["makespan"])
                return (obs2, state, jnp.where(done, 0.0, ep_return), key), traj

            (obs, state, ep_return, key), traj = jax.lax.scan(env_step, (obs, state, ep_return, key), None, n_steps)
            t_obs, t_act, t_logp, t_val, t_rew, t_done, finished, makespan = traj
            _, last_val = policy(p, obs)

            def gae(carry, x):
                adv, next_val = carry
                reward, value, done = x
                delta = reward + gamma * next_val * (1 - done) - value
                adv = delta + gamma * lam * (1 - done) * adv
                return (adv, value), adv

            xs = (t_rew, t_val, t_done.astype(jnp.float32))
            _, adv = jax.lax.scan(gae, (jnp.zeros(n_envs), last_val), xs, reverse=True)
            target = adv + t_val

            def loss_fn(p):
                logits, value = policy(p, t_obs)
                logp = jnp.take_along_axis(jax.nn.log_softmax(logits), t_act[..., None], -1)[..., 0]
                ratio = jnp.exp(logp - t_logp)
                a = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg = -jnp.minimum(ratio * a, jnp.clip(ratio, 1 - clip, 1 + clip) * a).mean()
                return pg + 0.5 * ((value - target) ** 2).mean()

            loss, grads = jax.value_and_grad(loss_fn)(p)
            updates, opt = tx.update(grads, opt)
            p = optax.apply_updates(p, updates)
            return (p, opt, obs, state, ep_return, key), (loss, finished, makespan, t_done)

        _, metrics = jax.lax.scan(update, (p, opt, obs, state, ep_return, key), None, n_updates)
        return metrics

    return train


def test_purejaxrl_style_ppo_loop_runs():
    env, env_params = envs.make("jsp", taillard_generator(3, 3))
    loss, finished, makespan, done = jax.jit(_make_train(env, env_params))(jax.random.key(0))
    assert np.isfinite(np.asarray(loss)).all()
    done = np.asarray(done)
    assert done.sum() == 3 * 4  # one 9-step episode per env and update
    np.testing.assert_allclose(np.asarray(finished)[done], -np.asarray(makespan)[done])


def test_rejax_ppo_runs_through_a_flat_adapter():
    """rejax (a published gymnax-convention RL library) has no action masks and wants gymnax's
    own space classes and array observations: the adapter gives it the features; invalid
    actions are no-ops and ``max_steps_in_episode`` ends the episodes."""
    pytest.importorskip("rejax")
    from gymnax.environments import spaces
    from rejax import PPO

    class Flat:
        def __init__(self, env):
            self.env = env

        def __getattr__(self, name):  # default_params, name, ... (not "env": copies lack it)
            if name == "env":
                raise AttributeError(name)
            return getattr(self.env, name)

        def reset(self, key, params):
            obs, state = self.env.reset(key, params)
            return obs.features, state

        def step(self, key, state, action, params):
            obs, state, reward, done, info = self.env.step(key, state, action, params)
            return obs.features, state, reward, done, info

        def action_space(self, params):
            return spaces.Discrete(self.env.num_actions)

        def observation_space(self, params):
            return spaces.Box(0.0, jnp.inf, self.env.observation_space(params).features.shape, jnp.float32)

    env, params = envs.make("jsp", taillard_generator(3, 3))
    algo = PPO.create(env=Flat(env), env_params=params, num_envs=4, num_steps=9, num_minibatches=2,
                      total_timesteps=144, eval_freq=144, skip_initial_evaluation=True)  # fmt: skip
    _, (lengths, returns) = jax.jit(algo.train)(jax.random.key(0))
    assert np.isfinite(np.asarray(returns)).all() and (np.asarray(returns) < 0).all()
