"""Settings of the process NMPC: manipulated and controlled variables, horizon, solver.

Everything is a frozen dataclass validated in ``__post_init__``; names refer
to the plant model's variables (:class:`~plant_models.core.equations.EquationModel`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from controllers.errors import NmpcError

__all__ = ["DISCRETISATIONS", "SOLVERS", "CvSpec", "MvSpec", "NmpcSettings"]

#: NLP solvers the NMPC can use (both bundled in the casadi wheel); ipopt is
#: the default and the fallback of fatrop.
SOLVERS: tuple[str, ...] = ("ipopt", "fatrop")
#: Discretisations of a continuous-time model (:mod:`controllers.nmpc.discretisation`).
DISCRETISATIONS: tuple[str, ...] = ("auto", "rk4", "collocation")


def _positive(value: float, what: str) -> float:
    if isinstance(value, bool) or not (math.isfinite(value) and value > 0.0):
        raise NmpcError(f"{what} must be a positive finite number, got {value!r}")
    return float(value)


def _non_negative(value: float, what: str) -> float:
    if isinstance(value, bool) or not (math.isfinite(value) and value >= 0.0):
        raise NmpcError(f"{what} must be a non-negative finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class MvSpec:
    """A manipulated variable: one input of the plant model (a PID loop's setpoint).

    Attributes
    ----------
    name : str
        Name of a model input (``"tic_102.setpoint"``).
    scale : float
        Typical range of the MV; moves and targets are weighted in units of
        it and the NLP variable is ``u / scale``. [SI]
    move_weight : float
        Move suppression: weight of ``((u[k] - u[k-1]) / scale)**2``. [-]
    low, high : float
        Hard limits; each solve uses the tighter of these and the request's. [SI]
    rate : float
        Largest move per control interval (``inf`` for none); each solve uses
        the smaller of this and the request's. [SI per interval]
    target : float or None
        Ideal resting value; ``None`` for none. [SI]
    target_weight : float
        Weight of ``((u[k] - target) / scale)**2`` when ``target`` is set. [-]
    """

    name: str
    scale: float = 1.0
    move_weight: float = 1.0
    low: float = -math.inf
    high: float = math.inf
    rate: float = math.inf
    target: float | None = None
    target_weight: float = 0.0

    def __post_init__(self) -> None:
        _positive(self.scale, f"MV {self.name}: scale")
        _non_negative(self.move_weight, f"MV {self.name}: move_weight")
        _non_negative(self.target_weight, f"MV {self.name}: target_weight")
        if math.isnan(self.low) or math.isnan(self.high) or self.low > self.high:
            raise NmpcError(f"MV {self.name}: low {self.low} above high {self.high}")
        if not (self.rate > 0.0):
            raise NmpcError(
                f"MV {self.name}: rate must be positive (inf for none), got {self.rate}"
            )
        if self.target is not None and not math.isfinite(self.target):
            raise NmpcError(f"MV {self.name}: target must be finite or None")


@dataclass(frozen=True)
class CvSpec:
    """A controlled variable: tracked to a setpoint, kept in a band, or both.

    The band is soft: its violation is a non-negative slack per predicted
    sample, priced by ``band_weight`` times the priority factor of
    :attr:`NmpcSettings.priority_ratio` (an L1 plus a quadratic term, so a
    feasible band is met exactly and an infeasible one is violated least).

    Attributes
    ----------
    name : str
        Name of a model output (``kind="y"``) or state (``kind="x"``).
    kind : {"y", "x"}
        Whether ``name`` is an output of ``g`` or a state.
    scale : float
        Typical deviation; errors and slacks are measured in units of it. [SI]
    setpoint : float or None
        Tracked value; ``None`` for zone control only. [SI]
    weight : float
        Weight of ``((y[k] - setpoint) / scale)**2``. [-]
    low, high : float
        Soft band; infinite for none. [SI]
    priority : int
        Rank of the band, 1 the most important; a band of rank ``r`` is
        priced ``priority_ratio**(r_max - r)`` times its ``band_weight``.
    band_weight : float
        Price of one scaled unit of band violation per sample. [-]
    """

    name: str
    kind: str = "y"
    scale: float = 1.0
    setpoint: float | None = None
    weight: float = 1.0
    low: float = -math.inf
    high: float = math.inf
    priority: int = 1
    band_weight: float = 100.0

    def __post_init__(self) -> None:
        if self.kind not in ("y", "x"):
            raise NmpcError(f"CV {self.name}: kind must be 'y' or 'x', got {self.kind!r}")
        _positive(self.scale, f"CV {self.name}: scale")
        _non_negative(self.weight, f"CV {self.name}: weight")
        _positive(self.band_weight, f"CV {self.name}: band_weight")
        if math.isnan(self.low) or math.isnan(self.high) or self.low > self.high:
            raise NmpcError(f"CV {self.name}: band low {self.low} above high {self.high}")
        if self.setpoint is not None and not math.isfinite(self.setpoint):
            raise NmpcError(f"CV {self.name}: setpoint must be finite or None")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise NmpcError(f"CV {self.name}: priority must be an integer >= 1")
        if self.priority < 1:
            raise NmpcError(f"CV {self.name}: priority must be >= 1, got {self.priority}")

    @property
    def has_band(self) -> bool:
        """Whether the CV has a finite lower or upper band limit."""
        return math.isfinite(self.low) or math.isfinite(self.high)


@dataclass(frozen=True)
class NmpcSettings:
    """Horizon, variables, weights and solver of a :class:`~controllers.nmpc.NonlinearMPC`.

    Attributes
    ----------
    mvs : tuple of MvSpec
        Manipulated variables, in plan column order.
    cvs : tuple of CvSpec
        Controlled variables, in prediction column order.
    dt_s : float
        Control interval. [s]
    horizon : int
        Number of control intervals ``N`` (prediction and control horizon).
    substeps : int
        RK4 steps per interval of a continuous-time model (1 for a discrete one).
    discretisation : {"auto", "rk4", "collocation"}
        Prediction of a continuous-time model over an interval: explicit RK4
        with ``substeps`` steps, Radau IIA collocation (L-stable, for stiff
        models such as flowsheets with fast valve lags), or ``"auto"``:
        collocation when RK4 with ``substeps`` steps would be unstable at a
        reference point of the envelope
        (:func:`controllers.nmpc.discretisation.reference_point`).
    collocation_degree : int
        Radau IIA stages per interval (1 is implicit Euler; order ``2s - 1``).
    warm_start_dual : bool
        Warm-start the solver's multipliers as well as the primal point from
        the previous solution shifted by one interval (ipopt only).
    fixed_inputs : mapping of str to float
        Values of the model inputs that are not MVs (missing ones are 0). [SI]
    terminal_weight : tuple of tuple of float or None
        Extra weight ``e_N' W e_N`` on the scaled setpoint errors ``e_N`` of the
        last predicted sample, shape ``(n_cv, n_cv)`` (CVs without a setpoint
        must have zero rows and columns); ``None`` for none.
    priority_ratio : float
        Price ratio between band ranks (> 1).
    solver : {"ipopt", "fatrop"}
        NLP solver.
    max_iter : int
        Iteration limit of the solver.
    tolerance : float
        Convergence tolerance of the solver (scaled NLP). [-]
    max_wall_time_s : float
        Wall-clock limit of one solve. [s]
    active_tol : float
        A limit counts as active within this fraction of its variable's scale. [-]
    symbolic : {"SX", "MX"}
        ``"SX"``: the model is inlined in one scalar graph (fastest for small
        models); ``"MX"``: the interval map is called as a function per
        stage (fast to build for large flowsheets).
    ipopt_fallback : bool
        With ``solver="fatrop"``: when fatrop's result is unusable (failed,
        infeasible point, iteration limit without a feasible point), solve
        the same NLP again with ipopt from the same initial guess.
    sqp_iterations : int
        Fast path (:mod:`controllers.nmpc.sqp`): Gauss-Newton SQP iterations
        on a structured QP (hpipm) per solve, started from the previous plan
        shifted by one interval; 1 is the real-time iteration.  The first
        solve, a solve after a failure or :meth:`~NonlinearMPC.reset`, and
        every solve whose fast result fails a check go to ``solver``.  0
        turns the fast path off (every solve by ``solver``).
    sqp_max_residual : float
        Largest constraint violation of the fast path's point (scaled NLP:
        model equations in state envelopes, MVs in their scales) that is
        accepted; above it the solve goes to ``solver``. [-]
    blas_threads : int or None
        Threads of the OpenBLAS bundled with casadi (ipopt's MUMPS, casadi's
        LAPACK plugins), set for the whole process when the controller is
        built (:mod:`controllers.nmpc.blas`); ``None`` leaves it alone.  1
        by default: these problems are too small to gain from a second
        thread, whose spinning after each call took CPU from the fast path.
    """

    mvs: tuple[MvSpec, ...]
    cvs: tuple[CvSpec, ...]
    dt_s: float
    horizon: int
    substeps: int = 1
    discretisation: str = "auto"
    collocation_degree: int = 2
    warm_start_dual: bool = True
    fixed_inputs: Mapping[str, float] = field(default_factory=dict)
    terminal_weight: tuple[tuple[float, ...], ...] | None = None
    priority_ratio: float = 100.0
    solver: str = "ipopt"
    max_iter: int = 200
    tolerance: float = 1e-8
    max_wall_time_s: float = 10.0
    active_tol: float = 1e-6
    symbolic: str = "SX"
    ipopt_fallback: bool = True
    sqp_iterations: int = 1
    sqp_max_residual: float = 1e-4
    blas_threads: int | None = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "mvs", tuple(self.mvs))
        object.__setattr__(self, "cvs", tuple(self.cvs))
        object.__setattr__(self, "fixed_inputs", dict(self.fixed_inputs))
        if not self.mvs or not self.cvs:
            raise NmpcError("at least one MV and one CV are needed")
        for label, names in (
            ("MV", [m.name for m in self.mvs]),
            ("CV", [c.name for c in self.cvs]),
        ):
            if len(set(names)) != len(names):
                dup = sorted({n for n in names if names.count(n) > 1})
                raise NmpcError(f"duplicate {label} names: {', '.join(dup)}")
        _positive(self.dt_s, "dt_s")
        if self.discretisation not in DISCRETISATIONS:
            raise NmpcError(
                f"discretisation must be one of {', '.join(DISCRETISATIONS)}, "
                f"got {self.discretisation!r}"
            )
        for value, what in (
            (self.horizon, "horizon"),
            (self.substeps, "substeps"),
            (self.collocation_degree, "collocation_degree"),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise NmpcError(f"{what} must be an integer >= 1, got {value!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int):
            raise NmpcError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if self.max_iter < 1:
            raise NmpcError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if (
            isinstance(self.sqp_iterations, bool)
            or not isinstance(self.sqp_iterations, int)
            or self.sqp_iterations < 0
        ):
            raise NmpcError(f"sqp_iterations must be an integer >= 0, got {self.sqp_iterations!r}")
        _positive(self.sqp_max_residual, "sqp_max_residual")
        if self.blas_threads is not None and (
            isinstance(self.blas_threads, bool)
            or not isinstance(self.blas_threads, int)
            or self.blas_threads < 1
        ):
            raise NmpcError(
                f"blas_threads must be None or an integer >= 1, got {self.blas_threads!r}"
            )
        if self.solver not in SOLVERS:
            raise NmpcError(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        if self.symbolic not in ("SX", "MX"):
            raise NmpcError(f"symbolic must be 'SX' or 'MX', got {self.symbolic!r}")
        if not (math.isfinite(self.priority_ratio) and self.priority_ratio > 1.0):
            raise NmpcError(f"priority_ratio must be > 1, got {self.priority_ratio}")
        _positive(self.tolerance, "tolerance")
        _positive(self.max_wall_time_s, "max_wall_time_s")
        _positive(self.active_tol, "active_tol")
        for name, fixed in self.fixed_inputs.items():
            if not math.isfinite(fixed):
                raise NmpcError(f"fixed input {name} must be finite, got {fixed}")
        if self.terminal_weight is not None:
            n = len(self.cvs)
            rows = self.terminal_weight
            if len(rows) != n or any(len(r) != n for r in rows):
                raise NmpcError(f"terminal_weight must be {n} x {n}")
            for j, cv in enumerate(self.cvs):
                if cv.setpoint is None and (any(rows[j]) or any(r[j] for r in rows)):
                    raise NmpcError(
                        f"terminal_weight: CV {cv.name} has no setpoint, its row and "
                        "column must be zero"
                    )

    @property
    def mv_names(self) -> tuple[str, ...]:
        """MV names, in plan column order."""
        return tuple(m.name for m in self.mvs)

    @property
    def cv_names(self) -> tuple[str, ...]:
        """CV names, in prediction column order."""
        return tuple(c.name for c in self.cvs)

    def band_price(self, cv: CvSpec) -> float:
        """Return the price of one scaled unit of band violation of ``cv`` (rank applied)."""
        lowest = max(c.priority for c in self.cvs)
        return cv.band_weight * self.priority_ratio ** (lowest - cv.priority)
