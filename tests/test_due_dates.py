"""Job due dates and weights: model, JSON, the TWK generator, the validator's metrics, clear errors."""

import json

import numpy as np
import pytest

import jsched
from jsched.errors import InstanceFormatError
from jsched.instances import JSPInstance, load, with_due_dates
from jsched.instances.io import instance_from_json, instance_to_json, instances_equal
from jsched.schedule import Schedule, due_date_metrics, schedule_payload


def test_without_due_dates_nothing_changes():
    ft06 = load("ft06")
    assert ft06.job_due is None and ft06.job_weight is None and ft06.to_fjsp().job_due is None
    assert "job_due" not in instance_to_json(ft06)
    r = jsched.solve(ft06, method="mwkr")
    assert not {"total_tardiness", "tardy_jobs"} & set(r.to_json())


def test_twk_due_dates_and_4_2_1_weights():
    ft06 = with_due_dates(load("ft06"), 1.5, seed=0)
    np.testing.assert_array_equal(ft06.job_due, np.floor(1.5 * load("ft06").durations.sum(1)))
    mk01 = load("mk01")
    f = with_due_dates(mk01, 1.3, seed=3)
    mean = np.where(mk01.eligible, mk01.durations, 0).sum(1) / mk01.eligible.sum(1)
    np.testing.assert_array_equal(f.job_due, np.floor(1.3 * np.bincount(mk01.op_job, mean)))
    assert sorted(f.job_weight.tolist()) == [1, 1, 2, 2, 2, 2, 2, 2, 4, 4]  # 20% / 60% / 20%
    np.testing.assert_array_equal(with_due_dates(mk01, 1.3, seed=3).job_weight, f.job_weight)
    assert with_due_dates(mk01, 1.3, seed=3, weighted=False).job_weight is None
    with pytest.raises(jsched.JSchedError, match="tightness"):
        with_due_dates(mk01, 0)


@pytest.mark.parametrize("name", ["ft06", "mk01"])
def test_json_round_trip_keeps_due_dates_and_weights(name):
    inst = with_due_dates(load(name), 1.3, seed=1)
    text = json.dumps(instance_to_json(inst))
    back = instance_from_json(text)
    assert instances_equal(inst, back) and not instances_equal(load(name), back)
    np.testing.assert_array_equal(back.job_weight, inst.job_weight)
    data = json.loads(text)
    data["job_due"] = data["job_due"][:-1]
    with pytest.raises(InstanceFormatError, match="job_due: has 5 entries|job_due: has 9 entries"):
        instance_from_json(json.dumps(data))
    data = json.loads(text)
    del data["job_due"]
    with pytest.raises(InstanceFormatError, match="job_weight needs job_due"):
        instance_from_json(json.dumps(data))


def test_model_checks_weights():
    with pytest.raises(InstanceFormatError, match="job_weight must be"):
        JSPInstance("w", [[0]], [[3]], job_due=[2], job_weight=[0])
    with pytest.raises(InstanceFormatError, match="job_due must be"):
        JSPInstance("w", [[0]], [[3]], job_due=[2, 3])


def test_metrics_by_hand():
    # One machine; job 0: p 4, due 5, weight 3; job 1: p 2, due 3, weight 1. Order 0 then 1:
    # C = 4, 6; L = -1, 3; T = 0, 3.
    inst = JSPInstance("m", [[0], [0]], [[4], [2]], job_due=[5, 3], job_weight=[3, 1])
    s = Schedule.from_arrays(inst, np.array([[0], [4]]))
    assert due_date_metrics(inst, s) == {"total_tardiness": 3, "weighted_tardiness": 3, "tardy_jobs": 1, "max_lateness": 3}
    s = Schedule.from_arrays(inst, np.array([[2], [0]]))  # C = 6, 2: L = 1, -1
    assert due_date_metrics(inst, s) == {"total_tardiness": 1, "weighted_tardiness": 3, "tardy_jobs": 1, "max_lateness": 1}
    payload = schedule_payload(inst, s, "hand", None, 0.0)
    keys = list(payload)
    assert keys[keys.index("makespan"):][:5] == ["makespan", "total_tardiness", "weighted_tardiness", "tardy_jobs", "max_lateness"]


@pytest.mark.parametrize("method, options", [("cpsat", {"objective": "tardy_jobs"}), ("edd", {}), ("atc", {}),
                                             ("best", {"objective": "max_lateness", "time_limit": 1})])  # fmt: skip
def test_tardiness_without_due_dates_is_a_one_line_error(method, options):
    with pytest.raises(jsched.JSchedError, match=r"needs job due dates; instance 'ft06' has none \(add them") as e:
        jsched.solve("ft06", method=method, **options)
    assert "\n" not in str(e.value)
