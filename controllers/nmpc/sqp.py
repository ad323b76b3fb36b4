"""Gauss-Newton SQP on a structured QP (hpipm): the NMPC's fast path.

The NLP of :mod:`controllers.nmpc.formulation` is solved by sequential
quadratic programming, warm-started from the previous plan shifted by one
interval (real-time iteration, Diehl, Bock and Schloeder 2005; the scheme of
acados):

- the objective is least squares in the CVs, the moves and the MV targets
  plus linear-quadratic slack prices, so its Gauss-Newton Hessian
  ``T' (d2 phi) T`` (``phi`` the objective with the CVs as symbols,
  ``T = [I; dY/dz]``) is positive semi-definite and needs no multipliers;
- the collocation stage states ``c_k`` of each interval are condensed out
  of the linearisation: ``dc_k = -R_c^-1 (R + R_xu dxu_k)`` (one 46 x 46
  factorisation per interval of the chemical flowsheet, inside one casadi
  function), so the QP holds only the stage states ``(x_k, v_k)`` and
  controls ``(u_k, s_k)``: 808 instead of 1728 variables, and hpipm's Riccati
  recursion costs ``N (nx + nu)**3`` with ``nu = 11`` instead of 57;
- the QP is solved by hpipm (casadi's ``conic("hpipm")``, bundled in the
  casadi wheel) with the stage sizes given, so no structure detection runs;
- a full step is taken (no line search: a real-time iteration), the stage
  states are expanded, and the new point's constraint residuals are
  evaluated; the caller checks them and falls back to the full NLP solve.

The fixed points of the iteration are KKT points of the NLP (at ``dz = 0``
the QP's KKT conditions are the NLP's), so iterated it reaches the plan
ipopt finds (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import casadi as ca
import numpy as np

from controllers.nmpc.buffered import BufferedFunction
from controllers.nmpc.formulation import OcpProblem

__all__ = [
    "HPIPM_OPTIONS",
    "SqpResult",
    "SqpStep",
    "StructuredSqp",
    "build_sqp",
    "run_sqp",
    "sqp_step",
]

#: Levenberg-Marquardt regularisation added to the Gauss-Newton Hessian so
#: that states without a cost keep the QP strictly convex for hpipm; it
#: changes the steps, not the fixed points.  [-] (scaled variables)
_REGULARISATION = 1e-9
#: hpipm's replacement for infinite bounds, in the scaled variables (steps of
#: order 1).  With casadi's default 1e8 hpipm stalled at its iteration limit
#: on the CSTR's QP (8 iterations with 1e6 or 1e4), with 1e10 on the
#: chemical flowsheet's.
_QP_INF = 1e6
#: hpipm's return codes (``hpipm_d_ocp_qp_ipm.h``).
_HPIPM_STATUS = {0: "success", 1: "max_iter", 2: "min_step", 3: "nan"}
#: A step smaller than this (scaled variables) ends the iteration early. [-]
_STEP_TOL = 1e-9
#: hpipm's options.  Robust mode, but its Riccati factorisation by Cholesky
#: that switches to LQ (robust mode's own, always) when the Cholesky loses
#: accuracy (``lq_fact`` 1 instead of 2): on 24 QPs of the chemical
#: flowsheet's closed loop the same 6 iterations and steps equal to 2.5e-16,
#: 0.89x the CPU time (3.13 against 3.51 ms median, interleaved, 2026-11-21;
#: ``lq_fact`` 0, Cholesky only, 0.85x, not kept: no fallback).
HPIPM_OPTIONS: dict[str, Any] = {"mode": "robust", "iter_max": 50, "warm_start": 0, "lq_fact": 1}


@dataclass(frozen=True, eq=False)
class StructuredSqp:
    """Functions and index maps of the structured SQP (built by :func:`build_sqp`).

    Attributes
    ----------
    linearise : casadi.Function
        ``(z, p) -> (H, q, A, b, K)``: the condensed QP's Gauss-Newton
        Hessian, gradient, constraint matrix (rows in hpipm's order, gaps
        negated) and the constraint values at ``z`` (gap rows condensed),
        and per interval ``K_k = R_c^-1 [R_xu, R]`` stacked, shape
        ``(N * n_c, n_xu + 1)``.
    expand : casadi.Function
        ``(z, K, dz) -> (z_new, step)``: the iterate after the QP step
        ``dz`` with the condensed stage states expanded, and ``max |dz|``.
    evaluate : BufferedFunction
        ``(z, p) -> (f, g, Y)``: the NLP's objective and constraints, and the
        CVs of samples ``0..N`` (:attr:`OcpProblem.cv_of`).
    qp : casadi.Function
        hpipm on the QP's sparsity with the stage sizes (called directly:
        through ``Function.buffer()`` casadi 3.8.2's hpipm interface keeps
        data of the previous call and returned wrong steps).
    h_sparsity, a_sparsity : casadi.Sparsity
        Sparsity of the QP's Hessian and constraint matrix.
    red_index : numpy.ndarray
        Decision-vector positions of the QP variables (``z`` without ``c``).
    row_index : numpy.ndarray
        NLP constraint rows in the QP's row order.
    c_index : numpy.ndarray, shape (N, n_c)
        Decision-vector positions of the condensed stage states.
    xu_pos : numpy.ndarray, shape (N, n_xu)
        QP-variable positions the collocation equations of each interval depend on.
    fixed_pos : numpy.ndarray
        QP-variable positions held at their value (``x_0``, ``v_0``).
    qp_options : dict
        The options ``qp`` was built with (stage sizes, hpipm's own).
    bounds_cache : dict of str to tuple
        The NLP bounds of the last step as numpy arrays and casadi matrices
        (:func:`sqp_step` converts them again only when they change).
    """

    linearise: Any
    expand: Any
    evaluate: Any
    qp: Any
    h_sparsity: Any
    a_sparsity: Any
    red_index: np.ndarray
    row_index: np.ndarray
    c_index: np.ndarray
    xu_pos: np.ndarray
    fixed_pos: np.ndarray
    qp_options: dict[str, Any] = field(default_factory=dict)
    bounds_cache: dict[str, tuple[np.ndarray, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class SqpStep:
    """Result of one SQP iteration.

    Attributes
    ----------
    z : numpy.ndarray
        The new iterate (scaled decision vector).
    f : float
        NLP objective at ``z``.
    g : numpy.ndarray
        NLP constraints at ``z``.
    cv : numpy.ndarray, shape (N + 1, n_cv)
        CVs of samples ``0..N`` at ``z``. [SI]
    step : float
        Largest entry of the step in the scaled variables. [-]
    ok : bool
        Whether hpipm succeeded and every number is finite.
    message : str
        hpipm's return status.
    """

    z: np.ndarray
    f: float
    g: np.ndarray
    cv: np.ndarray
    step: float
    ok: bool
    message: str


def _gauss_newton(problem: OcpProblem) -> tuple[Any, Any]:
    """Gauss-Newton Hessian and gradient of the objective, as expressions of ``(z, p)``."""
    z, y = problem.z, problem.cv_sym
    phi = problem.cost_split
    jac_y = ca.jacobian(problem.cv_expr, z)
    grad_z = ca.gradient(phi, z)
    grad_y = ca.gradient(phi, y)
    h_zz = ca.jacobian(grad_z, z)
    h_zy = ca.jacobian(grad_z, y)
    h_yy = ca.jacobian(grad_y, y)
    cross = ca.mtimes(h_zy, jac_y)
    hess = h_zz + cross + cross.T + ca.mtimes([jac_y.T, h_yy, jac_y])
    grad = grad_z + ca.mtimes(jac_y.T, grad_y)
    hess, grad = ca.substitute([hess, grad], [y], [problem.cv_expr])
    return hess, grad


def _placement(n: int, positions: np.ndarray) -> Any:
    """Sparse ``n x len(positions)`` matrix putting entry ``j`` at ``positions[j]``."""
    cols = list(range(positions.size))
    return ca.DM(ca.Sparsity.triplet(n, positions.size, positions.tolist(), cols), 1.0)


def build_sqp(problem: OcpProblem) -> StructuredSqp:
    """Generate the condensed QP's functions and the hpipm solver for ``problem``.

    Parameters
    ----------
    problem : OcpProblem
        The NMPC's NLP (:func:`controllers.nmpc.formulation.build_problem`).

    Returns
    -------
    StructuredSqp
    """
    lay = problem.layout
    N = lay.u_index.shape[0]
    z, P, g = problem.z, problem.p, problem.g
    hess, grad = _gauss_newton(problem)
    jac_g = ca.jacobian(g, z)
    base = ca.Function("nmpc_sqp_base", [z, P], [g, jac_g, grad, hess])

    c_index = lay.c_index
    c_all = set(c_index.ravel().tolist())
    red_index = np.array([i for i in range(lay.n_z) if i not in c_all], dtype=int)
    red_pos = {int(i): j for j, i in enumerate(red_index)}
    n_red = red_index.size

    # Columns the collocation equations of each interval depend on (besides c_k).
    sp = jac_g.sparsity()
    rows_of = np.array(sp.get_triplet()[0])
    cols_of = np.array(sp.get_triplet()[1])
    xu_cols: list[list[int]] = []
    for k in range(N):
        rows_k = set(lay.coll_index[k].tolist())
        mask = np.isin(rows_of, list(rows_k)) if rows_k else np.zeros(rows_of.size, bool)
        cols = sorted(set(cols_of[mask].tolist()) - set(c_index[k].tolist()))
        xu_cols.append(cols)
    n_xu = max((len(c) for c in xu_cols), default=0)
    # Pad to a common width with a column the block does not depend on (zero Jacobian).
    for k in range(N):
        pad = [int(i) for i in lay.x_index[k] if int(i) not in xu_cols[k]]
        xu_cols[k] = xu_cols[k] + pad[: n_xu - len(xu_cols[k])]
    xu_pos = np.array([[red_pos[c] for c in cols] for cols in xu_cols], dtype=int).reshape(N, n_xu)

    zm = ca.MX.sym("z", lay.n_z)
    pm = ca.MX.sym("p", P.numel())
    g_m, jac_m, grad_m, hess_m = base(zm, pm)
    red = red_index.tolist()
    row_blocks: list[Any] = []
    value_blocks: list[Any] = []
    k_blocks: list[Any] = []
    row_index: list[int] = []
    stage_sizes: list[tuple[int, int, int]] = []
    n_c = c_index.shape[1]
    for k in range(N + 1):
        path = []
        if k < N:
            path += lay.move_index[k].tolist()
        if k >= 1:
            path += lay.band_index[k - 1].tolist()
        if k < N:
            gap = lay.gap_index[k].tolist()
            gap_jac = jac_m[gap, red]
            gap_val = g_m[gap]
            if n_c:
                coll = lay.coll_index[k].tolist()
                ck = c_index[k].tolist()
                # casadi's own sparse QR: no BLAS (the bundled OpenBLAS's threads inflate
                # the CPU time of 46 x 46 LUs on a loaded machine) and the fastest of
                # qr, csparse, lapacklu and lapackqr here (1.0 against 1.2-1.3 ms a call).
                kk = ca.solve(
                    jac_m[coll, ck],
                    ca.horzcat(jac_m[coll, xu_cols[k]], g_m[coll]),
                    "qr",
                    {},
                )
                k_blocks.append(kk)
                select = ca.DM.zeros(n_xu, n_red)
                for j, c in enumerate(xu_cols[k]):
                    select[j, red_pos[c]] = 1.0
                g_c = jac_m[gap, ck]
                gap_jac = gap_jac - ca.mtimes(g_c, ca.mtimes(kk[:, :n_xu], ca.sparsify(select)))
                gap_val = gap_val - ca.mtimes(g_c, kk[:, n_xu])
            # hpipm's pattern is [A B -I]: the gap x_{k+1} - F(x_k, u_k) negated.
            row_blocks.append(-gap_jac)
            value_blocks.append(-gap_val)
            row_index += gap
        row_blocks.append(jac_m[path, red])
        value_blocks.append(g_m[path])
        row_index += path
        n_state = lay.x_index.shape[1] + lay.v_index.shape[1]
        n_control = (lay.u_index.shape[1] if k < N else 0) + (lay.s_index.shape[1] if k >= 1 else 0)
        stage_sizes.append((n_state, n_control, len(path)))
    a_red = ca.vertcat(*row_blocks)
    h_red = hess_m[red, red] + _REGULARISATION * ca.DM.eye(n_red)
    k_all = ca.vertcat(*k_blocks) if k_blocks else ca.MX(0, n_xu + 1)
    fixed = np.concatenate([lay.x_index[0], lay.v_index[0]])
    fixed_pos = np.array([red_pos[int(i)] for i in fixed], dtype=int)
    # The QP's bounds from the NLP's, computed here so that they reach hpipm
    # as casadi matrices (no per-step numpy conversion, ~0.1 us an element).
    lbz, ubz = ca.MX.sym("lbz", lay.n_z), ca.MX.sym("ubz", lay.n_z)
    lbg, ubg = ca.MX.sym("lbg", lay.n_g), ca.MX.sym("ubg", lay.n_g)
    values = ca.vertcat(*value_blocks)
    lbx_qp = lbz[red] - zm[red]
    ubx_qp = ubz[red] - zm[red]
    lbx_qp[fixed_pos.tolist()] = 0.0
    ubx_qp[fixed_pos.tolist()] = 0.0
    # Gap rows hold the negated gap, whose bounds are 0 (lbg = ubg = 0 there).
    lba = lbg[row_index] - values
    uba = ubg[row_index] - values
    linearise = ca.Function(
        "nmpc_sqp_linearise",
        [zm, pm, lbz, ubz, lbg, ubg],
        [h_red, grad_m[red], a_red, lba, uba, lbx_qp, ubx_qp, k_all],
        ["z", "p", "lbz", "ubz", "lbg", "ubg"],
        ["H", "q", "A", "lba", "uba", "lbx", "ubx", "K"],
    )
    evaluate = ca.Function("nmpc_sqp_evaluate", [z, P], [problem.f, g, problem.cv_of(z, P)],
                           ["z", "p"], ["f", "g", "Y"])  # fmt: skip
    # The new iterate: the QP step, and the stage states it implies.
    k_in = ca.MX.sym("K", k_all.sparsity())
    dzr = ca.MX.sym("dz", n_red)
    z_new = zm + ca.mtimes(_placement(lay.n_z, red_index), dzr)
    if n_c:
        blocks = []
        for k in range(N):
            k_k = k_in[k * n_c : (k + 1) * n_c, :]
            blocks.append(-(ca.mtimes(k_k[:, :n_xu], dzr[xu_pos[k].tolist()]) + k_k[:, n_xu]))
        z_new = z_new + ca.mtimes(_placement(lay.n_z, c_index.ravel()), ca.vertcat(*blocks))
    expand = ca.Function("nmpc_sqp_expand", [zm, k_in, dzr], [z_new, ca.mmax(ca.fabs(dzr))],
                         ["z", "K", "dz"], ["z_new", "step"])  # fmt: skip
    # casadi's hpipm interface has no controls at the last stage: the slacks
    # of sample N are the controls of stage N, followed by an empty stage.
    stage_sizes.append((0, 0, 0))
    options: dict[str, Any] = {
        "N": N + 1,
        "nx": [s[0] for s in stage_sizes],
        "nu": [s[1] for s in stage_sizes],
        "ng": [s[2] for s in stage_sizes],
        "inf": _QP_INF,
        "error_on_fail": False,
        "print_time": False,
        "hpipm": dict(HPIPM_OPTIONS),
    }
    qp = ca.conic("nmpc_qp", "hpipm", {"h": h_red.sparsity(), "a": a_red.sparsity()}, options)
    return StructuredSqp(
        linearise=linearise,
        expand=expand,
        evaluate=BufferedFunction(evaluate),
        qp=qp,
        h_sparsity=h_red.sparsity(),
        a_sparsity=a_red.sparsity(),
        red_index=red_index,
        row_index=np.array(row_index, dtype=int),
        c_index=c_index,
        xu_pos=xu_pos,
        fixed_pos=fixed_pos,
        qp_options=options,
    )


def sqp_step(
    sqp: StructuredSqp,
    z: np.ndarray,
    p: np.ndarray,
    bounds: dict[str, np.ndarray],
) -> SqpStep:
    """One full Gauss-Newton SQP step from ``z`` (see the module docstring).

    Parameters
    ----------
    sqp : StructuredSqp
        The generated functions.
    z : numpy.ndarray, shape (n_z,)
        Current iterate (scaled decision vector); its ``x_0`` and ``v_0``
        must already hold the initial conditions (they are not moved).
    p : numpy.ndarray
        NLP parameter vector.
    bounds : dict of str to numpy.ndarray
        ``lbx``, ``ubx`` (decision vector) and ``lbg``, ``ubg`` (constraints).

    Returns
    -------
    SqpStep
    """
    # The QP's data stay casadi matrices from function to function: casadi's
    # conversions from and to numpy cost about 0.1 us an element (1.7 ms for
    # the constraint matrix, 2.3 ms for the condensing matrices).  The NLP's
    # bounds change only with the request's limits: converted once, reused.
    dm_bounds = [_cached_dm(sqp.bounds_cache, key, bounds[key])
                 for key in ("lbx", "ubx", "lbg", "ubg")]  # fmt: skip
    z_in = ca.DM(z)  # converted once for both functions below
    h, q, a, lba, uba, lbx, ubx, k_all = sqp.linearise(z_in, p, *dm_bounds)
    sol = sqp.qp(h=h, g=q, a=a, lba=lba, uba=uba, lbx=lbx, ubx=ubx)
    stats = sqp.qp.stats()
    code = stats.get("return_status", -1)
    message = _HPIPM_STATUS.get(code, str(code)) if isinstance(code, int) else str(code)
    if not stats.get("success", False):
        return SqpStep(z, float("nan"), np.zeros(0), np.zeros((0, 0)), float("nan"), False, message)
    z_dm, step_dm = sqp.expand(z_in, k_all, sol["x"])
    z_new = np.array(z_dm.nonzeros())
    step = float(step_dm)
    out = sqp.evaluate(z=z_new, p=p)
    g = out["g"].copy()
    ok = bool(np.isfinite(step) and np.all(np.isfinite(z_new)) and np.all(np.isfinite(g)))
    # Y is (n_cv, N + 1) column-major: one sample per row of the reshape.
    cv = out["Y"].reshape(sqp.c_index.shape[0] + 1, -1).copy()
    return SqpStep(z_new, float(out["f"][0]), g, cv, step, ok, message)


def _cached_dm(cache: dict[str, tuple[np.ndarray, Any]], key: str, value: np.ndarray) -> Any:
    """``value`` as a casadi ``DM``, reusing the previous conversion when equal."""
    hit = cache.get(key)
    if hit is not None and np.array_equal(hit[0], value):
        return hit[1]
    stored = np.array(value, dtype=np.float64)
    dm = ca.DM(stored)
    cache[key] = (stored, dm)
    return dm


@dataclass(frozen=True)
class SqpResult:
    """Outcome of :func:`run_sqp`.

    Attributes
    ----------
    z : numpy.ndarray
        Last iterate (scaled decision vector).
    f : float
        NLP objective at ``z``.
    cv : numpy.ndarray, shape (N + 1, n_cv)
        CVs of samples ``0..N`` at ``z``. [SI]
    ok : bool
        Whether every QP succeeded and ``z`` meets the constraints to the tolerance.
    iterations : int
        QPs solved.
    violation : float
        Largest constraint or bound violation at ``z`` (scaled NLP). [-]
    message : str
        What happened, for the solution's message.
    """

    z: np.ndarray
    f: float
    cv: np.ndarray
    ok: bool
    iterations: int
    violation: float
    message: str


def run_sqp(
    sqp: StructuredSqp,
    z0: np.ndarray,
    p: np.ndarray,
    bounds: dict[str, np.ndarray],
    max_iter: int,
    max_violation: float,
) -> SqpResult:
    """Iterate :func:`sqp_step` from ``z0`` and check the result.

    Parameters
    ----------
    sqp : StructuredSqp
        The generated functions.
    z0 : numpy.ndarray, shape (n_z,)
        Start (the previous plan shifted, initial conditions set, inside the bounds).
    p : numpy.ndarray
        NLP parameter vector.
    bounds : dict of str to numpy.ndarray
        ``lbx``, ``ubx``, ``lbg``, ``ubg`` of the NLP.
    max_iter : int
        Most QPs to solve (1: a real-time iteration); stops early when a
        step is below 1e-9.
    max_violation : float
        Largest constraint violation accepted at the last iterate. [-]

    Returns
    -------
    SqpResult
        ``ok`` is false when a QP failed, a number is not finite or the
        violation exceeds ``max_violation``; the caller then solves the NLP.
    """
    z, f = z0, float("nan")
    g, cv = np.zeros(0), np.zeros((0, 0))
    done = 0
    for _ in range(max_iter):
        step = sqp_step(sqp, z, p, bounds)
        done += 1
        if not step.ok:
            return SqpResult(z0, float("nan"), cv, False, done, float("inf"),
                             f"hpipm QP failed ({step.message})")  # fmt: skip
        z, f, g, cv = step.z, step.f, step.g, step.cv
        if step.step < _STEP_TOL:
            break
    violation = float(
        max(
            np.max(bounds["lbg"] - g, initial=0.0),
            np.max(g - bounds["ubg"], initial=0.0),
            np.max(bounds["lbx"] - z, initial=0.0),
            np.max(z - bounds["ubx"], initial=0.0),
        )
    )
    ok = violation <= max_violation
    message = (
        f"SQP on hpipm: {done} QP(s), violation {violation:.1e}"
        if ok
        else f"SQP on hpipm: violation {violation:.1e} above {max_violation:.1e}"
    )
    return SqpResult(z, f, cv, ok, done, violation, message)
