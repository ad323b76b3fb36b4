"""What to fit and how: free parameters with bounds and priors, and the calibration settings.

Free parameters are optimised in *scaled* form ``theta_scaled = theta / scale``
(``scale`` defaults to the magnitude of the initial value), so that a
pre-exponential factor of 1e8 1/s and an activation temperature of 1e4 K are
both of order one for the optimiser and for the identifiability test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from plant_models.calibration.errors import CalibrationError
from plant_models.core.equations import EquationModel

__all__ = ["CalibrationSettings", "FitParameter", "FreeParameters", "resolve_parameters"]

Method = Literal["equation_error", "multiple_shooting"]
Dynamics = Literal["one_step", "derivative"]


@dataclass(frozen=True)
class FitParameter:
    """A parameter to estimate, by its name in the model's parameter vector.

    Attributes
    ----------
    name : str
        Parameter name (a field of the unit's parameter dataclass, or a
        dotted ``<unit>.<field>`` name of a composed plant).
    lower, upper : float or None
        Bounds of the estimate; ``None`` takes the parameter's declared range.
        [parameter unit]
    initial : float or None
        Starting value; ``None`` takes the value in the given parameters.
        [parameter unit]
    prior_mean, prior_std : float or None
        Optional Gaussian prior (both or neither): adds the residual
        ``(theta - prior_mean) / prior_std`` to the fit. [parameter unit]
    scale : float or None
        Typical magnitude used to scale the optimisation variable and to
        express relative standard errors; ``None`` takes ``|initial|`` (or
        the bound width, or 1, for an initial value of 0). [parameter unit]
    """

    name: str
    lower: float | None = None
    upper: float | None = None
    initial: float | None = None
    prior_mean: float | None = None
    prior_std: float | None = None
    scale: float | None = None

    def __post_init__(self) -> None:
        if (self.prior_mean is None) != (self.prior_std is None):
            raise CalibrationError(f"parameter {self.name}: give both prior_mean and prior_std")
        if self.prior_std is not None and not (
            math.isfinite(self.prior_std) and self.prior_std > 0.0
        ):
            raise CalibrationError(
                f"parameter {self.name}: prior_std must be positive, got {self.prior_std}"
            )
        if self.scale is not None and not (math.isfinite(self.scale) and self.scale > 0.0):
            raise CalibrationError(
                f"parameter {self.name}: scale must be positive, got {self.scale}"
            )
        for label in ("lower", "upper", "initial", "prior_mean"):
            value = getattr(self, label)
            if value is not None and math.isnan(value):
                raise CalibrationError(f"parameter {self.name}: {label} is NaN")


@dataclass(frozen=True)
class CalibrationSettings:
    """Settings of :func:`plant_models.calibration.calibrate`.

    Attributes
    ----------
    method : {"equation_error", "multiple_shooting"}
        ``equation_error``: least squares on the model equations evaluated at
        the measured states (every state must be measured for a dynamic
        model); fast, but noise on the states biases it slightly.
        ``multiple_shooting``: output-error fit of simulated trajectories
        over segments with continuity constraints, solved by ipopt; works
        with partially measured states.
    dynamics : {"one_step", "derivative"}
        Equation error of the dynamics: one-step-ahead prediction of the
        measured states over one sample (exact for zero-order-hold inputs)
        or ``f(x, u, d, p)`` against Savitzky-Golay derivatives of the states.
    substeps : int
        RK4 steps per sample in the fit (and in the validation simulations).
    segment_length : int
        Samples per multiple-shooting segment.
    derivative_window : int
        Odd Savitzky-Golay window (samples) for ``dynamics="derivative"``.
    reweight : bool
        When no noise levels are given: fit, set each signal's weight to the
        inverse RMS of its residuals, and fit again (feasible generalised
        least squares), so that signals of different noise level and unit
        count by their information.
    max_iter : int
        Iteration limit of the optimiser.
    tol : float
        Convergence tolerance (ipopt ``tol``; scipy ``ftol``/``xtol``/``gtol``).
    rcond : float
        Structural identifiability threshold (see
        :mod:`plant_models.calibration.statistics`). [-]
    max_relative_se : float
        Practical identifiability threshold: largest admissible standard
        error of any parameter combination, relative to the parameter
        scales. [-]
    """

    method: Method = "equation_error"
    dynamics: Dynamics = "one_step"
    substeps: int = 1
    segment_length: int = 20
    derivative_window: int = 7
    reweight: bool = True
    max_iter: int = 200
    tol: float = 1e-8
    rcond: float = 1e-8
    max_relative_se: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in ("equation_error", "multiple_shooting"):
            raise CalibrationError(
                f"method must be 'equation_error' or 'multiple_shooting', got {self.method!r}"
            )
        if self.dynamics not in ("one_step", "derivative"):
            raise CalibrationError(
                f"dynamics must be 'one_step' or 'derivative', got {self.dynamics!r}"
            )
        for label, low in (("substeps", 1), ("segment_length", 1), ("max_iter", 1)):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise CalibrationError(f"{label} must be an integer >= {low}, got {value!r}")
        window = self.derivative_window
        if isinstance(window, bool) or not isinstance(window, int) or window < 5 or window % 2 == 0:
            raise CalibrationError(f"derivative_window must be an odd integer >= 5, got {window!r}")
        for label in ("tol", "rcond", "max_relative_se"):
            value = getattr(self, label)
            if not (math.isfinite(value) and value > 0.0):
                raise CalibrationError(f"{label} must be positive, got {value}")


@dataclass(frozen=True, eq=False)
class FreeParameters:
    """The resolved free parameters of a calibration (all arrays of length ``n_free``).

    Attributes
    ----------
    names : tuple of str
        Parameter names.
    index : numpy.ndarray of int
        Positions in the model's parameter vector ``p``.
    initial, lower, upper, scale : numpy.ndarray
        Start values, bounds and scales. [parameter units]
    prior_mean, prior_std : numpy.ndarray
        Prior of each parameter, ``nan`` where there is none. [parameter units]
    p_base : numpy.ndarray
        The full parameter vector with the free entries set to their initial values.
    """

    names: tuple[str, ...]
    index: NDArray[np.int64]
    initial: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    scale: NDArray[np.float64]
    prior_mean: NDArray[np.float64]
    prior_std: NDArray[np.float64]
    p_base: NDArray[np.float64]

    @property
    def n_free(self) -> int:
        """Number of free parameters."""
        return len(self.names)

    @property
    def has_prior(self) -> NDArray[np.bool_]:
        """Mask of the parameters with a prior."""
        return np.isfinite(self.prior_std)

    def full(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the full ``p`` with the free entries set to ``theta`` [parameter units]."""
        p = self.p_base.copy()
        p[self.index] = theta
        return p

    def selection(self) -> NDArray[np.float64]:
        """Matrix ``E`` (n_p x n_free) with ``p = p_fixed + E @ theta``."""
        e = np.zeros((self.p_base.size, self.n_free))
        e[self.index, np.arange(self.n_free)] = 1.0
        return e

    def p_fixed(self) -> NDArray[np.float64]:
        """The parameter vector with the free entries zeroed."""
        p = self.p_base.copy()
        p[self.index] = 0.0
        return p


def resolve_parameters(
    model: EquationModel, p0: NDArray[np.float64], fit: Sequence[str | FitParameter]
) -> FreeParameters:
    """Resolve names, bounds, start values, scales and priors of the parameters to fit.

    Raises
    ------
    CalibrationError
        For no parameters, an unknown or repeated name, empty bounds or a
        start value outside the bounds.
    """
    specs = [FitParameter(item) if isinstance(item, str) else item for item in fit]
    if not specs:
        raise CalibrationError("no parameters to fit")
    known = [v.name for v in model.parameters]
    names = [s.name for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CalibrationError(f"parameter(s) {', '.join(repeated)} listed more than once")
    rows = []
    for spec in specs:
        if spec.name not in known:
            raise CalibrationError(
                f"model {model.name} has no parameter {spec.name!r}; known: {', '.join(known)}"
            )
        i = known.index(spec.name)
        var = model.parameters[i]
        lower = var.low if spec.lower is None else spec.lower
        upper = var.high if spec.upper is None else spec.upper
        initial = float(p0[i]) if spec.initial is None else spec.initial
        if not lower < upper:
            raise CalibrationError(
                f"parameter {spec.name}: lower {lower:g} not below upper {upper:g}"
            )
        if not lower <= initial <= upper:
            raise CalibrationError(
                f"parameter {spec.name}: initial value {initial:g} outside [{lower:g}, {upper:g}]"
            )
        if spec.scale is not None:
            scale = spec.scale
        elif initial != 0.0:
            scale = abs(initial)
        elif math.isfinite(upper - lower):
            scale = upper - lower
        else:
            scale = 1.0
        mean = math.nan if spec.prior_mean is None else spec.prior_mean
        std = math.nan if spec.prior_std is None else spec.prior_std
        rows.append((i, initial, lower, upper, scale, mean, std))
    index = np.array([r[0] for r in rows], dtype=np.int64)
    initial_arr = np.array([r[1] for r in rows], dtype=np.float64)
    p_base = np.asarray(p0, dtype=np.float64).copy()
    p_base[index] = initial_arr
    return FreeParameters(
        names=tuple(names),
        index=index,
        initial=initial_arr,
        lower=np.array([r[2] for r in rows], dtype=np.float64),
        upper=np.array([r[3] for r in rows], dtype=np.float64),
        scale=np.array([r[4] for r in rows], dtype=np.float64),
        prior_mean=np.array([r[5] for r in rows], dtype=np.float64),
        prior_std=np.array([r[6] for r in rows], dtype=np.float64),
        p_base=p_base,
    )
