"""The record of a closed-loop run and its KPIs (:mod:`energyopt.kpis`, nothing re-implemented)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.closedloop.policies import STATUS_CODES
from energyopt.errors import ModelError

if TYPE_CHECKING:
    from energyopt.kpis import KpiResult
    from plant_models.core.equations import EquationModel

__all__ = ["ClosedLoopResult", "KpiSpec"]

Band = tuple[float | None, float | None]


@dataclass(frozen=True)
class KpiSpec:
    """Which model variables feed which KPI (names of outputs, states, inputs or disturbances).

    Attributes
    ----------
    cv_bands : mapping of str to (lo, hi)
        Key controlled variable -> band, for the stability rate. [SI]
    cv_hard : mapping of str to (lo, hi)
        Controlled variable -> limits of the constraint-violation integral. [SI]
    cv_scales : mapping of str to float
        CV -> scale of its violation integral (default the width of ``cv_hard``). [SI]
    mv_limits : mapping of str to (lo, hi)
        Manipulated input -> limits, for the MV utilisation. [SI]
    power_purchased : str, optional
        Variable of the electric power bought. [W]
    power_generated : str, optional
        Variable of the electric power generated on site. [W]
    price_per_kwh : float or array_like, optional
        Electricity price per fine step. [currency/kWh]
    steam : mapping of str to (str, float)
        Steam (or other heat carrier) name -> (variable of its flow [kg/s],
        specific enthalpy [J/kg]); a heat duty in W with an "enthalpy" of
        1 J/J counts the duty itself.
    fuels : mapping of str to (str, float, float)
        Fuel -> (variable of its flow [Nm3/s], LHV [J/Nm3], price [currency/Nm3]).
    product_flow : str, optional
        Variable of the product flow, for the energy intensity.
    product_density_kg_per_unit : float
        Mass per unit of ``product_flow`` (1 for a mass flow in kg/s, the
        density in kg/m3 for a volume flow in m3/s). [kg/unit]
    """

    cv_bands: Mapping[str, Band] = field(default_factory=dict)
    cv_hard: Mapping[str, Band] = field(default_factory=dict)
    cv_scales: Mapping[str, float] = field(default_factory=dict)
    mv_limits: Mapping[str, Band] = field(default_factory=dict)
    power_purchased: str | None = None
    power_generated: str | None = None
    price_per_kwh: float | npt.ArrayLike | None = None
    steam: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    fuels: Mapping[str, tuple[str, float, float]] = field(default_factory=dict)
    product_flow: str | None = None
    product_density_kg_per_unit: float = 1.0


@dataclass(frozen=True, eq=False)
class ClosedLoopResult:
    """A closed-loop run on the plant's fine grid.

    Attributes
    ----------
    model : EquationModel
        The plant model (names of the columns).
    time_s : numpy.ndarray, shape (N,)
        Start of each fine step. [s]
    states : numpy.ndarray, shape (N + 1, nx)
        True states at the step starts and the end. [SI]
    inputs : numpy.ndarray, shape (N, nu)
        Inputs held over each step (the MVs are the controller's setpoints). [SI]
    disturbances : numpy.ndarray, shape (N, nd)
        True disturbances of each step. [SI]
    outputs : numpy.ndarray, shape (N, ny)
        True outputs at each step start with that step's inputs. [SI]
    decision_time_s : numpy.ndarray, shape (K,)
        Time of each control decision. [s]
    compute_time_s : numpy.ndarray, shape (K,)
        Wall-clock time of each decision. [s]
    status : numpy.ndarray of int8, shape (K,)
        Solve status of each decision, an index into :data:`STATUS_CODES`.
    mode_index : numpy.ndarray of int16, shape (K,)
        Operating mode given to each decision, an index into ``mode_names``; -1 for none.
    mode_names : tuple of str
        Names of the modes.
    step_s : float
        Fine step. [s]
    interval_s : float
        Control interval. [s]
    """

    model: EquationModel
    time_s: npt.NDArray[np.float64]
    states: npt.NDArray[np.float64]
    inputs: npt.NDArray[np.float64]
    disturbances: npt.NDArray[np.float64]
    outputs: npt.NDArray[np.float64]
    decision_time_s: npt.NDArray[np.float64]
    compute_time_s: npt.NDArray[np.float64]
    status: npt.NDArray[np.int8]
    mode_index: npt.NDArray[np.int16]
    mode_names: tuple[str, ...]
    step_s: float
    interval_s: float

    def series(self, name: str) -> npt.NDArray[np.float64]:
        """Return variable ``name`` per fine step (outputs, then states, inputs, disturbances).

        States are taken at the step starts (the last state is dropped).

        Raises
        ------
        ModelError
            If no variable has this name.
        """
        n = self.time_s.size
        for kind, table in (
            ("y", self.outputs),
            ("x", self.states[:n]),
            ("u", self.inputs),
            ("d", self.disturbances),
        ):
            names = [v.name for v in self.model.variables(kind)]
            if name in names:
                return np.asarray(table[:, names.index(name)], dtype=np.float64)
        raise ModelError(f"closed-loop result: model {self.model.name} has no variable {name!r}")

    def status_counts(self) -> dict[str, int]:
        """Return the number of decisions per solve status."""
        counts = np.bincount(self.status.astype(np.intp), minlength=len(STATUS_CODES))
        return {code: int(counts[i]) for i, code in enumerate(STATUS_CODES) if counts[i]}

    def kpis(self, spec: KpiSpec) -> dict[str, KpiResult]:
        """Return the KPI set of :func:`energyopt.kpis.compute_kpis` for this run.

        Parameters
        ----------
        spec : KpiSpec
            Which variables feed which KPI.

        Returns
        -------
        dict of str to KpiResult
            Every KPI whose inputs ``spec`` gives, plus the compute-time KPIs.

        Raises
        ------
        ModelError
            For an unknown variable name.
        DataError
            If a KPI function rejects its input (see :mod:`energyopt.kpis`).
        """
        from energyopt.kpis import KpiInputs, compute_kpis, total_mass_t

        output_t = None
        if spec.product_flow is not None:
            flow = self.series(spec.product_flow) * spec.product_density_kg_per_unit
            output_t = total_mass_t(flow, self.step_s)
        inputs = KpiInputs(
            step_s=self.step_s,
            power_purchased_w=None
            if spec.power_purchased is None
            else self.series(spec.power_purchased),
            power_generated_w=None
            if spec.power_generated is None
            else self.series(spec.power_generated),
            price_per_kwh=spec.price_per_kwh,
            fuel_flows_nm3_s={k: self.series(v[0]) for k, v in spec.fuels.items()},
            fuel_lhv_j_nm3={k: v[1] for k, v in spec.fuels.items()},
            fuel_prices_per_nm3={k: v[2] for k, v in spec.fuels.items()},
            steam_flows_kg_s={k: self.series(v[0]) for k, v in spec.steam.items()},
            steam_enthalpy_j_kg={k: v[1] for k, v in spec.steam.items()},
            output_t=output_t,
            cv_values={k: self.series(k) for k in spec.cv_bands},
            cv_bands=dict(spec.cv_bands),
            cv_hard=dict(spec.cv_hard),
            cv_scales=dict(spec.cv_scales),
            mv_values={k: self.series(k) for k in spec.mv_limits},
            mv_limits=dict(spec.mv_limits),
            solve_times_s=self.compute_time_s if self.compute_time_s.size else None,
            control_interval_s=self.interval_s,
        )
        return compute_kpis(inputs)
