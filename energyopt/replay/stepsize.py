"""The replay's RK4 sub-step: at most :data:`SUBSTEP_S`, and stable for the plant.

The replay integrates the plant with fixed-step RK4 (:mod:`energyopt.replay.run`).
Five seconds resolve the steelworks' lags (reducing stations, 5 s) and are
well inside its stability limit (about 12 s), but a process flowsheet's valve
lags of a few seconds make RK4 at 5 s unstable -- silently: the chemical demo
replayed at 5 s was off by 9 % of a span with no error raised.  So the
sub-step is also bounded by the stability limit of RK4 over the recorded
operating points (:func:`plant_models.core.stability.rk4_step_limit_s`), with
a safety factor for operating points between the samples.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from plant_models.core.equations import EquationModel
from plant_models.core.stability import rk4_step_limit_s

__all__ = ["SAFETY_FACTOR", "SAMPLE_ROWS", "SUBSTEP_S", "replay_substeps"]

#: Largest integration sub-step inside a plant step (RK4): resolves lags of 5 s and more. [s]
SUBSTEP_S = 5.0
#: The sub-step is at most the stability limit over the samples divided by this. [-]
SAFETY_FACTOR = 2.0
#: Operating points sampled evenly over the record for the stability limit. [-]
SAMPLE_ROWS = 24


def replay_substeps(
    model: EquationModel,
    step_s: float,
    x_rows: npt.NDArray[np.float64],
    u_rows: npt.NDArray[np.float64],
    d_rows: npt.NDArray[np.float64],
    parameters: npt.ArrayLike,
    x0: npt.ArrayLike,
) -> int:
    """Return the RK4 sub-steps per plant step of a replay.

    Parameters
    ----------
    model : EquationModel
        The replayed plant (continuous time).
    step_s : float
        Plant step of the replay. [s]
    x_rows, u_rows, d_rows : numpy.ndarray, shapes (n, nx), (n, nu), (n, nd)
        States read off the record (NaN where unknown: ``x0`` is used),
        inputs and disturbances per plant step. [SI]
    parameters : array_like
        Plant parameters. [SI]
    x0 : array_like, shape (nx,)
        Initial state; stands in for unknown states. [SI]

    Returns
    -------
    int
        The fewest sub-steps with a sub-step at most :data:`SUBSTEP_S` and at
        most the RK4 stability limit over :data:`SAMPLE_ROWS` evenly spaced
        rows divided by :data:`SAFETY_FACTOR`.
    """
    n = u_rows.shape[0]
    start = np.asarray(x0, dtype=np.float64)
    points = []
    for k in np.unique(np.linspace(0, max(n - 1, 0), SAMPLE_ROWS).round().astype(int)):
        x = np.where(np.isfinite(x_rows[k]), x_rows[k], start) if n else start
        u = np.nan_to_num(u_rows[k]) if n else np.zeros(model.sizes["u"])
        d = np.nan_to_num(d_rows[k]) if n else np.zeros(model.sizes["d"])
        points.append((x, u, d))
    if not points:
        points.append((start, np.zeros(model.sizes["u"]), np.zeros(model.sizes["d"])))
    limit_s = rk4_step_limit_s(model, points, parameters) / SAFETY_FACTOR
    substep_s = min(SUBSTEP_S, limit_s)
    # The 1e-9 slack keeps a step that is a whole multiple of the sub-step
    # (60 s / 5 s) from rounding up to one more sub-step.
    return max(1, math.ceil(step_s / substep_s * (1.0 - 1e-9)))
