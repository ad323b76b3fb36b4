"""Static linear-in-features maps ``y = h(z)``: polynomial and Gaussian RBF regression.

Inputs and outputs are standardised (the scalings are stored with the model),
features are built on the scaled inputs, and the coefficients come from ridge
regression with the penalty chosen by generalised or k-fold cross-validation
(:mod:`plant_models.datadriven.ridge`).  The intercept is never penalised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.datadriven import _serial
from plant_models.datadriven._checks import as_2d, check_int
from plant_models.datadriven.errors import IdentificationError, ModelFormatError
from plant_models.datadriven.features import (
    polynomial_exponents,
    polynomial_features,
    rbf_centres,
    rbf_features,
    rbf_widths,
)
from plant_models.datadriven.ridge import PenaltyChoice, ridge_fit
from plant_models.datadriven.scaling import Scaling

__all__ = ["PolynomialModel", "RBFModel", "fit_polynomial", "fit_rbf"]


def _check_scalings(model: Any, n_features_rows: int) -> None:
    n_in, n_out = model.input_scaling.size, model.output_scaling.size
    if model.coef.shape != (n_features_rows, n_out):
        raise ValueError(
            f"{model.kind}: coef must have shape ({n_features_rows}, {n_out}), "
            f"got {model.coef.shape}"
        )
    if model.alpha.shape != (n_out,):
        raise ValueError(f"{model.kind}: alpha must have shape ({n_out},), got {model.alpha.shape}")
    if n_in < 1 or n_out < 1:
        raise ValueError(f"{model.kind}: needs at least one input and one output")


@dataclass(frozen=True, eq=False)
class PolynomialModel:
    """Polynomial regression ``y = unscale(sum_j coef[j] * prod_k z_k ** E[j, k])``.

    Attributes
    ----------
    input_scaling : Scaling
        Input standardisation; ``z = input_scaling.apply(inputs)``. [input units]
    output_scaling : Scaling
        Output standardisation. [output units]
    exponents : ndarray of int, shape (n_features, n_inputs)
        Monomial powers; row 0 is the intercept.
    coef : ndarray, shape (n_features, n_outputs)
        Coefficients on scaled outputs. [-]
    alpha : ndarray, shape (n_outputs,)
        Ridge penalty per sample used for each output. [-]
    """

    kind: ClassVar[str] = "polynomial"

    input_scaling: Scaling
    output_scaling: Scaling
    exponents: NDArray[np.int64]
    coef: NDArray[np.float64]
    alpha: NDArray[np.float64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "exponents", _serial.frozen(self.exponents, np.int64))
        object.__setattr__(self, "coef", _serial.frozen(self.coef))
        object.__setattr__(self, "alpha", _serial.frozen(self.alpha))
        if self.exponents.ndim != 2 or self.exponents.shape[1] != self.input_scaling.size:
            raise ValueError(
                f"polynomial: exponents must have shape (n_features, {self.input_scaling.size})"
            )
        if np.any(self.exponents < 0):
            raise ValueError("polynomial: exponents must be non-negative")
        _check_scalings(self, self.exponents.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of inputs."""
        return self.input_scaling.size

    @property
    def n_outputs(self) -> int:
        """Number of outputs."""
        return self.output_scaling.size

    @property
    def degree(self) -> int:
        """Largest total degree of a monomial."""
        return int(self.exponents.sum(axis=1).max())

    def predict(self, inputs: ArrayLike) -> NDArray[np.float64]:
        """Evaluate the map (numpy reference).

        Parameters
        ----------
        inputs : array_like, shape (n_samples, n_inputs) or (n_inputs,)
            Inputs. [input units]

        Returns
        -------
        ndarray, shape (n_samples, n_outputs) or (n_outputs,)
            Outputs. [output units]
        """
        arr = np.asarray(inputs, dtype=np.float64)
        z = self.input_scaling.apply(np.atleast_2d(arr))
        y = self.output_scaling.invert(polynomial_features(z, self.exponents) @ self.coef)
        return y[0] if arr.ndim == 1 else y

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "input_scaling": self.input_scaling.to_dict(),
            "output_scaling": self.output_scaling.to_dict(),
            "exponents": _serial.to_list(self.exponents),
            "coef": _serial.to_list(self.coef),
            "alpha": _serial.to_list(self.alpha),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise :class:`ModelFormatError` if malformed."""
        _serial.check_header(data, cls.kind)
        try:
            return cls(
                input_scaling=Scaling.from_dict(_serial.get(data, "input_scaling", cls.kind)),
                output_scaling=Scaling.from_dict(_serial.get(data, "output_scaling", cls.kind)),
                exponents=_serial.array(data, "exponents", cls.kind, 2, np.int64),
                coef=_serial.array(data, "coef", cls.kind, 2),
                alpha=_serial.array(data, "alpha", cls.kind, 1),
            )
        except ModelFormatError:
            raise
        except ValueError as exc:
            raise ModelFormatError(str(exc)) from None


@dataclass(frozen=True, eq=False)
class RBFModel:
    """Gaussian radial-basis-function regression.

    ``y = unscale(coef[0] + sum_j coef[j+1] * exp(-||z - c_j||^2 / (2 w_j^2)))``
    with ``z`` the scaled inputs.

    Attributes
    ----------
    input_scaling, output_scaling : Scaling
        Standardisations of inputs and outputs. [input units], [output units]
    centres : ndarray, shape (n_centres, n_inputs)
        Centres in scaled input space. [-]
    widths : ndarray, shape (n_centres,)
        Gaussian widths in scaled input space. [-]
    coef : ndarray, shape (1 + n_centres, n_outputs)
        Intercept then one weight per centre, on scaled outputs. [-]
    alpha : ndarray, shape (n_outputs,)
        Ridge penalty per sample used for each output. [-]
    """

    kind: ClassVar[str] = "rbf"

    input_scaling: Scaling
    output_scaling: Scaling
    centres: NDArray[np.float64]
    widths: NDArray[np.float64]
    coef: NDArray[np.float64]
    alpha: NDArray[np.float64]

    def __post_init__(self) -> None:
        for name in ("centres", "widths", "coef", "alpha"):
            object.__setattr__(self, name, _serial.frozen(getattr(self, name)))
        n_c = self.centres.shape[0] if self.centres.ndim == 2 else -1
        if n_c < 1 or self.centres.shape[1] != self.input_scaling.size:
            raise ValueError(f"rbf: centres must have shape (n_centres, {self.input_scaling.size})")
        if self.widths.shape != (n_c,) or np.any(self.widths <= 0.0):
            raise ValueError(f"rbf: widths must be {n_c} positive numbers")
        _check_scalings(self, 1 + n_c)

    @property
    def n_inputs(self) -> int:
        """Number of inputs."""
        return self.input_scaling.size

    @property
    def n_outputs(self) -> int:
        """Number of outputs."""
        return self.output_scaling.size

    @property
    def n_centres(self) -> int:
        """Number of Gaussian basis functions."""
        return int(self.centres.shape[0])

    def predict(self, inputs: ArrayLike) -> NDArray[np.float64]:
        """Evaluate the map (numpy reference); shapes as :meth:`PolynomialModel.predict`."""
        arr = np.asarray(inputs, dtype=np.float64)
        z = self.input_scaling.apply(np.atleast_2d(arr))
        y = self.output_scaling.invert(rbf_features(z, self.centres, self.widths) @ self.coef)
        return y[0] if arr.ndim == 1 else y

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "input_scaling": self.input_scaling.to_dict(),
            "output_scaling": self.output_scaling.to_dict(),
            "centres": _serial.to_list(self.centres),
            "widths": _serial.to_list(self.widths),
            "coef": _serial.to_list(self.coef),
            "alpha": _serial.to_list(self.alpha),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise :class:`ModelFormatError` if malformed."""
        _serial.check_header(data, cls.kind)
        try:
            return cls(
                input_scaling=Scaling.from_dict(_serial.get(data, "input_scaling", cls.kind)),
                output_scaling=Scaling.from_dict(_serial.get(data, "output_scaling", cls.kind)),
                centres=_serial.array(data, "centres", cls.kind, 2),
                widths=_serial.array(data, "widths", cls.kind, 1),
                coef=_serial.array(data, "coef", cls.kind, 2),
                alpha=_serial.array(data, "alpha", cls.kind, 1),
            )
        except ModelFormatError:
            raise
        except ValueError as exc:
            raise ModelFormatError(str(exc)) from None


def _prepare(
    inputs: ArrayLike, outputs: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], Scaling, Scaling]:
    u = as_2d(inputs, "inputs")
    y = as_2d(outputs, "outputs", n_samples=u.shape[0])
    u_scaling = Scaling.fit(u, "inputs")
    y_scaling = Scaling.fit(y, "outputs")
    return u_scaling.apply(u), y_scaling.apply(y), u_scaling, y_scaling


def fit_polynomial(
    inputs: ArrayLike,
    outputs: ArrayLike,
    degree: int = 2,
    *,
    penalty: PenaltyChoice = "gcv",
    n_folds: int = 5,
    seed: int = 0,
) -> PolynomialModel:
    """Fit a polynomial map with all cross terms up to ``degree``.

    Parameters
    ----------
    inputs : array_like, shape (n_samples, n_inputs)
        Input samples. [input units]
    outputs : array_like, shape (n_samples, n_outputs)
        Output samples. [output units]
    degree : int
        Largest total degree of a monomial.
    penalty : {"gcv", "kfold"} or float
        Ridge penalty choice (see :func:`~plant_models.datadriven.ridge.ridge_fit`).
    n_folds, seed : int
        k-fold settings (random fold assignment with ``seed``).

    Raises
    ------
    IdentificationError
        For non-finite data, a constant input or output, or no more samples
        than monomials.
    """
    degree = check_int(degree, "degree", 1)
    z, y_s, u_scaling, y_scaling = _prepare(inputs, outputs)
    exponents = polynomial_exponents(z.shape[1], degree)
    if z.shape[0] <= exponents.shape[0]:
        raise IdentificationError(
            f"too few samples: {z.shape[0]} samples for a degree-{degree} polynomial of "
            f"{z.shape[1]} inputs with {exponents.shape[0]} terms"
        )
    fit = ridge_fit(
        polynomial_features(z, exponents),
        y_s,
        penalty,
        unpenalized=(0,),
        n_folds=n_folds,
        seed=seed,
    )
    return PolynomialModel(u_scaling, y_scaling, exponents, fit.coef, fit.alpha)


def fit_rbf(
    inputs: ArrayLike,
    outputs: ArrayLike,
    n_centres: int = 20,
    *,
    width_factor: float = 2.0,
    penalty: PenaltyChoice = "gcv",
    n_folds: int = 5,
    seed: int = 0,
) -> RBFModel:
    """Fit a Gaussian RBF map with k-means centres and widths from centre spacing.

    Parameters
    ----------
    inputs : array_like, shape (n_samples, n_inputs)
        Input samples. [input units]
    outputs : array_like, shape (n_samples, n_outputs)
        Output samples. [output units]
    n_centres : int
        Requested number of centres (k-means clusters).
    width_factor : float
        Width of each Gaussian as a multiple of the distance to its nearest
        neighbouring centre; 2 gives overlapping Gaussians that interpolate
        smooth maps well (1 leaves ripples between centres). [-]
    penalty : {"gcv", "kfold"} or float
        Ridge penalty choice.
    n_folds, seed : int
        k-fold settings; ``seed`` also seeds k-means.

    Raises
    ------
    IdentificationError
        For non-finite data, a constant input or output, fewer distinct points
        than centres, or no more samples than coefficients.
    """
    n_centres = check_int(n_centres, "n_centres", 1)
    z, y_s, u_scaling, y_scaling = _prepare(inputs, outputs)
    if z.shape[0] <= n_centres + 1:
        raise IdentificationError(
            f"too few samples: {z.shape[0]} samples for {n_centres} RBF centres plus intercept"
        )
    centres = rbf_centres(z, n_centres, seed)
    widths = rbf_widths(centres, width_factor)
    fit = ridge_fit(
        rbf_features(z, centres, widths),
        y_s,
        penalty,
        unpenalized=(0,),
        n_folds=n_folds,
        seed=seed,
    )
    return RBFModel(u_scaling, y_scaling, centres, widths, fit.coef, fit.alpha)
