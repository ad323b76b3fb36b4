"""Settings of the economic MPC: frozen dataclasses naming plant variables.

Every name is a plant variable: an MV is an input (``u``) name, a cost term,
band, limit or balance refers to an output (``y``) name or, failing that, a
state (``x``) name of the composed plant model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controllers.errors import EconomicMPCError

__all__ = [
    "CostTerm",
    "EconomicMPCSettings",
    "HardLimit",
    "ManipulatedVariable",
    "OnOffGroup",
    "SoftBand",
]


@dataclass(frozen=True)
class ManipulatedVariable:
    """One manipulated plant input with its limits.

    Parameters
    ----------
    name : str
        Plant input name (``boiler_1.fuel_0_m3_s``).
    low, high : float
        Limits. [SI]
    rate : float
        Largest move per control interval, ``inf`` for none. [SI per interval]
    move_weight : float
        Quadratic move suppression on the move scaled by ``high - low``
        (regularisation that makes the plan unique where the economics are
        flat). [currency]
    """

    name: str
    low: float
    high: float
    rate: float = math.inf
    move_weight: float = 0.0

    def __post_init__(self) -> None:
        if not (self.low <= self.high) or not (
            math.isfinite(self.low) and math.isfinite(self.high)
        ):
            raise EconomicMPCError(
                f"MV {self.name}: need finite low <= high, got {self.low}, {self.high}"
            )
        if not self.rate > 0.0:
            raise EconomicMPCError(f"MV {self.name}: rate limit must be positive, got {self.rate}")
        if not self.move_weight >= 0.0:
            raise EconomicMPCError(f"MV {self.name}: move_weight must be >= 0")


@dataclass(frozen=True)
class CostTerm:
    """A purchase or penalty priced per unit of a plant variable.

    The cost over an interval is ``price * mean(variable) * interval``, the
    mean taken over the interval's two ends (trapezoid rule).

    Parameters
    ----------
    variable : str
        Plant output or state (``ng.demand``, ``bfg_flare.flow_m3_s``).
    price : float
        Price per unit of the variable and second (for a flow in m3/s:
        currency per m3). [currency / (SI unit s)]
    label : str
        Name of the term in reports (``"natural gas"``, ``"flare"``).
    """

    variable: str
    price: float
    label: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.price):
            raise EconomicMPCError(f"cost term {self.variable}: price must be finite")


@dataclass(frozen=True)
class SoftBand:
    """A normal band kept with slack variables (soft constraint).

    Parameters
    ----------
    variable : str
        Plant output or state (``bfg_holder.level_fraction``).
    low, high : float
        The band. [SI]
    weight_linear : float
        L1 penalty per unit of excursion and interval; encodes the priority
        (a higher priority gets a larger weight). [currency / SI unit]
    weight_quadratic : float
        Quadratic penalty per squared unit and interval. [currency / SI unit^2]
    """

    variable: str
    low: float
    high: float
    weight_linear: float = 1.0e4
    weight_quadratic: float = 0.0

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise EconomicMPCError(f"band {self.variable}: low {self.low} above high {self.high}")
        if not (self.weight_linear >= 0.0 and self.weight_quadratic >= 0.0):
            raise EconomicMPCError(f"band {self.variable}: weights must be >= 0")
        if self.weight_linear == 0.0 and self.weight_quadratic == 0.0:
            raise EconomicMPCError(f"band {self.variable}: at least one weight must be positive")


@dataclass(frozen=True)
class HardLimit:
    """A hard limit on a plant output or state at every interval end.

    Parameters
    ----------
    variable : str
        Plant output or state (``bfg_holder.level_fraction``).
    low, high : float
        The limits (``-inf``/``inf`` for none). [SI]
    """

    variable: str
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise EconomicMPCError(f"limit {self.variable}: low {self.low} above high {self.high}")


@dataclass(frozen=True)
class OnOffGroup:
    """A unit that is either off or runs between a minimum and a maximum load.

    Off, every MV of the group sits at its settings' lower limit
    (``ManipulatedVariable.low``: zero fuel, zero throttle flow).  On, the
    ``measure`` is kept in ``[min_on, max_on]`` (see
    :mod:`controllers.economic.commitment`).

    Parameters
    ----------
    name : str
        Name of the unit in messages and active constraints (``"boiler_1"``).
    mvs : tuple of str
        The MVs switched with the unit (a boiler's fuel flows); an MV belongs
        to at most one group.
    measure : str or None
        Plant output or state whose value is the unit's load
        (``"boiler_1.fuel_power_w"``), checked at every interval end;
        ``None`` for a group of one MV: its minimum load is then a lower limit
        of that MV on the intervals it runs.
    min_on, max_on : float
        Minimum stable load and maximum load of the measure while on. [SI]
    min_up_intervals, min_down_intervals : int
        Fewest intervals the unit stays on after a start / off after a stop.
    startup_cost : float
        Cost of one start (fuel to warm up, wear). [currency]
    switch_at_min_load : bool
        A start reaches at most the minimum load in its first interval and a
        stop leaves from at most the minimum load (the start-up/shut-down
        ramps of unit commitment); the ramp limits of the group's MVs are
        waived in those two moves either way.
    """

    name: str
    mvs: tuple[str, ...]
    measure: str | None = None
    min_on: float = 0.0
    max_on: float = math.inf
    min_up_intervals: int = 1
    min_down_intervals: int = 1
    startup_cost: float = 0.0
    switch_at_min_load: bool = True

    def __post_init__(self) -> None:
        if not self.mvs:
            raise EconomicMPCError(f"on/off group {self.name}: needs at least one MV")
        if len(set(self.mvs)) != len(self.mvs):
            raise EconomicMPCError(f"on/off group {self.name}: duplicate MVs in {self.mvs}")
        if self.measure is None and len(self.mvs) != 1:
            raise EconomicMPCError(
                f"on/off group {self.name}: without a measure the group must have one MV, "
                f"got {len(self.mvs)}"
            )
        if not (math.isfinite(self.min_on) and self.min_on <= self.max_on):
            raise EconomicMPCError(
                f"on/off group {self.name}: need finite min_on <= max_on, got "
                f"{self.min_on}, {self.max_on}"
            )
        if self.min_up_intervals < 1 or self.min_down_intervals < 1:
            raise EconomicMPCError(
                f"on/off group {self.name}: min_up_intervals and min_down_intervals must be >= 1"
            )
        if not (math.isfinite(self.startup_cost) and self.startup_cost >= 0.0):
            raise EconomicMPCError(
                f"on/off group {self.name}: startup_cost must be finite and >= 0, "
                f"got {self.startup_cost}"
            )


@dataclass(frozen=True)
class EconomicMPCSettings:
    """Configuration of an :class:`~controllers.economic.mpc.EconomicMPC`.

    Parameters
    ----------
    mvs : tuple of ManipulatedVariable
        Manipulated inputs; every other plant input is held at the value
        given with each solve.
    interval_s : float
        Control interval. [s]
    horizon : int
        Number of intervals (24 h at 15 min: 96).
    electricity_variable : str or None
        Plant variable of the purchased electric power, priced at the
        time-of-use price given with each solve. [W]
    cost_terms : tuple of CostTerm
        Fuel purchase, flare penalty, CO2 price (constant prices).
    soft_bands : tuple of SoftBand
        Normal bands (slack-relaxed).
    hard_limits : tuple of HardLimit
        Hard limits on outputs/states.
    balances : tuple of str
        Outputs held at zero over the horizon (balances of nodes without a
        slack, such as a mixed-gas network).
    cv_names : tuple of str
        Variables reported as predicted CVs (default: the bands' and limits').
    discretisation : {"radau", "rk4"}
        ``"radau"`` (default): Radau IIA collocation, the stage states are
        NLP variables; L-stable, so lags far faster than the interval need
        no extra stages.  ``"rk4"``: multiple shooting with explicit RK4
        sub-steps (the fastest lag sets their number).
    collocation_degree : int
        Radau stages per interval (order ``2 * degree - 1``).
    substeps : int or None
        RK4 sub-steps per interval; ``None`` picks enough for stability at
        the reference point (``interval * max|eig(df/dx)| / 2.5``).
    max_iter : int
        Ipopt iteration limit.
    warm_start : bool
        Start each solve after the first from the shifted previous primal
        and dual solution with ipopt's ``warm_start_init_point`` and a small
        ``mu_init`` (a second ipopt instance on the same NLP).
    warm_start_mu_init : float
        Initial barrier parameter of a warm solve.  The shifted solution was
        converged at ipopt's final barrier parameter (about ``tolerance / 11``);
        starting far above it pulls the iterates back to the central path and
        away from the optimum first.  Measured on the demo steelworks at
        24 h / 15 min, ``tolerance=1e-7`` (``benchmarks/ctl_empc.py``): 1e-4
        (the former value) took 30-37 iterations, 1e-7 14-18 to the same
        point; 1e-5 stopped 2e-4 (relative) dearer, 1e-9 stalled.
    max_wall_time_s : float
        Ipopt wall-clock limit per solve. [s]
    tolerance : float
        Ipopt ``tol``.
    hard_limit_weight : float
        Exact (L1) penalty on a hard-limit excursion, per unit of the
        variable's scale (its largest envelope magnitude) and interval.  Hard
        limits are soft constraints so that the NLP is always feasible; the
        weight must exceed every economic marginal value (it is ~100x the
        whole horizon's energy bill of the demo steelworks) so that a limit is
        only violated when no plan can keep it; a violation is then reported
        by name and the status is ``SUBOPTIMAL``. [currency]
    objective_scale : float
        Factor applied to the objective handed to ipopt (order of the inverse
        of a horizon's cost keeps the gradients near 1 and ``tol`` relative);
        reported objectives are unscaled. [1/currency]
    on_off_groups : tuple of OnOffGroup
        Units with on/off decisions and minimum loads; with any, each solve
        first fixes the commitment by a MILP (see
        :mod:`controllers.economic.commitment`).
    commitment_time_limit_s : float
        Wall-clock limit of the commitment MILP; beyond it the fallback
        commitment is used. [s]
    commitment_mip_gap : float
        Relative optimality gap at which the commitment MILP stops. [1]
    move_blocks : tuple of int
        Move blocking: lengths in intervals of the blocks over which the MVs
        are held, from the start of the horizon (the last block runs to its
        end); the MVs move only at the first interval of a block.  ``()``
        (default): a move every interval.  See
        :mod:`controllers.economic.blocking` (``growing_move_blocks``); not
        combined with on/off groups.  Measured on the demo steelworks at
        24 h / 15 min (``benchmarks/ctl_empc.py``): no faster than the free
        plan (the states dominate the NLP), 0.6 % dearer plans and 3 of 16
        rolling solves over their time limit, so it is off by default.
    move_blocks_exempt : tuple of str
        MVs that still move every interval under move blocking: those that
        keep an equality balance (``balances``) whose other terms change
        every interval, such as a mixed-gas network's make-up flow.
    grid : tuple of int
        Lengths in control intervals of the NLP's intervals, from the start
        of the horizon, summing to ``horizon``; ``()`` (default): every
        interval one control interval.  Longer intervals late in the horizon
        (``grid.coarse_grid``: 4 h at 15 min, then 1 h) make a smaller NLP;
        the plan is held, the forecast averaged and the bands and limits
        checked at the end of each (see :mod:`controllers.economic.grid`).
        Not combined with move blocking or on/off groups.
    ipopt_options : tuple of (str, str or float or int)
        Extra ipopt options ``(name, value)`` set over the measured defaults
        (for experiments and benchmarks; ``benchmarks/ctl_empc.py``).
    """

    mvs: tuple[ManipulatedVariable, ...]
    interval_s: float
    horizon: int
    electricity_variable: str | None = None
    cost_terms: tuple[CostTerm, ...] = ()
    soft_bands: tuple[SoftBand, ...] = ()
    hard_limits: tuple[HardLimit, ...] = ()
    balances: tuple[str, ...] = ()
    cv_names: tuple[str, ...] = ()
    discretisation: str = "radau"
    collocation_degree: int = 2
    substeps: int | None = None
    warm_start: bool = True
    warm_start_mu_init: float = 1.0e-7
    max_iter: int = 300
    max_wall_time_s: float = 60.0
    tolerance: float = 1e-8
    hard_limit_weight: float = 1.0e9
    objective_scale: float = 1.0e-6
    on_off_groups: tuple[OnOffGroup, ...] = ()
    commitment_time_limit_s: float = 10.0
    commitment_mip_gap: float = 1.0e-4
    move_blocks: tuple[int, ...] = ()
    move_blocks_exempt: tuple[str, ...] = ()
    grid: tuple[int, ...] = ()
    ipopt_options: tuple[tuple[str, str | float | int], ...] = ()

    def __post_init__(self) -> None:
        if not self.mvs:
            raise EconomicMPCError("at least one manipulated variable is needed")
        names = [mv.name for mv in self.mvs]
        if len(set(names)) != len(names):
            raise EconomicMPCError(f"duplicate MV names in {names}")
        if not (math.isfinite(self.interval_s) and self.interval_s > 0.0):
            raise EconomicMPCError(f"interval_s must be positive, got {self.interval_s}")
        if self.horizon < 1:
            raise EconomicMPCError(f"horizon must be >= 1, got {self.horizon}")
        if self.discretisation not in ("radau", "rk4"):
            raise EconomicMPCError(
                f"discretisation must be 'radau' or 'rk4', got {self.discretisation!r}"
            )
        if not 1 <= self.collocation_degree <= 9:
            raise EconomicMPCError(
                f"collocation_degree must be in 1..9, got {self.collocation_degree}"
            )
        if self.substeps is not None and self.substeps < 1:
            raise EconomicMPCError(f"substeps must be >= 1, got {self.substeps}")
        if not (
            self.max_wall_time_s > 0.0
            and self.max_iter >= 1
            and self.tolerance > 0.0
            and math.isfinite(self.warm_start_mu_init)
            and self.warm_start_mu_init > 0.0
        ):
            raise EconomicMPCError(
                "max_iter, max_wall_time_s, tolerance and warm_start_mu_init must be positive"
            )
        if not (
            math.isfinite(self.hard_limit_weight)
            and self.hard_limit_weight > 0.0
            and math.isfinite(self.objective_scale)
            and self.objective_scale > 0.0
        ):
            raise EconomicMPCError(
                "hard_limit_weight and objective_scale must be positive and finite, got "
                f"{self.hard_limit_weight}, {self.objective_scale}"
            )
        self._check_groups(names)
        if any(int(b) != b or b < 1 for b in self.move_blocks):
            raise EconomicMPCError(f"move_blocks must be integers >= 1, got {self.move_blocks}")
        unknown = [name for name in self.move_blocks_exempt if name not in names]
        if unknown:
            raise EconomicMPCError(f"move_blocks_exempt: {unknown} are not MVs")
        if self.move_blocks and self.on_off_groups:
            raise EconomicMPCError("move_blocks cannot be combined with on/off groups")
        if self.grid:
            if any(int(m) != m or m < 1 for m in self.grid) or sum(self.grid) != self.horizon:
                raise EconomicMPCError(
                    f"grid must be interval lengths >= 1 summing to the horizon ({self.horizon} "
                    f"intervals), got {self.grid}"
                )
            if self.move_blocks or self.on_off_groups:
                raise EconomicMPCError("grid cannot be combined with move_blocks or on/off groups")
        for item in self.ipopt_options:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise EconomicMPCError(
                    f"ipopt_options must be (name, value) pairs with a string name, got {item!r}"
                )

    def _check_groups(self, mv_names: list[str]) -> None:
        if not (self.commitment_time_limit_s > 0.0 and 0.0 <= self.commitment_mip_gap < 1.0):
            raise EconomicMPCError(
                "commitment_time_limit_s must be positive and commitment_mip_gap in [0, 1), got "
                f"{self.commitment_time_limit_s}, {self.commitment_mip_gap}"
            )
        group_names = [g.name for g in self.on_off_groups]
        if len(set(group_names)) != len(group_names):
            raise EconomicMPCError(f"duplicate on/off group names in {group_names}")
        seen: set[str] = set()
        for g in self.on_off_groups:
            for name in g.mvs:
                if name not in mv_names:
                    raise EconomicMPCError(f"on/off group {g.name}: {name!r} is not an MV")
                if name in seen:
                    raise EconomicMPCError(f"MV {name!r} belongs to more than one on/off group")
                seen.add(name)
