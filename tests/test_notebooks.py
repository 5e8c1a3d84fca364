"""Execute every notebook in notebooks/ at tiny size: the parameter cell (tagged ``parameters``)
is replaced by tiny values, the rest runs as written, through the public API."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jax
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def _slim_params(tmp_path: Path) -> str:
    from jsched.slim.model import ModelConfig, init_params, save_model

    small = ModelConfig(gat_hidden=8, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)
    path = tmp_path / "tiny.ckpt"
    save_model(path, init_params(small, jax.random.key(0)), small, {"steps": 0})
    return f'INSTANCE = "ft06"\nBETAS = [0, 4]\nCHECKPOINT = {str(path)!r}\nBEST_KNOWN = 55'


# notebook -> (tiny parameter cell, or a function of tmp_path giving it; texts the output must hold)
TINY = {
    "kernels_rules": ('INSTANCE = "ft06"\nRULES = ["spt", "mwkr"]\nN_POLICIES = 8', ["ft06: 6x6, best known 55", "8 random linear policies"]),
    "cpsat": ('INSTANCE = "ft06"\nTIME_LIMIT = 1.0\nWORKERS = 1', ["MWKR hint", "jsched-schedule 1 makespan"]),
    "slim": (_slim_params, ["ft06: 6x6, best known 55", "beta=   4"]),
    "hh": ('INSTANCE = "ft06"\nPROTOCOL = "instances"\nEVERY = 2', ["ft06: makespan", "(instances)"]),
    "ma_dac": ('N_JOBS, N_MACHINES, DAYS = 5, 2, 1\nGENERATIONS = 3\nPOP_SIZE = 8\nMETHODS = ["ma-dac"]', ["method=ma-dac "]),
    "lrho": ('INSTANCE = "mk01"\nH, S, T = 20, 8, 1.0', ["lrho  makespan"]),
    "dfmeta": ('INSTANCE = "ft06"\nK = 2\nMU, L = 4, 2', ["method=dfmeta"]),
}


def test_every_notebook_has_a_tiny_run():
    assert sorted(TINY) == sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("name", sorted(TINY))
def test_notebook_runs(name, tmp_path, monkeypatch):
    params, expected = TINY[name]
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    cells[0].source = params(tmp_path) if callable(params) else params
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert all(t in out for t in expected), out[-2000:]
    assert images >= 1
