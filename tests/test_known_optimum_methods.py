"""Every fast JSP/FJSP method on instances whose optimum is known by construction: no schedule beats
the optimum, CP-SAT proves it, and the gap arithmetic is measured against it."""

import pytest

import jsched
from jsched.instances.optimum import known_optimum_fjsp, known_optimum_jsp
from jsched.schedule import gap_percent

JSP = known_optimum_jsp(6, 4, 0)
FJSP = known_optimum_fjsp(5, 3, 1)


@pytest.mark.parametrize("case", [JSP, FJSP], ids=["jsp", "fjsp"])
@pytest.mark.parametrize("method", ["cpsat", "mwkr", "spt", "fifo", "best"])
def test_no_method_beats_a_known_optimum(case, method):
    opts = {"time_limit": 5} if method in ("cpsat", "best") else {}
    if method == "best":
        opts["samples"] = 0
    r = jsched.solve(case.instance, method=method, **opts)
    assert r.makespan >= case.makespan
    assert gap_percent(r.makespan, case.makespan) == pytest.approx(100.0 * (r.makespan / case.makespan - 1.0))
    if method in ("cpsat", "best"):
        assert r.makespan == case.makespan
