"""What the advisor tells the operator about each MV, and its mode, from project terms.

:class:`MVInfo` names a manipulated variable as the operator knows it (its
binding, tag and engineering unit); :func:`advisor_mode` reads a mode from
the project or the command line; :class:`CachedSource` is the economic MPC's
forecast source that remembers the horizon of its last solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from energyopt.errors import ModelError, ProjectError

if TYPE_CHECKING:
    from controllers.advisor import AdvisorMode
    from controllers.economic import HorizonInputs
    from energyopt.controlbuild.causal import CausalForecastSource

__all__ = ["CachedSource", "MVInfo", "advisor_mode"]


@dataclass(frozen=True)
class MVInfo:
    """A manipulated variable as the operator knows it.

    Attributes
    ----------
    variable : str
        Plant input name.
    binding : str or None
        Project binding name (``None`` for an MV without a tag).
    tag : str or None
        Historian tag of its setpoint.
    unit : str
        Engineering unit of the tag (the model's SI unit without a tag).
    scale, offset : float
        ``tag value = SI value * scale + offset``.
    """

    variable: str
    binding: str | None
    tag: str | None
    unit: str
    scale: float
    offset: float

    def to_tag(self, value: float | None) -> float | None:
        """SI value -> engineering unit (``None`` stays ``None``). [tag unit]."""
        return None if value is None else float(value) * self.scale + self.offset

    @property
    def name(self) -> str:
        """Binding name if bound, else the plant input name."""
        return self.binding or self.variable


class CachedSource:
    """The forecast source of the MPC, remembering the last horizon it gave."""

    def __init__(self) -> None:
        self.forecast: CausalForecastSource | None = None
        self.last: tuple[float, HorizonInputs] | None = None
        self.u_base: npt.NDArray[np.float64] | None = None

    def __call__(self, time_s: float) -> HorizonInputs:
        """The forecast's horizon at ``time_s`` (inputs at ``u_base`` when set). [SI]."""
        from controllers.economic import HorizonInputs

        if self.forecast is None:  # pragma: no cover - set before any solve
            raise ModelError("advisor: no forecast fitted")
        inputs = self.forecast(time_s)
        if self.u_base is not None:
            inputs = HorizonInputs(inputs.d, inputs.price_per_j, self.u_base.copy())
        self.last = (time_s, inputs)
        return inputs


def advisor_mode(mode: object) -> AdvisorMode:
    """Return the :class:`~controllers.advisor.AdvisorMode` named by ``mode`` (any case).

    Raises
    ------
    ProjectError
        For a name other than OFF, PREDICT or ADVISE.
    """
    from controllers.advisor import AdvisorMode

    if isinstance(mode, AdvisorMode):
        return mode
    text = str(mode).strip().upper()
    try:
        return AdvisorMode[text]
    except KeyError:
        raise ProjectError(f"advisor mode must be OFF, PREDICT or ADVISE, got {mode!r}") from None
