"""A holder's hard-limit margin, calibrated on the recorded history (split conformal).

The economic MPC plans the holder level on the mean forecast of the gas
made and used; the level the plant reaches differs from the plan by the
integral of the forecast error of the holder's net inflow (the plan's own
consumer setpoints are what it planned, so they cancel):

    deficit(t) = integral_0^t (f(s) - a(s)) ds

with ``f`` the planned net inflow (the interval-mean forecast, held over each
interval) and ``a`` the actual one on the recorded 1-min grid -- a converter
pause between two decisions shows here, not in the interval means.  The
*score* of a forecast origin and lead ``k`` intervals is the worst deficit
over the lead, ``max_{0 < t <= k T} deficit(t)`` (the deepest the level falls
below the plan before the ``k``-th interval ends; the surplus, the same with
the sign turned, for the upper limit).

:func:`calibrate_holder_margin` replays the causal forecast (the one the
closed loop uses: :mod:`energyopt.closedloop.forecast`, fitted only on the
record before each origin) at every interval start of a *calibration* part of
the recorded history before the closed loop starts, scores it, and takes the
split-conformal quantile per lead (:func:`controllers.forecast.conformal.conformal_quantile`);
a *test* part after it checks the coverage on origins the quantile did not
see.  The result is a margin per lead interval in m3 (and in level fraction),
which :class:`ConformalBackoffSource` subtracts from the holder's hard limits
in the MPC's per-interval limits (``HorizonInputs.limit_low`` /
``limit_high``).

Recourse: the MPC re-plans every interval from the measured level, so the
margin that keeps the *plant* inside the limit is the one of the first
interval (the deficit can build only until the next decision corrects the
plan); later intervals hold the margin of ``recourse_intervals`` (module
:mod:`energyopt.closedloop.backoff` discusses the same choice).
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
    from controllers.economic import HorizonInputs
    from energyopt.closedloop.forecast import ScenarioForecastSource
    from energyopt.controlbuild.forecast import EconomicHorizon
    from energyopt.controlbuild.record import DisturbanceRecord

__all__ = [
    "ConformalBackoffSource",
    "HolderMarginCalibration",
    "calibrate_holder_margin",
    "worst_deficit_scores",
]


def worst_deficit_scores(
    planned_m3_s: npt.ArrayLike,
    actual_m3_s: npt.ArrayLike,
    step_s: float,
    per_interval: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Worst volume deficit and surplus of the actual net inflow against the plan, per lead.

    Parameters
    ----------
    planned_m3_s : array_like, shape (L,)
        Planned (forecast) net inflow of each of ``L`` intervals, held over it. [m3/s]
    actual_m3_s : array_like, shape (L * per_interval,)
        Actual net inflow on the fine grid (NaN where unknown). [m3/s]
    step_s : float
        Fine step. [s]
    per_interval : int
        Fine steps per interval.

    Returns
    -------
    deficit, surplus : numpy.ndarray, shape (L,)
        ``max_{t <= k T}`` of the cumulative shortfall (``integral (f - a)``)
        and of the cumulative excess (``integral (a - f)``), both >= 0, for
        ``k = 1..L``; NaN from the first interval with a missing sample on. [m3]
    """
    f = np.repeat(np.asarray(planned_m3_s, dtype=np.float64), per_interval)
    a = np.asarray(actual_m3_s, dtype=np.float64)
    if a.shape != f.shape:
        raise ModelError(f"holder margin: actual inflow must have shape {f.shape}, got {a.shape}")
    cum = np.cumsum(f - a) * step_s
    worst_low = np.maximum.accumulate(np.maximum(cum, 0.0))
    worst_high = np.maximum.accumulate(np.maximum(-cum, 0.0))
    ends = np.arange(1, f.size // per_interval + 1) * per_interval - 1
    deficit, surplus = worst_low[ends], worst_high[ends]
    # A NaN sample poisons every later cumulative value through cumsum.
    bad = ~np.isfinite(cum[ends])
    deficit[bad] = np.nan
    surplus[bad] = np.nan
    return deficit, surplus


@dataclass(frozen=True)
class HolderMarginCalibration:
    """A holder's calibrated margins and their check on held-out origins.

    Attributes
    ----------
    holder : str
        Holder unit.
    quantile : float
        Split-conformal coverage of each margin. [-]
    interval_s : float
        MPC interval (one lead step). [s]
    margin_low_m3, margin_high_m3 : numpy.ndarray, shape (L,)
        Margin of the lower and the upper limit at the end of lead interval
        ``k = 1..L``. [m3]
    volume_m3 : float
        Volume per unit of level fraction (the nominal working volume). [m3]
    n_calibration : int
        Origins the quantiles were taken over.
    n_test : int
        Held-out origins of the coverage check.
    coverage_low, coverage_high : numpy.ndarray, shape (L,)
        Share of held-out origins whose worst deficit (surplus) stayed within
        the margin, per lead (NaN without test origins). [-]
    """

    holder: str
    quantile: float
    interval_s: float
    margin_low_m3: npt.NDArray[np.float64]
    margin_high_m3: npt.NDArray[np.float64]
    volume_m3: float
    n_calibration: int
    n_test: int
    coverage_low: npt.NDArray[np.float64]
    coverage_high: npt.NDArray[np.float64]

    @property
    def margin_low_fraction(self) -> npt.NDArray[np.float64]:
        """Lower-limit margin per lead as a level fraction. [-]."""
        return self.margin_low_m3 / self.volume_m3

    @property
    def margin_high_fraction(self) -> npt.NDArray[np.float64]:
        """Upper-limit margin per lead as a level fraction. [-]."""
        return self.margin_high_m3 / self.volume_m3

    def summary(self) -> str:
        """One line per side for a console or a report."""
        lo = ", ".join(f"{100 * v:.1f}" for v in self.margin_low_fraction)
        hi = ", ".join(f"{100 * v:.1f}" for v in self.margin_high_fraction)
        cl = ", ".join(f"{100 * v:.1f}" for v in self.coverage_low)
        ch = ", ".join(f"{100 * v:.1f}" for v in self.coverage_high)
        return (
            f"{self.holder}: {self.quantile:g} split-conformal margins per lead interval "
            f"({self.n_calibration} calibration origins) low [{lo}] %, high [{hi}] % of the "
            f"volume; coverage on {self.n_test} held-out origins low [{cl}] %, high [{ch}] %"
        )


def _actual_inflow(
    source: ScenarioForecastSource,
    record: DisturbanceRecord,
    gains_m3: dict[str, float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The holder's net inflow from the forecast disturbances on the record's grid. [m3/s]."""
    forecast = source.causal.forecast
    plan = forecast.plan
    values = {name: np.asarray(v, dtype=np.float64) for name, v in record.values.items()}
    step_s = float(np.median(np.diff(record.time_ms))) / 1000.0
    d = plan.reconstruct(values, forecast.u_base, step_s)
    names = list(plan.names)
    net = np.zeros(record.time_ms.size)
    for name, gain in gains_m3.items():
        net += gain * d[:, names.index(name)]
    return np.asarray(record.time_ms, dtype=np.int64), net


def calibrate_holder_margin(
    source: ScenarioForecastSource,
    record: DisturbanceRecord,
    holder: str,
    gains_m3: dict[str, float],
    volume_m3: float,
    *,
    calibration_ms: tuple[int, int],
    test_ms: tuple[int, int] | None = None,
    quantile: float = 0.995,
    lead_intervals: int = 2,
    stride: int = 1,
) -> HolderMarginCalibration:
    """Split-conformal margins of a holder's limits from the causal forecast on the history.

    Parameters
    ----------
    source : ScenarioForecastSource
        A causal forecast source whose clock starts at or before the
        calibration part (it refits on the record before each origin only).
    record : DisturbanceRecord
        The recorded forecast bindings on the fine grid (SI), covering the
        calibration and test parts plus ``lead_intervals`` after them.
    holder : str
        Holder unit (for the report).
    gains_m3 : dict of str to float
        Net inflow per unit of each forecast disturbance feeding the holder
        (:func:`energyopt.closedloop.backoff.holder_inflow_gains`). [m3/s per unit]
    volume_m3 : float
        Holder volume per unit of level fraction (nominal). [m3]
    calibration_ms : (int, int)
        Epoch times ``[start, end)`` of the calibration origins. [ms]
    test_ms : (int, int), optional
        Epoch times ``[start, end)`` of held-out origins for the coverage check. [ms]
    quantile : float
        Coverage of the margins (split conformal; 0.995 needs >= 199
        calibration origins, 0.999 >= 999). [-]
    lead_intervals : int
        Lead intervals to calibrate (the recourse horizon).
    stride : int
        Take every ``stride``-th interval start as an origin.

    Returns
    -------
    HolderMarginCalibration

    Raises
    ------
    ModelError
        For an empty part, a record that does not cover the leads, or
        too few origins for ``quantile``.
    """
    from controllers.errors import ForecastError
    from controllers.forecast.conformal import conformal_quantile, empirical_coverage

    if not (math.isfinite(volume_m3) and volume_m3 > 0.0):
        raise ModelError(f"holder margin: volume_m3 must be positive, got {volume_m3:g}")
    if lead_intervals < 1 or stride < 1:
        raise ModelError("holder margin: lead_intervals and stride must be >= 1")
    interval_s = float(source.causal.forecast.interval_s)
    interval_ms = round(interval_s * 1000.0)
    time_ms, actual = _actual_inflow(source, record, gains_m3)
    step_ms = int(np.median(np.diff(time_ms)))
    per = round(interval_ms / step_ms)
    names = list(source.causal.forecast.plan.names)

    def scores(window: tuple[int, int]) -> tuple[npt.NDArray[np.float64], ...]:
        first = -(-int(window[0]) // interval_ms) * interval_ms
        origins = np.arange(first, int(window[1]), interval_ms * stride, dtype=np.int64)
        if origins.size == 0:
            raise ModelError(f"holder margin: no interval start in {window}")
        low = np.full((origins.size, lead_intervals), np.nan)
        high = np.full((origins.size, lead_intervals), np.nan)
        for i, t0 in enumerate(origins):
            k = int(np.searchsorted(time_ms, t0))
            if k + per * lead_intervals > time_ms.size or time_ms[k] != t0:
                continue
            horizon: EconomicHorizon = source.causal.horizon(int(t0))
            d_mean = horizon.inputs.d[:lead_intervals]
            planned = sum(g * d_mean[:, names.index(n)] for n, g in gains_m3.items())
            low[i], high[i] = worst_deficit_scores(
                np.asarray(planned, dtype=np.float64),
                actual[k : k + per * lead_intervals],
                step_ms / 1000.0,
                per,
            )
        return low, high

    cal_low, cal_high = scores(calibration_ms)
    try:
        m_low = conformal_quantile(cal_low, quantile)
        m_high = conformal_quantile(cal_high, quantile)
    except ForecastError as exc:
        raise ModelError(f"holder margin of {holder}: {exc}") from None
    n_test = 0
    cov_low = cov_high = np.full(lead_intervals, np.nan)
    if test_ms is not None:
        test_low, test_high = scores(test_ms)
        n_test = int(np.sum(np.isfinite(test_low[:, 0])))
        cov_low = empirical_coverage(test_low, m_low)
        cov_high = empirical_coverage(test_high, m_high)
    return HolderMarginCalibration(
        holder=holder,
        quantile=float(quantile),
        interval_s=interval_s,
        margin_low_m3=np.maximum.accumulate(m_low),
        margin_high_m3=np.maximum.accumulate(m_high),
        volume_m3=float(volume_m3),
        n_calibration=int(np.sum(np.isfinite(cal_low[:, 0]))),
        n_test=n_test,
        coverage_low=np.asarray(cov_low, dtype=np.float64),
        coverage_high=np.asarray(cov_high, dtype=np.float64),
    )


class ConformalBackoffSource:
    """``source(time_s) -> HorizonInputs``: the mean forecast, holder limits backed off.

    Each holder's hard limits in the plan become ``low + M_k`` and
    ``high - M'_k`` at interval end ``k`` (the calibrated margins, the last
    one held beyond the calibrated leads).  With both sides backed off, where
    they would cross both meet at the middle of the limits; with one side
    only, it stops ``min_gap`` short of the other limit.

    Parameters
    ----------
    source : ScenarioForecastSource
        The causal forecast.
    margins : dict of str to (HolderMarginCalibration, float, float)
        Limited variable (``ldg_holder.level_fraction``) -> (calibration,
        hard low, hard high). [fraction]
    sides : tuple of str
        ``"low"`` and/or ``"high"``: the limits backed off (the other side is
        left to the DCS layer's high-level or low-level protection).
    min_gap : float
        Smallest room left between a one-sided backed-off limit and the
        other limit. [fraction]

    Raises
    ------
    ModelError
        For an unknown side or a negative gap.
    """

    def __init__(
        self,
        source: ScenarioForecastSource,
        margins: dict[str, tuple[HolderMarginCalibration, float, float]],
        *,
        sides: tuple[str, ...] = ("low", "high"),
        min_gap: float = 0.1,
    ) -> None:
        if not sides or any(side not in ("low", "high") for side in sides):
            raise ModelError(f"holder margin: sides must be 'low' and/or 'high', got {sides}")
        if not (math.isfinite(min_gap) and min_gap >= 0.0):
            raise ModelError(f"holder margin: min_gap must be >= 0, got {min_gap:g}")
        self.source = source
        self.margins = dict(margins)
        self.sides = tuple(sides)
        self.min_gap = float(min_gap)

    def __call__(self, time_s: float) -> HorizonInputs:
        """The backed-off horizon inputs at ``time_s`` since the scenario start [s]."""
        base = self.source(time_s)
        n = base.d.shape[0]
        limit_low = dict(base.limit_low or {})
        limit_high = dict(base.limit_high or {})
        for variable, (cal, low, high) in self.margins.items():
            k = np.minimum(np.arange(n), cal.margin_low_m3.size - 1)
            lo = np.full(n, low)
            hi = np.full(n, high)
            if "low" in self.sides:
                lo = lo + cal.margin_low_fraction[k]
            if "high" in self.sides:
                hi = hi - cal.margin_high_fraction[k]
            if len(self.sides) == 2:
                middle = 0.5 * (low + high)
                lo, hi = np.minimum(lo, middle), np.maximum(hi, middle)
            else:
                lo = np.minimum(lo, max(high - self.min_gap, low))
                hi = np.maximum(hi, min(low + self.min_gap, high))
            limit_low[variable] = np.maximum(limit_low.get(variable, lo), lo)
            limit_high[variable] = np.minimum(limit_high.get(variable, hi), hi)
        return dataclasses.replace(base, limit_low=limit_low, limit_high=limit_high)
