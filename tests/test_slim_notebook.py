"""Execute notebooks/slim.ipynb at tiny size (ft06, a tiny random checkpoint)."""

import os
import sys
from pathlib import Path

import jax
import nbformat
from nbclient import NotebookClient

from jsched.slim.model import ModelConfig, init_params, save_model

ROOT = Path(__file__).resolve().parents[1]


def test_slim_notebook_runs(tmp_path, monkeypatch):
    small = ModelConfig(gat_hidden=8, embed=8, mem_hidden=8, mem_heads=1, mem_size=8, clf_size=8)
    path = tmp_path / "tiny.ckpt"
    save_model(path, init_params(small, jax.random.key(0)), small, {"steps": 0})
    nb = nbformat.read(ROOT / "notebooks" / "slim.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    params[0].source = f'INSTANCE = "ft06"\nBETAS = [0, 4]\nCHECKPOINT = {str(path)!r}\nBEST_KNOWN = 55'
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "ft06: 6x6, best known 55" in out and "beta=   4" in out
