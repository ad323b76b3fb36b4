"""The ``[controller]`` table of the project file: how the MPC runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self, get_args

from pydantic import BeforeValidator, Field, StrictBool, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from energyopt.errors import UnitConversionError
from energyopt.project.base import (
    DurationS,
    Issue,
    Number,
    RawQuantity,
    SchemaModel,
    SIUnit,
    fmt_number,
    issues_error,
    parse_quantity,
    toml_type_name,
    with_article,
)

__all__ = [
    "CONTROLLER_MODES",
    "DCS_SETPOINT_SOURCES",
    "SOLVERS",
    "ControllerSettings",
    "DcsLoopSettings",
    "DcsProtectionSettings",
    "DcsSettings",
    "EconomicControllerSettings",
    "ForecastControllerSettings",
    "VariableLimit",
]

#: Controller modes: OFF (no controller), PREDICT (forecast only), ADVISE
#: (recommend setpoints to the operator).
ControllerMode = Literal["OFF", "PREDICT", "ADVISE"]
CONTROLLER_MODES: tuple[str, ...] = get_args(ControllerMode)

#: Optimisation solvers (casadi plugin names bundled in the casadi wheel).
Baseline = Literal["dispatch", "hold"]
Solver = Literal["ipopt", "fatrop", "sqpmethod", "hpipm", "osqp", "qpoases", "highs"]
SOLVERS: tuple[str, ...] = get_args(Solver)


class VariableLimit(SchemaModel):
    """Hard limits on a plant variable that no binding carries (``grid.power_import_w``)."""

    low: RawQuantity | None = Field(
        None, description='Lower limit: SI number or a quantity string ("0 MW"); none if omitted'
    )
    high: RawQuantity | None = Field(
        None, description='Upper limit: SI number or a quantity string ("300 MW")'
    )

    @model_validator(mode="after")
    def _one_given(self) -> Self:
        if self.low is None and self.high is None:
            raise issues_error([((), "give low, high or both")])
        return self


class EconomicControllerSettings(SchemaModel):
    """The ``[controller.economic]`` table: the economic MPC (energy cost over a day)."""

    interval_s: DurationS | None = Field(
        None, gt=0.0, description='Control interval [s]; "15 min"; default [controller] interval_s'
    )
    horizon_s: DurationS | None = Field(
        None,
        gt=0.0,
        description='Horizon, a multiple of the interval [s]; "24 h"; '
        "default [controller] horizon_s",
    )
    move_weight: Number = Field(
        0.0,
        ge=0.0,
        description="Cost of a full-span move of a manipulated variable, squared [currency]",
    )
    move_weights: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict,
        description="Manipulated binding -> its own move_weight [currency]",
    )
    manipulated: list[str] = Field(
        default_factory=list,
        description="Plant inputs the controller also sets without a tag ('gas_mixing."
        "flow_mixed_m3_s'), within the model's envelope",
    )
    hard_limits: dict[str, VariableLimit] = Field(
        default_factory=dict,
        description="Plant output or state -> hard limits not carried by a binding",
    )
    balances: list[str] | None = Field(
        None,
        description="Plant outputs held at zero; default: net supply of every fuel-gas node "
        "with neither a holder nor a purchase price",
    )
    discretisation: Literal["radau", "rk4"] = Field(
        "radau", description="radau (collocation) or rk4 (multiple shooting)"
    )
    collocation_degree: Annotated[int, Field(strict=True, ge=1, le=9)] = Field(
        2, description="Radau stages per interval"
    )
    tolerance: Number = Field(1e-8, gt=0.0, description="Ipopt tol (scaled objective) [-]")
    max_iter: Annotated[int, Field(strict=True, ge=1)] = Field(
        300, description="Ipopt iteration limit"
    )
    fine_horizon_s: DurationS | None = Field(
        None,
        gt=0.0,
        description='Leading part of the horizon planned at the interval [s]; "4 h"; beyond '
        "it the plan's intervals are coarse_interval_s long; default the whole horizon",
    )
    coarse_interval_s: DurationS | None = Field(
        None,
        gt=0.0,
        description="Interval of the plan beyond fine_horizon_s, a multiple of the interval "
        '[s]; "1 h"',
    )
    hard_limit_weight: Number = Field(
        1.0e9,
        gt=0.0,
        description="Exact-penalty weight of a hard-limit excursion per unit of the variable's "
        "scale [currency]",
    )


#: Scenario kinds of :meth:`controllers.forecast.Forecast.scenarios`.
ScenarioKind = Literal["interval", "quadrature", "sampled"]


class ForecastControllerSettings(SchemaModel):
    """The ``[controller.forecast]`` table: disturbance forecasts for the economic MPC."""

    training_s: DurationS | None = Field(
        None, gt=0.0, description='History the forecasters are fitted on [s]; "14 d"; default all'
    )
    level: Number = Field(
        0.9, gt=0.0, lt=1.0, description="Central coverage of the prediction intervals [-]"
    )
    scenarios: ScenarioKind = Field(
        "interval", description="Scenario set: interval, quadrature or sampled"
    )
    n_scenarios: Annotated[int, Field(strict=True, ge=1, le=50)] = Field(
        3, description="Scenarios of the quadrature and sampled sets"
    )
    max_order: Annotated[int, Field(strict=True, ge=0, le=48)] = Field(
        6, description="Largest AR order tried"
    )
    weekend_profile: bool = Field(
        False, description="A separate daily profile for Saturdays and Sundays"
    )
    held: list[str] = Field(
        default_factory=list,
        description="Disturbance bindings held at their last value instead of forecast "
        "(heating values are always held)",
    )


ReplayController = Literal["mpc", "baseline", "recorded"]
_REPLAY_CONTROLLERS: tuple[ReplayController, ...] = ("mpc", "baseline", "recorded")

#: Setpoint sources of a DCS loop besides a fixed value (see :class:`DcsLoopSettings`).
DCS_SETPOINT_SOURCES: tuple[str, ...] = ("record", "controller")


class DcsLoopSettings(SchemaModel):
    """One ``[controller.dcs.loops.<loop>]`` table: a PI loop of the DCS under the controller.

    The loop is emulated every plant step of a replay or closed-loop run
    (:mod:`energyopt.closedloop.dcs`): the controller's decision is the
    manipulated variables' base (feed-forward) and the PI correction goes on
    top, limited to the MV limits and rate limits.
    """

    description: str = Field("", description="Free text (loop tag, what it holds)")
    measurement: StrictStr = Field(
        description='Controlled variable: a binding name ("hp_pressure") or a plant output '
        '"<unit or node>.<output>" ("hp_header.pressure_pa")'
    )
    actuators: list[StrictStr] = Field(
        min_length=1,
        description="Manipulated variables the loop trims: manipulated binding names or plant "
        'inputs "<unit>.<input>"; the correction is shared by split',
    )
    split: list[Annotated[Number, Field(gt=0.0)]] | None = Field(
        None,
        description="Share of the correction of each actuator (normalised); default equal shares",
    )
    setpoint: RawQuantity = Field(
        description='A number in the measurement\'s SI unit or a quantity string ("9.8 MPa"): '
        'fixed; "record": the measurement\'s recorded tag (replay); "controller": the '
        "controller's predicted value at the end of its interval (held when it predicts none)"
    )
    action: Literal["reverse", "direct"] = Field(
        description="reverse: the MV rises when the measurement is below the setpoint "
        "(a let-down valve on its downstream pressure); direct: it rises when the measurement "
        "is above (turbine inlet on the header pressure, turbine-follow)"
    )
    gain: RawQuantity = Field(
        description="Proportional gain, positive: total MV change per unit of control error, "
        'a number in SI (MV SI unit per measurement SI unit) or a quantity string ("90 t/h/MPa")'
    )
    integral_time_s: DurationS = Field(gt=0.0, description='Integral (reset) time [s]; "4 min"')
    rate_limit_per_s: list[Annotated[Number, Field(gt=0.0)]] | None = Field(
        None,
        description="Largest move per second of each actuator's correction [MV SI unit/s]; "
        "default the manipulated binding's rate_limit_per_min, else none",
    )
    controllers: list[ReplayController] = Field(
        default_factory=lambda: list(_REPLAY_CONTROLLERS),
        min_length=1,
        description="Replay controllers under which the loop acts",
    )

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        issues: list[Issue] = []
        n = len(self.actuators)
        for key in ("split", "rate_limit_per_s"):
            value = getattr(self, key)
            if value is not None and len(value) != n:
                issues.append(((key,), f"needs one entry per actuator ({n}), got {len(value)}"))
        if len(set(self.actuators)) != n:
            issues.append((("actuators",), "an actuator is listed twice"))
        source = self.setpoint if isinstance(self.setpoint, str) else ""
        if source.strip().isalpha() and source not in DCS_SETPOINT_SOURCES:
            choices = ", ".join(DCS_SETPOINT_SOURCES)
            message = (
                f"unknown setpoint source '{source}'; give a number, a quantity string "
                f"or one of {choices}"
            )
            issues.append((("setpoint",), message))
        if isinstance(self.gain, int | float) and not self.gain > 0.0:
            issues.append((("gain",), f"must be positive (action gives the sign), got {self.gain}"))
        if issues:
            raise issues_error(issues)
        return self


def _level_share(value: Any) -> Any:
    """A fraction of level as written: a number or a percentage string ("10 %")."""
    if isinstance(value, str):
        try:
            share = parse_quantity(value, "1", require_unit=True)
        except UnitConversionError as exc:
            raise PydanticCustomError("quantity", "{reason}", {"reason": str(exc)}) from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError(
            "level_share",
            'expected a fraction of level (0.1) or a percentage string ("10 %"), got {got}',
            {"got": with_article(toml_type_name(value))},
        )
    else:
        share = float(value)
    if not 0.0 <= share < 1.0:
        raise PydanticCustomError(
            "level_share",
            'must be a fraction of level from 0 to below 1 (0.1 or "10 %"), got {got}',
            {"got": repr(value) if isinstance(value, str) else fmt_number(share)},
        )
    return share


#: A share of a holder's level: a fraction or a quantity string ("10 %"). [-]
LevelShare = Annotated[
    float,
    SIUnit("1"),
    BeforeValidator(_level_share),
    Field(allow_inf_nan=False),
]


def _pct(value: float) -> str:
    """A level share as a percentage for messages (``10 %``)."""
    return f"{fmt_number(round(100.0 * value, 9))} %"


class DcsProtectionSettings(SchemaModel):
    """The ``[controller.dcs.protection]`` table: the DCS's holder-level interlocks.

    Every plant step of a replay (``mpc`` and ``baseline``, never
    ``recorded``: the record holds what the real DCS did) and of a closed-loop
    run, after the PI loops: below ``hard low + low_start_above_hard`` the
    boilers' firing of the holder's gas is cut back (and its curtailable users
    shed) in proportion, completely at ``hard low + low_stop_above_hard``;
    above ``hard high - high_start_below_hard`` the holder's flare opens in
    proportion, fully at the hard limit (:mod:`energyopt.closedloop.protection`).
    Hard limits are those of each holder's level binding.
    """

    holders: list[StrictStr] = Field(
        default_factory=list,
        description="Gas-holder units protected (each with a level binding with hard limits); "
        "default none",
    )
    low_start_above_hard: LevelShare = Field(
        0.10,
        description='Cut-back starts this far above the hard low limit: a fraction or "10 %" '
        "of level [-]",
    )
    low_stop_above_hard: LevelShare = Field(
        0.01,
        description='Cut-back is complete this far above the hard low limit: a fraction or "1 %" '
        "of level [-]",
    )
    high_start_below_hard: LevelShare = Field(
        0.03,
        gt=0.0,
        description="The flare starts opening this far below the hard high limit (fully open at "
        'it): a fraction or "3 %" of level [-]',
    )

    @model_validator(mode="after")
    def _order(self) -> Self:
        issues: list[Issue] = []
        if not self.low_stop_above_hard < self.low_start_above_hard:
            issues.append(
                (
                    ("low_stop_above_hard",),
                    (
                        f"must be below low_start_above_hard ({_pct(self.low_start_above_hard)}), "
                        f"got {_pct(self.low_stop_above_hard)}"
                    ),
                )
            )
        seen: set[str] = set()
        for i, holder in enumerate(self.holders):
            if holder in seen:
                issues.append((("holders", i), f"'{holder}' is listed twice"))
            seen.add(holder)
        if issues:
            raise issues_error(issues)
        return self


class DcsSettings(SchemaModel):
    """The ``[controller.dcs]`` table: PI loops the replay and closed loop emulate every step."""

    enabled: StrictBool = Field(
        True, description="Emulate the loops and the protection (false: controller alone)"
    )
    loops: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")], DcsLoopSettings] = Field(
        default_factory=dict, description="Loop name -> PI loop"
    )
    protection: DcsProtectionSettings = Field(
        default_factory=DcsProtectionSettings,
        description="Holder-level interlocks (low-level cut-back, high-level flare) under the "
        "controller",
    )


class ControllerSettings(SchemaModel):
    """The ``[controller]`` table: how the MPC runs."""

    mode: ControllerMode = Field(
        "ADVISE",
        description="OFF: no controller; PREDICT: forecasts only; ADVISE: recommend setpoints",
    )
    interval_s: DurationS = Field(60.0, gt=0.0, description='Control interval [s]; "1 min"')
    horizon_s: DurationS = Field(
        3600.0, gt=0.0, description="Prediction horizon, a multiple of the interval [s]"
    )
    solver: Solver = Field("ipopt", description="Optimisation solver (casadi plugin)")
    max_solve_time_s: DurationS | None = Field(
        None, gt=0.0, description="Solver time limit [s]; default: half the interval"
    )
    economic_weight: Number = Field(
        1.0, ge=0.0, description="Weight of the energy cost in the objective"
    )
    band_weight: Number = Field(
        1000.0,
        ge=0.0,
        description="Weight of a normal-band violation of a priority-1 controlled variable",
    )
    priority_ratio: Number = Field(
        10.0, gt=1.0, description="Each lower priority rank's band weight is divided by this"
    )
    band_weights: dict[str, Annotated[Number, Field(gt=0.0)]] = Field(
        default_factory=dict,
        description="Controlled-variable binding -> weight of its normal-band violation per "
        "tag unit and interval, instead of band_weight / priority_ratio**(priority - 1)",
    )
    tracking_weights: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict,
        description="Controlled-variable binding -> weight of tracking its band centre",
    )
    move_suppression: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict,
        description="Manipulated-variable binding -> weight of its squared move per interval",
    )
    default_move_suppression: Number = Field(
        0.1, ge=0.0, description="Move suppression of manipulated variables not listed"
    )
    baseline: Baseline | None = Field(
        None,
        description=(
            "Rule-based baseline of replays: dispatch (holder-level-driven boiler firing, "
            "flare when a holder is full) or hold (PID loops at the recorded setpoints); "
            "default dispatch for plants with gas holders and boilers, else hold"
        ),
    )
    economic: EconomicControllerSettings = Field(
        default_factory=EconomicControllerSettings, description="Economic MPC"
    )
    forecast: ForecastControllerSettings = Field(
        default_factory=ForecastControllerSettings, description="Disturbance forecasts"
    )
    dcs: DcsSettings = Field(
        default_factory=DcsSettings,
        description="DCS PI loops under the controller (header pressures...), emulated in "
        "replays and closed-loop runs",
    )

    @model_validator(mode="after")
    def _horizon(self) -> Self:
        issues: list[Issue] = []
        steps = self.horizon_s / self.interval_s
        if steps < 1.0 or abs(steps - round(steps)) > 1e-9 * steps:
            issues.append(
                (
                    ("horizon_s",),
                    (
                        f"must be a whole multiple of interval_s ({self.interval_s:g} s), "
                        f"got {self.horizon_s:g} s"
                    ),
                )
            )
        elif round(steps) > 2000:
            issues.append((("horizon_s",), f"{round(steps)} intervals is too long (at most 2000)"))
        eco_interval = self.economic.interval_s or self.interval_s
        eco_horizon = self.economic.horizon_s or self.horizon_s
        eco_steps = eco_horizon / eco_interval
        own = self.economic.interval_s is not None or self.economic.horizon_s is not None
        if own and (eco_steps < 1.0 or abs(eco_steps - round(eco_steps)) > 1e-9 * eco_steps):
            issues.append(
                (
                    ("economic", "horizon_s"),
                    (
                        f"must be a whole multiple of the economic interval "
                        f"({eco_interval:g} s), got {eco_horizon:g} s"
                    ),
                )
            )
        issues.extend(self._grid_issues(eco_interval))
        if self.max_solve_time_s is not None and self.max_solve_time_s >= self.interval_s:
            issues.append(
                (
                    ("max_solve_time_s",),
                    (
                        f"must be shorter than interval_s ({self.interval_s:g} s), "
                        f"got {self.max_solve_time_s:g} s"
                    ),
                )
            )
        if issues:
            raise issues_error(issues)
        return self

    def _grid_issues(self, interval_s: float) -> list[tuple[tuple[str, ...], str]]:
        """``economic.fine_horizon_s`` and ``coarse_interval_s``: both or neither, multiples."""
        eco = self.economic
        if (eco.fine_horizon_s is None) != (eco.coarse_interval_s is None):
            key = "coarse_interval_s" if eco.coarse_interval_s is None else "fine_horizon_s"
            return [
                (
                    ("economic", key),
                    "fine_horizon_s and coarse_interval_s go together: give both or neither",
                )
            ]
        out: list[tuple[tuple[str, ...], str]] = []
        # Longer than the horizon is allowed: the plan is then uniform (a
        # shortened horizon keeps working), or its last interval cut.
        for key, value in (
            ("fine_horizon_s", eco.fine_horizon_s),
            ("coarse_interval_s", eco.coarse_interval_s),
        ):
            if value is None:
                continue
            ratio = value / interval_s
            if ratio < 1.0 or abs(ratio - round(ratio)) > 1e-9 * ratio:
                out.append(
                    (
                        ("economic", key),
                        (
                            f"must be a whole multiple of the economic interval "
                            f"({interval_s:g} s), got {value:g} s"
                        ),
                    )
                )
        return out

    @property
    def horizon_steps(self) -> int:
        """Number of control intervals in the horizon."""
        return round(self.horizon_s / self.interval_s)

    @property
    def economic_interval_s(self) -> float:
        """Economic MPC interval [s]: ``economic.interval_s`` or :attr:`interval_s`."""
        return self.economic.interval_s or self.interval_s

    @property
    def economic_horizon_steps(self) -> int:
        """Intervals in the economic MPC's horizon."""
        return round((self.economic.horizon_s or self.horizon_s) / self.economic_interval_s)

    @property
    def solve_time_limit_s(self) -> float:
        """Solver time limit [s]: :attr:`max_solve_time_s` or half the interval."""
        return self.max_solve_time_s if self.max_solve_time_s is not None else self.interval_s / 2
