"""Ready controllers from a project file."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy.typing as npt

    from controllers.economic import EconomicMPC, ForecastSource
    from energyopt.plantbuild import BuiltPlant
    from energyopt.project import Project

__all__ = ["build_economic_controller"]


def build_economic_controller(
    project: Project,
    built: BuiltPlant,
    forecast: ForecastSource | None = None,
    *,
    parameters: npt.ArrayLike | None = None,
) -> EconomicMPC:
    """Return the economic MPC a project declares, on its plant.

    Parameters
    ----------
    project : Project
        The validated project.
    built : BuiltPlant
        Its plant (:func:`energyopt.plantbuild.build_plant`).
    forecast : callable or None
        ``forecast(time_s) -> HorizonInputs`` (seconds since epoch) used by
        :meth:`EconomicMPC.solve`: an
        :class:`~energyopt.controlbuild.forecast.EconomicForecast`, or
        :func:`~energyopt.controlbuild.forecast.perfect_foresight`.
    parameters : array_like or None
        Plant parameters (calibrated); default the project's nominal ones. [SI]

    Returns
    -------
    EconomicMPC

    Raises
    ------
    ProjectError
        If the project's settings cannot be mapped (:func:`economic_settings`)
        or the controller cannot be built on the plant.
    """
    from controllers.economic import EconomicMPC
    from controllers.errors import EconomicMPCError
    from energyopt.controlbuild.economic import economic_settings
    from energyopt.errors import ProjectError

    settings = economic_settings(project, built)
    try:
        return EconomicMPC(
            built.model,
            built.parameters() if parameters is None else parameters,
            settings,
            forecast=forecast,
        )
    except EconomicMPCError as exc:
        raise ProjectError(f"{project.source or 'project'}: controller.economic: {exc}") from None
