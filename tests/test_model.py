"""Instance data models: validation of shapes and values, JSP -> FJSP view."""

import numpy as np
import pytest

from jsched.errors import InstanceFormatError
from jsched.instances import FJSPInstance, JSPInstance, as_fjsp


def test_jsp_to_fjsp_view():
    inst = JSPInstance("t", [[0, 1], [1, 0]], [[3, 2], [4, 1]], release=[0, 5])
    f = as_fjsp(inst)
    assert f.n_ops == 4 and f.n_jobs == 2 and f.n_machines == 2
    assert f.eligible.sum(axis=1).tolist() == [1, 1, 1, 1]
    assert f.durations[f.op_id(1, 0), 1] == 4
    assert f.release.tolist() == [0, 0, 5, 0]
    assert f.op_job.tolist() == [0, 0, 1, 1] and f.op_index.tolist() == [0, 1, 0, 1]


def test_instances_are_immutable():
    inst = JSPInstance("t", [[0, 1]], [[3, 2]])
    with pytest.raises(ValueError):
        inst.durations[0, 0] = 9


@pytest.mark.parametrize(
    "machines, durations, msg",
    [([[0, 1]], [[1, -1]], "negative"), ([[0, -1]], [[1, 1]], "out of range"), ([[0, 1]], [[1, 1, 1]], "equal")],
)
def test_jsp_rejects_bad_arrays(machines, durations, msg):
    with pytest.raises(InstanceFormatError, match=msg):
        JSPInstance("bad", machines, durations, )


def test_fjsp_rejects_operation_without_machine():
    with pytest.raises(InstanceFormatError, match="no eligible machine"):
        FJSPInstance("bad", 2, [2], [[1, 0], [0, 0]], [[True, False], [False, False]])


def test_trivial_lower_bound():
    f = FJSPInstance("t", 2, [2, 1], [[3, 5], [2, 0], [4, 4]], [[True, True], [True, False], [True, True]])
    # job 0: min 3 + 2 = 5; work (3 + 2 + 4) / 2 -> 5
    assert f.trivial_lower_bound() == 5
    assert np.all(f.durations[~f.eligible] == 0)
