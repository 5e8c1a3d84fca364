"""Plots for CAS-PFSP: power profile (load vs generation vs carbon intensity), the methods of one
instance side by side (power profiles and emissions over generations), static tuning progress and
the DAC policy's training curve.

Figures get their own Agg canvas; pyplot and the user's backend are left alone.
"""

from __future__ import annotations

import os

import numpy as np

from jsched.instances.pfsp import PFSPInstance


def save_figure(fig, path: str) -> None:
    """Write ``fig`` to ``path`` (the format from its extension, .png by default)."""
    from jsched.atomic import atomic_path

    with atomic_path(path, suffix=os.path.splitext(path)[1] or ".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")


def plot_power_profile(inst: PFSPInstance, start: np.ndarray, path: str, title: str = "") -> None:
    """Write :func:`power_profile_figure` to ``path``."""
    save_figure(power_profile_figure(inst, start, title), path)


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


def power_profile_figure(inst: PFSPInstance, start: np.ndarray, title: str = ""):
    """The power profile of one schedule (``start``: (N, M) start slots)."""
    from jsched.plots import figure

    fig, ax = figure((11, 4))
    _draw_power(ax, inst, start, title)
    return fig


def methods_figure(inst: PFSPInstance, starts: dict[str, np.ndarray], curves: dict[str, np.ndarray]):
    """One instance, several methods: each method's best schedule's power profile, then the
    emissions over generations of all (``curves``: label -> (runs, G + 1) best-so-far values)."""
    from jsched.plots import figure

    fig, axes = figure((11, 3.2 * (len(starts) + 1)), len(starts) + 1, 1)
    axes = np.ravel(axes)
    for ax, (label, start) in zip(axes, starts.items()):
        _draw_power(ax, inst, start, f"{label}: emissions {inst.emissions(np.asarray(start)):,.2f}")
    ax = axes[-1]
    for label, c in curves.items():
        c = np.atleast_2d(np.asarray(c, float))
        ax.plot(np.arange(c.shape[1]), c.mean(0), label=label)
        if c.shape[0] > 1:
            ax.fill_between(np.arange(c.shape[1]), c.min(0), c.max(0), alpha=0.2)
    ax.set_xlabel("generation")
    ax.set_ylabel("best emissions")
    ax.legend()
    ax.set_title(f"{inst.name}: best emissions (mean, band min-max over runs)", fontsize=10)
    fig.tight_layout()
    return fig


def tuning_figure(scores: np.ndarray, references: dict[str, float]):
    """Static tuning: each trial's score and the best so far vs trials, ``references`` as lines."""
    from jsched.plots import figure

    fig, ax = figure()
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


def training_curve_figure(log: dict | None = None):
    """The DAC policy's PPO training curve: episode return (the MA's relative emissions
    improvement) and entropy per update; ``log`` defaults to the shipped ``train_log.json``."""
    import json
    from importlib import resources

    from jsched.plots import training_log_figure

    if log is None:
        log = json.loads((resources.files("jsched") / "assets" / "dac" / "train_log.json").read_text())
    return training_log_figure(log["log"], "update", ("episode_return", "entropy", "value_loss"), "DAC policy training (PPO)")
