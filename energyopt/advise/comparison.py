"""What one interval's decision costs: the recommended move against another first move.

The advisor's ``expected_saving`` answers "what does following the plan save
over the horizon against the operators changing nothing" (their setpoints
held for an hour, the balancing MVs re-optimised:
:mod:`controllers.advisor.baseline`).  The shadow mode asks a narrower
question per interval: what did *this* interval's move save, and what did
the operators' own move cost?  Re-optimising the horizon for each such
question costs a solve per interval and operator move; holding setpoints
exactly is no yardstick either (the nominal model's steam headers integrate
every imbalance and cross their hard limits within minutes).

The yardstick here is the *interval comparison*: the recommended plan, and
the same plan with the first interval's **tagged** setpoints replaced by
other values (the operators' next setpoints, or the current ones: waiting
one interval), both simulated from the same state on the same forecast by
:meth:`controllers.economic.EconomicMPC.evaluate`.  Over that first
interval -- the one the operators acted on -- their difference is summed
over the terms that are money or that the operators are asked to keep:

``tariff``
    electricity purchased at the time-of-use price;
``fuel purchase``
    priced purchases on plant nodes (natural gas, water);
``flare avoidance``
    flare penalty and CO2 price of flared gas;
``holder band``
    normal-band penalties of gas-holder levels.

Left out: normal bands of other variables and hard-limit penalties (with
fixed setpoints the nominal steam headers integrate the model's imbalance,
which the plant's pressure controllers close), and move suppression (a
tuning weight, not money).  Terms are evaluated at the interval's end point
(the controller integrates by quadrature inside it).  The comparison is zero
when the replaced values equal the recommendation; the cause is the term
that grew most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from controllers.advisor import Recommendation
    from controllers.economic import HorizonInputs
    from energyopt.advise.session import AdvisorSession

__all__ = ["CAUSES", "IntervalComparison", "compare_first_interval"]

#: Causes a difference is attributed to, in the module docstring's order.
CAUSES: tuple[str, ...] = ("tariff", "fuel purchase", "flare avoidance", "holder band")


@dataclass(frozen=True)
class IntervalComparison:
    """Cost of another first move against the recommended one, over the first interval.

    Attributes
    ----------
    saving : float
        Cost of the other first move minus the recommended one's (positive:
        the recommendation is cheaper). [currency]
    cause : str
        One of :data:`CAUSES`: the term that grew most.
    terms : dict of str to float
        Difference per cause. [currency]
    """

    saving: float
    cause: str
    terms: dict[str, float]


class _Terms:
    """Per-cause cost terms of a predicted trajectory (see the module docstring)."""

    def __init__(self, session: AdvisorSession) -> None:
        import casadi as ca

        from plant_models.core.equations import to_casadi

        built = session.built
        model = built.model
        s = session.mpc.settings
        sizes = model.sizes
        x, u, d, p = (ca.SX.sym(k, sizes[k]) for k in ("x", "u", "d", "p"))
        self._g = ca.Function("g", [x, u, d, p], [to_casadi(model).g(x, u, d, p)])
        y_names = [v.name for v in model.outputs]
        x_names = [v.name for v in model.states]

        def where(name: str) -> tuple[str, int]:
            if name in y_names:
                return "y", y_names.index(name)
            return "x", x_names.index(name)

        self._interval_s = s.interval_s
        self._electricity = (
            None if s.electricity_variable is None else where(s.electricity_variable)
        )
        flares = {n for n, spec in built.project.units.items() if spec.type == "flare"}
        self._costs = []
        for c in s.cost_terms:
            unit = c.variable.split(".", 1)[0]
            cause = "flare avoidance" if unit in flares or c.label == "CO2" else "fuel purchase"
            self._costs.append((cause, where(c.variable), c.price))
        holders = {n for n, spec in built.project.units.items() if spec.type == "gas_holder"}
        self._bands = [
            ("holder band", where(b.variable), b)
            for b in s.soft_bands
            if b.variable.split(".", 1)[0] in holders
        ]
        self._mv_index = np.array([built.index("u", n) for n in session.mpc.mv_names])
        self._p = session.parameters
        self._n_u = sizes["u"]

    def __call__(
        self,
        states: npt.NDArray[np.float64],
        plan: npt.NDArray[np.float64],
        horizon: HorizonInputs,
        first: int,
    ) -> dict[str, float]:
        """Cost per cause of ``plan`` rows from interval ``first`` on. [currency]."""
        n = plan.shape[0]
        d = horizon.d[first : first + n]
        price = horizon.price_per_j[first : first + n]
        base = np.zeros(self._n_u) if horizon.u_base is None else horizon.u_base
        u = np.tile(base, (n, 1))
        u[:, self._mv_index] = plan
        ends = states[1:]
        y = np.asarray(self._g.map(n)(ends.T, u.T, d.T, np.tile(self._p, (n, 1)).T))

        def value(ref: tuple[str, int]) -> npt.NDArray[np.float64]:
            kind, i = ref
            return ends[:, i] if kind == "x" else y[i]

        out = dict.fromkeys(CAUSES, 0.0)
        dt = self._interval_s
        if self._electricity is not None:
            out["tariff"] += dt * float(np.dot(price, value(self._electricity)))
        for cause, ref, unit_price in self._costs:
            out[cause] += dt * unit_price * float(np.sum(value(ref)))
        for cause, ref, band in self._bands:
            v = value(ref)
            excess = np.maximum(band.low - v, 0.0) + np.maximum(v - band.high, 0.0)
            out[cause] += band.weight_linear * float(np.sum(excess))
            out[cause] += band.weight_quadratic * float(np.sum(excess**2))
        return out


def compare_first_interval(
    session: AdvisorSession,
    rec: Recommendation,
    x0: npt.ArrayLike,
    first: npt.ArrayLike,
) -> IntervalComparison | None:
    """Compare the recommendation with another first move (module docstring).

    Parameters
    ----------
    session : AdvisorSession
        The session that made ``rec``; its last solve's forecast is reused.
    rec : Recommendation
        A recommendation with a controller plan (fallback NONE).
    x0 : array_like
        The state the recommendation started from. [SI]
    first : array_like
        Other first-interval values of every MV, controller order; entries of
        MVs without a tag (and NaN entries) keep the recommendation's. [SI]

    Returns
    -------
    IntervalComparison or None
        ``None`` without a controller plan, a forecast or a finite state.
    """
    from controllers.advisor import FallbackLevel

    horizon = session.last_horizon()
    x = np.asarray(x0, dtype=float)
    if (
        rec.prediction is None
        or rec.fallback is not FallbackLevel.NONE
        or horizon is None
        or not np.isfinite(x).all()
    ):
        return None
    current = np.array([np.nan if mv.current is None else mv.current for mv in rec.mvs])
    if not np.isfinite(current).all():
        return None
    plan = rec.prediction.mv_plan
    other = plan.copy()
    wanted = np.asarray(first, dtype=float)
    tagged = np.array([info.tag is not None for info in session.mvs]) & np.isfinite(wanted)
    other[0, tagged] = wanted[tagged]
    terms_of = _terms(session)
    costs = []
    for candidate in (other, plan):
        ev = session.mpc.evaluate(x, candidate, current, horizon)
        costs.append(terms_of(ev.states[:2], candidate[:1], horizon, 0))
    diff = {k: costs[0][k] - costs[1][k] for k in CAUSES}
    saving = float(sum(diff.values()))
    cause = max(CAUSES, key=lambda k: diff[k])
    return IntervalComparison(saving, cause, diff)


def _terms(session: AdvisorSession) -> Any:
    if session.comparison_terms is None:
        session.comparison_terms = _Terms(session)
    return session.comparison_terms
