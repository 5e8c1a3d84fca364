"""Interop with the peer toolkits: job-shop-lib's JSON (instances and schedules) and PyJobShop.

* :mod:`jsched.interop.jobshoplib`: read and write job-shop-lib's instance JSON (``jsched.load``
  reads it directly), export a schedule job-shop-lib loads (``Schedule.from_dict``) and read one
  back. No dependency on job-shop-lib.
* :mod:`jsched.interop.pyjobshop`: an instance (with an optional schedule) as a PyJobShop
  ``Model`` (and ``Solution``), which, unlike job-shop-lib, models FJSP machine-dependent
  durations; needs the optional extra ``pip install jsched[pyjobshop]``.
"""

from jsched.interop.jobshoplib import (
    instance_from_jobshoplib,
    instance_to_jobshoplib,
    schedule_from_jobshoplib,
    schedule_to_jobshoplib,
    write_jobshoplib,
)
from jsched.interop.pyjobshop import pyjobshop_data, to_pyjobshop

__all__ = [
    "instance_from_jobshoplib",
    "instance_to_jobshoplib",
    "pyjobshop_data",
    "schedule_from_jobshoplib",
    "schedule_to_jobshoplib",
    "to_pyjobshop",
    "write_jobshoplib",
]
