"""The README's API tour runs as written and its schedules pass the validator."""

import re
from pathlib import Path


def test_readme_python_tour_runs(capsys):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3, "README has no python tour"
    exec(compile(blocks[0], "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    makespan, best = map(int, lines[0].split())
    assert best == 1231 and makespan >= best
    assert "method=slim" in lines[1] and "time_limit" in lines[2]
    exec(compile(blocks[1], "README.md", "exec"), {})
    assert int(capsys.readouterr().out) >= 1231
    exec(compile(blocks[2], "README.md", "exec"), {})  # the gymnax-style loop
    assert capsys.readouterr().out == "True True\n"
