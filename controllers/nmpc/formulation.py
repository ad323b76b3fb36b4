"""The NMPC's optimal-control NLP, built once from the model's casadi ``f`` and ``g``.

Multiple shooting over ``N`` control intervals, written stage by stage so
that a structure-exploiting solver (fatrop's Riccati recursion) sees an
optimal-control problem: stage ``k`` has the *states* ``(x_k, v_k)`` (the
scaled model states and the MVs applied over the previous interval,
``v_0 = u_prev``) and the *controls* ``(u_k, c_k, s_k)`` (scaled MVs, scaled
Radau IIA stage states of interval ``k`` for collocation, non-negative band
slacks of sample ``k``); the last stage ``N`` has ``(x_N, v_N)`` and ``s_N``.
The decision vector is ``(x_0, v_0, u_0, c_0, x_1, v_1, u_1, c_1, s_1, ...,
x_N, v_N, s_N)`` (``x = offset + scale * x_scaled``, ``u = scale *
u_scaled``).  The constraints, in stage order, are

- at stage 0 the initial conditions ``x_0 = x_hat``, ``v_0 = u_prev``;
- per interval the collocation equations ``R(x_k, c_k, u_k) = 0``
  (collocation only), the moves ``u_k - v_k`` inside the rate limits, the
  soft bands ``(y_k - low) / scale + s_lo >= 0`` and ``(high - y_k) / scale
  + s_hi >= 0`` (``k >= 1``), and the gap ``x_{k+1} = c_k[last]`` or
  ``x_{k+1} = F(x_k, u_k)`` (``F`` classical RK4 sub-steps or a discrete
  model's ``f`` applied ``dt / model.dt_s`` times;
  :mod:`controllers.nmpc.discretisation`) with ``v_{k+1} = u_k``;
- at stage ``N`` the soft bands of sample ``N``;

and the MV limits are bounds of ``u_k``.  Offset-free prediction: estimated
disturbance states (:class:`~controllers.estimation.DisturbanceState`) are
held constant over the horizon and added to their input, measured
disturbance or CV.  Everything a solve or a tuning change alters (estimate,
disturbances, current MVs, fixed inputs, setpoints, bands, MV targets and
every weight) is a parameter, so the NLP and its derivatives are generated
once (:data:`TUNING_PARAMETERS`).

The CV at sample ``k`` is ``y(x_k, u_k)`` (``y(x_N, v_N)``, i.e. ``u_{N-1}``,
at ``k = N``): an output with direct feedthrough sees the input applied from
that sample on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from controllers.errors import NmpcError
from controllers.estimation.specs import DisturbanceState
from controllers.nmpc.discretisation import interval_map, state_scaling
from controllers.nmpc.hold import HoldRollout, build_hold
from controllers.nmpc.settings import NmpcSettings
from plant_models.core.equations import EquationModel

__all__ = ["TUNING_PARAMETERS", "Layout", "OcpProblem", "build_problem"]

#: Parts of the parameter vector that tuning changes (``set_tuning``).
TUNING_PARAMETERS: tuple[str, ...] = (
    "setpoint",
    "low",
    "high",
    "target",
    "cv_weight",
    "band_price",
    "move_weight",
    "target_weight",
)


@dataclass(frozen=True)
class Layout:
    """Positions of the parts of the decision, constraint and parameter vectors.

    Attributes
    ----------
    x_index : numpy.ndarray, shape (N + 1, nx)
        Decision-vector positions of the scaled states.
    v_index : numpy.ndarray, shape (N + 1, n_mv)
        Decision-vector positions of the scaled previous MVs ``v_k = u_{k-1}``.
    u_index : numpy.ndarray, shape (N, n_mv)
        Decision-vector positions of the scaled MVs.
    s_index : numpy.ndarray, shape (N, n_slack)
        Decision-vector positions of the slacks of samples ``1..N``.
    c_index : numpy.ndarray, shape (N, nx * degree)
        Decision-vector positions of the scaled collocation stage states of
        each interval, stage by stage (zero columns without collocation).
    init_index : numpy.ndarray, shape (nx + n_mv,)
        Constraint-vector positions of the initial conditions.
    coll_index : numpy.ndarray, shape (N, nx * degree)
        Constraint-vector positions of the collocation equations.
    gap_index : numpy.ndarray, shape (N, nx + n_mv)
        Constraint-vector positions of the shooting gaps.
    move_index : numpy.ndarray, shape (N, n_mv)
        Constraint-vector positions of the scaled moves.
    band_index : numpy.ndarray, shape (N, n_slack)
        Constraint-vector positions of the band constraints of samples ``1..N``.
    slack_names : tuple of str
        ``"<cv>.lower"`` or ``"<cv>.upper"`` per slack column.
    slack_cv : tuple of int
        The CV of each slack column.
    n_z, n_g : int
        Lengths of the decision and constraint vectors.
    param_slices : dict of str to slice
        Parts of the parameter vector: ``x0, w, d, u_prev, u_fixed`` and the
        :data:`TUNING_PARAMETERS`.
    stage_sizes : tuple of tuple of int
        ``(nx, nu, ng)`` of each stage ``0..N`` as fatrop sees it (states,
        controls, path constraints).
    """

    x_index: np.ndarray
    v_index: np.ndarray
    u_index: np.ndarray
    s_index: np.ndarray
    c_index: np.ndarray
    init_index: np.ndarray
    coll_index: np.ndarray
    gap_index: np.ndarray
    move_index: np.ndarray
    band_index: np.ndarray
    slack_names: tuple[str, ...]
    slack_cv: tuple[int, ...]
    n_z: int
    n_g: int
    param_slices: dict[str, slice]
    stage_sizes: tuple[tuple[int, int, int], ...]

    @property
    def stage_indices(self) -> tuple[np.ndarray, ...]:
        """Decision-vector position arrays with one row per interval (shift targets)."""
        return (self.x_index, self.v_index, self.u_index, self.c_index, self.s_index)

    @property
    def stage_rows(self) -> tuple[np.ndarray, ...]:
        """Constraint-vector position arrays with one row per interval (shift targets)."""
        return (self.coll_index, self.gap_index, self.move_index, self.band_index)


@dataclass(frozen=True, eq=False)
class OcpProblem:
    """The generated NLP and its helper functions (built by :func:`build_problem`).

    Attributes
    ----------
    solver : casadi.Function
        The ``nlpsol`` instance for a cold start.
    warm_solver : casadi.Function or None
        The same NLP with ipopt started from a given primal-dual point
        (``warm_start_init_point``), when :attr:`NmpcSettings.warm_start_dual`
        is set and the solver is ipopt; ``None`` otherwise.
    fallback_solver : casadi.Function or None
        The same NLP with ipopt (cold start), re-solved when the primary
        solver is not ipopt and its result is unusable
        (:attr:`NmpcSettings.ipopt_fallback`); ``None`` otherwise.
    layout : Layout
        Vector positions.
    x_offset, x_scale : numpy.ndarray, shape (nx,)
        State scaling ``x = offset + scale * x_scaled``. [SI]
    u_scale : numpy.ndarray, shape (n_mv,)
        MV scaling ``u = scale * u_scaled``. [SI]
    cv_of : casadi.Function
        ``(z, p) -> Y``: the CVs at samples ``0..N`` of a decision vector,
        shape ``(n_cv, N + 1)``. [SI]
    hold : HoldRollout
        ``p -> (cost, Y)``: objective and CVs of holding the current MVs
        (warm-started from the previous call for collocation;
        :mod:`controllers.nmpc.hold`).
    nx, nw, nd, n_fixed : int
        Sizes of the state, disturbance-state, disturbance and fixed-input vectors.
    fixed_index : tuple of int
        Model input positions of the fixed inputs.
    method : {"rk4", "collocation", "discrete"}
        Discretisation used.
    z, p, g : casadi.SX or casadi.MX
        The NLP's decision and parameter symbols and its constraint
        expressions (for the infeasibility diagnosis).
    f : casadi.SX or casadi.MX
        The NLP's objective expression.
    cv_sym : casadi.SX or casadi.MX, shape (n_cv * N,)
        Symbols standing for the CVs of samples ``1..N`` (sample by sample)
        in ``cost_split``.
    cv_expr : casadi.SX or casadi.MX, shape (n_cv * N,)
        The CVs of samples ``1..N`` as expressions of ``z`` and ``p``.
    cost_split : casadi.SX or casadi.MX
        The objective with the CVs replaced by ``cv_sym``: quadratic plus
        linear in ``(z, cv_sym)``, so that ``f = cost_split(cv_sym =
        cv_expr)`` and its Gauss-Newton Hessian follows from the CVs'
        Jacobian (:mod:`controllers.nmpc.sqp`).
    """

    solver: Any
    warm_solver: Any
    fallback_solver: Any
    layout: Layout
    x_offset: np.ndarray
    x_scale: np.ndarray
    u_scale: np.ndarray
    cv_of: Any
    hold: Any
    nx: int
    nw: int
    nd: int
    n_fixed: int
    fixed_index: tuple[int, ...]
    method: str
    z: Any
    p: Any
    g: Any
    f: Any = None
    cv_sym: Any = None
    cv_expr: Any = None
    cost_split: Any = None


def build_problem(
    model: EquationModel,
    p: np.ndarray,
    settings: NmpcSettings,
    disturbance_states: Sequence[DisturbanceState],
) -> OcpProblem:
    """Generate the NLP of ``settings`` for ``model`` (see the module docstring).

    Raises
    ------
    NmpcError
        For an unknown MV, CV, fixed input or disturbance-state target, or a
        discrete model whose sample time does not divide ``dt_s``.
    """
    sizes = model.sizes
    nx, nu, nd = sizes["x"], sizes["u"], sizes["d"]
    n_mv, n_cv, N = len(settings.mvs), len(settings.cvs), settings.horizon

    def lookup(kind: str, name: str, what: str) -> int:
        names = [v.name for v in model.variables(kind)]
        if name not in names:
            raise NmpcError(
                f"{what}: model {model.name} has no {kind} variable {name!r}; "
                f"known: {', '.join(names) or '(none)'}"
            )
        return names.index(name)

    mv_index = [lookup("u", m.name, f"MV {m.name}") for m in settings.mvs]
    fixed_index = tuple(i for i in range(nu) if i not in mv_index)
    for name in settings.fixed_inputs:
        i = lookup("u", name, "fixed input")
        if i in mv_index:
            raise NmpcError(f"fixed input {name} is also an MV")
    cv_index = [lookup(c.kind, c.name, f"CV {c.name}") for c in settings.cvs]
    dstates = tuple(disturbance_states)
    names = [s.name for s in dstates]
    if len(set(names)) != len(names):
        raise NmpcError("duplicate disturbance-state names")
    nw = len(dstates)

    # Slack columns (which band sides exist is structure; their values are parameters).
    slack_cv: list[int] = []
    slack_side: list[str] = []
    for j, c in enumerate(settings.cvs):
        if math.isfinite(c.low):
            slack_cv.append(j)
            slack_side.append("lower")
        if math.isfinite(c.high):
            slack_cv.append(j)
            slack_side.append("upper")
    n_s = len(slack_cv)

    imap = interval_map(model, np.asarray(p, dtype=np.float64), settings)
    F, G = imap.step, imap.output
    degree = imap.degree
    x_off, x_sc = state_scaling(model)
    u_sc = np.array([m.scale for m in settings.mvs])

    # Parameters.
    sizes_p = {
        "x0": nx,
        "w": nw,
        "d": nd,
        "u_prev": n_mv,
        "u_fixed": len(fixed_index),
        "setpoint": n_cv,
        "low": n_cv,
        "high": n_cv,
        "target": n_mv,
        "cv_weight": n_cv,
        "band_price": n_s,
        "move_weight": n_mv,
        "target_weight": n_mv,
    }
    param_slices: dict[str, slice] = {}
    start = 0
    for key, n in sizes_p.items():
        param_slices[key] = slice(start, start + n)
        start += n
    sym = getattr(ca, settings.symbolic)
    P = sym.sym("P", start)
    par = {key: P[sl] for key, sl in param_slices.items()}

    # Effective inputs and disturbances with the disturbance states added.
    w_in: dict[int, Any] = {}
    w_d: dict[int, Any] = {}
    w_cv: dict[int, Any] = {}
    for j, s in enumerate(dstates):
        wj = par["w"][j]
        if s.kind == "input":
            w_in[lookup("u", s.target, f"disturbance state {s.name}")] = wj
        elif s.kind == "disturbance":
            w_d[lookup("d", s.target, f"disturbance state {s.name}")] = wj
        else:
            cv_names = settings.cv_names
            if s.target not in cv_names:
                raise NmpcError(
                    f"disturbance state {s.name}: output target {s.target!r} is not a CV; "
                    f"known: {', '.join(cv_names)}"
                )
            w_cv[cv_names.index(s.target)] = wj
    d_eff = ca.vertcat(*[par["d"][i] + w_d.get(i, 0.0) for i in range(nd)]) if nd else sym(0, 1)

    def full_input(u_mv: Any) -> Any:
        parts: list[Any] = []
        for i in range(nu):
            if i in mv_index:
                value = u_mv[mv_index.index(i)]
            else:
                value = par["u_fixed"][fixed_index.index(i)]
            parts.append(value + w_in.get(i, 0.0))
        return ca.vertcat(*parts) if parts else sym(0, 1)

    def cvs(x: Any, u_mv: Any) -> Any:
        y = G(x, full_input(u_mv), d_eff)
        out = []
        for j, c in enumerate(settings.cvs):
            value = x[cv_index[j]] if c.kind == "x" else y[cv_index[j]]
            out.append(value + w_cv.get(j, 0.0))
        return ca.vertcat(*out)

    cv_scale = np.array([c.scale for c in settings.cvs])
    terminal = (
        np.zeros((n_cv, n_cv))
        if settings.terminal_weight is None
        else np.array(settings.terminal_weight, dtype=np.float64)
    )

    def band_terms(y: Any) -> Any:
        """Scaled distance inside each band side (negative when violated)."""
        terms = []
        for col, j in enumerate(slack_cv):
            if slack_side[col] == "lower":
                terms.append((y[j] - par["low"][j]) / cv_scale[j])
            else:
                terms.append((par["high"][j] - y[j]) / cv_scale[j])
        return ca.vertcat(*terms) if terms else sym(0, 1)

    def stage_cost(y: Any, s: Any, last: bool) -> Any:
        e = (y - par["setpoint"]) / cv_scale
        cost: Any = ca.dot(par["cv_weight"], e**2)
        if last and np.any(terminal):
            cost += ca.bilin(ca.DM(terminal), e)
        if n_s:
            cost += ca.dot(par["band_price"], s + s**2)
        return cost

    def mv_cost(u: Any, u_before: Any) -> Any:
        move = (u - u_before) / u_sc
        off = (u - par["target"]) / u_sc
        return ca.dot(par["move_weight"], move**2) + ca.dot(par["target_weight"], off**2)

    # Decision variables, stage by stage.
    Xs = [sym.sym(f"x_{k}", nx) for k in range(N + 1)]
    Vs = [sym.sym(f"v_{k}", n_mv) for k in range(N + 1)]
    Us = [sym.sym(f"u_{k}", n_mv) for k in range(N)]
    Cs = [sym.sym(f"c_{k}", nx * degree) for k in range(N)]
    Ss = [sym.sym(f"s_{k}", n_s) for k in range(1, N + 1)]
    z_parts: list[Any] = []
    x_index = np.zeros((N + 1, nx), dtype=int)
    v_index = np.zeros((N + 1, n_mv), dtype=int)
    u_index = np.zeros((N, n_mv), dtype=int)
    s_index = np.zeros((N, n_s), dtype=int)
    c_index = np.zeros((N, nx * degree), dtype=int)
    pos = 0

    def place(part: Any, n: int) -> np.ndarray:
        nonlocal pos
        z_parts.append(part)
        pos += n
        return np.arange(pos - n, pos)

    for k in range(N + 1):
        x_index[k] = place(Xs[k], nx)
        v_index[k] = place(Vs[k], n_mv)
        if k < N:
            u_index[k] = place(Us[k], n_mv)
            c_index[k] = place(Cs[k], nx * degree)
        if k >= 1:
            s_index[k - 1] = place(Ss[k - 1], n_s)
    z = ca.vertcat(*z_parts)

    def x_of(k: int) -> Any:
        return ca.DM(x_off) + ca.DM(x_sc) * Xs[k]

    def u_of(k: int) -> Any:
        return ca.DM(u_sc) * Us[k]

    def v_of(k: int) -> Any:
        return ca.DM(u_sc) * Vs[k]

    g_parts: list[Any] = []
    rows = 0

    def add(expr: Any, n: int) -> np.ndarray:
        nonlocal rows
        g_parts.append(expr)
        rows += n
        return np.arange(rows - n, rows)

    coll_index = np.zeros((N, nx * degree), dtype=int)
    gap_index = np.zeros((N, nx + n_mv), dtype=int)
    move_index = np.zeros((N, n_mv), dtype=int)
    band_index = np.zeros((N, n_s), dtype=int)
    init_index = np.zeros(0, dtype=int)
    stage_sizes: list[tuple[int, int, int]] = []
    cost: Any = 0.0
    # The same objective with the CVs as symbols (Gauss-Newton Hessian).
    cv_sym = sym.sym("Y", n_cv * N)
    cost_split: Any = 0.0
    cv_list: list[Any] = []
    # Rows of stage k: its gap (x_{k+1}, v_{k+1}) first, then its path
    # constraints (fatrop's block order: [A B I; C D] per stage).
    for k in range(N + 1):
        if k < N:
            u_k = u_of(k)
            if imap.collocation is not None:
                stages = ca.reshape(Cs[k], nx, degree)
                end = stages[:, degree - 1]
            else:
                end = (F(x_of(k), full_input(u_k), d_eff) - x_off) / x_sc
            gap_index[k] = add(ca.vertcat(Xs[k + 1] - end, Vs[k + 1] - Us[k]), nx + n_mv)
        first_path = rows
        if k == 0:
            init_index = np.concatenate(
                [add((x_of(0) - par["x0"]) / x_sc, nx), add(Vs[0] - par["u_prev"] / u_sc, n_mv)]
            )
        if k < N:
            if imap.collocation is not None:
                stages_si = ca.repmat(ca.DM(x_off), 1, degree) + ca.DM(x_sc) * stages
                residual = imap.collocation.residual(
                    x_of(k), stages_si, full_input(u_k), d_eff, ca.DM(p)
                )
                coll_index[k] = add(residual / ca.DM(np.tile(x_sc, degree)), nx * degree)
            move_index[k] = add(Us[k] - Vs[k], n_mv)
            cost += mv_cost(u_k, v_of(k))
            cost_split += mv_cost(u_k, v_of(k))
        if k >= 1:
            y_k = cvs(x_of(k), u_of(k) if k < N else v_of(k))
            band_index[k - 1] = add(band_terms(y_k) + Ss[k - 1], n_s)
            cost += stage_cost(y_k, Ss[k - 1], k == N)
            cost_split += stage_cost(cv_sym[(k - 1) * n_cv : k * n_cv], Ss[k - 1], k == N)
            cv_list.append(y_k)
        n_controls = (n_mv + nx * degree if k < N else 0) + (n_s if k >= 1 else 0)
        stage_sizes.append((nx + n_mv, n_controls, rows - first_path))
    g = ca.vertcat(*g_parts)
    equality = np.ones(rows, dtype=bool)
    equality[move_index.ravel()] = False
    equality[band_index.ravel()] = False

    solver = _make_solver(settings, z, P, cost, g, equality, stage_sizes, warm=False)
    warm = settings.warm_start_dual and settings.solver == "ipopt"
    warm_solver = (
        _make_solver(settings, z, P, cost, g, equality, stage_sizes, warm=True) if warm else None
    )
    fallback_solver = (
        _make_solver(settings, z, P, cost, g, equality, stage_sizes, warm=False, name="ipopt")
        if settings.solver != "ipopt" and settings.ipopt_fallback
        else None
    )
    Y = ca.horzcat(
        cvs(x_of(0), u_of(0)), *[cvs(x_of(k), u_of(min(k, N - 1))) for k in range(1, N + 1)]
    )
    cv_of = ca.Function("nmpc_cv_of", [z, P], [Y], ["z", "p"], ["Y"])
    hold = _hold_function(settings, imap, P, param_slices, cvs, full_input, d_eff,
                          band_terms, stage_cost, mv_cost, n_s, p, x_sc)  # fmt: skip

    layout = Layout(
        x_index=x_index,
        v_index=v_index,
        u_index=u_index,
        s_index=s_index,
        c_index=c_index,
        init_index=init_index,
        coll_index=coll_index,
        gap_index=gap_index,
        move_index=move_index,
        band_index=band_index,
        slack_names=tuple(
            f"{settings.cvs[j].name}.{side}" for j, side in zip(slack_cv, slack_side, strict=True)
        ),
        slack_cv=tuple(slack_cv),
        n_z=int(z.numel()),
        n_g=int(g.numel()),
        param_slices=param_slices,
        stage_sizes=tuple(stage_sizes),
    )
    return OcpProblem(
        solver=solver,
        warm_solver=warm_solver,
        fallback_solver=fallback_solver,
        layout=layout,
        x_offset=x_off,
        x_scale=x_sc,
        u_scale=u_sc,
        cv_of=cv_of,
        hold=hold,
        nx=nx,
        nw=nw,
        nd=nd,
        n_fixed=len(fixed_index),
        fixed_index=fixed_index,
        method=imap.method,
        z=z,
        p=P,
        g=g,
        f=cost,
        cv_sym=cv_sym,
        cv_expr=ca.vertcat(*cv_list),
        cost_split=cost_split,
    )


def _hold_function(
    settings: NmpcSettings,
    imap: Any,
    P: Any,
    param_slices: dict[str, slice],
    cvs: Any,
    full_input: Any,
    d_eff: Any,
    band_terms: Any,
    stage_cost: Any,
    mv_cost: Any,
    n_s: int,
    model_p: np.ndarray,
    x_scale: np.ndarray,
) -> HoldRollout:
    """``p -> (cost, Y)``: objective and CVs of holding the current MVs.

    Slacks take their smallest values; the roll-out itself is
    :func:`controllers.nmpc.hold.build_hold`'s (warm-started Newton for
    collocation).
    """
    N, nx = settings.horizon, imap.output.size1_in(0)
    sym = type(P)
    X_h = sym.sym("X_h", nx, N + 1)
    u_prev = P[param_slices["u_prev"]]
    hold_cost: Any = 0.0
    y_hold = [cvs(X_h[:, 0], u_prev)]
    for k in range(N):
        y_h = cvs(X_h[:, k + 1], u_prev)
        y_hold.append(y_h)
        s_h = ca.fmax(0.0, -band_terms(y_h)) if n_s else sym(0, 1)
        hold_cost += mv_cost(u_prev, u_prev) + stage_cost(y_h, s_h, k == N - 1)
    hold_of = ca.Function("nmpc_hold_of", [P, X_h], [hold_cost, ca.horzcat(*y_hold)])
    held = ca.Function("nmpc_held", [P], [full_input(u_prev), d_eff])
    return build_hold(imap, model_p, x_scale, N, P, param_slices, held, hold_of)


def _make_solver(
    settings: NmpcSettings,
    z: Any,
    P: Any,
    cost: Any,
    g: Any,
    equality: np.ndarray,
    stage_sizes: Sequence[tuple[int, int, int]],
    *,
    warm: bool,
    name: str | None = None,
) -> Any:
    """Create the casadi ``nlpsol`` for the NLP, quiet and without raising on failure.

    ``name`` overrides :attr:`NmpcSettings.solver` (the ipopt fallback).
    """
    solver_name = settings.solver if name is None else name
    nlp = {"x": z, "p": P, "f": cost, "g": g}
    options: dict[str, Any] = {"error_on_fail": False, "print_time": False}
    if solver_name == "ipopt":
        options["ipopt"] = {
            "print_level": 0,
            "sb": "yes",
            "max_iter": settings.max_iter,
            "tol": settings.tolerance,
            "max_wall_time": settings.max_wall_time_s,
            "mu_strategy": "adaptive",
            # Slacks sit on their zero bound when a band holds: a relaxed bound
            # would let them go negative and the L1 price reward it.
            "bound_relax_factor": 0.0,
            # ipopt redoes MUMPS's symbolic analysis at every solve.  With the
            # default MC64 permuting scaling, MUMPS scaling and automatic
            # ordering it took 11 of the 18 ms CPU of a warm-started solve of
            # the chemical flowsheet's NLP (1728 variables, ipopt timing
            # statistics, 2026-11-21); the NLP is already scaled, and without
            # them and with AMD ordering it takes 1 ms, with the same iterates
            # (plans equal to 1e-14) and 1.5x less CPU per solve.
            "mumps_permuting_scaling": 0,
            "mumps_scaling": 0,
            "mumps_pivot_order": 0,
        }
        if warm:
            # Start from the shifted previous primal-dual point, pushed only
            # slightly off its bounds (ipopt's defaults of 1e-3 would undo it).
            options["ipopt"].update(
                {
                    "warm_start_init_point": "yes",
                    "warm_start_bound_push": 1e-9,
                    "warm_start_slack_bound_push": 1e-9,
                    "warm_start_mult_bound_push": 1e-9,
                }
            )
    else:
        # The stage structure is known: give it to fatrop instead of letting
        # it be detected from the sparsity.
        options["structure_detection"] = "manual"
        options["N"] = len(stage_sizes) - 1
        options["nx"] = [s[0] for s in stage_sizes]
        options["nu"] = [s[1] for s in stage_sizes]
        options["ng"] = [s[2] for s in stage_sizes]
        options["equality"] = [bool(e) for e in equality]
        options["fatrop"] = {
            "print_level": 0,
            "max_iter": settings.max_iter,
            "tol": settings.tolerance,
        }
    label = "nmpc_warm" if warm else ("nmpc_fallback" if name is not None else "nmpc")
    return ca.nlpsol(label, solver_name, nlp, options)
