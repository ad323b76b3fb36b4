"""Errors of the model core (``ValueError`` subclasses, as everywhere in plant_models)."""

from __future__ import annotations

__all__ = ["EquationError", "SimulationError"]


class EquationError(ValueError):
    """An equation function breaks the equations-once convention.

    For example it uses a global name that is neither in the math name set,
    an equation helper nor a numeric constant, or its result has the wrong
    length.  The message names the function and the offending name.
    """


class SimulationError(ValueError):
    """A simulation cannot be run or did not converge.

    Raised for inconsistent array shapes, non-finite inputs, or an implicit
    step whose Newton iteration failed (the message gives the time step).
    """
