"""Gantt charts: non-empty PNG and SVG files, large instances, bad extensions."""

from __future__ import annotations

import numpy as np
import pytest

from jsched.errors import JSchedError
from jsched.gantt import job_colors, plot_gantt
from jsched.instances import as_fjsp
from jsched.instances.generators import sd2_fjsp, taillard_jsp
from jsched.schedule import Schedule, validate


def serial(inst) -> Schedule:
    f = as_fjsp(inst)
    mach = f.eligible.argmax(axis=1)
    dur = f.durations[np.arange(f.n_ops), mach]
    start = np.concatenate([[0], np.cumsum(dur)[:-1]])
    return validate(inst, Schedule(f.op_job, f.op_index, mach, start, start + dur))


@pytest.mark.parametrize("ext", ["png", "svg"])
def test_gantt_writes_file(ext, tmp_path):
    inst = taillard_jsp(4, 3, 0)
    p = tmp_path / f"g.{ext}"
    plot_gantt(inst, serial(inst), p, title="toy")
    data = p.read_bytes()
    assert len(data) > 1000
    assert data.startswith(b"\x89PNG") if ext == "png" else b"<svg" in data[:2000]
    assert [x.name for x in tmp_path.iterdir()] == [f"g.{ext}"]


def test_gantt_large_fjsp(tmp_path):
    inst = sd2_fjsp(100, 20, 0, ops_per_job=2)
    plot_gantt(inst, serial(inst), tmp_path / "big.png")
    assert (tmp_path / "big.png").stat().st_size > 10_000


def test_gantt_bad_extension(tmp_path):
    inst = taillard_jsp(2, 2, 0)
    with pytest.raises(JSchedError, match="format"):
        plot_gantt(inst, serial(inst), tmp_path / "g.jpg")


def test_job_colors_distinct():
    c = job_colors(60)
    assert len({tuple(np.round(x, 4)) for x in c}) == 60
