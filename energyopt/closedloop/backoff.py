"""Constraint back-off of the economic MPC from the forecaster's prediction intervals.

A causal economic MPC plans the holder levels on the *mean* forecast, so it
runs a holder down to its hard limit whenever the mean says gas is coming;
converter gas comes in pulses with unforeseeable pauses, and the plant then
falls below the limit.  The back-off keeps the planned level a margin ``M_k``
inside the limit at every interval end ``k`` (Chisci, Rossiter and Zappa 2001,
Automatica 37:1019, constraint tightening; here from the forecast's error
statistics).

The margin (:func:`cumulative_error_margin`)
---------------------------------------------
The holder integrates its net inflow, so its volume error after ``k``
intervals of length ``dt`` is ``E_k = dt * sum_{h<=k} e_h`` with ``e_h`` the
``h``-step forecast error of the interval-mean net inflow.  The profile+ARX
forecaster's deviation is an AR process with MA(inf) weights ``psi_j``
(``psi_0 = 1``), so ``e_h = sum_{i=1..h} psi_{h-i} eps_i`` with i.i.d.
innovations: the step errors are correlated,
``corr(e_h, e_l) = sum_{i<=min(h,l)} psi_{h-i} psi_{l-i} / (s_h s_l)`` with
``s_h^2 = sum_{j<h} psi_j^2`` (the forecaster's own ``std``).  Taking the
per-step quantile half-width ``w_h`` from the prediction interval (the
distance from the mean to the bound on the unsafe side),

    M_k = dt * sqrt( sum_{h, l <= k} w_h w_l corr(e_h, e_l) )

is the quantile of ``E_k`` exactly for Gaussian errors (``w = z s``); it
lies between the independent-errors value ``dt sqrt(sum w_h^2)`` and the
fully correlated ``dt sum w_h`` (Minkowski).  Several forecast disturbances
feeding one holder with gains ``g_d`` (independent forecasters) add in
quadrature: ``M_k^2 = sum_d g_d^2 M_{d,k}^2``.

Recourse: the MPC re-plans every interval from the measured level and a
forecast that has seen the latest gas, so an error older than the time it
takes the plan to react is corrected by the following plans.  The margin
therefore grows over the first ``recourse_intervals`` intervals and is held
beyond (``M_k = M_{min(k, L)}``): the open-loop margin over 24 h would exceed
the holder (the converter gas's 1-step error is ~6 % of the LDG holder, its
24-h cumulative error several holders).  In steady operation the level the
plant actually keeps at each decision is ``limit + M_1``: every re-plan
starts from the measured level, so ``M_1`` (the one-interval quantile) must
cover what one interval of held draw without gas takes from the holder; pick
``quantile`` for that.

How it is imposed
-----------------
:class:`BackoffForecastSource` hands the MPC the mean forecast together with
per-interval hard limits (``HorizonInputs.limit_low`` / ``limit_high``) on
the holder's level: the lower limit raised by ``M_k`` (less gas made or more
used than the mean forecast empties the holder) and the upper one lowered by
the margin of the opposite side of the intervals (more gas made or less used
fills it), each converted from volume to the limited variable by the
holder's volume per unit of it.  The normal band is left as it is, and the
disturbance forecast is the mean: the plan's gas balance is the expected one.
Where the two margins would cross, both limits meet at the middle of the
settings' limits.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from controllers.economic import EconomicMPC, HorizonInputs
    from controllers.forecast import Forecast
    from energyopt.closedloop.forecast import ScenarioForecastSource
    from energyopt.controlbuild.forecast import EconomicHorizon

__all__ = [
    "BackoffForecastSource",
    "HolderBackoff",
    "cumulative_error_margin",
    "holder_inflow_gains",
    "holder_margin",
    "holder_volume_per_unit",
    "psi_weights",
]


def psi_weights(ar_coefficients: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    """MA(inf) weights ``psi_0..psi_{n-1}`` of an AR model ``x_t = sum a_i x_{t-i} + eps_t``.

    Parameters
    ----------
    ar_coefficients : array_like
        ``a_1..a_p`` (empty: white noise). [-]
    n : int
        Number of weights.

    Returns
    -------
    numpy.ndarray
        ``psi``, shape ``(n,)``, ``psi_0 = 1``. [-]
    """
    from scipy.signal import lfilter

    a = np.asarray(ar_coefficients, dtype=np.float64).ravel()
    impulse = np.zeros(n)
    impulse[0] = 1.0
    # The impulse response of 1 / (1 - sum a_i z^-i) is psi.
    return np.asarray(lfilter([1.0], np.concatenate([[1.0], -a]), impulse), dtype=np.float64)


def cumulative_error_margin(
    half_width: npt.ArrayLike,
    ar_coefficients: npt.ArrayLike,
    interval_s: float,
    *,
    recourse_intervals: int | None = None,
) -> npt.NDArray[np.float64]:
    """Quantile of the cumulative forecast error at every interval end (module docstring).

    Parameters
    ----------
    half_width : array_like
        Per-step distance from the mean forecast to the interval bound on the
        unsafe side, ``w_h >= 0``, shape ``(N,)``. [signal unit]
    ar_coefficients : array_like
        AR coefficients of the forecaster's deviation model. [-]
    interval_s : float
        Forecast step (the MPC interval). [s]
    recourse_intervals : int, optional
        ``L``: the margin is held at its ``L``-th value beyond step ``L``;
        default none (open loop over the whole horizon).

    Returns
    -------
    numpy.ndarray
        ``M_k`` for ``k = 1..N``, shape ``(N,)``, non-decreasing. [signal unit s]

    Raises
    ------
    ModelError
        For a negative or non-finite half-width, a non-positive interval or
        ``recourse_intervals < 1``.
    """
    w = np.asarray(half_width, dtype=np.float64).ravel()
    if not (np.isfinite(w).all() and np.all(w >= 0.0)):
        raise ModelError("back-off: interval half-widths must be finite and >= 0")
    if not (math.isfinite(interval_s) and interval_s > 0.0):
        raise ModelError(f"back-off: interval_s must be positive, got {interval_s:g}")
    if recourse_intervals is not None and recourse_intervals < 1:
        raise ModelError(f"back-off: recourse_intervals must be >= 1, got {recourse_intervals}")
    n = w.size
    psi = psi_weights(ar_coefficients, n)
    # Error h (1-based) = sum_{i=1..h} psi[h-i] eps_i: row h-1 of the lower
    # triangular Toeplitz matrix T[h-1, i-1] = psi[h-i].
    rows = np.arange(n)
    lag = rows[:, None] - rows[None, :]
    t = np.where(lag >= 0, psi[np.clip(lag, 0, None)], 0.0)
    std = np.sqrt(np.sum(t**2, axis=1))  # the forecaster's std / sigma
    # Each step's error scaled to its quantile half-width: w_h * e_h / s_h.
    scaled = t * (w / std)[:, None]
    # Cumulative sums over h of the scaled error's innovation loadings.
    cum = np.cumsum(scaled, axis=0)
    margin = interval_s * np.sqrt(np.sum(cum**2, axis=1))
    if recourse_intervals is not None and recourse_intervals < n:
        margin[recourse_intervals:] = margin[recourse_intervals - 1]
    return np.asarray(margin, dtype=np.float64)


def _gaussian_rescale(level: float, quantile: float | None) -> float:
    """Factor from the interval's one-sided quantile to ``quantile`` (Gaussian)."""
    if quantile is None:
        return 1.0
    from scipy.stats import norm

    if not 0.5 < quantile < 1.0:
        raise ModelError(f"back-off: quantile must be in (0.5, 1), got {quantile:g}")
    return float(norm.ppf(quantile) / norm.ppf(0.5 + 0.5 * level))


def holder_margin(
    horizon: EconomicHorizon,
    gains_m3: dict[str, float],
    interval_s: float,
    *,
    level: float = 0.9,
    quantile: float | None = None,
    recourse_intervals: int | None = None,
    side: str = "low",
) -> npt.NDArray[np.float64]:
    """Volume margin of one holder's lower (or upper) limit at every interval end.

    Parameters
    ----------
    horizon : EconomicHorizon
        The forecast with its per-disturbance prediction intervals.
    gains_m3 : dict of str to float
        Net inflow of the holder per unit of each forecast disturbance
        (negative for a consumer). [m3/s per disturbance unit]
    interval_s : float
        MPC interval. [s]
    level : float
        Central coverage of the intervals used (one the forecast computed):
        its bound is the ``(1 + level) / 2`` one-sided quantile. [-]
    quantile : float, optional
        One-sided quantile wanted instead, by Gaussian rescaling of the
        half-widths (``z(quantile) / z((1 + level) / 2)``). [-]
    recourse_intervals : int, optional
        See :func:`cumulative_error_margin`.
    side : {"low", "high"}
        ``"low"``: the margin of the lower limit (less gas made, more used);
        ``"high"``: of the upper limit (more gas made, less used).

    Returns
    -------
    numpy.ndarray
        ``M_k`` for ``k = 1..N``. [m3]

    Raises
    ------
    ModelError
        For an unknown ``side`` or a ``quantile`` outside (0.5, 1).
    """
    if side not in ("low", "high"):
        raise ModelError(f"back-off: side must be 'low' or 'high', got {side!r}")
    factor = _gaussian_rescale(level, quantile)
    total = np.zeros(horizon.inputs.d.shape[0])
    for name, gain in gains_m3.items():
        fc: Forecast | None = horizon.forecasts.get(name)
        if fc is None or gain == 0.0:
            continue
        lower, upper = fc.interval(level)
        # Less gas made (gain > 0) or more used (gain < 0) empties the holder;
        # the opposite errors fill it.
        empties = (gain > 0.0) == (side == "low")
        width = fc.mean - lower if empties else upper - fc.mean
        m = cumulative_error_margin(
            factor * np.maximum(width, 0.0),
            fc.ar_coefficients,
            interval_s,
            recourse_intervals=recourse_intervals,
        )
        total += (gain * m[: total.size]) ** 2
    return np.sqrt(total)


def holder_inflow_gains(
    mpc: EconomicMPC,
    holder_state: str,
    names: tuple[str, ...],
    x0: npt.ArrayLike,
    mv: npt.ArrayLike,
    inputs: HorizonInputs,
) -> dict[str, float]:
    """Net inflow of a holder per unit of each disturbance, from the MPC's own model.

    Each disturbance is raised by one unit over the first interval and the
    holder's volume at its end is compared with the unperturbed plan's
    (the plant is affine in the disturbances along the holder's balance).

    Parameters
    ----------
    mpc : EconomicMPC
        The MPC (its nominal model and interval).
    holder_state : str
        The holder's volume state (``ldg_holder.volume_m3``).
    names : tuple of str
        Disturbance names to probe.
    x0 : array_like
        A state to probe at. [SI]
    mv : array_like
        MVs held over the probe. [SI]
    inputs : HorizonInputs
        A horizon to probe on.

    Returns
    -------
    dict of str to float
        Gain per name. [m3/s per disturbance unit]

    Raises
    ------
    ModelError
        For an unknown state or disturbance name.
    """
    from controllers.economic import HorizonInputs as _Inputs

    states = [v.name for v in mpc.model.states]
    dist = [v.name for v in mpc.model.disturbances]
    unknown = [n for n in (holder_state, *names) if n not in states + dist]
    if holder_state not in states or unknown:
        raise ModelError(f"back-off: unknown state or disturbance {unknown or holder_state}")
    i = states.index(holder_state)
    n = mpc.settings.horizon
    plan = np.tile(np.asarray(mv, dtype=np.float64), (n, 1))
    base = mpc.evaluate(x0, plan, mv, inputs).states[1, i]
    dt = mpc.settings.interval_s
    gains = {}
    for name in names:
        d = np.array(inputs.d, dtype=np.float64)
        d[0, dist.index(name)] += 1.0
        probe = mpc.evaluate(x0, plan, mv, _Inputs(d, inputs.price_per_j, inputs.u_base))
        gains[name] = float(probe.states[1, i] - base) / dt
    return gains


def holder_volume_per_unit(
    mpc: EconomicMPC,
    holder_state: str,
    variable: str,
    x0: npt.ArrayLike,
    mv: npt.ArrayLike,
    inputs: HorizonInputs,
) -> float:
    """Holder volume per unit of its limited variable, from the MPC's own model.

    The holder's volume is raised at the start and the variable at the first
    interval end compared with the unperturbed plan's (the level of a holder
    is its volume over its working volume).

    Parameters
    ----------
    mpc : EconomicMPC
        The MPC (its nominal model).
    holder_state : str
        The holder's volume state (``ldg_holder.volume_m3``).
    variable : str
        The hard-limited variable (``ldg_holder.level_fraction``).
    x0 : array_like
        A state to probe at. [SI]
    mv : array_like
        MVs held over the probe. [SI]
    inputs : HorizonInputs
        A horizon to probe on.

    Returns
    -------
    float
        [m3 per unit of ``variable``]

    Raises
    ------
    ModelError
        For an unknown state, a variable the MPC does not reference or one
        that does not move with the volume.
    """
    states = [v.name for v in mpc.model.states]
    names = list(mpc.variable_names)
    if holder_state not in states or variable not in names:
        raise ModelError(
            f"back-off: unknown holder state {holder_state!r} or variable {variable!r} "
            "(it must be a band, hard limit or CV of the MPC)"
        )
    i, j = states.index(holder_state), names.index(variable)
    x = np.array(x0, dtype=np.float64)
    plan = np.tile(np.asarray(mv, dtype=np.float64), (mpc.settings.horizon, 1))
    step = 1e-3 * max(abs(x[i]), 1.0)
    base = mpc.evaluate(x, plan, mv, inputs).values
    x[i] += step
    probe = mpc.evaluate(x, plan, mv, inputs).values
    change = float(probe[0, j] - base[0, j])
    if not (math.isfinite(change) and change != 0.0):
        raise ModelError(f"back-off: {variable!r} does not move with {holder_state!r}")
    return float(step / change)


@dataclass(frozen=True)
class HolderBackoff:
    """The back-off of one holder's hard limits.

    Attributes
    ----------
    holder : str
        Holder unit (``ldg_holder``).
    gains_m3 : dict of str to float
        Net inflow per unit of each forecast disturbance feeding it. [m3/s per unit]
    variable : str
        The hard-limited variable of the holder (``ldg_holder.level_fraction``).
    volume_per_unit_m3 : float
        Holder volume per unit of ``variable`` (the working volume for a
        level fraction). [m3 per unit]
    low, high : float
        The settings' hard limits of ``variable``. [unit of ``variable``]
    """

    holder: str
    gains_m3: dict[str, float]
    variable: str
    volume_per_unit_m3: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.volume_per_unit_m3) and self.volume_per_unit_m3 > 0.0):
            raise ModelError(
                f"back-off of {self.holder}: volume_per_unit_m3 must be positive, got "
                f"{self.volume_per_unit_m3:g}"
            )
        if not (self.low < self.high and math.isfinite(self.low) and math.isfinite(self.high)):
            raise ModelError(
                f"back-off of {self.holder}: need finite hard limits low < high, got "
                f"{self.low:g}, {self.high:g}"
            )


class BackoffForecastSource:
    """``source(time_s) -> HorizonInputs``: the mean forecast with backed-off hard limits.

    Parameters
    ----------
    source : ScenarioForecastSource
        The causal forecast (mean and intervals) on the closed loop's clock.
    holders : sequence of HolderBackoff
        Holders whose hard limits are backed off.
    interval_s : float
        MPC interval. [s]
    level : float
        Prediction-interval level used (one the forecast computed). [-]
    quantile : float, optional
        One-sided quantile of the margin (Gaussian rescaling of the intervals);
        default the interval's own, ``(1 + level) / 2``. [-]
    recourse_intervals : int, optional
        Intervals over which the margin grows (see the module docstring).

    Attributes
    ----------
    last_margins_m3 : dict of str to numpy.ndarray
        Lower-limit margin per holder of the last call, shape ``(N,)``. [m3]
    last_margins_high_m3 : dict of str to numpy.ndarray
        Upper-limit margin per holder of the last call, shape ``(N,)``. [m3]
    """

    def __init__(
        self,
        source: ScenarioForecastSource,
        holders: tuple[HolderBackoff, ...],
        interval_s: float,
        *,
        level: float = 0.9,
        quantile: float | None = None,
        recourse_intervals: int | None = None,
    ) -> None:
        _gaussian_rescale(level, quantile)  # validates
        self.source = source
        self.holders = tuple(holders)
        self.interval_s = float(interval_s)
        self.level = level
        self.quantile = quantile
        self.recourse_intervals = recourse_intervals
        self.last_margins_m3: dict[str, npt.NDArray[np.float64]] = {}
        self.last_margins_high_m3: dict[str, npt.NDArray[np.float64]] = {}

    def horizon(self, time_s: float) -> EconomicHorizon:
        """The wrapped source's full forecast at ``time_s`` (mean and intervals).

        Parameters
        ----------
        time_s : float
            Decision time since the scenario start. [s]

        Returns
        -------
        EconomicHorizon
        """
        return self.source.horizon(time_s)

    def tighten(self, horizon: EconomicHorizon) -> HorizonInputs:
        """The mean inputs of ``horizon`` with every holder's hard limits backed off.

        Parameters
        ----------
        horizon : EconomicHorizon
            A forecast.

        Returns
        -------
        HorizonInputs
            ``d``, price and ``u_base`` of the mean forecast; ``limit_low``
            and ``limit_high`` per holder variable.
        """
        limit_low: dict[str, npt.NDArray[np.float64]] = {}
        limit_high: dict[str, npt.NDArray[np.float64]] = {}
        for hb in self.holders:
            low_m3, high_m3 = (
                holder_margin(
                    horizon,
                    hb.gains_m3,
                    self.interval_s,
                    level=self.level,
                    quantile=self.quantile,
                    recourse_intervals=self.recourse_intervals,
                    side=side,
                )
                for side in ("low", "high")
            )
            self.last_margins_m3[hb.holder] = low_m3
            self.last_margins_high_m3[hb.holder] = high_m3
            middle = 0.5 * (hb.low + hb.high)
            lo = np.minimum(hb.low + low_m3 / hb.volume_per_unit_m3, middle)
            hi = np.maximum(hb.high - high_m3 / hb.volume_per_unit_m3, middle)
            # Two holders limiting one variable: the tighter of each side.
            limit_low[hb.variable] = np.maximum(limit_low.get(hb.variable, lo), lo)
            limit_high[hb.variable] = np.minimum(limit_high.get(hb.variable, hi), hi)
        base = horizon.inputs
        return dataclasses.replace(base, limit_low=limit_low, limit_high=limit_high)

    def __call__(self, time_s: float) -> HorizonInputs:
        """The backed-off horizon inputs at ``time_s`` since the scenario start [s]."""
        return self.tighten(self.horizon(time_s))
