"""Equations written once: the convention every model follows, and its two compilers.

The convention (stable: data-driven and hybrid parts follow it too)
--------------------------------------------------------------------
1. A model is two plain Python functions with the argument order
   ``(x, u, d, p)`` -- states, manipulated inputs, disturbances, parameters,
   each a 1-D vector (a *continuous-time* model's ``f`` returns derivatives;
   a *discrete-time* model, :attr:`EquationModel.dt_s` set, returns the
   state one sample later)::

       @equation
       def f(x, u, d, p):          # state derivatives, SI units per second
           dxdt = zeros(2)
           dxdt[0] = u[0] - p[0] * x[0]
           dxdt[1] = exp(-p[1] / x[1]) * x[0]
           return dxdt

       @equation
       def g(x, u, d, p):          # algebraic outputs (port flows, power, ...)
           y = zeros(1)
           y[0] = p[2] * x[0]
           return y

   A static (algebraic-only) model has no states: ``f`` returns ``zeros(0)``.
   Every vector argument is always passed, possibly of length 0.
2. The body uses only: arithmetic (``+ - * / **``, unary minus), indexing
   and slicing of the arguments, ``zeros(n)`` filled element by element and
   returned, ``for`` loops over ``range``, ``len``/``x.shape[0]``, the math
   names of :data:`plant_models.core.mathfuncs.MATH_NAMES` (``exp``, ``log``,
   ``sqrt``, ``tanh``, ``sin``, ``cos``, ``fabs``, ``fmin``, ``fmax``,
   ``zeros``) imported *by name* from :mod:`plant_models.core.mathfuncs`,
   numeric module constants (int, float, tuples of them, float arrays), and
   other functions decorated with :func:`equation` (helpers such as
   :mod:`plant_models.core.smooth`; they are compiled along).
3. No ``if`` on values, ``min``/``max``/``abs``, numpy calls, attribute
   access other than ``.shape``, or Python objects: piecewise behaviour is
   written with ``fmin``/``fmax`` or the smooth forms in
   :mod:`plant_models.core.smooth`.  ``if`` on *structural* integers (loop
   indices, vector lengths) is fine.
4. Parameters come in ``p`` in the order of :attr:`EquationModel.parameters`;
   :meth:`EquationModel.pack_parameters` builds ``p`` from the unit's
   :class:`~plant_models.parameters.UnitParams` by field name.
5. Names and SI units of every entry of ``x``, ``u``, ``d``, ``y`` and ``p``
   are declared as :class:`Variable` tuples in an :class:`EquationModel`;
   their ``low``/``high`` are the operating envelope in which the model is
   valid (used for the casadi/numba agreement tests and for scaling).

The same function source is then
- rebound to casadi (:func:`to_casadi`): the math names become casadi
  functions, the function is called with ``SX``/``MX`` symbols and wrapped in
  ``casadi.Function`` objects with inputs named ``x, u, d, p``;
- compiled to numba (:func:`to_numba`): straight-line kernels printed from
  the casadi graph of that evaluation (:mod:`plant_models.core.codegen`),
  cached on disk; or, with ``backend="rebind"``, the function object rebuilt
  with ``types.FunctionType(code, new_globals, ...)`` whose math names are
  ``math`` functions and compiled by ``numba.njit`` (:func:`numba_kernel`).

Caveat of numba's on-disk cache for the rebind path: it is invalidated by
edits of the file defining a function, not of helpers defined in other
files.  Delete ``__pycache__/*.nbi`` after editing a helper module during
development.  Generated kernels are named by the hash of their text, so they
are never stale.
"""

from __future__ import annotations

import builtins
import math
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from plant_models.core.errors import EquationError
from plant_models.core.mathfuncs import MATH_NAMES, casadi_namespace, numba_namespace
from plant_models.parameters import UnitParams, param_specs

__all__ = [
    "CasadiModel",
    "EquationModel",
    "NumbaModel",
    "Variable",
    "bind_equation",
    "equation",
    "is_equation",
    "numba_kernel",
    "parameter_variables",
    "random_envelope_points",
    "to_casadi",
    "to_numba",
]

_EQUATION_FLAG = "__energyopt_equation__"
#: Builtins an equation may use (structural integers only).
_ALLOWED_BUILTINS = frozenset({"range", "len", "float", "int"})


def equation(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as an equation function (model function or helper) of the convention."""
    setattr(fn, _EQUATION_FLAG, True)
    return fn


def is_equation(obj: object) -> bool:
    """Return whether ``obj`` is a function marked with :func:`equation`."""
    return isinstance(obj, types.FunctionType) and bool(getattr(obj, _EQUATION_FLAG, False))


@dataclass(frozen=True)
class Variable:
    """One named entry of a model vector.

    Attributes
    ----------
    name : str
        Identifier, unique within its vector (``level_m3``, ``flow_fuel_m3_s``);
        composed plants use dotted names (``boiler_1.steam_kg_s``).
    unit : str
        SI unit in pint syntax (``"m^3/s"``, ``"dimensionless"``).
    description : str
        One line for documentation and the GUI.
    low, high : float
        Operating envelope: the range in which the equations are valid.
    """

    name: str
    unit: str
    description: str
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        if not all(part.isidentifier() for part in self.name.split(".")):
            raise EquationError(
                f"variable name {self.name!r} is not an identifier (dotted parts allowed)"
            )
        if not self.low <= self.high:
            raise EquationError(f"variable {self.name}: low {self.low} above high {self.high}")


def parameter_variables(cls: type[UnitParams], names: Sequence[str]) -> tuple[Variable, ...]:
    """Build the parameter :class:`Variable` tuple from a unit's declared fields.

    Parameters
    ----------
    cls : type of UnitParams
        The unit's parameter dataclass.
    names : sequence of str
        Field names, in the order of the ``p`` vector.

    Raises
    ------
    EquationError
        If a name is not a field declared with :func:`~plant_models.parameters.param`.
    """
    specs = {s.name: s for s in param_specs(cls)}
    out = []
    for name in names:
        if name not in specs:
            raise EquationError(f"{cls.__name__} has no parameter field {name!r}")
        s = specs[name]
        out.append(Variable(name, s.unit, s.description, s.low, s.high))
    return tuple(out)


@dataclass(frozen=True)
class EquationModel:
    """A model in the equations-once convention: ``f``, ``g`` and named vectors.

    Attributes
    ----------
    name : str
        Model name (an identifier; names the compiled casadi functions).
    f, g : callable
        ``f(x, u, d, p) -> dx/dt`` and ``g(x, u, d, p) -> y``, decorated with
        :func:`equation`.
    states, inputs, disturbances, outputs, parameters : tuple of Variable
        Names, SI units and envelopes of ``x``, ``u``, ``d``, ``y``, ``p``.
    stiff : bool
        Whether the dynamics are stiff (simulate with an implicit method).
    dt_s : float or None
        ``None``: continuous time, ``f`` returns ``dx/dt``.  A number:
        discrete time, ``f`` returns ``x[k+1]``, the state ``dt_s`` after
        ``x[k]`` (identified models); simulators step it exactly and
        controllers use it as the prediction, never integrating it. [s]
    """

    name: str
    f: Callable[..., Any]
    g: Callable[..., Any]
    states: tuple[Variable, ...]
    inputs: tuple[Variable, ...]
    disturbances: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    parameters: tuple[Variable, ...]
    stiff: bool = False
    dt_s: float | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise EquationError(f"model name {self.name!r} is not an identifier")
        if self.dt_s is not None:
            if isinstance(self.dt_s, bool) or not (
                isinstance(self.dt_s, int | float) and math.isfinite(self.dt_s) and self.dt_s > 0
            ):
                raise EquationError(
                    f"model {self.name}: dt_s must be a positive sample time or None, "
                    f"got {self.dt_s!r}"
                )
            if self.stiff:
                raise EquationError(
                    f"model {self.name}: stiff applies to continuous-time models, not to a "
                    "discrete-time one (dt_s set)"
                )
            object.__setattr__(self, "dt_s", float(self.dt_s))
        for label, fn in (("f", self.f), ("g", self.g)):
            if not is_equation(fn):
                raise EquationError(
                    f"model {self.name}: {label} must be a function decorated with @equation"
                )
        for kind in ("states", "inputs", "disturbances", "outputs", "parameters"):
            names = [v.name for v in getattr(self, kind)]
            if len(set(names)) != len(names):
                dup = sorted({n for n in names if names.count(n) > 1})
                raise EquationError(f"model {self.name}: duplicate {kind} {', '.join(dup)}")

    @property
    def is_discrete(self) -> bool:
        """Whether ``f`` is a discrete step over :attr:`dt_s` (not a derivative)."""
        return self.dt_s is not None

    @property
    def sizes(self) -> dict[str, int]:
        """Lengths of the vectors: keys ``x``, ``u``, ``d``, ``y``, ``p``."""
        return {
            "x": len(self.states),
            "u": len(self.inputs),
            "d": len(self.disturbances),
            "y": len(self.outputs),
            "p": len(self.parameters),
        }

    def variables(self, kind: str) -> tuple[Variable, ...]:
        """Return the variables of vector ``kind`` (``x``, ``u``, ``d``, ``y`` or ``p``)."""
        table = {
            "x": self.states,
            "u": self.inputs,
            "d": self.disturbances,
            "y": self.outputs,
            "p": self.parameters,
        }
        if kind not in table:
            raise EquationError(f"unknown vector kind {kind!r}; use x, u, d, y or p")
        return table[kind]

    def index(self, kind: str, name: str) -> int:
        """Return the position of variable ``name`` in vector ``kind``."""
        for i, v in enumerate(self.variables(kind)):
            if v.name == name:
                return i
        known = ", ".join(v.name for v in self.variables(kind))
        raise EquationError(f"model {self.name}: no {kind} variable {name!r}; known: {known}")

    def bounds(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the envelope ``(low, high)`` arrays of vector ``kind``."""
        vs = self.variables(kind)
        return (
            np.array([v.low for v in vs], dtype=np.float64),
            np.array([v.high for v in vs], dtype=np.float64),
        )

    def pack_parameters(self, params: UnitParams) -> np.ndarray:
        """Return the ``p`` vector of ``params`` in the order of :attr:`parameters`."""
        try:
            return np.array(
                [float(getattr(params, v.name)) for v in self.parameters], dtype=np.float64
            )
        except AttributeError as exc:
            raise EquationError(
                f"model {self.name}: {type(params).__name__} lacks parameter {exc.name!r}"
            ) from None


# ---------------------------------------------------------------- rebinding


def _referenced_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _referenced_names(const)
    return names


def _is_numeric_constant(obj: object) -> bool:
    if isinstance(obj, bool):
        return False
    if isinstance(obj, int | float):
        return True
    if isinstance(obj, tuple):
        return all(_is_numeric_constant(o) for o in obj)
    return isinstance(obj, np.ndarray) and obj.dtype.kind in "fi"


_BOUND: dict[tuple[Callable[..., Any], str], Callable[..., Any]] = {}


def bind_equation(
    fn: Callable[..., Any],
    namespace: dict[str, Any],
    key: str,
    wrap: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
) -> Callable[..., Any]:
    """Rebuild an equation function with its math names taken from ``namespace``.

    Helpers it calls (globals or closure cells that are :func:`equation`
    functions) are rebound recursively; numeric constants are kept; anything
    else raises :class:`EquationError`.

    Parameters
    ----------
    fn : callable
        An :func:`equation` function.
    namespace : dict
        Binding of every name in :data:`~plant_models.core.mathfuncs.MATH_NAMES`.
    key : str
        Name of the binding, for memoisation (``"numba"``, ``"SX"``, ``"MX"``).
    wrap : callable, optional
        Applied to each rebuilt function (``numba.njit``).

    Returns
    -------
    callable
        The rebound (and wrapped) function; memoised per ``(fn, key)``.
    """
    cached = _BOUND.get((fn, key))
    if cached is not None:
        return cached
    if not is_equation(fn):
        raise EquationError(f"{getattr(fn, '__qualname__', fn)!r} is not an @equation function")
    where = f"{fn.__module__}.{fn.__qualname__}"
    new_globals: dict[str, Any] = {
        "__name__": fn.__globals__.get("__name__", fn.__module__),
        "__builtins__": builtins,
    }
    for name in sorted(_referenced_names(fn.__code__)):
        if name in MATH_NAMES:
            new_globals[name] = namespace[name]
        elif name in fn.__globals__:
            obj = fn.__globals__[name]
            if is_equation(obj):
                new_globals[name] = bind_equation(obj, namespace, key, wrap)
            elif _is_numeric_constant(obj):
                new_globals[name] = obj
            else:
                raise EquationError(
                    f"{where} uses global {name!r} ({type(obj).__name__}); equations may use "
                    "only the math names, numeric constants and @equation helpers"
                )
        elif hasattr(builtins, name) and name not in _ALLOWED_BUILTINS:
            raise EquationError(
                f"{where} uses builtin {name!r}; use fmin/fmax/fabs or the smooth helpers"
            )
        # Otherwise the name is an attribute (``shape``) or a local: nothing to bind.
    closure = None
    if fn.__closure__ is not None:
        cells = []
        for var, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
            value = cell.cell_contents
            if is_equation(value):
                value = bind_equation(value, namespace, key, wrap)
            elif not _is_numeric_constant(value):
                raise EquationError(
                    f"{where} closes over {var!r} ({type(value).__name__}); only numeric "
                    "constants and @equation functions are allowed"
                )
            cells.append(types.CellType(value))
        closure = tuple(cells)
    rebuilt = types.FunctionType(fn.__code__, new_globals, fn.__name__, fn.__defaults__, closure)
    rebuilt.__qualname__ = fn.__qualname__
    rebuilt.__module__ = fn.__module__
    result = wrap(rebuilt) if wrap is not None else rebuilt
    _BOUND[fn, key] = result
    return result


def numba_kernel(fn: Callable[..., Any]) -> Any:
    """Return the numba-compiled form of an :func:`equation` function.

    Division by zero yields inf/NaN (``error_model="numpy"``), as in casadi.
    Functions without closure cells use ``cache=True`` (compiled code is kept
    on disk between processes); closures (composed plants) cannot be cached by
    numba and are compiled once per process.
    """
    import numba

    def wrap(rebuilt: Callable[..., Any]) -> Any:
        # error_model="numpy": a division by zero gives inf/NaN as in casadi
        # (and is then reported by the simulator) instead of raising.
        return numba.njit(cache=rebuilt.__closure__ is None, error_model="numpy")(rebuilt)

    return bind_equation(fn, numba_namespace(), "numba", wrap)


@dataclass(frozen=True)
class NumbaModel:
    """Numba-compiled ``f`` and ``g`` of an :class:`EquationModel`."""

    model: EquationModel
    f: Any
    g: Any


@dataclass(frozen=True)
class CasadiModel:
    """Casadi functions of an :class:`EquationModel`.

    Attributes
    ----------
    model : EquationModel
        The source model.
    f : casadi.Function
        Inputs ``x, u, d, p``; output ``dxdt`` (continuous time) or
        ``x_next``, the state :attr:`dt_s` later (discrete time).
    g : casadi.Function
        Inputs ``x, u, d, p``; output ``y``.
    """

    model: EquationModel
    f: Any
    g: Any

    @property
    def dt_s(self) -> float | None:
        """Sample time of a discrete-time model, ``None`` if continuous [s].

        A controller with interval ``h`` builds its prediction as
        ``x[k+1] = f(x[k], ...)`` applied ``h / dt_s`` times for a discrete
        model, and by integrating ``dxdt`` over ``h`` otherwise.
        """
        return self.model.dt_s

    @property
    def state_output(self) -> str:
        """Name of ``f``'s output: ``"x_next"`` (discrete) or ``"dxdt"`` (continuous)."""
        return "dxdt" if self.model.dt_s is None else "x_next"


def to_numba(model: EquationModel, backend: str = "generated") -> NumbaModel:
    """Compile ``model.f`` and ``model.g`` with numba (lazily, on first call).

    Parameters
    ----------
    model : EquationModel
        The model.
    backend : {"generated", "rebind"}
        ``"generated"``: straight-line kernels generated from the casadi graph
        of the source and cached on disk (:mod:`plant_models.core.codegen`;
        what the simulators use).  ``"rebind"``: the Python source itself
        compiled with the math names rebound (:func:`numba_kernel`); an
        independent path for tests, slow to compile for composed plants.
    """
    if backend == "generated":
        from plant_models.core.codegen import compile_model

        kernels = compile_model(model)
        return NumbaModel(model, kernels.f, kernels.g)
    if backend != "rebind":
        raise EquationError(f"backend must be 'generated' or 'rebind', got {backend!r}")
    return NumbaModel(model, numba_kernel(model.f), numba_kernel(model.g))


def _as_column(value: Any, expected: int, what: str, casadi: Any) -> Any:
    if isinstance(value, list | tuple):
        value = casadi.vertcat(*value) if value else casadi.SX.zeros(0, 1)
    if not isinstance(value, casadi.SX | casadi.MX | casadi.DM):
        raise EquationError(f"{what} returned {type(value).__name__}; return zeros(n) filled")
    if value.shape != (expected, 1) and not (expected == 0 and value.numel() == 0):
        raise EquationError(f"{what} returned shape {value.shape}, expected ({expected}, 1)")
    return value


def to_casadi(model: EquationModel, symbol_type: str = "SX") -> CasadiModel:
    """Evaluate the model with casadi symbols and wrap it in ``casadi.Function`` objects.

    Parameters
    ----------
    model : EquationModel
        The model.
    symbol_type : {"SX", "MX"}
        ``SX`` (scalar graph; fastest for small models and code generation)
        or ``MX`` (matrix graph; for embedding in large problems).

    Returns
    -------
    CasadiModel
        ``f`` and ``g``; for a discrete-time model ``f``'s output is named
        ``x_next`` and :attr:`CasadiModel.dt_s` gives the sample time.

    Raises
    ------
    EquationError
        If a function breaks the convention or returns a vector of wrong length.
    """
    import casadi

    if symbol_type not in ("SX", "MX"):
        raise EquationError(f"symbol_type must be 'SX' or 'MX', got {symbol_type!r}")
    ns = casadi_namespace(symbol_type)
    sym = getattr(casadi, symbol_type).sym
    n = model.sizes
    x, u, d, p = (sym(k, n[k]) for k in ("x", "u", "d", "p"))
    f = bind_equation(model.f, ns, symbol_type)
    g = bind_equation(model.g, ns, symbol_type)
    dxdt = _as_column(f(x, u, d, p), n["x"], f"{model.name}.f", casadi)
    y = _as_column(g(x, u, d, p), n["y"], f"{model.name}.g", casadi)
    args = [x, u, d, p]
    names = ["x", "u", "d", "p"]
    state_output = "dxdt" if model.dt_s is None else "x_next"
    return CasadiModel(
        model,
        casadi.Function(f"{model.name}_f", args, [dxdt], names, [state_output]),
        casadi.Function(f"{model.name}_g", args, [y], names, ["y"]),
    )


def random_envelope_points(
    model: EquationModel, n_points: int, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Draw ``(x, u, d)`` uniformly inside the declared envelope of every variable.

    Raises
    ------
    EquationError
        If a state, input or disturbance has an infinite envelope bound.
    """
    rng = np.random.default_rng(seed)
    lows_highs = []
    for kind in ("x", "u", "d"):
        low, high = model.bounds(kind)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            bad = [v.name for v in model.variables(kind) if not math.isfinite(v.high - v.low)]
            raise EquationError(f"model {model.name}: unbounded envelope of {', '.join(bad)}")
        lows_highs.append((low, high))
    return [tuple(rng.uniform(lo, hi) for lo, hi in lows_highs) for _ in range(n_points)]  # type: ignore[misc]
