"""Gantt charts of schedules: a matplotlib ``Figure`` (never through pyplot, so the user's
backend and open figures are left alone), or a PNG, SVG or PDF file.

One row per machine (machine 0 on top), one colour per job, the time axis in instance units.
Choices for readability up to 100 jobs x 20 machines: the figure grows with the number of
machines and with the makespan's operation density; job colours come from a perceptually
spread cycle (tab20, then tab20b/tab20c, shaded for more jobs); a legend appears only for at
most 20 jobs, and a bar carries its job number only when that label fits inside the bar.
Zero-length operations are drawn as thin ticks so that they stay visible.  The file is written
atomically (temporary file, then rename).
"""

from __future__ import annotations

import os

import numpy as np

from jsched.atomic import atomic_path, check_writable
from jsched.errors import JSchedError
from jsched.instances.model import Instance, as_fjsp
from jsched.schedule import Schedule

__all__ = ["check_gantt_path", "gantt_figure", "job_colors", "plot_gantt"]

_LEGEND_MAX_JOBS = 20
FORMATS = (".png", ".svg", ".pdf")


def job_colors(n_jobs: int) -> np.ndarray:
    """(n_jobs, 4) RGBA colours, distinct for up to 60 jobs and shaded beyond."""
    from matplotlib import colormaps

    base = np.concatenate([colormaps[c](np.arange(20)) for c in ("tab20", "tab20b", "tab20c")])
    # Reorder tab20 so that neighbouring jobs get different hues (dark/light pairs split).
    order = np.concatenate([np.arange(0, 60, 2), np.arange(1, 60, 2)])
    base = base[order]
    cols = base[np.arange(n_jobs) % len(base)].copy()
    shade = (np.arange(n_jobs) // len(base)) % 3
    cols[:, :3] = np.clip(cols[:, :3] * (1.0 - 0.25 * shade[:, None]), 0, 1)
    return cols


def check_gantt_path(path: str | os.PathLike, avoid=()) -> str:
    """Check a Gantt output path before a long solve: a known extension (.png, .svg, .pdf) and a
    writable destination (see :func:`jsched.atomic.check_writable`; ``avoid`` lists paths it must
    not be, e.g. the input instance or the schedule output). Returns the extension; raises a
    one-line JSchedError."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise JSchedError(f"{path}: Gantt chart format must be one of {', '.join(FORMATS)}")
    check_writable(path, avoid=avoid)
    return ext


def plot_gantt(instance: Instance, schedule: Schedule, path: str | os.PathLike, title: str | None = None) -> None:
    """Draw ``schedule`` of ``instance`` and save it to ``path`` (.png, .svg or .pdf)."""
    path = os.fspath(path)
    ext = check_gantt_path(path)
    fig = gantt_figure(instance, schedule, title)
    with atomic_path(path, suffix=ext) as tmp:
        fig.savefig(tmp, format=ext[1:])


def gantt_figure(instance: Instance, schedule: Schedule, title: str | None = None):
    """A ``matplotlib.figure.Figure`` of ``schedule`` (its own Agg canvas; pyplot untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    f = as_fjsp(instance)
    n_m, n_j = f.n_machines, f.n_jobs
    horizon = max(schedule.makespan, 1)
    width = float(np.clip(8 + 0.06 * len(schedule) / max(n_m, 1), 8, 24))
    height = float(np.clip(1.2 + 0.42 * n_m, 2.5, 14))
    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cols = job_colors(n_j)
    dur = schedule.end - schedule.start
    y = schedule.machine
    ax.barh(
        y, np.maximum(dur, 0), left=schedule.start, height=0.8, color=cols[schedule.job],
        edgecolor="black", linewidth=0.3 if n_j > 30 else 0.6,
    )  # fmt: skip
    zero = dur == 0
    if zero.any():
        ax.vlines(schedule.start[zero], y[zero] - 0.4, y[zero] + 0.4, colors=cols[schedule.job[zero]], linewidth=1.5)
    # Label a bar with its job number only when the text fits inside it.
    fig.canvas.draw()
    px_per_unit = ax.get_window_extent().width / horizon
    font = 7 if n_j < 100 else 6
    char_px = 0.62 * font * fig.dpi / 72
    for j, s, d, m in zip(schedule.job, schedule.start, dur, y):
        label = str(int(j))
        if d * px_per_unit >= char_px * len(label) + 4:
            rgb = cols[j][:3]
            txt = "white" if rgb @ np.array([0.299, 0.587, 0.114]) < 0.5 else "black"
            ax.text(s + d / 2, m, label, ha="center", va="center", fontsize=font, color=txt, clip_on=True)
    ax.set_yticks(np.arange(n_m))
    ax.set_yticklabels([f"M{k}" for k in range(n_m)], fontsize=8 if n_m <= 20 else 6)
    ax.set_ylim(n_m - 0.5, -0.5)
    ax.set_xlim(0, horizon * 1.01)
    ax.set_xlabel("time")
    ax.set_ylabel("machine")
    ax.grid(axis="x", linestyle=":", linewidth=0.5, alpha=0.6)
    ax.set_axisbelow(True)
    ax.set_title(title or f"{instance.name}: makespan {schedule.makespan}", fontsize=10)
    if n_j <= _LEGEND_MAX_JOBS:
        handles = [Patch(facecolor=cols[j], edgecolor="black", label=f"job {j}") for j in range(n_j)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False,
                  ncol=1 if n_j <= 12 else 2)  # fmt: skip
    fig.tight_layout()
    return fig
