"""Errors of calibration and hybrid modelling (``ValueError`` subclasses, as in plant_models)."""

from __future__ import annotations

__all__ = [
    "CalibrationDataError",
    "CalibrationError",
    "CalibrationSolverError",
    "IdentifiabilityError",
]


class CalibrationError(ValueError):
    """A calibration cannot be set up or run.

    Raised for an unknown parameter or signal name, an estimation method that
    does not fit the measurements (equation error without measured states),
    inconsistent settings, and as the base of the more specific errors below.
    """


class CalibrationDataError(CalibrationError):
    """The data arrays are unusable: wrong shapes, NaN or infinite values, too few samples.

    The message names the array, the column and the first bad sample.
    """


class CalibrationSolverError(CalibrationError):
    """The optimiser did not converge.

    Attributes
    ----------
    status : str
        The solver's own return status (for example ipopt's
        ``"Maximum_Iterations_Exceeded"`` or scipy's message).
    """

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class IdentifiabilityError(CalibrationError):
    """The data cannot identify one or more of the parameters to fit.

    Raised when the scaled sensitivity (Jacobian) matrix of the weighted
    residuals at the optimum is rank deficient or so ill-conditioned that a
    combination of parameters is undetermined (see
    :mod:`plant_models.calibration.statistics` for the thresholds).

    Attributes
    ----------
    parameters : tuple of str
        The parameters involved in the undetermined combination (from the
        right singular vector of the smallest singular value).
    correlation : float or None
        Absolute correlation of the two estimates when exactly two
        parameters are involved, else ``None``. [-]
    """

    def __init__(
        self, message: str, parameters: tuple[str, ...], correlation: float | None = None
    ) -> None:
        super().__init__(message)
        self.parameters = parameters
        self.correlation = correlation
