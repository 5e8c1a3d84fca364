"""The Python API and the one registry: jsched.solve / evaluate / methods, Result, options -> CLI flags,
and a toy method added by one module plus one registry line, run through both the API and the CLI."""

from __future__ import annotations

import json
import sys
import textwrap

import matplotlib
import pytest

import jsched
from jsched.cli import main
from jsched.errors import JSchedError
from jsched.registry import METHODS, Method, register

TOY = '''
"""A toy method: jobs in order, each operation as early as possible (a serial schedule)."""
from dataclasses import dataclass

import numpy as np

from jsched.options import option
from jsched.result import Result
from jsched.schedule import Schedule


@dataclass(frozen=True)
class Config:
    delay: int = option(0, "idle time inserted before every operation", min=0)
    reverse: bool = option(False, "schedule the jobs last to first")


def solve(instance, config, key):
    job_ready = np.zeros(instance.n_jobs, np.int64)
    mach_ready = np.zeros(instance.n_machines, np.int64)
    start = np.zeros((instance.n_jobs, instance.n_ops_per_job), np.int64)
    jobs = range(instance.n_jobs)[::-1] if config.reverse else range(instance.n_jobs)
    for j in jobs:
        for o in range(instance.n_ops_per_job):
            m = instance.machines[j, o]
            s = max(job_ready[j], mach_ready[m]) + config.delay
            start[j, o] = s
            job_ready[j] = mach_ready[m] = s + instance.durations[j, o]
    return Result(instance, Schedule.from_arrays(instance, start), {"delay": config.delay}, summary=("delay",))
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "toy_method_mod.py").write_text(textwrap.dedent(TOY))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "toy_method_mod", raising=False)
    saved = dict(METHODS)
    register(Method("toy", "toy_method_mod", ("jsp",), "a serial schedule"))
    yield "toy"
    METHODS.clear()
    METHODS.update(saved)


def test_a_registered_toy_method_runs_through_the_api_and_the_cli(toy, tmp_path, capsys):
    r = jsched.solve("ft06", method=toy, delay=1)
    assert r.method == "toy" and r.extra == {"delay": 1} and r.best_known == 55 and r.makespan > 55
    assert "toy" in jsched.methods() and jsched.methods()["toy"].options[0][:3] == ("delay", "int", 0)
    out = tmp_path / "t.json"
    assert main(["solve", "ft06", "--method", "toy", "--delay", "1", "--reverse", "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert "method=toy" in line and "delay=1" in line
    payload = json.loads(out.read_text())
    assert payload["method"] == "toy" and payload["delay"] == 1 and len(payload["operations"]) == 36
    # --help lists the method's options and defaults without an instance argument.
    with pytest.raises(SystemExit):
        main(["solve", "--method", "toy", "--help"])
    help_text = capsys.readouterr().out
    assert "--delay" in help_text and "(default: 0)" in help_text and "--reverse" in help_text


def test_unknown_and_bad_options_are_one_line_errors(toy, capsys):
    with pytest.raises(JSchedError, match="unknown option dely; valid options: delay, reverse"):
        jsched.solve("ft06", method=toy, dely=1)
    with pytest.raises(JSchedError, match="delay must be >= 0"):
        jsched.solve("ft06", method=toy, delay=-1)
    with pytest.raises(JSchedError, match="delay must be an integer"):
        jsched.solve("ft06", method=toy, delay="x")
    with pytest.raises(JSchedError, match="unknown method 'nope'"):
        jsched.solve("ft06", method="nope")
    with pytest.raises(JSchedError, match="seed must be an integer"):
        jsched.solve("ft06", method=toy, seed=-1)
    with pytest.raises(JSchedError, match="solves jsp, not fjsp"):
        jsched.solve(_tiny_fjsp(), method=toy)
    with pytest.raises(JSchedError, match="fixes rule"):
        jsched.solve("ft06", method="spt", rule="mwkr")
    assert main(["solve", "ft06", "--method", "toy", "--delay", "-3"]) == 2
    assert main(["solve", "--method", "toy"]) == 2
    err = capsys.readouterr().err
    assert err.count("jsched: error:") == 2 and "Traceback" not in err


def _tiny_fjsp():
    import numpy as np

    from jsched.instances.model import FJSPInstance

    dur = np.array([[2, 4], [3, 0], [0, 1]])
    return FJSPInstance("tiny", 2, [2, 1], dur, dur > 0)


def test_result_json_and_gantt_leave_pyplot_alone():
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()
    fig0 = plt.figure()
    r = jsched.solve("ft06", method="mwkr")
    fig = r.gantt()
    assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
    assert matplotlib.get_backend() == backend and plt.fignum_exists(fig0.number)
    plt.close(fig0)
    payload = r.to_json()
    assert payload["makespan"] == r.makespan and payload["gap_percent"] == pytest.approx(r.gap, abs=1e-3)
    assert payload["rule"] == "mwkr" and r.objective == r.makespan


def test_evaluate_batches_rules_and_matches_solve():
    rs = jsched.evaluate("spt", ["ft06", "la01"])
    assert [r.instance.name for r in rs] == ["ft06", "la01"]
    assert [r.makespan for r in rs] == [jsched.solve(n, method="spt").makespan for n in ("ft06", "la01")]
    assert all(r.method == "spt" for r in rs)


def test_methods_lists_every_registered_method_with_options():
    ms = jsched.methods()
    for name in ("cpsat", "mwkr", "slim", "hh", "daniel", "dfmeta", "rho", "lrho", "ma", "ma-dac"):
        assert name in ms, name
    assert ms["cpsat"].problems == ("jsp", "fjsp") and "solve" in ms["cpsat"].verbs
    assert {o[0] for o in ms["cpsat"].options} >= {"time_limit", "workers", "objective"}
    assert "rule" not in {o[0] for o in ms["spt"].options}  # fixed by the entry


def test_load_accepts_names_paths_and_objects(tmp_path):
    inst = jsched.load("ft06")
    assert jsched.load(inst) is inst
    with pytest.raises(JSchedError, match="expected an instance"):
        jsched.load(42)


def test_every_package_folder_is_installed():
    """pyproject lists packages explicitly (kernels/ maps to jsched.kernels): none may be missed."""
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "jsched").rglob("__init__.py")}
    assert found | {"jsched.kernels"} == listed


def test_constants_kept_apart_for_a_light_cli_agree():
    """rho's Config is read whenever the CLI starts, so it does not import ortools: its copies agree."""
    from jsched import cpsat
    from jsched.rho import method as rho

    assert rho.OBJECTIVES + cpsat.DUE_DATE_OBJECTIVES == cpsat.OBJECTIVES and rho.Config.workers == cpsat.CPSatOptions.num_workers


@pytest.mark.parametrize("name", sorted(jsched.methods()))
def test_every_method_help_prints(name, capsys):
    """Option help texts go through argparse's %-formatting: a bare '%' must not break --help."""
    with pytest.raises(SystemExit) as e:
        main(["solve", "--method", name, "--help"])
    assert e.value.code == 0 and "--" in capsys.readouterr().out
