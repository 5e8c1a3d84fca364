"""The README's API tour runs as written and its schedule passes the validator."""

import re
from pathlib import Path


def test_readme_python_tour_runs(capsys):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README has no python block"
    exec(compile(blocks[0], "README.md", "exec"), {})
    makespan, best = map(int, capsys.readouterr().out.split())
    assert best == 1231 and makespan >= best
