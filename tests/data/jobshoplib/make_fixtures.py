"""Write the job-shop-lib fixtures of tests/test_interop_jobshoplib.py with job-shop-lib itself,
or check that job-shop-lib loads files jsched wrote.

job-shop-lib pins ``ortools<9.13`` and cannot share a venv with jsched's OR-tools, so run this in
a separate venv (``pip install job-shop-lib==1.7.2``)::

    python tests/data/jobshoplib/make_fixtures.py            # rewrite the fixtures here
    python tests/data/jobshoplib/make_fixtures.py check F..  # load jsched-written files
"""

import json
import sys
from pathlib import Path

from job_shop_lib import JobShopInstance, Schedule
from job_shop_lib.benchmarking import load_benchmark_instance
from job_shop_lib.dispatching.rules import DispatchingRuleSolver

HERE = Path(__file__).resolve().parent


def write(name: str, payload: dict) -> None:
    (HERE / name).write_text(json.dumps(payload, indent=1) + "\n")


def make() -> None:
    ft06 = load_benchmark_instance("ft06")
    write("ft06.json", ft06.to_dict())
    schedule = DispatchingRuleSolver("most_work_remaining")(ft06)
    schedule.metadata["makespan"] = schedule.makespan()
    write("ft06_schedule.json", schedule.to_dict())
    flex = JobShopInstance.from_matrices(
        duration_matrix=[[3, 2, 4], [2, 5], [4, 1, 3]],
        machines_matrix=[[[0, 1], [2], [1, 2]], [[1], [0, 2]], [[2], [0, 1], [0]]],
        name="flex3",
        release_dates_matrix=[[0, 0, 0], [2, 2], [0, 5, 5]],
        due_dates_matrix=[[4, 7, 12], [6, 12], [5, 9, 14]],
    )
    write("flex3.json", flex.to_dict())
    schedule = DispatchingRuleSolver("shortest_processing_time")(flex)
    schedule.metadata["makespan"] = schedule.makespan()
    write("flex3_schedule.json", schedule.to_dict())


def check(paths: list[str]) -> None:
    for p in paths:
        data = json.loads(Path(p).read_text())
        if "job_sequences" in data:
            s = Schedule.from_dict(**data)
            print(f"{p}: schedule of {s.instance.name}, makespan {s.makespan()}, complete {s.is_complete()}")
        else:
            inst = JobShopInstance.from_matrices(**data)
            print(f"{p}: instance {inst.name}, {inst.num_jobs} jobs x {inst.num_machines} machines, flexible {inst.is_flexible}")


if __name__ == "__main__":
    check(sys.argv[2:]) if sys.argv[1:2] == ["check"] else make()
