"""The plant side of a closed loop: truth model, disturbances on a fine grid, sensor noise.

A :class:`TruthPlant` is what the controller acts on: an equation model with
its *true* parameter vector (perturbed from the controller's nominal one --
the model mismatch), the initial state, the disturbance series on the fine
(recording) grid and the integrator settings.  :class:`MeasurementNoise`
turns the true output vector into what the sensors report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from plant_models.core.equations import EquationModel

__all__ = ["MeasurementNoise", "TruthPlant"]


def _vector(value: npt.ArrayLike, n: int, what: str) -> npt.NDArray[np.float64]:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    if not (np.all(np.isfinite(arr)) and np.all(arr >= 0.0)):
        raise ModelError(f"{what} must be finite and non-negative")
    return arr


@dataclass(frozen=True, eq=False)
class TruthPlant:
    """The simulated plant of a closed loop.

    Parameters
    ----------
    model : EquationModel
        The plant model (the truth structure).
    parameters : array_like, shape (np,)
        True parameter vector (nominal with the model mismatch applied). [SI]
    x0 : array_like, shape (nx,)
        State at the start of the run. [SI]
    disturbances : array_like, shape (N, nd)
        True disturbances, one row per fine step (zero-order hold). [SI]
    step_s : float
        Fine step: the recording grid and the disturbance sample time; every
        control interval is a whole multiple of it. [s]
    substeps : int
        Integration steps per fine step.
    method : str
        Integration method of :func:`plant_models.core.simulate.simulate`.
    newton_tol : float
        Newton tolerance of implicit methods.
    newton_max_iter : int
        Newton iterations per stage of implicit methods.

    Raises
    ------
    ModelError
        For arrays of the wrong shape, non-finite values or a non-positive step.
    """

    model: EquationModel
    parameters: npt.NDArray[np.float64]
    x0: npt.NDArray[np.float64]
    disturbances: npt.NDArray[np.float64]
    step_s: float
    substeps: int = 1
    method: str = "rk4"
    newton_tol: float = 1e-10
    newton_max_iter: int = 8

    def __post_init__(self) -> None:
        sizes = self.model.sizes
        p = np.asarray(self.parameters, dtype=np.float64).reshape(-1)
        x0 = np.asarray(self.x0, dtype=np.float64).reshape(-1)
        d = np.asarray(self.disturbances, dtype=np.float64)
        if d.ndim == 1 and sizes["d"] == 0:
            d = d.reshape(-1, 0)
        if p.shape != (sizes["p"],) or not np.all(np.isfinite(p)):
            raise ModelError(f"parameters must be {sizes['p']} finite values, got {p.shape}")
        if x0.shape != (sizes["x"],) or not np.all(np.isfinite(x0)):
            raise ModelError(f"x0 must be {sizes['x']} finite values, got {x0.shape}")
        if d.ndim != 2 or d.shape[1] != sizes["d"] or d.shape[0] < 1:
            raise ModelError(f"disturbances must have shape (N, {sizes['d']}), got {d.shape}")
        if not np.all(np.isfinite(d)):
            bad = int(np.flatnonzero(~np.all(np.isfinite(d), axis=1))[0])
            raise ModelError(f"disturbances are not finite at row {bad}")
        if not (math.isfinite(self.step_s) and self.step_s > 0.0):
            raise ModelError(f"step_s must be positive and finite, got {self.step_s}")
        if isinstance(self.substeps, bool) or int(self.substeps) < 1:
            raise ModelError(f"substeps must be an integer >= 1, got {self.substeps!r}")
        object.__setattr__(self, "parameters", p)
        object.__setattr__(self, "x0", x0)
        object.__setattr__(self, "disturbances", d)

    @property
    def n_steps(self) -> int:
        """Number of fine steps the disturbance series covers."""
        return int(self.disturbances.shape[0])


@dataclass(frozen=True, eq=False)
class MeasurementNoise:
    """Sensor noise on the plant's output vector.

    The measured vector is ``y * (1 + relative_std * z) + absolute_std * z``
    with ``z`` standard normal per channel and sample, drawn from ``rng`` one
    output vector at a time (the same draws as one ``(N, ny)`` call).

    Parameters
    ----------
    relative_std : float or array_like, shape (ny,)
        Relative standard deviation per output. [1]
    absolute_std : float or array_like, shape (ny,)
        Absolute standard deviation per output. [unit of the output]
    rng : numpy.random.Generator, optional
        Source of the draws; ``numpy.random.default_rng(seed)`` if omitted.
    seed : int
        Seed used when ``rng`` is omitted.
    """

    relative_std: float | npt.ArrayLike = 0.0
    absolute_std: float | npt.ArrayLike = 0.0
    rng: np.random.Generator | None = None
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_rng", self.rng if self.rng is not None else np.random.default_rng(self.seed)
        )

    def bind(self, ny: int) -> _BoundNoise:
        """Return the noise applied to an output vector of length ``ny``.

        Raises
        ------
        ModelError
            If a standard deviation is negative, not finite or of the wrong length.
        """
        try:
            rel = _vector(self.relative_std, ny, "relative_std")
            absolute = _vector(self.absolute_std, ny, "absolute_std")
        except ValueError as exc:
            raise ModelError(f"measurement noise: {exc}") from None
        return _BoundNoise(rel, absolute, self._rng)


@dataclass(frozen=True, eq=False)
class _BoundNoise:
    relative: npt.NDArray[np.float64]
    absolute: npt.NDArray[np.float64]
    rng: np.random.Generator

    def __call__(self, y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        z = self.rng.standard_normal(y.size)
        out = y * (1.0 + self.relative * z)
        if np.any(self.absolute):
            out = out + self.absolute * z
        return np.asarray(out, dtype=np.float64)
