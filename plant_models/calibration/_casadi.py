"""Casadi building blocks of the calibration methods (private).

The one-sample step is classical RK4 with ``substeps`` equal sub-steps on the
casadi evaluation of the model's own ``f`` -- the same scheme as the numba
kernel :func:`plant_models.core.kernels.run_rk4`, so a fit and a validation
simulation with the same ``substeps`` discretise the model identically.
Casadi supplies exact derivatives (algorithmic differentiation) of the
residuals, which the optimisers and the identifiability test rely on: finite
differences would blur the small singular values the test looks at.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plant_models.calibration.spec import FreeParameters
from plant_models.core.equations import EquationModel, to_casadi

__all__ = ["ModelFunctions", "model_functions", "parameter_expression", "to_numpy"]


@dataclass(frozen=True)
class ModelFunctions:
    """Casadi functions of one model for one sample interval.

    Attributes
    ----------
    f : casadi.Function
        ``(x, u, d, p) -> dx/dt``.
    g : casadi.Function
        ``(x, u, d, p) -> y``.
    step : casadi.Function
        ``(x, u, d, p) -> x`` one sample later (RK4, ``substeps`` sub-steps).
    """

    f: Any
    g: Any
    step: Any


@functools.lru_cache(maxsize=32)
def model_functions(model: EquationModel, dt_s: float, substeps: int) -> ModelFunctions:
    """Return the casadi ``f``, ``g`` and RK4 sample step of ``model`` (memoised)."""
    import casadi

    compiled = to_casadi(model, "SX")
    n = model.sizes
    x, u, d, p = (casadi.SX.sym(k, n[k]) for k in ("x", "u", "d", "p"))
    h = dt_s / substeps
    xk = x
    for _ in range(substeps):
        k1 = compiled.f(xk, u, d, p)
        k2 = compiled.f(xk + 0.5 * h * k1, u, d, p)
        k3 = compiled.f(xk + 0.5 * h * k2, u, d, p)
        k4 = compiled.f(xk + h * k3, u, d, p)
        xk = xk + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    names = ["x", "u", "d", "p"]
    step = casadi.Function(f"{model.name}_step", [x, u, d, p], [xk], names, ["x_next"])
    return ModelFunctions(compiled.f, compiled.g, step)


def parameter_expression(theta_scaled: Any, free: FreeParameters) -> Any:
    """Return the full parameter vector as a casadi expression of the scaled free parameters.

    ``p = p_fixed + E @ (theta_scaled * scale)``.
    """
    import casadi

    theta = theta_scaled * casadi.DM(free.scale)
    return casadi.DM(free.p_fixed()) + casadi.mtimes(casadi.DM(free.selection()), theta)


def to_numpy(value: Any) -> NDArray[np.float64]:
    """Return a casadi ``DM`` (dense or sparse) as a dense float64 array."""
    return np.asarray(value.full() if hasattr(value, "full") else value, dtype=np.float64)
