"""Export an instance (and optionally a schedule) to PyJobShop's ``Model`` and ``Solution``.

PyJobShop (``pip install jsched[pyjobshop]``) models the FJSP with machine-dependent durations:
one task per operation, one mode (machine, duration) per eligible machine, an end-before-start
constraint between consecutive operations of a job, and the makespan objective. Operation
releases become task earliest starts (the first one also the job's release date); the due time
of a job's last operation becomes the job's due date (PyJobShop has no per-task due date).

:func:`pyjobshop_data` is the same export as plain data (no PyJobShop needed); :func:`to_pyjobshop`
builds the objects from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jsched.errors import JSchedError
from jsched.instances.model import Instance, as_fjsp
from jsched.schedule import Schedule

__all__ = ["pyjobshop_data", "to_pyjobshop"]


def pyjobshop_data(instance: Instance, schedule: Schedule | None = None) -> dict[str, Any]:
    """The export as plain data::

        {"name", "n_machines",
         "jobs": [{"release_date", "due_date"}, ...],
         "tasks": [{"job", "op", "earliest_start", "modes": [[machine, duration], ...]}, ...],
         "precedences": [[task, next_task], ...],
         "solution": [{"task", "mode", "machine", "start", "end"}, ...] or None}

    Tasks are the operations in (job, op) order; ``mode`` indexes the task's ``modes``. A
    ``schedule`` is validated first.
    """
    f = as_fjsp(instance)
    jobs, tasks, prec = [], [], []
    for j in range(f.n_jobs):
        first, last = int(f.job_start[j]), int(f.job_start[j] + f.job_lengths[j] - 1)
        jobs.append({"release_date": int(f.release[first]), "due_date": None if f.due is None else int(f.due[last])})
        prec += [[r, r + 1] for r in range(first, last)]
    for r in range(f.n_ops):
        modes = [[int(m), int(f.durations[r, m])] for m in np.flatnonzero(f.eligible[r])]
        tasks.append({"job": int(f.op_job[r]), "op": int(f.op_index[r]), "earliest_start": int(f.release[r]), "modes": modes})
    solution = None
    if schedule is not None:
        from jsched.schedule import validate

        validate(instance, schedule)
        solution = []
        for r, (m, s, e) in enumerate(zip(schedule.machine, schedule.start, schedule.end)):  # (job, op) order = task order
            mode = [mm for mm, _ in tasks[r]["modes"]].index(int(m))
            solution.append({"task": r, "mode": mode, "machine": int(m), "start": int(s), "end": int(e)})
    return {"name": f.name, "n_machines": int(f.n_machines), "jobs": jobs, "tasks": tasks, "precedences": prec,
            "solution": solution}  # fmt: skip


def to_pyjobshop(instance: Instance, schedule: Schedule | None = None):
    """``(pyjobshop.Model, pyjobshop.Solution | None)`` of ``instance`` (and ``schedule``); the
    solution can seed ``model.solve(initial_solution=...)``."""
    try:
        import pyjobshop
    except ImportError:
        raise JSchedError("the PyJobShop export needs PyJobShop: pip install 'jsched[pyjobshop]'") from None
    data = pyjobshop_data(instance, schedule)
    model = pyjobshop.Model()
    machines = [model.add_machine(name=f"M{k}") for k in range(data["n_machines"])]
    jobs = [model.add_job(release_date=j["release_date"], due_date=j["due_date"], name=f"J{i}")
            for i, j in enumerate(data["jobs"])]  # fmt: skip
    tasks, mode_ids = [], []
    for t in data["tasks"]:
        task = model.add_task(jobs[t["job"]], earliest_start=t["earliest_start"], name=f"J{t['job']}O{t['op']}")
        tasks.append(task)
        ids = []
        for m, d in t["modes"]:
            ids.append(len(model.modes))
            model.add_mode(task, machines[m], d)
        mode_ids.append(ids)
    for a, b in data["precedences"]:
        model.add_end_before_start(tasks[a], tasks[b])
    model.set_objective(weight_makespan=1)
    if data["solution"] is None:
        return model, None
    scheduled = [
        pyjobshop.ScheduledTask(mode_ids[s["task"]][s["mode"]], [s["machine"]], s["start"], s["end"])
        for s in data["solution"]
    ]
    return model, pyjobshop.Solution(model.data(), scheduled)
