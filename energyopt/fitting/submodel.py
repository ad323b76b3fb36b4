"""Partial equation error: fit a subset of a model's state equations, the other states measured.

A unit's equations often cannot all be used for calibration: a state whose
balance needs an unmeasured inlet (the reactor's component balances need the
recycle's composition) would bias the fit.  :func:`equation_subset` keeps the
chosen state equations and turns every other state into a *measured*
disturbance: the new model's ``f`` rebuilds the full state vector from its
states and those extra disturbances, calls the unit's own ``f`` unchanged and
returns the kept derivatives, so no equation is written twice and the subset
compiles to casadi and numba like any unit.

A dropped state or a disturbance that no kept equation reads (the reactor's
C and D concentrations and its feed composition in its energy balances)
need not be measured: :func:`unused_signals` finds them from the
structure of the casadi Jacobian, and their columns may hold any finite value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from energyopt.errors import ModelError
from plant_models.core.equations import EquationModel, Variable, equation, to_casadi
from plant_models.core.mathfuncs import zeros

__all__ = ["equation_subset", "unused_signals"]


@functools.cache
def _compose(
    unit_f: Callable[..., Any],
    unit_g: Callable[..., Any],
    n_x: int,
    n_d: int,
    keep: tuple[int, ...],
    moved: tuple[int, ...],
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Build the subset's ``f`` and ``g`` (memoised per structure: numba compiles once)."""
    keep_idx = np.array(keep, dtype=np.int64)
    moved_idx = np.array(moved, dtype=np.int64)
    n_keep = len(keep)
    n_moved = len(moved)

    @equation
    def full_state(x: Any, d: Any) -> Any:
        xf = zeros(n_x)
        for i in range(n_keep):
            xf[int(keep_idx[i])] = x[i]
        for i in range(n_moved):
            xf[int(moved_idx[i])] = d[n_d + i]
        return xf

    @equation
    def unit_disturbances(d: Any) -> Any:
        du = zeros(n_d)
        for i in range(n_d):
            du[i] = d[i]
        return du

    @equation
    def subset_f(x: Any, u: Any, d: Any, p: Any) -> Any:
        rates = unit_f(full_state(x, d), u, unit_disturbances(d), p)
        out = zeros(n_keep)
        for i in range(n_keep):
            out[i] = rates[int(keep_idx[i])]
        return out

    @equation
    def subset_g(x: Any, u: Any, d: Any, p: Any) -> Any:
        return unit_g(full_state(x, d), u, unit_disturbances(d), p)

    return subset_f, subset_g


def equation_subset(model: EquationModel, states: Sequence[str]) -> EquationModel:
    """Return the model of the chosen state equations, the other states as disturbances.

    Parameters
    ----------
    model : EquationModel
        A continuous-time unit model.
    states : sequence of str
        States whose equations are kept (fitted); at least one.

    Returns
    -------
    EquationModel
        States: ``states`` in the given order; inputs, outputs and parameters
        unchanged; disturbances: the unit's, then every other state under its
        own name (a measured signal). [SI]

    Raises
    ------
    ModelError
        For an unknown or repeated state name, or a discrete-time model.
    """
    if model.dt_s is not None:
        raise ModelError(f"model {model.name} is discrete-time: no equation subset")
    names = [v.name for v in model.states]
    wanted = list(states)
    if not wanted:
        raise ModelError(f"model {model.name}: choose at least one state equation to fit")
    unknown = [s for s in wanted if s not in names]
    if unknown or len(set(wanted)) != len(wanted):
        raise ModelError(
            f"model {model.name}: state(s) {', '.join(unknown or wanted)} unknown or repeated; "
            f"states: {', '.join(names)}"
        )
    keep = tuple(names.index(s) for s in wanted)
    moved = tuple(i for i in range(len(names)) if i not in keep)
    if not moved:
        return model
    f, g = _compose(model.f, model.g, len(names), len(model.disturbances), keep, moved)
    moved_vars = tuple(
        Variable(v.name, v.unit, f"{v.description} (measured)", v.low, v.high)
        for v in (model.states[i] for i in moved)
    )
    return EquationModel(
        name=f"{model.name}_subset",
        f=f,
        g=g,
        states=tuple(model.states[i] for i in keep),
        inputs=model.inputs,
        disturbances=model.disturbances + moved_vars,
        outputs=model.outputs,
        parameters=model.parameters,
        stiff=model.stiff,
    )


def unused_signals(model: EquationModel, outputs: Sequence[str] = ()) -> tuple[str, ...]:
    """Names of the inputs and disturbances that neither ``f`` nor the given outputs read.

    Parameters
    ----------
    model : EquationModel
        A model, typically an :func:`equation_subset`.
    outputs : sequence of str
        Outputs that will be compared with measurements.

    Returns
    -------
    tuple of str
        Inputs and disturbances whose column has a structurally zero Jacobian
        in ``f`` and in the listed outputs of ``g``: they need no measurement
        (the reactor's feed concentrations in its energy balances).
    """
    import casadi

    cas = to_casadi(model)
    sym = casadi.SX.sym
    n = model.sizes
    x, u, d, p = sym("x", n["x"]), sym("u", n["u"]), sym("d", n["d"]), sym("p", n["p"])
    rows = [cas.f(x, u, d, p)]
    if outputs:
        y = cas.g(x, u, d, p)
        rows.append(casadi.vertcat(*[y[model.index("y", name)] for name in outputs]))
    rows_all = casadi.vertcat(*rows)
    unused: list[str] = []
    for symbol, variables in ((u, model.inputs), (d, model.disturbances)):
        used = set(casadi.jacobian(rows_all, symbol).sparsity().get_col())
        unused.extend(v.name for k, v in enumerate(variables) if k not in used)
    return tuple(unused)
