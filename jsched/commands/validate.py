"""``jsched validate [INSTANCE] SCHEDULE.json``: check a schedule file, print its metrics.

Without INSTANCE the file's own ``instance_data`` is the instance (or, for files written before
it existed, the benchmark it names). Prints ``valid: ...`` with the objectives and exits 0, or ``invalid: <first violation>`` and
exits 1; unreadable files exit 2 like every other error.
"""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a schedule JSON file against an instance and print its metrics")
    p.add_argument("files", nargs="+", metavar="[INSTANCE] SCHEDULE",
                   help="the instance (benchmark name or file; default: the one the schedule file embeds or "
                        "names) and the schedule JSON (jsched's, or a job-shop-lib schedule)")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import jsched
    from jsched.errors import JSchedError, ScheduleError
    from jsched.instances import as_fjsp, best_known
    from jsched.instances.io import instances_equal
    from jsched.schedule import DUE_DATE_OBJECTIVES, OBJECTIVES, gap_percent, read_schedule

    if len(args.files) > 2:
        raise JSchedError(f"validate takes [INSTANCE] SCHEDULE, got {len(args.files)} arguments")
    *given, path = args.files
    try:
        embedded, schedule, payload = read_schedule(path)
        if given:
            inst = jsched.load(given[0])
        elif embedded is not None:
            inst = embedded
        elif isinstance(payload.get("instance"), str):
            inst = jsched.load(payload["instance"])
        else:
            raise JSchedError(f"{path}: neither embeds nor names its instance; pass it: jsched validate INSTANCE {path}")
        if embedded is not None and not instances_equal(as_fjsp(embedded), as_fjsp(inst)):
            raise ScheduleError(f"the schedule was made for another instance ({embedded.name}), not {inst.name}")
        jsched.validate(inst, schedule)
    except ScheduleError as e:
        print(f"invalid: {e}")
        return 1
    bk = best_known(inst)
    gap = gap_percent(schedule.makespan, bk)
    f_inst = as_fjsp(inst)
    skip = ({"start_end_delay"} if f_inst.due is None else set()) | (set(DUE_DATE_OBJECTIVES) if f_inst.job_due is None else set())
    objectives = {k: f(inst, schedule) for k, f in OBJECTIVES.items() if k not in skip}
    parts = [f"instance={inst.name}", f"operations={len(schedule)}", f"makespan={objectives.pop('makespan')}",
             f"best_known={'-' if bk is None else bk}", f"gap={'-' if gap is None else f'{gap:.2f}%'}"]  # fmt: skip
    print("valid: " + " ".join(parts + [f"{k}={v}" for k, v in objectives.items()]))
    return 0
