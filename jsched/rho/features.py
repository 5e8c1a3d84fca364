"""L-RHO input features of one RHO window (paper App. A.3): a row per window operation
(``OP_FEATURES``) and per machine (``MACHINE_FEATURES``).

Times are relative to the window's earliest possible start, so that features stay stationary
along the horizon (standardised per feature, a late window would otherwise look out of range).

Under observation noise the features read the current observation (``WindowState.instance``):
``prev_p`` is the duration now observed on the previous machine and ``prev_end - prev_start``
the one the previous plan used, the two observations the paper's noise features (its Table 9)
re-evaluate; a noise model is this feature set trained on labels collected under noise.

A breakdown model (trained on labels collected under machine breakdowns) also reads the paper's
breakdown features (its Table 8): per operation and per machine whether some machine is down
(``bd_any``), per operation whether its previous machine is down (``bd_prev_down``) and whether
one of its machines was repaired since the previous window (``bd_recovered``), per machine
whether it is down (``bd_down``). :func:`feature_names` gives either set.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jsched.rho.loop import WindowState

OP_FEATURES = (
    "est", "p_mean", "p_std", "p_min", "p_max", "job", "op_index", "overlap", "prev_p", "other_p_mean",
    "other_p_min", "est_plus_prev_p", "prev_start", "prev_end", "prev_delay", "release", "due",
    "n_compatible", "window_pos",
)  # fmt: skip
MACHINE_FEATURES = ("ready", "n_overlap", "end_mean", "end_max", "p_mean", "p_std", "p_min", "p_max")
BREAKDOWN_OP_FEATURES = ("bd_any", "bd_prev_down", "bd_recovered")
BREAKDOWN_MACHINE_FEATURES = ("bd_any", "bd_down")


def feature_names(breakdown: bool = False) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(operation, machine) feature names: the base set, or with the breakdown features appended."""
    if breakdown:
        return OP_FEATURES + BREAKDOWN_OP_FEATURES, MACHINE_FEATURES + BREAKDOWN_MACHINE_FEATURES
    return OP_FEATURES, MACHINE_FEATURES


class WindowFeatures(NamedTuple):
    """Features of one window (unpadded).

    op: (K, F) float32; machine: (M, Fm) float32 (``feature_names``' widths);
    overlap: (K,) bool; prev_machine: (K,) int (-1 for new ops).
    """

    op: np.ndarray
    machine: np.ndarray
    overlap: np.ndarray
    prev_machine: np.ndarray


def window_features(st: WindowState, H: int | None = None, breakdown: bool = False) -> WindowFeatures:
    """Features of the window described by ``st`` (``H`` scales the position feature;
    ``breakdown`` appends the breakdown features)."""
    f = st.instance
    w = st.window
    k = len(w)
    H = H or k
    el = f.eligible[w]
    p = np.where(el, f.durations[w], np.nan).astype(np.float64)
    est = np.maximum(st.job_ready[f.op_job[w]], f.release[w]).astype(np.float64)
    t0 = float(est.min()) if k else 0.0
    fastest = np.nanargmin(np.where(el, p, np.inf), axis=1)
    ov = st.overlap
    pm = np.where(ov, st.prev_machine, fastest)
    prev_p = p[np.arange(k), pm]
    other = p.copy()
    other[np.arange(k), pm] = np.nan
    n_other = (~np.isnan(other)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        other_mean = np.where(n_other > 0, np.nanmean(np.where(n_other[:, None] > 0, other, 0.0), axis=1), -1.0)
        other_min = np.where(n_other > 0, np.nanmin(np.where(n_other[:, None] > 0, other, 0.0), axis=1), -1.0)
    rel = f.release[w].astype(np.float64)
    due = (f.due[w].astype(np.float64) - t0) if f.due is not None else np.zeros(k)
    neg = -np.ones(k)
    op = np.stack(
        [
            est - t0,
            np.nanmean(p, axis=1),
            np.nanstd(p, axis=1),
            np.nanmin(p, axis=1),
            np.nanmax(p, axis=1),
            f.op_job[w].astype(np.float64),
            f.op_index[w].astype(np.float64),
            np.where(ov, 1.0, -1.0),
            prev_p,
            other_mean,
            other_min,
            est - t0 + prev_p,
            np.where(ov, st.prev_start - t0, neg),
            np.where(ov, st.prev_end - t0, neg),
            np.where(ov, st.prev_start - rel, neg),
            rel - t0,
            due,
            el.sum(axis=1).astype(np.float64),
            np.arange(k) / H,
        ],
        axis=1,
    )
    mach = np.zeros((f.n_machines, len(MACHINE_FEATURES)))
    mach[:, 0] = st.machine_ready - t0
    for m in range(f.n_machines):
        sel = ov & (st.prev_machine == m)
        if sel.any():
            ends = st.prev_end[sel] - t0
            pp = f.durations[w[sel], m].astype(np.float64)
            mach[m, 1:] = [sel.sum(), ends.mean(), ends.max(), pp.mean(), pp.std(), pp.min(), pp.max()]
    if breakdown:
        op, mach = _with_breakdown_features(st, op, mach)
    return WindowFeatures(op.astype(np.float32), mach.astype(np.float32), ov.copy(), np.where(ov, st.prev_machine, -1))


def _with_breakdown_features(st: WindowState, op: np.ndarray, mach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``op`` and ``mach`` with the breakdown columns appended (1.0 / 0.0 flags)."""
    M, k = st.instance.n_machines, len(st.window)
    down = np.zeros(M, bool) if st.machine_up is None else ~st.machine_up
    rec = np.zeros(M, bool) if st.machine_recovered is None else st.machine_recovered
    el = st.instance.eligible[st.window]
    prev_down = st.overlap & down[np.clip(st.prev_machine, 0, M - 1)]
    any_down = np.full(k, float(down.any()))
    op = np.column_stack([op, any_down, prev_down, (el & rec).any(axis=1)])
    return op, np.column_stack([mach, np.full(M, float(down.any())), down])


def pad_batch(
    items: list[WindowFeatures], H: int, M: int, labels: list[np.ndarray] | None = None, breakdown: bool = False
) -> dict:
    """Stack windows into padded arrays (n, H, F) / (n, M, Fm) with masks (the dataset layout).

    Keys: op_x, op_mask, overlap, prev_m, m_x, m_mask, and labels (n, H) float32 when given
    (labels are per window op, 0 for new ops and padding). Feature widths are ``feature_names``'
    (with the breakdown features or not), also for an empty batch.
    """
    n = len(items)
    fo, fm = (len(names) for names in feature_names(breakdown))
    out = {
        "op_x": np.zeros((n, H, fo), np.float32),
        "op_mask": np.zeros((n, H), bool),
        "overlap": np.zeros((n, H), bool),
        "prev_m": np.full((n, H), -1, np.int32),
        "m_x": np.zeros((n, M, fm), np.float32),
        "m_mask": np.zeros((n, M), bool),
    }
    if labels is not None:
        out["labels"] = np.zeros((n, H), np.float32)
    for i, it in enumerate(items):
        k, m = len(it.op), len(it.machine)
        if k > H or m > M:
            raise ValueError(f"window of {k} ops / {m} machines does not fit H={H}, M={M}")
        if it.op.shape[1] != fo or it.machine.shape[1] != fm:
            raise ValueError(f"window features {it.op.shape[1]}/{it.machine.shape[1]} wide, expected {fo}/{fm}")
        out["op_x"][i, :k] = it.op
        out["op_mask"][i, :k] = True
        out["overlap"][i, :k] = it.overlap
        out["prev_m"][i, :k] = it.prev_machine
        out["m_x"][i, :m] = it.machine
        out["m_mask"][i, :m] = True
        if labels is not None:
            lab = np.zeros(k, np.float32)
            lab[it.overlap] = labels[i]
            out["labels"][i, :k] = lab
    return out
