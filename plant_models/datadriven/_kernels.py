"""Numba kernel stepping a discrete-time equation model (private).

Imports numba: import this module only when a simulation is run.  Like the
kernels of :mod:`plant_models.core.kernels` it takes the compiled ``f`` and
``g`` as arguments, so numba specialises it per model and it cannot be cached
on disk.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np


@numba.njit(cache=False)
def run_discrete(
    f: Any,
    g: Any,
    x0: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    p: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
) -> int:  # pragma: no cover - compiled by numba
    """Iterate ``y[k] = g(x[k], u[k], d[k], p)``, ``x[k+1] = f(x[k], u[k], d[k], p)``.

    Returns 0, or ``k + 1`` if the state became non-finite at step ``k``.
    """
    x = x0.copy()
    xs[0, :] = x
    for k in range(u.shape[0]):
        ys[k, :] = g(x, u[k], d[k], p)
        x = f(x, u[k], d[k], p)
        for i in range(x.shape[0]):
            if not math.isfinite(x[i]):
                return k + 1
        xs[k + 1, :] = x
    return 0
