"""What ``energyopt fit`` fits in a project when the caller does not say.

The project file has no place to mark parameters for calibration, so the
choice follows the unit types: :data:`CALIBRATED_PARAMETERS` lists, per unit
type of the library, the parameters that a historian usually determines
(design values that drift in operation -- boiler efficiency, turbine specific
work, reactor kinetics and heat transfer) and the state equations that carry
them.  :func:`default_fit_plan` keeps every in-service unit of such a type
whose fitted equations can be fed from the historian (every signal they read
bound to a tag, a calorimeter or a nominal heating value); the others are
listed as skipped with the reason.  Data-driven units are identified, not
calibrated (:mod:`energyopt.identify`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from energyopt.errors import EnergyoptError
from energyopt.fitting.submodel import equation_subset, unused_signals
from energyopt.fitting.units import signal_source, unit_model
from energyopt.fitting.workflow import UnitFitSpec
from plant_models.calibration import CalibrationSettings

if TYPE_CHECKING:
    from energyopt.project import Project
    from plant_models.calibration.hybrid import ResidualSpec

__all__ = ["CALIBRATED_PARAMETERS", "FitPlan", "TypeCalibration", "default_fit_plan"]


@dataclass(frozen=True)
class TypeCalibration:
    """The default calibration of one unit type.

    Attributes
    ----------
    parameters : tuple of str
        Parameter fields to estimate.
    states : tuple of str or None
        State equations fitted (``None``: all; each must be measured).
    substeps : int
        RK4 sub-steps per sample (more for lags shorter than the sampling).
    """

    parameters: tuple[str, ...]
    states: tuple[str, ...] | None = None
    substeps: int = 1

    def spec(self, unit: str) -> UnitFitSpec:
        """Return the :class:`UnitFitSpec` of a unit of this type."""
        return UnitFitSpec(
            unit,
            self.parameters,
            states=self.states,
            settings=CalibrationSettings(substeps=self.substeps),
        )


#: Unit type -> its default calibration.  The choices are those the issue 3
#: acceptance tests proved identifiable from one to two days of one-minute data
#: (tests/energyopt/fitting/test_calibrate_*.py): the boiler's nominal
#: efficiency from fuel, heating value and steam flow; the turbo-generator's
#: Willans slope from inlet, extraction and power (its 20 s lag needs 4
#: sub-steps at one minute); the Van de Vusse reactor's k10 and jacket
#: heat-transfer coefficient from its two energy balances (the component
#: balances need the unmeasured recycle composition).
CALIBRATED_PARAMETERS: Mapping[str, TypeCalibration] = {
    "boiler": TypeCalibration(("efficiency_nominal",)),
    "turbogenerator": TypeCalibration(("specific_work_j_kg",), substeps=4),
    "cstr_vdv": TypeCalibration(
        ("k10_1_s", "heat_transfer_coefficient_w_m2_k"), states=("t_reactor_k", "t_jacket_k")
    ),
}


@dataclass(frozen=True)
class FitPlan:
    """What to fit in a project.

    Attributes
    ----------
    calibrate : tuple of UnitFitSpec
        Mechanistic units and the parameters to estimate.
    residuals : Mapping[str, ResidualSpec]
        Unit -> data-driven residual to fit on top of its (calibrated) model.
    identify : tuple of str
        Data-driven units to identify.
    skipped : tuple of (str, str)
        Units left out, with the reason.
    """

    calibrate: tuple[UnitFitSpec, ...] = ()
    residuals: Mapping[str, ResidualSpec] = field(default_factory=dict)
    identify: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether there is nothing to fit."""
        return not (self.calibrate or self.residuals or self.identify)


def _missing_signal(project: Project, spec: UnitFitSpec) -> str | None:
    """Return why a unit's fitted equations cannot be fed from the historian, or ``None``."""
    try:
        unit = unit_model(project, spec.unit)
        states = (
            spec.states if spec.states is not None else tuple(v.name for v in unit.model.states)
        )
        model = equation_subset(unit.model, states)
        unused = set(unused_signals(model, spec.outputs))
        needed = [v.name for v in model.inputs + model.disturbances if v.name not in unused]
        for name in (*needed, *states, *spec.outputs):
            signal_source(project, unit, name, spec.signals)
    except EnergyoptError as exc:
        return str(exc)
    return None


def default_fit_plan(
    project: Project, residuals: Mapping[str, ResidualSpec] | None = None
) -> FitPlan:
    """Choose the units to calibrate and identify in a project.

    Parameters
    ----------
    project : Project
        The project.
    residuals : Mapping[str, ResidualSpec], optional
        Hybrid residuals to fit (unit -> residual declaration).

    Returns
    -------
    FitPlan
        Every in-service unit of a type in :data:`CALIBRATED_PARAMETERS`
        whose fitted signals are all available, every in-service data-driven
        unit, and the units of a listed type left out with the reason.
    """
    specs: list[UnitFitSpec] = []
    skipped: list[tuple[str, str]] = []
    identify: list[str] = []
    for name, unit in project.units.items():
        if not unit.in_service:
            continue
        if unit.is_data_driven:
            identify.append(name)
            continue
        default = CALIBRATED_PARAMETERS.get(unit.type)
        if default is None:
            continue
        spec = default.spec(name)
        reason = _missing_signal(project, spec)
        if reason is None:
            specs.append(spec)
        else:
            skipped.append((name, reason))
    return FitPlan(tuple(specs), dict(residuals or {}), tuple(identify), tuple(skipped))
