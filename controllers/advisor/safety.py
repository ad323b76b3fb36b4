"""The safety projection every recommended setpoint goes through.

Rule (vectorised over MVs), for a current value ``c``, a target ``t`` (the
controller's wish; NaN means "hold"), limits ``[lo, hi]`` and rate limit
``r`` per interval:

* ``c`` inside ``[lo, hi]``: the setpoint is ``t`` clipped to
  ``[max(lo, c - r), min(hi, c + r)]``: inside the limits and within one
  rate step of ``c``.
* ``c`` outside the limits but within one rate step of them: the setpoint is
  ``t`` clipped to the part of the limits one step reaches, so it is inside
  the limits.
* ``c`` further outside: the limits cannot be reached in one move; the
  setpoint is ``c + r`` (below ``lo``) or ``c - r`` (above ``hi``), a full
  rate step toward the limits whatever the target, so the distance to the
  limits shrinks by ``r`` every interval until they are reached.

So every setpoint is finite (for a finite ``c``), within ``r`` of ``c``,
and inside the limits whenever one move can reach them.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

__all__ = ["MoveLimitation", "project_plan", "safe_setpoints"]


class MoveLimitation(enum.Enum):
    """What limited a recommended move."""

    NONE = "none"
    """The target was reachable: the setpoint equals it."""
    LOWER = "lower"
    """Clipped to the lower limit."""
    UPPER = "upper"
    """Clipped to the upper limit."""
    RATE = "rate"
    """Clipped to one rate step from the current value."""
    RECOVERING = "recovering"
    """The current value is outside the limits beyond one rate step: full step toward them."""


def safe_setpoints(
    current: npt.ArrayLike,
    target: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    rate: npt.ArrayLike,
) -> tuple[np.ndarray, tuple[MoveLimitation, ...]]:
    """Project target setpoints onto the limits and the rate limit (see module docstring).

    Parameters
    ----------
    current : array_like
        Current values, finite, shape ``(n,)``. [SI]
    target : array_like
        Wished setpoints, shape ``(n,)``; NaN or inf entries mean "hold". [SI]
    lower, upper : array_like
        Limits, finite, ``lower <= upper``, shape ``(n,)``. [SI]
    rate : array_like
        Largest move per interval, positive, ``inf`` for none, shape ``(n,)``. [SI]

    Returns
    -------
    setpoints : numpy.ndarray
        Safe setpoints, shape ``(n,)``. [SI]
    limitations : tuple of MoveLimitation
        What limited each move.
    """
    c = np.asarray(current, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    r = np.asarray(rate, dtype=float)
    t = np.asarray(target, dtype=float)
    t = np.where(np.isfinite(t), t, c)
    win_lo = np.maximum(lo, c - r)
    win_hi = np.minimum(hi, c + r)
    reachable = win_lo <= win_hi
    clipped = np.clip(t, win_lo, np.maximum(win_lo, win_hi))
    recover = np.where(c < lo, c + r, c - r)
    setpoints = np.where(reachable, clipped, recover)
    limitations = []
    for i in range(c.size):
        if not reachable[i]:
            limitations.append(MoveLimitation.RECOVERING)
        elif setpoints[i] == t[i]:
            limitations.append(MoveLimitation.NONE)
        elif setpoints[i] == lo[i] and t[i] < lo[i]:
            limitations.append(MoveLimitation.LOWER)
        elif setpoints[i] == hi[i] and t[i] > hi[i]:
            limitations.append(MoveLimitation.UPPER)
        else:
            limitations.append(MoveLimitation.RATE)
    return setpoints, tuple(limitations)


def project_plan(
    current: npt.ArrayLike,
    plan: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    rate: npt.ArrayLike,
) -> np.ndarray:
    """Project a whole MV plan row by row, each row against the previous projected one.

    Parameters
    ----------
    current : array_like
        Current values, finite, shape ``(n_mv,)``. [SI]
    plan : array_like
        Planned values, shape ``(n_horizon, n_mv)``. [SI]
    lower, upper : array_like
        Limits, shape ``(n_mv,)``. [SI]
    rate : array_like
        Largest move per interval, shape ``(n_mv,)``. [SI]

    Returns
    -------
    numpy.ndarray
        The safe plan, shape ``(n_horizon, n_mv)``: every row within the rate
        limit of the row before (of ``current`` for row 0). [SI]
    """
    rows = np.atleast_2d(np.asarray(plan, dtype=float))
    out = np.empty_like(rows)
    previous = np.asarray(current, dtype=float)
    for k in range(rows.shape[0]):
        out[k], _ = safe_setpoints(previous, rows[k], lower, upper, rate)
        previous = out[k]
    return out
