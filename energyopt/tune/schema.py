"""The optional ``[tune]`` project section: what ``energyopt tune`` searches and scores.

Every key is optional; an absent section tunes the default search space
(:func:`energyopt.tune.space.search_space`) for the lowest energy cost with
no gas-holder minute outside its hard limits and a stability rate of at
least 99 % in every window::

    [tune]
    budget = 32                 # trials (--budget overrides)
    seed = 0                    # TPE sampler seed
    windows = 3                 # replay windows spread over the data file
    window_s = "1 d"            # length of each window
    history_s = "3 d"           # data before the first window (the forecasters learn on it)
    objective = "energy_cost"   # KPI key (energyopt.kpis.KPIS), summed over windows
    exclude = ["controller.forecast.scenarios"]   # default parameters left alone

    [tune.constraints]          # per window; replaces the default constraints
    holder_time_outside_hard = { max = 0 }
    stability_rate = { min = 99 }

    [tune.params."controller.band_weight"]         # bounds of one parameter
    low = 100
    high = 10000
    scale = "log"
    [tune.params."controller.economic.horizon_s"]
    low = "6 h"
    high = "24 h"
    step = "1 h"
    [tune.params."controller.forecast.scenarios"]
    choices = ["interval", "quadrature"]

The section model only depends on :mod:`energyopt.project.base`, so the
project model can hold it without import cycles.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self

from pydantic import Field, StrictBool, StrictStr, model_validator

from energyopt.kpis.registry import KPIS
from energyopt.project.base import (
    DurationS,
    Issue,
    Number,
    SchemaModel,
    did_you_mean,
    issues_error,
)

__all__ = ["DEFAULT_CONSTRAINTS", "ConstraintDecl", "ParamDecl", "TuneSettings"]

#: A choice of a categorical parameter: a TOML string, number or boolean.
Choice = StrictStr | StrictBool | Annotated[float, Field(strict=True, allow_inf_nan=False)]


class ParamDecl(SchemaModel):
    """One ``[tune.params."<dotted key>"]`` table: the range searched for a project key."""

    low: DurationS | None = Field(
        None, description='Lower bound in the key\'s SI unit (a duration may be "6 h")'
    )
    high: DurationS | None = Field(None, description="Upper bound in the key's SI unit")
    scale: Literal["linear", "log"] = Field(
        "linear", description="linear or log (log needs low > 0)"
    )
    step: DurationS | None = Field(
        None, gt=0.0, description='Grid of a linear parameter ("15 min" for a horizon)'
    )
    integer: StrictBool = Field(False, description="Whole numbers only")
    choices: list[Choice] | None = Field(
        None, min_length=1, description="Categorical: the values tried (instead of low/high)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        issues: list[Issue] = []
        if self.choices is not None:
            issues.extend(
                ((key,), "not used with choices")
                for key in ("low", "high", "step")
                if getattr(self, key) is not None
            )
        elif self.low is None or self.high is None:
            issues.append(((), "give low and high, or choices"))
        elif not self.low < self.high:
            issues.append((("high",), f"must be above low ({self.low:g}), got {self.high:g}"))
        elif self.scale == "log" and self.low <= 0.0:
            issues.append((("low",), f"must be positive for scale = 'log', got {self.low:g}"))
        elif self.scale == "log" and self.step is not None:
            issues.append((("step",), "not used with scale = 'log'"))
        elif self.integer and not (float(self.low).is_integer() and float(self.high).is_integer()):
            issues.append((("low",), "low and high must be whole numbers for integer = true"))
        if issues:
            raise issues_error(issues)
        return self


class ConstraintDecl(SchemaModel):
    """A ``[tune.constraints]`` entry: bounds a KPI must keep in every window."""

    min: Number | None = Field(None, description="Lowest acceptable value (KPI unit)")
    max: Number | None = Field(None, description="Highest acceptable value (KPI unit)")

    @model_validator(mode="after")
    def _one_given(self) -> Self:
        if self.min is None and self.max is None:
            raise issues_error([((), "give min, max or both")])
        if self.min is not None and self.max is not None and not self.min <= self.max:
            raise issues_error([(("max",), f"must be at least min ({self.min:g})")])
        return self


#: Constraints when ``[tune.constraints]`` is absent.
DEFAULT_CONSTRAINTS: dict[str, ConstraintDecl] = {
    "holder_time_outside_hard": ConstraintDecl(max=0.0),
    "stability_rate": ConstraintDecl(min=99.0),
}


class TuneSettings(SchemaModel):
    """The ``[tune]`` table (see the module docstring)."""

    budget: Annotated[int, Field(strict=True, ge=1, le=100_000)] = Field(
        32, description="Trials in total (finished trials of an earlier run count)"
    )
    seed: Annotated[int, Field(strict=True, ge=0)] = Field(0, description="TPE sampler seed")
    windows: Annotated[int, Field(strict=True, ge=1, le=366)] = Field(
        3, description="Replay windows spread evenly over the data file"
    )
    window_s: DurationS = Field(86_400.0, gt=0.0, description='Length of a window [s]; "1 d"')
    history_s: DurationS = Field(
        259_200.0,
        ge=0.0,
        description="Recorded history before the first window, left for the MPC's forecasters "
        '(fitted on the data before each window) [s]; "3 d"',
    )
    objective: StrictStr = Field(
        "energy_cost", description="KPI key minimised (or maximised), summed over the windows"
    )
    constraints: dict[str, ConstraintDecl] | None = Field(
        None,
        description="KPI key -> {min, max} in every window; default: no hard-limit "
        "minutes and stability rate >= 99 %",
    )
    defaults: StrictBool = Field(True, description="Search the default parameters too")
    exclude: list[StrictStr] = Field(
        default_factory=list, description="Default parameters not searched"
    )
    params: dict[str, ParamDecl] = Field(
        default_factory=dict, description="Dotted project key -> its search range"
    )

    @model_validator(mode="after")
    def _kpi_keys(self) -> Self:
        issues: list[Issue] = []
        if self.objective not in KPIS:
            issues.append(
                (
                    ("objective",),
                    f"unknown KPI '{self.objective}'{did_you_mean(self.objective, KPIS)}",
                )
            )
        issues.extend(
            (("constraints", key), f"unknown KPI '{key}'{did_you_mean(key, KPIS)}")
            for key in self.constraints or {}
            if key not in KPIS
        )
        if not math.isfinite(self.window_s):  # pragma: no cover - DurationS rejects inf
            issues.append((("window_s",), "must be finite"))
        if issues:
            raise issues_error(issues)
        return self

    @property
    def constraint_bounds(self) -> dict[str, ConstraintDecl]:
        """The constraints in force (declared, else :data:`DEFAULT_CONSTRAINTS`)."""
        return dict(DEFAULT_CONSTRAINTS if self.constraints is None else self.constraints)
