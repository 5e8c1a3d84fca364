"""The HH agent: env with commitment, training + checkpoints + resume, policy, method, eval, render."""

import argparse
import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched.errors import CheckpointError, JSchedError
from jsched.hh import agent, env as hh_env
from jsched.hh.eval import evaluate, format_table, rule_makespans
from jsched.hh.render import render_episode
from jsched.hh.train import HHTrainConfig, train_hh
from jsched.instances.arrays import jsp_params
from jsched.instances.model import JSPInstance
from jsched.schedule import Schedule, validate
from jsched.kernels import petri
from jsched.kernels import petri_rules as R

J, M = 4, 3
TINY = HHTrainConfig(n_jobs=J, n_machines=M, commitment=2, steps=2 * 8 * 8 * 2, num_envs=8, num_steps=8,
                     num_minibatches=2, update_epochs=2, hidden=(16,), chunk_updates=2, lr=1e-3)


def tiny_instance(seed=0, nj=J, nm=M):
    rng = np.random.default_rng(seed)
    return JSPInstance(f"tiny{seed}", np.stack([rng.permutation(nm) for _ in range(nj)]), rng.integers(1, 10, (nj, nm)))


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("hh")
    ckpt, pol = str(d / "run.msgpack"), str(d / "policy.msgpack")
    curves = train_hh(TINY, ckpt, pol, progress=False)
    return ckpt, pol, curves


def test_env_commitment_and_terminal_reward():
    cfg = hh_env.HHEnvConfig(J, M, commitment=5, reference="LTWR")
    e = hh_env.make_env(cfg)
    inst = jsp_params(tiny_instance(1))
    pool = jax.tree.map(lambda a: a[None], inst)
    obs, s = e.reset(jax.random.PRNGKey(0), pool)
    assert obs.shape == (cfg.obs_dim,)
    assert cfg.n_decisions == 3  # 12 allocations, 5 per decision
    ltwr = int(petri.makespan(R.rollout_rule(inst, "LTWR")))
    assert float(s.ref) == ltwr
    step = jax.jit(e.step)
    rewards, dones = [], []
    for _ in range(cfg.n_decisions):
        obs, s, r, d, info = step(jax.random.PRNGKey(1), s, jnp.int32(R.RULES.index("LTWR")), pool)
        rewards.append(float(r))
        dones.append(bool(d))
    assert dones == [False, False, True]
    assert rewards[:2] == [0.0, 0.0]
    assert rewards[2] == pytest.approx(-1.0)  # LTWR all the way is the reference itself
    assert int(s.net.steps) == J * M


def test_full_commitment_equals_single_rule():
    inst = tiny_instance(2)
    p = jsp_params(inst)
    cfg = hh_env.HHEnvConfig(J, M, commitment=J * M)
    assert cfg.n_decisions == 1
    for k, name in enumerate(R.RULES):
        s = agent.fixed_rule_rollout(p, k, cfg)
        assert int(petri.makespan(s.net)) == rule_makespans(inst)[name]


def test_random_instances_are_taillard_style():
    cfg = hh_env.HHEnvConfig(5, 4)
    p = hh_env.random_instance(jax.random.PRNGKey(3), cfg)
    assert sorted(np.asarray(p.machines[0]).tolist()) == [0, 1, 2, 3]
    assert 1 <= int(p.durations.min()) and int(p.durations.max()) <= 99
    with pytest.raises(ValueError):
        hh_env.HHEnvConfig(reference="MOR")


def test_training_writes_curves_checkpoint_policy(trained):
    ckpt, pol, curves = trained
    n = TINY.ppo_config().num_updates
    assert len(curves["episode_return"]) == n == curves["update"][-1]
    assert os.path.exists(ckpt) and os.path.exists(pol)
    policy = agent.load_policy(pol)
    assert policy.cfg == TINY.env_config() and policy.hidden == (16,)


def test_resume_continues_and_config_mismatch_fails(trained, tmp_path):
    ckpt, _, curves = trained
    other = dataclasses.replace(TINY, lr=TINY.lr / 2)
    copy = tmp_path / "run.msgpack"
    copy.write_bytes(open(ckpt, "rb").read())
    with pytest.raises(CheckpointError, match="config mismatch in lr"):
        train_hh(other, str(copy), resume=True, progress=False)
    # Same config: resuming a finished run does no more updates and keeps the curves.
    again = train_hh(TINY, str(copy), resume=True, progress=False)
    assert again["update"] == curves["update"]


def test_resume_extends_a_run(trained, tmp_path):
    """A finished run resumed with more steps continues from its stored state and curves."""
    ckpt, _, curves = trained
    copy = tmp_path / "run.msgpack"
    copy.write_bytes(open(ckpt, "rb").read())
    more = dataclasses.replace(TINY, steps=TINY.steps * 2)
    longer = train_hh(more, str(copy), resume=True, progress=False)
    n = len(curves["update"])
    assert longer["update"] == list(range(1, 2 * n + 1))
    assert longer["episode_return"][:n] == curves["episode_return"]


def test_corrupt_and_wrong_kind_checkpoints(trained, tmp_path):
    _, pol, _ = trained
    bad = tmp_path / "bad.msgpack"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        agent.load_policy(str(bad))
    with pytest.raises(CheckpointError, match="not found"):
        agent.load_policy(str(tmp_path / "missing.msgpack"))
    ckpt = trained[0]
    with pytest.raises(CheckpointError, match="expected 'hh-policy'"):
        agent.load_policy(ckpt)


def test_policy_solves_valid_schedules_and_pads(trained):
    policy = agent.load_policy(trained[1])
    inst = tiny_instance(4)
    start, ms, rules, mode = policy.solve(inst, samples=3, seed=0)
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


def test_method_solve_and_render(trained, tmp_path):
    from jsched.hh import method

    inst = tiny_instance(7)
    args = argparse.Namespace(hh_policy=trained[1], hh_samples=0, hh_commitment=None, seed=0, render_every=4,
                              render_dir=str(tmp_path / "frames"), render_format="png")
    out = method.solve(inst, args)
    validate(inst, out.schedule)
    assert out.extra["frames"] == len(os.listdir(tmp_path / "frames")) == 4  # steps 0, 4, 8 + final
    with open(tmp_path / "frames" / "frame_0000.png", "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_render_svg_and_errors(tmp_path):
    inst = tiny_instance(8)
    paths = render_episode(inst, ["SPT"], str(tmp_path), every=100, fmt="svg")
    assert len(paths) == 2 and open(paths[0]).read().lstrip().startswith("<?xml")
    with pytest.raises(JSchedError):
        render_episode(inst, ["EDD"], str(tmp_path))
    with pytest.raises(JSchedError):
        render_episode(inst, ["SPT"], str(tmp_path), every=0)


def test_eval_rows_with_given_policy(trained):
    policy = agent.load_policy(trained[1])
    insts = {f"t{k}": tiny_instance(10 + k) for k in range(2)}
    rows = evaluate(list(insts), [policy], instances=insts)
    for r in rows:
        assert r["best_rule_makespan"] == min(r[n] for n in R.RULES)
        assert r["hh"] >= 1 and "hh_gap_to_best_rule" in r
    assert "agent vs best rule" in format_table(rows)


def test_shipped_15x15_agent_solves_ta01_within_target():
    """The issue's acceptance check: the shipped agent's greedy ta01 schedule is valid and <= 1454."""
    from jsched.hh.instances import taillard

    assert (15, 15) in agent.shipped_sizes()
    policy = agent.load_policy(agent.shipped_policy_path(15, 15))
    inst = taillard("ta01")
    start, ms, rules, mode = policy.solve(inst)
    assert mode == "greedy" and set(rules) <= set(R.RULES)
    assert validate(inst, Schedule.from_arrays(inst, start)).makespan == ms
    assert ms <= 1454


def test_cli_solve_with_policy_and_errors(trained, tmp_path, capsys):
    import json

    from jsched.cli import main
    from jsched.instances import write_instance

    inst = tiny_instance(9)
    path = tmp_path / "tiny.jsp"
    write_instance(inst, path)
    out = tmp_path / "s.json"
    assert main(["solve", str(path), "--method", "hh", "--hh-policy", trained[1], "--hh-samples", "2",
                 "--out", str(out)]) == 0
    payload = json.load(open(out))
    assert payload["method"] == "hh" and payload["agent"] == f"{J}x{M}" and len(payload["operations"]) == J * M
    assert main(["solve", str(path), "--method", "hh", "--hh-policy", str(tmp_path / "none.msgpack")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert main(["train", "hh", "--size", "3y"]) == 2
