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
