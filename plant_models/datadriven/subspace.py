"""Subspace identification of a discrete state-space model (N4SID/MOESP family).

The algorithm follows Van Overschee and De Moor, *Subspace Identification for
Linear Systems* (Kluwer, 1996), and Verhaegen's PO-MOESP, on standardised data:

1. Block-Hankel matrices of past and future inputs and outputs with ``i``
   block rows each; one LQ (QR of the transpose) factorisation; every later
   projection works on the small triangular factor.
2. Oblique projection ``O_i = Y_f /_{U_f} W_p`` of the future outputs on the
   past data ``W_p = [U_p; Y_p]`` along the future inputs.  Its part orthogonal
   to ``U_f`` (the PO-MOESP weighting) is decomposed by SVD: its leading
   left singular vectors span the extended observability matrix ``Gamma_i``.
   Unless given, the order is the number of canonical correlations between
   past and future that stand above the noise level.
3. ``C`` is the first block row of ``Gamma_i`` and ``A`` follows from its shift
   invariance (least squares), which stays consistent for coloured inputs.
4. ``B``, ``D`` and the initial state follow by linear least squares on the
   output equation with ``A`` and ``C`` fixed (a simulation-error fit).
5. The Kalman gain ``K`` comes from the residual covariances of the state
   sequence ``X_i = Gamma_i^+ O_i`` and a discrete Riccati equation.

scipy has no subspace method and python-control / harold are not
dependencies, which is why the linear algebra is written here on top of
numpy and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from plant_models.datadriven._checks import RANK_RTOL, as_2d, check_int
from plant_models.datadriven.errors import IdentificationError
from plant_models.datadriven.scaling import Scaling
from plant_models.datadriven.statespace import StateSpaceModel, output_regressor

__all__ = ["SubspaceResult", "fit_subspace", "noise_correlation_edge", "select_order"]

#: Smallest relative singular value of the input Hankel matrix (see fit_subspace).
_EXCITATION_RTOL = 1e-6


@dataclass(frozen=True, eq=False)
class SubspaceResult:
    """Identified model with the order-selection diagnostics.

    Attributes
    ----------
    model : StateSpaceModel
        The identified model.
    singular_values : ndarray
        Singular values of the PO-MOESP weighted projection, largest first.
    canonical_correlations : ndarray
        Canonical correlations between past data and future outputs given the
        future inputs, in [0, 1], largest first; the automatic order choice
        (:func:`select_order`) reads these.
    order : int
        Chosen model order (number of states).
    x0 : ndarray, shape (order,)
        Estimated initial state of the identification data.
    horizon : int
        Block rows ``i`` of the past and future Hankel matrices.
    """

    model: StateSpaceModel
    singular_values: NDArray[np.float64]
    canonical_correlations: NDArray[np.float64]
    order: int
    x0: NDArray[np.float64]
    horizon: int


def noise_correlation_edge(n_columns: int, n_future: int, n_past: int) -> float:
    """Largest squared canonical correlation expected between unrelated signals.

    For two independent Gaussian matrices with ``n_future`` and ``n_past`` rows
    and ``n_columns`` columns, the squared canonical correlations fill the
    Wachter distribution, whose upper edge is
    ``(sqrt(f (1 - g)) + sqrt(g (1 - f)))^2`` with ``f = n_future / n_columns``
    and ``g = n_past / n_columns`` (K. W. Wachter, Ann. Statist. 8, 1980).

    Returns
    -------
    float
        Upper edge, in [0, 1]. [-]
    """
    f = min(n_future / n_columns, 1.0)
    g = min(n_past / n_columns, 1.0)
    return float(min((np.sqrt(f * (1.0 - g)) + np.sqrt(g * (1.0 - f))) ** 2, 1.0))


#: Margin over the noise edge: a canonical correlation counts as a system mode
#: when its square exceeds twice the largest one pure noise would produce.
NOISE_EDGE_MARGIN = 2.0


def select_order(
    canonical_correlations: NDArray[np.float64],
    noise_edge: float,
    max_order: int,
) -> int:
    """Choose the order as the number of canonical correlations above the noise level.

    Past and future of a system of order ``n`` share ``n`` directions with
    canonical correlations well above zero; the remaining ones only reflect the
    finite sample and stay below the Wachter edge of unrelated data
    (:func:`noise_correlation_edge`).  The order is the number of squared
    correlations above ``NOISE_EDGE_MARGIN * noise_edge``, capped at
    ``max_order``.  (A "largest gap" rule fails when one mode dominates the
    others, and Bauer's SVC criterion over-estimates with long horizons on
    short records, which is why neither is used.)

    Parameters
    ----------
    canonical_correlations : ndarray
        Canonical correlations in [0, 1], largest first.
    noise_edge : float
        Largest squared correlation expected from noise. [-]
    max_order : int
        Largest admissible order.

    Raises
    ------
    IdentificationError
        If no correlation stands above the noise: the inputs do not move the
        outputs measurably.
    """
    corr = np.asarray(canonical_correlations, dtype=np.float64)
    n = int(np.sum(corr**2 > NOISE_EDGE_MARGIN * noise_edge))
    if n == 0:
        raise IdentificationError(
            "no dynamics above the noise level: the past data do not predict the future "
            f"outputs (largest canonical correlation {corr[0]:.3f}, noise level "
            f"{np.sqrt(NOISE_EDGE_MARGIN * noise_edge):.3f}); "
            "more data or stronger input moves needed"
        )
    return min(n, max_order)


def _canonical_correlations(
    y_perp: NDArray[np.float64], w_perp: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Canonical correlations between the row spaces of two coordinate matrices."""

    def _orth_rows(mat: NDArray[np.float64]) -> NDArray[np.float64]:
        _, sv, vt = np.linalg.svd(mat, full_matrices=False)
        keep = sv > RANK_RTOL * max(sv[0], 1e-300)
        return vt[keep]

    corr = np.linalg.svd(_orth_rows(y_perp) @ _orth_rows(w_perp).T, compute_uv=False)
    out = np.zeros(y_perp.shape[0])
    out[: corr.size] = np.clip(corr[: out.size], 0.0, 1.0)
    return out


def _block_hankel(data: NDArray[np.float64], rows: int, cols: int) -> NDArray[np.float64]:
    """Block-Hankel matrix ``[d[t + r]]`` with ``rows`` block rows and ``cols`` columns."""
    n_ch = data.shape[1]
    out = np.empty((rows * n_ch, cols))
    for r in range(rows):
        out[r * n_ch : (r + 1) * n_ch] = data[r : r + cols].T
    return out


def _oblique(
    target: NDArray[np.float64], along: NDArray[np.float64], onto: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Oblique projection of the rows of ``target`` along ``along`` onto ``onto``.

    All three are row coordinates in the orthonormal basis of the LQ factor.
    """
    basis = np.vstack([along, onto])
    coef = np.linalg.lstsq(basis.T, target.T, rcond=None)[0].T
    return coef[:, along.shape[0] :] @ onto


def _orth_complement(mat: NDArray[np.float64], against: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows of ``mat`` minus their orthogonal projection onto the row space of ``against``."""
    coef = np.linalg.lstsq(against.T, mat.T, rcond=None)[0].T
    return mat - coef @ against


def fit_subspace(
    inputs: ArrayLike,
    outputs: ArrayLike,
    dt_s: float,
    order: int | None = None,
    *,
    max_order: int = 10,
    horizon: int | None = None,
    feedthrough: bool = False,
    noise_model: bool = True,
) -> SubspaceResult:
    """Identify a discrete state-space model from input-output data.

    Parameters
    ----------
    inputs : array_like, shape (N, n_inputs)
        Input samples at a constant sample time. [input units]
    outputs : array_like, shape (N, n_outputs)
        Output samples. [output units]
    dt_s : float
        Sample time. [s]
    order : int, optional
        Model order; chosen from the singular values (:func:`select_order`)
        when omitted.
    max_order : int
        Largest order considered by the automatic choice.
    horizon : int, optional
        Block rows ``i`` of past and future; by default
        ``max(ceil(2 * n / n_outputs) + 1, 10)`` with ``n`` the order (or
        ``max_order``).
    feedthrough : bool
        Estimate ``D`` (otherwise ``D = 0``, usual for sampled plants with a
        zero-order hold).
    noise_model : bool
        Estimate the innovation gain ``K`` (otherwise ``K = 0``).

    Returns
    -------
    SubspaceResult

    Raises
    ------
    IdentificationError
        For non-finite data, a constant input or output, too few samples for
        the horizon, rank-deficient excitation, or an order the data cannot
        support.
    """
    u = as_2d(inputs, "inputs")
    y = as_2d(outputs, "outputs", n_samples=u.shape[0])
    if not (np.isfinite(dt_s) and dt_s > 0.0):
        raise IdentificationError(f"dt_s must be positive, got {dt_s}")
    max_order = check_int(max_order, "max_order", 1)
    if order is not None:
        order = check_int(order, "order", 1)
    nu, ny, n_samples = u.shape[1], y.shape[1], u.shape[0]
    target = order if order is not None else max_order
    # Default horizon: twice the largest order per output plus one, at least
    # 10 samples, so that slow poles are seen over enough lags (a horizon just
    # above the order gives a much larger variance of the slow poles).
    i = horizon if horizon is not None else max(-(-2 * target // ny) + 1, 10)
    i = check_int(i, "horizon", 2)
    if i * ny <= target:
        raise IdentificationError(
            f"horizon {i} with {ny} output(s) supports orders below {i * ny}, requested {target}"
        )
    n_rows = 2 * i * (nu + ny)
    n_cols = n_samples - 2 * i + 1
    if n_cols < 2 * n_rows:
        raise IdentificationError(
            f"too few samples: {n_samples} samples for horizon {i} need at least "
            f"{2 * n_rows + 2 * i - 1} (Hankel matrices of {n_rows} rows)"
        )
    u_scaling = Scaling.fit(u, "inputs")
    y_scaling = Scaling.fit(y, "outputs")
    u_s, y_s = u_scaling.apply(u), y_scaling.apply(y)

    # Removing each Hankel row's mean projects out the constant direction: an
    # offset between the sample means of u and y (they are not in exact
    # steady-state relation on finite data) would otherwise show up as a
    # spurious extra mode at z = 1.  The offset is estimated with B and D.
    hu = _block_hankel(u_s, 2 * i, n_cols)
    hy = _block_hankel(y_s, 2 * i, n_cols)
    hu -= hu.mean(axis=1, keepdims=True)
    hy -= hy.mean(axis=1, keepdims=True)
    # Persistent excitation of order 2i: the input Hankel matrix must have full
    # row rank with margin.  1e-6 (looser than the regressor check) because the
    # oblique projections divide by these directions: a near-deficient input
    # amplifies noise long before it is exactly singular.
    sv_u = np.linalg.svd(hu / np.sqrt(n_cols), compute_uv=False)
    if sv_u[-1] < _EXCITATION_RTOL * sv_u[0]:
        raise IdentificationError(
            f"rank-deficient excitation: the inputs are not persistently exciting of order "
            f"{2 * i} (input Hankel relative singular value {sv_u[-1] / sv_u[0]:.1e}); "
            "use richer input moves or a smaller horizon"
        )
    # LQ factorisation: rows of H = L Q^T; row coordinates L live in R^(n_rows).
    r_fac = scipy.linalg.qr(np.vstack([hu, hy]).T / np.sqrt(n_cols), mode="r")[0]
    lrows = r_fac[:n_rows].T
    ui, yi = i * nu, i * ny
    u_rows, y_rows = lrows[: 2 * ui], lrows[2 * ui :]
    u_past, u_fut = u_rows[:ui], u_rows[ui:]
    y_past, y_fut = y_rows[:yi], y_rows[yi:]
    w_past = np.vstack([u_past, y_past])

    o_i = _oblique(y_fut, u_fut, w_past)
    weighted = _orth_complement(o_i, u_fut)
    left, sv, _ = np.linalg.svd(weighted, full_matrices=False)
    corr = _canonical_correlations(_orth_complement(y_fut, u_fut), _orth_complement(w_past, u_fut))
    n = (
        order
        if order is not None
        else select_order(
            corr,
            noise_correlation_edge(n_cols - ui, yi, ui + yi),
            min(max_order, sv.size - 1),
        )
    )
    if n >= sv.size:
        raise IdentificationError(f"order {n} exceeds the {sv.size} available singular values")
    gamma = left[:, :n] * np.sqrt(sv[:n])
    c_mat = gamma[:ny]
    a_mat = np.linalg.lstsq(gamma[:-ny], gamma[ny:], rcond=None)[0]

    b_mat, d_mat, x0, offset = _fit_b_d(a_mat, c_mat, u_s, y_s, feedthrough)
    y_scaling = Scaling(y_scaling.invert(offset), y_scaling.scale)
    k_mat = np.zeros((n, ny))
    if noise_model:
        k_mat = _kalman_gain(
            a_mat, b_mat, c_mat, d_mat, gamma, o_i, u_rows, y_rows, w_past, i, nu, ny
        )
    model = StateSpaceModel(a_mat, b_mat, c_mat, d_mat, k_mat, u_scaling, y_scaling, dt_s)
    return SubspaceResult(
        model=model,
        singular_values=sv,
        canonical_correlations=corr,
        order=n,
        x0=x0,
        horizon=i,
    )


def _fit_b_d(
    a_mat: NDArray[np.float64],
    c_mat: NDArray[np.float64],
    u_s: NDArray[np.float64],
    y_s: NDArray[np.float64],
    feedthrough: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``B``, ``D``, ``x0`` and the scaled output offset by least squares on the output equation.

    ``y_s[t] = C A^t x0 + sum_tau C A^(t-1-tau) B u_s[tau] + D u_s[t] + offset``.
    """
    n, nu, ny = a_mat.shape[0], u_s.shape[1], y_s.shape[1]
    if np.max(np.abs(np.linalg.eigvals(a_mat))) > 1.0 + 1e-6:
        raise IdentificationError(
            "the identified A is unstable; the data do not support this order "
            "(try a lower order or check for integrating behaviour and drifts)"
        )
    phi_b, phi_x0 = output_regressor(a_mat, c_mat, u_s)
    blocks = [phi_b, phi_x0, np.broadcast_to(np.eye(ny), (u_s.shape[0], ny, ny))]
    if feedthrough:
        blocks.append(np.einsum("tk,jl->tjkl", u_s, np.eye(ny)).reshape(u_s.shape[0], ny, ny * nu))
    phi = np.concatenate(blocks, axis=2).reshape(-1, sum(b.shape[2] for b in blocks))
    theta = np.asarray(np.linalg.lstsq(phi, y_s.ravel(), rcond=None)[0], dtype=np.float64)
    b_mat = theta[: n * nu].reshape(n, nu, order="F")
    x0 = theta[n * nu : n * nu + n]
    offset = theta[n * nu + n : n * nu + n + ny]
    d_mat: NDArray[np.float64] = (
        theta[n * nu + n + ny :].reshape(ny, nu, order="F") if feedthrough else np.zeros((ny, nu))
    )
    return b_mat, d_mat, x0, offset


def _kalman_gain(
    a_mat: NDArray[np.float64],
    b_mat: NDArray[np.float64],
    c_mat: NDArray[np.float64],
    d_mat: NDArray[np.float64],
    gamma: NDArray[np.float64],
    o_i: NDArray[np.float64],
    u_rows: NDArray[np.float64],
    y_rows: NDArray[np.float64],
    w_past: NDArray[np.float64],
    i: int,
    nu: int,
    ny: int,
) -> NDArray[np.float64]:
    """Steady-state Kalman gain from the residual covariances of the state sequence."""
    n = a_mat.shape[0]
    # Shifted partition: past gains one block row, future loses one.
    w_past_plus = np.vstack([u_rows[: (i + 1) * nu], y_rows[: (i + 1) * ny]])
    o_prev = _oblique(y_rows[(i + 1) * ny :], u_rows[(i + 1) * nu :], w_past_plus)
    x_i = np.linalg.pinv(gamma) @ o_i
    x_next = np.linalg.pinv(gamma[:-ny]) @ o_prev
    u_now = u_rows[i * nu : (i + 1) * nu]
    y_now = y_rows[i * ny : (i + 1) * ny]
    w_res = x_next - a_mat @ x_i - b_mat @ u_now
    v_res = y_now - c_mat @ x_i - d_mat @ u_now
    # Rows are coordinates in an orthonormal basis scaled by 1/sqrt(j): their
    # inner products are sample covariances.
    q_cov = w_res @ w_res.T
    s_cov = w_res @ v_res.T
    r_cov = v_res @ v_res.T
    # The signals are scaled to unit variance: a noise variance floor of 1e-8
    # (signal-to-noise ratio 1e8) changes nothing measurable on real data but
    # keeps the Riccati equation well posed on noise-free data.
    q_cov = 0.5 * (q_cov + q_cov.T) + 1e-8 * np.eye(n)
    r_cov = 0.5 * (r_cov + r_cov.T) + 1e-8 * np.eye(ny)
    try:
        p_cov = scipy.linalg.solve_discrete_are(a_mat.T, c_mat.T, q_cov, r_cov, s=s_cov)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise IdentificationError(
            f"the noise model (Kalman gain) cannot be computed ({exc}); fit with noise_model=False"
        ) from None
    gain: NDArray[np.float64] = np.linalg.solve(
        c_mat @ p_cov @ c_mat.T + r_cov, (a_mat @ p_cov @ c_mat.T + s_cov).T
    ).T
    return gain
