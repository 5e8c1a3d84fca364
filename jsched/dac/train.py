"""Training the DAC policy with the shared PPO (``jsched.rl.ppo``, continuous Gaussian actions).

Setup of Mencaroni et al. (2026), section 4.2: episodes of 100 MA generations (population 250)
on a training instance drawn at random from the 12 ``Data/Training_instances`` files (3 each of
M1T1, M1T3, M3T1, M3T3); f_ideal per instance is the best of a double-budget (200-generation)
static default run. PPO hyperparameters are Stable-Baselines3's defaults where the shared PPO
has them (lr 3e-4 constant, 10 epochs, minibatch 64, gamma 0.99, GAE 0.95, clip 0.2, no
entropy bonus, vf 0.5, grad-norm 0.5, [64, 64] tanh actor and critic, log-std init 0, actions
clipped to [-1, 1]; the shipped policy was trained with log-std init -1, see README); SB3's
2048 steps of one env become 8 envs x 128 steps here, so an update still sees 1024 generations.
The paper trains 4 M generations; ``total_generations`` sets the budget (the shipped policy's
budget is in its file).

Training runs in chunks of updates with a tqdm bar; after each chunk the whole PPO runner
state (network, optimizer, env populations, key) is written atomically to ``checkpoint.msgpack``
with a version and the config, and ``resume=True`` continues from it (a mismatched or corrupt
checkpoint raises CheckpointError). The greedy policy is saved as ``policy.msgpack``.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from jsched.atomic import write_bytes_atomic
from jsched.dac import env as E
from jsched.dac import ma
from jsched.dac.published import data_dir
from jsched.errors import CheckpointError, JSchedError
from jsched.instances.pfsp import PFSPInstance, read_cas

CHECKPOINT_VERSION = 1
POLICY_FORMAT = "jsched-dac-policy"
HIDDEN = (64, 64)
ASSET_POLICY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets", "dac", "policy.msgpack")


TRAIN_SETS = ("M1T1", "M1T3", "M3T1", "M3T3")


def training_instances(sets=TRAIN_SETS) -> list[PFSPInstance]:
    """The published training/tuning instances of ``sets`` (3 each; never test instances).

    All four sets give the paper's 12; ``("M1T1", "M3T1")`` gives the 6 one-day instances, which
    pad to 14 jobs x 96 slots instead of 46 x 288 and make a generation about 5x cheaper on CPU.
    """
    d = data_dir()
    files = sorted(glob.glob(str(d / "Data" / "Training_instances" / "*.cas"))) if d else []
    files = [f for f in files if os.path.basename(f).split("_")[0].removeprefix("CAS-PFSP-") in sets]
    if not files:
        raise JSchedError(f"CAS-PFSP training instances of {', '.join(sets)} not found; set JSCHED_DATA to the shared data folder")
    return [read_cas(f) for f in files]


def ideal_values(instances, seed: int = 0, n_gen: int = 2 * ma.GENERATIONS, pop_size: int = ma.POP_SIZE) -> np.ndarray:
    """f_ideal: best fitness of one static default run with twice the generation budget."""
    stacked = ma.stack_params(instances)
    keys = jax.random.split(jax.random.key(seed + 10_000), len(instances))[:, None]
    (_, _, fit), _ = ma.run_batch(keys, stacked, ma.make_config(ma.DEFAULT), pop_size, n_gen, ma.LS_STEPS)
    return np.asarray(fit[:, 0])


def ppo_config(total_generations: int, num_envs: int = 8, num_steps: int = 128,
               log_std_init: float = 0.0, ent_coef: float = 0.0):
    """SB3-default PPO (the paper's); ``log_std_init``/``ent_coef`` exist for exploration studies."""
    from jsched.rl.ppo import PPOConfig

    return PPOConfig(
        action_type="continuous", num_envs=num_envs, num_steps=num_steps,
        total_timesteps=max(total_generations, num_envs * num_steps),
        update_epochs=10, num_minibatches=max(1, num_envs * num_steps // 64), lr=3e-4, anneal_lr=False,
        gamma=0.99, gae_lambda=0.95, clip_eps=0.2, ent_coef=ent_coef, vf_coef=0.5, max_grad_norm=0.5,
        action_dim=E.ACT_DIM, action_low=-1.0, action_high=1.0, squash="clip", log_std_init=log_std_init,
    )


def network():
    from jsched.rl.ppo import ActorCritic

    return ActorCritic(E.ACT_DIM, HIDDEN)


def train_dac(
    out_dir: str,
    total_generations: int = 200_000,
    seed: int = 0,
    resume: bool = False,
    num_envs: int = 8,
    num_steps: int = 128,
    settings: E.DACSettings = E.DACSettings(),
    updates_per_chunk: int = 1,
    progress: bool = True,
    instances: list[PFSPInstance] | None = None,
    log_std_init: float = 0.0,
    ent_coef: float = 0.0,
) -> dict:
    """Train a DAC policy; writes ``checkpoint.msgpack``, ``policy.msgpack``, ``train_log.json``.

    Args:
        out_dir: output folder (created).
        total_generations: PPO budget in MA generations (env steps); the paper used 4 M.
        seed: seeds f_ideal runs, PPO init, instance draws and MA randomness.
        resume: continue from ``out_dir/checkpoint.msgpack`` (same config required).
        num_envs, num_steps: parallel MA episodes and steps per env per PPO update.
        settings: episode length, population, local-search steps, reward scale.
        updates_per_chunk: PPO updates between checkpoints.
        instances: training instances (default: the 12 published training files).
        log_std_init: initial log-std of the Gaussian policy (SB3 default 0: std 1 on actions
            in [-1, 1], so a third of the sampled values from a centred mean, and more once the
            mean nears a bound, fall outside and are clipped).
        ent_coef: entropy bonus (SB3 default 0).
    Returns:
        dict with the log (per update: mean episode return, losses) and the paths written.
    """
    from tqdm import tqdm

    from jsched.rl.ppo import make_train

    os.makedirs(out_dir, exist_ok=True)
    cfg = ppo_config(total_generations, num_envs, num_steps, log_std_init, ent_coef)
    insts = training_instances() if instances is None else list(instances)
    config = {
        "ppo": dataclasses.asdict(cfg), "settings": dataclasses.asdict(settings), "seed": seed,
        "instances": [i.name for i in insts], "hidden": list(HIDDEN),
    }
    ckpt_path = os.path.join(out_dir, "checkpoint.msgpack")
    log_path = os.path.join(out_dir, "train_log.json")
    log: list[dict] = []
    f_ideal = None
    if resume and os.path.exists(ckpt_path):
        saved = _read_msgpack(ckpt_path, "jsched-dac-checkpoint")
        old = json.loads(saved["config"])
        if _without_budget(old) != _without_budget(config):
            raise CheckpointError(f"{ckpt_path}: checkpoint config differs from the requested run; use another --out or the same options")
        f_ideal = np.asarray(saved["f_ideal"], np.float32)
        if os.path.exists(log_path):
            with open(log_path) as fh:
                log = json.load(fh).get("log", [])
    if f_ideal is None:
        f_ideal = ideal_values(insts, seed, 2 * settings.n_gen, settings.pop_size).astype(np.float32)
    env_params = E.DACEnvParams(ma.stack_params(insts), jnp.asarray(f_ideal))
    train = make_train(cfg, E.make_env(settings), network(), env_params)
    init = jax.jit(train.init)
    update = jax.jit(train.update, static_argnums=1)
    runner = init(jax.random.PRNGKey(seed))
    if resume and os.path.exists(ckpt_path):
        try:
            runner = serialization.from_state_dict(runner, saved["runner"])
        except (KeyError, ValueError, TypeError) as e:
            raise CheckpointError(f"{ckpt_path}: runner state does not match this configuration ({e})") from None
    done = int(runner.update)
    policy_path = os.path.join(out_dir, "policy.msgpack")
    bar = tqdm(total=cfg.num_updates, initial=done, desc="dac ppo", unit="upd", disable=not progress)
    t0 = time.perf_counter()
    while done < cfg.num_updates:
        n = min(updates_per_chunk, cfg.num_updates - done)
        runner, metrics = update(runner, n)
        metrics = jax.device_get(metrics)
        for i in range(n):
            log.append({k: float(v[i]) for k, v in metrics.items()} | {"update": done + i + 1})
        done += n
        _write_msgpack(ckpt_path, {
            "format": "jsched-dac-checkpoint", "version": CHECKPOINT_VERSION, "config": json.dumps(config),
            "f_ideal": np.asarray(f_ideal), "runner": serialization.to_state_dict(runner),
        })
        _write_json(log_path, {"config": config, "log": log})
        save_policy(policy_path, runner.train_state.params["net"], {
            **config, "generations_trained": done * cfg.num_envs * cfg.num_steps,
            "train_seconds_this_session": round(time.perf_counter() - t0, 1),
        })
        bar.update(n)
        bar.set_postfix(ret=f"{log[-1]['episode_return']:.3f}")
    bar.close()
    return {"log": log, "checkpoint": ckpt_path, "policy": policy_path, "f_ideal": f_ideal.tolist()}


def _without_budget(config: dict) -> dict:
    """A run may be resumed with a larger budget; everything else must match."""
    c = json.loads(json.dumps(config))
    c["ppo"].pop("total_timesteps", None)
    return c


# --------------------------------------------------------------------------- policy files
def save_policy(path: str, net_params, config: dict) -> None:
    _write_msgpack(path, {
        "format": POLICY_FORMAT, "version": CHECKPOINT_VERSION, "config": json.dumps(config),
        "params": serialization.to_state_dict(net_params),
    })


def load_policy(path: str | None = None):
    """(apply-ready network params, config dict) of a saved greedy policy (default: shipped)."""
    path = path or ASSET_POLICY
    saved = _read_msgpack(path, POLICY_FORMAT)
    config = json.loads(saved["config"])
    if tuple(config.get("hidden", ())) != HIDDEN:
        raise CheckpointError(f"{path}: policy has hidden sizes {config.get('hidden')}, expected {list(HIDDEN)}")
    template = network().init(jax.random.PRNGKey(0), jnp.zeros((1, E.OBS_DIM)))
    try:
        params = serialization.from_state_dict(template, saved["params"])
        shapes_ok = jax.tree.all(jax.tree.map(lambda a, b: np.shape(a) == np.shape(b), template, params))
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: policy parameters do not match the network ({e})") from None
    if not shapes_ok:
        raise CheckpointError(f"{path}: policy parameter shapes do not match the network")
    return params, config


def greedy_policy_fn(net_params):
    """obs (5,) -> action (7,): the clipped Gaussian mean (deterministic control)."""
    apply = network().apply

    def fn(obs):
        mean, _ = apply(net_params, obs[None])
        return jnp.clip(mean[0], -1.0, 1.0)

    return fn


def _write_msgpack(path: str, obj: dict) -> None:
    write_bytes_atomic(path, serialization.msgpack_serialize(obj))


def _write_json(path: str, obj: dict) -> None:
    from jsched.schedule import write_json_atomic

    write_json_atomic(path, obj)


def _read_msgpack(path: str, fmt: str) -> dict:
    try:
        with open(path, "rb") as fh:
            obj = serialization.msgpack_restore(fh.read())
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e})") from None
    except Exception as e:  # msgpack raises several types on corrupt data
        raise CheckpointError(f"{path}: corrupt file ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise CheckpointError(f"{path}: not a {fmt} file")
    if obj.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: version {obj.get('version')}, this jsched reads version {CHECKPOINT_VERSION}")
    return obj
