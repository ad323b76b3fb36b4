"""Recommendations on recorded data: the advisor at one moment and the shadow mode.

Public API
----------
:class:`AdvisorSession` (``open(project_path, data_path)``, ``interval_s``,
``decision_times``, ``recommend``), which for a process flowsheet without
``[controller.economic]`` is a :class:`ProcessAdvisorSession` (the NMPC with
its EKF); :func:`recommendation_to_dict` and
:func:`recommendation_table` (en/zh); :func:`advise` (recommendation plus the
saving of acting now and its driver); :func:`run_shadow` (writes
``shadow.json``) with :func:`shadow_records`; :func:`compare_first_interval`
and :data:`CAUSES`.
"""

from energyopt.advise.base import SessionBase
from energyopt.advise.comparison import CAUSES, IntervalComparison, compare_first_interval
from energyopt.advise.mvinfo import MVInfo
from energyopt.advise.process import ProcessAdvisorSession
from energyopt.advise.records import recommendation_table, recommendation_to_dict
from energyopt.advise.session import AdvisorSession
from energyopt.advise.shadow import advise, run_shadow, shadow_records

__all__ = [
    "CAUSES",
    "AdvisorSession",
    "IntervalComparison",
    "MVInfo",
    "ProcessAdvisorSession",
    "SessionBase",
    "advise",
    "compare_first_interval",
    "recommendation_table",
    "recommendation_to_dict",
    "run_shadow",
    "shadow_records",
]
