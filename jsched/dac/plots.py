"""Figures for CAS-PFSP: power profile (load vs generation vs carbon intensity) and MA convergence.

Functions return matplotlib Figures on their own Agg canvas (pyplot and the user's backend are
left alone); :func:`save_figure` writes one atomically.
"""

from __future__ import annotations

import os

import numpy as np

from jsched.instances.pfsp import PFSPInstance


def _figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path: str) -> None:
    """Write ``fig`` to ``path`` (the format from its extension, .png by default)."""
    from jsched.atomic import atomic_path

    with atomic_path(path, suffix=os.path.splitext(path)[1] or ".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")


def _draw_power(ax, inst: PFSPInstance, start: np.ndarray, title: str) -> None:
    """Stacked load per machine and on-site generation (kW, left axis), carbon intensity (right)."""
    start = np.asarray(start).reshape(inst.n_jobs, inst.n_machines)
    h = inst.horizon
    t = np.arange(h) / 4.0  # hours
    per_machine = np.zeros((inst.n_machines, h))
    for j in range(inst.n_jobs):
        for m in range(inst.n_machines):
            d = int(inst.durations[j, m])
            s = int(start[j, m])
            per_machine[m, s : s + d] += inst.power[j, m, :d]
    ax.stackplot(t, per_machine, step="post", alpha=0.75,
                 labels=[f"machine {m}" for m in range(inst.n_machines)] if inst.n_machines <= 5 else ())
    ax.step(t, inst.generation, where="post", color="green", lw=1.5, label="on-site generation")
    ax.step(t, per_machine.sum(0), where="post", color="black", lw=0.8, label="load")
    ax.set_xlabel("time (h)")
    ax.set_ylabel("power (kW)")
    ax2 = ax.twinx()
    ax2.step(t, inst.carbon, where="post", color="red", lw=1.2, ls="--", label="carbon intensity")
    ax2.set_ylabel("carbon intensity (g/kWh)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=7, ncol=2)
    ax.set_xlim(0, h / 4.0)
    ax.set_title(title or f"{inst.name}: emissions {inst.emissions(start):,.2f}", fontsize=10)


def _draw_convergence(ax, curves: dict[str, np.ndarray], title: str, ylabel: str) -> None:
    """Mean best fitness per generation per label, band min-max over runs."""
    for label, c in curves.items():
        c = np.atleast_2d(np.asarray(c, float))
        mean = c.mean(0)
        ax.plot(np.arange(len(mean)), mean, label=label)
        if c.shape[0] > 1:
            ax.fill_between(np.arange(len(mean)), c.min(0), c.max(0), alpha=0.2)
    ax.set_xlabel("generation")
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.set_title(title, fontsize=10)


def power_profile_figure(inst: PFSPInstance, start: np.ndarray, title: str = ""):
    """The power profile of one schedule (``start``: (N, M) start slots)."""
    fig = _figure((11, 4))
    _draw_power(fig.add_subplot(), inst, start, title)
    return fig


def convergence_figure(curves: dict[str, np.ndarray], title: str = "", ylabel: str = "best emissions"):
    """Best fitness per generation; ``curves`` maps a label to (runs, G + 1) or (G + 1,) arrays."""
    fig = _figure((6, 4))
    _draw_convergence(fig.add_subplot(), curves, title, ylabel)
    return fig


def methods_figure(inst: PFSPInstance, starts: dict[str, np.ndarray], curves: dict[str, np.ndarray]):
    """One instance, several methods: each method's best schedule's power profile, then the
    emissions over generations of all (``curves``: label -> (runs, G + 1) best-so-far values)."""
    fig = _figure((11, 3.2 * (len(starts) + 1)))
    axes = fig.subplots(len(starts) + 1, 1)
    for ax, (label, start) in zip(axes, starts.items()):
        _draw_power(ax, inst, start, f"{label}: emissions {inst.emissions(np.asarray(start)):,.2f}")
    _draw_convergence(axes[-1], curves, f"{inst.name}: best emissions (mean, band min-max over runs)",
                      "best emissions")
    fig.tight_layout()
    return fig


def tuning_figure(scores: np.ndarray, references: dict[str, float]):
    """Static tuning: each trial's score and the best so far vs trials, ``references`` as lines."""
    fig = _figure((6, 4))
    ax = fig.add_subplot()
    n = np.arange(1, len(scores) + 1)
    ax.plot(n, scores, ".", color="0.6", label="trial")
    ax.step(n, np.minimum.accumulate(scores), where="post", label="best so far")
    for (label, v), ls in zip(references.items(), (":", "--", "-.")):
        ax.axhline(v, color="k", ls=ls, lw=0.8, label=label)
    ax.set_xlabel("trial")
    ax.set_ylabel("mean best fitness, 12 training instances")
    ax.set_ylim(top=float(np.quantile(scores, 0.9)))
    ax.legend(fontsize=8)
    return fig
