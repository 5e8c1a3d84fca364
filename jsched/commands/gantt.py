"""``jsched gantt SCHEDULE.json -o FILE``: draw a schedule file (format from the suffix)."""

from __future__ import annotations

import argparse

from jsched.errors import JSchedError


def register(sub) -> None:
    p = sub.add_parser("gantt", help="draw a schedule JSON file as a Gantt chart (.png, .svg or .pdf)")
    p.add_argument("schedule", help="schedule JSON (jsched's, or a job-shop-lib schedule)")
    p.add_argument("-o", "--out", required=True, help="output file; .png, .svg or .pdf")
    p.add_argument("--instance", help="the instance, for files that do not embed it (written before instance_data)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import jsched
    from jsched.gantt import check_gantt_path, plot_gantt
    from jsched.schedule import read_schedule

    check_gantt_path(args.out, avoid=[args.schedule])
    inst, schedule, payload = read_schedule(args.schedule)
    if args.instance is not None:
        inst = jsched.load(args.instance)
    elif inst is None:
        if not isinstance(payload.get("instance"), str):
            raise JSchedError(f"{args.schedule}: names no instance; pass --instance")
        inst = jsched.load(payload["instance"])
    jsched.validate(inst, schedule)
    title = f"{inst.name} - {payload.get('method', 'schedule')} - makespan {schedule.makespan}"
    plot_gantt(inst, schedule, args.out, title=title)
    print(f"wrote {args.out}")
    return 0
