"""Specifications of an estimation problem: measured channels, disturbance and parameter states."""

from __future__ import annotations

import math
from dataclasses import dataclass

from controllers.errors import EstimationError

__all__ = ["DISTURBANCE_KINDS", "DisturbanceState", "Measurement", "ParameterState", "positive"]

#: Where a disturbance state acts: on an input, a measured disturbance or a measured channel.
DISTURBANCE_KINDS: tuple[str, ...] = ("input", "disturbance", "output")


def positive(value: float, what: str) -> float:
    """Return ``value`` as a float, or raise :class:`EstimationError` naming ``what``."""
    if isinstance(value, bool) or not (math.isfinite(value) and value > 0.0):
        raise EstimationError(f"{what} must be a positive finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Measurement:
    """One measured channel.

    Attributes
    ----------
    name : str
        Name of a model output (``kind="y"``) or state (``kind="x"``).
    std : float
        Standard deviation of the measurement noise. [unit of the variable]
    kind : {"y", "x"}
        Whether ``name`` is an output of ``g`` or a state.
    """

    name: str
    std: float
    kind: str = "y"

    def __post_init__(self) -> None:
        if self.kind not in ("y", "x"):
            raise EstimationError(f"measurement {self.name}: kind must be 'y' or 'x'")
        positive(self.std, f"measurement {self.name}: std")


@dataclass(frozen=True)
class DisturbanceState:
    """A random-walk disturbance state (offset-free estimation).

    Attributes
    ----------
    name : str
        Name of the state (an identifier, unique among disturbance states).
    kind : {"input", "disturbance", "output"}
        Added to the input ``target``, to the measured disturbance ``target``,
        or to the measured channel ``target`` (a :class:`Measurement` name).
    target : str
        Name of the variable it is added to.
    std_per_step : float
        Standard deviation of the random-walk increment per estimation
        interval. [unit of the target]
    initial_std : float
        Standard deviation of the initial estimate. [unit of the target]
    initial : float
        Initial estimate. [unit of the target]
    low, high : float
        Bounds used by the moving-horizon estimator. [unit of the target]
    """

    name: str
    kind: str
    target: str
    std_per_step: float
    initial_std: float
    initial: float = 0.0
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise EstimationError(f"disturbance state name {self.name!r} is not an identifier")
        if self.kind not in DISTURBANCE_KINDS:
            raise EstimationError(
                f"disturbance state {self.name}: kind {self.kind!r} is not one of "
                f"{', '.join(DISTURBANCE_KINDS)}"
            )
        positive(self.std_per_step, f"disturbance state {self.name}: std_per_step")
        positive(self.initial_std, f"disturbance state {self.name}: initial_std")
        if not self.low <= self.initial <= self.high:
            raise EstimationError(
                f"disturbance state {self.name}: initial {self.initial} outside "
                f"[{self.low}, {self.high}]"
            )


@dataclass(frozen=True)
class ParameterState:
    """A model parameter estimated as a slowly drifting random walk.

    Attributes
    ----------
    name : str
        Name of a model parameter (:attr:`EquationModel.parameters`).
    std_per_step : float
        Standard deviation of the drift per estimation interval. [unit of the parameter]
    initial_std : float
        Standard deviation of the initial estimate (the nominal value). [unit]
    low, high : float or None
        Bounds used by the moving-horizon estimator; ``None`` takes the
        parameter's declared envelope. [unit of the parameter]
    """

    name: str
    std_per_step: float
    initial_std: float
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        positive(self.std_per_step, f"parameter state {self.name}: std_per_step")
        positive(self.initial_std, f"parameter state {self.name}: initial_std")
