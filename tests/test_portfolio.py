"""``--method best``: the rules' best schedule warm-starts CP-SAT; never worse than its start."""

import jsched
from jsched.portfolio.method import improvement_figure


def test_best_is_never_worse_than_its_in_graph_start_and_records_improvements():
    r = jsched.solve("ft06", method="best", time_limit=5, samples=0)
    rule_best = min(v for k, v in r.extra["parts"].items() if k.startswith("rule:"))
    assert r.makespan <= rule_best and r.makespan == 55
    imp = r.extra["improvements"]
    assert imp[0]["by"].startswith("rule:") and [p["objective"] for p in imp] == sorted((p["objective"] for p in imp), reverse=True)
    assert r.extra["found_by"] == imp[-1]["by"] and r.extra["hint_feasible"]
    assert improvement_figure(r).axes


def test_best_minimises_the_chosen_objective():
    from jsched.instances import load, with_due_dates

    inst = with_due_dates(load("ft06"), 1.3, seed=0)
    r = jsched.solve(inst, method="best", objective="weighted_tardiness", time_limit=3, samples=0)
    (rule, value), = ((k, v) for k, v in r.extra["parts"].items() if k.startswith("rule:"))
    edd = jsched.solve(inst, method="edd").to_json()["weighted_tardiness"]
    assert r.extra["improvements"][0] == {"seconds": r.extra["improvements"][0]["seconds"], "objective": value, "by": rule}
    assert edd >= value >= r.extra["objective"]
    assert r.extra["objective"] == r.to_json()["weighted_tardiness"] and r.extra["hint_feasible"]
