"""Figures for notebooks and reports: curves, training logs, a Gantt chart coloured by group.

Every function returns a ``matplotlib.figure.Figure`` on its own Agg canvas: pyplot, the user's
backend and their open figures are left alone. Save with ``fig.savefig(path)``; in Jupyter,
display the PNG bytes (``fig.savefig(buf, format="png")``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from jsched.instances.model import Instance, as_fjsp
from jsched.schedule import Schedule

__all__ = ["curves_figure", "figure", "group_gantt_figure", "training_log_figure"]


def figure(size: tuple[float, float] = (6, 4), rows: int = 1, cols: int = 1):
    """``(Figure, axes)``: a new figure with its own Agg canvas (``axes`` as ``Figure.subplots``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, squeeze=rows * cols == 1)


def curves_figure(curves: Mapping[str, Sequence], xlabel: str, ylabel: str, title: str = "", x: Sequence | None = None):
    """One line per label; a 2-d value (runs, T) is drawn as its mean with a min-max band."""
    fig, ax = figure()
    for label, c in curves.items():
        c = np.atleast_2d(np.asarray(c, float))
        xs = np.arange(c.shape[1]) if x is None else np.asarray(x)
        ax.plot(xs, c.mean(0), marker="o" if c.shape[1] <= 12 else None, label=label)
        if c.shape[0] > 1:
            ax.fill_between(xs, c.min(0), c.max(0), alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def training_log_figure(records: Sequence[Mapping], x: str, keys: Sequence[str], title: str = ""):
    """A training log (a list of per-update dicts, as the shipped ``*.metrics.json`` and
    ``train_log.json`` hold) as one panel per metric in ``keys`` against ``x``."""
    fig, axes = figure((3.2 * len(keys), 3), 1, len(keys))
    xs = [r[x] for r in records]
    for ax, k in zip(axes[0], keys):
        ax.plot(xs, [r.get(k, np.nan) for r in records], lw=1)
        ax.set_xlabel(x)
        ax.set_title(k, fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def group_gantt_figure(instance: Instance, schedule: Schedule, group: Sequence[int], label: str = "group", title: str = ""):
    """A Gantt chart (one row per machine) whose bars are coloured by ``group``: one integer per
    operation in the schedule's (job, op) order, e.g. the RHO window that executed it."""
    from matplotlib.patches import Patch

    from jsched.gantt import job_colors

    group = np.asarray(group, np.int64)
    n_g = int(group.max(initial=0)) + 1
    cols = job_colors(n_g)
    m = as_fjsp(instance).n_machines
    fig, ax = figure((10, 1.2 + 0.4 * m))
    ax.barh(schedule.machine, schedule.end - schedule.start, left=schedule.start, height=0.8, color=cols[group],
            edgecolor="black", linewidth=0.4)  # fmt: skip
    ax.set_yticks(np.arange(m), [f"M{k}" for k in range(m)])
    ax.set_ylim(m - 0.5, -0.5)
    ax.set_xlabel("time")
    ax.set_title(title or f"{instance.name}: makespan {schedule.makespan}, coloured by {label}", fontsize=10)
    if n_g <= 20:
        ax.legend(handles=[Patch(facecolor=cols[g], label=f"{label} {g}") for g in range(n_g)], loc="upper left",
                  bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False)  # fmt: skip
    fig.tight_layout()
    return fig
