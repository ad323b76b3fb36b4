"""What the economic MPC is told about the future: disturbances and prices over the horizon.

A forecast source is any callable ``source(time_s) -> HorizonInputs``.  A
forecaster's output gives the causal controller; :class:`RecordedHorizon`
slicing the *true* recorded disturbances gives the perfect-foresight one (the
same MPC with a different ``d``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controllers.errors import EconomicMPCError

__all__ = ["ForecastSource", "HorizonInputs", "RecordedHorizon", "interval_means"]


def interval_means(
    time_s: npt.ArrayLike, values: npt.ArrayLike, interval_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Average a finely sampled record over consecutive control intervals.

    The NLP holds each disturbance constant over an interval, so the value
    that conserves mass and energy is the interval mean, not a point sample
    (converter gas arrives in 30-40 min pulses: a sample every 15 min sees
    either a full blow or none).  Each sample stands for the time up to the
    next one (zero-order hold, as the truth simulator's inputs); samples are
    weighted by that duration, the last one by the median spacing.  Only
    complete intervals are returned.

    Parameters
    ----------
    time_s : array_like
        Sample times, strictly increasing, shape ``(n,)``. [s]
    values : array_like
        Samples, shape ``(n,)`` or ``(n, m)``. [SI]
    interval_s : float
        Control interval; a multiple of nothing in particular, but at least
        the sample spacing. [s]

    Returns
    -------
    starts : numpy.ndarray
        Start of each interval, ``time_s[0] + k * interval_s``. [s]
    means : numpy.ndarray
        Time-weighted mean over each interval, shape ``(k, m)`` (or ``(k,)``). [SI]

    Raises
    ------
    EconomicMPCError
        For times that are not strictly increasing, shapes that disagree, a
        non-positive interval, or a record shorter than one interval.
    """
    t = np.asarray(time_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.ndim != 1 or t.size < 2 or v.shape[:1] != t.shape:
        raise EconomicMPCError(
            f"interval_means: need >= 2 samples and values of shape (n, ...), got time "
            f"{t.shape} and values {v.shape}"
        )
    if not np.all(np.diff(t) > 0.0):
        raise EconomicMPCError("interval_means: time_s must be strictly increasing")
    if not (np.isfinite(interval_s) and interval_s > 0.0):
        raise EconomicMPCError(f"interval_means: interval_s must be positive, got {interval_s}")
    step = np.diff(t)
    t_end = np.append(t[1:], t[-1] + np.median(step))
    n_int = int(np.floor((t_end[-1] - t[0]) / interval_s * (1.0 + 1e-12)))
    if n_int < 1:
        raise EconomicMPCError(
            f"interval_means: record of {t_end[-1] - t[0]} s is shorter than one interval"
        )
    edges = t[0] + interval_s * np.arange(n_int + 1)
    # Integral of the zero-order-hold signal up to each edge, by its cumulative sum.
    flat = v.reshape(t.size, -1)
    cum = np.vstack([np.zeros((1, flat.shape[1])), np.cumsum(flat * (t_end - t)[:, None], axis=0)])
    knots = np.append(t, t_end[-1])
    k = np.clip(np.searchsorted(knots, edges, "right") - 1, 0, t.size - 1)
    integral = cum[k] + flat[k] * (edges - knots[k])[:, None]
    means = np.diff(integral, axis=0) / interval_s
    return edges[:-1], means.reshape((n_int, *v.shape[1:]))


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
    limit_low, limit_high : Mapping[str, numpy.ndarray] or None
        Per-interval hard limits: hard-limit variable name -> limit at the
        interval ends ``1..N``, shape ``(N,)``; may only tighten the
        settings' limit (checked by the MPC; ``-inf``/``inf`` where none).
        For instance a back-off from the forecast's prediction intervals. [SI]
    band_low, band_high : Mapping[str, numpy.ndarray] or None
        Per-interval normal bands, as the limits: soft-band variable name ->
        band edge at interval ends ``1..N``, shape ``(N,)``, inside the
        settings' band. [SI]
    """

    d: np.ndarray
    price_per_j: np.ndarray
    u_base: np.ndarray | None = None
    limit_low: Mapping[str, np.ndarray] | None = None
    limit_high: Mapping[str, np.ndarray] | None = None
    band_low: Mapping[str, np.ndarray] | None = None
    band_high: Mapping[str, np.ndarray] | None = None


ForecastSource = Callable[[float], HorizonInputs]


class RecordedHorizon:
    """Horizon inputs sliced from recorded (or true) series on a regular grid.

    Used with the true disturbances this is the perfect-foresight source.
    Beyond the end of the record the last row is repeated.  The rows must be
    interval *means* (the NLP holds them over each interval); build it from
    a fine record with :meth:`from_fine_record`.

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

    @classmethod
    def from_fine_record(
        cls,
        time_s: npt.ArrayLike,
        d: npt.ArrayLike,
        price_per_j: npt.ArrayLike,
        interval_s: float,
        horizon: int,
        u_base: npt.ArrayLike | None = None,
    ) -> RecordedHorizon:
        """Build from a finely sampled record, averaged over each interval.

        Parameters
        ----------
        time_s : array_like
            Sample times, strictly increasing, shape ``(n,)``. [s]
        d : array_like
            Disturbances, shape ``(n, n_d)``. [SI]
        price_per_j : array_like
            Electricity price, shape ``(n,)``. [currency/J]
        interval_s : float
            Control interval. [s]
        horizon : int
            Intervals to return.
        u_base : array_like or None
            Plant inputs held at their values here (non-MV entries). [SI]

        Returns
        -------
        RecordedHorizon
            On the grid ``time_s[0] + k * interval_s`` with interval means.
        """
        starts, d_mean = interval_means(time_s, d, interval_s)
        _, price_mean = interval_means(time_s, price_per_j, interval_s)
        return cls(starts, d_mean, price_mean, horizon, u_base)

    def __call__(self, time_s: float) -> HorizonInputs:
        """Return the ``horizon`` rows starting at the interval that contains ``time_s``."""
        start = int(np.searchsorted(self._t, time_s + 1e-9 * max(1.0, abs(time_s)), "right")) - 1
        rows = np.clip(np.arange(max(start, 0), max(start, 0) + self._horizon), 0, self._t.size - 1)
        return HorizonInputs(self._d[rows], self._price[rows], self._u_base)
