"""The rolling-horizon (RHO) loop of L-RHO (Li et al., ICLR 2025, Alg. 1) and its variants.

Each iteration CP-SAT solves a window of the next ``H`` operations (boundary constraints from the
executed ones), the ``S`` earliest are executed, the rest overlap into the next window; the
variants differ only in which overlapping operations keep their previous machine. Observation
noise and machine breakdowns (unknown repair time) are the online settings.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from jsched import cpsat
from jsched.errors import JSchedError, SolverError
from jsched.instances.model import FJSPInstance, Instance, as_fjsp
from jsched.rho.breakdown import BreakdownQueue, check_breakdowns, validate_with_breakdowns
from jsched.rho.method import Config
from jsched.schedule import OBJECTIVES, Schedule, validate


@dataclass(frozen=True)
class RHOConfig(Config):
    """What the loop reads: the method's options (:class:`jsched.rho.method.Config`, whose
    ``checkpoint`` and ``breakdowns`` the method resolves) plus the run's seed and fixed knobs."""

    seed: int = 0
    threshold: float = 0.5  # lrho: fix an operation when its predicted keep probability >= threshold
    noise_low: int = -5  # observation noise: durations p + U{noise_low..noise_high}, clipped (see _observe)
    noise_high: int = 4
    noise_clip: tuple[int, int] = (3, 30)  # the authors' delay-setting clip (durations 3..29), widened per instance

    def options(self, seed_offset: int = 0) -> cpsat.CPSatOptions:
        stop = self.stop_after if self.stop_after and self.stop_after > 0 else None
        seed = self.seed + seed_offset
        return cpsat.CPSatOptions(time_limit=self.T, num_workers=self.workers, random_seed=seed, stop_after=stop,
                                  deterministic=self.deterministic)  # fmt: skip


@dataclass
class WindowState:
    """What the loop knows at the start of an iteration (input of fixers and feature builders).

    Attributes:
        instance: the (observed) FJSP instance the window is solved on.
        window: (K,) window operation rows in RHO order.
        overlap: (K,) bool, True for operations that were in the previous window.
        prev_machine, prev_start, prev_end: (K,) previous solution of overlapping ops (-1 else).
        job_ready: (J,) earliest start per job (latest executed end, and the clock after a
            breakdown event); machine_ready: (M,) the same per machine.
        machine_up: (M,) bool, False for machines down in a breakdown (not usable).
        machine_recovered: (M,) bool, True for machines repaired since the previous window solve.
    """

    instance: FJSPInstance
    window: np.ndarray
    overlap: np.ndarray
    prev_machine: np.ndarray
    prev_start: np.ndarray
    prev_end: np.ndarray
    job_ready: np.ndarray
    machine_ready: np.ndarray
    machine_up: np.ndarray | None = None
    machine_recovered: np.ndarray | None = None

    def allowed(self) -> np.ndarray | None:
        """(N, M) machine mask for CP-SAT (None when every machine is up)."""
        if self.machine_up is None or self.machine_up.all():
            return None
        return np.broadcast_to(self.machine_up, self.instance.eligible.shape)

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
        solve_cpu: process CPU time (all solver threads) of the counted window solves: the
            work done, less sensitive than wall time to other load on a shared machine.
        n_windows: number of window solves counted.
        n_overlap, n_fixed: totals over windows of overlapping and fixed operations.
        n_interrupted: operations interrupted by a breakdown (and restarted later).
        events: breakdown and recovery events in the order they were revealed.
        window: (N,) the window (0-based, in solve order) whose plan executed each operation.
    """

    schedule: Schedule
    objective: int
    solve_time: float
    total_time: float
    n_windows: int
    n_overlap: int = 0
    n_fixed: int = 0
    solve_cpu: float = 0.0
    n_interrupted: int = 0
    events: list = field(default_factory=list)  # (kind 'breakdown'|'recovery', time, machines, iteration)
    window: np.ndarray | None = None


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
    """Run the RHO loop on ``instance`` with ``config``.

    Operations are ordered once: makespan by (op index / job length, op index, random tie), which
    interleaves jobs; delay objectives by (release, job, op index). A window is the next ``H``
    unexecuted operations; CP-SAT solves it for the window's objective (makespan: the window's
    Cmax, as the paper, with the early stop on it; ``pack``: then the sum of ends at that Cmax)
    with every operation starting after the latest executed end of its job and machine. The
    ``S`` earliest planned operations (all, in the last window) are executed in planned start
    order, each as early as its job and machine allow (the paper keeps the solved starts: with a
    Cmax objective a solve that proves optimality early leaves idle gaps before non-critical
    operations, which this left shift closes without changing any sequence).
    Fixed machines by variant: ``first`` / ``random`` a ``p`` fraction of the overlap; ``oracle``
    the ones kept in the best of ``oracle_k`` unrestricted re-solves (:func:`oracle_labels`, not
    counted in the solve time); ``lrho`` those the predictor gives >= ``threshold``; ``warm``
    hints instead of fixing.

    Noise (``noise_prob``): window positions >= S are planned with perturbed durations and
    executed with the true ones (the left shift keeps them feasible). Breakdowns: an interval is
    revealed when execution reaches its start; the machine then leaves every compatible set until
    its end (a second event), operations with no machine up wait with the rest of their job, an
    operation running on a machine that goes down restarts later, and the window is re-solved
    from the event time on. Fixes and hints never name a down machine.

    Args:
        instance: JSP or FJSP instance (true durations).
        config: :class:`RHOConfig`.
        predictor: required for ``variant='lrho'``: keep probabilities of overlapping ops.
        recorder: called with (state, oracle labels) at every oracle window.
        breakdowns: ``(machine, start, end)`` intervals, revealed when execution reaches them.
        progress: called with (executed, total) after every iteration.

    Returns:
        An :class:`RHOResult` whose schedule passed the validator (with breakdowns:
        :func:`jsched.rho.breakdown.validate_with_breakdowns`).
    """
    t_begin = time.perf_counter()
    f = as_fjsp(instance)
    cfg = config
    if cfg.variant == "lrho" and predictor is None:
        raise JSchedError("variant 'lrho' needs a trained model (a predictor)")
    bd = check_breakdowns(breakdowns, f.n_machines)
    queue = BreakdownQueue(bd, f.n_machines)
    rng = np.random.default_rng(cfg.seed)
    order = rho_order(f, cfg.objective, rng)
    n = f.n_ops
    executed = np.zeros(n, bool)
    ex_machine = np.full(n, -1, np.int64)
    ex_start = np.full(n, -1, np.int64)
    ex_end = np.full(n, -1, np.int64)
    ex_window = np.full(n, -1, np.int64)
    now = 0  # the clock: time of the last revealed event (no operation starts before it)
    prev: dict[int, tuple[int, int, int]] = {}  # op -> (machine, start, end) in the last window solve
    solve_time, solve_cpu, n_windows, n_overlap, n_fixed, n_interrupted, events = 0.0, 0.0, 0, 0, 0, 0, []
    iteration = 0
    solved_up = np.ones(f.n_machines, bool)  # machines up at the last window solve
    while not executed.all():
        if iteration > 10 * (n + len(bd)) + 10:
            raise JSchedError("RHO loop made no progress")  # cannot happen; guards an endless loop
        up = queue.up
        window = _window(f, order, executed, up, cfg.H)
        job_ready, mach_ready = _ready(f, executed, ex_machine, ex_end, now)
        if len(window) == 0:  # every remaining op waits for a down machine: jump to the next event
            now, ev, k = _reveal(queue, iteration, executed, ex_machine, ex_start, ex_end)
            events += ev
            n_interrupted += k
            iteration += 1
            continue
        observed = _observe(f, window, cfg, rng) if cfg.noise_prob > 0 else f
        st = _state(observed, window, prev, job_ready, mach_ready, up, up & ~solved_up)
        solved_up = up.copy()
        fix_ops, hints, labels = _choose_fixed(st, cfg, predictor, iteration)
        if labels is not None and recorder is not None:
            recorder(st, labels)
        fix = {int(r): (prev[int(r)][0], None) for r in fix_ops}
        cpu0 = time.process_time()
        out = _solve_window(
            observed,
            cfg,
            ops=window,
            boundary=st.boundary(),
            hints=hints,
            fix=fix,
            allowed=st.allowed(),
            seed_offset=iteration,
        )
        solve_time += out.wall_time
        solve_cpu += time.process_time() - cpu0
        n_windows += 1
        n_overlap += int(st.overlap.sum())
        n_fixed += len(fix)
        # Execute the S earliest (all if the window holds every remaining op) in planned start
        # order, each left-shifted to the earliest time its job and machine allow (true durations).
        pos = {int(r): i for i, r in enumerate(window)}
        by_start = sorted(range(len(out.ops)), key=lambda i: (out.start[i], pos[int(out.ops[i])]))
        n_exec = len(by_start) if len(window) == int((~executed).sum()) else min(cfg.S, len(by_start))
        jr, mr = job_ready.copy(), mach_ready.copy()
        plan = []
        for i in by_start[:n_exec]:
            r, m = int(out.ops[i]), int(out.machine[i])
            s = max(int(jr[f.op_job[r]]), int(mr[m]), int(f.release[r]))
            e = s + int(f.durations[r, m])
            jr[f.op_job[r]], mr[m] = e, e
            plan.append((r, m, s, e))
        # The next event interrupts this plan if an op would still run after it.
        t_ev = queue.next_time()
        hit = t_ev is not None and any(e > t_ev or s >= t_ev for _, _, s, e in plan)
        for r, m, s, e in plan:
            if not hit or s < t_ev:
                executed[r] = True
                ex_machine[r], ex_start[r], ex_end[r], ex_window[r] = m, s, e, n_windows - 1
        if hit:
            now, ev, k = _reveal(queue, iteration, executed, ex_machine, ex_start, ex_end)
            events += ev
            n_interrupted += k
        prev = {int(r): (int(m), int(s), int(e)) for r, m, s, e in zip(out.ops, out.machine, out.start, out.end)}
        for r in np.flatnonzero(executed):
            prev.pop(int(r), None)
        iteration += 1
        if progress is not None:
            progress(int(executed.sum()), n)
    sched = Schedule.from_arrays(f, ex_start, ex_machine)
    sched = validate_with_breakdowns(f, sched, bd) if bd else validate(f, sched)
    return RHOResult(
        schedule=sched,
        objective=int(OBJECTIVES[cfg.objective](f, sched)),
        solve_time=solve_time,
        total_time=time.perf_counter() - t_begin,
        solve_cpu=solve_cpu,
        n_windows=n_windows,
        n_overlap=n_overlap,
        n_fixed=n_fixed,
        n_interrupted=n_interrupted,
        events=events,
        window=ex_window,
    )


# ---------------------------------------------------------------- helpers


def _window(f: FJSPInstance, order, executed, up, H: int) -> np.ndarray:
    """The next H unexecuted ops in RHO order, skipping ops that wait for a down machine: an op
    with every compatible machine down defers itself and every later op of its job."""
    rest = order[~executed[order]]
    if up.all():
        return rest[:H]
    waiting = ~(f.eligible[rest] & up).any(axis=1)
    first_wait = np.full(f.n_jobs, np.iinfo(np.int64).max)
    np.minimum.at(first_wait, f.op_job[rest[waiting]], f.op_index[rest[waiting]])
    ok = f.op_index[rest] < first_wait[f.op_job[rest]]
    return rest[ok][:H]


def _ready(f: FJSPInstance, executed, ex_machine, ex_end, now: int):
    """(job_ready, machine_ready): latest executed end per job / machine, at least ``now``."""
    jr = np.full(f.n_jobs, now, np.int64)
    mr = np.full(f.n_machines, now, np.int64)
    rows = np.flatnonzero(executed)
    np.maximum.at(jr, f.op_job[rows], ex_end[rows])
    np.maximum.at(mr, ex_machine[rows], ex_end[rows])
    return jr, mr


def _reveal(queue: BreakdownQueue, iteration, executed, ex_machine, ex_start, ex_end):
    """Reveal the next event time t: ops running at t on a machine that goes down are
    interrupted (un-executed). Returns (t, events, number interrupted)."""
    t, went_down, repaired = queue.pop()
    running = executed & (ex_start < t) & (ex_end > t) & np.isin(ex_machine, went_down)
    executed[running] = False
    ex_machine[running], ex_start[running], ex_end[running] = -1, -1, -1
    ev = []
    if went_down:
        ev.append(("breakdown", t, sorted(went_down), iteration))
    if repaired:
        ev.append(("recovery", t, sorted(repaired), iteration))
    return t, ev, int(running.sum())


def _state(f, window, prev, job_ready, mach_ready, up, recovered) -> WindowState:
    k = len(window)
    overlap = np.array([int(r) in prev for r in window], bool)
    pm, ps, pe = (np.full(k, -1, np.int64) for _ in range(3))
    for i, r in enumerate(window):
        if overlap[i]:
            pm[i], ps[i], pe[i] = prev[int(r)]
    return WindowState(f, np.asarray(window), overlap, pm, ps, pe, job_ready, mach_ready, up.copy(), recovered)


def _choose_fixed(st: WindowState, cfg: RHOConfig, predictor, iteration):
    """(ops to fix, hints, oracle labels or None) for the variant; an op whose previous machine
    is down is never fixed nor hinted (the authors' code drops such fixes too)."""
    ov = st.window[st.overlap]
    none = np.zeros(0, np.int64)
    if cfg.variant == "default" or len(ov) == 0:
        return none, None, None
    pm = st.prev_machine[st.overlap]
    usable = np.ones(len(ov), bool) if st.machine_up is None else st.machine_up[pm]
    if cfg.variant == "warm":
        return none, {int(r): (int(m), None) for r, m in zip(ov[usable], pm[usable])}, None
    k = int(round(cfg.p * len(ov)))
    if cfg.variant == "first":
        return ov[:k][usable[:k]], None, None
    if cfg.variant == "random":
        rng = np.random.default_rng([cfg.seed, iteration])
        pick = np.zeros(len(ov), bool)
        pick[rng.choice(len(ov), size=k, replace=False)] = True
        return ov[pick & usable], None, None
    if cfg.variant == "lrho":
        prob = np.asarray(predictor(st), np.float64)
        return ov[(prob >= cfg.threshold) & usable], None, None
    if cfg.variant == "oracle":
        labels = oracle_labels(st, cfg, iteration)
        return ov[labels.astype(bool)], None, labels
    raise JSchedError(f"unknown RHO variant {cfg.variant!r}")


def oracle_labels(st: WindowState, cfg: RHOConfig, iteration: int = 0) -> np.ndarray:
    """Look-ahead oracle: (n_overlap,) 0/1 labels, 1 = the op keeps its previous machine.

    Solves the unrestricted window ``cfg.oracle_k`` times (previous machines as hints, seeds
    ``cfg.seed + 1000 * (trial + 1) + iteration``) and labels from the trial with the most kept
    machines (``oracle_pick='overlap'``) or the best objective (``'objective'``); ties go to the
    better objective, then the earlier trial. ``'min-change'`` (makespan): each trial then keeps
    as many previous machines as its Cmax allows (:func:`jsched.cpsat.solve`'s ``keep``), and the
    best objective wins, so only operations that had to move for it are labelled 0. ``'consensus'``
    labels 1 only what every trial kept (the fixes no re-solve disputes), ``'majority'`` what more
    than half the trials kept. Down machines
    (``st.machine_up``) are excluded, so an op whose previous machine is down is labelled 0.
    """
    ov_mask = st.overlap
    prev_m = st.prev_machine[ov_mask]
    up = np.ones(st.instance.n_machines, bool) if st.machine_up is None else st.machine_up
    hints = {int(r): (int(m), None) for r, m in zip(st.window[ov_mask], prev_m) if up[m]}
    best, votes = None, np.zeros(len(prev_m), np.int64)
    for trial in range(cfg.oracle_k):
        out = _solve_window(
            st.instance,
            cfg,
            ops=st.window,
            boundary=st.boundary(),
            hints=hints,
            allowed=st.allowed(),
            seed_offset=1000 * (trial + 1) + iteration,
            keep={r: m for r, (m, _) in hints.items()} if cfg.oracle_pick == "min-change" else None,
        )
        pos = np.searchsorted(out.ops, st.window[ov_mask])
        same = (out.machine[pos] == prev_m).astype(np.int8)
        votes += same
        key = (-int(same.sum()), out.objective) if cfg.oracle_pick == "overlap" else (out.objective, -int(same.sum()))
        if best is None or key < best[0]:
            best = (key, same)
    if cfg.oracle_pick == "consensus":
        return (votes == cfg.oracle_k).astype(np.int8)
    if cfg.oracle_pick == "majority":
        return (2 * votes > cfg.oracle_k).astype(np.int8)
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
    """Noisy durations for window positions >= S (each with prob noise_prob), true elsewhere:
    p + U{noise_low..noise_high} clipped to ``noise_clip`` widened to the instance's own duration
    range (the authors' [3, 30] on their delay instances; on durations 1..99 it clips to [1, 99],
    not to 30), and never below 1."""
    dur = f.durations.copy()
    p = dur[f.eligible]
    lo, hi = max(1, min(cfg.noise_clip[0], int(p.min()))), max(cfg.noise_clip[1], int(p.max()))
    later = window[cfg.S :]
    hit = later[rng.random(len(later)) < cfg.noise_prob]
    if len(hit):
        delta = rng.integers(cfg.noise_low, cfg.noise_high + 1, size=(len(hit), f.n_machines))
        noisy = np.clip(dur[hit] + delta, lo, hi)
        dur[hit] = np.where(f.eligible[hit], noisy, 0)
    return FJSPInstance(f.name, f.n_machines, f.job_lengths, dur, f.eligible, release=f.release, due=f.due)
