"""Plots for CAS-PFSP: power profile (load vs generation vs carbon intensity), MA convergence and
the DAC policy's training curve.

Figures get their own Agg canvas; pyplot and the user's backend are left alone.
"""

from __future__ import annotations

import os

import numpy as np

from jsched.instances.pfsp import PFSPInstance


def _save(fig, path: str) -> None:
    from jsched.atomic import atomic_path

    with atomic_path(path, suffix=os.path.splitext(path)[1] or ".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")


def plot_power_profile(inst: PFSPInstance, start: np.ndarray, path: str, title: str = "") -> None:
    """Write :func:`power_profile_figure` to ``path``."""
    _save(power_profile_figure(inst, start, title), path)


def power_profile_figure(inst: PFSPInstance, start: np.ndarray, title: str = ""):
    """Stacked load per machine and on-site generation (kW, left axis), carbon intensity (right)."""
    from jsched.plots import figure

    start = np.asarray(start).reshape(inst.n_jobs, inst.n_machines)
    h = inst.horizon
    t = np.arange(h) / 4.0  # hours
    per_machine = np.zeros((inst.n_machines, h))
    for j in range(inst.n_jobs):
        for m in range(inst.n_machines):
            d = int(inst.durations[j, m])
            s = int(start[j, m])
            per_machine[m, s : s + d] += inst.power[j, m, :d]
    fig, ax = figure((11, 4))
    ax.stackplot(t, per_machine, step="post", alpha=0.75,
                 labels=[f"machine {m}" for m in range(inst.n_machines)] if inst.n_machines <= 5 else None)
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
    ax.set_title(title or f"{inst.name}: emissions {inst.emissions(start):,.2f}")
    return fig


def plot_convergence(curves: dict[str, np.ndarray], path: str, title: str = "", ylabel: str = "best emissions") -> None:
    """Best fitness per generation; ``curves`` maps a label to (runs, G + 1) or (G + 1,) arrays."""
    from jsched.plots import curves_figure

    _save(curves_figure(curves, "generation", ylabel, title), path)


def training_curve_figure(log: dict | None = None):
    """The DAC policy's PPO training curve: episode return (the MA's relative emissions
    improvement) and entropy per update; ``log`` defaults to the shipped ``train_log.json``."""
    import json
    from importlib import resources

    from jsched.plots import training_log_figure

    if log is None:
        log = json.loads((resources.files("jsched") / "assets" / "dac" / "train_log.json").read_text())
    return training_log_figure(log["log"], "update", ("episode_return", "entropy", "value_loss"), "DAC policy training (PPO)")
