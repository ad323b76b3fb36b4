"""Per-interval output bounds of the economic MPC: normal bands and hard limits.

The settings give each soft band and hard limit one value for the whole
horizon; a horizon may tighten them per interval end (``HorizonInputs``'s
``band_low``/``band_high``/``limit_low``/``limit_high``, for instance a
back-off from the forecast's prediction intervals).  :func:`output_bounds`
checks those and returns the bounds in force at interval ends ``1..N``;
the NLP's band and hard-limit rows take them as row bounds (no rebuild).

Each band (hard limit) has *one* slack per interval end, in units of its row
scale ``c`` (the variable's scale): ``low <= v + s * c`` and
``v - s * c <= high``.  The band being non-empty, at most one side can be
violated, so ``s * c`` is the excursion on whichever side it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from controllers.economic.settings import EconomicMPCSettings
from controllers.errors import EconomicMPCError

__all__ = ["OutputBounds", "excess", "output_bounds"]


@dataclass(frozen=True, eq=False)
class OutputBounds:
    """Band and hard-limit bounds at interval ends ``1..N``.

    Attributes
    ----------
    band_low, band_high : numpy.ndarray
        Normal band of each soft band, shape ``(n_b, N)``. [SI]
    limit_low, limit_high : numpy.ndarray
        Hard limits, shape ``(n_h, N)`` (``-inf``/``inf`` for none). [SI]
    """

    band_low: np.ndarray
    band_high: np.ndarray
    limit_low: np.ndarray
    limit_high: np.ndarray


def _side(
    field: str,
    given: Mapping[str, np.ndarray] | None,
    entries: list[tuple[str, float]],
    n: int,
    lower: bool,
) -> np.ndarray:
    """One side's bounds ``(n_entries, n)``: the settings' tightened where ``given`` says."""
    out = np.array([np.full(n, value) for _, value in entries]).reshape(len(entries), n)
    if given is None:
        return out
    if not isinstance(given, Mapping):
        raise EconomicMPCError(f"{field} must be a mapping of variable name to array")
    names = [name for name, _ in entries]
    for name, values in given.items():
        if name not in names:
            raise EconomicMPCError(
                f"{field}: {name!r} has no {'band' if 'band' in field else 'hard limit'} in "
                f"the settings (known: {sorted(set(names))})"
            )
        arr = np.asarray(values, dtype=float)
        if arr.shape != (n,):
            raise EconomicMPCError(f"{field}[{name!r}] must have shape ({n},), got {arr.shape}")
        if np.isnan(arr).any():
            raise EconomicMPCError(f"{field}[{name!r}] must not contain NaN")
        for j in (j for j, other in enumerate(names) if other == name):
            # Only tightening: a looser bound would silently override the settings.
            base = entries[j][1]
            loose = arr < base if lower else arr > base
            if np.any(loose):
                k = int(np.argmax(loose))
                word = "below the settings' low" if lower else "above the settings' high"
                raise EconomicMPCError(
                    f"{field}[{name!r}] may only tighten: {arr[k]:g} at interval end {k + 1} "
                    f"is {word} {base:g}"
                )
            out[j] = arr
    return out


def output_bounds(
    settings: EconomicMPCSettings,
    band_low: Mapping[str, np.ndarray] | None = None,
    band_high: Mapping[str, np.ndarray] | None = None,
    limit_low: Mapping[str, np.ndarray] | None = None,
    limit_high: Mapping[str, np.ndarray] | None = None,
) -> OutputBounds:
    """Check per-interval bands and hard limits and return the bounds in force.

    Parameters
    ----------
    settings : EconomicMPCSettings
        The bands and hard limits (their variables name the entries).
    band_low, band_high : Mapping[str, numpy.ndarray] or None
        Band variable -> band edge at interval ends ``1..N``, shape ``(N,)``;
        may only tighten the settings' band. [SI]
    limit_low, limit_high : Mapping[str, numpy.ndarray] or None
        Hard-limit variable -> limit at interval ends ``1..N``, shape
        ``(N,)``; may only tighten the settings' limit (every limit on that
        variable). [SI]

    Returns
    -------
    OutputBounds

    Raises
    ------
    EconomicMPCError
        For an unknown variable, a wrong shape, NaN, a value that loosens the
        settings' or a low edge above the high one.
    """
    n = settings.horizon
    bands, limits = settings.soft_bands, settings.hard_limits
    out = OutputBounds(
        _side("band_low", band_low, [(b.variable, b.low) for b in bands], n, True),
        _side("band_high", band_high, [(b.variable, b.high) for b in bands], n, False),
        _side("limit_low", limit_low, [(h.variable, h.low) for h in limits], n, True),
        _side("limit_high", limit_high, [(h.variable, h.high) for h in limits], n, False),
    )
    for kind, names, lo, hi in (
        ("band", [b.variable for b in bands], out.band_low, out.band_high),
        ("hard limit", [h.variable for h in limits], out.limit_low, out.limit_high),
    ):
        for j, name in enumerate(names):
            crossed = lo[j] > hi[j]
            if np.any(crossed):
                k = int(np.argmax(crossed))
                raise EconomicMPCError(
                    f"{kind} of {name!r}: low {lo[j, k]:g} above high {hi[j, k]:g} "
                    f"at interval end {k + 1}"
                )
    return out


def excess(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Excursion of ``values`` below ``low`` or above ``high`` (zero inside). [SI].

    Parameters
    ----------
    values : numpy.ndarray
        Values, shape ``(n, N)``. [SI]
    low, high : numpy.ndarray
        Bounds, shape ``(n, N)`` (``-inf``/``inf`` for none). [SI]

    Returns
    -------
    numpy.ndarray
        Shape ``(n, N)``, non-negative. [SI]
    """
    return np.maximum(np.maximum(low - values, values - high), 0.0)
