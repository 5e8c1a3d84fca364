"""Bench figures pass the validator: the helpers of ``bench/dfmeta.py``, ``bench/dfmeta_sweep.py``
and ``bench/dac_decoder.py`` build each reported schedule from the method's arrays, validate it,
and refuse a number that is not its schedule's."""

import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jsched.dac import ma
from jsched.dfmeta import baselines, daniel
from jsched.errors import ScheduleError
from jsched.instances.arrays import fjsp_params
from jsched.instances.generators import sd2_fjsp
from jsched.instances.pfsp import generate_cas
from jsched.kernels import pfsp as K
from jsched.rollout import rollout

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import dac_decoder  # noqa: E402
import dfmeta as dfmeta_bench  # noqa: E402
import dfmeta_sweep  # noqa: E402
import hh_validation  # noqa: E402


@pytest.fixture(scope="module")
def sampled():
    insts = [sd2_fjsp(3, 2, 5), sd2_fjsp(3, 2, 6)]
    params = daniel.init_params(jax.random.key(0))
    return insts, params, rollout(daniel.policy, params, daniel.ENV, insts, jax.random.key(1), "sample", 4)


def test_dfmeta_rollout_and_search_figures_are_validated(sampled):
    insts, _, res = sampled
    one = jax.tree.map(lambda x: np.asarray(x)[:1], res)
    ms = np.asarray(res.makespan)
    assert dfmeta_bench.validated_best(insts[0], one) == ms[0].min()
    with pytest.raises(ScheduleError):  # infeasible start times never reach a figure
        dfmeta_bench.validated_best(insts[0], one._replace(start=one.start * 0))
    # Active Search / EAS report a best cost and its actions: replayed, validated, compared.
    s = int(ms[0].argmin())
    fp = fjsp_params(insts[0])
    found = baselines.SearchResult(None, np.float32(ms[0, s]), np.asarray(res.actions)[0, s], None)
    assert dfmeta_bench.validated_search(insts[0], fp, found) == ms[0].min()
    with pytest.raises(ScheduleError, match="reported makespan"):
        dfmeta_bench.validated_search(insts[0], fp, found._replace(best_cost=np.float32(ms[0, s] - 1)))


def test_dfmeta_sweep_means_are_of_validated_schedules(sampled):
    insts, _, res = sampled
    np.testing.assert_array_equal(dfmeta_sweep.validated_makespans(insts, res), np.asarray(res.makespan))
    with pytest.raises(ScheduleError, match="differs"):
        dfmeta_sweep.validated_makespans(insts, res._replace(makespan=np.asarray(res.makespan) - 1))


@pytest.mark.parametrize("decoder", ["slack", "capped"])
def test_dac_decoder_emissions_are_validated(decoder):
    inst = generate_cas(np.random.default_rng(3), 6, 3, days=1, load=0.8)
    p = ma.pfsp_params(inst)
    jk, pk = K.seed_individual(p)
    no_idle = dac_decoder.validated_emissions(inst, p, decoder, jk, pk)
    fit = K.fitness(p, jk, pk)
    assert dac_decoder.validated_emissions(inst, p, decoder, jk, pk, fit) == pytest.approx(no_idle)
    with pytest.raises(ScheduleError, match="kernel fitness"):
        dac_decoder.validated_emissions(inst, p, decoder, jk, pk, 2 * no_idle + 1)
    padded = ma.stack_params([inst, generate_cas(np.random.default_rng(4), 8, 3, days=1, load=0.8)])
    row = jax.tree.map(lambda x: x[0], padded)  # decoded padded, as the bench does: same schedule
    assert dac_decoder.validated_emissions(inst, row, decoder, np.r_[jk, [1.0, 1.0]], np.r_[pk, np.zeros((2, 3))]) == no_idle


def test_dac_decoder_refuses_a_schedule_past_the_horizon():
    inst = generate_cas(np.random.default_rng(3), 6, 3, days=1, load=0.8)
    p = ma.pfsp_params(inst)
    jk, pk = K.seed_individual(p)
    with pytest.raises(ScheduleError, match="horizon"):  # every key asks for the whole slack: idle adds up
        dac_decoder.validated_emissions(inst, p, "slack", jk, np.ones_like(pk))


def test_dac_table_reads_per_set_results_and_lists_missing_sets(tmp_path, capsys):
    import json

    import dac_table

    q = {"set": "M1T1", "instances": ["a", "b"], "runs": 3}
    q.update({k: {"mean": 2.0e6 + i} for i, k in enumerate(dac_table.ROWS + dac_table.PUBLISHED)})
    for other in ("tuned", "default"):
        q[f"dac_vs_{other}"] = {"delta_percent": 0.5, "signed_rank_p": 0.02, "instances_better": 1, "instances_worse": 0}
    (tmp_path / "t_M1T1.json").write_text(json.dumps({"quality": [q]}))
    assert dac_table.main(["--prefix", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert "| M1T1 | 2 x 3 | 2.000 | 2.000 | 2.000 | +0.50 (0.02) | +0.50 (0.02) |" in out and "missing: M1T3" in out
    assert json.loads((tmp_path / "t.json").read_text())["rows"][0]["set"] == "M1T1"


def test_hh_validation_makespans_are_of_validated_schedules(monkeypatch):
    from jsched.hh.agent import Policy, load_policy, shipped_policy_path
    from jsched.instances.generators import taillard_jsp

    insts = [taillard_jsp(6, 5, seed) for seed in (1, 2)]
    path = shipped_policy_path(15, 15)
    ms = hh_validation.agent_makespans(path, insts)
    assert ms == [m for _, m, _, _ in load_policy(path).solve_many(insts)]
    real = Policy.solve_many
    monkeypatch.setattr(Policy, "solve_many", lambda self, *a: [(s * 0, m, r, d) for s, m, r, d in real(self, *a)])
    with pytest.raises(ScheduleError):  # an infeasible schedule never reaches a figure
        hh_validation.agent_makespans(path, insts)


def test_portfolio_bench_compares_repeated_runs_by_their_means_and_ranges():
    import portfolio

    def row(name, best, cpsat):
        arm = lambda runs: {"value": sum(runs) / len(runs), "gap_percent": None, "runs": runs}  # noqa: E731
        return {"instance": name, "best": {**arm(best), "in_graph_start": 999}, "cpsat": arm(cpsat),
                "in_graph": {"value": 999, "gap_percent": None}}  # fmt: skip

    s = portfolio.summarise([row("a", [10, 11], [12, 13]), row("b", [10, 13], [11, 12]), row("c", [12, 12], [10, 11])])
    assert s["best_vs_cpsat"] == {"wins": 1, "ties": 1, "losses": 1}
    assert (s["clear_wins"], s["clear_losses"]) == (1, 1)
    assert s["best"]["mean_spread_percent"] == round(100 * (1 / 10.5 + 3 / 11.5 + 0) / 3, 4)
    assert portfolio.runs_of({"value": 7}) == [7]
