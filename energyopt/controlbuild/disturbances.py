"""Which plant disturbances are forecast, held or nominal, and how they are read from tags.

A ``disturbance`` binding usually names what a sensor reads -- the flow a
unit makes or uses (``hot_stoves.flow_m3_s``) -- not the plant disturbance that
drives it (``hot_stoves.demand_fraction``).  Each plant disturbance ``d_j`` is:

``price``
    the grid's ``price_per_j``: the time-of-use tariff, known ahead;
``held``
    bound directly (a node's heating value, a binding on ``d``) or listed in
    ``[controller.forecast] held``: its last interval mean, over the horizon;
``forecast``
    the one non-price, non-heating-value disturbance of the unit of a
    ``disturbance`` binding: reconstructed from the tag's interval means and
    forecast (profile + ARX);
``nominal``
    anything else: :func:`energyopt.plantbuild.nominal_disturbances`.

Reconstruction inverts the plant's own equations, which are affine in such a
disturbance (checked symbolically with casadi): for an output ``v = a + b d_j``
the interval mean is ``(mean v - a) / b``; for a lagged state ``dv/dt = a + b
d_j`` (a gas maker's first-order lag) it is ``(dv/dt - a) / b`` with ``dv/dt``
the difference of neighbouring interval means (exact in the mean for an
affine lag).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, ProjectError

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant

__all__ = ["DisturbancePlan", "plan_disturbances"]

#: Plans kept per process (:func:`plan_disturbances`): a tune builds the same
#: plan for every trial of a window (only ``[controller]`` differs).
PLAN_CACHE_SIZE = 8
_plan_cache: OrderedDict[tuple[Any, ...], tuple[Any, Any, DisturbancePlan]] = OrderedDict()
_plan_lock = threading.Lock()


@dataclass(frozen=True)
class _Inversion:
    """How one forecast disturbance is read from its binding."""

    binding: str
    d_index: int
    state: bool  # dv/dt = a + b d (lagged state), else v = a + b d (output)
    x_index: int  # the state's position (state inversion only)
    coefficients: Any  # casadi Function (x, u, d, p) -> (a, b)


@dataclass(frozen=True)
class DisturbancePlan:
    """Role of every plant disturbance in the economic forecast.

    Attributes
    ----------
    names : tuple of str
        Plant disturbance names, in ``d`` order.
    kinds : tuple of str
        ``"price"``, ``"held"``, ``"forecast"`` or ``"nominal"`` per disturbance.
    sources : tuple of str or None
        Binding each held or forecast disturbance is read from (``None`` otherwise).
    nominal : numpy.ndarray
        Nominal disturbance vector, shape ``(n_d,)``. [SI]
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    sources: tuple[str | None, ...]
    nominal: npt.NDArray[np.float64]
    _inversions: tuple[_Inversion, ...]
    _state_sources: tuple[tuple[str, int], ...]
    _x_ref: npt.NDArray[np.float64]
    _p: npt.NDArray[np.float64]

    def indices(self, kind: str) -> tuple[int, ...]:
        """Positions in ``d`` of the disturbances of one kind."""
        return tuple(i for i, k in enumerate(self.kinds) if k == kind)

    def lagged(self) -> tuple[int, ...]:
        """Positions in ``d`` of the disturbances read from the rate of a lagged state.

        Their reconstruction differences the source over neighbouring samples
        (``dv/dt = a + b d``), so a caller filling gaps must fill the
        reconstructed disturbance, not the source tag.
        """
        return tuple(inv.d_index for inv in self._inversions if inv.state)

    def state_sources(self) -> tuple[tuple[str, int], ...]:
        """Bindings of model states that :meth:`reconstruct` reads as operating points.

        Returns
        -------
        tuple of (str, int)
            ``(binding, state index)``: ``reconstruct`` needs these bindings'
            series in ``means`` besides :attr:`sources`.
        """
        return self._state_sources

    def reconstruct(
        self,
        means: dict[str, npt.NDArray[np.float64]],
        u_base: npt.NDArray[np.float64],
        interval_s: float,
    ) -> npt.NDArray[np.float64]:
        """Plant disturbances per interval from the bindings' interval means.

        Parameters
        ----------
        means : dict of str to numpy.ndarray
            Binding -> interval means, shape ``(n,)``, NaN for gaps. [SI]
        u_base : numpy.ndarray
            Plant inputs at which the equations are evaluated. [SI]
        interval_s : float
            Interval. [s]

        Returns
        -------
        numpy.ndarray
            Shape ``(n, n_d)``: held and forecast columns from the record (NaN
            where it has a gap), the others nominal. [SI]
        """
        n = next(iter(means.values())).shape[0] if means else 0
        d = np.tile(self.nominal, (n, 1))
        inverted = {inv.d_index for inv in self._inversions}
        for i, source in enumerate(self.sources):
            if source is not None and i not in inverted:
                d[:, i] = means[source]
        # Operating point of the inversions: held values where known, else nominal.
        d_eval = np.where(np.isfinite(d), d, self.nominal)
        x = np.tile(self._x_ref, (n, 1))
        for binding, k in self._state_sources:
            x[:, k] = np.where(np.isfinite(means[binding]), means[binding], self._x_ref[k])
        for inv in self._inversions:
            v = means[inv.binding]
            if inv.state:
                x[:, inv.x_index] = np.where(np.isfinite(v), v, self._x_ref[inv.x_index])
            a, b = (
                np.asarray(c).ravel()
                for c in inv.coefficients.map(n)(x.T, u_base, d_eval.T, self._p)
            )
            if inv.state:
                rate = np.full(n, np.nan)
                if n > 2:
                    rate[1:-1] = (v[2:] - v[:-2]) / (2.0 * interval_s)
                if n > 1:
                    rate[-1] = (v[-1] - v[-2]) / interval_s
                    rate[0] = (v[1] - v[0]) / interval_s
                # A gap next to an interval: no difference, quasi-steady state.
                rate = np.where(np.isfinite(rate), rate, 0.0)
                d[:, inv.d_index] = np.where(np.isfinite(v), (rate - a) / b, np.nan)
            else:
                d[:, inv.d_index] = (v - a) / b
        return d


def _unit_disturbances(built: BuiltPlant, unit: str) -> list[int]:
    """Disturbances of ``unit`` other than prices and heating values."""
    return [
        i
        for i, v in enumerate(built.model.disturbances)
        if v.name.startswith(f"{unit}.") and not v.name.endswith((".price_per_j", ".lhv_j_m3"))
    ]


def _inversion(
    built: BuiltPlant, binding: str, d_index: int, syms: tuple[Any, ...], exprs: tuple[Any, Any]
) -> _Inversion:
    """Read-back of one disturbance binding; ``exprs`` = the plant's ``(g, f)`` on ``syms``."""
    import casadi as ca

    x, u, d, p = syms
    entry = built.bindings[binding]
    d_name = built.model.disturbances[d_index].name
    where = f"{built.project.source or 'project'}: bindings.{binding}"
    y, dxdt = exprs
    expr = y[entry.index] if entry.vector == "y" else None
    state = False
    x_index = -1
    if expr is None or not ca.depends_on(expr, d[d_index]):
        x_names = [v.name for v in built.model.states]
        if entry.name in x_names:
            x_index = x_names.index(entry.name)
            expr = dxdt[x_index]
            state = True
    if expr is None or not ca.depends_on(expr, d[d_index]):
        raise ModelError(
            f"{where}: {entry.name} does not depend on plant disturbance {d_name}; "
            "bind that disturbance directly or list the binding in [controller.forecast] held"
        )
    slope = ca.jacobian(expr, d[d_index])
    if ca.depends_on(slope, d[d_index]):
        raise ModelError(
            f"{where}: {entry.name} is not affine in {d_name}; it cannot be read back from the tag"
        )
    offset = ca.substitute(expr, d[d_index], ca.SX(0.0))
    fn = ca.Function(f"inv_{d_index}", [x, u, d, p], [offset, slope])
    return _Inversion(binding, d_index, state, x_index, fn)


def plan_disturbances(
    built: BuiltPlant,
    held: tuple[str, ...] = (),
    parameters: npt.ArrayLike | None = None,
) -> DisturbancePlan:
    """Decide how each plant disturbance is obtained (see the module docstring).

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    held : tuple of str
        Disturbance bindings held at their last value instead of forecast.
    parameters : array_like, optional
        Plant parameter vector the tags are read back with (calibrated);
        default the project's nominal values. [SI]

    Returns
    -------
    DisturbancePlan
        Read-only arrays; the same object for the same model, bindings,
        ``held`` and parameters (the last :data:`PLAN_CACHE_SIZE` plans of
        this process are kept: deciding costs symbolic work per binding, and a
        tune asks again for every trial).

    Raises
    ------
    ProjectError
        For a name in ``held`` that is not a disturbance binding.
    ModelError
        For a disturbance binding whose unit has no single disturbance to
        forecast, or whose signal is not affine in it.
    """
    # A copy: the plan's arrays are made read-only, the caller's must not be.
    p = np.array(built.parameters() if parameters is None else parameters, dtype=np.float64)
    key = (id(built.model), id(built.bindings), tuple(held), p.shape, p.tobytes())
    with _plan_lock:
        hit = _plan_cache.get(key)
        # The model and bindings are kept in the entry, so their ids cannot be reused.
        if hit is not None and hit[0] is built.model and hit[1] is built.bindings:
            _plan_cache.move_to_end(key)
            return hit[2]
    plan = _plan_disturbances(built, tuple(held), p)
    for array in (plan.nominal, plan._x_ref, plan._p):
        array.flags.writeable = False
    with _plan_lock:
        _plan_cache[key] = (built.model, built.bindings, plan)
        while len(_plan_cache) > PLAN_CACHE_SIZE:
            _plan_cache.popitem(last=False)
    return plan


def _plan_disturbances(
    built: BuiltPlant,
    held: tuple[str, ...],
    parameters: npt.NDArray[np.float64],
) -> DisturbancePlan:
    """:func:`plan_disturbances` without the cache."""
    import casadi as ca

    from energyopt.controlbuild.record import forecast_bindings
    from energyopt.plantbuild import nominal_disturbances
    from plant_models.core.equations import to_casadi

    model = built.model
    where = built.project.source or "project"
    names = tuple(v.name for v in model.disturbances)
    readable = forecast_bindings(built)
    readable = tuple(
        b
        for b in readable
        if built.bindings[b].role == "disturbance" or built.bindings[b].vector == "d"
    )
    for i, name in enumerate(held):
        if name not in readable:
            raise ProjectError(
                f"{where}: controller.forecast.held[{i}]: '{name}' is not a disturbance binding"
            )
    x_names = [v.name for v in model.states]
    state_sources = tuple(
        (e.binding, x_names.index(e.name))
        for e in built.bindings.entries
        if e.name in x_names and e.binding in forecast_bindings(built)
    )
    kinds = ["nominal"] * len(names)
    sources: list[str | None] = [None] * len(names)
    for i, name in enumerate(names):
        if name.endswith(".price_per_j"):
            kinds[i] = "price"
    syms = tuple(ca.SX.sym(k, model.sizes[k]) for k in ("x", "u", "d", "p"))
    # The plant's symbolic g and f once for every binding (building them is the
    # cost of planning: about 0.2 s each on the steelworks).
    symbolic = to_casadi(model)
    exprs = (symbolic.g(*syms), symbolic.f(*syms))
    inversions = []
    for binding in readable:
        entry = built.bindings[binding]
        if entry.vector == "d":
            kinds[entry.index] = (
                "held" if (entry.role != "disturbance" or binding in held) else ("forecast")
            )
            sources[entry.index] = binding
            continue
        unit = entry.name.split(".", 1)[0]
        candidates = _unit_disturbances(built, unit)
        if len(candidates) != 1:
            found = ", ".join(names[c] for c in candidates) or "none"
            raise ModelError(
                f"{where}: bindings.{binding}: unit {unit} needs exactly one disturbance to "
                f"forecast from tag {entry.tag}, it has {found}"
            )
        j = candidates[0]
        if sources[j] is not None:
            raise ModelError(
                f"{where}: bindings.{binding}: disturbance {names[j]} is already read from "
                f"bindings.{sources[j]}"
            )
        kinds[j] = "held" if binding in held else "forecast"
        sources[j] = binding
        inversions.append(_inversion(built, binding, j, syms, exprs))
    low, high = model.bounds("x")
    x_ref = np.where(np.isfinite(low + high), 0.5 * (low + high), 0.0)
    return DisturbancePlan(
        names,
        tuple(kinds),
        tuple(sources),
        nominal_disturbances(built),
        tuple(inversions),
        state_sources,
        x_ref,
        parameters,
    )
