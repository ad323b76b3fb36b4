"""The math name set of equation functions and its three bindings.

Equation functions (see :mod:`plant_models.core.equations`) may call only the
names in :data:`MATH_NAMES` (plus arithmetic, ``**``, indexing, ``range``,
``len``, ``float``, ``int``, numeric module constants and other functions
marked with :func:`~plant_models.core.equations.equation`).  Import them from
here, by name::

    from plant_models.core.mathfuncs import exp, fmax, sqrt, zeros

The module-level objects here are the *plain* binding (numpy), so an equation
function can also be called directly with floats or numpy arrays.  The casadi
and numba bindings are built on demand by :func:`casadi_namespace` and
:func:`numba_namespace`; importing this module imports neither library.

Names
-----
exp, log, sqrt, tanh, sin, cos, fabs
    Elementary functions of one scalar.
fmin, fmax
    Minimum / maximum of two scalars (use these, never ``min``/``max``:
    Python's ``min`` cannot compare casadi symbols).
zeros(n)
    A new vector of ``n`` zeros to fill by index and return.  In the casadi
    binding it is an ``SX`` (or ``MX``) column, in numba a float64 array.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "MATH_NAMES",
    "casadi_namespace",
    "cos",
    "exp",
    "fabs",
    "fmax",
    "fmin",
    "log",
    "numba_namespace",
    "sin",
    "sqrt",
    "tanh",
    "zeros",
]

#: Every math name an equation function may use, in one place.
MATH_NAMES: tuple[str, ...] = (
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sin",
    "cos",
    "fabs",
    "fmin",
    "fmax",
    "zeros",
)

# Plain binding: numpy ufuncs accept floats and arrays alike.
exp = np.exp
log = np.log
sqrt = np.sqrt
tanh = np.tanh
sin = np.sin
cos = np.cos
fabs = np.fabs
fmin = np.fmin
fmax = np.fmax


def zeros(n: int) -> np.ndarray:
    """Return a float64 vector of ``n`` zeros (plain binding)."""
    return np.zeros(n)


def casadi_namespace(symbol_type: str = "SX") -> dict[str, Any]:
    """Return the casadi binding of :data:`MATH_NAMES`.

    Parameters
    ----------
    symbol_type : {"SX", "MX"}
        Symbol class the equation is evaluated with; ``zeros`` builds a
        column of that class so that elements can be assigned.
    """
    import casadi

    sym_class: Any = {"SX": casadi.SX, "MX": casadi.MX}[symbol_type]

    def cas_zeros(n: int) -> Any:
        return sym_class.zeros(n, 1)

    return {
        "exp": casadi.exp,
        "log": casadi.log,
        "sqrt": casadi.sqrt,
        "tanh": casadi.tanh,
        "sin": casadi.sin,
        "cos": casadi.cos,
        "fabs": casadi.fabs,
        "fmin": casadi.fmin,
        "fmax": casadi.fmax,
        "zeros": cas_zeros,
    }


def _fmin_scalar(a: float, b: float) -> float:
    # Hand-written for numba because Python's math module has no fmin/fmax;
    # the comparison compiles to one select instruction.
    return a if a < b else b


def _fmax_scalar(a: float, b: float) -> float:
    return a if a > b else b


_NUMBA_NAMESPACE: dict[str, Any] = {}


def numba_namespace() -> dict[str, Any]:
    """Return the numba binding of :data:`MATH_NAMES` (``math`` functions and small kernels)."""
    if not _NUMBA_NAMESPACE:
        import numba

        functions: dict[str, Callable[..., Any]] = {
            "exp": math.exp,
            "log": math.log,
            "sqrt": math.sqrt,
            "tanh": math.tanh,
            "sin": math.sin,
            "cos": math.cos,
            "fabs": math.fabs,
            "fmin": numba.njit(cache=True)(_fmin_scalar),
            "fmax": numba.njit(cache=True)(_fmax_scalar),
            "zeros": np.zeros,
        }
        _NUMBA_NAMESPACE.update(functions)
    return _NUMBA_NAMESPACE
