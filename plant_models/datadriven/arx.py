"""ARX identification (MISO/MIMO) by regularised least squares.

Model on standardised signals (``u_s``, ``y_s``; the scalings are stored)::

    y_s[t] = sum_{i=1..na} A_i y_s[t-i] + sum_{l=0..m} B_l u_s[t-l] + c + e[t]

where input ``c`` enters with delay ``nk[c]`` and ``nb[c]`` taps, i.e. column
``c`` of ``B_l`` is non-zero only for ``nk[c] <= l < nk[c] + nb[c]``, and
``m = max(nk + nb - 1)``.  ``A_i`` are full ``ny x ny`` matrices (every
output's past feeds every output).  The unpenalised intercept ``c`` takes up
the difference between the sample means and the model's operating point, so
the model has no offset error on its training data.  As a dynamic model it is a discrete
state-space system whose state holds the lagged values::

    x[t] = [y[t-1], ..., y[t-na], u[t-1], ..., u[t-m]]     (physical units)

so the generic unit can expose named, physically meaningful states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plant_models.datadriven import _serial
from plant_models.datadriven._checks import as_2d, check_int, check_rank
from plant_models.datadriven.errors import IdentificationError, ModelFormatError
from plant_models.datadriven.ridge import PenaltyChoice, ridge_fit
from plant_models.datadriven.scaling import Scaling
from plant_models.datadriven.segments import as_mask, fill_invalid, window_valid
from plant_models.datadriven.statespace import StateSpaceModel

__all__ = ["ARXModel", "fit_arx"]


def _orders(value: int | Sequence[int], n_inputs: int, name: str, low: int) -> tuple[int, ...]:
    values = [value] * n_inputs if isinstance(value, int | np.integer) else list(value)
    if len(values) != n_inputs:
        raise IdentificationError(
            f"{name} needs one entry per input ({n_inputs}), got {len(values)}"
        )
    return tuple(check_int(v, name, low) for v in values)


@dataclass(frozen=True, eq=False)
class ARXModel:
    """Identified ARX model.

    Attributes
    ----------
    a : ndarray, shape (na, n_outputs, n_outputs)
        ``a[i-1]`` multiplies ``y_s[t-i]``. [-]
    b : ndarray, shape (m + 1, n_outputs, n_inputs)
        ``b[l]`` multiplies ``u_s[t-l]``; zero outside each input's taps. [-]
    nb, nk : tuple of int
        Taps and delay (in samples) of each input.
    input_scaling, output_scaling : Scaling
        Standardisations. [input units], [output units]
    dt_s : float
        Sample time. [s]
    alpha : ndarray, shape (n_outputs,)
        Ridge penalty per sample used for each output. [-]
    intercept : ndarray, shape (n_outputs,)
        Intercept ``c`` on scaled outputs. [-]
    """

    kind: ClassVar[str] = "arx"

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    nb: tuple[int, ...]
    nk: tuple[int, ...]
    input_scaling: Scaling
    output_scaling: Scaling
    dt_s: float
    alpha: NDArray[np.float64]
    intercept: NDArray[np.float64]

    def __post_init__(self) -> None:
        for name in ("a", "b", "alpha", "intercept"):
            object.__setattr__(self, name, _serial.frozen(getattr(self, name)))
        object.__setattr__(self, "nb", tuple(int(v) for v in self.nb))
        object.__setattr__(self, "nk", tuple(int(v) for v in self.nk))
        object.__setattr__(self, "dt_s", float(self.dt_s))
        ny, nu = self.output_scaling.size, self.input_scaling.size
        if self.a.ndim != 3 or self.a.shape[1:] != (ny, ny):
            raise ValueError(f"arx: a must have shape (na, {ny}, {ny}), got {self.a.shape}")
        if len(self.nb) != nu or len(self.nk) != nu or min(self.nb) < 1 or min(self.nk) < 0:
            raise ValueError(f"arx: nb (>= 1) and nk (>= 0) need {nu} entries each")
        m = max(k + n - 1 for k, n in zip(self.nk, self.nb, strict=True))
        if self.b.shape != (m + 1, ny, nu):
            raise ValueError(f"arx: b must have shape ({m + 1}, {ny}, {nu}), got {self.b.shape}")
        if np.any(self.b[~self.tap_mask()] != 0.0):
            raise ValueError("arx: b has non-zero entries outside the taps given by nb and nk")
        if self.n_states < 1:
            raise ValueError("arx: a model without lagged values is static, not dynamic")
        if not (np.isfinite(self.dt_s) and self.dt_s > 0.0):
            raise ValueError(f"arx: dt_s must be positive, got {self.dt_s}")
        if self.intercept.shape != (ny,):
            raise ValueError(f"arx: intercept must have shape ({ny},), got {self.intercept.shape}")

    @property
    def na(self) -> int:
        """Number of output lags."""
        return int(self.a.shape[0])

    @property
    def n_input_lags(self) -> int:
        """``m``: largest input lag; the state holds ``u[t-1] ... u[t-m]``."""
        return int(self.b.shape[0] - 1)

    @property
    def n_lags(self) -> int:
        """Samples of history needed before the first prediction: ``max(na, m)``."""
        return max(self.na, self.n_input_lags)

    @property
    def n_inputs(self) -> int:
        """Number of inputs."""
        return self.input_scaling.size

    @property
    def n_outputs(self) -> int:
        """Number of outputs."""
        return self.output_scaling.size

    @property
    def n_states(self) -> int:
        """Size of the lagged-value state: ``na * n_outputs + m * n_inputs``."""
        return self.na * self.n_outputs + self.n_input_lags * self.n_inputs

    @property
    def has_feedthrough(self) -> bool:
        """Whether some input acts without delay (``nk = 0``)."""
        return min(self.nk) == 0

    def tap_mask(self) -> NDArray[np.bool_]:
        """Boolean mask of the shape of :attr:`b` marking the identified taps."""
        mask = np.zeros(self.b.shape, dtype=bool)
        for col, (delay, taps) in enumerate(zip(self.nk, self.nb, strict=True)):
            mask[delay : delay + taps, :, col] = True
        return mask

    # ------------------------------------------------------------ numpy reference
    def state_from_history(
        self, inputs_past: ArrayLike, outputs_past: ArrayLike
    ) -> NDArray[np.float64]:
        """Build the lagged-value state from the most recent samples.

        Parameters
        ----------
        inputs_past : array_like, shape (>= m, n_inputs)
            Past inputs, oldest first; the last row is ``u[t-1]``. [input units]
        outputs_past : array_like, shape (>= na, n_outputs)
            Past outputs, oldest first; the last row is ``y[t-1]``. [output units]

        Returns
        -------
        ndarray, shape (n_states,)
        """
        u = np.asarray(inputs_past, dtype=np.float64).reshape(-1, self.n_inputs)
        y = np.asarray(outputs_past, dtype=np.float64).reshape(-1, self.n_outputs)
        m = self.n_input_lags
        if y.shape[0] < self.na or u.shape[0] < m:
            raise IdentificationError(
                f"the ARX state needs {self.na} past outputs and {m} past inputs, "
                f"got {y.shape[0]} and {u.shape[0]}"
            )
        y_part = y[::-1][: self.na].ravel()
        u_part = u[::-1][:m].ravel()
        return np.concatenate([y_part, u_part])

    def step(
        self, x: NDArray[np.float64], inputs: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """One free-run step: ``(x_next, y)`` from state ``x`` and inputs ``u[t]`` (numpy)."""
        ny, nu, na, m = self.n_outputs, self.n_inputs, self.na, self.n_input_lags
        y_lag = self.output_scaling.apply(x[: na * ny].reshape(na, ny))
        u_lag = self.input_scaling.apply(
            np.vstack([inputs[np.newaxis], x[na * ny :].reshape(m, nu)])
        )
        y_s = (
            np.einsum("ijk,ik->j", self.a, y_lag)
            + np.einsum("ljk,lk->j", self.b, u_lag)
            + self.intercept
        )
        y = self.output_scaling.invert(y_s)
        x_next = np.concatenate(
            [
                y,
                x[: (na - 1) * ny],
                inputs if m else np.empty(0),
                x[na * ny : na * ny + (m - 1) * nu],
            ]
        )
        return x_next, y

    def _regressor(self, u_s: NDArray[np.float64], y_s: NDArray[np.float64]) -> NDArray[np.float64]:
        return _regressor(u_s, y_s, self.na, self.nb, self.nk)

    def predict_one_step(self, inputs: ArrayLike, outputs: ArrayLike) -> NDArray[np.float64]:
        """One-step-ahead prediction from measured past outputs.

        Parameters
        ----------
        inputs : array_like, shape (N, n_inputs)
            Measured inputs. [input units]
        outputs : array_like, shape (N, n_outputs)
            Measured outputs. [output units]

        Returns
        -------
        ndarray, shape (N, n_outputs)
            Predictions; the first :attr:`n_lags` rows, which lack history, are NaN.
            [output units]
        """
        u = as_2d(inputs, "inputs")
        y = as_2d(outputs, "outputs", n_samples=u.shape[0])
        out = np.full(y.shape, np.nan)
        if u.shape[0] > self.n_lags:
            phi = self._regressor(self.input_scaling.apply(u), self.output_scaling.apply(y))
            out[self.n_lags :] = self.output_scaling.invert(phi @ self._theta() + self.intercept)
        return out

    def simulate(self, inputs: ArrayLike, outputs_initial: ArrayLike) -> NDArray[np.float64]:
        """Free-run simulation: past outputs are the model's own predictions.

        Parameters
        ----------
        inputs : array_like, shape (N, n_inputs)
            Inputs. [input units]
        outputs_initial : array_like, shape (>= n_lags, n_outputs)
            Measured outputs; only the first :attr:`n_lags` rows are used, as
            initial condition. [output units]

        Returns
        -------
        ndarray, shape (N, n_outputs)
            The first :attr:`n_lags` rows repeat the initial outputs, the rest
            are simulated. [output units]
        """
        u = as_2d(inputs, "inputs")
        y0 = as_2d(outputs_initial, "outputs_initial")
        lags = self.n_lags
        if y0.shape[0] < lags or u.shape[0] < lags:
            raise IdentificationError(f"simulation needs at least {lags} initial samples")
        out = np.empty((u.shape[0], self.n_outputs))
        out[:lags] = y0[:lags]
        if u.shape[0] == lags:
            return out
        x = self.state_from_history(u[:lags], y0[:lags])
        for t in range(lags, u.shape[0]):
            x, out[t] = self.step(x, u[t])
        return out

    def _theta(self) -> NDArray[np.float64]:
        """Stacked coefficients matching :func:`_regressor` columns, shape (n_reg, ny)."""
        blocks = [self.a[i].T for i in range(self.na)]
        blocks += [
            self.b[lag, :, c][np.newaxis, :]
            for c, (delay, taps) in enumerate(zip(self.nk, self.nb, strict=True))
            for lag in range(delay, delay + taps)
        ]
        return np.vstack(blocks)

    def to_state_space(self) -> StateSpaceModel:
        """Equivalent :class:`StateSpaceModel` on scaled signals (companion form).

        The state is the scaled lagged vector ``[y_s[t-1..t-na], u_s[t-1..t-m]]``
        and ``K`` feeds the innovation into the ``y_s[t-1]`` slot, so the
        state-space one-step predictor equals the ARX predictor.  The
        intercept moves into the output offset: ``y_s`` is measured from the
        equilibrium ``(I - sum A_i)^-1 c`` of the intercept.

        Raises
        ------
        IdentificationError
            If ``I - sum A_i`` is singular (an integrating model), whose
            intercept is a drift that a linear state-space model cannot hold.
        """
        ny, nu, na, m = self.n_outputs, self.n_inputs, self.na, self.n_input_lags
        static = np.eye(ny) - self.a.sum(axis=0)
        if np.linalg.cond(static) > 1e10:
            raise IdentificationError(
                "the ARX model is integrating (sum of A_i has an eigenvalue at 1): "
                "its intercept has no state-space form"
            )
        shift = np.linalg.solve(static, self.intercept)
        y_scaling = Scaling(self.output_scaling.invert(shift), self.output_scaling.scale)
        n = self.n_states
        c_row = np.hstack(
            [*(self.a[i] for i in range(na)), *(self.b[lag] for lag in range(1, m + 1))]
        )
        d_mat = self.b[0].copy()
        a_mat = np.zeros((n, n))
        b_mat = np.zeros((n, nu))
        k_mat = np.zeros((n, ny))
        if na:
            a_mat[:ny] = c_row
            b_mat[:ny] = d_mat
            k_mat[:ny] = np.eye(ny)
            a_mat[ny : na * ny, : (na - 1) * ny] = np.eye((na - 1) * ny)
        if m:
            off = na * ny
            b_mat[off : off + nu] = np.eye(nu)
            a_mat[off + nu : off + m * nu, off : off + (m - 1) * nu] = np.eye((m - 1) * nu)
        return StateSpaceModel(
            a_mat, b_mat, c_row, d_mat, k_mat, self.input_scaling, y_scaling, self.dt_s
        )

    # ------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "a": _serial.to_list(self.a),
            "b": _serial.to_list(self.b),
            "nb": list(self.nb),
            "nk": list(self.nk),
            "input_scaling": self.input_scaling.to_dict(),
            "output_scaling": self.output_scaling.to_dict(),
            "dt_s": self.dt_s,
            "alpha": _serial.to_list(self.alpha),
            "intercept": _serial.to_list(self.intercept),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise :class:`ModelFormatError` if malformed."""
        _serial.check_header(data, cls.kind)
        try:
            u_scaling = Scaling.from_dict(_serial.get(data, "input_scaling", cls.kind))
            y_scaling = Scaling.from_dict(_serial.get(data, "output_scaling", cls.kind))
            a = np.array(_serial.get(data, "a", cls.kind), dtype=np.float64)
            if a.size == 0:
                a = np.zeros((0, y_scaling.size, y_scaling.size))
            return cls(
                a=a,
                b=_serial.array(data, "b", cls.kind, 3),
                nb=tuple(_serial.array(data, "nb", cls.kind, 1, np.int64)),
                nk=tuple(_serial.array(data, "nk", cls.kind, 1, np.int64)),
                input_scaling=u_scaling,
                output_scaling=y_scaling,
                dt_s=float(_serial.get(data, "dt_s", cls.kind)),
                alpha=_serial.array(data, "alpha", cls.kind, 1),
                intercept=_serial.array(data, "intercept", cls.kind, 1),
            )
        except ModelFormatError:
            raise
        except (TypeError, ValueError) as exc:
            raise ModelFormatError(str(exc)) from None


def _regressor(
    u_s: NDArray[np.float64],
    y_s: NDArray[np.float64],
    na: int,
    nb: Sequence[int],
    nk: Sequence[int],
) -> NDArray[np.float64]:
    """ARX regressor rows for ``t = n_lags .. N-1``: past outputs then input taps."""
    n = y_s.shape[0]
    m = max(k + b - 1 for k, b in zip(nk, nb, strict=True))
    start = max(na, m)
    cols = [y_s[start - i : n - i] for i in range(1, na + 1)]
    cols += [
        u_s[start - lag : n - lag, c : c + 1]
        for c, (delay, taps) in enumerate(zip(nk, nb, strict=True))
        for lag in range(delay, delay + taps)
    ]
    return np.hstack(cols)


def fit_arx(
    inputs: ArrayLike,
    outputs: ArrayLike,
    dt_s: float,
    na: int,
    nb: int | Sequence[int],
    nk: int | Sequence[int] = 1,
    *,
    penalty: PenaltyChoice = 0.0,
    n_folds: int = 5,
    valid: ArrayLike | None = None,
) -> ARXModel:
    """Identify an ARX model by (ridge-)regularised least squares.

    Parameters
    ----------
    inputs : array_like, shape (N, n_inputs)
        Input samples at a constant sample time. [input units]
    outputs : array_like, shape (N, n_outputs)
        Output samples. [output units]
    dt_s : float
        Sample time. [s]
    na : int
        Output lags (0 gives an FIR model).
    nb : int or sequence of int
        Taps of each input (>= 1).
    nk : int or sequence of int
        Delay of each input in samples (0 means direct feed-through).
    penalty : {"gcv", "kfold"} or float
        Ridge penalty per sample on the scaled coefficients; 0 is ordinary
        least squares.  k-fold uses contiguous folds (time series).
    n_folds : int
        Folds of k-fold cross-validation.
    valid : array_like of bool, shape (N,), optional
        Samples to use; an equation (regressor row) is kept only when every
        sample of its lag window is valid, so the fit never spans a gap.
        Masked-out samples may be NaN.

    Raises
    ------
    IdentificationError
        For non-finite data, a constant input or output, too few samples for
        the orders, or a rank-deficient regressor (inputs not persistently
        exciting for the requested orders).
    """
    mask = as_mask(valid, np.shape(inputs)[0]) if valid is not None else None
    if mask is not None:
        inputs, outputs = fill_invalid(inputs, mask), fill_invalid(outputs, mask)
    u = as_2d(inputs, "inputs")
    y = as_2d(outputs, "outputs", n_samples=u.shape[0])
    if mask is None:
        mask = np.ones(u.shape[0], dtype=bool)
    na = check_int(na, "na", 0)
    nb_t = _orders(nb, u.shape[1], "nb", 1)
    nk_t = _orders(nk, u.shape[1], "nk", 0)
    if not (np.isfinite(dt_s) and dt_s > 0.0):
        raise IdentificationError(f"dt_s must be positive, got {dt_s}")
    m = max(k + b - 1 for k, b in zip(nk_t, nb_t, strict=True))
    lags = max(na, m)
    if lags == 0:
        raise IdentificationError("na = 0 with nk = 0, nb = 1 is a static map: use fit_polynomial")
    n_reg = na * y.shape[1] + sum(nb_t) + 1
    keep = window_valid(mask, lags) if u.shape[0] > lags else np.zeros(0, dtype=bool)
    n_rows = int(keep.sum())
    if n_rows <= n_reg:
        gap_free = "" if mask.all() else " gap-free"
        raise IdentificationError(
            f"too few samples: {int(mask.sum())}{gap_free} samples give {n_rows} equations for "
            f"{n_reg} ARX coefficients per output (na={na}, nb={list(nb_t)}, nk={list(nk_t)})"
        )
    u_scaling = Scaling.fit(u[mask], "inputs")
    y_scaling = Scaling.fit(y[mask], "outputs")
    u_s, y_s = u_scaling.apply(u), y_scaling.apply(y)
    phi = _regressor(u_s, y_s, na, nb_t, nk_t)[keep]
    phi = np.hstack([np.ones((phi.shape[0], 1)), phi])
    check_rank(phi, f"ARX regressor (na={na}, nb={list(nb_t)}, nk={list(nk_t)})")
    target = y_s[lags:][keep]
    fit = ridge_fit(phi, target, penalty, unpenalized=(0,), n_folds=n_folds, shuffle=False)
    intercept, coef = fit.coef[0], fit.coef[1:]
    ny, nu = y.shape[1], u.shape[1]
    a = (
        np.stack([coef[i * ny : (i + 1) * ny].T for i in range(na)])
        if na
        else np.zeros((0, ny, ny))
    )
    b = np.zeros((m + 1, ny, nu))
    row = na * ny
    for c, (delay, taps) in enumerate(zip(nk_t, nb_t, strict=True)):
        for lag in range(delay, delay + taps):
            b[lag, :, c] = coef[row]
            row += 1
    return ARXModel(a, b, nb_t, nk_t, u_scaling, y_scaling, dt_s, fit.alpha, intercept)
