"""AR(X) model of a signal's deviation from its daily profile.

::

    r[t] = c + sum_{i=1..p} a_i r[t-i] + sum_c sum_{l=nk..nk+nb-1} b_{l,c} x_c[t-l] + e[t]

with ``r = y - profile`` and ``e`` white with variance ``sigma^2``.  The
order ``p`` is chosen by AIC or BIC over ``0..max_order`` on one common set
of equations; coefficients come from :func:`plant_models.datadriven.ridge.ridge_fit`
(ridge with the penalty by GCV, or fixed; intercept unpenalised) on
standardised columns.  :func:`plant_models.datadriven.fit_arx` is not used
because it needs at least one exogenous input (a pure AR has none) and does
not return the per-equation residuals and degrees of freedom the order
selection needs; the least squares itself is the shared one.  Equations are
kept only when their whole lag window is valid
(:func:`plant_models.datadriven.segments.window_valid`), so no fit spans a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numpy.typing import NDArray

from controllers.errors import ForecastError
from controllers.forecast import _serial
from plant_models.datadriven.errors import IdentificationError
from plant_models.datadriven.ridge import PenaltyChoice, ridge_fit
from plant_models.datadriven.segments import window_valid

__all__ = ["DeviationModel", "fit_deviation_model", "psi_weights"]

#: Equations per regression coefficient below which the fit is refused: with
#: fewer, the residual variance (and so every interval) is too uncertain.
_MIN_EQUATIONS_PER_COEFFICIENT = 5


def psi_weights(ar_coefficients: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """First ``n`` psi-weights (impulse response) of ``1 / (1 - sum a_i z^-i)``.

    ``psi_0 = 1`` and ``psi_j = sum_i a_i psi_{j-i}``; the ``h``-step forecast
    error variance is ``sigma^2 sum_{j<h} psi_j^2`` (Box and Jenkins, eq. 5.1.16).
    """
    from scipy.signal import lfilter

    impulse = np.zeros(n)
    if n:
        impulse[0] = 1.0
    den = np.concatenate([[1.0], -np.asarray(ar_coefficients, dtype=np.float64)])
    return np.asarray(lfilter([1.0], den, impulse), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class DeviationModel:
    """Fitted AR(X) model of the deviation from the profile (physical units).

    Attributes
    ----------
    a : ndarray, shape (p,)
        ``a[i-1]`` multiplies ``r[t-i]``. [-]
    b : ndarray, shape (m + 1, n_exog)
        ``b[l, c]`` multiplies ``x_c[t-l]``; zero outside ``nk <= l < nk + nb``.
        [signal units / exogenous units]
    intercept : float
        Constant term ``c``. [signal units]
    innovation_var : float
        Variance of ``e``, residual sum of squares over ``n - dof``. [signal units^2]
    nb, nk : int
        Taps and delay of every exogenous input. [samples]
    criterion_scores : ndarray, shape (max_order + 1,)
        AIC or BIC of each candidate order ``0..max_order`` (for diagnostics).
    n_equations : int
        Equations of the final fit.
    """

    kind: ClassVar[str] = "deviation_arx"

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    intercept: float
    innovation_var: float
    nb: int
    nk: int
    criterion_scores: NDArray[np.float64]
    n_equations: int

    def __post_init__(self) -> None:
        a = _serial.frozen(self.a)
        b = _serial.frozen(self.b)
        if a.ndim != 1 or b.ndim != 2:
            raise ForecastError(f"deviation model: a must be 1-D and b 2-D, got {a.ndim}, {b.ndim}")
        if b.shape[1] and b.shape[0] != self.nk + self.nb:
            raise ForecastError(
                f"deviation model: b needs nk + nb = {self.nk + self.nb} rows, got {b.shape[0]}"
            )
        if not (np.isfinite(self.innovation_var) and self.innovation_var > 0.0):
            raise ForecastError(
                f"deviation model: innovation_var must be positive, got {self.innovation_var}"
            )
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.isfinite(self.intercept)):
            raise ForecastError("deviation model: coefficients must be finite")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "criterion_scores", _serial.frozen(self.criterion_scores))
        object.__setattr__(self, "intercept", float(self.intercept))
        object.__setattr__(self, "innovation_var", float(self.innovation_var))

    @property
    def order(self) -> int:
        """AR order ``p``."""
        return int(self.a.size)

    @property
    def n_exog(self) -> int:
        """Number of exogenous inputs."""
        return int(self.b.shape[1])

    @property
    def exog_lags(self) -> int:
        """``m``: largest exogenous lag (0 without inputs)."""
        return int(self.b.shape[0] - 1) if self.n_exog else 0

    @property
    def innovation_std(self) -> float:
        """Standard deviation of the innovation. [signal units]."""
        return float(np.sqrt(self.innovation_var))

    def spectral_radius(self) -> float:
        """Largest root modulus of the AR polynomial (< 1 means stationary)."""
        if self.order == 0:
            return 0.0
        return float(np.max(np.abs(np.roots(np.concatenate([[1.0], -self.a])))))

    def propagate(
        self, r_past: NDArray[np.float64], x: NDArray[np.float64], n_steps: int
    ) -> NDArray[np.float64]:
        """Mean deviation recursion from many origins at once.

        Parameters
        ----------
        r_past : ndarray, shape (n_origins, p)
            Deviations before each origin, oldest first. [signal units]
        x : ndarray, shape (n_origins, m + n_steps, n_exog)
            Exogenous inputs from ``m`` samples before the origin to the last
            step (row ``m + k`` is step ``k``). [exogenous units]
        n_steps : int
            Steps to predict.

        Returns
        -------
        ndarray, shape (n_origins, n_steps)
            Predicted deviations. [signal units]
        """
        p, m = self.order, self.exog_lags
        n = r_past.shape[0]
        buf = np.empty((n, p + n_steps))
        buf[:, :p] = r_past
        a_rev = self.a[::-1]
        b_rev = self.b[::-1]
        for k in range(n_steps):
            value = np.full(n, self.intercept)
            if p:
                value += buf[:, k : k + p] @ a_rev
            if self.n_exog:
                value += np.einsum("nlc,lc->n", x[:, k : k + m + 1], b_rev)
            buf[:, p + k] = value
        return buf[:, p:]

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "a": _serial.to_list(self.a),
            "b": _serial.to_list(self.b),
            "intercept": self.intercept,
            "innovation_var": self.innovation_var,
            "nb": self.nb,
            "nk": self.nk,
            "criterion_scores": _serial.to_list(self.criterion_scores),
            "n_equations": self.n_equations,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise ForecastError if malformed."""
        data = _serial.check_header(data, cls.kind)
        b = np.array(_serial.get(data, "b", cls.kind), dtype=np.float64)
        if b.ndim == 1 and b.size == 0:
            b = np.zeros((0, 0))
        try:
            return cls(
                a=_serial.array(data, "a", cls.kind, 1),
                b=b,
                intercept=float(_serial.get(data, "intercept", cls.kind)),
                innovation_var=float(_serial.get(data, "innovation_var", cls.kind)),
                nb=int(_serial.get(data, "nb", cls.kind)),
                nk=int(_serial.get(data, "nk", cls.kind)),
                criterion_scores=_serial.array(data, "criterion_scores", cls.kind, 1),
                n_equations=int(_serial.get(data, "n_equations", cls.kind)),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ForecastError):
                raise
            raise ForecastError(f"stored {cls.kind}: {exc}") from None


def _regressor(
    r: NDArray[np.float64], x: NDArray[np.float64], p: int, nb: int, nk: int, lags: int
) -> NDArray[np.float64]:
    """Rows for ``t = lags .. N-1``: intercept, ``r[t-1..t-p]``, then exogenous taps."""
    n = r.shape[0]
    cols = [np.ones((n - lags, 1))]
    cols += [r[lags - i : n - i, np.newaxis] for i in range(1, p + 1)]
    if x.shape[1]:
        cols += [x[lags - lag : n - lag] for lag in range(nk, nk + nb)]
    return np.hstack(cols)


def fit_deviation_model(
    deviation: NDArray[np.float64],
    exog: NDArray[np.float64],
    *,
    max_order: int = 6,
    criterion: Literal["aic", "bic"] = "bic",
    penalty: PenaltyChoice = "gcv",
    nb: int = 1,
    nk: int = 0,
) -> DeviationModel:
    """Fit the AR(X) deviation model, choosing the AR order by an information criterion.

    Parameters
    ----------
    deviation : ndarray, shape (N,)
        ``y - profile``; NaN marks missing samples. [signal units]
    exog : ndarray, shape (N, n_exog)
        Exogenous inputs (``n_exog`` may be 0); NaN marks missing samples.
        [exogenous units]
    max_order : int
        Largest AR order tried (orders ``0..max_order``).
    criterion : {"aic", "bic"}
        ``n log(RSS / n) + 2 dof`` or ``n log(RSS / n) + dof log n``, with
        ``dof`` the effective degrees of freedom of the ridge fit.
    penalty : {"gcv", "kfold"} or float
        Ridge penalty choice (see :func:`~plant_models.datadriven.ridge.ridge_fit`).
    nb, nk : int
        Taps and delay of every exogenous input. [samples]

    Raises
    ------
    ForecastError
        For bad settings, a constant exogenous input, or too few gap-free
        equations (fewer than 5 per coefficient of the largest candidate).
    """
    if criterion not in ("aic", "bic"):
        raise ForecastError(f"criterion must be 'aic' or 'bic', got {criterion!r}")
    if max_order < 0 or nb < 1 or nk < 0:
        raise ForecastError(f"need max_order >= 0, nb >= 1, nk >= 0; got {max_order}, {nb}, {nk}")
    n_exog = exog.shape[1]
    m = nk + nb - 1 if n_exog else 0
    valid = np.isfinite(deviation) & np.all(np.isfinite(exog), axis=1)
    r_std = float(np.std(deviation[valid])) if valid.any() else 0.0
    if not r_std > 0.0:
        raise ForecastError("the deviation from the profile is constant or missing: nothing to fit")
    x_mean = exog[valid].mean(axis=0) if n_exog else np.zeros(0)
    x_std = exog[valid].std(axis=0) if n_exog else np.zeros(0)
    constant = x_std <= 1e-12 * np.maximum(np.abs(x_mean), 1.0)
    if n_exog and np.any(constant):
        raise ForecastError(
            f"exogenous input(s) {np.flatnonzero(constant).tolist()} are constant in the "
            "training data: their effect cannot be identified"
        )
    # Standardise so the ridge penalty treats lags and inputs alike; NaN -> 0
    # only in rows that no kept equation touches.
    r_s = np.where(valid, deviation / r_std, 0.0)
    x_s = np.where(valid[:, np.newaxis], (exog - x_mean) / np.where(x_std > 0, x_std, 1.0), 0.0)

    def equations(p: int, lags: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        keep = window_valid(valid, lags)
        return _regressor(r_s, x_s, p, nb, nk, lags)[keep], r_s[lags:][keep]

    def fit(phi: NDArray[np.float64], target: NDArray[np.float64]) -> tuple[Any, float]:
        try:
            res = ridge_fit(phi, target[:, np.newaxis], penalty, unpenalized=(0,), shuffle=False)
        except IdentificationError as exc:
            raise ForecastError(f"deviation model fit failed: {exc}") from None
        rss = float(np.sum((target - phi @ res.coef[:, 0]) ** 2))
        return res, rss

    lags_all = max(max_order, m)
    n_coef_max = 1 + max_order + n_exog * nb
    n_common = int(window_valid(valid, lags_all).sum()) if valid.size > lags_all else 0
    if n_common < _MIN_EQUATIONS_PER_COEFFICIENT * n_coef_max:
        raise ForecastError(
            f"too little gap-free history for the deviation model: {n_common} equations for "
            f"{n_coef_max} coefficients (max_order={max_order}, {n_exog} exogenous input(s)); "
            f"need at least {_MIN_EQUATIONS_PER_COEFFICIENT * n_coef_max}: give more data or "
            "lower max_order"
        )
    scores = np.empty(max_order + 1)
    for p in range(max_order + 1):
        phi, target = equations(p, lags_all)
        res, rss = fit(phi, target)
        n = target.size
        weight = 2.0 if criterion == "aic" else np.log(n)
        scores[p] = n * np.log(max(rss, 1e-300) / n) + weight * float(res.dof[0])
    p_best = int(np.argmin(scores))
    lags = max(p_best, m)
    phi, target = equations(p_best, lags)
    res, rss = fit(phi, target)
    coef = res.coef[:, 0]
    a = coef[1 : 1 + p_best].copy()
    b = np.zeros((m + 1, n_exog)) if n_exog else np.zeros((0, 0))
    if n_exog:
        b_s = coef[1 + p_best :].reshape(nb, n_exog)
        b[nk : nk + nb] = b_s * r_std / x_std
    intercept = r_std * coef[0] - float(np.sum(b * x_mean)) if n_exog else r_std * coef[0]
    dof = float(res.dof[0])
    innovation_var = r_std**2 * rss / max(target.size - dof, 1.0)
    return DeviationModel(
        a=a,
        b=b,
        intercept=intercept,
        innovation_var=innovation_var,
        nb=nb,
        nk=nk,
        criterion_scores=scores,
        n_equations=int(target.size),
    )
