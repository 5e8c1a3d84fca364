"""The HH agent: env with commitment, training through the driver, agent files, solve/evaluate, render."""

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched import api
from jsched.checkpoint import save_checkpoint
from jsched.errors import CheckpointError, JSchedError
from jsched.hh import agent, method
from jsched.hh import env as hh_env
from jsched.hh.render import draw_state, render_episode
from jsched.hh.train import TrainConfig, train
from jsched.instances.arrays import jsp_params
from jsched.instances.model import JSPInstance
from jsched.kernels import petri
from jsched.schedule import Schedule, validate
from jsched.training import METRICS, MODEL

J, M = 4, 3


def tiny_config(out, **kw) -> TrainConfig:
    base = dict(size=f"{J}x{M}", commitment=2, steps=2 * 8 * 8 * 2, num_envs=8, num_steps=8, num_minibatches=2,
                update_epochs=2, hidden="16", chunk=2, lr=1e-3, out=str(out), progress=False)
    return TrainConfig(**{**base, **kw})


def tiny_instance(seed=0, nj=J, nm=M):
    rng = np.random.default_rng(seed)
    return JSPInstance(f"tiny{seed}", np.stack([rng.permutation(nm) for _ in range(nj)]), rng.integers(1, 10, (nj, nm)))


def rule_makespans(inst: JSPInstance) -> dict[str, int]:
    p = jsp_params(inst)
    return {r: int(petri.makespan(hh_env.rollout_rule(p, r))) for r in hh_env.RULES}


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("hh") / "run"
    summary = train(tiny_config(out), jax.random.key(0))
    return tiny_config(out), summary


def test_env_commitment_and_terminal_reward():
    cfg = hh_env.HHEnvConfig(J, M, commitment=5, reference="LTWR")
    e = hh_env.make_env(cfg)
    inst = jsp_params(tiny_instance(1))
    s = e.reset(jax.random.PRNGKey(0), inst)
    assert e.observe(inst, s).shape == (cfg.obs_dim,)
    assert cfg.n_decisions == 3  # 12 allocations, 5 per decision
    ltwr = int(petri.makespan(hh_env.rollout_rule(inst, "LTWR")))
    assert float(s.ref) == ltwr
    step = jax.jit(e.step)
    rewards, dones = [], []
    for _ in range(cfg.n_decisions):
        s, r, d = step(jax.random.PRNGKey(1), inst, s, jnp.int32(hh_env.RULES.index("LTWR")))
        rewards.append(float(r))
        dones.append(bool(d))
    assert dones == [False, False, True]
    assert rewards[:2] == [0.0, 0.0]
    assert rewards[2] == pytest.approx(-1.0)  # LTWR all the way is the reference itself
    assert int(s.net.t) == J * M


def test_full_commitment_equals_single_rule():
    inst = tiny_instance(2)
    p = jsp_params(inst)
    cfg = hh_env.HHEnvConfig(J, M, commitment=J * M)
    assert cfg.n_decisions == 1
    want = rule_makespans(inst)
    for k, name in enumerate(hh_env.RULES):
        assert int(petri.makespan(agent.fixed_rule_rollout(p, k, cfg).net)) == want[name]


def test_train_config_checks():
    assert TrainConfig(size="20x15").shape == (20, 15)
    assert TrainConfig(hidden="32, 8").hidden_sizes == (32, 8)
    for bad in (dict(size="3y"), dict(size="0x3"), dict(hidden="a"), dict(num_envs=3, num_steps=3),
                dict(protocol="instances", size="7x7")):  # fmt: skip
        with pytest.raises(JSchedError):
            TrainConfig(**bad)
    with pytest.raises(JSchedError, match="must be one of"):
        api.get("hh").config("train", reference="MOR")


def test_training_writes_metrics_and_model(trained):
    config, summary = trained
    n = config.ppo_config().num_updates
    assert summary["updates"] == n == summary["total"] and not summary["stopped_early"]
    rows = json.load(open(os.path.join(config.out, METRICS)))
    assert [r["update"] for r in rows] == list(range(1, n + 1))
    assert rows[-1]["decisions"] == n * config.num_envs * config.num_steps
    assert {"episode_return", "entropy", "value_loss", "approx_kl"} <= set(rows[0])
    policy = agent.load_policy(os.path.join(config.out, MODEL))
    assert policy.cfg == config.env_config() and policy.hidden == (16,)
    assert policy.info["updates"] == n and policy.info["config"]["lr"] == config.lr
    assert policy.info["protocol"] == "generated"


def test_resume_extends_and_config_mismatch_fails(trained, tmp_path):
    import shutil

    config, summary = trained
    out = tmp_path / "run"
    shutil.copytree(config.out, out)
    with pytest.raises(CheckpointError, match="config mismatch in lr"):
        train(tiny_config(out, lr=config.lr / 2, resume=True), jax.random.key(0))
    rows = json.load(open(os.path.join(config.out, METRICS)))
    longer = train(tiny_config(out, steps=config.steps * 2, resume=True), jax.random.key(0))
    assert longer["updates"] == 2 * len(rows)
    again = json.load(open(out / METRICS))
    assert [r["update"] for r in again] == list(range(1, 2 * len(rows) + 1))
    assert again[: len(rows)] == rows


def test_bad_agent_config_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "bad.msgpack"
    save_checkpoint(path, agent.MODEL_KIND, {"w": np.zeros(2)}, {"env": {"n_jobs": 3, "bogus": 1}, "hidden": [4]})
    with pytest.raises(CheckpointError, match="bad HH agent config"):
        agent.load_policy(path)


def test_policy_solves_valid_schedules_and_pads(trained):
    policy = agent.load_policy(os.path.join(trained[0].out, MODEL))
    inst = tiny_instance(4)
    start, ms, rules, mode = policy.solve(inst, samples=3, key=jax.random.key(0))
    assert validate(inst, Schedule.from_arrays(inst, start)).makespan == ms
    assert len(rules) == policy.cfg.n_decisions and mode.startswith(("greedy", "sample"))
    small = tiny_instance(5, nj=3, nm=2)  # padded into the 4x3 agent
    start, ms, _, _ = policy.solve(small)
    assert validate(small, Schedule.from_arrays(small, start)).makespan == ms
    with pytest.raises(JSchedError, match="does not fit"):
        policy.solve(tiny_instance(6, nj=5, nm=3))
    # Greedy with full commitment is one of the single rules.
    start, ms, rules, _ = policy.solve(inst, commitment=J * M)
    assert len(set(rules)) == 1 and ms == rule_makespans(inst)[rules[0]]


def test_solve_with_checkpoint_and_render(trained, tmp_path):
    model = os.path.join(trained[0].out, MODEL)
    inst = tiny_instance(7)
    r = api.solve(inst, method="hh", checkpoint=model, samples=2, render_every=4, render_dir=str(tmp_path / "frames"))
    assert r.extra["agent"] == f"{J}x{M}" and r.extra["commitment"] == 2 and set(r.extra["rules"]) <= set(hh_env.RULES)
    assert r.extra["frames"] == len(os.listdir(tmp_path / "frames")) == 3  # decisions 0, 4 (of 6) + final
    with open(tmp_path / "frames" / "frame_0000.png", "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    payload = r.to_json()
    assert payload["method"] == "hh" and payload["mode"] == r.extra["mode"] and len(payload["operations"]) == J * M
    with pytest.raises(CheckpointError, match="not found"):
        api.solve(inst, method="hh", checkpoint=str(tmp_path / "none.msgpack"))
    with pytest.raises(JSchedError, match="does not fit"):
        api.solve(tiny_instance(6, nj=5, nm=3), method="hh", checkpoint=model)
    with pytest.raises(JSchedError, match="samples must be >= 0"):
        api.solve(inst, method="hh", samples=-1)


def test_evaluate_batches_like_solve(trained, tmp_path):
    model = os.path.join(trained[0].out, MODEL)
    insts = [tiny_instance(10 + k) for k in range(3)] + [tiny_instance(13, nj=3, nm=3)]
    config = method.Config(checkpoint=model, samples=3, render_every=100, render_dir=str(tmp_path))
    batch = method.evaluate(insts, config, jax.random.key(4))
    for inst, r in zip(insts, batch):
        one = method.solve(inst, dataclasses.replace(config, render_every=0), jax.random.key(4))
        assert r.instance is inst and r.makespan == one.makespan and r.extra["rules"] == one.extra["rules"]
        assert validate(inst, r.schedule).makespan == r.makespan
        assert r.extra["frames"] == len(os.listdir(tmp_path / inst.name)) == 2


def test_render_svg_and_errors(tmp_path):
    inst = tiny_instance(8)
    paths = render_episode(inst, ["SPT"], str(tmp_path), every=100, fmt="svg")
    assert len(paths) == 2 and open(paths[0]).read().lstrip().startswith("<?xml")
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths)  # frames only: no temp file left
    (tmp_path / "file").write_text("")
    with pytest.raises(JSchedError, match="not a folder"):  # written through jsched.atomic: one-line OS errors
        render_episode(inst, ["SPT"], str(tmp_path / "file" / "frames"), every=100)
    with pytest.raises(JSchedError):
        render_episode(inst, ["EDD"], str(tmp_path))
    with pytest.raises(JSchedError):
        render_episode(inst, ["SPT"], str(tmp_path), every=0)


def test_draw_state_leaves_pyplot_alone():
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    backend, mine = matplotlib.get_backend(), plt.figure()
    inst = tiny_instance(9)
    p = jsp_params(inst)
    fig = draw_state(inst, p, petri.reset(p), "start", fired_job=0)
    assert isinstance(fig, Figure) and fig.axes
    assert matplotlib.get_backend() == backend and plt.fignum_exists(mine.number)
    plt.close(mine)


def test_shipped_agents_per_protocol_solve_ta01():
    """Both shipped agent sets: one agent per Taillard size each; greedy ta01 valid, below the
    best single rule on it (LWT 1426), and the makespans they have given since shipped."""
    taillard_sizes = [(15, 15), (20, 15), (20, 20), (30, 15), (30, 20), (50, 15), (50, 20), (100, 20)]
    assert agent.shipped_sizes("instances") == agent.shipped_sizes("generated") == taillard_sizes
    assert agent.policy_for(api.load("ta11")).size == "20x15"
    for protocol, want in (("generated", 1392), ("instances", 1411)):
        r = api.solve("ta01", method="hh", protocol=protocol)
        got = (r.extra["agent"], r.extra["protocol"], r.extra["mode"], r.makespan)
        assert got == ("15x15", protocol, "greedy", want)
    assert api.solve("ta01", method="hh").extra["protocol"] == "generated"  # the default set
    with pytest.raises(JSchedError, match="no shipped generated HH agent fits"):
        agent.policy_for(tiny_instance(0, nj=101, nm=3))
    with pytest.raises(JSchedError, match="protocol must be one of"):
        api.solve("ta01", method="hh", protocol="paper")
