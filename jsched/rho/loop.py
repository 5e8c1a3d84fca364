"""The rolling-horizon (RHO) loop and its variants (L-RHO paper Alg. 1; code ``mk/flexible_jss_main.py``).

Operations are sorted once (makespan: by (op index / job length, op index, random), which
interleaves jobs as the authors' code does; delay objectives: by (release, job, op index)).
Each iteration the window holds the next ``H`` not-yet-executed operations; the window FJSP is
solved by CP-SAT (``jsched.cpsat.solve``, time limit ``T``, early stop after ``stop_after`` s
without improvement; under the makespan objective the window minimises K * Cmax + sum of ends
by default, ``pack``, because the window's Cmax alone lets non-critical operations drift late:
on mk01 with (H, S) = (20, 10) this gives 42 instead of 44-48; ``pack=False`` is the code's model) with boundary constraints (every operation starts after the latest
executed end of its job and of its machine; no gap filling, as in the code). The ``S``
operations with the earliest solved starts are executed (all of them when the window holds
every remaining operation); the rest are deferred and form the *overlap* of the next window.

Variants differ only in the set of overlapping operations whose machine is fixed to the
previous window's choice:

* ``default``: nothing fixed; ``warm``: previous machines given as hints (not fixed);
* ``first``: the first ``p`` fraction of overlapping operations in RHO order;
* ``random``: a random ``p`` fraction;
* ``oracle``: solve the unrestricted window ``oracle_k`` times (previous machines as hints,
  seeds ``seed + trial``); in the chosen trial (``oracle_pick``: ``overlap`` = most operations
  kept, the spec and the delay code; ``objective`` = best objective, the makespan code) an
  overlapping operation is labelled *keep* if its machine is unchanged; fix those and solve the
  restricted window. Oracle trials are not counted in the solve time (as in the code);
* ``lrho``: a trained network (``jsched.rho.net``) predicts keep probabilities; fix those >= 0.5.

Online settings:

* observation noise (``noise_prob`` > 0): each iteration, window operations at positions >= S
  are observed with probability ``noise_prob`` with durations p + U{noise_low..noise_high},
  clipped to ``noise_clip``; the solve uses the observed durations, execution the true ones, in
  planned start order, each start pushed to max(planned, job ready, machine ready) to stay
  feasible (paper Alg. 6).
* machine breakdowns (``breakdowns``: ``(machine, start, end)`` intervals): a breakdown becomes
  known when execution reaches it. Executing operations in planned start order, the first one
  that would overlap an unknown breakdown on its machine halts execution (it and all later ones
  are deferred), the breakdown becomes known and the window is re-optimised with it as a
  blocked interval on that machine (event-based rescheduling at the breakdown start). Choice
  where the paper is loose: the repair end is known at the breakdown start, so down machines
  are blocked until then instead of leaving compatible sets until a second event.

The solve time reported is the sum of the counted window solves' wall times; ``total_time``
is the whole loop's wall time (oracle trials included). The final schedule is validated with
:func:`jsched.schedule.validate` (and, with breakdowns, checked against every breakdown).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from jsched import cpsat
from jsched.errors import JSchedError, ScheduleError, SolverError
from jsched.instances.model import FJSPInstance, Instance, as_fjsp
from jsched.schedule import OBJECTIVES, Schedule, validate

VARIANTS = ("default", "warm", "first", "random", "oracle", "lrho")


@dataclass(frozen=True)
class RHOConfig:
    """Loop settings (defaults: the paper's makespan setting, (H, S, T, stop) = (80, 30, 60, 3))."""

    H: int = 80
    S: int = 30
    T: float = 60.0
    stop_after: float | None = 3.0
    objective: str = "makespan"
    variant: str = "default"
    p: float = 0.5  # fraction fixed by 'first' / 'random'
    oracle_k: int = 3
    oracle_pick: str = "overlap"  # or 'objective'
    threshold: float = 0.5  # lrho: fix when the predicted keep probability >= threshold
    workers: int = 2
    seed: int = 0
    noise_prob: float = 0.0
    noise_low: int = -5
    noise_high: int = 4
    noise_clip: tuple[int, int | None] = (1, None)
    pack: bool = True  # makespan windows: minimise K*Cmax + sum(ends) (False: Cmax, as the code)

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise JSchedError(f"unknown RHO variant {self.variant!r}; choose one of {', '.join(VARIANTS)}")
        if self.objective not in cpsat.OBJECTIVES:
            raise JSchedError(f"unknown objective {self.objective!r}; choose one of {', '.join(cpsat.OBJECTIVES)}")
        if not (1 <= self.S <= self.H):
            raise JSchedError(f"need 1 <= S <= H, got S={self.S}, H={self.H}")
        if self.oracle_pick not in ("overlap", "objective"):
            raise JSchedError("oracle_pick must be 'overlap' or 'objective'")
        if not 0.0 <= self.p <= 1.0:
            raise JSchedError(f"p must be in [0, 1], got {self.p}")

    def options(self, seed_offset: int = 0) -> cpsat.CPSatOptions:
        return cpsat.CPSatOptions(
            time_limit=self.T, num_workers=self.workers, random_seed=self.seed + seed_offset, stop_after=self.stop_after
        )


@dataclass
class WindowState:
    """What the loop knows at the start of an iteration (input of fixers and feature builders).

    Attributes:
        instance: the (observed) FJSP instance the window is solved on.
        window: (K,) window operation rows in RHO order.
        overlap: (K,) bool, True for operations that were in the previous window.
        prev_machine, prev_start, prev_end: (K,) previous solution of overlapping ops (-1 else).
        job_ready: (J,) latest executed end per job; machine_ready: (M,) per machine.
    """

    instance: FJSPInstance
    window: np.ndarray
    overlap: np.ndarray
    prev_machine: np.ndarray
    prev_start: np.ndarray
    prev_end: np.ndarray
    job_ready: np.ndarray
    machine_ready: np.ndarray

    def boundary(self) -> cpsat.Boundary:
        return cpsat.Boundary(job_ready=self.job_ready, machine_ready=self.machine_ready)


# A predictor maps a WindowState to keep probabilities for its overlapping operations.
Predictor = Callable[[WindowState], np.ndarray]
# A recorder receives (state, labels) for every oracle window (training data collection).
Recorder = Callable[[WindowState, np.ndarray], None]


@dataclass
class RHOResult:
    """Outcome of one RHO run.

    Attributes:
        schedule: the validated full schedule.
        objective: its value for the configured objective.
        solve_time: sum of the counted window solves' wall times (seconds).
        total_time: wall time of the whole loop (oracle trials included).
        n_windows: number of window solves counted.
        n_overlap, n_fixed: totals over windows of overlapping and fixed operations.
    """

    schedule: Schedule
    objective: int
    solve_time: float
    total_time: float
    n_windows: int
    n_overlap: int = 0
    n_fixed: int = 0
    events: list = field(default_factory=list)  # (kind, time, machines, iteration)


def rho_order(f: FJSPInstance, objective: str, rng: np.random.Generator) -> np.ndarray:
    """RHO sequence of operation rows (respects job precedence)."""
    tie = rng.random(f.n_ops)
    if objective == "makespan":
        frac = f.op_index / f.job_lengths[f.op_job]
        return np.lexsort((tie, f.op_index, frac))
    return np.lexsort((f.op_index, f.op_job, f.release))


def run_rho(
    instance: Instance,
    config: RHOConfig,
    *,
    predictor: Predictor | None = None,
    recorder: Recorder | None = None,
    breakdowns: list[tuple[int, int, int]] | tuple = (),
    progress: Callable[[int, int], None] | None = None,
) -> RHOResult:
    """Run the RHO loop on ``instance`` with ``config``; see the module docstring.

    Args:
        instance: JSP or FJSP instance (true durations).
        config: :class:`RHOConfig`.
        predictor: required for ``variant='lrho'``: keep probabilities of overlapping ops.
        recorder: called with (state, oracle labels) at every oracle window.
        breakdowns: ``(machine, start, end)`` intervals, revealed when execution reaches them.
        progress: called with (executed, total) after every iteration.

    Returns:
        An :class:`RHOResult` with a validated schedule.
    """
    t_begin = time.perf_counter()
    f = as_fjsp(instance)
    cfg = config
    if cfg.variant == "lrho" and predictor is None:
        raise JSchedError("variant 'lrho' needs a trained model (a predictor)")
    rng = np.random.default_rng(cfg.seed)
    order = rho_order(f, cfg.objective, rng)
    n = f.n_ops
    executed = np.zeros(n, bool)
    ex_machine = np.full(n, -1, np.int64)
    ex_start = np.full(n, -1, np.int64)
    job_ready = np.zeros(f.n_jobs, np.int64)
    mach_ready = np.zeros(f.n_machines, np.int64)
    prev: dict[int, tuple[int, int, int]] = {}  # op -> (machine, start, end) in the last window solve
    known: list[tuple[int, int, int]] = []
    pending = sorted(tuple(int(x) for x in b) for b in breakdowns)
    solve_time, n_windows, n_overlap, n_fixed, events = 0.0, 0, 0, 0, []
    iteration = 0
    while not executed.all():
        window = order[~executed[order]][: cfg.H]
        observed = _observe(f, window, cfg, rng) if cfg.noise_prob > 0 else f
        st = _state(observed, window, prev, job_ready, mach_ready)
        fix_ops, hints, labels = _choose_fixed(st, cfg, predictor, known, iteration)
        if labels is not None and recorder is not None:
            recorder(st, labels)
        fix = {int(r): (prev[int(r)][0], None) for r in fix_ops}
        out = _solve_window(
            observed,
            cfg,
            ops=window,
            boundary=st.boundary(),
            hints=hints,
            fix=fix,
            blocked=known,
            seed_offset=iteration,
        )
        solve_time += out.wall_time
        n_windows += 1
        n_overlap += int(st.overlap.sum())
        n_fixed += len(fix)
        # Execute the S earliest (all if the window holds every remaining op).
        pos = {int(r): i for i, r in enumerate(window)}
        by_start = sorted(range(len(out.ops)), key=lambda i: (out.start[i], pos[int(out.ops[i])]))
        n_exec = len(by_start) if len(window) == int((~executed).sum()) else min(cfg.S, len(by_start))
        for i in by_start[:n_exec]:
            r, m = int(out.ops[i]), int(out.machine[i])
            s = max(int(out.start[i]), int(job_ready[f.op_job[r]]), int(mach_ready[m]), int(f.release[r]))
            e = s + int(f.durations[r, m])
            for b in sorted(b for b in known if b[0] == m):  # true durations may run into a known breakdown
                if s < b[2] and e > b[1] and e > s:
                    s, e = b[2], b[2] + (e - s)
            hit = next((b for b in pending if b[0] == m and s < b[2] and e > b[1] and e > s), None)
            if hit is not None:
                # The breakdown starts: halt, reveal it (and its simultaneous events), re-optimise.
                newly = [b for b in pending if b[1] == hit[1]]
                known.extend(newly)
                pending = [b for b in pending if b[1] != hit[1]]
                events.append(("breakdown", hit[1], [b[0] for b in newly], iteration))
                break
            executed[r] = True
            ex_machine[r], ex_start[r] = m, s
            job_ready[f.op_job[r]] = max(job_ready[f.op_job[r]], e)
            mach_ready[m] = max(mach_ready[m], e)
        prev = {int(r): (int(m), int(s), int(e)) for r, m, s, e in zip(out.ops, out.machine, out.start, out.end)}
        for r in np.flatnonzero(executed):
            prev.pop(int(r), None)
        iteration += 1
        if progress is not None:
            progress(int(executed.sum()), n)
        if iteration > 10 * n + 10 * len(breakdowns) + 10:
            raise JSchedError("RHO loop made no progress")  # cannot happen; guards an endless loop
    sched = validate(f, Schedule.from_arrays(f, ex_start, ex_machine))
    for m, lo, hi in breakdowns:
        on = (sched.machine == m) & (sched.start < hi) & (sched.end > lo) & (sched.end > sched.start)
        if on.any():
            raise ScheduleError(f"breakdown: machine {m} is down in [{lo}, {hi}) but runs an operation")
    return RHOResult(
        schedule=sched,
        objective=int(OBJECTIVES[cfg.objective](f, sched)),
        solve_time=solve_time,
        total_time=time.perf_counter() - t_begin,
        n_windows=n_windows,
        n_overlap=n_overlap,
        n_fixed=n_fixed,
        events=events,
    )


# ---------------------------------------------------------------- helpers


def _state(f, window, prev, job_ready, mach_ready) -> WindowState:
    k = len(window)
    overlap = np.array([int(r) in prev for r in window], bool)
    pm, ps, pe = (np.full(k, -1, np.int64) for _ in range(3))
    for i, r in enumerate(window):
        if overlap[i]:
            pm[i], ps[i], pe[i] = prev[int(r)]
    return WindowState(f, np.asarray(window), overlap, pm, ps, pe, job_ready.copy(), mach_ready.copy())


def _choose_fixed(st: WindowState, cfg: RHOConfig, predictor, known, iteration):
    """(ops to fix, hints, oracle labels or None) for the variant."""
    ov = st.window[st.overlap]
    none = np.zeros(0, np.int64)
    if cfg.variant == "default" or len(ov) == 0:
        return none, None, None
    prev_assign = {int(r): (int(m), None) for r, m in zip(ov, st.prev_machine[st.overlap])}
    if cfg.variant == "warm":
        return none, prev_assign, None
    k = int(round(cfg.p * len(ov)))
    if cfg.variant == "first":
        return ov[:k], None, None
    if cfg.variant == "random":
        rng = np.random.default_rng([cfg.seed, iteration])
        return np.sort(rng.choice(ov, size=k, replace=False)), None, None
    if cfg.variant == "lrho":
        prob = np.asarray(predictor(st), np.float64)
        return ov[prob >= cfg.threshold], None, None
    labels = oracle_labels(st, cfg, known, iteration)
    return ov[labels.astype(bool)], None, labels


def oracle_labels(st: WindowState, cfg: RHOConfig, known=(), iteration: int = 0) -> np.ndarray:
    """Look-ahead oracle: (n_overlap,) 0/1 labels, 1 = the op keeps its previous machine.

    Solves the unrestricted window ``cfg.oracle_k`` times (previous machines as hints, seeds
    ``cfg.seed + 1000 * (trial + 1) + iteration``) and labels from the trial with the most kept
    machines (``oracle_pick='overlap'``) or the best objective (``'objective'``); ties go to the
    better objective, then the earlier trial.
    """
    ov_mask = st.overlap
    prev_m = st.prev_machine[ov_mask]
    hints = {int(r): (int(m), None) for r, m in zip(st.window[ov_mask], prev_m)}
    best = None
    for trial in range(cfg.oracle_k):
        out = _solve_window(
            st.instance,
            cfg,
            ops=st.window,
            boundary=st.boundary(),
            hints=hints,
            blocked=list(known),
            seed_offset=1000 * (trial + 1) + iteration,
        )
        pos = np.searchsorted(out.ops, st.window[ov_mask])
        same = (out.machine[pos] == prev_m).astype(np.int8)
        key = (-int(same.sum()), out.objective) if cfg.oracle_pick == "overlap" else (out.objective, -int(same.sum()))
        if best is None or key < best[0]:
            best = (key, same)
    return best[1]


def _solve_window(instance, cfg: RHOConfig, seed_offset: int, retries: int = 3, **kw) -> cpsat.CPSatResult:
    """cpsat.solve on a window; if no solution is found within T (status UNKNOWN, e.g. on a
    loaded machine), retry with a doubled time limit (the window is always feasible: no
    deadlines, and fixing machines keeps a feasible schedule)."""
    opts = cfg.options(seed_offset)
    for attempt in range(retries + 1):
        try:
            return cpsat.solve(instance, cfg.objective, pack=cfg.pack, options=opts, **kw)
        except SolverError as e:
            if "UNKNOWN" not in str(e) or attempt == retries or opts.time_limit is None:
                raise
            opts = dataclasses.replace(opts, time_limit=2 * opts.time_limit)
    raise AssertionError("unreachable")


def _observe(f: FJSPInstance, window: np.ndarray, cfg: RHOConfig, rng: np.random.Generator) -> FJSPInstance:
    """Noisy durations for window positions >= S (each with prob noise_prob), true elsewhere."""
    dur = f.durations.copy()
    later = window[cfg.S :]
    hit = later[rng.random(len(later)) < cfg.noise_prob]
    if len(hit):
        delta = rng.integers(cfg.noise_low, cfg.noise_high + 1, size=(len(hit), f.n_machines))
        lo, hi = cfg.noise_clip
        noisy = np.clip(dur[hit] + delta, lo, hi)
        dur[hit] = np.where(f.eligible[hit], noisy, 0)
    return FJSPInstance(f.name, f.n_machines, f.job_lengths, dur, f.eligible, release=f.release, due=f.due)
