"""Baseline controllers: how plants are run today, the reference MPC is compared with.

Public API
----------
:class:`Baseline` (the ``step(t_s, y_meas) -> u`` contract),
:class:`SteelworksDispatch` with :class:`DispatchSettings` and
:class:`GasNetworkRule` (rule-based steelworks energy dispatch),
:class:`ChemicalPidBaseline` (PID-only chemical plant: the operating mode's
nominal loop setpoints, behind the MPCs' ``Controller`` contract),
:class:`BaselineError`.
"""

from controllers.baselines.base import Baseline, BaselineError
from controllers.baselines.chemical_pid import ChemicalPidBaseline
from controllers.baselines.steelworks_dispatch import (
    DispatchSettings,
    GasNetworkRule,
    SteelworksDispatch,
)

__all__ = [
    "Baseline",
    "BaselineError",
    "ChemicalPidBaseline",
    "DispatchSettings",
    "GasNetworkRule",
    "SteelworksDispatch",
]
