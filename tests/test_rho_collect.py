"""``jsched rho collect`` keeps finished instances when a worker dies, and ``--resume`` collects
only the rest (the dataset is then the same as an uninterrupted run's).

The oracle is replaced by a fast fake with the same return shape; the spawned pool workers import
this module to find it, so it imports little.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from jsched.cli import main
from jsched.errors import CheckpointError, JSchedError
from jsched.rho import collect as rc
from jsched.rho.features import MACHINE_FEATURES, OP_FEATURES, WindowFeatures

DIES = 2  # the seed whose worker process dies


def fake_instance(setting, seed, config):
    """What collect_instance returns, drawn from the seed (seed 1: no window at all)."""
    rng = np.random.default_rng(seed)
    feats, labels = [], []
    for _ in range(0 if seed == 1 else 1 + seed % 3):
        k, m = int(rng.integers(2, 6)), int(rng.integers(1, 4))
        ov = np.r_[True, rng.random(k - 1) < 0.5]
        feats.append(WindowFeatures(rng.random((k, len(OP_FEATURES))).astype(np.float32),
                                    rng.random((m, len(MACHINE_FEATURES))).astype(np.float32), ov,
                                    np.where(ov, rng.integers(0, m, k), -1)))  # fmt: skip
        labels.append((rng.random(int(ov.sum())) < 0.5).astype(np.float32))
    return feats, labels, {"seed": seed, "objective": 100 + seed, "solve_time": 0.25 * seed, "total_time": 0.5}


def dying_instance(setting, seed, config):
    if seed == DIES:
        time.sleep(1.0)  # the other instances started before finish first
        os._exit(3)  # as a worker killed by the OOM killer or a segfault in a solver
    return fake_instance(setting, seed, config)


def _collect_args(out, *extra):
    return ["rho", "collect", "--setting", "tiny", "--seeds", "0-5", "--H", "8", "--S", "4", "--out", str(out), *extra]


def test_dead_worker_keeps_finished_instances_and_resume_collects_the_rest(monkeypatch, tmp_path, capsys):
    out = tmp_path / "d.npz"
    parts = rc.parts_dir(out)
    monkeypatch.setattr(rc, "collect_instance", dying_instance)
    assert main(_collect_args(out, "--processes", "2")) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar: one line
    assert "BrokenProcessPool" in err and "--resume" in err and parts in err
    assert not out.exists()
    kept = sorted(int(f[5:-4]) for f in os.listdir(parts))
    assert {0, 1} <= set(kept) and DIES not in kept  # seed 1's shard holds no window: kept all the same

    assert main(_collect_args(out)) == 2  # without --resume the kept labels are not thrown away
    assert "pass --resume" in capsys.readouterr().err
    calls = []
    monkeypatch.setattr(rc, "collect_instance", lambda st, s, c: calls.append(s) or fake_instance(st, s, c))
    assert main(_collect_args(out, "--resume")) == 0
    assert sorted(calls) == [s for s in range(6) if s not in kept]
    assert not os.path.exists(parts)  # removed once the dataset holds them

    got, meta = rc.load_dataset(str(out))
    calls.clear()
    assert main(_collect_args(tmp_path / "straight.npz")) == 0 and calls == list(range(6))
    want, want_meta = rc.load_dataset(str(tmp_path / "straight.npz"))
    assert " --resume " in meta.pop("commands")[0]
    assert got.keys() == want.keys() and want_meta.pop("commands") and meta == want_meta
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_resume_refuses_shards_of_other_options(monkeypatch, tmp_path, capsys):
    from jsched.rho.loop import RHOConfig

    out = tmp_path / "d.npz"
    parts = rc.parts_dir(out)
    calls = []

    def fails_on_3(st, s, c):
        if s == 3:
            raise RuntimeError("solver blew up\nsecond line")
        calls.append(s)
        return fake_instance(st, s, c)

    monkeypatch.setattr(rc, "collect_instance", fails_on_3)
    assert main(_collect_args(out)) == 2
    err = capsys.readouterr().err
    assert "1 of 6 instances failed (seed 3: RuntimeError: solver blew up)" in err and "second line" not in err
    assert calls == [0, 1, 2, 4, 5]  # the others still ran, and were kept
    assert main(_collect_args(out, "--resume", "--H", "9")) == 2
    assert "collected with other options (H)" in capsys.readouterr().err
    with open(os.path.join(parts, "seed-0.npz"), "wb") as fh:
        fh.write(b"torn")
    with pytest.raises(CheckpointError, match="not a readable collect shard"):
        rc.load_shard(parts, 0, "tiny", RHOConfig())
    with pytest.raises(JSchedError, match="resume needs the parts folder"):
        rc.collect(rc.CollectConfig(setting="tiny", seeds="0", resume=True), RHOConfig(), progress=False)
    assert main(["rho", "tiny:0", "--resume"]) == 2
    assert "--resume does not apply to a solve" in capsys.readouterr().err
