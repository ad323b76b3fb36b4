"""Extraction-condensing steam turbo-generator (Willans line): parameters.

Electric power follows the Willans line of an extraction-condensing set,

    P = specific_work_j_kg * m_in - extraction_work_loss_j_kg * m_ext - no_load_power_w

(Willans 1888; e.g. Mavromatis & Kokossis, Chem. Eng. Sci. 53 (1998) 1405),
valid between the flow limits below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "TurbogeneratorParams", "f", "g", "model", "willans_power"]


@register_unit("turbogenerator")
@dataclass(frozen=True)
class TurbogeneratorParams(UnitParams):
    """Extraction-condensing turbo-generator of a steelworks power plant (tens of MW).

    Defaults: 9.8 MPa / 540 degC throttle steam, extraction at 1.0 MPa, condenser
    at 5 kPa.  Isentropic drop throttle-to-condenser about 1,350 kJ/kg, internal
    efficiency 0.84, generator 0.98 -> incremental specific work about
    1.10 MJ/kg; the extracted steam skips the drop extraction-to-condenser,
    about 0.62 MJ/kg (IAPWS-IF97 enthalpies).  The Willans intercept is about
    6 % of rating.  With 61 kg/s in and 20 kg/s extracted P = 52 MW.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec("steam_in", "steam", "in", "Throttle (live-steam) header"),
        PortSpec("extraction_out", "steam", "out", "Extraction (process-steam) header"),
        PortSpec("power_out", "electricity", "out", "Electricity bus supplied"),
        PortSpec(
            "cooling_water",
            "cooling_water",
            "in",
            "Condenser heat rejected to the cooling-water network",
            optional=True,
        ),
    )

    capacity_power_w: float = param(
        55.0e6, unit="W", low=1.0e5, high=1.5e9, description="Rated electric output"
    )
    max_inlet_flow_kg_s: float = param(
        61.11, unit="kg/s", low=0.1, high=2000.0, description="Maximum throttle flow (220 t/h)"
    )
    min_inlet_flow_kg_s: float = param(
        15.0, unit="kg/s", low=0.0, high=2000.0, description="Minimum throttle flow"
    )
    max_extraction_flow_kg_s: float = param(
        30.0, unit="kg/s", low=0.0, high=2000.0, description="Maximum extraction flow"
    )
    min_condensing_flow_kg_s: float = param(
        5.0,
        unit="kg/s",
        low=0.0,
        high=2000.0,
        description="Minimum flow through the LP section (cooling of its blades)",
    )
    specific_work_j_kg: float = param(
        1.10e6,
        unit="J/kg",
        low=1.0e4,
        high=2.0e6,
        description="Willans slope: electric energy per kg throttle steam condensed",
    )
    extraction_work_loss_j_kg: float = param(
        0.60e6,
        unit="J/kg",
        low=0.0,
        high=2.0e6,
        description="Electric energy lost per kg steam extracted instead of condensed",
    )
    no_load_power_w: float = param(
        3.0e6, unit="W", low=0.0, high=1.0e8, description="Willans intercept (no-load losses)"
    )
    condenser_heat_j_kg: float = param(
        2.25e6,
        unit="J/kg",
        low=1.0e6,
        high=3.0e6,
        description="Heat rejected per kg condensed (wet exhaust at 5 kPa to condensate)",
    )
    time_constant_s: float = param(
        20.0, unit="s", low=0.1, high=600.0, description="Lag of power behind steam flow"
    )

    def validate(self) -> None:
        """Check ranges, then the flow-limit ordering."""
        super().validate()
        if self.min_inlet_flow_kg_s >= self.max_inlet_flow_kg_s:
            raise ParameterError(
                "min_inlet_flow_kg_s",
                f"must be below max_inlet_flow_kg_s ({self.max_inlet_flow_kg_s:g}), "
                f"got {self.min_inlet_flow_kg_s:g}",
            )
        if self.extraction_work_loss_j_kg >= self.specific_work_j_kg:
            raise ParameterError(
                "extraction_work_loss_j_kg",
                f"must be below specific_work_j_kg ({self.specific_work_j_kg:g}), "
                f"got {self.extraction_work_loss_j_kg:g}",
            )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = (
    "specific_work_j_kg",
    "extraction_work_loss_j_kg",
    "no_load_power_w",
    "condenser_heat_j_kg",
    "time_constant_s",
)
_W, _W_EXT, _P0, _Q_COND, _TAU = range(5)


@equation
def willans_power(flow_in: Any, flow_extraction: Any, p: Any) -> Any:
    """Return the steady electric power of the Willans line [W]."""
    return p[_W] * flow_in - p[_W_EXT] * flow_extraction - p[_P0]


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Electric power lags the Willans-line value."""
    dxdt = zeros(1)
    dxdt[0] = (willans_power(u[0], u[1], p) - x[0]) / p[_TAU]
    return dxdt


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Power, throttle, extraction and condensing flows, condenser heat."""
    y = zeros(5)
    condensing = u[0] - u[1]
    y[0] = x[0]
    y[1] = u[0]
    y[2] = u[1]
    y[3] = condensing
    y[4] = p[_Q_COND] * condensing
    return y


def model(params: TurbogeneratorParams | None = None) -> EquationModel:
    """Return the turbo-generator's equation model.

    State ``power_w``; inputs ``flow_in_kg_s`` (throttle) and
    ``flow_extraction_kg_s``.
    """
    params = params if params is not None else TurbogeneratorParams()
    return EquationModel(
        name="turbogenerator",
        f=f,
        g=g,
        states=(Variable("power_w", "W", "Electric output", 0.0, 1.2 * params.capacity_power_w),),
        inputs=(
            Variable(
                "flow_in_kg_s",
                "kg/s",
                "Throttle steam",
                params.min_inlet_flow_kg_s,
                params.max_inlet_flow_kg_s,
            ),
            Variable(
                "flow_extraction_kg_s",
                "kg/s",
                "Extraction steam",
                0.0,
                max(
                    0.0,
                    min(
                        params.max_extraction_flow_kg_s,
                        params.min_inlet_flow_kg_s - params.min_condensing_flow_kg_s,
                    ),
                ),
            ),
        ),
        disturbances=(),
        outputs=(
            Variable("power_w", "W", "Electric output"),
            Variable("flow_in_kg_s", "kg/s", "Throttle steam"),
            Variable("flow_extraction_kg_s", "kg/s", "Extraction steam"),
            Variable("flow_condensing_kg_s", "kg/s", "Steam to the condenser"),
            Variable("condenser_heat_w", "W", "Heat rejected to cooling water"),
        ),
        parameters=parameter_variables(TurbogeneratorParams, PARAMETERS),
    )
