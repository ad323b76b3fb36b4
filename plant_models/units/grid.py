"""Grid connection with a time-of-use tariff: parameters.

Prices are SI: currency per joule (``1/J``).  0.3 currency/kWh is
0.3 / 3.6e6 = 8.333e-8 1/J; project files may write ``"0.3 / kWh"``.
Clock times are seconds after local midnight of the plant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from plant_models.core.equations import EquationModel, Variable, equation, parameter_variables
from plant_models.core.mathfuncs import fmax, zeros
from plant_models.parameters import ParameterError, PortSpec, UnitParams, param
from plant_models.registry import register_unit

__all__ = ["PARAMETERS", "GridParams", "f", "g", "model", "tariff_price"]

_KWH_J = 3.6e6
_HOUR_S = 3600.0


@register_unit("grid")
@dataclass(frozen=True)
class GridParams(UnitParams):
    """Utility grid connection: import/export limits and a three-level tariff.

    Defaults follow the typical Chinese large-industry time-of-use pattern of
    guide section 4: valley 0.30, flat 0.65, peak 1.10 yuan/kWh; valley
    00:00-08:00, peak 08:00-12:00 and 17:00-21:00, flat otherwise.  Hours not
    in a valley or peak block are flat.
    """

    ports: ClassVar[tuple[PortSpec, ...]] = (
        PortSpec(
            "power",
            "electricity",
            "out",
            "Electricity bus; positive is import, negative is export",
        ),
    )

    import_capacity_w: float = param(
        200.0e6, unit="W", low=0.0, high=1.0e10, description="Maximum import (contract)"
    )
    export_capacity_w: float = param(
        0.0, unit="W", low=0.0, high=1.0e10, description="Maximum export (0: none allowed)"
    )
    price_valley_per_j: float = param(
        0.30 / _KWH_J, unit="1/J", low=0.0, high=1.0e-5, description="Valley energy price"
    )
    price_flat_per_j: float = param(
        0.65 / _KWH_J, unit="1/J", low=0.0, high=1.0e-5, description="Flat energy price"
    )
    price_peak_per_j: float = param(
        1.10 / _KWH_J, unit="1/J", low=0.0, high=1.0e-5, description="Peak energy price"
    )
    price_export_per_j: float = param(
        0.0, unit="1/J", low=0.0, high=1.0e-5, description="Price paid for exported energy"
    )
    valley_start_s: float = param(
        0.0, unit="s", low=0.0, high=86400.0, description="Valley block start after midnight"
    )
    valley_end_s: float = param(
        8.0 * _HOUR_S, unit="s", low=0.0, high=86400.0, description="Valley block end"
    )
    peak1_start_s: float = param(
        8.0 * _HOUR_S, unit="s", low=0.0, high=86400.0, description="First peak block start"
    )
    peak1_end_s: float = param(
        12.0 * _HOUR_S, unit="s", low=0.0, high=86400.0, description="First peak block end"
    )
    peak2_start_s: float = param(
        17.0 * _HOUR_S, unit="s", low=0.0, high=86400.0, description="Second peak block start"
    )
    peak2_end_s: float = param(
        21.0 * _HOUR_S, unit="s", low=0.0, high=86400.0, description="Second peak block end"
    )
    demand_charge_per_w: float = param(
        0.0,
        unit="1/W",
        low=0.0,
        high=1.0,
        description="Capacity charge per W of monthly maximum import (0: none)",
    )

    def validate(self) -> None:
        """Check ranges, then that each tariff block ends after it starts."""
        super().validate()
        for name in ("valley", "peak1", "peak2"):
            start = getattr(self, f"{name}_start_s")
            end = getattr(self, f"{name}_end_s")
            if end < start:
                raise ParameterError(
                    f"{name}_end_s", f"must not be before {name}_start_s ({start:g}), got {end:g}"
                )


# ---------------------------------------------------------------- equations

#: Order of the parameter vector ``p``.
PARAMETERS: tuple[str, ...] = ("price_export_per_j",)
_PRICE_EXPORT = 0


@equation
def f(x: Any, u: Any, d: Any, p: Any) -> Any:
    """No states: the grid is an infinite bus."""
    return zeros(0)


@equation
def g(x: Any, u: Any, d: Any, p: Any) -> Any:
    """Net import, import, export and the energy cost rate at the current price."""
    y = zeros(4)
    imported = fmax(u[0], 0.0)
    exported = fmax(-u[0], 0.0)
    y[0] = u[0]
    y[1] = imported
    y[2] = exported
    y[3] = d[0] * imported - p[_PRICE_EXPORT] * exported
    return y


def model(params: GridParams | None = None) -> EquationModel:
    """Return the grid connection's equation model.

    Input ``power_import_w`` (net; negative exports); disturbance
    ``price_per_j``, the tariff at the current time (:func:`tariff_price`).
    Output ``cost_rate_per_s`` is currency per second.
    """
    params = params if params is not None else GridParams()
    return EquationModel(
        name="grid",
        f=f,
        g=g,
        states=(),
        inputs=(
            Variable(
                "power_import_w",
                "W",
                "Net import",
                -params.export_capacity_w,
                params.import_capacity_w,
            ),
        ),
        disturbances=(
            Variable(
                "price_per_j",
                "1/J",
                "Energy price now [currency/J]",
                0.0,
                max(params.price_peak_per_j, params.price_flat_per_j, params.price_valley_per_j),
            ),
        ),
        outputs=(
            Variable("power_import_w", "W", "Net import"),
            Variable("power_purchased_w", "W", "Import"),
            Variable("power_exported_w", "W", "Export"),
            Variable("cost_rate_per_s", "1/s", "Energy cost rate [currency/s]"),
        ),
        parameters=parameter_variables(GridParams, PARAMETERS),
    )


def tariff_price(params: GridParams, time_of_day_s: ArrayLike) -> np.ndarray:
    """Return the time-of-use energy price at local clock times.

    Parameters
    ----------
    params : GridParams
        Tariff blocks and prices.
    time_of_day_s : array_like
        Seconds after local midnight; values are wrapped into one day. [s]

    Returns
    -------
    numpy.ndarray
        Price at each time. [currency/J]
    """
    t = np.mod(np.asarray(time_of_day_s, dtype=np.float64), 86400.0)
    price = np.full(t.shape, params.price_flat_per_j)
    valley = (t >= params.valley_start_s) & (t < params.valley_end_s)
    peak = ((t >= params.peak1_start_s) & (t < params.peak1_end_s)) | (
        (t >= params.peak2_start_s) & (t < params.peak2_end_s)
    )
    price[valley] = params.price_valley_per_j
    price[peak] = params.price_peak_per_j
    return price
