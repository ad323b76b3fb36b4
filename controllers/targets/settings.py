"""Settings of the steady-state target layer: MVs, CVs, prices, ranks, method.

Everything is a frozen dataclass validated in ``__post_init__``; names refer
to the plant model's variables (:class:`~plant_models.core.equations.EquationModel`),
as in :mod:`controllers.nmpc.settings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from controllers.errors import TargetError

__all__ = ["METHODS", "TargetCv", "TargetMv", "TargetSettings"]

#: Target methods: linear program, quadratic program (both on the linearised
#: steady-state model) and real-time optimisation on the nonlinear one.
METHODS: tuple[str, ...] = ("lp", "qp", "rto")


def _positive(value: float, what: str) -> float:
    if isinstance(value, bool) or not (math.isfinite(value) and value > 0.0):
        raise TargetError(f"{what} must be a positive finite number, got {value!r}")
    return float(value)


def _non_negative(value: float, what: str) -> float:
    if isinstance(value, bool) or not (math.isfinite(value) and value >= 0.0):
        raise TargetError(f"{what} must be a non-negative finite number, got {value!r}")
    return float(value)


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not math.isfinite(value):
        raise TargetError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _check_limits(low: float, high: float, what: str) -> None:
    if math.isnan(low) or math.isnan(high) or low > high:
        raise TargetError(f"{what}: low {low} above high {high}")


def _check_ideal(ideal: float | None, weight: float, what: str) -> None:
    _non_negative(weight, f"{what}: ideal_weight")
    if ideal is not None:
        _finite(ideal, f"{what}: ideal")


@dataclass(frozen=True)
class TargetMv:
    """A manipulated variable of the target layer (one input of the plant model).

    Attributes
    ----------
    name : str
        Name of a model input (``"dilution_1_s"``).
    low, high : float
        Hard limits of the target; each computation uses the tighter of these
        and the limits it is given. [SI]
    price : float
        Economic cost of one unit of the MV held at steady state (negative
        for a value). [objective unit per SI unit]
    max_move : float
        Largest change of the target from one computation to the next
        (``inf`` for none): the targets move gradually, and for ``"lp"`` and
        ``"qp"`` it is also the trust region of the linearisation. [SI]
    scale : float
        Typical range; move and ideal terms are measured in units of it and
        the RTO's variable is ``u / scale``. [SI]
    move_weight : float
        ``"qp"`` and ``"rto"``: weight of ``((u - u_previous) / scale)**2``
        (a small move penalty; the ``"lp"`` ignores it). [scaled objective]
    ideal : float or None
        Ideal resting value, pursued with the degrees of freedom the economics
        leave free; ``None`` for none. [SI]
    ideal_weight : float
        Weight of the distance to ``ideal`` in units of ``scale``: ``|.|`` in
        the ``"lp"``, ``(.)**2`` in the ``"qp"`` and ``"rto"``. [scaled objective]
    """

    name: str
    low: float = -math.inf
    high: float = math.inf
    price: float = 0.0
    max_move: float = math.inf
    scale: float = 1.0
    move_weight: float = 0.0
    ideal: float | None = None
    ideal_weight: float = 0.0

    def __post_init__(self) -> None:
        _check_limits(self.low, self.high, f"MV {self.name}")
        _finite(self.price, f"MV {self.name}: price")
        if isinstance(self.max_move, bool) or not (self.max_move > 0.0):
            raise TargetError(
                f"MV {self.name}: max_move must be positive (inf for none), got {self.max_move!r}"
            )
        _positive(self.scale, f"MV {self.name}: scale")
        _non_negative(self.move_weight, f"MV {self.name}: move_weight")
        _check_ideal(self.ideal, self.ideal_weight, f"MV {self.name}")


@dataclass(frozen=True)
class TargetCv:
    """A controlled variable of the target layer: priced, kept within soft limits.

    The limits are soft: a limit that cannot be met is given up, the lowest
    priority first (see :mod:`controllers.targets`), and reported by name.

    Attributes
    ----------
    name : str
        Name of a model output (``kind="y"``) or state (``kind="x"``).
    kind : {"y", "x"}
        Whether ``name`` is an output of ``g`` or a state.
    low, high : float
        Soft limits; infinite for none. [SI]
    priority : int
        Rank of the limits, 1 the most important.
    price : float
        Economic cost of one unit of the CV at steady state (negative for a
        value, e.g. a product flow). [objective unit per SI unit]
    scale : float
        Typical deviation; violations and ideal terms are measured in units
        of it. [SI]
    ideal : float or None
        Ideal value, pursued with the degrees of freedom left; ``None`` for none. [SI]
    ideal_weight : float
        Weight of the distance to ``ideal`` in units of ``scale`` (as for
        :class:`TargetMv`). [scaled objective]
    """

    name: str
    kind: str = "y"
    low: float = -math.inf
    high: float = math.inf
    priority: int = 1
    price: float = 0.0
    scale: float = 1.0
    ideal: float | None = None
    ideal_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("y", "x"):
            raise TargetError(f"CV {self.name}: kind must be 'y' or 'x', got {self.kind!r}")
        _check_limits(self.low, self.high, f"CV {self.name}")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise TargetError(f"CV {self.name}: priority must be an integer >= 1")
        if self.priority < 1:
            raise TargetError(f"CV {self.name}: priority must be >= 1, got {self.priority}")
        _finite(self.price, f"CV {self.name}: price")
        _positive(self.scale, f"CV {self.name}: scale")
        _check_ideal(self.ideal, self.ideal_weight, f"CV {self.name}")


@dataclass(frozen=True)
class TargetSettings:
    """Variables, prices and solver of a :class:`~controllers.targets.SteadyStateTargets`.

    Attributes
    ----------
    mvs : tuple of TargetMv
        Manipulated variables, in target order.
    cvs : tuple of TargetCv
        Controlled variables, in target order.
    method : {"lp", "qp", "rto"}
        ``"lp"``: linear program on the steady-state gains at the current
        operating point (HiGHS); ``"qp"``: the same with the quadratic move
        and ideal terms (HiGHS); ``"rto"``: nonlinear program on the full
        steady-state model ``f = 0`` (ipopt).
    fixed_inputs : mapping of str to float
        Values of the model inputs that are not MVs (missing ones are 0). [SI]
    objective_scale : float
        Typical size of the economic objective; the solvers see
        ``objective / objective_scale``. [objective unit]
    slack_tol : float
        A soft limit counts as met when its violation is below this fraction
        of its CV's scale. [-]
    active_tol : float
        A limit counts as active within this fraction of its variable's scale. [-]
    max_iter : int
        Iteration limit of ipopt (``"rto"``).
    tolerance : float
        Convergence tolerance of ipopt (``"rto"``, scaled NLP). [-]
    max_wall_time_s : float
        Wall-clock limit of one solver call. [s]
    """

    mvs: tuple[TargetMv, ...]
    cvs: tuple[TargetCv, ...]
    method: str = "lp"
    fixed_inputs: Mapping[str, float] = field(default_factory=dict)
    objective_scale: float = 1.0
    slack_tol: float = 1e-6
    active_tol: float = 1e-6
    max_iter: int = 200
    tolerance: float = 1e-9
    max_wall_time_s: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "mvs", tuple(self.mvs))
        object.__setattr__(self, "cvs", tuple(self.cvs))
        object.__setattr__(self, "fixed_inputs", dict(self.fixed_inputs))
        if not self.mvs:
            raise TargetError("at least one MV is needed")
        for label, names in (
            ("MV", [m.name for m in self.mvs]),
            ("CV", [c.name for c in self.cvs]),
        ):
            if len(set(names)) != len(names):
                dup = sorted({n for n in names if names.count(n) > 1})
                raise TargetError(f"duplicate {label} names: {', '.join(dup)}")
        if self.method not in METHODS:
            raise TargetError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        for name, value in self.fixed_inputs.items():
            _finite(value, f"fixed input {name}")
            if name in self.mv_names:
                raise TargetError(f"fixed input {name} is also an MV")
        _positive(self.objective_scale, "objective_scale")
        _positive(self.slack_tol, "slack_tol")
        _positive(self.active_tol, "active_tol")
        _positive(self.tolerance, "tolerance")
        _positive(self.max_wall_time_s, "max_wall_time_s")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int):
            raise TargetError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if self.max_iter < 1:
            raise TargetError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")

    @property
    def mv_names(self) -> tuple[str, ...]:
        """MV names, in target order."""
        return tuple(m.name for m in self.mvs)

    @property
    def cv_names(self) -> tuple[str, ...]:
        """CV names, in target order."""
        return tuple(c.name for c in self.cvs)

    @property
    def ranks(self) -> tuple[int, ...]:
        """Distinct priorities of CVs with a finite limit, most important first."""
        return tuple(
            sorted({c.priority for c in self.cvs if math.isfinite(c.low) or math.isfinite(c.high)})
        )
