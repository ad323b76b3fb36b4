"""The plant's state and inputs at one moment, read from the bound historian tags.

The advisor needs, at a time ``t``, the plant state (the economic MPC's
initial condition), the manipulated variables in force and the other plant
inputs.  A historian only holds the bound tags, in engineering units; this
module maps them to the model (SI) by these documented rules:

States
    ``direct``: a binding on a variable of the state's own name (every
    steelworks state but the holder volumes is an output of the same name);
    ``inverted``: a bound output that depends on this state alone and is
    affine in it (a holder level ``L = V / V_design``), solved for the state
    with the model's own equations (casadi), at the session's parameters.
    A state with neither is not measured: the project is refused
    (:class:`~energyopt.errors.ProjectError` naming the state).

Inputs
    ``tag``: a binding on the input itself (the MV setpoint tags);
    ``alias``: a bound output or state named like the input without
    ``_command`` (``bfg_flare.flow_command_m3_s`` -> ``bfg_flare.flow_m3_s``):
    the first-order lag of a command follows it within minutes, far inside
    a 15-min interval;
    ``output``: a bound output that depends on this input and on no
    disturbance or other unresolved input (a compressor's power -> its air
    flow), solved for the input on its envelope (Brent's method) with the
    model's equations;
    ``balance``: a balance the economic MPC keeps at zero (a mixed-gas
    network without a holder) that depends on this input alone among the
    unresolved ones, solved with the disturbances of the coming interval;
    ``zero``: any other non-manipulated input (curtailments, load shedding),
    at zero, clipped into the model's envelope.  A manipulated variable that
    none of the rules reads is refused (bind it to a tag).

Values at ``t`` are the last row at or before ``t`` of the bound tags
resampled to the file's sampling step and cleaned by each binding's
data-quality policy (:func:`energyopt.tagdata.read_clean_tags`); NaN rows
are left to the advisor's sanitiser (short gaps bridged, longer ones invalid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import ProjectError

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant

__all__ = ["PlantSnapshot", "SnapshotMap"]

#: Newton iterations of the ``output`` and ``balance`` rules on an unbounded input.
_NEWTON_ITERATIONS = 20


@dataclass(frozen=True)
class PlantSnapshot:
    """States and inputs of the plant over a short window ending at ``t``.

    Attributes
    ----------
    time_ms : numpy.ndarray
        Row times, int64, shape ``(n,)``; the last row is at or before ``t``. [ms since epoch]
    states : numpy.ndarray
        State rows, shape ``(n, n_x)``, NaN where unmeasured. [SI]
    inputs : numpy.ndarray
        Plant input vector at the last row, shape ``(n_u,)``; NaN for an
        input whose source is NaN there. [SI]
    """

    time_ms: npt.NDArray[np.int64]
    states: npt.NDArray[np.float64]
    inputs: npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Source:
    rule: str
    binding: str | None = None
    fn: Any = None  # casadi Function (x, u, d, p) -> residual, or state inversion (a, b)


class SnapshotMap:
    """How every state and input of a plant is read from its bound tags (module docstring).

    Parameters
    ----------
    built : BuiltPlant
        The project's plant.
    parameters : array_like
        Plant parameters the inversions use. [SI]
    mv_names : sequence of str
        Plant inputs the controller manipulates.
    balances : sequence of str
        Outputs the controller keeps at zero.

    Raises
    ------
    ProjectError
        For a state no binding measures, or an MV no rule reads.
    """

    def __init__(
        self,
        built: BuiltPlant,
        parameters: npt.ArrayLike,
        mv_names: Sequence[str],
        balances: Sequence[str] = (),
    ) -> None:
        import casadi as ca

        from plant_models.core.equations import to_casadi

        self.built = built
        model = built.model
        self._p = np.asarray(parameters, dtype=np.float64)
        where = built.project.source or "project"
        sizes = model.sizes
        x, u, d, p = (ca.SX.sym(k, sizes[k]) for k in ("x", "u", "d", "p"))
        cm = to_casadi(model)
        y = cm.g(x, u, d, p)
        self._y_names = [v.name for v in model.outputs]
        by_name = {e.name: e for e in built.bindings.entries}
        self.state_sources: list[_Source] = []
        for i, var in enumerate(model.states):
            entry = by_name.get(var.name)
            if entry is not None:
                self.state_sources.append(_Source("direct", entry.binding))
                continue
            found = None
            for e in built.bindings.entries:
                if e.vector != "y":
                    continue
                expr = y[e.index]
                if not ca.depends_on(expr, x[i]) or ca.depends_on(expr, ca.vertcat(u, d)):
                    continue
                others = [x[k] for k in range(sizes["x"]) if k != i]
                slope = ca.jacobian(expr, x[i])
                if (others and ca.depends_on(expr, ca.vertcat(*others))) or ca.depends_on(slope, x):
                    continue
                offset = ca.substitute(expr, x[i], ca.SX(0.0))
                found = _Source("inverted", e.binding, ca.Function("inv", [p], [offset, slope]))
                break
            if found is None:
                raise ProjectError(
                    f"{where}: bindings: plant state {var.name} is not measured (no binding on "
                    "it or on an output that depends on it alone); the advisor reads the state "
                    "from the bound tags"
                )
            self.state_sources.append(found)
        self._mv = list(mv_names)
        self.input_sources = self._input_sources(cm, (x, u, d, p), y, list(balances), where)

    def _input_sources(
        self, cm: Any, syms: tuple[Any, ...], y: Any, balances: list[str], where: str
    ) -> list[_Source]:
        import casadi as ca

        x, u, d, p = syms
        built = self.built
        names = [v.name for v in built.model.inputs]
        by_name = {e.name: e for e in built.bindings.entries}
        sources: list[_Source | None] = [None] * len(names)
        for j, name in enumerate(names):
            entry = by_name.get(name)
            if entry is not None and entry.vector == "u":
                sources[j] = _Source("tag", entry.binding)
                continue
            alias = by_name.get(name.replace("_command", "")) if "_command" in name else None
            if alias is not None and alias.vector in ("y", "x"):
                sources[j] = _Source("alias", alias.binding)
        for j in range(len(names)):
            if sources[j] is not None:
                continue
            unresolved = [k for k in range(len(names)) if sources[k] is None and k != j]
            rest = ca.vertcat(*[u[k] for k in unresolved]) if unresolved else ca.SX(0, 1)
            for e in built.bindings.entries:
                expr = y[e.index] if e.vector == "y" else None
                if expr is None or not ca.depends_on(expr, u[j]):
                    continue
                if ca.depends_on(expr, d) or (unresolved and ca.depends_on(expr, rest)):
                    continue
                sources[j] = _Source("output", e.binding, ca.Function("r", [x, u, d, p], [expr]))
                break
        for j, name in enumerate(names):
            if sources[j] is None and name not in self._mv:
                sources[j] = _Source("zero")
        for j, name in enumerate(names):
            if sources[j] is not None:
                continue
            unresolved = [k for k in range(len(names)) if sources[k] is None and k != j]
            rest = ca.vertcat(*[u[k] for k in unresolved]) if unresolved else ca.SX(0, 1)
            for b in balances:
                expr = y[self._y_names.index(b)]
                if ca.depends_on(expr, u[j]) and not (unresolved and ca.depends_on(expr, rest)):
                    sources[j] = _Source("balance", b, ca.Function("r", [x, u, d, p], [expr]))
                    break
            if sources[j] is None:
                raise ProjectError(
                    f"{where}: the current value of manipulated input {name} cannot be read "
                    "from the historian: bind it to its setpoint tag"
                )
        return [s for s in sources if s is not None]

    # ------------------------------------------------------------ reading

    def bindings_needed(self) -> tuple[str, ...]:
        """Bindings whose tags a snapshot reads."""
        names = [s.binding for s in self.state_sources]
        names += [s.binding for s in self.input_sources if s.rule in ("tag", "alias", "output")]
        return tuple(dict.fromkeys(n for n in names if n is not None))

    def snapshot(
        self,
        time_ms: npt.NDArray[np.int64],
        values: dict[str, npt.NDArray[np.float64]],
        d_now: npt.NDArray[np.float64],
    ) -> PlantSnapshot:
        """Map bound tag rows (SI, model units) to states and the last row's inputs.

        Parameters
        ----------
        time_ms : numpy.ndarray
            Row times, shape ``(n,)``, ``n >= 1``. [ms since epoch]
        values : dict of str to numpy.ndarray
            Binding -> rows in the model's SI unit (:meth:`BoundVariable.to_model`). [SI]
        d_now : numpy.ndarray
            Plant disturbances of the coming interval (for the ``balance``
            rule), shape ``(n_d,)``. [SI]

        Returns
        -------
        PlantSnapshot
        """
        model = self.built.model
        n = time_ms.size
        states = np.full((n, model.sizes["x"]), np.nan)
        for i, src in enumerate(self.state_sources):
            v = values[str(src.binding)]
            if src.rule == "direct":
                states[:, i] = v
            else:
                a, b = (float(c) for c in src.fn(self._p))
                states[:, i] = (v - a) / b
        x_now = states[-1]
        u = np.full(model.sizes["u"], np.nan)
        low, high = model.bounds("u")
        pending = []
        for j, src in enumerate(self.input_sources):
            if src.rule in ("tag", "alias"):
                u[j] = values[str(src.binding)][-1]
            elif src.rule == "zero":
                u[j] = float(np.clip(0.0, low[j], high[j]))
            else:
                pending.append(j)
        x_eval = np.where(np.isfinite(x_now), x_now, 0.0)
        for j in pending:
            src = self.input_sources[j]
            target = 0.0 if src.rule == "balance" else float(values[str(src.binding)][-1])
            u[j] = self._solve_input(j, src.fn, target, x_eval, u, d_now, low[j], high[j])
        return PlantSnapshot(np.asarray(time_ms, dtype=np.int64), states, u)

    def _solve_input(
        self,
        j: int,
        fn: Any,
        target: float,
        x: npt.NDArray[np.float64],
        u: npt.NDArray[np.float64],
        d: npt.NDArray[np.float64],
        low: float,
        high: float,
    ) -> float:
        """Solve ``fn(u_j) = target`` on the input's envelope.

        Brent's method (:func:`scipy.optimize.brentq`) when the envelope
        brackets the target: it copes with the flat parts of ``fmax``-shaped
        equations (a compressor's power below its minimum turndown), where
        Newton's method stalls; the envelope end nearest the target when it
        does not (saturation).  An unbounded input starts Newton's method at zero.
        """
        from scipy.optimize import brentq

        if not math.isfinite(target):
            return math.nan
        w = np.where(np.isfinite(u), u, 0.0)

        def residual(value: float) -> float:
            w[j] = value
            return float(fn(x, w, d, self._p)) - target

        if math.isfinite(low) and math.isfinite(high) and low < high:
            r_low, r_high = residual(low), residual(high)
            if r_low == 0.0 or r_high == 0.0 or (r_low < 0.0) != (r_high < 0.0):
                return float(brentq(residual, low, high, xtol=1e-12 * max(1.0, abs(high))))
            return low if abs(r_low) <= abs(r_high) else high
        value = float(np.clip(0.0, low, high))
        # Hand-written: a scalar root on an unbounded input (none in the
        # shipped plants), a handful of secant-slope Newton steps.
        for _ in range(_NEWTON_ITERATIONS):
            r = residual(value)
            h = 1e-6 * max(1.0, abs(value))
            slope = (residual(value + h) - r) / h
            if slope == 0.0 or not math.isfinite(slope):
                break
            step = -r / slope
            value = float(np.clip(value + step, low, high))
            if abs(step) <= 1e-10 * max(1.0, abs(value)):
                break
        return value
