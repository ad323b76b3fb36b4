"""The search space of a tune: which project keys vary, over which range, on which scale.

A parameter is a dotted project key (:mod:`energyopt.project.overrides`)
with bounds and a scale, or a list of choices.  The default space is derived
from the project's current settings; the ``[tune]`` section
(:class:`~energyopt.tune.schema.TuneSettings`) declares other bounds, adds
keys or leaves defaults out.

Default parameters (bounds always widened to contain the current value):

====================================== ======== =================================
key                                    scale    range
====================================== ======== =================================
``controller.band_weight``             log      current / 10 .. current x 10
``controller.priority_ratio``          log      2 .. 100
``controller.economic.move_weight``    log      current / 100 .. current x 100
``controller.economic.horizon_s``      linear   current / 4 .. current, on the
                                                economic interval's grid
``controller.forecast.training_s``     linear   1 d .. 28 d, by days
``controller.forecast.level``          linear   0.5 .. 0.98
``controller.forecast.scenarios``      choices  interval, quadrature, sampled
====================================== ======== =================================

``controller.economic_weight`` is not a default: the economic MPC prices
energy in currency and does not read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from energyopt.errors import ProjectError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

    from energyopt.project import Project
    from energyopt.tune.schema import ParamDecl, TuneSettings

__all__ = ["DEFAULT_KEYS", "ParamSpec", "search_space"]

_DAY_S = 86_400.0
_HOUR_S = 3_600.0

#: Keys of the default search space, in the order they are listed.
DEFAULT_KEYS: tuple[str, ...] = (
    "controller.band_weight",
    "controller.priority_ratio",
    "controller.economic.move_weight",
    "controller.economic.horizon_s",
    "controller.forecast.training_s",
    "controller.forecast.level",
    "controller.forecast.scenarios",
)


@dataclass(frozen=True)
class ParamSpec:
    """One searched project key.

    Attributes
    ----------
    key : str
        Dotted project key (also the optuna parameter name).
    kind : {"float", "int", "categorical"}
        Value type.
    low, high : float
        Bounds in the key's SI unit (unused for categorical).
    log : bool
        Sample on a log scale.
    step : float or None
        Grid of a linear parameter.
    choices : tuple
        Values of a categorical parameter.
    current : object
        The project's value before tuning (``None``: not set).
    """

    key: str
    kind: Literal["float", "int", "categorical"]
    low: float = math.nan
    high: float = math.nan
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()
    current: Any = None

    def distribution(self) -> BaseDistribution:
        """Return the optuna distribution of the parameter."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "categorical":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(
                int(self.low), int(self.high), log=self.log, step=int(self.step or 1)
            )
        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description (for the evidence file)."""
        if self.kind == "categorical":
            return {"key": self.key, "choices": list(self.choices), "current": self.current}
        return {
            "key": self.key,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "scale": "log" if self.log else "linear",
            "step": self.step,
            "current": self.current,
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _defaults(project: Project) -> dict[str, ParamSpec]:
    """The default parameters, derived from the project's current values."""
    from energyopt.project.overrides import project_value

    ctl = project.controller
    out: dict[str, ParamSpec] = {}

    def log_range(key: str, low: float, high: float) -> None:
        cur = _number(project_value(project, key))
        if cur is not None and cur > 0.0:
            low, high = min(low, cur), max(high, cur)
        out[key] = ParamSpec(key, "float", low, high, log=True, current=cur)

    band = ctl.band_weight
    log_range("controller.band_weight", *((band / 10, band * 10) if band > 0 else (1.0, 1.0e4)))
    log_range("controller.priority_ratio", 2.0, 100.0)
    move = ctl.economic.move_weight
    log_range(
        "controller.economic.move_weight",
        *((move / 100, move * 100) if move > 0 else (1.0, 1.0e6)),
    )
    interval = ctl.economic_interval_s
    steps = ctl.economic_horizon_steps
    low_steps = max(2, steps // 4)
    if low_steps < steps:
        out["controller.economic.horizon_s"] = ParamSpec(
            "controller.economic.horizon_s",
            "float",
            low_steps * interval,
            steps * interval,
            step=interval,
            current=steps * interval,
        )
    training = ctl.forecast.training_s
    high_days = max(28.0, math.ceil((training or 0.0) / _DAY_S))
    out["controller.forecast.training_s"] = ParamSpec(
        "controller.forecast.training_s",
        "float",
        _DAY_S,
        high_days * _DAY_S,
        step=_DAY_S,
        current=training,
    )
    level = ctl.forecast.level
    out["controller.forecast.level"] = ParamSpec(
        "controller.forecast.level",
        "float",
        min(0.5, level),
        max(0.98, level),
        current=level,
    )
    out["controller.forecast.scenarios"] = ParamSpec(
        "controller.forecast.scenarios",
        "categorical",
        choices=("interval", "quadrature", "sampled"),
        current=ctl.forecast.scenarios,
    )
    return out


def _declared(project: Project, key: str, decl: ParamDecl) -> ParamSpec:
    from energyopt.project.overrides import project_value

    current = project_value(project, key)
    if decl.choices is not None:
        return ParamSpec(key, "categorical", choices=tuple(decl.choices), current=current)
    if decl.low is None or decl.high is None:  # pragma: no cover - the schema requires them
        raise ProjectError(f"tune.params.{key}: give low and high, or choices")
    return ParamSpec(
        key,
        "int" if decl.integer else "float",
        float(decl.low),
        float(decl.high),
        log=decl.scale == "log",
        step=decl.step,
        current=current,
    )


def _check_values(project: Project, spec: ParamSpec, where: str) -> None:
    """Raise if an end of the range (or a choice) makes the project invalid."""
    from energyopt.project.overrides import apply_overrides

    values: tuple[Any, ...]
    if spec.kind == "categorical":
        values = spec.choices
    elif spec.kind == "int":
        values = (int(spec.low), int(spec.high))
    else:
        values = (spec.low, spec.high)
    for value in values:
        try:
            apply_overrides(project, {spec.key: value})
        except ProjectError as exc:
            raise ProjectError(f"{where}: the value {value!r} is not usable:\n{exc}") from None


def search_space(
    project: Project, settings: TuneSettings, *, check: bool = True
) -> tuple[ParamSpec, ...]:
    """Return the parameters a tune searches.

    Parameters
    ----------
    project : Project
        The project whose settings are tuned.
    settings : TuneSettings
        Its ``[tune]`` section (defaults when absent).
    check : bool
        Validate the project at both ends of every range (and every choice),
        so that a bad range fails before any trial runs.

    Returns
    -------
    tuple of ParamSpec
        Default parameters first (unless excluded or ``defaults = false``),
        then the declared ones; a declared key replaces its default.

    Raises
    ------
    ProjectError
        If a declared key is not a project key, an excluded key is not a
        default, the space is empty, or a bound makes the project invalid.
    """
    where = project.source or "project"
    defaults = _defaults(project) if settings.defaults else {}
    for i, key in enumerate(settings.exclude):
        if key not in DEFAULT_KEYS:
            raise ProjectError(
                f"{where}: tune.exclude[{i}]: '{key}' is not a default parameter; defaults: "
                f"{', '.join(DEFAULT_KEYS)}"
            )
        defaults.pop(key, None)
    specs: dict[str, ParamSpec] = dict(defaults)
    for key, decl in settings.params.items():
        try:
            specs[key] = _declared(project, key, decl)
        except ProjectError as exc:
            raise ProjectError(f'{where}: tune.params."{key}": {exc}') from None
    if not specs:
        raise ProjectError(f"{where}: tune: nothing to tune (no default and no declared parameter)")
    if check:
        for spec in specs.values():
            _check_values(project, spec, f"{where}: tune parameter '{spec.key}'")
    return tuple(specs.values())


def current_values(space: tuple[ParamSpec, ...]) -> Mapping[str, Any]:
    """Return the project's values of the searched keys (``None`` where not set)."""
    return {spec.key: spec.current for spec in space}
