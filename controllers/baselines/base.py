"""The contract every baseline controller keeps, so MPC and baselines compare like for like."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["Baseline", "BaselineError"]


class BaselineError(ValueError):
    """A baseline controller cannot be built for a plant (a named unit or variable is missing)."""


@runtime_checkable
class Baseline(Protocol):
    """A controller acting on measured outputs once per interval.

    ``step(t_s, y_meas) -> u``: the measured plant output vector at the start
    of an interval in, the full plant input vector to hold over the interval
    out (zero-order hold).  Arrays are in the plant's SI units and orders
    (:class:`~plant_models.core.equations.EquationModel`).
    """

    @property
    def interval_s(self) -> float:
        """Control interval. [s]."""
        ...

    def reset(self, u0: npt.ArrayLike | None = None) -> None:
        """Forget the controller's memory; ``u0`` is the input vector in force now. [SI]."""
        ...

    def step(self, t_s: float, y_meas: npt.ArrayLike) -> np.ndarray:
        """Return the input vector for the interval starting at ``t_s``. [SI]."""
        ...
