"""Numba kernels generated from a model's casadi graph: straight-line, cached on disk.

Why
---
Rebinding an equation function's math names to numba (:func:`~plant_models.
core.equations.numba_kernel`) compiles the Python source as written: a
composed plant is then a tree of closures that allocates small arrays in every
unit call, evaluates all outputs ``g`` inside ``f`` and cannot be cached by
numba (about 10 us per ``f`` and 15-20 s of compilation in every process for
the reference plants).  The casadi graph of the *same* source has none of
this: it is the flat list of scalar operations the equations perform, ``f``
holds only what the derivatives need, and the derivatives of ``f`` are exact.

What
----
:func:`generate_source` walks the algorithm of the SX functions ``f``, ``g``
and ``df/dx`` (``casadi.Function.instruction_*``; common subexpressions shared
by :func:`casadi.cse`) and prints each as a numba function writing into an
output array (``f_into(x, u, d, p, out)``; no allocation), ``f`` once more
split into the operations on ``u``, ``d`` and ``p`` alone (``f_const_into``,
evaluated once per held input interval) and the rest (``f_state_into``,
in every stage: identical results, on the steelworks plant 94 of the 311
operations), followed by the integrators of :mod:`plant_models.core.kernels`.
:func:`compile_model` writes that module to the kernel cache folder
(:func:`kernel_cache_dir`) under a name
holding the SHA-256 of its text, imports it with :mod:`importlib` and returns
its functions, all ``numba.njit(cache=True)``: the second process loads the
compiled code from numba's cache instead of compiling.  An edit of a model or
of the integrators changes the text, hence the file name, so a stale cache is
never used.  No ``exec``/``eval``: the module is an ordinary imported file.

The equations are still written once, in Python; casadi only traces them.
The agreement tests compare these kernels with the casadi functions and with
the plain (numpy) evaluation of the Python source.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from plant_models.core.equations import EquationModel, to_casadi
from plant_models.core.errors import EquationError

__all__ = [
    "KERNEL_DIR_ENV",
    "GeneratedKernels",
    "compile_model",
    "generate_source",
    "kernel_cache_dir",
]

#: Environment variable naming the folder of generated kernel modules.
KERNEL_DIR_ENV = "ENERGYOPT_KERNEL_DIR"

# Python expression of each scalar casadi operation; {0}, {1}: operand names.
# Semantics follow casadi's scalar evaluation (casadi/core/calculus.hpp):
# comparisons give 1.0/0.0, if_else_zero(c, y) is 0 where c == 0, sign(0) = 0.
_OPS: dict[str, str] = {
    "OP_ASSIGN": "{0}",
    "OP_ADD": "{0} + {1}",
    "OP_SUB": "{0} - {1}",
    "OP_MUL": "{0} * {1}",
    "OP_DIV": "{0} / {1}",
    "OP_NEG": "-{0}",
    "OP_EXP": "math.exp({0})",
    "OP_LOG": "math.log({0})",
    "OP_POW": "{0} ** {1}",
    "OP_CONSTPOW": "{0} ** {1}",
    "OP_SQRT": "math.sqrt({0})",
    "OP_SQ": "{0} * {0}",
    "OP_TWICE": "{0} + {0}",
    "OP_SIN": "math.sin({0})",
    "OP_COS": "math.cos({0})",
    "OP_TAN": "math.tan({0})",
    "OP_ASIN": "math.asin({0})",
    "OP_ACOS": "math.acos({0})",
    "OP_ATAN": "math.atan({0})",
    "OP_LT": "1.0 if {0} < {1} else 0.0",
    "OP_LE": "1.0 if {0} <= {1} else 0.0",
    "OP_EQ": "1.0 if {0} == {1} else 0.0",
    "OP_NE": "1.0 if {0} != {1} else 0.0",
    "OP_NOT": "1.0 if {0} == 0.0 else 0.0",
    "OP_AND": "1.0 if ({0} != 0.0 and {1} != 0.0) else 0.0",
    "OP_OR": "1.0 if ({0} != 0.0 or {1} != 0.0) else 0.0",
    "OP_FLOOR": "np.floor({0})",
    "OP_CEIL": "np.ceil({0})",
    "OP_FMOD": "math.fmod({0}, {1})",
    "OP_FABS": "math.fabs({0})",
    "OP_SIGN": "-1.0 if {0} < 0.0 else (1.0 if {0} > 0.0 else {0})",
    "OP_COPYSIGN": "math.copysign({0}, {1})",
    "OP_IF_ELSE_ZERO": "0.0 if {0} == 0.0 else {1}",
    "OP_ERF": "math.erf({0})",
    "OP_FMIN": "np.fmin({0}, {1})",
    "OP_FMAX": "np.fmax({0}, {1})",
    "OP_INV": "1.0 / {0}",
    "OP_SINH": "math.sinh({0})",
    "OP_COSH": "math.cosh({0})",
    "OP_TANH": "math.tanh({0})",
    "OP_ASINH": "math.asinh({0})",
    "OP_ACOSH": "math.acosh({0})",
    "OP_ATANH": "math.atanh({0})",
    "OP_ATAN2": "math.atan2({0}, {1})",
    "OP_LOG1P": "math.log1p({0})",
    "OP_EXPM1": "math.expm1({0})",
    "OP_HYPOT": "math.hypot({0}, {1})",
}

_ARG_NAMES = ("x", "u", "d", "p")
_DECORATOR = '@numba.njit(cache=True, error_model="numpy")'


def _constant(value: float) -> str:
    if math.isnan(value):
        return "math.nan"
    if math.isinf(value):
        return "math.inf" if value > 0 else "-math.inf"
    return repr(float(value))  # shortest repr: round-trips exactly


def _emit(fun: Any, name: str, matrix: bool, casadi: Any) -> list[str]:
    """Return the lines of ``def name(x, u, d, p, out)`` evaluating SX function ``fun``."""
    expr_of = {getattr(casadi, op): text for op, text in _OPS.items()}
    op_input, op_output, op_const = casadi.OP_INPUT, casadi.OP_OUTPUT, casadi.OP_CONST
    sparsity = fun.sparsity_out(0)
    rows, cols = sparsity.get_triplet()
    if matrix:
        targets = [f"out[{r}, {c}]" for r, c in zip(rows, cols, strict=True)]
    else:
        targets = [f"out[{r}]" for r in rows]
    lines = [_DECORATOR, f"def {name}(x, u, d, p, out):  # pragma: no cover"]
    if sparsity.nnz() < sparsity.numel():
        lines.append("    out[:] = 0.0" if not matrix else "    out[:, :] = 0.0")
    for k in range(fun.n_instructions()):
        op = fun.instruction_id(k)
        if op == op_output:
            lines.append(
                f"    {targets[fun.instruction_output(k)[1]]} = w{fun.instruction_input(k)[0]}"
            )
            continue
        operands = [] if op in (op_input, op_const) else fun.instruction_input(k)
        text = _expression(fun, k, [f"w{i}" for i in operands], expr_of, casadi)
        lines.append(f"    w{fun.instruction_output(k)[0]} = {text}")
    lines.append("    return None")
    return lines


def _expression(fun: Any, k: int, operands: list[str], expr_of: dict[int, str], casadi: Any) -> str:
    """Right-hand side of instruction ``k`` (not an output); ``operands``: its operands' names."""
    op = fun.instruction_id(k)
    if op == casadi.OP_INPUT:
        which, nz = fun.instruction_input(k)
        return f"{_ARG_NAMES[which]}[{nz}]"
    if op == casadi.OP_CONST:
        return _constant(fun.instruction_constant(k))
    if op in expr_of:
        return expr_of[op].format(*operands)
    names = [n for n in dir(casadi) if n.startswith("OP_") and getattr(casadi, n) == op]
    raise EquationError(
        f"function {fun.name()}: casadi operation {names or op} has no numba form yet; "
        "add it to plant_models.core.codegen._OPS"
    )


def _emit_split(fun: Any, casadi: Any) -> tuple[int, list[str], list[str]]:
    """Split the vector SX function ``fun(x, u, d, p)`` into a state-free and a state part.

    Returns ``(n_c, const_lines, state_lines)``: ``f_const_into(u, d, p, c)``
    evaluates, once per input interval, every instruction that does not
    depend on ``x`` and stores the ``n_c`` values the rest reads in ``c``;
    ``f_state_into(x, c, out)`` evaluates the instructions that depend on
    ``x``.  Both run the instructions of :func:`_emit`'s ``f_into`` in the
    same order on the same operands, so ``f_state_into`` after
    ``f_const_into`` gives ``f_into``'s result bit for bit; the integrators
    call it in every stage while the inputs are held, and skip the work on
    ``u``, ``d`` and ``p`` alone (two thirds of a composed plant's ``f``).
    """
    expr_of = {getattr(casadi, op): text for op, text in _OPS.items()}
    op_input, op_output, op_const = casadi.OP_INPUT, casadi.OP_OUTPUT, casadi.OP_CONST
    n_instr = fun.n_instructions()
    ops = [fun.instruction_id(k) for k in range(n_instr)]
    # Pass 1: which instructions depend on x, and which state-free values
    # (other than constants, re-emitted inline) the state part reads.
    on_x = [False] * n_instr
    slot_def: dict[int, int] = {}  # work slot -> instruction holding its current value
    operands: list[list[int]] = [[] for _ in range(n_instr)]
    needed: dict[int, int] = {}  # state-free instruction -> its index in c
    for k, op in enumerate(ops):
        if op == op_input:
            on_x[k] = fun.instruction_input(k)[0] == 0
        elif op != op_const:
            operands[k] = [slot_def[s] for s in fun.instruction_input(k)]
            on_x[k] = op != op_output and any(on_x[j] for j in operands[k])
            if on_x[k] or op == op_output:
                for j in operands[k]:
                    if not on_x[j] and ops[j] != op_const:
                        needed.setdefault(j, len(needed))
        if op != op_output:
            slot_def[fun.instruction_output(k)[0]] = k
    sparsity = fun.sparsity_out(0)
    rows = sparsity.get_triplet()[0]
    const_lines = [_DECORATOR, "def f_const_into(u, d, p, c):  # pragma: no cover"]
    state_lines = [_DECORATOR, "def f_state_into(x, c, out):  # pragma: no cover"]
    if sparsity.nnz() < sparsity.numel():
        state_lines.append("    out[:] = 0.0")
    # Pass 2: emit.  A state-free value is read from c by the state part,
    # under its instruction's index (its work slot may be reused since).
    slot_of = {k: fun.instruction_output(k)[0] for k in range(n_instr) if ops[k] != op_output}

    def state_operand(j: int) -> str:
        return f"c[{needed[j]}]" if j in needed else f"w{slot_of[j]}"

    for k, op in enumerate(ops):
        if op == op_output:
            target = f"out[{rows[fun.instruction_output(k)[1]]}]"
            state_lines.append(f"    {target} = {state_operand(operands[k][0])}")
            continue
        slot = slot_of[k]
        if on_x[k]:
            names = [state_operand(j) for j in operands[k]]
            state_lines.append(f"    w{slot} = {_expression(fun, k, names, expr_of, casadi)}")
            continue
        names = [f"w{slot_of[j]}" for j in operands[k]]
        const_lines.append(f"    w{slot} = {_expression(fun, k, names, expr_of, casadi)}")
        if op == op_const:
            state_lines.append(f"    w{slot} = {_constant(fun.instruction_constant(k))}")
        if k in needed:
            const_lines.append(f"    c[{needed[k]}] = w{slot}")
    const_lines.append("    return None")
    state_lines.append("    return None")
    return len(needed), const_lines, state_lines


def _template_body() -> str:
    from plant_models.core.kernels import TEMPLATE_MARKER

    text = importlib.resources.files("plant_models.core").joinpath("kernels.py").read_text("utf-8")
    start = text.index(TEMPLATE_MARKER)
    return text[text.index("\n", start + len(TEMPLATE_MARKER)) + 1 :]


def generate_source(model: EquationModel) -> str:
    """Return the Python source of the generated kernel module of ``model``.

    Parameters
    ----------
    model : EquationModel
        Any model of the convention (unit, composed plant, discrete-time).

    Returns
    -------
    str
        Module text: ``N_X``, ``N_Y``, ``f_into``, ``g_into``, ``jac_into``
        (straight-line code of the casadi graph), ``f`` split into its
        state-free part ``f_const_into(u, d, p, c)`` (``N_C`` values) and
        ``f_state_into(x, c, out)``, and the integrators of
        :mod:`plant_models.core.kernels`.

    Raises
    ------
    EquationError
        If the model breaks the convention or uses an operation without a
        numba form.
    """
    import casadi

    cas = to_casadi(model, "SX")
    n = model.sizes
    args = [casadi.SX.sym(k, n[k]) for k in _ARG_NAMES]
    dxdt = cas.f(*args)
    y = cas.g(*args)
    # Straight-line code shares common subexpressions (the composed plants
    # evaluate several units' equations more than once while tracing).
    jac = casadi.cse(casadi.jacobian(dxdt, args[0]))
    dxdt, y = casadi.cse(dxdt), casadi.cse(y)
    lines = [
        f'"""Numba kernels of model {model.name}: generated by plant_models.core.codegen."""',
        "",
        "# Generated file: do not edit (its name is the hash of its text).",
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "",
        f"N_X = {n['x']}",
        f"N_Y = {n['y']}",
        "",
    ]
    for name, expr, matrix in (
        ("f_into", dxdt, False),
        ("g_into", y, False),
        ("jac_into", jac, True),
    ):
        fun = casadi.Function(f"{model.name}_{name}", args, [expr])
        lines += ["", *_emit(fun, name, matrix, casadi), ""]
        if name == "f_into":
            n_c, const_lines, state_lines = _emit_split(fun, casadi)
            lines += ["", f"N_C = {n_c}", "", "", *const_lines, "", "", *state_lines, ""]
    lines += ["", _template_body()]
    return "\n".join(lines)


def _user_cache_root() -> Path:
    # platformdirs is an application-layer dependency (plant_models may not
    # import it, pyproject's layering contract); these are its rules for the
    # per-user cache folder.  energyopt can point ENERGYOPT_KERNEL_DIR there.
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def kernel_cache_dir() -> Path:
    """Return the folder of generated kernel modules.

    ``$ENERGYOPT_KERNEL_DIR`` if set, else ``energyopt-kernels`` inside
    ``$NUMBA_CACHE_DIR`` if that is set (tests, frozen app), else
    ``energyopt/kernels`` in the per-user cache folder.
    """
    env = os.environ.get(KERNEL_DIR_ENV)
    if env:
        return Path(env)
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        return Path(numba_dir) / "energyopt-kernels"
    return _user_cache_root() / "energyopt" / "kernels"


_FALLBACK_DIR: list[Path] = []


def _write_module(source: str, stem: str) -> Path:
    """Write ``source`` to ``<kernel dir>/<stem>.py`` atomically unless already there."""
    for folder in (kernel_cache_dir(), *_FALLBACK_DIR):
        path = folder / f"{stem}.py"
        try:
            if path.is_file() and path.read_text("utf-8") == source:
                return path
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(source)
            # Atomic: a concurrent process sees the old file or the whole new one.
            Path(tmp).replace(path)
        except OSError:
            continue
        return path
    # Unwritable cache folder: a private folder for this process (numba then
    # compiles once per process, as without a cache).
    _FALLBACK_DIR.append(Path(tempfile.mkdtemp(prefix="energyopt-kernels-")))
    return _write_module(source, stem)


@dataclass(frozen=True)
class GeneratedKernels:
    """The generated, numba-compiled kernels of one model (compiled lazily on first call).

    Attributes
    ----------
    model : EquationModel
        The source model.
    path : pathlib.Path
        The generated module's file.
    module : module
        The imported module: besides the attributes below it holds the
        split ``f`` (``f_const_into(u, d, p, c)`` with ``N_C`` values,
        ``f_state_into(x, c, out)``), the integrators ``run_rk4``,
        ``run_implicit``, ``run_discrete`` and their ``run_batch_*`` forms
        (:mod:`plant_models.core.kernels`).
    f, g, jac : numba dispatcher
        ``f(x, u, d, p) -> dxdt``, ``g(x, u, d, p) -> y`` and
        ``jac(x, u, d, p) -> df/dx`` (dense ``(nx, nx)``).
    f_into, g_into, jac_into : numba dispatcher
        The same writing into a given output array (last argument).
    """

    model: EquationModel
    path: Path
    module: ModuleType

    @property
    def f(self) -> Any:
        """``f(x, u, d, p)`` returning a new array."""
        return self.module.f

    @property
    def g(self) -> Any:
        """``g(x, u, d, p)`` returning a new array."""
        return self.module.g

    @property
    def jac(self) -> Any:
        """``df/dx(x, u, d, p)`` returning a new ``(nx, nx)`` array."""
        return self.module.jac

    @property
    def f_into(self) -> Any:
        """``f_into(x, u, d, p, out)``."""
        return self.module.f_into

    @property
    def g_into(self) -> Any:
        """``g_into(x, u, d, p, out)``."""
        return self.module.g_into

    @property
    def jac_into(self) -> Any:
        """``jac_into(x, u, d, p, out)``."""
        return self.module.jac_into


_COMPILED: dict[tuple[Any, ...], GeneratedKernels] = {}
_MODULES: dict[str, ModuleType] = {}


def compile_model(model: EquationModel) -> GeneratedKernels:
    """Generate, write and import the kernel module of ``model`` (memoised per model).

    Parameters
    ----------
    model : EquationModel
        The model.

    Returns
    -------
    GeneratedKernels
        Numba compiles each kernel on its first call, or loads it from the
        on-disk cache of an earlier process.

    Raises
    ------
    EquationError
        As :func:`generate_source`.
    """
    sizes = model.sizes
    key = (model.f, model.g, model.name, *sizes.values())
    cached = _COMPILED.get(key)
    if cached is not None:
        return cached
    source = generate_source(model)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    stem = f"{model.name}_{digest}"
    module = _MODULES.get(stem)
    path = _write_module(source, stem)
    if module is None:
        module_name = f"_energyopt_kernel_{stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
            raise EquationError(f"cannot import generated kernels {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        _MODULES[stem] = module
    result = GeneratedKernels(model, path, module)
    _COMPILED[key] = result
    return result
