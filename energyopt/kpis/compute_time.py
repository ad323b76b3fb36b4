"""Controller compute-time KPIs: median and p95 solve time, compute-time ratio.

The ratio follows BOPTEST's ``time_rat`` (Blum et al. 2021, "Building
optimization testing framework (BOPTEST) for simulation-based benchmarking of
control strategies in buildings", J. Build. Perform. Simul. 14(5); code:
``ibpsa/project1-boptest``, ``kpis/kpi_calculator.py``,
``KPI_Calculator.get_computational_time_ratio``): the *mean* elapsed control
time per step divided by the control step.  With one solve per control
interval this equals total compute time over total simulated control time.
A ratio near or above 1 means the controller cannot keep up in real time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from energyopt.errors import DataError
from energyopt.kpis._validation import as_series, check_positive

__all__ = ["ComputeTimeStats", "compute_time_stats"]


@dataclass(frozen=True)
class ComputeTimeStats:
    """Result of :func:`compute_time_stats`.

    Attributes
    ----------
    median_s : float
        Median solve time. [s]
    p95_s : float
        95th percentile of the solve times (linear interpolation between
        order statistics, numpy's default). [s]
    max_s : float
        Longest solve. [s]
    mean_s : float
        Mean solve time. [s]
    time_ratio : float
        ``mean_s / control_interval_s`` (BOPTEST ``time_rat``). [1]
    n_solves : int
        Solve times used.
    n_missing : int
        Solve times given as NaN (not measured) and left out.
    """

    median_s: float
    p95_s: float
    max_s: float
    mean_s: float
    time_ratio: float
    n_solves: int
    n_missing: int


def compute_time_stats(solve_times_s: npt.ArrayLike, control_interval_s: float) -> ComputeTimeStats:
    """Return summary statistics of a controller's solve times.

    Parameters
    ----------
    solve_times_s : array_like
        Wall-clock time of each controller step (solve plus its overhead);
        NaN for a step that was not timed. [s]
    control_interval_s : float
        Control interval, the simulated time one step covers. [s]

    Returns
    -------
    ComputeTimeStats
        Median, p95, max, mean and the compute-time ratio.

    Raises
    ------
    DataError
        If ``control_interval_s`` is not positive, a time is negative or
        infinite, or no time is given.
    """
    kpi = "compute_time_ratio"
    interval = check_positive(kpi, "control_interval_s", control_interval_s)
    times = as_series(kpi, "solve_times_s", solve_times_s)
    missing = np.isnan(times)
    used = times[~missing]
    if used.size == 0:
        raise DataError(f"{kpi}: no solve time given")
    if not np.isfinite(used).all() or (used < 0.0).any():
        raise DataError(f"{kpi}: solve_times_s must be finite and non-negative")
    mean = float(np.mean(used))
    return ComputeTimeStats(
        median_s=float(np.median(used)),
        p95_s=float(np.percentile(used, 95.0)),
        max_s=float(np.max(used)),
        mean_s=mean,
        time_ratio=mean / interval,
        n_solves=int(used.size),
        n_missing=int(np.count_nonzero(missing)),
    )
