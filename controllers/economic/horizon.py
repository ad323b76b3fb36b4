"""What the economic MPC is told about the future: disturbances and prices over the horizon.

A forecast source is any callable ``source(time_s) -> HorizonInputs``.  A
forecaster's output gives the causal controller; :class:`RecordedHorizon`
slicing the *true* recorded disturbances gives the perfect-foresight one (the
same MPC with a different ``d``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controllers.errors import EconomicMPCError

__all__ = ["ForecastSource", "HorizonInputs", "RecordedHorizon"]


@dataclass(frozen=True)
class HorizonInputs:
    """Disturbances, electricity price and non-manipulated inputs over a horizon.

    Parameters
    ----------
    d : numpy.ndarray
        Plant disturbances per interval, shape ``(n_horizon, n_d)``. [SI]
    price_per_j : numpy.ndarray
        Electricity purchase price per interval, shape ``(n_horizon,)``.
        [currency/J]
    u_base : numpy.ndarray or None
        Full plant input vector, shape ``(n_u,)``, whose non-MV entries are
        held over the horizon (``None``: zeros). [SI]
    """

    d: np.ndarray
    price_per_j: np.ndarray
    u_base: np.ndarray | None = None


ForecastSource = Callable[[float], HorizonInputs]


class RecordedHorizon:
    """Horizon inputs sliced from recorded (or true) series on a regular grid.

    Used with the true disturbances this is the perfect-foresight source.
    Beyond the end of the record the last row is repeated.

    Parameters
    ----------
    time_s : array_like
        Start of each recorded interval, regular, shape ``(n,)``. [s]
    d : array_like
        Disturbances, shape ``(n, n_d)``. [SI]
    price_per_j : array_like
        Electricity price, shape ``(n,)``. [currency/J]
    horizon : int
        Intervals to return.
    u_base : array_like or None
        Plant inputs held at their values here (non-MV entries). [SI]

    Raises
    ------
    EconomicMPCError
        For shapes that do not agree or a grid that is not increasing.
    """

    def __init__(
        self,
        time_s: npt.ArrayLike,
        d: npt.ArrayLike,
        price_per_j: npt.ArrayLike,
        horizon: int,
        u_base: npt.ArrayLike | None = None,
    ) -> None:
        self._t = np.asarray(time_s, dtype=float)
        self._d = np.atleast_2d(np.asarray(d, dtype=float))
        self._price = np.asarray(price_per_j, dtype=float)
        n = self._t.size
        if n < 1 or self._d.shape[0] != n or self._price.shape != (n,):
            raise EconomicMPCError(
                f"recorded horizon: time {self._t.shape}, d {self._d.shape} and price "
                f"{self._price.shape} must share their first dimension"
            )
        if n > 1 and not np.all(np.diff(self._t) > 0.0):
            raise EconomicMPCError("recorded horizon: time_s must be strictly increasing")
        if horizon < 1:
            raise EconomicMPCError("recorded horizon: horizon must be >= 1")
        self._horizon = horizon
        self._u_base = None if u_base is None else np.asarray(u_base, dtype=float)

    def __call__(self, time_s: float) -> HorizonInputs:
        """Return the ``horizon`` rows starting at the interval that contains ``time_s``."""
        start = int(np.searchsorted(self._t, time_s + 1e-9 * max(1.0, abs(time_s)), "right")) - 1
        rows = np.clip(np.arange(max(start, 0), max(start, 0) + self._horizon), 0, self._t.size - 1)
        return HorizonInputs(self._d[rows], self._price[rows], self._u_base)
