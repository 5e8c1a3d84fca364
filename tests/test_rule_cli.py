"""`jsched solve --method RULE` and `jsched rules SET` (with a stand-in benchmark loader)."""

import json

import numpy as np
import pytest

import jsched.instances as instances_pkg
from jsched.cli import main
from jsched.instances.model import FJSPInstance, JSPInstance
from jsched.kernels import rules
from jsched.registry import BOTH_RULES, JSP_RULES, METHODS

BKS = {"ft06": 55, "la01": 666}


def _jsp(name):
    from jsched.instances.benchmarks import load_benchmark  # the real data, under the stand-in loader

    inst = load_benchmark(name)
    return JSPInstance(name, inst.machines, inst.durations)


def _fjsp():
    dur = np.array([[2, 4, 0], [0, 3, 0], [0, 3, 3], [1, 0, 0], [0, 2, 0], [0, 0, 1]])
    return FJSPInstance("tiny_fjsp", 3, [2, 3, 1], dur, dur > 0)


@pytest.fixture
def loader(monkeypatch):
    """Stand-in for jsched.instances.load / load_set / best_known (owned by the instances module)."""
    table = {"ft06": _jsp("ft06"), "la01": _jsp("la01"), "tiny_fjsp": _fjsp()}
    sets = {"small": [table["ft06"], table["la01"]], "fjsmall": [table["tiny_fjsp"]]}

    def load_set(name):
        from jsched.errors import JSchedError

        if name not in sets:
            raise JSchedError(f"unknown set {name!r}")
        return sets[name]

    monkeypatch.setattr(instances_pkg, "load", lambda spec: table[spec], raising=False)
    monkeypatch.setattr(instances_pkg, "load_set", load_set, raising=False)
    monkeypatch.setattr(instances_pkg, "best_known", lambda inst: BKS.get(inst.name), raising=False)
    return table


def test_rule_methods_cover_every_rule():
    names = set(JSP_RULES + BOTH_RULES)
    assert names == set(rules.JSP_RULES)
    assert {r for r in names if "fjsp" in METHODS[r].problems} == set(rules.FJSP_RULES)
    for r in names:
        assert METHODS[r].module == "jsched.rules.method" and METHODS[r].preset == {"rule": r}


def test_solve_with_a_rule_writes_valid_json(loader, tmp_path, capsys):
    out = tmp_path / "ft06.json"
    assert main(["solve", "ft06", "--method", "mwkr", "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert "method=mwkr" in line and "best_known=55" in line
    payload = json.loads(out.read_text())
    assert payload["rule"] == "mwkr" and payload["candidates"] == "nondelay"
    assert len(payload["operations"]) == 36 and payload["makespan"] >= 55


def test_solve_fjsp_rule_with_machine_rule(loader, tmp_path):
    out = tmp_path / "f.json"
    assert main(["solve", "tiny_fjsp", "--method", "mor", "--machine-rule", "eet", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["machine_rule"] == "eet" and len(payload["operations"]) == 6


def test_jsp_only_rule_on_fjsp_is_a_one_line_error(loader, capsys):
    assert main(["solve", "tiny_fjsp", "--method", "lpt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jsched: error:") and err.count("\n") == 1


def test_rules_table_and_json(loader, tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main(["rules", "small", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "avg gap" in text and "mwkr" in text and "ft06" in text and "la01" in text
    payload = json.loads(out.read_text())
    assert payload["rules"] == list(rules.JSP_RULES)
    rows = {r["instance"]: r for r in payload["instances"]}
    for name, row in rows.items():
        assert row["best_makespan"] == min(row["makespan"].values())
        for rule, ms in row["makespan"].items():
            assert ms >= BKS[name]
            assert abs(row["gap_percent"][rule] - 100 * (ms / BKS[name] - 1)) < 1e-3
    # The table agrees with the solve method.
    assert main(["solve", "la01", "--method", "spt", "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["makespan"] == rows["la01"]["makespan"]["spt"]


def test_rules_table_fjsp_and_subset(loader, tmp_path):
    out = tmp_path / "f.json"
    assert main(["rules", "fjsmall", "--rules", "spt,mwkr-eet", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["rules"] == ["spt", "mwkr-eet"]
    assert payload["instances"][0]["best_known"] is None


def test_rules_bad_input_is_a_one_line_error(loader, capsys):
    assert main(["rules", "small", "--rules", "nope"]) == 2
    assert main(["rules", "fjsmall", "--candidates", "active"]) == 2
    assert main(["rules", "unknown-set"]) == 2
    err = capsys.readouterr().err
    assert err.count("jsched: error:") == 3 and "Traceback" not in err
