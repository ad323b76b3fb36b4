"""Largest stable step of the explicit RK4 integrator for a model, from its Jacobian spectrum.

Classical RK4 advances a linear mode ``dx/dt = lambda x`` by the stability
polynomial ``R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24`` with ``z = h lambda``; a
step ``h`` is stable for the mode when ``|R(h lambda)| <= 1`` (on the
negative real axis up to ``h |lambda| = 2.785``).  A plant's stiffest modes
are mostly constant first-order lags (valves, reducing stations), but
flow-dependent terms move them with the operating point, so the step is
taken from the spectrum of ``df/dx`` at several operating points and a
safety factor is left on top.

Written here rather than taken from a library: scipy's integrators choose
their own steps adaptively, while the fixed-step kernels need the bound
before they run (the replay fixes one step for a whole recorded period).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from plant_models.core.equations import EquationModel

__all__ = ["RK4_REAL_LIMIT", "rk4_stable_step_s", "rk4_step_limit_s"]

#: ``h |lambda|`` at which RK4 loses stability on the negative real axis. [-]
RK4_REAL_LIMIT = 2.785293563405282


def _amplification(z: complex) -> float:
    """``|R(z)|`` of classical RK4."""
    return abs(1.0 + z + z * z / 2.0 + z**3 / 6.0 + z**4 / 24.0)


def rk4_stable_step_s(eigenvalues: npt.ArrayLike) -> float:
    """Return the largest step for which RK4 is stable for every given mode.

    Parameters
    ----------
    eigenvalues : array_like of complex
        Eigenvalues of ``df/dx``. [1/s]

    Returns
    -------
    float
        Largest ``h`` with ``|R(h lambda)| <= 1`` for every eigenvalue with a
        negative real part (within 1e-9 relative); ``inf`` when no such mode
        constrains the step (growing or purely integrating modes are the
        model's own dynamics, not a stability limit of the method). [s]
    """
    lam = np.atleast_1d(np.asarray(eigenvalues, dtype=np.complex128))
    limit = math.inf
    for value in lam:
        if not np.isfinite(value) or value.real >= 0.0 or abs(value) == 0.0:
            continue
        # Along each ray of the left half-plane the stable set is one interval
        # from h = 0 (checked numerically on 2001 rays: the region is
        # star-shaped there), and at |z| = 8 |R(z)| >= 8^4/24 - (1 + 8 + 8^2/2
        # + 8^3/6) = 44 > 1 in every direction: bisect below 8 / |lambda|.
        low, high = 0.0, 8.0 / abs(value)
        if _amplification(high * value) <= 1.0:
            continue
        for _ in range(60):
            mid = 0.5 * (low + high)
            if _amplification(mid * value) <= 1.0:
                low = mid
            else:
                high = mid
        limit = min(limit, low)
    return limit


def rk4_step_limit_s(
    model: EquationModel,
    points: Iterable[tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]],
    parameters: npt.ArrayLike,
) -> float:
    """Return the largest stable RK4 step over a model's operating points.

    Parameters
    ----------
    model : EquationModel
        A continuous-time model.
    points : iterable of (x, u, d)
        Operating points (states, inputs, disturbances). [SI]
    parameters : array_like
        Parameter vector. [SI]

    Returns
    -------
    float
        The smallest :func:`rk4_stable_step_s` of ``df/dx`` over the points;
        ``inf`` when no point has a decaying mode, or for a model without
        states. [s]

    Raises
    ------
    ValueError
        For a discrete-time model (it has no integrator step).
    """
    if model.dt_s is not None:
        raise ValueError(f"{model.name} is a discrete-time model: it has no integrator step")
    if model.sizes["x"] == 0:
        return math.inf
    from plant_models.core.codegen import compile_model

    jac = compile_model(model).jac
    p = np.asarray(parameters, dtype=np.float64)
    limit = math.inf
    for x, u, d in points:
        a = np.asarray(
            jac(
                np.asarray(x, dtype=np.float64),
                np.asarray(u, dtype=np.float64),
                np.asarray(d, dtype=np.float64),
                p,
            )
        )
        if not np.all(np.isfinite(a)):
            continue
        limit = min(limit, rk4_stable_step_s(np.linalg.eigvals(a)))
    return limit
