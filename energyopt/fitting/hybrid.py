"""Hybrid unit models from the historian: the unit's equations plus a data-driven residual.

:func:`fit_unit_residual` fits a static map to what the unit's mechanistic
model misses on the *training* records of a :class:`~energyopt.fitting.UnitData`
(:func:`plant_models.calibration.fit_residual`), composes the hybrid model
(:func:`plant_models.calibration.hybrid_model`) and compares both models by
free-run simulation on the *hold-out* records, which the map never saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError
from energyopt.fitting.workflow import UnitData, _first_state
from plant_models.calibration import CalibrationError, free_run_metrics
from plant_models.calibration.hybrid import (
    HybridModel,
    HybridResidual,
    ResidualSpec,
    fit_residual,
    hybrid_model,
)
from plant_models.datadriven import IdentificationError

if TYPE_CHECKING:
    from plant_models.datadriven import FitMetrics

__all__ = ["HybridComparison", "fit_unit_residual"]


@dataclass(frozen=True, eq=False)
class HybridComparison:
    """A fitted hybrid unit model and its hold-out comparison with the mechanistic one.

    Attributes
    ----------
    unit : str
        Unit name.
    residual : HybridResidual
        The fitted residual map (store it with :meth:`HybridResidual.to_dict`).
    model : HybridModel
        Mechanistic model plus residual.
    p : numpy.ndarray
        The hybrid model's parameter vector. [SI]
    mechanistic : FitMetrics
        Hold-out free-run fit of the mechanistic model alone.
    hybrid : FitMetrics
        Hold-out free-run fit of the hybrid model.
    """

    unit: str
    residual: HybridResidual
    model: HybridModel
    p: npt.NDArray[np.float64]
    mechanistic: FitMetrics
    hybrid: FitMetrics

    def nrmse(self, signal: str) -> tuple[float, float]:
        """Return the hold-out NRMSE of ``signal``: (mechanistic, hybrid). [-]."""
        i = self.mechanistic.names.index(signal)
        j = self.hybrid.names.index(signal)
        return float(self.mechanistic.nrmse[i]), float(self.hybrid.nrmse[j])


def fit_unit_residual(
    data: UnitData,
    spec: ResidualSpec,
    *,
    p: npt.ArrayLike | None = None,
    kind: Literal["polynomial", "rbf", "mlp"] = "polynomial",
    options: Mapping[str, Any] | None = None,
    substeps: int = 1,
) -> HybridComparison:
    """Fit a residual on the training records and compare on the hold-out records.

    Parameters
    ----------
    data : UnitData
        From :func:`~energyopt.fitting.read_unit_data` (every state measured).
    spec : ResidualSpec
        Corrected outputs or state rates, and the map's features.
    p : array_like, optional
        Mechanistic parameter vector (calibrated values); default the
        project's. [SI]
    kind : {"polynomial", "rbf", "mlp"}
        Map type.
    options : Mapping, optional
        Keyword arguments of the map's fitting function (``degree``, ``penalty``...).
    substeps : int
        RK4 steps per sample in the fit and the simulations.

    Raises
    ------
    ModelError
        Naming the unit, if the residual cannot be fitted or a simulation fails.
    """
    where = f"units.{data.unit.name}"
    p_mech = np.asarray(data.unit.p if p is None else p, dtype=np.float64)
    starts = [_first_state(data.model, rec) for rec in data.validation]
    x0 = starts if data.model.sizes["x"] else None
    try:
        residual = fit_residual(
            data.model, p_mech, spec, data.train, kind=kind, options=options, substeps=substeps
        )
        model = hybrid_model(data.model, residual)
        p_hybrid = model.pack_parameters(p_mech)
        mechanistic = free_run_metrics(data.model, p_mech, data.validation, x0, substeps)
        hybrid = free_run_metrics(model, p_hybrid, data.validation, x0, substeps)
    except (CalibrationError, IdentificationError) as exc:
        raise ModelError(f"{where}: hybrid residual: {exc}") from None
    return HybridComparison(data.unit.name, residual, model, p_hybrid, mechanistic, hybrid)
