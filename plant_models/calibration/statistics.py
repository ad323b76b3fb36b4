"""Parameter statistics at the optimum and the identifiability test.

Covariance
----------
With ``J`` the Jacobian of the weighted data residuals ``r`` by the scaled
free parameters at the optimum, ``m`` residuals, ``n`` parameters and ``q``
estimated nuisance values (initial states of multiple shooting), the
Gauss-Newton covariance is (Bates and Watts 1988, "Nonlinear Regression
Analysis and Its Applications", section 2.3)::

    s^2 = r.r / (m - n - q)
    A   = [J / s ; diag(scale / prior_std) rows of the parameters with a prior]
    C   = (A^T A)^-1          (scaled), covariance = S C S with S = diag(scale)

Nuisance directions are projected out of ``J`` first (``J <- (I - Q Q^T) J``
with ``Q`` an orthonormal basis of the nuisance columns), which gives the
marginal covariance of the parameters.  The 95 % intervals use Student's t
quantile with ``m - n - q`` degrees of freedom.

Identifiability
---------------
The thresholds are fields of
:class:`~plant_models.calibration.spec.CalibrationSettings`.
``A`` is examined by singular value decomposition before it is inverted:

1. *No effect*: a column whose norm is below ``rcond`` times the largest
   (default 1e-8) -- the parameter does not change any measured signal.
2. *Structural*: the columns scaled to unit norm (Belsley's equilibration)
   have a singular-value ratio ``s_min / s_max < rcond``.  Casadi's exact
   derivatives leave an exactly dependent set of columns at round-off
   level (1e-12 and below) while even a 0.9999 correlation of two
   parameters gives about 7e-3, so 1e-8 flags only true rank deficiency.
3. *Practical*: some parameter's standard error exceeds
   ``max_relative_se`` (default 1, i.e. 100 %) of its magnitude -- the
   larger of the estimate's absolute value and a tenth of the parameter's
   scale, so that a parameter estimated near zero is judged against its
   typical size: the data determine it no better than its order of
   magnitude.

The parameters named in the error are, for a structural defect, those
with a loading of at least 1e-3 of the largest in the right singular vector
of the smallest singular value (exactly dependent columns load at order
one, the others at round-off level); for a practical one, every parameter
above the threshold plus any whose estimate correlates with the worst one
by 0.99 or more in absolute value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plant_models.calibration.errors import CalibrationDataError, IdentifiabilityError

__all__ = ["ParameterStatistics", "check_identifiability", "parameter_statistics"]

#: Loading (relative to the largest) above which a parameter takes part in
#: an exact dependency: dependent columns load at order one, others at round-off.
_LOADING = 1e-3
#: Absolute correlation with the worst-determined parameter above which a
#: parameter is named as its partner in a practical identifiability error.
_PARTNER_CORRELATION = 0.99
#: Relative singular-value cut when projecting out the nuisance columns: a
#: nuisance direction below it carries no information and is not counted.
_NUISANCE_RCOND = 1e-10
_HINT = "fix one of them, give a prior, or use data that excite them differently"


@dataclass(frozen=True, eq=False)
class ParameterStatistics:
    """Uncertainty of the estimates.

    Attributes
    ----------
    covariance : numpy.ndarray, shape (n, n)
        Covariance of the estimates. [parameter units squared]
    standard_errors : numpy.ndarray, shape (n,)
        Square roots of its diagonal. [parameter units]
    correlation : numpy.ndarray, shape (n, n)
        Correlation matrix of the estimates. [-]
    residual_variance : float
        ``s^2``: weighted residual sum of squares over the degrees of
        freedom; near 1 when the weights are the true noise levels. [-]
    dof : int
        Degrees of freedom ``m - n - q``.
    t_quantile : float
        Student's t 97.5 % quantile for ``dof``: the 95 % interval is the
        estimate plus or minus ``t_quantile`` standard errors. [-]
    singular_values : numpy.ndarray
        Singular values of the column-equilibrated scaled Jacobian ``A``. [-]
    """

    covariance: NDArray[np.float64]
    standard_errors: NDArray[np.float64]
    correlation: NDArray[np.float64]
    residual_variance: float
    dof: int
    t_quantile: float
    singular_values: NDArray[np.float64]


def _join(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _fmt_corr(value: float) -> str:
    value = min(abs(value), 1.0)
    digits = 4
    while round(value, digits) == 1.0 and value < 1.0 and digits < 10:
        digits += 1
    return f"{value:.{digits}f}"


def _dependent(an: NDArray[np.float64]) -> list[int]:
    """Columns loading the weakest right singular vector of the equilibrated ``an``."""
    _, _, vt = np.linalg.svd(an, full_matrices=False)
    load = np.abs(vt[-1])
    return [int(i) for i in np.flatnonzero(load >= _LOADING * load.max())]


def check_identifiability(
    a: NDArray[np.float64],
    names: Sequence[str],
    rcond: float,
    max_relative_se: float,
    magnitude: NDArray[np.float64] | None = None,
    noise: float = 1.0,
) -> None:
    """Raise :class:`IdentifiabilityError` if ``a`` leaves a parameter combination undetermined.

    Parameters
    ----------
    a : numpy.ndarray, shape (m, n)
        Information root in residual units: the weighted residual Jacobian
        by the scaled parameters, with the prior rows times ``noise``
        appended; the covariance is ``noise**2 (a^T a)^-1``. [-]
    names : sequence of str
        Parameter names, one per column.
    rcond : float
        Structural threshold (tests 1 and 2 of the module docstring). [-]
    max_relative_se : float
        Practical threshold (test 3). [-]
    magnitude : numpy.ndarray, optional
        Magnitude of each parameter in units of its scale, the reference of
        the relative standard error (default 1). [-]
    noise : float
        Residual standard deviation ``s`` (0 for noise-free data, whose
        estimates have no spread). [-]
    """
    norms = np.linalg.norm(a, axis=0)
    top = float(norms.max()) if norms.size else 0.0
    dead = [names[int(i)] for i in np.flatnonzero(norms <= rcond * top)] if top > 0 else list(names)
    if dead:
        verb = "has" if len(dead) == 1 else "have"
        noun = "parameter" if len(dead) == 1 else "parameters"
        raise IdentifiabilityError(
            f"{noun} {_join(dead)} {verb} no effect on the measured outputs: measure a signal "
            "it influences, or fix it",
            tuple(dead),
        )
    an = a / norms
    sv = np.linalg.svd(an, compute_uv=False)
    if sv[-1] < rcond * sv[0]:
        involved = _dependent(an)
        correlation = (
            abs(float(an[:, involved[0]] @ an[:, involved[1]])) if len(involved) == 2 else None
        )
        _raise_combination(
            names, involved, correlation, f"singular-value ratio {sv[-1] / sv[0]:.1e}"
        )
    _, sv_raw, vt_raw = np.linalg.svd(a, full_matrices=False)
    cov = noise**2 * ((vt_raw.T / sv_raw**2) @ vt_raw)
    sd = np.sqrt(np.diag(cov))
    rel_se = sd / (np.ones(len(names)) if magnitude is None else magnitude)
    worst = int(np.argmax(rel_se))
    if rel_se[worst] <= max_relative_se:
        return
    corr = cov[worst] / (sd[worst] * sd)
    involved = [
        i
        for i in range(len(names))
        if rel_se[i] > max_relative_se or abs(corr[i]) >= _PARTNER_CORRELATION
    ]
    detail = f"relative standard error of {names[worst]} {100.0 * rel_se[worst]:.0f} %"
    if len(involved) == 1:
        raise IdentifiabilityError(
            f"parameter {names[worst]} is not determined by the data ({detail}): the measured "
            "signals barely depend on it in this record; use data that excite it, measure a "
            "signal it influences, give it a prior, or fix it",
            (names[worst],),
        )
    correlation = abs(float(cov[involved[0], involved[1]] / (sd[involved[0]] * sd[involved[1]])))
    _raise_combination(names, involved, correlation if len(involved) == 2 else None, detail)


def _raise_combination(
    names: Sequence[str], involved: list[int], correlation: float | None, detail: str
) -> None:
    who = [names[i] for i in involved]
    if len(involved) == 1:
        raise IdentifiabilityError(
            f"parameter {who[0]} has no effect on the measured outputs that the other "
            f"parameters cannot produce ({detail}): fix it or give it a prior",
            tuple(who),
        )
    text = f"correlation {_fmt_corr(correlation)}, " if correlation is not None else ""
    raise IdentifiabilityError(
        f"parameters {_join(who)} cannot be separated by the data ({text}{detail}): only a "
        f"combination of them is determined; {_HINT}",
        tuple(who),
        correlation,
    )


def parameter_statistics(
    names: Sequence[str],
    values: NDArray[np.float64],
    scale: NDArray[np.float64],
    jacobian: NDArray[np.float64],
    residuals: NDArray[np.float64],
    nuisance: NDArray[np.float64],
    prior_std: NDArray[np.float64],
    *,
    rcond: float = 1e-8,
    max_relative_se: float = 1.0,
) -> ParameterStatistics:
    """Check identifiability and compute covariance, standard errors and correlation.

    Parameters
    ----------
    names : sequence of str
        Parameter names.
    values : numpy.ndarray, shape (n,)
        The estimates. [parameter units]
    scale : numpy.ndarray, shape (n,)
        Parameter scales (the Jacobian is by ``theta / scale``). [parameter units]
    jacobian : numpy.ndarray, shape (m, n)
        Weighted data residuals by the scaled parameters. [-]
    residuals : numpy.ndarray, shape (m,)
        Weighted data residuals at the optimum. [-]
    nuisance : numpy.ndarray, shape (m, q)
        Weighted data residuals by the nuisance estimates (may have no columns). [-]
    prior_std : numpy.ndarray, shape (n,)
        Prior standard deviation, ``nan`` without prior. [parameter units]
    rcond, max_relative_se : float
        Identifiability thresholds (module docstring). [-]

    Raises
    ------
    CalibrationDataError
        If there are no more residuals than estimated values.
    IdentifiabilityError
        If the data cannot identify a parameter or a combination of them.
    """
    j = np.asarray(jacobian, dtype=np.float64)
    n_nuisance = 0
    if nuisance.shape[1]:
        u, sv, _ = np.linalg.svd(nuisance, full_matrices=False)
        keep = sv > _NUISANCE_RCOND * sv[0] if sv.size and sv[0] > 0 else np.zeros(0, bool)
        q = u[:, keep]
        j = j - q @ (q.T @ j)
        n_nuisance = int(keep.sum())
    m, n = j.shape
    dof = m - n - n_nuisance
    if dof <= 0:
        raise CalibrationDataError(
            f"{m} residuals cannot determine {n} parameters and {n_nuisance} initial states: "
            "use longer records"
        )
    s2 = float(residuals @ residuals) / dof
    s = float(np.sqrt(s2))
    prior = np.isfinite(prior_std)
    prior_rows = np.zeros((int(prior.sum()), n))
    prior_rows[np.arange(prior_rows.shape[0]), np.flatnonzero(prior)] = (
        scale[prior] / prior_std[prior]
    )
    # ``[J; s P]`` rather than ``[J / s; P]``: the same directions, and finite
    # for noise-free data (s = 0), whose estimates then have zero variance.
    a = np.vstack([j, s * prior_rows])
    magnitude = np.maximum(np.abs(values) / scale, 0.1)
    check_identifiability(a, names, rcond, max_relative_se, magnitude, s)
    _, sv, vt = np.linalg.svd(a, full_matrices=False)
    shape = (vt.T / sv**2) @ vt  # covariance up to the factor s^2 (scaled parameters)
    covariance = s2 * shape * np.outer(scale, scale)
    se = np.sqrt(np.diag(covariance))
    correlation = shape / np.outer(np.sqrt(np.diag(shape)), np.sqrt(np.diag(shape)))
    from scipy.stats import t as student_t

    return ParameterStatistics(
        covariance=covariance,
        standard_errors=se,
        correlation=correlation,
        residual_variance=s2,
        dof=dof,
        t_quantile=float(student_t.ppf(0.975, dof)),
        singular_values=np.linalg.svd(a / np.linalg.norm(a, axis=0), compute_uv=False),
    )
