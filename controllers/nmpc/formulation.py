"""The NMPC's optimal-control NLP, built once from the model's casadi ``f`` and ``g``.

Multiple shooting over ``N`` control intervals: the decision vector is
ordered stage by stage, ``(x_0, u_0, c_0, x_1, u_1, c_1, s_1, ..., x_N, s_N)``,
with the states ``x_k`` and MVs ``u_k`` scaled (``x = offset + scale *
x_scaled``), ``c_k`` the scaled Radau IIA stage states of interval ``k``
(collocation only, empty otherwise) and ``s_k`` the non-negative band slacks
of sample ``k``.  The constraints are

- ``x_0 = x_hat`` (the estimate) and, per interval, either the shooting gap
  ``x_{k+1} = F(x_k, u_k)``, ``F`` classical RK4 sub-steps of the model's
  ``f`` (a discrete-time model's ``f`` applied ``dt / model.dt_s`` times), or
  the collocation equations ``R(x_k, c_k, u_k) = 0`` followed by the gap
  ``x_{k+1} = c_k[last]`` (the last Radau point is the interval end;
  :mod:`controllers.nmpc.discretisation`);
- the moves ``u_k - u_{k-1}`` (``u_{-1}`` the current MVs) inside the rate limits;
- the soft bands ``(y_k - low) / scale + s_lo >= 0`` and
  ``(high - y_k) / scale + s_hi >= 0`` for ``k = 1..N``;

and the MV limits are bounds of ``u_k``.  Offset-free prediction: estimated
disturbance states (:class:`~controllers.estimation.DisturbanceState`) are
held constant over the horizon and added to their input, measured
disturbance or CV.  Everything a solve changes (estimate, disturbances,
current MVs, fixed inputs, setpoints, bands, MV targets) is a parameter, so
the NLP and its derivatives are generated once.

The CV at sample ``k`` is ``y(x_k, u_k)`` (``u_{N-1}`` at ``k = N``): an
output with direct feedthrough sees the input applied from that sample on.
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
from controllers.nmpc.settings import NmpcSettings
from plant_models.core.equations import EquationModel

__all__ = ["Layout", "OcpProblem", "build_problem"]


@dataclass(frozen=True)
class Layout:
    """Positions of the parts of the decision, constraint and parameter vectors.

    Attributes
    ----------
    x_index : numpy.ndarray, shape (N + 1, nx)
        Decision-vector positions of the scaled states.
    u_index : numpy.ndarray, shape (N, n_mv)
        Decision-vector positions of the scaled MVs.
    s_index : numpy.ndarray, shape (N, n_slack)
        Decision-vector positions of the slacks of samples ``1..N``.
    c_index : numpy.ndarray, shape (N, nx * degree)
        Decision-vector positions of the scaled collocation stage states of
        each interval, stage by stage (zero columns without collocation).
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
    g_stage : int
        Constraints per interval: the constraint vector is the ``nx`` initial
        conditions followed by ``N`` blocks of this length.
    param_slices : dict of str to slice
        Parts of the parameter vector: ``x0, w, d, u_prev, u_fixed, setpoint,
        low, high, target``.
    """

    x_index: np.ndarray
    u_index: np.ndarray
    s_index: np.ndarray
    c_index: np.ndarray
    move_index: np.ndarray
    band_index: np.ndarray
    slack_names: tuple[str, ...]
    slack_cv: tuple[int, ...]
    n_z: int
    n_g: int
    g_stage: int
    param_slices: dict[str, slice]


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
    layout : Layout
        Vector positions.
    x_offset, x_scale : numpy.ndarray, shape (nx,)
        State scaling ``x = offset + scale * x_scaled``. [SI]
    u_scale : numpy.ndarray, shape (n_mv,)
        MV scaling ``u = scale * u_scaled``. [SI]
    cv_of : casadi.Function
        ``(z, p) -> Y``: the CVs at samples ``0..N`` of a decision vector,
        shape ``(n_cv, N + 1)``. [SI]
    hold : casadi.Function
        ``p -> (cost, Y)``: objective and CVs of holding the current MVs.
    nx, nw, nd, n_fixed : int
        Sizes of the state, disturbance-state, disturbance and fixed-input vectors.
    fixed_index : tuple of int
        Model input positions of the fixed inputs.
    method : {"rk4", "collocation", "discrete"}
        Discretisation used.
    """

    solver: Any
    warm_solver: Any
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
    input_names = [v.name for v in model.inputs]
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
        _ = input_names
        return ca.vertcat(*parts) if parts else sym(0, 1)

    def cvs(x: Any, u_mv: Any) -> Any:
        y = G(x, full_input(u_mv), d_eff)
        out = []
        for j, c in enumerate(settings.cvs):
            value = x[cv_index[j]] if c.kind == "x" else y[cv_index[j]]
            out.append(value + w_cv.get(j, 0.0))
        return ca.vertcat(*out)

    # Slack columns.
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
    cv_scale = np.array([c.scale for c in settings.cvs])
    tracked = [j for j, c in enumerate(settings.cvs) if c.setpoint is not None]
    terminal = (
        np.zeros((n_cv, n_cv))
        if settings.terminal_weight is None
        else np.array(settings.terminal_weight, dtype=np.float64)
    )
    prices = [settings.band_price(settings.cvs[j]) for j in slack_cv]

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
        cost: Any = 0.0
        e = (y - par["setpoint"]) / cv_scale
        for j in tracked:
            cost += settings.cvs[j].weight * e[j] ** 2
        if last and np.any(terminal):
            cost += ca.bilin(ca.DM(terminal), e)
        for col in range(n_s):
            cost += prices[col] * (s[col] + s[col] ** 2)
        return cost

    def mv_cost(u: Any, u_before: Any) -> Any:
        cost: Any = 0.0
        for i, m in enumerate(settings.mvs):
            cost += m.move_weight * ((u[i] - u_before[i]) / m.scale) ** 2
            if m.target is not None and m.target_weight > 0.0:
                cost += m.target_weight * ((u[i] - par["target"][i]) / m.scale) ** 2
        return cost

    # Decision variables, stage by stage.
    Xs = [sym.sym(f"x_{k}", nx) for k in range(N + 1)]
    Us = [sym.sym(f"u_{k}", n_mv) for k in range(N)]
    Ss = [sym.sym(f"s_{k}", n_s) for k in range(1, N + 1)]
    Cs = [sym.sym(f"c_{k}", nx * degree) for k in range(N)]
    z_parts: list[Any] = []
    x_index = np.zeros((N + 1, nx), dtype=int)
    u_index = np.zeros((N, n_mv), dtype=int)
    s_index = np.zeros((N, n_s), dtype=int)
    c_index = np.zeros((N, nx * degree), dtype=int)
    pos = 0
    for k in range(N + 1):
        x_index[k] = np.arange(pos, pos + nx)
        z_parts.append(Xs[k])
        pos += nx
        if k < N:
            u_index[k] = np.arange(pos, pos + n_mv)
            z_parts.append(Us[k])
            pos += n_mv
            c_index[k] = np.arange(pos, pos + nx * degree)
            z_parts.append(Cs[k])
            pos += nx * degree
        if k >= 1:
            s_index[k - 1] = np.arange(pos, pos + n_s)
            z_parts.append(Ss[k - 1])
            pos += n_s
    z = ca.vertcat(*z_parts)

    def x_of(k: int) -> Any:
        return ca.DM(x_off) + ca.DM(x_sc) * Xs[k]

    def u_of(k: int) -> Any:
        return ca.DM(u_sc) * Us[k]

    g_parts: list[Any] = [(x_of(0) - par["x0"]) / x_sc]
    pos_g = nx
    move_index = np.zeros((N, n_mv), dtype=int)
    band_index = np.zeros((N, n_s), dtype=int)
    cost: Any = 0.0
    for k in range(N):
        u_k = u_of(k)
        u_before = par["u_prev"] if k == 0 else u_of(k - 1)
        if imap.collocation is not None:
            stages = ca.reshape(Cs[k], nx, degree)
            stages_si = ca.repmat(ca.DM(x_off), 1, degree) + ca.DM(x_sc) * stages
            residual = imap.collocation.residual(
                x_of(k), stages_si, full_input(u_k), d_eff, ca.DM(p)
            )
            g_parts.append(residual / ca.DM(np.tile(x_sc, degree)))
            pos_g += nx * degree
            g_parts.append(Xs[k + 1] - stages[:, degree - 1])
        else:
            x_next = F(x_of(k), full_input(u_k), d_eff)
            g_parts.append(Xs[k + 1] - (x_next - x_off) / x_sc)
        pos_g += nx
        g_parts.append((u_k - u_before) / u_sc)
        move_index[k] = np.arange(pos_g, pos_g + n_mv)
        pos_g += n_mv
        y_next = cvs(x_of(k + 1), u_of(min(k + 1, N - 1)))
        g_parts.append(band_terms(y_next) + Ss[k])
        band_index[k] = np.arange(pos_g, pos_g + n_s)
        pos_g += n_s
        cost += mv_cost(u_k, u_before) + stage_cost(y_next, Ss[k], k == N - 1)
    g = ca.vertcat(*g_parts)

    solver = _make_solver(settings, z, P, cost, g, warm=False)
    warm = settings.warm_start_dual and settings.solver == "ipopt"
    warm_solver = _make_solver(settings, z, P, cost, g, warm=True) if warm else None
    Y = ca.horzcat(*[cvs(x_of(k), u_of(min(k, N - 1))) for k in range(N + 1)])
    cv_of = ca.Function("nmpc_cv_of", [z, P], [Y], ["z", "p"], ["Y"])

    # Holding the current MVs: roll out, slacks at their smallest values.  The
    # objective of a state trajectory is one function of P; the roll-out is
    # inlined for RK4 and calls the collocation Newton solve (an MX function).
    X_h = sym.sym("X_h", nx, N + 1)
    hold_cost: Any = 0.0
    y_hold = [cvs(X_h[:, 0], par["u_prev"])]
    for k in range(N):
        y_h = cvs(X_h[:, k + 1], par["u_prev"])
        y_hold.append(y_h)
        s_h = ca.fmax(0.0, -band_terms(y_h)) if n_s else sym(0, 1)
        hold_cost += mv_cost(par["u_prev"], par["u_prev"]) + stage_cost(y_h, s_h, k == N - 1)
    hold_of = ca.Function("nmpc_hold_of", [P, X_h], [hold_cost, ca.horzcat(*y_hold)])
    held = ca.Function("nmpc_held", [P], [full_input(par["u_prev"]), d_eff])
    P_h = (ca.MX if imap.collocation is not None else sym).sym("P", P.numel())
    u_h, d_h = held(P_h)
    x_h = P_h[param_slices["x0"]]
    rollout = [x_h]
    for _ in range(N):
        x_h = F(x_h, u_h, d_h)
        rollout.append(x_h)
    hold_outputs = hold_of(P_h, ca.horzcat(*rollout))
    hold = ca.Function("nmpc_hold", [P_h], list(hold_outputs), ["p"], ["cost", "Y"])

    layout = Layout(
        x_index=x_index,
        u_index=u_index,
        s_index=s_index,
        c_index=c_index,
        move_index=move_index,
        band_index=band_index,
        slack_names=tuple(
            f"{settings.cvs[j].name}.{side}" for j, side in zip(slack_cv, slack_side, strict=True)
        ),
        slack_cv=tuple(slack_cv),
        n_z=int(z.numel()),
        n_g=int(g.numel()),
        g_stage=(int(g.numel()) - nx) // N,
        param_slices=param_slices,
    )
    return OcpProblem(
        solver=solver,
        warm_solver=warm_solver,
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
    )


def _make_solver(settings: NmpcSettings, z: Any, P: Any, cost: Any, g: Any, *, warm: bool) -> Any:
    """Create the casadi ``nlpsol`` for the NLP, quiet and without raising on failure."""
    nlp = {"x": z, "p": P, "f": cost, "g": g}
    options: dict[str, Any] = {"error_on_fail": False, "print_time": False}
    if settings.solver == "ipopt":
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
        options["structure_detection"] = "auto"
        options["fatrop"] = {
            "print_level": 0,
            "max_iter": settings.max_iter,
            "tol": settings.tolerance,
        }
    return ca.nlpsol("nmpc_warm" if warm else "nmpc", settings.solver, nlp, options)
