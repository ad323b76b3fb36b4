"""The economic MPC's NLP: scaled variables, dynamics rows, bands, hard-limit slacks, solvers.

The NLP is built once over ``N`` intervals with the inputs held in each
(:mod:`controllers.economic.discretise`).  Decision vector ``z`` (scaled by
the MV spans, the state envelopes and the row scales)::

    z = [vec(U_s), vec(X_s), vec(S), vec(H)]

with the intervals of each block contiguous (casadi's column-major ``vec``).
With Radau collocation ``X_s`` holds the states at the ``s`` stage points of
every interval, tied by the collocation equations; with RK4 it holds the
interval ends, tied by ``x_{k+1} = F(x_k, u_k, d_k, p)`` (multiple shooting).
``S`` holds one slack per soft band and ``H`` one per hard limit and interval
end (:mod:`controllers.economic.outputs`): a band ``[lo, hi]`` of row scale
``c`` (its width) gives the two rows ``v / c + s >= lo / c`` and
``v / c - s <= hi / c``.

Objective per interval (Radau quadrature over the stage points; trapezoid
over the two ends with RK4)::

    dt * (price_k * P_purchased + sum_j c_j * v_j)      energy, fuel, flare, CO2
    + sum_b w1_b * e_b + w2_b * e_b^2             normal bands, e_b = s_b c_b / scale_b
    + sum_i m_i * ((u_k - u_{k-1}) / span_i)^2     move suppression
    + W * sum_h e_h                                hard limits, e_h = s_h c_h / scale_h

(``scale`` is the variable's scale: the penalties are per unit of it, as
before the slacks were merged.)  Rows ``g``: dynamics (zero), MV moves over
their spans (the rate limits, filled per solve), two rows per band, two per
hard limit (low, high; bounds filled per solve), balances (zero).  The
objective handed to ipopt is multiplied by ``settings.objective_scale``.

Measured on the demo steelworks at 24 h / 15 min (``benchmarks/ctl_empc.py``,
same states, same run): one slack per band and per hard limit instead of one
per side cut the decision vector from 6,336 to 4,896 entries and the CPU per
ipopt iteration to 0.96x, same iterations, same optimum (see ``_solvers`` for
the MUMPS options, worth more).

With ``settings.grid`` the solver's NLP has fewer, longer intervals late in
the horizon (:mod:`controllers.economic.grid`): each interval ``k`` of
``m_k`` control intervals weighs its costs, band and hard-limit penalties by
``m_k``, sees the mean disturbances and price of its control intervals, and
is integrated over ``m_k * dt``.  The full-grid NLP (one control interval
per interval) is still built for the row layout and :attr:`evaluate_fn`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import casadi as ca
import numpy as np

from controllers.economic.blocking import BlockedSolver, mv_blocks
from controllers.economic.discretise import Collocation
from controllers.economic.grid import BlockKind, GridSolver, HorizonGrid
from controllers.economic.outputs import OutputBounds
from controllers.economic.settings import EconomicMPCSettings

__all__ = ["NLPFormulation", "ProblemLayout", "build_formulation"]


@dataclass(frozen=True, eq=False)
class ProblemLayout:
    """What the NLP is built from: settings, sizes, scales and the plant's casadi functions.

    Attributes
    ----------
    settings : EconomicMPCSettings
        MVs, costs, bands, limits, horizon and interval.
    sizes : Mapping[str, int]
        Plant sizes ``x``, ``u``, ``d``, ``p``.
    mv_index : tuple of int
        Position of each MV among the plant inputs.
    mv_low : numpy.ndarray
        MV lower limits, shape ``(n_mv,)``. [SI]
    mv_span : numpy.ndarray
        MV ranges (at least 1e-9), shape ``(n_mv,)``. [SI]
    var_names : tuple of str
        Referenced outputs/states, in the order of ``selector``'s output.
    var_scale : numpy.ndarray
        Scale of each referenced variable, shape ``(n_v,)``. [SI]
    x_scale : numpy.ndarray
        Scale of each state (largest envelope magnitude, else 1), shape ``(n_x,)``. [SI]
    n_nodes : int
        State nodes per interval (collocation degree, or 1 with RK4).
    step : casadi.Function
        One interval ``(x, u, d, p) -> x_next`` (collocation: ``(x_next, xc)``).
    collocation : Collocation or None
        Radau collocation of one interval, ``None`` with RK4.
    selector : casadi.Function
        ``(x, u, d, p) -> v``, the referenced variables.
    coarse : Mapping[int, tuple]
        For each NLP interval length ``m > 1`` of ``settings.grid`` (in control
        intervals): ``(step, collocation)`` of an interval ``m`` times as long.
    """

    settings: EconomicMPCSettings
    sizes: Mapping[str, int]
    mv_index: tuple[int, ...]
    mv_low: np.ndarray
    mv_span: np.ndarray
    var_names: tuple[str, ...]
    var_scale: np.ndarray
    x_scale: np.ndarray
    n_nodes: int
    step: ca.Function
    collocation: Collocation | None
    selector: ca.Function
    coarse: Mapping[int, tuple[ca.Function, Collocation | None]] = field(default_factory=dict)

    def vi(self, name: str) -> int:
        """Return the position of a referenced variable in ``var_names``."""
        return self.var_names.index(name)

    @cached_property
    def band_index(self) -> list[int]:
        """Position of each soft band's variable in ``var_names``."""
        return [self.vi(b.variable) for b in self.settings.soft_bands]

    @cached_property
    def limit_index(self) -> list[int]:
        """Position of each hard limit's variable in ``var_names``."""
        return [self.vi(h.variable) for h in self.settings.hard_limits]

    @cached_property
    def band_scale(self) -> np.ndarray:
        """Row scale of each band, shape ``(n_b,)``: its variable's scale. [SI].

        Measured on the demo steelworks at 24 h / 15 min
        (``benchmarks/ctl_empc.py``, same states, same run): band rows scaled
        by the band's width (steam pressures: 1e5 Pa bands of unscaled Pa
        outputs) took 1.7-2x the iterations, hard-limit rows scaled by the
        distance between the limits 2x; the variable's scale stays.
        """
        return np.asarray(self.var_scale[self.band_index], dtype=float)

    @cached_property
    def limit_scale(self) -> np.ndarray:
        """Row scale of each hard limit, shape ``(n_h,)``: its variable's scale. [SI]."""
        return np.asarray(self.var_scale[self.limit_index], dtype=float)

    def band_rows(self, ob: OutputBounds) -> tuple[np.ndarray, np.ndarray]:
        """Scaled band bounds ``(low, high)`` of the band rows, shape ``(n_b, N)`` each.

        Parameters
        ----------
        ob : OutputBounds
            Bounds at the interval ends. [SI]

        Returns
        -------
        tuple of numpy.ndarray
        """
        c = self.band_scale[:, None]
        return ob.band_low / c, ob.band_high / c

    def limit_rows(self, ob: OutputBounds) -> tuple[np.ndarray, np.ndarray]:
        """Scaled hard-limit bounds of the user's limits, shape ``(n_h_user, N)`` each.

        Parameters
        ----------
        ob : OutputBounds
            Bounds at the interval ends (the settings' hard limits). [SI]

        Returns
        -------
        tuple of numpy.ndarray
        """
        c = self.limit_scale[: ob.limit_low.shape[0], None]
        return ob.limit_low / c, ob.limit_high / c

    def slacks_to_var_scale(self, S: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Band and hard-limit slacks ``(n, N)`` in units of their variable's scale. [1].

        Parameters
        ----------
        S, H : numpy.ndarray
            Slacks in units of the row scales, shapes ``(n_b, N)`` and ``(n_h, N)``.

        Returns
        -------
        tuple of numpy.ndarray
        """
        b = (self.band_scale / self.var_scale[self.band_index])[:, None]
        h = (self.limit_scale / self.var_scale[self.limit_index])[:, None]
        return S * b, H * h


@dataclass(frozen=True, eq=False)
class NLPFormulation:
    """The built NLP: solver instances, row bounds and layout of ``z`` and ``g``.

    Attributes
    ----------
    n_z : int
        Number of decision variables.
    z_blocks : list of int
        Entries per interval of each block of ``z``.
    lbg_parts, ubg_parts : list of numpy.ndarray
        Row bounds per block of ``g`` (the rate-limit, band and hard-limit
        blocks are replaced per solve).
    rate_slot : int
        Index of the rate-limit block in ``lbg_parts``/``ubg_parts``; the two
        blocks (low, high) of band ``j`` follow at ``rate_slot + 1 + 2 j``,
        those of hard limit ``j`` after the bands'.
    g_blocks : list of int
        Rows per interval of each block of ``g``.
    solver : casadi.Function or BlockedSolver
        ipopt, cold start (on the move-blocked NLP with ``settings.move_blocks``).
    solver_warm : LazySolver or None
        ipopt with ``warm_start_init_point``, built on first use (``None``
        unless ``settings.warm_start``).
    evaluate_fn : casadi.Function
        ``(U_s, X_s, S, H, P) -> (objective, cost, X, V_end)``,
        unscaled objective and cost. [currency]
    rollout : casadi.Function
        ``step`` accumulated over the ``N`` intervals.
    grid_evaluate_fn : casadi.Function or None
        With ``settings.grid``: ``evaluate_fn`` of the grid's NLP (its
        intervals' ``U_s``, ``X_s``, ``S``, ``H``; the same ``P``).
    """

    n_z: int
    z_blocks: list[int]
    lbg_parts: list[np.ndarray]
    ubg_parts: list[np.ndarray]
    rate_slot: int
    g_blocks: list[int]
    solver: Any
    solver_warm: Any
    evaluate_fn: ca.Function
    rollout: ca.Function
    grid_evaluate_fn: ca.Function | None = None


@dataclass(frozen=True, eq=False)
class _Built:
    """One NLP's casadi pieces: symbols, expressions, row bounds and block sizes."""

    nlp: dict[str, Any]
    symbols: tuple[Any, ...]
    outputs: tuple[Any, ...]
    lbg_parts: list[np.ndarray]
    ubg_parts: list[np.ndarray]
    rate_slot: int
    z_blocks: list[tuple[int, BlockKind]]
    g_blocks: list[tuple[int, BlockKind]]


def _build_nlp(layout: ProblemLayout, grid: HorizonGrid | None) -> _Built:
    """The NLP over the control intervals (``grid`` ``None``) or over the grid's intervals.

    Its parameters are the same either way: disturbances and prices per
    control interval (a grid NLP takes their means over each of its intervals).
    """
    s = layout.settings
    N = s.horizon if grid is None else grid.n_coarse
    n, n_nodes = layout.sizes, layout.n_nodes
    n_mv, n_b, n_h = len(s.mvs), len(s.soft_bands), len(s.hard_limits)
    U_s = ca.MX.sym("U", n_mv, N)
    X_s = ca.MX.sym("X", n["x"], N * n_nodes)
    # One slack per band and per hard limit (exact-penalty), in units of its row scale.
    S = ca.MX.sym("S", n_b, N)
    H = ca.MX.sym("H", n_h, N)
    x0, mv_prev, u_base = (
        ca.MX.sym("x0", n["x"]),
        ca.MX.sym("mv_prev", n_mv),
        ca.MX.sym("u_base", n["u"]),
    )
    D = ca.MX.sym("D", n["d"], s.horizon)
    price, p = ca.MX.sym("price", 1, s.horizon), ca.MX.sym("p", n["p"])
    U = ca.diag(ca.DM(layout.mv_span)) @ U_s + ca.repmat(ca.DM(layout.mv_low), 1, N)
    X = ca.diag(ca.DM(layout.x_scale)) @ X_s
    z = ca.vertcat(ca.vec(U_s), ca.vec(X_s), ca.vec(S), ca.vec(H))
    P = ca.vertcat(x0, mv_prev, u_base, ca.vec(D), ca.vec(price), p)
    obj, cost, g_dyn, V_end, moves = _expressions(
        layout, grid, U, X, S, x0, mv_prev, u_base, D, price, p
    )
    # Exact penalty: an L1 term whose weight exceeds every multiplier of the
    # economic problem leaves its optimum unchanged whenever the limits can
    # be kept (Nocedal and Wright 2006, thm. 17.3) and keeps the NLP
    # feasible when they cannot.
    obj += hard_penalty(layout, H, None if grid is None else np.asarray(grid.lengths, float))
    lbg_parts: list[np.ndarray] = []
    ubg_parts: list[np.ndarray] = []
    g_parts: list[Any] = []
    kinds = [BlockKind.HELD, BlockKind.MOVE]
    g_parts.append(ca.vec(g_dyn))
    lbg_parts.append(np.zeros(n["x"] * n_nodes * N))
    ubg_parts.append(np.zeros(n["x"] * n_nodes * N))
    g_parts.append(ca.vec(moves / ca.repmat(ca.DM(layout.mv_span), 1, N)))
    rate_slot = len(lbg_parts)
    lbg_parts.append(np.zeros(n_mv * N))
    ubg_parts.append(np.zeros(n_mv * N))
    for expr, low, high in output_rows(layout, V_end, S, H, N):
        g_parts.append(ca.vec(expr))
        lbg_parts.append(low)
        ubg_parts.append(high)
        kinds.append(BlockKind.HELD)
    for name in s.balances:
        i, sc = layout.vi(name), layout.var_scale[layout.vi(name)]
        g_parts.append(ca.vec(V_end[i, :] / sc))
        lbg_parts.append(np.zeros(N))
        ubg_parts.append(np.zeros(N))
        kinds.append(BlockKind.HELD)
    z_sizes = [n_mv, n["x"] * n_nodes, n_b, n_h]
    z_kinds = [BlockKind.HELD, BlockKind.STATE, BlockKind.HELD, BlockKind.HELD]
    return _Built(
        nlp={"x": z, "p": P, "f": obj * s.objective_scale, "g": ca.vertcat(*g_parts)},
        symbols=(U_s, X_s, S, H, P),
        outputs=(obj, cost, X, V_end),
        lbg_parts=lbg_parts,
        ubg_parts=ubg_parts,
        rate_slot=rate_slot,
        z_blocks=list(zip(z_sizes, z_kinds, strict=True)),
        g_blocks=[(part.size // N, kind) for part, kind in zip(lbg_parts, kinds, strict=True)],
    )


def build_formulation(layout: ProblemLayout) -> NLPFormulation:
    """Build the economic NLP and its ipopt solvers (see the module docstring).

    Parameters
    ----------
    layout : ProblemLayout
        Settings, sizes, scales and casadi functions of the plant.

    Returns
    -------
    NLPFormulation
    """
    s = layout.settings
    full = _build_nlp(layout, None)
    grid_evaluate_fn = None
    if s.grid:
        grid = HorizonGrid(tuple(s.grid))
        coarse = _build_nlp(layout, grid)
        solver, solver_warm = _solvers(s, coarse.nlp, grid=(grid, coarse))
        grid_evaluate_fn = ca.Function("evaluate_grid", list(coarse.symbols), list(coarse.outputs))
    else:
        solver, solver_warm = _solvers(s, full.nlp, full.lbg_parts[0].size)
    # Plan evaluation (hold trajectory, reported objective) from the same
    # expressions, over the control intervals.
    evaluate_fn = ca.Function("evaluate", list(full.symbols), list(full.outputs))
    return NLPFormulation(
        n_z=int(full.nlp["x"].numel()),
        z_blocks=[size for size, _ in full.z_blocks],
        lbg_parts=full.lbg_parts,
        ubg_parts=full.ubg_parts,
        rate_slot=full.rate_slot,
        g_blocks=[size for size, _ in full.g_blocks],
        solver=solver,
        solver_warm=solver_warm,
        evaluate_fn=evaluate_fn,
        rollout=layout.step.mapaccum("rollout", s.horizon),
        grid_evaluate_fn=grid_evaluate_fn,
    )


def output_rows(
    layout: ProblemLayout, V_end: Any, S: Any, H: Any, n_intervals: int | None = None
) -> list[tuple[Any, Any, Any]]:
    """Band and hard-limit rows ``(expression, low, high)``: two per band, two per limit.

    The bounds are the settings' (scaled by the row scales); a solve
    replaces them with its per-interval bounds.

    Parameters
    ----------
    layout : ProblemLayout
        Settings and scales.
    V_end : casadi.MX
        Referenced variables at the interval ends, ``(n_v, N)``. [SI]
    S, H : casadi.MX
        Band and hard-limit slacks, ``(n_b, N)`` and ``(n_h, N)``. [1]
    n_intervals : int or None
        NLP intervals ``N`` (default the settings' horizon).

    Returns
    -------
    list of tuple
    """
    s = layout.settings
    N = s.horizon if n_intervals is None else n_intervals
    rows: list[tuple[Any, Any, Any]] = []
    bounds = [(b.low, b.high) for b in s.soft_bands] + [(h.low, h.high) for h in s.hard_limits]
    slacks = [S[j, :] for j in range(len(s.soft_bands))]
    slacks += [H[j, :] for j in range(len(s.hard_limits))]
    index = layout.band_index + layout.limit_index
    scale = np.concatenate([layout.band_scale, layout.limit_scale])
    for (low, high), slack, i, c in zip(bounds, slacks, index, scale, strict=True):
        v = V_end[i, :] / c
        rows.append((v + slack, np.full(N, low / c), np.full(N, np.inf)))
        rows.append((v - slack, np.full(N, -np.inf), np.full(N, high / c)))
    return rows


def hard_penalty(layout: ProblemLayout, H: Any, lengths: np.ndarray | None = None) -> Any:
    """Exact penalty ``W * sum(excursion / variable scale)`` of the hard-limit slacks.

    Parameters
    ----------
    layout : ProblemLayout
        Settings and scales.
    H : casadi.MX
        Hard-limit slacks in units of their row scales, ``(n_h, N)``. [1]
    lengths : numpy.ndarray or None
        Length of each interval in control intervals (its weight), shape
        ``(N,)``; default one each.

    Returns
    -------
    casadi.MX
        [currency]
    """
    s = layout.settings
    if not s.hard_limits:
        return 0
    per_unit = layout.limit_scale / layout.var_scale[layout.limit_index]
    total = ca.sum2(H) if lengths is None else H @ ca.DM(lengths)
    return s.hard_limit_weight * ca.dot(ca.DM(per_unit), total)


def _solvers(
    s: EconomicMPCSettings,
    nlp: dict[str, Any],
    move_rows: int | None = None,
    grid: tuple[HorizonGrid, _Built] | None = None,
) -> tuple[Any, Any]:
    """Return the cold-start ipopt instance and, if ``s.warm_start``, the warm-start one.

    With ``s.move_blocks`` both solve the move-blocked NLP
    (:class:`~controllers.economic.blocking.BlockedSolver`, called like the
    casadi ones); ``move_rows`` is the first MV-move row of ``nlp`` (needed then).
    With ``grid`` (the grid and its NLP, ``nlp`` being that one) both solve
    the coarse-grid NLP (:class:`~controllers.economic.grid.GridSolver`).
    """
    ipopt: dict[str, Any] = {
        "print_level": 0,
        "sb": "yes",
        "max_iter": s.max_iter,
        "max_wall_time": s.max_wall_time_s,
        "tol": s.tolerance,
        # Measured on the demo steelworks at 24 h / 15 min: the adaptive barrier
        # update (extra solves per iteration for its quality function) wandered
        # for 300 iterations on the degenerate economic plans; the monotone
        # (Fiacco-McCormick) update converged in 25-50.  The approximate
        # minimum-fill ordering (AMF, 2) factorised this KKT system about 25 %
        # faster than MUMPS' automatic choice.
        # Also measured there (2026-11, same run, CPU time): fatrop on a
        # stage-ordered form of this NLP (states (x_k, u_{k-1}), controls
        # (u_k, stage points, slacks), every row mapped one to one) reached the
        # same optimum in 38 iterations but took ~45 ms CPU per iteration
        # against ~16 ms for ipopt + MUMPS (its Riccati blocks are 36 states by
        # 56 controls with ~56 path rows per stage), and from a cold start it
        # stalled in its first iteration on badly scaled rows (no automatic
        # scaling, no wall-time limit); an SQP with hpipm would pay the same
        # Riccati cost per QP iteration.  ipopt stays the solver.
        "mu_strategy": "monotone",
        "linear_solver": "mumps",
        "mumps_pivot_order": 2,
    }
    # Measured on the same case (benchmarks/ctl_empc.py, 24 rolling solves,
    # same states, same run, 2026-11-21), each at the same iterations and the
    # same points: without MUMPS' permuting scaling (maximum-transversal
    # matching, the costly part) and its row/column scaling -- the rows are
    # scaled already by ipopt's gradient-based NLP scaling -- 0.85x the CPU
    # per iteration; a MUMPS workspace of 100 % above its estimate instead of
    # ipopt's 1000 % another 0.83x (30 % the same, 5 % slower: reallocations).
    # Also measured there and left: mumps_pivtol 1e-8 (no gain), METIS
    # ordering (1.4x slower than AMF), linear_system_scaling "none" (already
    # the default without HSL), nlp_scaling_method "none" (1.9x the
    # iterations), a limited-memory Hessian (12x the iterations).
    ipopt["mumps_scaling"] = 0
    ipopt["mumps_permuting_scaling"] = 0
    ipopt["mumps_mem_percent"] = 100
    # ipopt's "acceptable" stop for stalls: 10 consecutive iterates with the
    # scaled NLP error below 1e-4, the rows kept to 1e-4 of their scale and the
    # objective changing by less than 1e-6 (relative) end the solve as
    # Solved_To_Acceptable_Level (SolveStatus.SUBOPTIMAL, a usable plan);
    # solves that converge keep tol 1e-7.  Measured on the demo steelworks
    # (2026-11-21): with a blast-furnace blowdown in the horizon
    # (benchmarks/ctl_empc.py --steps 10, seed 3) the objective settled to 8
    # digits by iteration 70 while the scaled dual infeasibility stalled at
    # ~6e-5, and ipopt ran to its 300-iteration limit (FAILED, 4.2 s) in this
    # and every following rolling solve; now 83 iterations, 0.85 s.  In the
    # 30-day replay such decisions were 165 of 2,880 and ~40 % of the CPU;
    # of 9 captured from a 2-day replay (objective settled only to ~1e-7,
    # rows oscillating around 1e-4) an objective condition of 1e-8 caught
    # none, 1e-6 caught 8 (68-99 iterations).  The objective condition keeps
    # the stop to stalls: without it a 1-min x 12 plan still converging
    # (tests/controllers/economic/test_commitment.py) stopped at iteration
    # 32; converging rolling solves (ctl_empc.py --steps 24) still end
    # Solve_Succeeded.
    ipopt["acceptable_tol"] = 1e-4
    ipopt["acceptable_iter"] = 10
    ipopt["acceptable_constr_viol_tol"] = 1e-4
    ipopt["acceptable_obj_change_tol"] = 1e-6
    ipopt.update(dict(s.ipopt_options))
    opts: dict[str, Any] = {
        "error_on_fail": False,
        "print_time": False,
        "expand": True,
        "ipopt": ipopt,
    }
    if grid is not None:
        horizon_grid, built = grid

        def make(name: str, options: dict[str, Any]) -> Any:
            return GridSolver(nlp, options, name, horizon_grid, built.z_blocks, built.g_blocks)

    elif s.move_blocks and move_rows is not None:
        names = tuple(mv.name for mv in s.mvs)
        block = mv_blocks(s.move_blocks, s.horizon, names, s.move_blocks_exempt)

        def make(name: str, options: dict[str, Any]) -> Any:
            return BlockedSolver(nlp, options, name, len(s.mvs), block, move_rows)

    else:

        def make(name: str, options: dict[str, Any]) -> Any:
            return ca.nlpsol(name, "ipopt", nlp, options)

    solver = make("economic_mpc", opts)
    solver_warm = None
    if s.warm_start:
        warm = {
            **ipopt,
            "warm_start_init_point": "yes",
            "warm_start_bound_push": 1e-6,
            "warm_start_mult_bound_push": 1e-6,
            "warm_start_slack_bound_push": 1e-6,
            "mu_init": s.warm_start_mu_init,
        }
        warm_opts = {**opts, "ipopt": warm}
        solver_warm = LazySolver(lambda: make("economic_mpc_warm", warm_opts))
    return solver, solver_warm


class LazySolver:
    """A solver built on its first use (the warm-start ipopt instance).

    Building an ``nlpsol`` derives and compiles the NLP's derivative functions
    (about 0.8 s CPU for the 24-h steelworks problem); the first solve of a
    controller is cold, so the warm instance is not needed before the second.
    The advisor's first recommendation -- the one a user waits for when a
    project opens -- then pays for one build, not two.

    Parameters
    ----------
    factory : callable
        ``factory() -> solver`` (a ``casadi.Function`` or :class:`BlockedSolver`).
    """

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._solver: Any = None

    @property
    def built(self) -> bool:
        """Whether the solver exists yet."""
        return self._solver is not None

    def get(self) -> Any:
        """The solver, built now if it was not yet."""
        if self._solver is None:
            self._solver = self._factory()
            self._factory = None
        return self._solver

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the solver (building it first if needed); arguments as the solver's."""
        return self.get()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only for attributes this class lacks (stats, get_function, ...).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)


def _expressions(  # type: ignore[no-untyped-def]
    layout: ProblemLayout, grid: HorizonGrid | None, U, X, S, x0, mv_prev, u_base, D, price, p
):
    """Objective, cost, dynamics residuals, end values and moves of the NLP (casadi MX).

    ``D`` and ``price`` are per control interval; with a ``grid`` the NLP's
    intervals are the grid's (``U``, ``X``, ``S`` over them) and see their means.
    """
    s = layout.settings
    n = layout.sizes
    N = s.horizon if grid is None else grid.n_coarse
    lengths = np.ones(N) if grid is None else np.asarray(grid.lengths, dtype=float)
    if grid is not None:
        means = ca.DM(grid.mean_matrix)
        D, price = D @ means, price @ means
    E = np.zeros((n["u"], len(s.mvs)))
    for j, i in enumerate(layout.mv_index):
        E[i, j] = 1.0
    keep = np.diag(1.0 - E.sum(axis=1))
    U_full = ca.repmat(ca.DM(keep) @ u_base, 1, N) + ca.DM(E) @ U
    m = layout.n_nodes
    X_end = X[:, m - 1 :: m]
    X_prev = ca.horzcat(x0, X_end[:, : N - 1])
    P_rep = ca.repmat(p, 1, N)
    xsc = ca.DM(layout.x_scale)
    sel = layout.selector
    sel_map = sel.map(N)
    if layout.collocation is not None:
        res = _per_length(
            layout, lengths, lambda f: f[1].residual, (X_prev, 1), (X, m), (U_full, 1), (D, 1), p
        )
        g_dyn = res / ca.repmat(xsc, m, N)
        # Values at every stage point; mean over each interval by Radau quadrature.
        spread = ca.DM(np.kron(np.eye(N), np.ones((1, m))))
        V_nodes = sel.map(N * m)(X, U_full @ spread, D @ spread, ca.repmat(p, 1, N * m))
        V_end = V_nodes[:, m - 1 :: m]
        V_mid = V_nodes @ ca.DM(np.kron(np.eye(N), layout.collocation.weights[:, None]))
    else:
        stepped = _per_length(layout, lengths, lambda f: f[0], (X_prev, 1), (U_full, 1), (D, 1), p)
        g_dyn = (stepped - X) / ca.repmat(xsc, 1, N)
        V_start = sel_map(X_prev, U_full, D, P_rep)
        V_end = sel_map(X, U_full, D, P_rep)
        V_mid = 0.5 * (V_start + V_end)
    # Each interval's duration weighs its cost and its band excursions.
    dt = ca.DM(s.interval_s * lengths).T
    cost: Any = 0
    if s.electricity_variable:
        cost += ca.dot(price * dt, V_mid[layout.vi(s.electricity_variable), :])
    for c in s.cost_terms:
        cost += c.price * ca.dot(dt, V_mid[layout.vi(c.variable), :])
    obj = cost
    # Band excursion in units of the variable's scale (the weights' unit).
    per_unit = layout.band_scale / layout.var_scale[layout.band_index]
    weight = ca.DM(lengths).T
    for j, b in enumerate(s.soft_bands):
        e = S[j, :] * per_unit[j]
        if b.weight_linear > 0.0:
            obj += b.weight_linear * (ca.sum2(e) if grid is None else ca.dot(weight, e))
        if b.weight_quadratic > 0.0:
            root = ca.DM(np.sqrt(lengths)).T
            obj += b.weight_quadratic * (ca.sumsqr(e) if grid is None else ca.sumsqr(e * root))
    moves = ca.horzcat(U[:, 0] - mv_prev, ca.diff(U, 1, 1))
    for i, mv in enumerate(s.mvs):
        if mv.move_weight > 0.0:
            obj += mv.move_weight * ca.sumsqr(moves[i, :] / layout.mv_span[i])
    return obj, cost, g_dyn, V_end, moves


def _per_length(layout: ProblemLayout, lengths: np.ndarray, pick: Any, *args: Any) -> Any:
    """Apply one interval's discretisation to every interval, by interval length.

    ``pick((step, collocation))`` gives the function of an interval of a
    given length (``layout.step``/``layout.collocation`` for one control
    interval, ``layout.coarse[m]`` for ``m``); each positional argument is
    ``(matrix, columns per interval)`` or, last, the parameter vector
    (repeated).  Returns the results in interval order.
    """
    *columns, p = args
    N = lengths.size
    groups: dict[int, list[int]] = {}
    for k, m in enumerate(lengths.astype(int)):
        groups.setdefault(int(m), []).append(k)
    if list(groups) == [1]:
        f = pick((layout.step, layout.collocation))
        return f.map(N)(*[a for a, _ in columns], ca.repmat(p, 1, N))
    pieces, order = [], []
    for m, ks in groups.items():
        f = pick((layout.step, layout.collocation) if m == 1 else layout.coarse[m])
        cols = [[k * width + j for k in ks for j in range(width)] for _, width in columns]
        pieces.append(
            f.map(len(ks))(
                *[a[:, c] for (a, _), c in zip(columns, cols, strict=True)],
                ca.repmat(p, 1, len(ks)),
            )
        )
        order.extend(ks)
    # One result column per interval; ``back`` inverts the grouping's order.
    back = np.argsort(np.asarray(order))
    return ca.horzcat(*pieces)[:, [int(k) for k in back]]
