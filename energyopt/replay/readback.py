"""Read unmeasured model variables back from measured outputs by the plant's own equations.

A replay needs the full state at the start and, under a model-based
controller, at every decision; a historian records some states directly (a
header pressure) and others only through an output of the same unit (a
holder's *level*, not its volume).  It also needs inputs nobody bound to a
tag but whose effect is measured (a compressor's air flow, seen in its
electric power).

Each such variable ``z`` (a state or an input) is read from an output ``y``
of its own unit that depends on it *affinely*, ``y = a(x, u, d, p) + b(x, u,
d, p) z`` (checked symbolically with casadi, as
:mod:`energyopt.controlbuild.disturbances` does for disturbances), as ``z =
(y - a) / b``.  This generalises the steelworks' hand-written
``StateFromOutputs`` (holder volume = level x design volume) to any plant.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError

if TYPE_CHECKING:
    from energyopt.plantbuild import BuiltPlant

__all__ = ["OutputStateBuilder", "Readback", "StateReader", "find_readback", "read_back_loads"]


@dataclass(frozen=True)
class Readback:
    """How one state, input or disturbance is read from one output.

    Attributes
    ----------
    kind : str
        ``"x"`` (state), ``"u"`` (input) or ``"d"`` (disturbance).
    index : int
        Position of the variable in its vector.
    output : str
        Name of the output it is read from.
    output_index : int
        Position of that output in ``y``.
    coefficients : casadi.Function or None
        ``(x, u, d, p) -> (a, b)`` with ``y = a + b z`` (affine outputs).
    output_function : casadi.Function or None
        ``(x, u, d, p) -> y`` for an output that is not affine (a floor on a
        compressor's flow): inverted by bisection on ``bracket``.
    bracket : tuple of float
        Envelope of the variable searched by the bisection. [SI]
    """

    kind: str
    index: int
    output: str
    output_index: int
    coefficients: Any
    output_function: Any = None
    bracket: tuple[float, float] = (0.0, 0.0)

    def invert(
        self,
        y: npt.NDArray[np.float64],
        x: npt.NDArray[np.float64],
        u: npt.NDArray[np.float64],
        d: npt.NDArray[np.float64],
        p: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """Return ``z = (y - a) / b`` for rows of operating points.

        Parameters
        ----------
        y : numpy.ndarray, shape (n,)
            Values of the output. [SI]
        x, u, d : numpy.ndarray, shapes (n, nx), (n, nu), (n, nd)
            Operating points the coefficients are evaluated at (the entry of
            ``z`` itself is irrelevant: ``y`` is affine in it). [SI]
        p : numpy.ndarray, shape (np,)
            Parameters. [SI]

        Returns
        -------
        numpy.ndarray, shape (n,)
            The variable. [SI]
        """
        n = y.shape[0]
        if self.coefficients is None:
            return self._bisect(y, x, u, d, p)
        a, b = (
            np.asarray(c, dtype=np.float64).ravel()
            for c in self.coefficients.map(n)(x.T, u.T, d.T, p)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray((y - a) / b, dtype=np.float64)

    def _bisect(
        self,
        y: npt.NDArray[np.float64],
        x: npt.NDArray[np.float64],
        u: npt.NDArray[np.float64],
        d: npt.NDArray[np.float64],
        p: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """Invert a monotone output on ``bracket``, every row at once.

        The Illinois variant of regula falsi (Dowell and Jarratt 1971): a
        secant step inside the bracket, the retained end's residual halved
        when the same end is kept twice; a halving instead where the secant
        step falls outside the bracket or the last step did not halve it (a
        kink inside, as in Brent's method).  A row stops when its residual is
        within 1e-14 of the output's scale over the bracket or the bracket is
        4e-15 of its first width.  Hand-written because scipy's root finders
        take one point at a time; this steps every open row at once with one
        mapped casadi call, over the open rows only once they are fewer than
        half.  Measured (2026-11-21, 20,000 random steelworks operating
        points, a compressor's flow from its power, floor included): 1.2 s
        CPU against 12.7 s for 48 plain halvings of every row, outputs
        matched to 3e-16 relative.  Outside the output's range the nearer end
        of the bracket is returned; on a flat stretch (a floor) any point of it.
        """
        n = y.shape[0]
        fn = self.output_function.map(n)
        xs, us, ds = x.T.copy(), u.T.copy(), d.T.copy()
        target = {"x": xs, "u": us, "d": ds}[self.kind]

        def value(
            z: npt.NDArray[np.float64], rows: npt.NDArray[np.intp] | None = None
        ) -> npt.NDArray[np.float64]:
            """The output at ``z`` (every row, or only ``rows``: the others keep 0)."""
            target[self.index] = z
            if rows is None or rows.size > n // 2:
                return np.asarray(fn(xs, us, ds, p), dtype=np.float64).ravel()
            out = np.zeros(n)
            if rows.size:
                # Fewer open rows than half: a smaller map over them only.
                sub = self.output_function.map(rows.size)
                out[rows] = np.asarray(
                    sub(xs[:, rows], us[:, rows], ds[:, rows], p), dtype=np.float64
                ).ravel()
            return out

        lo = np.full(n, self.bracket[0])
        hi = np.full(n, self.bracket[1])
        f_lo, f_hi = value(lo), value(hi)
        sign = np.where(f_hi >= f_lo, 1.0, -1.0)  # residuals rise from lo to hi
        target_y = np.where(np.isfinite(y), y, 0.5 * (f_lo + f_hi))
        r_lo, r_hi = sign * (f_lo - target_y), sign * (f_hi - target_y)
        # Outside the range: the nearer end, fixed.
        below, above = r_lo >= 0.0, r_hi <= 0.0
        hi = np.where(below, lo, hi)
        lo = np.where(above, hi, lo)
        r_lo = np.where(below | above, 0.0, r_lo)
        r_hi = np.where(below | above, 0.0, r_hi)
        tol = 4e-15 * max(abs(self.bracket[1] - self.bracket[0]), 1e-300)
        ytol = 1e-14 * np.maximum(np.abs(f_lo), np.abs(f_hi))
        kept = np.zeros(n, dtype=np.int8)  # +1: lo kept last step, -1: hi kept
        halve = np.zeros(n, dtype=bool)
        for _ in range(200):
            open_ = (hi - lo > tol) & (r_lo < 0.0) & (r_hi > 0.0)
            if not open_.any():
                break
            denom = r_hi - r_lo
            with np.errstate(divide="ignore", invalid="ignore"):
                z = lo - r_lo * (hi - lo) / denom
            bad = ~np.isfinite(z) | (z <= lo) | (z >= hi) | halve
            z = np.where(bad, 0.5 * (lo + hi), z)
            width = hi - lo
            z = np.where(open_, z, lo)
            r = sign * (value(z, np.flatnonzero(open_)) - target_y)
            up = open_ & (r > 0.0)  # root below z: z is the new hi
            down = open_ & (r < 0.0)
            # Stop at a residual within round-off of the output's scale.
            hit = open_ & (np.abs(r) <= ytol)
            hi = np.where(up | hit, z, hi)
            lo = np.where(down | hit, z, lo)
            r_hi = np.where(up, r, np.where(hit, 0.0, r_hi))
            r_lo = np.where(down, r, np.where(hit, 0.0, r_lo))
            # Illinois: the end kept twice in a row has its residual halved.
            r_lo = np.where(up & (kept == 1), 0.5 * r_lo, r_lo)
            r_hi = np.where(down & (kept == -1), 0.5 * r_hi, r_hi)
            kept = np.where(up, 1, np.where(down, -1, kept)).astype(np.int8)
            # A step that did not halve the bracket (a kink inside it) is
            # followed by a halving, as in Brent's method.
            halve = (hi - lo) > 0.5 * width
        out = np.where(r_lo == 0.0, lo, np.where(r_hi == 0.0, hi, 0.5 * (lo + hi)))
        return np.where(np.isfinite(y), out, np.nan)


def _unit_of(name: str) -> str:
    return name.split(".", 1)[0]


_SYMBOLS: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def _symbols(built: BuiltPlant) -> tuple[Any, ...]:
    """Symbols ``x, u, d, p`` and the symbolic outputs of a plant, built once per model."""
    import casadi as ca

    from plant_models.core.equations import to_casadi

    model = built.model
    cached = _SYMBOLS.get(model)
    if cached is None:
        sizes = model.sizes
        x, u, d, p = (ca.SX.sym(k, sizes[k]) for k in ("x", "u", "d", "p"))
        cached = (x, u, d, p, to_casadi(model).g(x, u, d, p))
        _SYMBOLS[model] = cached
    return cached


def find_readback(
    built: BuiltPlant,
    kind: str,
    index: int,
    outputs: Collection[str],
    *,
    exclude_inputs: Collection[int] = (),
    exclude_disturbances: Collection[int] = (),
) -> Readback | None:
    """Find an output of the variable's unit that depends on it (affinely if possible).

    An output that is not affine in the variable is used only when the
    variable has a finite envelope (inverted by bisection; it must be
    monotone in the variable there, as a power is in a flow).  A disturbance
    (a motor load nobody meters alone) may also be read from a balance of a
    node its unit is connected to (the bus's metered ``el_bus.demand``): a
    real plant meters the feeder, and the balance pins the one load not
    modelled by a known input.

    Parameters
    ----------
    built : BuiltPlant
        The plant.
    kind : {"x", "u", "d"}
        Whether the variable is a state, an input or a disturbance.
    index : int
        Its position in its vector.
    outputs : collection of str
        Output names available (measured).
    exclude_inputs : collection of int
        Inputs that are themselves unknown: an output depending on any of
        them (besides the target) cannot be used.
    exclude_disturbances : collection of int
        Disturbances that are themselves unknown, likewise.

    Returns
    -------
    Readback or None
        The first usable output in model order, or None.
    """
    import casadi as ca

    model = built.model
    variables = model.variables(kind)
    name = variables[index].name
    unit = _unit_of(name)
    owners = {unit}
    spec = built.project.units.get(unit)
    if kind == "d" and spec is not None:
        owners.update(n for port in spec.connections for n in spec.nodes(port))
    x, u, d, p, y = _symbols(built)
    target = {"x": x, "u": u, "d": d}[kind][index]
    others = [u[i] for i in exclude_inputs if not (kind == "u" and i == index)]
    others += [d[i] for i in exclude_disturbances if not (kind == "d" and i == index)]
    for k, var in enumerate(model.outputs):
        if var.name not in outputs or _unit_of(var.name) not in owners or var.name == name:
            continue
        expr = y[k]
        if not ca.depends_on(expr, target):
            continue
        if any(ca.depends_on(expr, o) for o in others):
            continue
        slope = ca.jacobian(expr, target)
        if ca.depends_on(slope, target):
            low, high = variables[index].low, variables[index].high
            if not (np.isfinite(low) and np.isfinite(high)):
                continue
            fn = ca.Function(f"output_{kind}{index}", [x, u, d, p], [expr])
            return Readback(kind, index, var.name, k, None, fn, (float(low), float(high)))
        offset = ca.substitute(expr, target, ca.SX(0.0))
        fn = ca.Function(f"readback_{kind}{index}", [x, u, d, p], [offset, slope])
        return Readback(kind, index, var.name, k, fn)
    return None


class StateReader:
    """The full state from measured outputs: same-name outputs, else affine read-backs.

    Parameters
    ----------
    built : BuiltPlant
        The plant.
    parameters : array_like, shape (np,)
        Parameters the read-backs use (the model the state is for). [SI]
    outputs : collection of str, optional
        Outputs available; default every output of the model.
    strict : bool
        Raise for a state that cannot be read; else it is left mid-envelope
        and listed in :attr:`unread`.

    Attributes
    ----------
    unread : tuple of str
        States that cannot be read (``strict=False``).
    outputs_used : tuple of str
        Outputs the states are read from.

    Raises
    ------
    ModelError
        If ``strict`` and a state is neither an available output nor readable
        from one (the message names the state).
    """

    def __init__(
        self,
        built: BuiltPlant,
        parameters: npt.ArrayLike,
        outputs: Collection[str] | None = None,
        *,
        strict: bool = True,
    ) -> None:
        model = built.model
        names = [v.name for v in model.outputs]
        available = set(names if outputs is None else outputs)
        self._p = np.asarray(parameters, dtype=np.float64)
        self._direct: list[tuple[int, int]] = []
        self._readbacks: list[Readback] = []
        unread: list[str] = []
        for i, var in enumerate(model.states):
            if var.name in available:
                self._direct.append((i, names.index(var.name)))
                continue
            rb = find_readback(built, "x", i, available)
            if rb is None and not strict:
                unread.append(var.name)
                continue
            if rb is None:
                raise ModelError(
                    f"replay: state {var.name} is neither measured nor readable from a measured "
                    f"output of unit {_unit_of(var.name)}"
                )
            self._readbacks.append(rb)
        self.unread = tuple(unread)
        self.state_names = tuple(v.name for v in model.states)
        low, high = model.bounds("x")
        self.bounds = (low, high)
        self.x_ref = np.where(np.isfinite(low + high), 0.5 * (low + high), 0.0)
        self.outputs_used: tuple[str, ...] = tuple(names[k] for _, k in self._direct) + tuple(
            rb.output for rb in self._readbacks
        )

    def states(
        self,
        y: npt.NDArray[np.float64],
        u: npt.NDArray[np.float64],
        d: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """Return the states for rows of outputs, inputs and disturbances.

        Parameters
        ----------
        y : numpy.ndarray, shape (n, ny)
            Outputs (only the used ones need be finite). [SI]
        u, d : numpy.ndarray, shapes (n, nu), (n, nd)
            Inputs and disturbances. [SI]

        Returns
        -------
        numpy.ndarray, shape (n, nx)
            States. [SI]
        """
        n = y.shape[0]
        x = np.tile(self.x_ref, (n, 1))
        for i, k in self._direct:
            x[:, i] = y[:, k]
        for rb in self._readbacks:
            x[:, rb.index] = rb.invert(y[:, rb.output_index], x, u, d, self._p)
        return x


class OutputStateBuilder:
    """Closed-loop measurement builder: the state read off the measured outputs.

    The generic form of :class:`energyopt.closedloop.steelworks.StateFromOutputs`
    for any plant (see :class:`StateReader`), with the controller's nominal
    parameters.

    Parameters
    ----------
    reader : StateReader
        The state reader over every model output.
    """

    def __init__(self, reader: StateReader) -> None:
        self._reader = reader

    def reset(self, u0: npt.NDArray[np.float64], x0: npt.NDArray[np.float64]) -> None:
        """Nothing to forget."""

    def build(
        self,
        t_s: float,
        y_meas: npt.NDArray[np.float64],
        u_applied: npt.NDArray[np.float64],
        d_now: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return the state estimate and its finiteness."""
        x = self._reader.states(y_meas[None, :], u_applied[None, :], d_now[None, :])[0]
        return x, np.isfinite(x)


def read_back_loads(
    built: BuiltPlant,
    nominal: tuple[int, ...],
    sensed: set[str],
    spent: set[str],
    y: npt.NDArray[np.float64],
    x_rows: npt.NDArray[np.float64],
    u: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    p: npt.NDArray[np.float64],
    notes: list[str],
) -> None:
    """Read nominal disturbances back from a measured balance, in place in ``d``.

    A load nobody meters alone (the chemical plant's motors) is otherwise held
    at its nominal value while the bus it draws from is metered: the bus
    balance, with every other term known (read or held as the simulation
    holds it), pins it (:func:`energyopt.replay.readback.find_readback`).  The
    unknown loads are the nominal disturbances of units with no measured
    output of their own; a balance with two of them pins neither; an output already spent on
    an input's read-back is not used again.  Clipped to the model's envelope.
    """
    model = built.model
    d_low, d_high = model.bounds("d")
    # The unknown loads: nominal disturbances of units with no tag of their
    # own (a pump whose flow is metered has its head held, not unknown).
    metered = {name.split(".", 1)[0] for name in sensed}
    unknown = [j for j in nominal if model.disturbances[j].name.split(".", 1)[0] not in metered]
    used = set(spent)
    for j in unknown:
        others = [i for i in unknown if i != j]
        rb = find_readback(built, "d", j, sensed - used, exclude_disturbances=others)
        if rb is None:
            continue
        used.add(rb.output)
        measured = y[:, rb.output_index]
        value = rb.invert(measured, x_rows, u, d, p)
        # Steps without the measurement keep the nominal value.
        d[:, j] = np.where(np.isfinite(value), np.clip(value, d_low[j], d_high[j]), d[:, j])
        notes.append(f"disturbance {model.disturbances[j].name} read back from {rb.output}")
