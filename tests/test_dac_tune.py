"""Static tuner: budget -> trials, resume, best parameters usable as --params FILE."""

import json

import numpy as np

from jsched.dac import ma, tune
from jsched.instances.pfsp import generate_cas


def test_tune_budget_resume_and_params_file(tmp_path):
    insts = [generate_cas(np.random.default_rng(s), 4, 2, days=1) for s in (0, 1)]
    out = str(tmp_path / "t.json")
    r = tune.tune(out, budget_generations=3 * 2 * 2, instances=insts, n_gen=2, pop_size=6, batch=2, progress=False)
    assert len(r["trials"]) == 3 and r["budget_used_generations"] == 12
    assert r["best_score"] == min(t["score"] for t in r["trials"])
    for k, (lo, hi) in ma.RANGES.items():
        assert all(lo <= t["params"][k] <= hi for t in r["trials"])
    assert ma.load_params_spec(out) == r["best"]
    r2 = tune.tune(out, budget_generations=4 * 2 * 2, instances=insts, n_gen=2, pop_size=6, batch=2, progress=False)
    assert r2["trials"][:3] == json.loads(json.dumps(r["trials"])) and len(r2["trials"]) == 4


def test_rescore_ships_the_best_mean_of_the_top_trials(tmp_path):
    insts = [generate_cas(np.random.default_rng(s), 4, 2, days=1) for s in (0, 1)]
    out = str(tmp_path / "t.json")
    r = tune.tune(out, budget_generations=3 * 2 * 2, instances=insts, n_gen=2, pop_size=6, batch=2, progress=False)
    s = tune.rescore(out, insts, top=2, runs=2, pop_size=6)["rescore"]
    top2 = sorted(range(3), key=lambda t: r["trials"][t]["score"])[:2]
    assert s["trials"] == [t + 1 for t in top2] and len(s["score"]) == 2 and s["runs"] == 2
    assert s["chosen_trial"] == s["trials"][int(np.argmin(s["score"]))]
    assert ma.load_params_spec(out) == r["trials"][s["chosen_trial"] - 1]["params"]
    again = tune.tune(out, budget_generations=3 * 2 * 2, instances=insts, n_gen=2, pop_size=6, batch=2, progress=False)
    assert again["rescore"] == json.loads(json.dumps(s)) and again["params"] == r["trials"][s["chosen_trial"] - 1]["params"]
