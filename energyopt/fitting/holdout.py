"""Hold-out evidence of a fit: per-signal metrics and measured-vs-predicted series.

The metrics come from the fitting machinery itself
(:func:`plant_models.calibration.free_run_metrics` for mechanistic and
hybrid models, :meth:`plant_models.datadriven.DataDrivenUnit.validate` for
identified units); this module adds the *series* behind them for plots --
the same free-run simulations, kept with their sample times -- and turns
both into :class:`~energyopt.fitting.fit_report.UnitFitReport` entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError
from energyopt.fitting.fit_report import (
    OutputFit,
    ParameterFit,
    SeriesFit,
    series_from_records,
)
from energyopt.fitting.workflow import UnitData, _first_state
from plant_models.calibration import CalibrationError, free_run
from plant_models.datadriven import ARXModel, IdentificationError, StateSpaceModel
from plant_models.datadriven.identification import model_inputs
from plant_models.datadriven.segments import fill_invalid, segments

if TYPE_CHECKING:
    from energyopt.identify import UnitData as IdentifyData
    from energyopt.identify import UnitIdentification
    from plant_models.core.equations import EquationModel
    from plant_models.datadriven import FitMetrics

__all__ = [
    "identified_series",
    "mechanistic_output_fits",
    "mechanistic_series",
    "output_fits",
    "parameter_fits",
]


def _variable_unit(model: EquationModel, name: str) -> str:
    for kind in ("y", "x"):
        for var in model.variables(kind):
            if var.name == name:
                return var.unit
    return ""


def output_fits(metrics: FitMetrics, units: dict[str, str]) -> tuple[OutputFit, ...]:
    """Return one :class:`OutputFit` per signal of ``metrics``.

    Parameters
    ----------
    metrics : FitMetrics
        Hold-out metrics.
    units : dict of str to str
        Signal name -> SI unit.
    """
    return tuple(
        OutputFit(
            name,
            units.get(name, ""),
            float(metrics.nrmse[i]),
            float(metrics.r2[i]),
            float(metrics.bias[i]),
        )
        for i, name in enumerate(metrics.names)
    )


def mechanistic_output_fits(model: EquationModel, metrics: FitMetrics) -> tuple[OutputFit, ...]:
    """Return the :class:`OutputFit` entries of a mechanistic (or hybrid) model's metrics."""
    return output_fits(metrics, {n: _variable_unit(model, n) for n in metrics.names})


def parameter_fits(
    model: EquationModel, rows: Sequence[dict[str, object]]
) -> tuple[ParameterFit, ...]:
    """Return the estimates of :meth:`UnitCalibration.rows` as :class:`ParameterFit` entries."""
    units = {v.name: v.unit for v in model.parameters}
    return tuple(
        ParameterFit(
            str(row["parameter"]),
            float(row["value"]),  # type: ignore[arg-type]
            float(row["standard_error"]),  # type: ignore[arg-type]
            units.get(str(row["parameter"]), ""),
            float(row["nominal"]),  # type: ignore[arg-type]
        )
        for row in rows
    )


def mechanistic_series(
    data: UnitData,
    model: EquationModel,
    p: npt.ArrayLike,
    names: Sequence[str],
    substeps: int,
) -> dict[str, SeriesFit]:
    """Free-run ``model`` over each hold-out record; the measured and predicted signals.

    Parameters
    ----------
    data : UnitData
        The unit's records (:func:`~energyopt.fitting.read_unit_data`).
    model : EquationModel
        The fitted model (``data.model``, or the hybrid model on it).
    p : array_like
        Its parameter vector. [SI]
    names : sequence of str
        The signals compared (the metrics' names: measured outputs, then states).
    substeps : int
        RK4 steps per sample, as in the fit.

    Raises
    ------
    ModelError
        If the simulation diverges.
    """
    grid = data.validation_grid if data.validation_grid is not None else data.grid
    times, meas, pred = [], [], []
    for rec in data.validation:
        x0 = _first_state(model, rec) if model.sizes["x"] else None
        try:
            states, outputs = free_run(model, p, rec, x0, substeps)
        except CalibrationError as exc:
            raise ModelError(f"units.{data.unit.name}: hold-out simulation: {exc}") from None
        step_ms = round(rec.dt_s * 1000.0)
        t0 = int(grid.time_ms[0]) + round(rec.t0_s * 1000.0)
        times.append(t0 + step_ms * np.arange(rec.n_samples, dtype=np.int64))
        m_cols, p_cols = [], []
        for name in names:
            if name in rec.outputs:
                m_cols.append(np.asarray(rec.outputs[name], dtype=np.float64))
                p_cols.append(outputs[:, model.index("y", name)])
            else:
                m_cols.append(np.asarray(rec.states[name], dtype=np.float64))
                p_cols.append(states[:-1, model.index("x", name)])
        meas.append(np.column_stack(m_cols))
        pred.append(np.column_stack(p_cols))
    return series_from_records(names, times, meas, pred)


def identified_series(result: UnitIdentification, holdout: IdentifyData) -> dict[str, SeriesFit]:
    """Hold-out series of an identified unit, simulated as its validation does.

    The validation of :meth:`DataDrivenUnit.validate` keeps no series, so its
    rule is repeated here with the model's public methods: each gap-free
    segment runs free (ARX from its first lagged samples, which are not
    compared; state space from the least-squares initial state); static maps
    are evaluated sample by sample.

    Parameters
    ----------
    result : UnitIdentification
        The identified unit.
    holdout : energyopt.identify.UnitData
        Its signals over the hold-out window.

    Raises
    ------
    ModelError
        If the model cannot be evaluated on the hold-out data.
    """
    unit = result.unit
    names = [v.name for v in unit.outputs]
    mask = holdout.valid
    spec = unit.spec
    v_all = model_inputs(
        spec,
        fill_invalid(holdout.u, mask) if spec.inputs else None,
        fill_invalid(holdout.d, mask) if spec.disturbances else None,
        holdout.n_samples,
    )
    y_all = fill_invalid(holdout.y, mask)
    model = unit.model
    times, meas, pred = [], [], []
    try:
        if isinstance(model, ARXModel | StateSpaceModel):
            lags = model.n_lags if isinstance(model, ARXModel) else 0
            for start, stop in segments(mask, min_length=lags + 1):
                v_seg, y_seg = v_all[start:stop], y_all[start:stop]
                if isinstance(model, ARXModel):
                    sim = model.simulate(v_seg, y_seg[:lags])
                else:
                    x0 = model.estimate_initial_state(v_seg, y_seg, n_samples=stop - start)
                    sim = model.simulate(v_seg, x0)
                times.append(holdout.time_ms[start + lags : stop])
                meas.append(y_seg[lags:])
                pred.append(np.asarray(sim)[lags:])
        else:
            times.append(holdout.time_ms[mask])
            meas.append(y_all[mask])
            pred.append(np.asarray(model.predict(v_all[mask])))
    except (IdentificationError, ValueError) as exc:
        raise ModelError(f"units.{unit.name}: hold-out simulation: {exc}") from None
    return series_from_records(names, times, meas, pred)
