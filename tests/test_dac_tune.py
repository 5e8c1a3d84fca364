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
