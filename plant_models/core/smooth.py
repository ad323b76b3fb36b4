"""Smooth and clipped forms of piecewise functions, usable in equation functions.

Each helper is an :func:`~plant_models.core.equations.equation` function, so
model equations may call it and it is compiled along to casadi and numba.
Smooth forms keep derivatives continuous for the optimiser; ``width`` sets
the size of the rounded region in the units of the argument.
"""

from __future__ import annotations

from typing import Any

from plant_models.core.equations import equation
from plant_models.core.mathfuncs import fmax, fmin, sqrt, tanh

__all__ = ["clip", "smooth_abs", "smooth_max", "smooth_min", "smooth_step"]


@equation
def clip(value: Any, low: Any, high: Any) -> Any:
    """Return ``value`` limited to ``[low, high]`` (exact, kinked at the limits)."""
    return fmin(fmax(value, low), high)


@equation
def smooth_abs(value: Any, width: Any) -> Any:
    """Return ``sqrt(value**2 + width**2)``: ``|value|`` rounded within about ``width``."""
    return sqrt(value * value + width * width)


@equation
def smooth_max(a: Any, b: Any, width: Any) -> Any:
    """Return a smooth maximum of ``a`` and ``b``; exceeds ``max(a, b)`` by at most ``width/2``."""
    return 0.5 * (a + b + smooth_abs(a - b, width))


@equation
def smooth_min(a: Any, b: Any, width: Any) -> Any:
    """Return a smooth minimum of ``a`` and ``b``; below ``min(a, b)`` by at most ``width/2``."""
    return 0.5 * (a + b - smooth_abs(a - b, width))


@equation
def smooth_step(value: Any, width: Any) -> Any:
    """Return ``0.5 (1 + tanh(value / width))``: 0 below, 1 above, 0.5 at ``value = 0``."""
    return 0.5 * (1.0 + tanh(value / width))
