"""Per-interval MV limits of the economic MPC: projection, rate-limit names, shifting."""

from __future__ import annotations

import math

import numpy as np

from controllers.economic.blocking import block_starts, mv_blocks
from controllers.economic.results import _ACTIVE_REL
from controllers.economic.settings import EconomicMPCSettings

__all__ = ["project_plan", "rate_limit_names", "shift_blocks"]


def project_plan(
    plan: np.ndarray, mv: np.ndarray, low: np.ndarray, high: np.ndarray, rate: np.ndarray
) -> np.ndarray:
    """Remove ipopt's round-off beyond per-interval MV and rate limits.

    ipopt meets bounds and rows only to ~1e-8.  ``low``, ``high`` and
    ``rate`` have shape ``(N, n_mv)`` (``rate`` may be ``inf``).

    Parameters
    ----------
    plan : numpy.ndarray
        MV plan, shape ``(N, n_mv)``. [SI]
    mv : numpy.ndarray
        MVs in force before the horizon, shape ``(n_mv,)``. [SI]
    low, high, rate : numpy.ndarray
        Limits and largest moves per interval, shape ``(N, n_mv)``. [SI]

    Returns
    -------
    numpy.ndarray
        The projected plan, shape ``(N, n_mv)``. [SI]
    """
    out = plan.copy()
    prev = mv
    rate = rate * (1.0 - 1e-12)  # so that the move recomputed in floating point stays inside
    for k in range(out.shape[0]):
        out[k] = np.clip(np.clip(out[k], prev - rate[k], prev + rate[k]), low[k], high[k])
        prev = out[k]
    return out


def rate_limit_names(
    settings: EconomicMPCSettings,
    plan: np.ndarray,
    mv: np.ndarray,
    rate: np.ndarray,
    mv_span: np.ndarray,
) -> list[str]:
    """Return ``<mv>.rate`` for each MV whose move reaches its per-interval rate limit.

    Moves inside a move block (``settings.move_blocks``) are not considered.

    Parameters
    ----------
    settings : EconomicMPCSettings
        For the MV names.
    plan : numpy.ndarray
        MV plan, shape ``(N, n_mv)``. [SI]
    mv : numpy.ndarray
        MVs in force before the horizon, shape ``(n_mv,)``. [SI]
    rate : numpy.ndarray
        Rate limits per interval, shape ``(N, n_mv)``, ``inf`` for none. [SI]
    mv_span : numpy.ndarray
        MV ranges (the tolerance is relative to them), shape ``(n_mv,)``. [SI]

    Returns
    -------
    list of str
    """
    moves = np.abs(np.diff(np.vstack([mv, plan]), axis=0))
    # With move blocking the zero "rate" inside a block is no limit of the plant's.
    names_mv = tuple(m.name for m in settings.mvs)
    free = block_starts(
        mv_blocks(settings.move_blocks, plan.shape[0], names_mv, settings.move_blocks_exempt)
    )
    names = []
    for i, m in enumerate(settings.mvs):
        limited = np.isfinite(rate[:, i]) & free[:, i]
        tol = _ACTIVE_REL * mv_span[i]
        if np.any(limited & (moves[:, i] >= np.where(limited, rate[:, i], math.inf) - tol)):
            names.append(f"{m.name}.rate")
    return names


def shift_blocks(values: np.ndarray, blocks: list[int], n_intervals: int) -> np.ndarray:
    """Shift a vector of per-interval blocks one interval ahead (last block repeated).

    ``values`` is the concatenation of parts of ``blocks[i] * n_intervals``
    entries whose intervals are contiguous (casadi's column-major ``vec``).

    Parameters
    ----------
    values : numpy.ndarray
        The vector, shape ``(sum(blocks) * n_intervals,)``.
    blocks : list of int
        Entries per interval of each part.
    n_intervals : int
        Number of intervals ``N``.

    Returns
    -------
    numpy.ndarray
    """
    out, start = [], 0
    for size in blocks:
        part = values[start : start + size * n_intervals].reshape(n_intervals, size)
        out.append(np.vstack([part[1:], part[-1:]]).ravel())
        start += size * n_intervals
    return np.concatenate(out) if out else values.copy()
