"""RHO / L-RHO: generators, the loop and its variants, oracle labels, online settings, network,
training, the ``rho`` / ``lrho`` methods and the ``jsched rho`` alias."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jsched import api, cpsat
from jsched.cli import main
from jsched.errors import CheckpointError, JSchedError, ScheduleError
from jsched.instances import FJSPInstance
from jsched.rho import generators, loop, method
from jsched.rho.breakdown import merged_windows, validate_with_breakdowns
from jsched.rho.collect import CollectConfig, collect, load_dataset, save_dataset
from jsched.rho.features import MACHINE_FEATURES, OP_FEATURES, feature_names, pad_batch, window_features
from jsched.rho.loop import RHOConfig, WindowState, oracle_labels, run_rho
from jsched.rho.net import LRHONet, Predictor, load_model, weighted_bce
from jsched.rho.train import TrainConfig, train
from jsched.schedule import validate
from jsched.seeds import parse_seeds

FAST = dict(H=8, S=4, T=2.0, stop_after=0.0, workers=1)


@pytest.fixture(scope="module")
def tiny():
    return generators.setting_instance("tiny", 0)


@pytest.fixture
def spy(monkeypatch):
    """Record every cpsat.solve call made by the loop: (kwargs, result)."""
    calls = []
    real = cpsat.solve

    def wrapped(instance, objective="makespan", **kw):
        out = real(instance, objective, **kw)
        calls.append((instance, kw, out))
        return out

    monkeypatch.setattr(loop.cpsat, "solve", wrapped)
    return calls


# ------------------------------------------------------------------ generators


def test_generators_seeded_and_shaped():
    a = generators.makespan_instance(np.random.default_rng(3), 5, 4, 6)
    b = generators.makespan_instance(np.random.default_rng(3), 5, 4, 6)
    assert a.n_ops == 30 and np.array_equal(a.durations, b.durations) and np.array_equal(a.eligible, b.eligible)
    p = a.durations[a.eligible]
    assert p.min() >= 1 and p.max() <= 99
    r = generators.makespan_instance(np.random.default_rng(0), 6, 4, (3, 8))
    assert ((r.job_lengths >= 3) & (r.job_lengths <= 8)).all()
    d = generators.delay_instance(np.random.default_rng(1), 6, 4, 10)
    assert d.eligible.all() and d.due is not None and (d.due >= d.release).all()
    for j in range(d.n_jobs):
        rel = d.release[d.op_job == j]
        assert (np.diff(rel) >= 0).all()
    p = d.durations
    assert p.min() >= 3 and p.max() <= 9 + 21 - 1
    bd = generators.breakdowns(np.random.default_rng(0), 10, 2000, "high")
    assert all(e - s == 50 for _, s, e in bd) and len({s for _, s, _ in bd}) * 5 == len(bd)
    iid = generators.breakdowns(np.random.default_rng(0), 10, 20000, "high", machines="iid")
    per_event = np.bincount(np.unique([s for _, s, _ in iid], return_inverse=True)[1])
    assert per_event.min() != per_event.max() and abs(len(iid) / len({s for _, s, _ in iid}) - 5) < 1.5


# ------------------------------------------------------------------ loop and variants


@pytest.mark.parametrize("variant", ["default", "warm", "first", "random", "oracle", "lrho"])
def test_variants_valid_and_boundaries_respected(tiny, spy, variant):
    cfg = RHOConfig(variant=variant, oracle_k=2, **FAST)
    pred = (lambda st: np.ones(int(st.overlap.sum()))) if variant == "lrho" else None
    res = run_rho(tiny, cfg, predictor=pred)
    validate(tiny, res.schedule)
    assert res.n_windows >= 3 and res.objective == res.schedule.makespan
    for inst, kw, out in spy:
        b = kw["boundary"]
        f = inst
        assert (out.start >= b.job_ready[f.op_job[out.ops]]).all()
        assert (out.start >= b.machine_ready[out.machine]).all()
        for r, (m, _) in kw.get("fix", {}).items():
            assert out.machine[np.searchsorted(out.ops, r)] == m  # fixed ops keep their machine
    assert sum(len(kw.get("fix") or {}) for _, kw, _ in spy) == res.n_fixed
    if variant in ("default", "warm"):
        assert res.n_fixed == 0
    if variant == "lrho":
        assert res.n_fixed == res.n_overlap > 0
    if variant == "warm":
        assert any(kw["hints"] for _, kw, _ in spy)


def test_first_fixes_the_earliest_fraction(tiny, spy):
    run_rho(tiny, RHOConfig(variant="first", p=0.5, **FAST))
    prev_window = None
    for _, kw, out in spy:
        w = list(kw["ops"])
        if prev_window is not None:
            overlap = [r for r in w if r in prev_window]
            assert sorted(kw["fix"]) == sorted(overlap[: int(round(0.5 * len(overlap)))])
        prev_window = set(out.ops.tolist())


def test_lrho_requires_predictor(tiny):
    with pytest.raises(JSchedError, match="trained model"):
        run_rho(tiny, RHOConfig(variant="lrho", **FAST))
    with pytest.raises(JSchedError, match="variant must be one of"):
        api.solve(tiny, method="rho", variant="nope")
    with pytest.raises(JSchedError, match="S <= H"):
        RHOConfig(H=4, S=5)
    with pytest.raises(JSchedError, match="fixes variant"):
        api.solve(tiny, method="lrho", variant="default")
    with pytest.raises(JSchedError, match="checkpoint is the L-RHO model"):
        api.solve(tiny, method="rho", checkpoint="m.msgpack")


def test_whole_problem_in_one_window_equals_cpsat(tiny):
    res = run_rho(tiny, RHOConfig(H=tiny.n_ops, S=1, T=20.0, stop_after=0.0, workers=1))
    full = cpsat.solve(tiny, options=cpsat.CPSatOptions(time_limit=20.0, num_workers=1))
    assert res.n_windows == 1 and res.objective == full.objective


def test_delay_objective_loop():
    f = generators.delay_instance(np.random.default_rng(0), 4, 3, 6)
    res = run_rho(f, RHOConfig(objective="start_end_delay", **FAST))
    validate(f, res.schedule)
    s = res.schedule
    expect = int((s.start - f.release).sum() + np.maximum(0, s.end - f.due).sum())
    assert res.objective == expect


# ------------------------------------------------------------------ oracle


def test_oracle_labels_hand_made():
    # A is fastest on machine 0 and was there (keep); B is fastest on machine 1 but was on 0 (change).
    f = FJSPInstance("o", 2, [1, 1], [[1, 10], [10, 1]], np.ones((2, 2), bool))
    st = WindowState(
        f,
        window=np.array([0, 1]),
        overlap=np.array([True, True]),
        prev_machine=np.array([0, 0]),
        prev_start=np.array([0, 1]),
        prev_end=np.array([1, 11]),
        job_ready=np.zeros(2, np.int64),
        machine_ready=np.zeros(2, np.int64),
    )
    for pick in ("overlap", "objective", "min-change", "consensus", "majority"):
        cfg = RHOConfig(oracle_k=3, oracle_pick=pick, **FAST)
        assert oracle_labels(st, cfg).tolist() == [1, 0]
    with pytest.raises(JSchedError, match="min-change applies to the makespan"):
        RHOConfig(oracle_pick="min-change", objective="start_delay")
    # three re-solves that disagree (machines of ops 0-2, objective): each pick's labels
    solves = [([0, 0, 1], 9), ([0, 1, 0], 5), ([1, 0, 0], 7)]
    st3 = WindowState(f, window=np.arange(3), overlap=np.ones(3, bool), prev_machine=np.zeros(3, np.int64),
                      prev_start=np.zeros(3), prev_end=np.ones(3), job_ready=np.zeros(2, np.int64),
                      machine_ready=np.zeros(2, np.int64))  # fmt: skip
    for pick, labels in {"objective": [1, 0, 1], "overlap": [1, 0, 1], "consensus": [0, 0, 0],
                         "majority": [1, 1, 1]}.items():  # fmt: skip
        trials = iter(solves)

        def fake_solve(*args, **kw):
            machine, objective = next(trials)
            return SimpleNamespace(ops=np.arange(3), machine=np.array(machine), objective=objective)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(loop, "_solve_window", fake_solve)
            assert oracle_labels(st3, RHOConfig(oracle_k=3, oracle_pick=pick, **FAST)).tolist() == labels, pick


def test_oracle_fixes_its_labels(tiny):
    seen = []
    res = run_rho(tiny, RHOConfig(variant="oracle", oracle_k=2, **FAST), recorder=lambda st, lab: seen.append(lab))
    assert len(seen) == res.n_windows - 1  # every window but the first has an overlap
    assert res.n_fixed == sum(int(x.sum()) for x in seen)


# ------------------------------------------------------------------ online settings


def test_noise_execution_stays_feasible(tiny, spy):
    cfg = RHOConfig(noise_prob=1.0, noise_low=-5, noise_high=20, **FAST)
    res = run_rho(tiny, cfg)
    validate(tiny, res.schedule)  # true durations
    noisy = [inst for inst, _, _ in spy if not np.array_equal(inst.durations, tiny.durations)]
    assert noisy
    changed = np.concatenate([i.durations[(i.durations != tiny.durations) & tiny.eligible] for i in noisy])
    hi = tiny.durations[tiny.eligible].max()
    assert changed.min() >= 3 and changed.max() <= hi  # [3, 30] widened to the instance's durations


@pytest.mark.parametrize("setting, clip", [("dl-400", (3, 30)), ("mk-400", (1, 99))])
def test_noise_clip_is_the_authors_widened_to_the_instance(setting, clip):
    f = generators.setting_instance(setting, 0)
    cfg = RHOConfig(noise_prob=1.0, noise_low=-40, noise_high=40, S=0)
    seen = loop._observe(f, np.arange(f.n_ops), cfg, np.random.default_rng(0)).durations[f.eligible]
    assert (seen.min(), seen.max()) == clip  # the delay setting keeps the spec's [3, 30]; p up to 99 is not cut to 30


def _runs_while_down(s, bd):
    return [(m, lo, hi) for m, lo, hi in bd if ((s.machine == m) & (s.start < hi) & (s.end > lo) & (s.end > s.start)).any()]


def test_breakdowns_respected_and_reoptimised(tiny):
    base = run_rho(tiny, RHOConfig(**FAST))
    # Break down every machine in the middle of the base schedule: every op waits for the repair.
    t = int(np.median(base.schedule.start))
    bd = [(m, t, t + 30) for m in range(tiny.n_machines)]
    res = run_rho(tiny, RHOConfig(**FAST), breakdowns=bd)
    s = validate_with_breakdowns(tiny, res.schedule, bd)
    assert not _runs_while_down(s, bd)
    kinds = [(k, time) for k, time, _, _ in res.events]
    assert kinds == [("breakdown", t), ("recovery", t + 30)]
    assert not ((s.start >= t) & (s.start < t + 30)).any()  # nothing starts while all are down


def test_validate_with_breakdowns_sees_down_windows(tiny):
    s = run_rho(tiny, RHOConfig(**FAST)).schedule
    m, lo, hi = int(s.machine[0]), int(s.start[0]), int(s.end[0])
    free = [(k, s.makespan, s.makespan + 9) for k in range(tiny.n_machines)] + [(m, 0, int(s.start[s.machine == m].min()))]
    assert validate_with_breakdowns(tiny, s, free) is s
    for win in ([(m, lo, hi)], [(m, hi - 1, hi + 40), (m, hi + 10, hi + 50)], [(m, lo - 10 if lo >= 10 else 0, lo + 1)]):
        with pytest.raises(ScheduleError, match="machine breakdown"):
            validate_with_breakdowns(tiny, s, win)
    assert merged_windows([(0, 5, 10), (0, 8, 12), (1, 0, 3), (0, 12, 13)]) == [(0, 5, 13), (1, 0, 3)]
    with pytest.raises(JSchedError, match="machine 9"):
        run_rho(tiny, RHOConfig(**FAST), breakdowns=[(9, 0, 5)])


def test_breakdown_interrupts_running_op_and_keeps_the_clock(tiny):
    cfg = RHOConfig(H=tiny.n_ops, S=tiny.n_ops, T=5.0, stop_after=0.0, workers=1)
    base = run_rho(tiny, cfg).schedule  # one window: the plan is the schedule
    i = int(np.argmax(base.end - base.start))
    m, t = int(base.machine[i]), int(base.start[i]) + 1
    bd = [(m, t, t + 20)]
    res = run_rho(tiny, cfg, breakdowns=bd)
    s = validate_with_breakdowns(tiny, res.schedule, bd)
    assert res.n_interrupted >= 1 and [e[0] for e in res.events] == ["breakdown", "recovery"]
    assert s.start[i] >= t + 20 or s.machine[i] != m  # restarted from scratch after the event
    assert s.start[i] >= t
    before = base.start < t  # started before the breakdown: kept as planned unless interrupted
    kept = before & ~((base.machine == m) & (base.end > t))
    assert np.array_equal(s.start[kept], base.start[kept]) and np.array_equal(s.machine[kept], base.machine[kept])
    assert (s.start[~kept] >= t).all()  # no op starts before the clock


def test_breakdown_defers_ops_without_an_up_machine(spy):
    # Job 0 runs only on machine 0, which is down [0, 40); jobs 1-2 can use machine 1.
    dur = np.array([[5, 0], [4, 0], [3, 3], [6, 2], [2, 4], [3, 5]])
    inst = FJSPInstance("bd", 2, [2, 2, 2], dur, dur > 0)
    bd = [(0, 0, 40)]
    res = run_rho(inst, RHOConfig(H=4, S=2, T=2.0, stop_after=0.0, workers=1), breakdowns=bd)
    s = validate_with_breakdowns(inst, res.schedule, bd)
    assert (s.start[s.job == 0] >= 40).all() and not _runs_while_down(s, bd)
    down_calls = [kw for _, kw, _ in spy if kw.get("allowed") is not None]
    assert down_calls  # the planner saw machine 0 as unusable...
    for kw in down_calls:
        assert not kw["allowed"][:, 0].any() and not set(kw["ops"]) & {0, 1}  # ...and deferred job 0


@pytest.mark.parametrize("variant", ["first", "warm", "oracle"])
def test_breakdowns_never_fix_or_hint_a_down_machine(tiny, spy, variant):
    bd = generators.breakdowns(np.random.default_rng(4), tiny.n_machines, 400, "high")
    res = run_rho(tiny, RHOConfig(variant=variant, p=1.0, oracle_k=1, **FAST), breakdowns=bd)
    validate_with_breakdowns(tiny, res.schedule, bd)
    assert any(k == "breakdown" for k, *_ in res.events)
    for _, kw, out in spy:
        up = np.ones(tiny.n_machines, bool) if kw.get("allowed") is None else kw["allowed"][0]
        for key in ("fix", "hints"):
            for m, _ in (kw.get(key) or {}).values():
                assert up[m]
        assert up[out.machine].all()


def test_breakdown_runs_are_seeded(tiny):
    bd1 = generators.breakdowns(np.random.default_rng(7), tiny.n_machines, 600, "mid")
    assert bd1 == generators.breakdowns(np.random.default_rng(7), tiny.n_machines, 600, "mid")
    cfg = RHOConfig(variant="random", **FAST)
    a, b = run_rho(tiny, cfg, breakdowns=bd1), run_rho(tiny, cfg, breakdowns=bd1)
    assert np.array_equal(a.schedule.start, b.schedule.start) and np.array_equal(a.schedule.machine, b.schedule.machine)
    assert a.events == b.events


# ------------------------------------------------------------------ features, network, training


def test_features_and_padding(tiny):
    states = []
    run_rho(tiny, RHOConfig(variant="oracle", oracle_k=1, **FAST), recorder=lambda st, lab: states.append((st, lab)))
    st, lab = states[0]
    wf = window_features(st, 8)
    assert wf.op.shape == (len(st.window), len(OP_FEATURES)) and wf.machine.shape == (3, len(MACHINE_FEATURES))
    assert np.isfinite(wf.op).all() and np.isfinite(wf.machine).all()
    assert (wf.op[:, OP_FEATURES.index("overlap")] == np.where(st.overlap, 1, -1)).all()
    b = pad_batch([wf], 12, 4, [lab])
    assert b["op_x"].shape == (1, 12, len(OP_FEATURES)) and b["op_mask"].sum() == len(st.window)
    assert b["labels"][0][: len(st.window)][st.overlap].tolist() == list(lab)
    empty = pad_batch([], 12, 4, [], breakdown=True)  # a breakdown collect without windows keeps its widths
    assert empty["op_x"].shape == (0, 12, len(feature_names(True)[0])) and empty["m_x"].shape[-1] == len(feature_names(True)[1])
    with pytest.raises(ValueError, match="features"):
        pad_batch([wf], 12, 4, breakdown=True)


def test_breakdown_features_hand_made(tiny):
    states = []
    run_rho(tiny, RHOConfig(variant="oracle", oracle_k=1, **FAST), recorder=lambda st, lab: states.append(st))
    st = next(x for x in states if x.overlap.any())
    m = int(st.prev_machine[st.overlap][0])
    up, rec = np.ones(3, bool), np.zeros(3, bool)
    up[m] = False
    rec[(m + 1) % 3] = True
    bd = dataclasses.replace(st, machine_up=up, machine_recovered=rec)
    ops, machines = feature_names(True)
    wf, base = window_features(bd, 8, breakdown=True), window_features(bd, 8)
    assert wf.op.shape[1] == len(ops) == len(OP_FEATURES) + 3 and wf.machine.shape[1] == len(machines) == len(MACHINE_FEATURES) + 2
    assert np.array_equal(wf.op[:, : len(OP_FEATURES)], base.op) and np.array_equal(wf.machine[:, : len(MACHINE_FEATURES)], base.machine)
    col = {n: wf.op[:, i] for i, n in enumerate(ops)}
    assert (col["bd_any"] == 1).all()
    assert np.array_equal(col["bd_prev_down"], (st.overlap & (st.prev_machine == m)).astype(np.float32))
    assert np.array_equal(col["bd_recovered"], tiny.eligible[st.window][:, (m + 1) % 3].astype(np.float32))
    assert wf.machine[:, -1].tolist() == [float(k == m) for k in range(3)] and (wf.machine[:, -2] == 1).all()
    quiet = window_features(st, 8, breakdown=True)  # no breakdown: the flags are all 0
    assert not quiet.op[:, len(OP_FEATURES):].any() and not quiet.machine[:, len(MACHINE_FEATURES):].any()


def test_loop_tells_the_window_which_machines_were_repaired(tiny):
    states = []
    bd = [(0, 10, 30)]
    res = run_rho(tiny, RHOConfig(variant="oracle", oracle_k=1, **FAST), breakdowns=bd,
                  recorder=lambda st, lab: states.append(st))  # fmt: skip
    validate_with_breakdowns(tiny, res.schedule, bd)
    rec = [st.machine_recovered.tolist() for st in states]
    assert rec.count([True, False, False]) == 1 and all(r in ([False] * 3, [True, False, False]) for r in rec)
    first = rec.index([True, False, False])
    assert states[first].machine_up.all() and not states[first - 1].machine_up[0]


def test_net_padding_invariance_and_vmap():
    net = LRHONet(16)
    rng = np.random.default_rng(0)
    K, M = 5, 3
    op_x = rng.normal(size=(K, len(OP_FEATURES))).astype(np.float32)
    m_x = rng.normal(size=(M, len(MACHINE_FEATURES))).astype(np.float32)
    prev = np.array([0, 2, -1, 1, -1])
    params = net.init(jax.random.PRNGKey(0), op_x, np.ones(K, bool), m_x, np.ones(M, bool), prev)
    base = net.apply(params, op_x, np.ones(K, bool), m_x, np.ones(M, bool), prev)
    # Pad ops to 8 and machines to 5 with garbage: real outputs unchanged.
    op_p = np.concatenate([op_x, 9 * np.ones((3, op_x.shape[1]), np.float32)])
    m_p = np.concatenate([m_x, 9 * np.ones((2, m_x.shape[1]), np.float32)])
    om = np.arange(8) < K
    mm = np.arange(5) < M
    padded = jax.jit(net.apply)(params, op_p, om, m_p, mm, np.concatenate([prev, [4, 4, 4]]))
    np.testing.assert_allclose(padded[:K], base, rtol=1e-5, atol=1e-5)
    batched = jax.vmap(net.apply, in_axes=(None, 0, 0, 0, 0, 0))(
        params, np.stack([op_p, op_p]), np.stack([om, om]), np.stack([m_p, m_p]), np.stack([mm, mm]),
        np.stack([np.concatenate([prev, [0, 0, 0]])] * 2),
    )  # fmt: skip
    np.testing.assert_allclose(batched[1, :K], base, rtol=1e-5, atol=1e-5)


def test_weighted_bce_matches_formula():
    x = jnp.array([2.0, -1.0, 0.5])
    y = jnp.array([1.0, 0.0, 1.0])
    m = jnp.array([True, True, False])
    s = 1 / (1 + np.exp(-np.array([2.0, -1.0])))
    expect = (-(0.5 * np.log(s[0])) - np.log(1 - s[1])) / 2
    assert abs(float(weighted_bce(x, y, m, 0.5)) - expect) < 1e-6


def _tiny(seeds: str, **kw) -> CollectConfig:
    return CollectConfig(setting="tiny", seeds=seeds, **kw)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    cfg = RHOConfig(oracle_k=2, **FAST)
    arrays, meta = collect(_tiny("0-2"), cfg, progress=False)
    path = str(tmp_path_factory.mktemp("data") / "tiny.npz")
    save_dataset(path, arrays, meta)
    return path


def test_collect_dataset_round_trip(dataset, tmp_path):
    arrays, meta = load_dataset(dataset)
    assert meta["setting"] == "tiny" and len(arrays["labels"]) > 0
    assert set(np.unique(arrays["instance"])) <= {0, 1, 2}
    assert (arrays["labels"][~arrays["overlap"]] == 0).all()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError):
        load_dataset(str(bad))
    assert parse_seeds("0-2,5") == [0, 1, 2, 5]
    for bad in ("5-1", "", "1,1"):
        with pytest.raises(JSchedError, match="seeds"):
            parse_seeds(bad)
    with pytest.raises(JSchedError, match="cannot read"):
        parse_seeds("a-b")


def test_collect_process_pool_matches_serial():
    cfg = RHOConfig(oracle_k=1, **FAST)
    a, _ = collect(_tiny("3"), cfg, progress=False)
    b, _ = collect(_tiny("3,4", processes=2), cfg, progress=False)
    assert len(b["labels"]) > len(a["labels"]) and (b["instance"] == 3).sum() == len(a["labels"])


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # ray.init starts its daemons (fork + exec)
def test_collect_ray_backend_matches_process_pool():
    pytest.importorskip("ray")
    cfg = RHOConfig(oracle_k=1, **FAST)
    a, _ = collect(_tiny("3,4"), cfg, progress=False)
    b, meta = collect(_tiny("3,4", processes=2, backend="ray"), cfg, progress=False)
    assert meta["backend"] == "ray" and a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_collect_ray_backend_missing_is_a_clear_error(monkeypatch, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as when not installed
    with pytest.raises(JSchedError, match="ray, which is not installed"):
        collect(_tiny("0", backend="ray"), RHOConfig(**FAST), progress=False)
    with pytest.raises(JSchedError, match="unknown collect backend"):
        collect(_tiny("0", backend="dask"), RHOConfig(**FAST), progress=False)
    args = ["rho", "collect", "--setting", "tiny", "--seeds", "0", "--backend", "ray", "--out", str(tmp_path / "x.npz")]
    assert main(args) == 2 and "not installed" in capsys.readouterr().err


def _train_config(dataset, out, epochs, **kw) -> TrainConfig:
    return TrainConfig(dataset=dataset, out=str(out), epochs=epochs, batch_size=8, lr=1e-3, hidden=8, progress=False, **kw)


def test_train_model_predictor_and_resume(dataset, tmp_path, tiny):
    run = tmp_path / "run"
    r = train(_train_config(dataset, run, 3), jax.random.key(5))
    assert r["updates"] == 3 and 0.0 <= r["last"]["val_accuracy"] <= 1.0
    model = load_model(r["model"], "makespan")
    assert model.config.hidden == 8 and model.objective == "makespan"
    assert model.meta["setting"] == "tiny" and model.meta["seed"] == 5 and 1 <= model.meta["epoch"] <= 3
    assert model.meta["train_seeds"] == [0, 1, 2] and model.meta["val_seeds"] == []  # 3 instances: none held out
    res = run_rho(tiny, RHOConfig(variant="lrho", **FAST), predictor=Predictor(r["model"], 8, "makespan"))
    validate(tiny, res.schedule)
    out = api.solve(tiny, method="lrho", checkpoint=r["model"], **FAST)
    assert out.extra["variant"] == "lrho" and out.extra["fixed_ops"] <= out.extra["overlap_ops"]
    # Resume with more epochs: one more, the same as a 4-epoch run from scratch.
    r2 = train(_train_config(dataset, run, 4, resume=True), jax.random.key(5))
    assert r2["updates"] == 4
    fresh = train(_train_config(dataset, tmp_path / "fresh", 4), jax.random.key(5))
    a, b = load_model(r2["model"]), load_model(fresh["model"])
    assert all(np.allclose(x, y, atol=1e-6) for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params)))
    with pytest.raises(JSchedError, match="needs dataset"):
        train(TrainConfig(out=str(tmp_path / "none")), jax.random.key(0))
    via_api = api.train("lrho", dataset=dataset, out=str(tmp_path / "api"), epochs=1, hidden=8, progress=False)
    assert via_api["updates"] == 1 and load_model(via_api["model"]).meta["seed"] == 0


def test_breakdown_model_collects_trains_and_solves(dataset, tmp_path, tiny):
    cfg = RHOConfig(oracle_k=1, breakdowns="high", **FAST)
    arrays, meta = collect(_tiny("0-1"), cfg, progress=False)
    assert meta["op_features"] == list(feature_names(True)[0]) and arrays["op_x"].shape[-1] == len(OP_FEATURES) + 3
    path = str(tmp_path / "bd.npz")
    save_dataset(path, arrays, meta)
    r = train(_train_config(path, tmp_path / "run", 1), jax.random.key(0))
    model = load_model(r["model"], "makespan")
    assert model.config.breakdown == 1 and model.config.n_machine_features == len(MACHINE_FEATURES) + 2
    out = api.solve(tiny, method="lrho", checkpoint=r["model"], breakdowns="high", **FAST)
    assert out.extra["variant"] == "lrho"
    with pytest.raises(CheckpointError, match="breakdown features"):
        train(_train_config(f"{dataset},{path}", tmp_path / "mixed", 1), jax.random.key(0))


def test_data_trend_bench_splits_pool_validation_and_test(dataset, tmp_path, monkeypatch):
    import json
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import rho_data

    out = tmp_path / "trend.json"
    args = ["--dataset", dataset, "--val", "1", "--test", "1", "--sizes", "1", "--seeds", "0,1", "--epochs", "2", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["rho_data.py", *args])
    rho_data.main()
    doc = json.loads(out.read_text())
    assert (doc["pool"], doc["validation"], doc["test"]) == ([0], [1], [2])  # by seed: pool, validation, test
    assert [(r["instances"], r["seed"]) for r in doc["rows"]] == [(1, 0), (1, 1)]
    assert all(0 <= r["test"]["accuracy"] <= 1 and r["test"]["n"] == doc["keep_all"]["n"] > 0 for r in doc["rows"])
    monkeypatch.setattr(sys, "argv", ["rho_data.py", *args, "--plot"])
    rho_data.main()
    assert (tmp_path / "trend.png").stat().st_size > 0
    monkeypatch.setattr(sys, "argv", ["rho_data.py", *args[:-2], "--sizes", "2", "--out", str(out)])
    with pytest.raises(SystemExit, match="leave 1 to train on"):
        rho_data.main()


def test_seed_spread_bench_runs_default_and_models_in_both_modes(tmp_path, monkeypatch, capsys):
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import rho_seeds

    out = tmp_path / "seeds.json"
    monkeypatch.setattr(sys, "argv", ["rho_seeds.py", "--seeds", "0-1", "--T", "1", "--models", "shipped", "--out", str(out)])
    rho_seeds.main()
    rows = json.loads(out.read_text())["rows"]
    assert [(r["arm"], r["deterministic"]) for r in rows] == [(a, d) for d in (False, True) for a in ("default", "shipped")]
    assert all(len(r["makespans"]) == 2 and r["mean"] >= 40 for r in rows)  # mk01's optimum is 40
    assert rows[0]["p_vs_default"] is None and rows[1]["p_vs_default"] is not None
    assert "<= bound" in capsys.readouterr().out


def test_data_trend_bench_scores_given_models(dataset, tmp_path, monkeypatch, capsys):
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import rho_data

    model = api.train("lrho", dataset=dataset, out=str(tmp_path / "run"), epochs=1, hidden=8, progress=False)["model"]
    monkeypatch.setattr(sys, "argv", ["rho_data.py", "--dataset", dataset, "--val", "1", "--score", model])
    rho_data.main()
    out = capsys.readouterr().out
    assert "validation instances [2]: keep-all accuracy" in out and f"{model}: accuracy" in out and "AUC" in out


def test_rho_bench_online_settings(tmp_path, monkeypatch):
    import json
    import sys
    from argparse import Namespace
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import rho as rho_bench

    out = tmp_path / "b.json"
    args = ["--setting", "tiny", "--seeds", "0", "--H", "8", "--S", "4", "--T", "1", "--workers", "1",
            "--variants", "default", "--model", "none", "--no-full", "--noise", "0.3", "--out", str(out)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["rho.py", *args])
    rho_bench.main()
    doc = json.loads(out.read_text())
    assert doc["args"]["noise"] == 0.3 and doc["args"]["objective"] == "makespan" and len(doc["runs"]) == 1
    name = rho_bench._name(Namespace(setting="dl-400", objective="start_end_delay", noise=0.2, breakdowns="low"))
    assert name == "dl-400-start-end-delay-noise0.2-breakdowns-low"
    for bad in (["--objective", "start_delay"], ["--variants", "default,lrho-cand"]):  # makespan setting; no --candidate
        monkeypatch.setattr(sys, "argv", ["rho.py", "--setting", "tiny", *bad])
        with pytest.raises(SystemExit):
            rho_bench.main()


def test_model_errors(tmp_path, tiny):
    dl = method.shipped_model("start_delay")
    assert load_model(dl, "start_end_delay").objective == "start_delay"  # a delay model loads for either delay objective
    with pytest.raises(CheckpointError, match="start_delay objective; this run's objective is makespan"):
        api.solve(tiny, method="lrho", checkpoint=dl, **FAST)
    (tmp_path / "bad.msgpack").write_bytes(b"\x00garbage")
    for path, msg in ((tmp_path / "bad.msgpack", "corrupt"), (tmp_path / "none.msgpack", "not found")):
        with pytest.raises(CheckpointError, match=msg):
            load_model(str(path))


def test_shipped_models_solve(tiny):
    r = api.solve(tiny, method="lrho", seed=3, **FAST)
    assert r.method == "lrho" and r.extra["fixed_ops"] > 0 and r.objective == r.makespan
    d = generators.delay_instance(np.random.default_rng(0), 4, 3, 6)
    for objective in ("start_delay", "start_end_delay"):
        assert load_model(method.shipped_model(objective)).objective == objective  # each objective's own labels
        r = api.solve(d, method="lrho", objective=objective, **FAST)
        assert r.objective == r.extra["objective"] and f"objective_name={objective}" in r.line()
    # Under breakdowns the makespan objective has its own model (with the breakdown features).
    bd = method.shipped_model("makespan", "mid")
    assert bd.endswith("lrho-mk-400-bd.msgpack") and load_model(bd, "makespan").config.breakdown == 1
    assert method.shipped_model("start_delay", "mid") == method.shipped_model("start_delay")
    r = api.solve(tiny, method="lrho", breakdowns="high", **FAST)
    assert r.extra["breakdown_events"] > 0 and r.extra["fixed_ops"] <= r.extra["overlap_ops"]


# ------------------------------------------------------------------ CLI


def test_cli_rho_writes_valid_json(tmp_path, tiny, capsys):
    out = tmp_path / "s.json"
    rc = main(["rho", "tiny:0", "--variant", "random", "--H", "8", "--S", "4", "--T", "2", "--workers", "1", "--out", str(out),
               "--gantt", str(tmp_path / "g.png")])  # fmt: skip
    assert rc == 0 and (tmp_path / "g.png").stat().st_size > 0
    payload = json.loads(out.read_text())
    assert payload["method"] == "rho" and payload["variant"] == "random" and payload["windows"] >= 3
    from jsched.schedule import Schedule

    validate(tiny, Schedule.from_operations(payload["operations"]))
    assert "method=rho" in capsys.readouterr().out
    # The alias is jsched.solve(method="rho") with the same options and seed.
    again = api.solve(tiny, method="rho", variant="random", H=8, S=4, T=2.0, workers=1)
    assert again.to_json()["operations"] == payload["operations"]


def test_cli_rho_errors(tmp_path, capsys):
    assert main(["rho", "tiny:0", "--variant", "lrho", "--checkpoint", str(tmp_path / "none")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["rho", "tiny:0", "--H", "4", "--S", "5"]) == 2
    assert main(["rho", "tiny:0", "--setting", "tiny"]) == 2
    assert "--setting does not apply to a solve" in capsys.readouterr().err
    assert main(["rho", "collect", "--variant", "lrho", "--out", str(tmp_path / "x.npz")]) == 2
    assert "--variant does not apply to jsched rho collect" in capsys.readouterr().err
    assert main(["rho", "collect", "--setting", "tiny"]) == 2
    with pytest.raises(SystemExit):
        main(["rho", "collect", "--setting", "nope", "--out", str(tmp_path / "x.npz")])


def test_cli_collect_writes_dataset(tmp_path, capsys):
    out = tmp_path / "d.npz"
    args = ["rho", "collect", "--setting", "tiny", "--seeds", "0", "--oracle-k", "1", "--H", "8", "--S", "4", "--T", "2",
            "--stop-after", "0", "--workers", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 0 and "samples=" in capsys.readouterr().out
    arrays, meta = load_dataset(str(out))
    assert meta["config"]["variant"] == "oracle" and meta["config"]["objective"] == "makespan" and meta["seeds"] == [0]
    assert meta["commands"][0].startswith("jsched ") and "--oracle-k 1" in meta["commands"][0]
    bd = tmp_path / "bd.npz"
    assert main([*args[:-1], str(bd), "--breakdowns", "high"]) == 0  # labels under breakdowns
    assert load_dataset(str(bd))[1]["op_features"] == list(feature_names(True)[0])


def test_cli_breakdowns_json(tiny, tmp_path):
    from jsched.schedule import Schedule

    out = tmp_path / "bd.json"
    args = ["rho", "tiny:0", "--breakdowns", "high", "--breakdown-machines", "iid", "--H", "8", "--S", "4", "--T", "2", "--workers", "1"]
    assert main(args + ["--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    bd = [(b["machine"], b["start"], b["end"]) for b in payload["breakdowns"]]
    assert bd and payload["breakdown_events"] >= 2
    validate_with_breakdowns(tiny, Schedule.from_operations(payload["operations"]), bd)


@pytest.mark.parametrize("level", ["low", "mid", "high"])
def test_noise_and_breakdowns_together(tiny, level):
    bd = generators.breakdowns(np.random.default_rng(1), tiny.n_machines, 1500, level)
    res = run_rho(tiny, RHOConfig(noise_prob=1.0, noise_low=-5, noise_high=40, **FAST), breakdowns=bd)
    s = validate_with_breakdowns(tiny, res.schedule, bd)
    assert not _runs_while_down(s, bd)


def test_window_retry_on_unknown(tiny, monkeypatch):
    real = cpsat.solve
    calls = {"n": 0}

    def flaky(instance, objective="makespan", **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise cpsat.SolverError("CP-SAT on x (8 ops, makespan): UNKNOWN: no solution found within the limits")
        assert kw["options"].time_limit == 2 * FAST["T"] or calls["n"] > 2
        return real(instance, objective, **kw)

    monkeypatch.setattr(loop.cpsat, "solve", flaky)
    res = run_rho(tiny, RHOConfig(**FAST))
    validate(tiny, res.schedule)


def test_config_defaults_and_registry():
    c = method.Config()
    assert (c.variant, c.H, c.S, c.T, c.stop_after, c.objective, c.workers) == ("default", 80, 30, 60.0, 3.0, "makespan", 2)
    assert not c.pack  # the paper's window objective: Cmax of the window
    from jsched.registry import get

    assert get("lrho").offers("train") and not get("rho").offers("train")
    assert get("lrho").config("solve", H=100).variant == "lrho"
    assert RHOConfig(seed=4).options().random_seed == 4 and RHOConfig(stop_after=0).options().stop_after is None


def test_lrho_on_mk01_is_reproducible_and_within_44():
    """Issue 17's done-when, with deterministic window solves (they end before T): the run repeats."""
    inst = api.load("mk01")
    runs = [api.solve(inst, method="lrho", H=20, S=10, T=5.0, deterministic=True) for _ in range(2)]
    assert runs[0].makespan == runs[1].makespan <= 44
    assert runs[0].schedule.operations() == runs[1].schedule.operations()


def test_an_instance_within_one_window_says_rho_reduced_to_one_cpsat_solve():
    from jsched.instances.generators import sd2_fjsp

    inst = sd2_fjsp(3, 2, 0, name="tiny")
    r = api.solve(inst, method="rho", H=80, S=30, T=2.0)
    assert r.extra["windows"] == 1 and r.extra["reduced_to"] == "one_full_cpsat_solve" and "reduced_to=" in r.line()
