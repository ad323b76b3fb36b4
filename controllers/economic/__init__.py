"""Economic MPC for multi-medium energy systems (steelworks gas, steam and power).

:class:`EconomicMPC` minimises energy purchase, fuel, flare and emission
costs over a rolling horizon on the plant's own casadi equations; with a
:class:`RecordedHorizon` of the true disturbances it is the perfect-foresight
bound.
"""

from controllers.economic.blocking import growing_move_blocks
from controllers.economic.horizon import (
    ForecastSource,
    HorizonInputs,
    RecordedHorizon,
    interval_means,
)
from controllers.economic.mpc import EconomicMPC, PlanEvaluation
from controllers.economic.scenario import ScenarioEconomicMPC
from controllers.economic.scenario_horizon import ScenarioHorizon, scenarios_from_forecasts
from controllers.economic.settings import (
    CostTerm,
    EconomicMPCSettings,
    HardLimit,
    ManipulatedVariable,
    SoftBand,
)

__all__ = [
    "CostTerm",
    "EconomicMPC",
    "EconomicMPCSettings",
    "ForecastSource",
    "HardLimit",
    "HorizonInputs",
    "ManipulatedVariable",
    "PlanEvaluation",
    "RecordedHorizon",
    "ScenarioEconomicMPC",
    "ScenarioHorizon",
    "SoftBand",
    "growing_move_blocks",
    "interval_means",
    "scenarios_from_forecasts",
]
