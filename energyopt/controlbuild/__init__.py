"""Project file -> controllers: settings, forecast sources and ready controllers.

Public API
----------
:func:`economic_settings` (``project, built -> EconomicMPCSettings``);
:class:`DisturbanceRecord` and :func:`read_disturbance_record` (the bound
disturbance tags of a historian, in SI); :func:`plan_disturbances` (which
plant disturbances are forecast, held or nominal); :class:`EconomicForecast`
(causal profile+ARX forecast source, :class:`EconomicHorizon` with scenario
sets); :func:`perfect_foresight` (the true record as a source);
:func:`build_economic_controller`.
"""

from energyopt.controlbuild.build import build_economic_controller
from energyopt.controlbuild.disturbances import DisturbancePlan, plan_disturbances
from energyopt.controlbuild.economic import economic_settings
from energyopt.controlbuild.forecast import (
    EconomicForecast,
    EconomicHorizon,
    ScenarioInputs,
    perfect_foresight,
)
from energyopt.controlbuild.record import (
    DisturbanceRecord,
    bin_means,
    local_phases,
    read_disturbance_record,
)

__all__ = [
    "DisturbancePlan",
    "DisturbanceRecord",
    "EconomicForecast",
    "EconomicHorizon",
    "ScenarioInputs",
    "bin_means",
    "build_economic_controller",
    "economic_settings",
    "local_phases",
    "perfect_foresight",
    "plan_disturbances",
    "read_disturbance_record",
]
