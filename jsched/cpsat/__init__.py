"""CP-SAT models of the JSP and FJSP (ortools): the one builder for full problems and RHO windows.

Every operation has a start variable and, per eligible machine, an optional interval with a
presence literal (exactly one present; a JSP is the classic disjunctive model), job chains,
one ``AddNoOverlap`` per machine and release times (the L-RHO paper's model, Sec. 3).
Objectives (``OBJECTIVES``): makespan, start delay, start + end delay, and on instances with job
due dates total / weighted tardiness, tardy jobs and maximum lateness. For windows, :func:`solve`
takes ``ops`` (a subset), a :class:`Boundary` (earliest starts left by executed operations),
``hints`` (warm start; a complete one also sets the objective's own variables, so CP-SAT
takes it as its first solution: ``CPSatResult.hint_status``), ``fix`` (enforced
machines/starts), ``allowed`` (machines down), ``blocked`` intervals, ``pack`` (Cmax, then the sum
of ends at that Cmax) and ``keep`` (Cmax, then the most operations on given machines at that
Cmax: L-RHO's minimum-change oracle). :class:`CPSatOptions` sets the time
limit, the workers (explicit: CP-SAT's default takes every core), the seed, an early stop without
improvement and the log. A complete solve returns a validated ``Schedule``; no solution raises
``SolverError``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Mapping, Sequence, Union

import numpy as np
from ortools.sat.python import cp_model

from jsched.errors import SolverError
from jsched.instances.model import FJSPInstance, Instance, as_fjsp
from jsched.schedule import DUE_DATE_OBJECTIVES, Schedule, require_due_dates, validate

OBJECTIVES = ("makespan", "start_delay", "start_end_delay") + DUE_DATE_OBJECTIVES

# op row -> (machine or None, start or None)
Assignment = Mapping[int, tuple[Union[int, None], Union[int, None]]]


@dataclass(frozen=True)
class CPSatOptions:
    """Solver settings.

    Attributes:
        time_limit: seconds (None: no limit).
        num_workers: CP-SAT search workers (threads); explicit because the solver default
            uses every core.
        random_seed: CP-SAT seed (with one worker, results are reproducible).
        stop_after: stop when the best objective has not improved for this many seconds
            (None: off). Never stops before a first solution.
        log: print CP-SAT's search log.
        deterministic: interleave the workers' search in fixed batches (CP-SAT's
            ``interleave_search``), so that a solve that ends before ``time_limit`` and
            ``stop_after`` returns the same solution on every run, with any number of workers.
    """

    time_limit: float | None = 10.0
    num_workers: int = 2
    random_seed: int = 0
    stop_after: float | None = None
    log: bool = False
    deterministic: bool = False


@dataclass(frozen=True)
class Boundary:
    """Earliest starts imposed on a (sub)problem by already executed operations.

    Attributes:
        job_ready: (J,) earliest start of any solved operation of job j (its last executed end).
        machine_ready: (M,) earliest start of any solved operation placed on machine m.
        op_ready: (N,) earliest start of each operation.
    """

    job_ready: np.ndarray | None = None
    machine_ready: np.ndarray | None = None
    op_ready: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class CPSatResult:
    """Outcome of one CP-SAT solve.

    Attributes:
        status: 'OPTIMAL' or 'FEASIBLE' (other statuses raise SolverError).
        objective: objective value of the returned solution.
        bound: best proven lower bound on the objective.
        wall_time: seconds spent building and solving the model.
        ops: (K,) flat operation rows that were solved, ascending.
        machine, start, end: (K,) the solution for those operations.
        schedule: the validated full Schedule when ``ops`` covers the instance, else None.
        curve: (seconds since the solve began, objective) of every improving solution.
        hint_status: with hints, CP-SAT's verdict: 'feasible' (complete and feasible: its first
            solution), 'infeasible' (complete but infeasible: CP-SAT repairs it) or 'partial'.
    """

    status: str
    objective: float
    bound: float
    wall_time: float
    ops: np.ndarray
    machine: np.ndarray
    start: np.ndarray
    end: np.ndarray
    schedule: Schedule | None
    curve: tuple[tuple[float, float], ...] = ()
    hint_status: str | None = None

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"

    def assignment(self) -> dict[int, tuple[int, int]]:
        """``{op: (machine, start)}`` of the solved operations (the hint/fix form)."""
        return {int(o): (int(m), int(s)) for o, m, s in zip(self.ops, self.machine, self.start)}


def assignment_of(instance: Instance, schedule: Schedule) -> dict[int, tuple[int, int]]:
    """``{op row: (machine, start)}`` of every operation of a schedule."""
    f = as_fjsp(instance)
    rows = f.job_start[schedule.job] + schedule.op
    return {int(r): (int(m), int(s)) for r, m, s in zip(rows, schedule.machine, schedule.start)}


def solve(
    instance: Instance,
    objective: str = "makespan",
    *,
    ops: Sequence[int] | np.ndarray | None = None,
    boundary: Boundary | None = None,
    hints: Schedule | Assignment | None = None,
    fix: Schedule | Assignment | None = None,
    allowed: np.ndarray | None = None,
    blocked: Sequence[tuple[int, int, int]] = (),
    pack: bool = False,
    keep: Mapping[int, int] | None = None,
    options: CPSatOptions = CPSatOptions(),
) -> CPSatResult:
    """Build and solve the CP-SAT model of ``instance`` (or of the window ``ops``).

    Args:
        instance: a JSPInstance or FJSPInstance (solved through its FJSP view).
        objective: one of ``OBJECTIVES``.
        ops: flat operation rows to solve (default: all). Per job they must be consecutive.
        boundary: earliest starts per job / machine / operation.
        hints: solution hint (Schedule or partial ``{op: (machine, start)}``).
        fix: enforced assignment (Schedule or partial ``{op: (machine, start)}``).
        allowed: (N, M) bool mask intersected with the instance's eligibility.
        blocked: ``(machine, start, end)`` intervals during which a machine is unavailable.
        pack: makespan only: lexicographic, Cmax first (with ``stop_after``), then the sum of
            end times at that Cmax, hinted with the first solution, for at most the first
            phase's time (at least 0.1 s) within ``time_limit``: a window's operations are also
            packed early (a rolling-horizon choice; ``objective`` and ``bound`` are Cmax's).
        keep: makespan only, ``{op: machine}``: lexicographic like ``pack``, but the second phase
            maximises the number of these operations on their given machine at the first
            phase's Cmax (which operations must move to reach it; not with ``pack``).
        options: :class:`CPSatOptions`.

    Returns:
        A :class:`CPSatResult`.

    Raises:
        SolverError: bad arguments, infeasible model, or no solution within the limits.
    """
    t0 = time.perf_counter()
    f = as_fjsp(instance)
    if objective not in OBJECTIVES:
        raise SolverError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    if objective in DUE_DATE_OBJECTIVES:
        require_due_dates(f, f"objective {objective}")
    if keep is not None and (pack or objective != "makespan"):
        raise SolverError("keep is a second phase of the makespan objective, without pack")
    rows = _check_ops(f, ops)
    elig = f.eligible if allowed is None else f.eligible & np.asarray(allowed, bool)
    fixed = _as_assignment(f, fix)
    hinted = _as_assignment(f, hints)
    earliest = _earliest_starts(f, rows, boundary)
    mready = None
    if boundary is not None and boundary.machine_ready is not None:
        mready = np.asarray(boundary.machine_ready, np.int64)
        if mready.shape != (f.n_machines,):
            raise SolverError(f"boundary.machine_ready must have shape ({f.n_machines},), got {mready.shape}")

    # Machines each op may use, after masks and fixes.
    choices: dict[int, np.ndarray] = {}
    for r in rows:
        ms = np.flatnonzero(elig[r])
        fm = fixed.get(int(r), (None, None))[0]
        if fm is not None:
            if not f.eligible[r, fm]:
                raise SolverError(
                    f"fix: operation {int(r)} (job {int(f.op_job[r])}, op {int(f.op_index[r])}) "
                    f"cannot run on machine {fm}; eligible {np.flatnonzero(f.eligible[r]).tolist()}"
                )
            ms = np.array([fm])
        if len(ms) == 0:
            raise SolverError(
                f"operation {int(r)} (job {int(f.op_job[r])}, op {int(f.op_index[r])}) has no allowed machine"
            )
        choices[int(r)] = ms

    horizon = _horizon(f, rows, choices, earliest, mready, fixed, blocked)
    model = cp_model.CpModel()
    start, end, presence = {}, {}, {}
    per_machine: dict[int, list] = {m: [] for m in range(f.n_machines)}
    for r in rows:
        r = int(r)
        ms = choices[r]
        s = model.new_int_var(int(earliest[r]), horizon, f"s{r}")
        d = f.durations[r, ms]
        if len(ms) == 1:
            e = s + int(d[0])
            iv = model.new_fixed_size_interval_var(s, int(d[0]), f"i{r}")
            per_machine[int(ms[0])].append(iv)
            presence[r] = {int(ms[0]): None}
            if mready is not None:
                model.add(s >= int(mready[ms[0]]))
        else:
            lits = {}
            for m, dm in zip(ms, d):
                m = int(m)
                lit = model.new_bool_var(f"x{r}_{m}")
                iv = model.new_optional_fixed_size_interval_var(s, int(dm), lit, f"i{r}_{m}")
                per_machine[m].append(iv)
                lits[m] = lit
                if mready is not None and mready[m] > earliest[r]:
                    model.add(s >= int(mready[m])).only_enforce_if(lit)
            model.add_exactly_one(lits.values())
            e = s + sum(int(dm) * lits[int(m)] for m, dm in zip(ms, d))
            presence[r] = lits
        fs = fixed.get(r, (None, None))[1]
        if fs is not None:
            model.add(s == int(fs))
        start[r], end[r] = s, e
    for m, lo, hi in blocked:
        if hi > lo:
            per_machine[int(m)].append(model.new_fixed_size_interval_var(int(lo), int(hi - lo), f"b{m}_{lo}"))
    for ivs in per_machine.values():
        if len(ivs) > 1:
            model.add_no_overlap(ivs)
    # Job precedence between consecutive window operations.
    for a, b in zip(rows[:-1], rows[1:]):
        if f.op_job[a] == f.op_job[b]:
            model.add(start[int(b)] >= end[int(a)])

    aux = _set_objective(model, f, rows, objective, start, end, horizon)
    complete = _add_hints(model, f, rows, hinted, start, presence, aux)
    res = _run(model, f, rows, objective, start, presence, options, t0, complete)
    if pack and objective == "makespan":
        res = _second_phase(model, f, rows, start, presence, aux[0][0], res, options, t0,
                            minimize=sum(end[int(r)] for r in rows))  # fmt: skip
    lits = _keep_literals(presence, keep or {})
    if lits:
        res = _second_phase(model, f, rows, start, presence, aux[0][0], res, options, t0, minimize=-sum(lits))
    return res


def _keep_literals(presence: dict, keep: Mapping[int, int]) -> list:
    """Presence literals 'op r on machine keep[r]' of the ops that have a machine choice there
    (an op with one allowed machine keeps it or cannot, whatever the solve)."""
    return [presence[int(r)][int(m)] for r, m in keep.items()
            if int(r) in presence and presence[int(r)].get(int(m)) is not None]  # fmt: skip


# ---------------------------------------------------------------- helpers


def _check_ops(f: FJSPInstance, ops) -> np.ndarray:
    if ops is None:
        return np.arange(f.n_ops)
    rows = np.unique(np.asarray(ops, np.int64).ravel())
    if len(rows) == 0:
        raise SolverError("empty operation window")
    if rows[0] < 0 or rows[-1] >= f.n_ops:
        raise SolverError(f"operation rows must be in 0..{f.n_ops - 1}")
    same = f.op_job[rows[1:]] == f.op_job[rows[:-1]]
    gap = same & (rows[1:] != rows[:-1] + 1)
    if gap.any():
        i = int(np.flatnonzero(gap)[0])
        raise SolverError(
            f"window operations of job {int(f.op_job[rows[i]])} are not consecutive "
            f"(op {int(f.op_index[rows[i]])} then op {int(f.op_index[rows[i + 1]])})"
        )
    return rows


def _as_assignment(f: FJSPInstance, a) -> dict[int, tuple[int | None, int | None]]:
    if a is None:
        return {}
    if isinstance(a, Schedule):
        return assignment_of(f, a)
    out = {}
    for r, (m, s) in a.items():
        if not 0 <= int(r) < f.n_ops or (m is not None and not 0 <= int(m) < f.n_machines):
            raise SolverError(f"assignment entry {r}: ({m}, {s}) out of range")
        out[int(r)] = (None if m is None else int(m), None if s is None else int(s))
    return out


def _earliest_starts(f: FJSPInstance, rows: np.ndarray, b: Boundary | None) -> np.ndarray:
    est = f.release.copy()
    if b is None:
        return est
    if b.job_ready is not None:
        jr = np.asarray(b.job_ready, np.int64)
        if jr.shape != (f.n_jobs,):
            raise SolverError(f"boundary.job_ready must have shape ({f.n_jobs},), got {jr.shape}")
        est = np.maximum(est, jr[f.op_job])
    if b.op_ready is not None:
        opr = np.asarray(b.op_ready, np.int64)
        if opr.shape != (f.n_ops,):
            raise SolverError(f"boundary.op_ready must have shape ({f.n_ops},), got {opr.shape}")
        est = np.maximum(est, opr)
    return est


def _horizon(f, rows, choices, earliest, mready, fixed, blocked) -> int:
    """A safe upper bound on every end: latest earliest start + all work + blocked time."""
    work = sum(int(f.durations[r, choices[int(r)]].max()) for r in rows)
    base = int(earliest[rows].max(initial=0))
    if mready is not None:
        base = max(base, int(mready.max(initial=0)))
    for r, (_, s) in fixed.items():
        if s is not None:
            base = max(base, s)
    for _, lo, hi in blocked:
        base = max(base, int(lo))
        work += max(0, int(hi - lo))
    return base + work + 1


def _set_objective(model, f, rows, objective, start, end, horizon) -> list:
    """Set the objective; return its auxiliary variables as ``[(var, value(ends))]`` (``ends``:
    ``{row: end}``) so that a complete hint gives them their values too."""
    if objective == "makespan":
        cmax = model.new_int_var(0, horizon, "cmax")
        model.add_max_equality(cmax, [end[int(r)] for r in rows])
        model.minimize(cmax)
        return [(cmax, lambda e: max(e.values()))]
    if objective in DUE_DATE_OBJECTIVES:
        return _due_date_objective(model, f, rows, objective, end, horizon)
    terms = [start[int(r)] - int(f.release[r]) for r in rows]
    aux = []
    if objective == "start_end_delay" and f.due is not None:
        for r in rows:
            r, due = int(r), int(f.due[r])
            t = model.new_int_var(0, horizon, f"t{r}")
            model.add(t >= end[r] - due)
            terms.append(t)
            aux.append((t, lambda e, r=r, due=due: max(0, e[r] - due)))
    model.minimize(sum(terms))
    return aux


def _due_date_objective(model, f, rows, objective, end, horizon) -> list:
    """Tardiness objectives over the jobs whose last operation is among ``rows`` (C_j is its end)."""
    last = [int(r) for r in rows if f.op_index[r] == f.job_lengths[f.op_job[r]] - 1]
    due = {r: int(f.job_due[f.op_job[r]]) for r in last}
    aux = []
    if objective == "max_lateness":
        lmax = model.new_int_var(-max(due.values(), default=0), horizon, "lmax")
        for r in last:
            model.add(lmax >= end[r] - due[r])
        model.minimize(lmax)
        return [(lmax, lambda e: max(e[r] - due[r] for r in last))]
    terms = []
    for r in last:
        j = int(f.op_job[r])
        if objective == "tardy_jobs":
            u = model.new_bool_var(f"u{j}")
            model.add(end[r] <= due[r]).only_enforce_if(~u)
            terms.append(u)
            aux.append((u, lambda e, r=r: int(e[r] > due[r])))
        else:
            t = model.new_int_var(0, horizon, f"t{j}")
            model.add(t >= end[r] - due[r])
            w = 1 if objective == "total_tardiness" or f.job_weight is None else int(f.job_weight[j])
            terms.append(w * t)
            aux.append((t, lambda e, r=r: max(0, e[r] - due[r])))
    model.minimize(sum(terms))
    return aux


def _add_hints(model, f, rows, hinted, start, presence, aux) -> bool | None:
    """Hint starts and machines; when every operation is hinted, the objective's variables too
    (a complete hint). Returns whether the hint is complete (None: no hint)."""
    if not hinted:
        return None
    for r, (m, s) in hinted.items():
        if r not in start:
            continue
        if s is not None:
            model.add_hint(start[r], s)
        lits = presence[r]
        if m is not None and m in lits:
            for mm, lit in lits.items():
                if lit is not None:
                    model.add_hint(lit, mm == m)
    ends = {}
    for r in rows:
        m, s = hinted.get(int(r), (None, None))
        if m is None or s is None:
            return False  # a partial hint: CP-SAT completes it
        ends[int(r)] = s + int(f.durations[r, m])
    for var, value in aux:
        model.add_hint(var, value(ends))
    return True


def _second_phase(model, f, rows, start, presence, cmax, first: CPSatResult, options: CPSatOptions, t0,
                  minimize) -> CPSatResult:
    """Lexicographic second phase (``pack``, ``keep``): at the first phase's Cmax, minimise
    ``minimize``, hinted with the first solution, for at most the first phase's own time (and
    within the time limit); the first solution is kept if nothing better is found."""
    spent = time.perf_counter() - t0
    budget = max(spent, 0.1) if options.time_limit is None else min(max(spent, 0.1), options.time_limit - spent)
    if budget <= 0.01:
        return first
    model.add(cmax <= int(first.objective))
    model.minimize(minimize)
    model.clear_hints()
    _add_hints(model, f, rows, {int(r): (int(m), int(st)) for r, m, st in zip(rows, first.machine, first.start)},
               start, presence, [])  # fmt: skip
    opts = dataclasses.replace(options, time_limit=budget)
    try:
        second = _run(model, f, rows, "makespan", start, presence, opts, time.perf_counter(), None)
    except SolverError:
        return first
    return dataclasses.replace(second, objective=first.objective, bound=first.bound, wall_time=time.perf_counter() - t0,
                               status=first.status, curve=first.curve, hint_status=first.hint_status)


def _run(model, f, rows, objective, start, presence, options: CPSatOptions, t0, complete_hint: bool | None) -> CPSatResult:
    solver = cp_model.CpSolver()
    p = solver.parameters
    if options.time_limit is not None:
        p.max_time_in_seconds = float(options.time_limit)
    p.num_workers = int(options.num_workers)
    p.random_seed = int(options.random_seed)
    p.interleave_search = bool(options.deterministic)
    p.log_search_progress = bool(options.log)
    hint_lines: list[str] = []
    if complete_hint:  # CP-SAT states in its log whether a complete hint is feasible
        p.log_search_progress, p.log_to_stdout = True, bool(options.log)
        solver.log_callback = lambda line: hint_lines.append(line) if "solution hint is complete" in line else None
    stopper = _Progress(solver, options.stop_after, t0)
    stopper.start()
    try:
        status = solver.solve(model, stopper)
    finally:
        stopper.finish()
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        why = "the model is infeasible" if status == cp_model.INFEASIBLE else "no solution found within the limits"
        raise SolverError(f"CP-SAT on {f.name} ({len(rows)} ops, {objective}): {name}: {why}")
    st = np.array([solver.value(start[int(r)]) for r in rows], np.int64)
    mach = np.empty(len(rows), np.int64)
    for i, r in enumerate(rows):
        lits = presence[int(r)]
        mach[i] = next(m for m, lit in lits.items() if lit is None or solver.boolean_value(lit))
    en = st + f.durations[rows, mach]
    sched = None
    if len(rows) == f.n_ops:
        sched = validate(f, Schedule.from_arrays(f, st, mach))
    obj, bound = float(solver.objective_value), float(solver.best_objective_bound)
    return CPSatResult(
        status=name,
        objective=obj,
        bound=bound,
        wall_time=time.perf_counter() - t0,
        ops=rows,
        machine=mach,
        start=st,
        end=en,
        schedule=sched,
        curve=tuple(stopper.curve),
        hint_status=None if complete_hint is None else _hint_status(hint_lines, complete_hint),
    )


def _hint_status(lines: list[str], complete: bool) -> str:
    text = " ".join(lines)
    if not complete:
        return "partial"
    if "complete and is feasible" in text:
        return "feasible"
    return "infeasible" if "infeasible" in text else "partial"


class _Progress(cp_model.CpSolverSolutionCallback):
    """Record every improving solution (time, objective); with a ``patience``, stop the search
    once the objective has not improved for that many seconds.

    A watcher thread polls every 0.1 s (as L-RHO's code does) so the stop also fires when no new
    solution arrives.
    """

    def __init__(self, solver: cp_model.CpSolver, patience: float | None, t0: float):
        super().__init__()
        self._solver = solver
        self._patience = patience
        self._t0 = t0
        self.curve: list[tuple[float, float]] = []
        self._best = None
        self._last = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def on_solution_callback(self) -> None:
        v = self.objective_value
        with self._lock:
            if self._best is None or v < self._best:
                self._best = v
                self._last = time.perf_counter()
                self.curve.append((round(self._last - self._t0, 4), float(v)))

    def start(self) -> None:
        if self._patience is not None:
            self._thread.start()

    def finish(self) -> None:
        if self._patience is not None:
            self._done.set()
            self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            with self._lock:
                last = self._last
            if last is not None and time.perf_counter() - last >= self._patience:
                self._solver.stop_search()
                return
