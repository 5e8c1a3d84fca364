"""Pictures of the CTPN's marking: places with token counts, enabled transitions in green, the
one the rule fires outlined in red, so a user can see why the agent chose what it chose.

``draw_state`` returns one state as a matplotlib ``Figure`` (made without pyplot: the caller's
backend and open figures are left alone); ``render_state`` writes it as PNG or SVG;
``render_episode`` replays a rule sequence and writes a frame before every K-th agent decision
(the ``render_every`` option: one decision = ``commitment`` allocations under one rule).
"""

from __future__ import annotations

import os

import jax  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from jsched.atomic import atomic_path  # noqa: E402
from jsched.errors import JSchedError  # noqa: E402
from jsched.hh import env as R  # noqa: E402
from jsched.instances.arrays import jsp_params  # noqa: E402
from jsched.instances.model import JSPInstance  # noqa: E402
from jsched.kernels import petri  # noqa: E402
from jsched.kernels.jsp import JSPState  # noqa: E402

ENABLED, FIRED, PLACE = "#3a3", "#d22", "#f5f5f5"
_step = jax.jit(petri.step)
_choose = jax.jit(R.choose)


def draw_state(inst: JSPInstance, params, state: JSPState, title: str = "", fired_job: int | None = None) -> Figure:
    """The marking of ``state`` of ``inst`` (``params`` its padded arrays) as a new ``Figure``."""
    J, M = inst.n_jobs, inst.n_machines
    mk = np.asarray(petri.marking(params, state))
    Jp, Mp = params.machines.shape[0], params.machine_mask.shape[0]
    queue, buf = mk[:J], mk[Jp:Jp + M]
    proc, idle, fin = mk[Jp + Mp:Jp + Mp + M], mk[Jp + 2 * Mp:Jp + 2 * Mp + M], int(mk[-1])
    enabled = np.asarray(petri.action_mask(params, state))[:J]
    nxt = np.asarray(state.next_op)[:J]
    t = int(petri.clock(params, state))
    mready = np.asarray(state.machine_ready)[:M]
    rows = max(J, M)
    fig = Figure(figsize=(10, 0.42 * rows + 1.4))  # no pyplot: the caller's backend and state stay as they are
    ax = fig.subplots()
    ax.set_xlim(-0.5, 10.5)
    ax.set_ylim(-rows - 0.2, 1.0)
    ax.axis("off")
    ax.set_title(title or f"{inst.name}: t = {t}", fontsize=10)
    for lbl, x in (("job queues", 0.8), ("allocate", 3.0), ("buffer", 5.0), ("processing", 6.5), ("idle", 8.0),
                   ("finished", 9.6)):
        ax.text(x, 0.55, lbl, ha="center", fontsize=8, weight="bold")
    yj = lambda j: -j * rows / max(J, 1) - 0.3  # noqa: E731
    ym = lambda m: -m * rows / max(M, 1) - 0.3  # noqa: E731
    for j in range(J):
        y = yj(j)
        ax.add_patch(Circle((0.8, y), 0.17, fc=PLACE, ec="k", lw=0.8))
        ax.text(0.8, y, str(int(queue[j])), ha="center", va="center", fontsize=7)
        head = f"J{j}: op {nxt[j]} -> M{int(inst.machines[j, nxt[j]])}, p={int(inst.durations[j, nxt[j]])}" \
            if nxt[j] < inst.n_ops_per_job else f"J{j}: done"
        ax.text(1.05, y, head, va="center", fontsize=6)
        fc = ENABLED if enabled[j] else "white"
        ec = FIRED if fired_job == j else "k"
        ax.add_patch(Rectangle((2.95, y - 0.16), 0.1, 0.32, fc=fc, ec=ec, lw=2.0 if fired_job == j else 0.8))
        if enabled[j]:
            m = int(inst.machines[j, nxt[j]])
            ax.annotate("", xy=(4.8, ym(m)), xytext=(3.08, y),
                        arrowprops=dict(arrowstyle="->", color=FIRED if fired_job == j else ENABLED, lw=0.6, alpha=0.7))
    for m in range(M):
        y = ym(m)
        for x, val in ((5.0, buf[m]), (6.5, proc[m]), (8.0, idle[m])):
            ax.add_patch(Circle((x, y), 0.17, fc=PLACE, ec="k", lw=0.8))
            if val:
                ax.add_patch(Circle((x, y), 0.07, fc="k"))
        ax.text(5.3, y, f"M{m}", va="center", fontsize=6)
        if proc[m]:
            ax.text(6.75, y, f"{int(mready[m]) - t} left", va="center", fontsize=6)
    ax.add_patch(Circle((9.6, -rows / 2), 0.3, fc=PLACE, ec="k", lw=0.8))
    ax.text(9.6, -rows / 2, str(fin), ha="center", va="center", fontsize=8)
    return fig


def render_state(inst: JSPInstance, params, state: JSPState, path: str, title: str = "",
                 fired_job: int | None = None) -> str:
    """Write :func:`draw_state` to ``path`` (.png or .svg); returns ``path``."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg"):
        raise JSchedError(f"{path}: render format must be .png or .svg")
    fig = draw_state(inst, params, state, title, fired_job)
    with atomic_path(path, suffix=ext) as tmp:  # unique temporary name, fsync, one-line OS errors
        fig.savefig(tmp, format=ext[1:], dpi=110, bbox_inches="tight")
    return path


def render_episode(inst: JSPInstance, rules: list[str], out_dir: str, every: int = 1, fmt: str = "png",
                   commitment: int = 1) -> list[str]:
    """Replay ``inst`` with the rule sequence (one rule per agent decision of ``commitment``
    allocations) and write a frame before every ``every``-th decision and one of the final
    marking (``frame_DDDD``, D the decision). Returns the paths."""
    if every < 1:
        raise JSchedError("render_every must be >= 1")
    if commitment < 1:
        raise JSchedError("commitment must be >= 1")
    if any(r not in R.RULES for r in rules):
        raise JSchedError(f"unknown rule in {rules}; rules are {', '.join(R.RULES)}")
    p = jsp_params(inst)
    s = petri.reset(p)
    paths, k = [], 0
    while not bool(petri.done(p, s)):
        decision = k // commitment
        rule = rules[min(decision, len(rules) - 1)] if rules else "FIFO"
        job = int(_choose(R.RULES.index(rule), p, s))
        if k % commitment == 0 and decision % every == 0:
            t = int(petri.clock(p, s))
            title = f"{inst.name}  t={t}  decision {decision}: rule {rule} for {commitment}, first J{job}"
            paths.append(render_state(inst, p, s, os.path.join(out_dir, f"frame_{decision:04d}.{fmt}"), title, job))
        s = _step(p, s, job)[0]
        k += 1
    final = -(-k // commitment)
    paths.append(render_state(inst, p, s, os.path.join(out_dir, f"frame_{final:04d}.{fmt}"),
                              f"{inst.name}  final  makespan {int(petri.makespan(s))}"))
    return paths
