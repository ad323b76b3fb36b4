"""Baseline controllers: how plants are run today, the reference MPC is compared with.

Public API
----------
:class:`Baseline` (the ``step(t_s, y_meas) -> u`` contract),
:class:`SteelworksDispatch` with :class:`DispatchSettings` and
:class:`GasNetworkRule` (rule-based steelworks energy dispatch),
:class:`BaselineError`.
"""

from controllers.baselines.base import Baseline, BaselineError
from controllers.baselines.steelworks_dispatch import (
    DispatchSettings,
    GasNetworkRule,
    SteelworksDispatch,
)

__all__ = ["Baseline", "BaselineError", "DispatchSettings", "GasNetworkRule", "SteelworksDispatch"]
