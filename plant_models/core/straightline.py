"""Straight-line Python text of a casadi SX function's algorithm (the emitter of codegen).

:mod:`plant_models.core.codegen` turns a model's ``f``, ``g`` and ``df/dx``
into numba functions; this module prints them.  Each casadi instruction
becomes one assignment to a work variable ``w<slot>`` (casadi's own work
slots), in casadi's order, with the operation's scalar semantics
(:data:`OPS`).

Two rewrites make the right-hand side ``f``, the integrators' inner loop,
cheaper without changing what it computes beyond rounding (the agreement
tests hold it to ``rtol=1e-12`` against casadi):

- a division in the state part of ``f`` by a value that does not depend on
  the state (a parameter, an input, a literal) multiplies by its reciprocal,
  computed once per input interval by ``f_const_into``; a division by a
  state-dependent value that divides two or more times multiplies by its
  reciprocal, computed once per call (a division takes several times a
  multiplication's time).  Both forms of ``f`` (``f_into`` and the split
  ``f_const_into``/``f_state_into``) apply the same rewrites, so they stay
  bit for bit identical;
- ``fmin``/``fmax`` (in every generated function) are printed as
  conditional expressions with ``numpy.fmin``/``fmax``'s NaN rule (the
  non-NaN operand wins; numba's own lowering of the same rule,
  ``numba/np/npyfuncs.py``): identical results, but about 10 % less time
  for the chemical plant's ``f`` than numba's scalar ``np.fmin``/``fmax``.

Together: the chemical plant's state part of ``f`` took 62 instead of 90 ns
a call (CPU time of 518,400 calls, same process).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from plant_models.core.errors import EquationError

__all__ = ["ARG_NAMES", "DECORATOR", "OPS", "emit_function", "emit_split", "literal"]

#: Python expression of each scalar casadi operation; {0}, {1}: operand names
#: (simple names or ``c[i]``: repeating one costs nothing).  Semantics follow
#: casadi's scalar evaluation (casadi/core/calculus.hpp): comparisons give
#: 1.0/0.0, if_else_zero(c, y) is 0 where c == 0, sign(0) = 0; fmin/fmax
#: return the other operand where one is NaN (as numpy.fmin/fmax).
OPS: dict[str, str] = {
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
    "OP_FMIN": "{0} if ({0} <= {1} or {1} != {1}) else {1}",
    "OP_FMAX": "{0} if ({0} >= {1} or {1} != {1}) else {1}",
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

#: Argument names of the model functions, in the convention's order.
ARG_NAMES = ("x", "u", "d", "p")
#: Decorator of every generated function.
DECORATOR = '@numba.njit(cache=True, error_model="numpy")'


def literal(value: float) -> str:
    """Return the Python text of a float that reads back as exactly ``value``.

    Parameters
    ----------
    value : float
        Any float, also NaN or infinite.

    Returns
    -------
    str
        The shortest round-tripping ``repr``, or ``math.nan``/``math.inf``.
    """
    if math.isnan(value):
        return "math.nan"
    if math.isinf(value):
        return "math.inf" if value > 0 else "-math.inf"
    return repr(float(value))


@dataclass(frozen=True)
class _Program:
    """The instructions of an SX function, resolved to instruction indices."""

    fun: Any
    casadi: Any
    ops: list[int]
    operands: list[list[int]]  # defining instruction of each operand
    slot_of: dict[int, int]  # instruction -> its work slot (outputs excluded)
    on_x: list[bool]  # the value depends on x (argument 0)
    recip_of: dict[int, int]  # division -> divisor instruction: multiply by 1 / divisor

    def is_const(self, k: int) -> bool:
        return self.ops[k] == self.casadi.OP_CONST


def _program(fun: Any, casadi: Any, reciprocals: bool) -> _Program:
    """Resolve ``fun``'s operands and plan the reciprocal rewrite (module docstring)."""
    op_input, op_output, op_const = casadi.OP_INPUT, casadi.OP_OUTPUT, casadi.OP_CONST
    n_instr = fun.n_instructions()
    ops = [fun.instruction_id(k) for k in range(n_instr)]
    operands: list[list[int]] = [[] for _ in range(n_instr)]
    on_x = [False] * n_instr
    slot_def: dict[int, int] = {}  # work slot -> instruction holding its current value
    slot_of: dict[int, int] = {}
    for k, op in enumerate(ops):
        if op == op_input:
            on_x[k] = fun.instruction_input(k)[0] == 0
        elif op != op_const:
            operands[k] = [slot_def[s] for s in fun.instruction_input(k)]
            on_x[k] = op != op_output and any(on_x[j] for j in operands[k])
        if op != op_output:
            slot = fun.instruction_output(k)[0]
            slot_def[slot] = k
            slot_of[k] = slot
    recip_of: dict[int, int] = {}
    if reciprocals:
        divisions = [k for k, op in enumerate(ops) if op == casadi.OP_DIV and on_x[k]]
        count: dict[int, int] = {}
        for k in divisions:
            count[operands[k][1]] = count.get(operands[k][1], 0) + 1
        for k in divisions:
            j = operands[k][1]
            if ops[j] == op_const:
                value = fun.instruction_constant(j)
                # 1 / value must be finite and nonzero for x * (1 / value) to
                # be x / value up to rounding.
                worth = 1e-300 < abs(value) < 1e300
            else:
                worth = not on_x[j] or count[j] >= 2
            if worth:
                recip_of[k] = j
    return _Program(fun, casadi, ops, operands, slot_of, on_x, recip_of)


def _expression(prog: _Program, k: int, names: list[str]) -> str:
    """Right-hand side of instruction ``k`` (not an output); ``names``: its operands' text."""
    fun, casadi = prog.fun, prog.casadi
    op = prog.ops[k]
    if op == casadi.OP_INPUT:
        which, nz = fun.instruction_input(k)
        return f"{ARG_NAMES[which]}[{nz}]"
    if op == casadi.OP_CONST:
        return literal(fun.instruction_constant(k))
    text = {getattr(casadi, name): form for name, form in OPS.items()}.get(op)
    if text is None:
        found = [n for n in dir(casadi) if n.startswith("OP_") and getattr(casadi, n) == op]
        raise EquationError(
            f"function {fun.name()}: casadi operation {found or op} has no numba form yet; "
            "add it to plant_models.core.straightline.OPS"
        )
    return text.format(*names)


def _recip_name(prog: _Program, j: int) -> str:
    """Text of ``1 / value of instruction j`` where it is read (a literal for a constant)."""
    if prog.is_const(j):
        return literal(1.0 / prog.fun.instruction_constant(j))
    return f"r{j}"


def _needs_recip(prog: _Program) -> set[int]:
    """Divisor instructions (not literals) whose reciprocal a rewritten division reads."""
    return {j for j in prog.recip_of.values() if not prog.is_const(j)}


def emit_function(
    fun: Any, name: str, matrix: bool, casadi: Any, reciprocals: bool = False
) -> list[str]:
    """Return the lines of ``def name(x, u, d, p, out)`` evaluating SX function ``fun``.

    Parameters
    ----------
    fun : casadi.Function
        An SX function of ``(x, u, d, p)`` with one (sparse) output.
    name : str
        Name of the generated function.
    matrix : bool
        Write the output as a 2-D array ``out[r, c]`` (else ``out[r]``).
    casadi : module
        The casadi module (imported by the caller, lazily).
    reciprocals : bool
        Apply the reciprocal rewrite of the module docstring (as
        :func:`emit_split` does: give True for ``f``).

    Returns
    -------
    list of str
        Source lines, decorator first.

    Raises
    ------
    EquationError
        If the function uses an operation without a numba form.
    """
    prog = _program(fun, casadi, reciprocals)
    recips = _needs_recip(prog)
    sparsity = fun.sparsity_out(0)
    rows, cols = sparsity.get_triplet()
    if matrix:
        targets = [f"out[{r}, {c}]" for r, c in zip(rows, cols, strict=True)]
    else:
        targets = [f"out[{r}]" for r in rows]
    lines = [DECORATOR, f"def {name}(x, u, d, p, out):  # pragma: no cover"]
    if sparsity.nnz() < sparsity.numel():
        lines.append("    out[:] = 0.0" if not matrix else "    out[:, :] = 0.0")
    for k, op in enumerate(prog.ops):
        if op == casadi.OP_OUTPUT:
            source = prog.slot_of[prog.operands[k][0]]
            lines.append(f"    {targets[fun.instruction_output(k)[1]]} = w{source}")
            continue
        names = [f"w{prog.slot_of[j]}" for j in prog.operands[k]]
        slot = prog.slot_of[k]
        if k in prog.recip_of:
            text = f"{names[0]} * {_recip_name(prog, prog.recip_of[k])}"
        else:
            text = _expression(prog, k, names)
        lines.append(f"    w{slot} = {text}")
        if k in recips:
            lines.append(f"    r{k} = 1.0 / w{slot}")
    lines.append("    return None")
    return lines


def emit_split(fun: Any, casadi: Any) -> tuple[int, list[str], list[str]]:
    """Split the vector SX function ``fun(x, u, d, p)`` into a state-free and a state part.

    Parameters
    ----------
    fun : casadi.Function
        An SX function of ``(x, u, d, p)`` with one vector output.
    casadi : module
        The casadi module.

    Returns
    -------
    tuple of (int, list of str, list of str)
        ``(n_c, const_lines, state_lines)``: ``f_const_into(u, d, p, c)``
        evaluates, once per input interval, every instruction that does not
        depend on ``x`` and stores the ``n_c`` values the rest reads in
        ``c`` (with the reciprocals of the state part's divisors);
        ``f_state_into(x, c, out)`` evaluates the instructions that depend
        on ``x``.  Both run the instructions of :func:`emit_function`'s
        ``f_into`` (with ``reciprocals=True``) in the same order on the same
        operands, so ``f_state_into`` after ``f_const_into`` gives its
        result bit for bit; the integrators call it in every stage while the
        inputs are held, and skip the work on ``u``, ``d`` and ``p`` alone.

    Raises
    ------
    EquationError
        If the function uses an operation without a numba form.
    """
    prog = _program(fun, casadi, reciprocals=True)
    ops, operands, on_x, slot_of = prog.ops, prog.operands, prog.on_x, prog.slot_of
    op_output, op_const = casadi.OP_OUTPUT, casadi.OP_CONST
    recips = _needs_recip(prog)
    # Which state-free values (other than constants, re-emitted inline) and
    # reciprocals the state part reads: their index in c.
    needed: dict[tuple[str, int], int] = {}
    for k, op in enumerate(ops):
        if not (on_x[k] or op == op_output):
            continue
        for pos, j in enumerate(operands[k]):
            if on_x[j] or ops[j] == op_const:
                continue
            kind = "r" if pos == 1 and k in prog.recip_of else "w"
            needed.setdefault((kind, j), len(needed))

    def state_operand(j: int) -> str:
        return f"c[{needed['w', j]}]" if ("w", j) in needed else f"w{slot_of[j]}"

    rows = fun.sparsity_out(0).get_triplet()[0]
    const_lines = [DECORATOR, "def f_const_into(u, d, p, c):  # pragma: no cover"]
    state_lines = [DECORATOR, "def f_state_into(x, c, out):  # pragma: no cover"]
    if fun.sparsity_out(0).nnz() < fun.sparsity_out(0).numel():
        state_lines.append("    out[:] = 0.0")
    for k, op in enumerate(ops):
        if op == op_output:
            target = f"out[{rows[fun.instruction_output(k)[1]]}]"
            state_lines.append(f"    {target} = {state_operand(operands[k][0])}")
            continue
        slot = slot_of[k]
        if on_x[k]:
            names = [state_operand(j) for j in operands[k]]
            if k in prog.recip_of:
                j = prog.recip_of[k]
                recip = f"c[{needed['r', j]}]" if ("r", j) in needed else _recip_name(prog, j)
                text = f"{names[0]} * {recip}"
            else:
                text = _expression(prog, k, names)
            state_lines.append(f"    w{slot} = {text}")
            if k in recips:
                state_lines.append(f"    r{k} = 1.0 / w{slot}")
            continue
        names = [f"w{slot_of[j]}" for j in operands[k]]
        const_lines.append(f"    w{slot} = {_expression(prog, k, names)}")
        if op == op_const:
            state_lines.append(f"    w{slot} = {literal(fun.instruction_constant(k))}")
        if ("w", k) in needed:
            const_lines.append(f"    c[{needed['w', k]}] = w{slot}")
        if ("r", k) in needed:
            const_lines.append(f"    c[{needed['r', k]}] = 1.0 / w{slot}")
    const_lines.append("    return None")
    state_lines.append("    return None")
    return len(needed), const_lines, state_lines
