"""Scenario horizons of the multi-stage economic MPC, and their source: the forecaster.

A :class:`ScenarioHorizon` is ``S`` disturbance trajectories on the MPC's
grid (interval means), their probabilities, and the electricity price and
non-manipulated inputs they share.  :func:`scenarios_from_forecasts` builds
one from the forecaster's scenario sets (:meth:`Forecast.scenarios
<controllers.forecast.result.Forecast.scenarios>`: interval, Gauss-Hermite or
sampled trajectories at the forecaster's sample time), one set per forecast
disturbance, all other disturbances kept at a nominal horizon.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from controllers.economic.horizon import HorizonInputs, interval_means
from controllers.errors import EconomicMPCError
from controllers.forecast.result import ScenarioSet

__all__ = ["ScenarioHorizon", "ScenarioSource", "scenarios_from_forecasts"]

#: Tolerance on probabilities summing to one (as :class:`ScenarioSet`'s check).
_WEIGHT_SUM_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class ScenarioHorizon:
    """Disturbance scenarios over a horizon with their probabilities.

    Parameters
    ----------
    d : numpy.ndarray
        Plant disturbances per scenario and interval (interval means), shape
        ``(n_scenarios, n_horizon, n_d)``. [SI]
    weights : numpy.ndarray
        Probability of each scenario, non-negative, summing to one, shape
        ``(n_scenarios,)``. [1]
    price_per_j : numpy.ndarray
        Electricity purchase price per interval, shared by the scenarios,
        shape ``(n_horizon,)``. [currency/J]
    u_base : numpy.ndarray or None
        Full plant input vector whose non-MV entries are held (``None``:
        zeros), shape ``(n_u,)``. [SI]
    labels : tuple of str
        Name of each scenario (default ``"s0"``, ``"s1"``, ...).
    limit_low, limit_high, band_low, band_high : Mapping[str, numpy.ndarray] or None
        Per-interval hard limits and normal bands shared by the scenarios, as
        in :class:`~controllers.economic.horizon.HorizonInputs`. [SI]

    Raises
    ------
    EconomicMPCError
        For shapes that do not agree, non-finite values, or weights that are
        negative or do not sum to one.
    """

    d: np.ndarray
    weights: np.ndarray
    price_per_j: np.ndarray
    u_base: np.ndarray | None = None
    labels: tuple[str, ...] = ()
    limit_low: Mapping[str, np.ndarray] | None = None
    limit_high: Mapping[str, np.ndarray] | None = None
    band_low: Mapping[str, np.ndarray] | None = None
    band_high: Mapping[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        d = np.array(self.d, dtype=float)
        w = np.array(self.weights, dtype=float).ravel()
        price = np.array(self.price_per_j, dtype=float)
        if d.ndim != 3 or w.shape != (d.shape[0],) or price.shape != (d.shape[1],):
            raise EconomicMPCError(
                f"scenario horizon: need d (S, N, n_d), weights (S,) and price (N,), got "
                f"{d.shape}, {w.shape} and {price.shape}"
            )
        if d.shape[0] < 1:
            raise EconomicMPCError("scenario horizon: at least one scenario is needed")
        if not (np.isfinite(d).all() and np.isfinite(price).all() and np.isfinite(w).all()):
            raise EconomicMPCError("scenario horizon: d, weights and price must be finite")
        if np.any(w < 0.0) or abs(w.sum() - 1.0) > _WEIGHT_SUM_TOL:
            raise EconomicMPCError(f"scenario weights must be >= 0 and sum to 1, got {w.tolist()}")
        labels = tuple(self.labels) or tuple(f"s{i}" for i in range(d.shape[0]))
        if len(labels) != d.shape[0]:
            raise EconomicMPCError(f"scenario horizon: {len(labels)} labels for {d.shape[0]} rows")
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "price_per_j", price)
        object.__setattr__(self, "labels", labels)
        if self.u_base is not None:
            object.__setattr__(self, "u_base", np.array(self.u_base, dtype=float))

    @property
    def n_scenarios(self) -> int:
        """Number of scenarios ``S``."""
        return int(self.d.shape[0])

    @classmethod
    def from_nominal(cls, horizon: HorizonInputs, copies: int = 1) -> ScenarioHorizon:
        """Return ``copies`` identical, equally likely copies of a nominal horizon.

        Parameters
        ----------
        horizon : HorizonInputs
            Nominal disturbances, price and non-MV inputs.
        copies : int
            Number of scenarios.

        Returns
        -------
        ScenarioHorizon
        """
        if copies < 1:
            raise EconomicMPCError(f"copies must be >= 1, got {copies}")
        d = np.asarray(horizon.d, dtype=float)
        return cls(
            np.repeat(d[None], copies, axis=0),
            np.full(copies, 1.0 / copies),
            horizon.price_per_j,
            horizon.u_base,
            (),
            **_output_fields(horizon),
        )

    def scenario(self, index: int) -> HorizonInputs:
        """Return scenario ``index`` as a nominal :class:`HorizonInputs`."""
        return HorizonInputs(self.d[index], self.price_per_j, self.u_base, **_output_fields(self))


ScenarioSource = Callable[[float], ScenarioHorizon]


def _output_fields(
    horizon: HorizonInputs | ScenarioHorizon,
) -> dict[str, Mapping[str, np.ndarray] | None]:
    """The per-interval band and hard-limit fields of a horizon, by name."""
    return {
        name: getattr(horizon, name)
        for name in ("limit_low", "limit_high", "band_low", "band_high")
    }


def scenarios_from_forecasts(
    nominal: HorizonInputs,
    disturbance_names: Sequence[str],
    scenario_sets: Mapping[str, ScenarioSet],
    interval_s: float,
    *,
    reverse: Collection[str] = (),
) -> ScenarioHorizon:
    """Turn the forecaster's scenario sets into scenario horizons on the MPC grid.

    Every set's trajectories start at the horizon's first interval and are
    sampled at the forecaster's ``dt_s``; each is averaged over the control
    intervals (:func:`~controllers.economic.horizon.interval_means`: the NLP
    holds a disturbance over an interval, so the interval mean conserves the
    gas and energy it carries).  The sets are combined *by position*:
    scenario ``i`` takes row ``i`` of every set (with interval sets, all
    "lower" together, then all "mean", all "upper"), so every set must have
    the same number of rows and the same weights.  A name in ``reverse``
    takes its rows in reverse order (its "upper" with the others' "lower":
    gas made high while gas used is low is the holder's worst case), which
    needs weights symmetric under the reversal (interval and Gauss-Hermite
    sets are, sampled paths are equally weighted).

    Parameters
    ----------
    nominal : HorizonInputs
        Horizon of every disturbance without a set (its rows are kept), the
        electricity price and the non-MV inputs; shape of ``d`` ``(N, n_d)``.
    disturbance_names : sequence of str
        Plant disturbance names, in the columns' order (``n_d``).
    scenario_sets : Mapping[str, ScenarioSet]
        Scenario set per forecast disturbance name.
    interval_s : float
        Control interval. [s]
    reverse : collection of str
        Names whose scenario order is reversed before combining.

    Returns
    -------
    ScenarioHorizon
        ``S`` scenarios with the sets' weights and the first set's labels.

    Raises
    ------
    EconomicMPCError
        For an unknown disturbance name, no set, sets whose sizes or weights
        disagree, or a forecast shorter than the ``N`` intervals.
    """
    d_nom = np.asarray(nominal.d, dtype=float)
    names = list(disturbance_names)
    if d_nom.ndim != 2 or d_nom.shape[1] != len(names):
        raise EconomicMPCError(
            f"nominal d must have shape (N, {len(names)}) for the names given, got {d_nom.shape}"
        )
    if not scenario_sets:
        raise EconomicMPCError("at least one scenario set is needed")
    unknown = sorted(set(scenario_sets) - set(names))
    if unknown:
        raise EconomicMPCError(f"scenario sets for unknown disturbances: {unknown}")
    unknown = sorted(set(reverse) - set(scenario_sets))
    if unknown:
        raise EconomicMPCError(f"reverse names without a scenario set: {unknown}")
    n_int = d_nom.shape[0]
    first = next(iter(scenario_sets))
    weights = np.asarray(scenario_sets[first].weights, dtype=float)
    labels = scenario_sets[first].labels
    d = np.repeat(d_nom[None], weights.size, axis=0)
    for name, sset in scenario_sets.items():
        values = np.asarray(sset.values, dtype=float)
        w = np.asarray(sset.weights, dtype=float)
        if name in reverse:
            values, w = values[::-1], w[::-1]
        if w.shape != weights.shape or not np.allclose(w, weights, rtol=0.0, atol=_WEIGHT_SUM_TOL):
            raise EconomicMPCError(
                f"scenario set {name!r}: weights {w.tolist()} differ from {first!r}'s "
                f"{weights.tolist()}; sets are combined by position and must agree"
            )
        t = np.arange(values.shape[1]) * sset.dt_s
        if values.shape[1] * sset.dt_s < n_int * interval_s * (1.0 - 1e-12):
            raise EconomicMPCError(
                f"scenario set {name!r}: {values.shape[1]} steps of {sset.dt_s} s do not "
                f"cover {n_int} intervals of {interval_s} s"
            )
        if values.shape[1] == 1:
            means = np.repeat(values.T, n_int, axis=0)  # one sample: held over the horizon
        else:
            _, means = interval_means(t, values.T, interval_s)
        d[:, :, names.index(name)] = means[:n_int].T
    return ScenarioHorizon(
        d, weights, nominal.price_per_j, nominal.u_base, tuple(labels), **_output_fields(nominal)
    )
