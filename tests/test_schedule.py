"""The one validator: each violation kind is caught, valid schedules (zero-length ops too) pass."""

from __future__ import annotations

import numpy as np
import pytest

from jsched.errors import ScheduleError
from jsched.instances import FJSPInstance, JSPInstance, as_fjsp
from jsched.instances.generators import sd2_fjsp, taillard_jsp
from jsched.schedule import Schedule, validate

# 2 jobs x 2 ops; job 0: M0 (3) then M1 (2); job 1: M1 (4) then M0 (0, zero length).
JSP = JSPInstance("toy", [[0, 1], [1, 0]], [[3, 2], [4, 0]])
# Valid: job0 [0,3) M0, [4,6) M1; job1 [0,4) M1, [4,4) M0.
VALID = dict(job=[0, 0, 1, 1], op=[0, 1, 0, 1], machine=[0, 1, 1, 0], start=[0, 4, 0, 4], end=[3, 6, 4, 4])


def _sched(**changes):
    d = {k: list(v) for k, v in VALID.items()}
    for k, v in changes.items():
        d[k] = v
    return Schedule(**{k: np.array(v) for k, v in d.items()})


def serial(inst) -> Schedule:
    """All operations one after another (always feasible), on their first eligible machine."""
    f = as_fjsp(inst)
    mach = f.eligible.argmax(axis=1)
    dur = f.durations[np.arange(f.n_ops), mach]
    start = np.concatenate([[0], np.cumsum(dur)[:-1]]) + int(f.release.max(initial=0))
    return Schedule(f.op_job, f.op_index, mach, start, start + dur)


def test_valid_schedule_with_zero_length_operation_passes():
    s = _sched()
    assert validate(JSP, s) is s and s.makespan == 6


def test_zero_length_op_may_sit_inside_a_busy_interval():
    # job 1's zero-length op at t=1 on M0, inside job 0's [0,3) on M0: no conflict.
    inst = JSPInstance("z", [[0, 1], [1, 0]], [[3, 2], [1, 0]])
    s = Schedule(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0, 1, 1, 0]), np.array([0, 3, 0, 1]), np.array([3, 5, 1, 1]))
    validate(inst, s)


@pytest.mark.parametrize("seed", range(5))
def test_serial_schedules_of_random_instances_pass(seed):
    for inst in (taillard_jsp(4, 3, seed), sd2_fjsp(3, 3, seed)):
        validate(inst, serial(inst))


def test_completeness_missing_operation():
    s = Schedule(*(np.array(VALID[k][:3]) for k in ("job", "op", "machine", "start", "end")))
    with pytest.raises(ScheduleError, match="incomplete"):
        validate(JSP, s)


def test_completeness_duplicate_operation():
    with pytest.raises(ScheduleError, match="completeness: operation \\(job 1, op 0\\) appears 2 times"):
        validate(JSP, _sched(op=[0, 1, 0, 0], machine=[0, 1, 1, 1], start=[0, 4, 0, 10], end=[3, 6, 4, 14]))


def test_unknown_job_or_operation():
    with pytest.raises(ScheduleError, match="job 2 out of range"):
        validate(JSP, _sched(job=[0, 0, 1, 2]))
    with pytest.raises(ScheduleError, match="has no operation 2"):
        validate(JSP, _sched(op=[0, 1, 0, 2]))


def test_precedence_violation():
    # job 0 op 1 starts at 2, before op 0 ends at 3; job 1 moves later so nothing else is wrong.
    with pytest.raises(ScheduleError, match="precedence: job 0 op 1 starts at 2 before op 0 ends at 3"):
        validate(JSP, _sched(start=[0, 2, 10, 14], end=[3, 4, 14, 14]))


def test_capacity_overlap():
    # job 1 op 0 on M1 [3,7) overlaps job 0 op 1 on M1 [4,6).
    with pytest.raises(ScheduleError, match="capacity: on machine 1"):
        validate(JSP, _sched(start=[0, 4, 3, 7], end=[3, 6, 7, 7]))


def test_capacity_touching_intervals_are_fine():
    validate(JSP, _sched(start=[0, 4, 0, 6], end=[3, 6, 4, 6]))  # [0,4) then [4,6) on M1


def test_eligibility_violation():
    f = FJSPInstance("e", 2, [1], [[5, 0]], [[True, False]])
    with pytest.raises(ScheduleError, match="eligibility: operation \\(job 0, op 0\\) on machine 1"):
        validate(f, Schedule(np.array([0]), np.array([0]), np.array([1]), np.array([0]), np.array([5])))


def test_machine_out_of_range():
    with pytest.raises(ScheduleError, match="machine 7 out of range"):
        validate(JSP, _sched(machine=[7, 1, 1, 0]))


def test_duration_violation():
    with pytest.raises(ScheduleError, match="duration: operation \\(job 0, op 1\\) runs 3, needs 2"):
        validate(JSP, _sched(end=[3, 7, 4, 4]))


def test_release_violation():
    inst = JSPInstance("r", [[0, 1], [1, 0]], [[3, 2], [4, 0]], release=[0, 2])
    with pytest.raises(ScheduleError, match="release: operation \\(job 1, op 0\\) starts at 0 before its release 2"):
        validate(inst, _sched())
    validate(inst, _sched(start=[0, 6, 2, 6], end=[3, 8, 6, 6]))


def test_fjsp_release_and_due_instance_validates():
    f = FJSPInstance("d", 2, [2], [[2, 3], [1, 0]], [[True, True], [True, False]], release=[1, 0], due=[5, 5])
    validate(f, Schedule(np.array([0, 0]), np.array([0, 1]), np.array([1, 0]), np.array([1, 4]), np.array([4, 5])))
