"""``--method best``: the rules' best schedule warm-starts CP-SAT; never worse than its start."""

import jsched
from jsched.portfolio.method import improvement_figure


def test_best_is_never_worse_than_its_in_graph_start_and_records_improvements():
    r = jsched.solve("ft06", method="best", time_limit=5, samples=0)
    rule_best = min(v for k, v in r.extra["parts"].items() if k.startswith("rule:"))
    assert r.makespan <= rule_best and r.makespan == 55
    imp = r.extra["improvements"]
    assert imp[0]["by"].startswith("rule:") and [p["makespan"] for p in imp] == sorted((p["makespan"] for p in imp), reverse=True)
    assert r.extra["found_by"] == imp[-1]["by"]
    assert improvement_figure(r).axes
