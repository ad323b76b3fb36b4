"""The ``[controller]`` table of the project file: how the MPC runs."""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import Field, model_validator

from energyopt.project.base import DurationS, Issue, Number, SchemaModel, issues_error

__all__ = ["CONTROLLER_MODES", "SOLVERS", "ControllerSettings"]

#: Controller modes: OFF (no controller), PREDICT (forecast only), ADVISE
#: (recommend setpoints to the operator).
ControllerMode = Literal["OFF", "PREDICT", "ADVISE"]
CONTROLLER_MODES: tuple[str, ...] = get_args(ControllerMode)

#: Optimisation solvers (casadi plugin names bundled in the casadi wheel).
Solver = Literal["ipopt", "fatrop", "sqpmethod", "hpipm", "osqp", "qpoases", "highs"]
SOLVERS: tuple[str, ...] = get_args(Solver)


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

    @property
    def horizon_steps(self) -> int:
        """Number of control intervals in the horizon."""
        return round(self.horizon_s / self.interval_s)

    @property
    def solve_time_limit_s(self) -> float:
        """Solver time limit [s]: :attr:`max_solve_time_s` or half the interval."""
        return self.max_solve_time_s if self.max_solve_time_s is not None else self.interval_s / 2
