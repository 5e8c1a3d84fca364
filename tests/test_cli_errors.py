"""CLI: a malformed instance file gives exit status 2 and one line naming file and line."""

from __future__ import annotations

import pytest

from jsched import cli
from jsched.registry import METHODS, Method


@pytest.fixture
def any_method(monkeypatch):
    # The instance is loaded before the method runs, so any module with a Config will do here.
    monkeypatch.setitem(METHODS, "probe", Method("probe", "jsched.cpsat.method", ("jsp", "fjsp"), "test probe"))
    return "probe"


@pytest.mark.parametrize(
    "name, text, line",
    [("bad.fjs", "2 3\n1 1 9 5\n1 1 1 1\n", 2), ("bad.txt", "2 2\n0 1 1 2\n", 3), ("bin.fjs", "3 3\n\x00\x01", 2)],
)
def test_malformed_file_one_line_exit_2(name, text, line, tmp_path, capsys, any_method):
    p = tmp_path / name
    p.write_text(text)
    rc = cli.main(["solve", str(p), "--method", any_method])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"jsched: error: {p}:{line}: ")


def test_unknown_benchmark_one_line(capsys, any_method):
    assert cli.main(["solve", "ta81", "--method", any_method]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean ta80" in err


def test_outputs_are_checked_before_the_solve(tmp_path, capsys):
    inst = tmp_path / "i.txt"
    inst.write_text("2 2\n0 1 1 2\n1 3 0 1\n")
    assert cli.main(["solve", str(inst), "--method", "mwkr", "--out", str(inst)]) == 2
    assert cli.main(["solve", str(inst), "--method", "mwkr", "--out", str(tmp_path / "a.png"), "--gantt", str(tmp_path / "a.png")]) == 2
    assert cli.main(["solve", str(inst), "--method", "mwkr", "--gantt", str(tmp_path / "g.jpg")]) == 2
    assert cli.main(["solve", str(inst), "--method", "mwkr", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("jsched: error:") == 4 and "Traceback" not in err
    assert inst.read_text().startswith("2 2")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "ft06", "--method", "mwkr", "--seed", str(2**70)], "seed must be an integer"),
        (["solve", "ft06", "--method", "hh", "--commitment", "0"], "commitment must be >= 1"),
        (["solve", "ft06", "--method", "cpsat", "--time-limit", "nan"], "time_limit must be a number"),
        (["solve", "ft06", "--method", "cpsat", "--time-limit", "-1"], "time_limit must be >= 0"),
        (["solve", "ft06", "--method", "cpsat", "--workers", "-2"], "workers must be >= 1"),
        (["solve", "ft06", "--method", "slim", "--samples", "-1"], "samples must be >= 0"),
        (["solve", "ft06", "--method", "nope"], "unknown method 'nope'"),
        (["solve", "no-such-dir/nope.fjs", "--method", "mwkr"], "no-such-dir/nope.fjs"),
        (["rho", "collect", "--seeds", "5-1", "--out", "x.npz"], "seeds"),
    ],
)
def test_issue_probes_are_one_line_errors(argv, message, capsys):
    """The bad inputs an adversarial probe found: each is one line on stderr and exit status 2."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("jsched: error:") and message in err, err


def test_version_is_printed_once(capsys):
    import jsched

    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out == f"jsched {jsched.__version__}\n"
