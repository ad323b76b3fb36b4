"""Discrete linear state-space model in innovation form, with scaled inputs and outputs.

::

    u_s = (u - u_offset) / u_scale
    x[t+1] = A x[t] + B u_s[t] + K e[t]
    y_s[t] = C x[t] + D u_s[t] + e[t]
    y[t]   = y_offset + y_scale * y_s[t]

``e`` is the innovation (one-step prediction error of the scaled outputs).  A
simulation (free run) ignores ``e``; the one-step predictor replaces it by the
measured ``y_s[t] - C x[t] - D u_s[t]``.  Subspace identification and the
state-space form of an ARX model both produce this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import dlsim

from plant_models.datadriven import _serial
from plant_models.datadriven._checks import as_2d
from plant_models.datadriven.errors import IdentificationError, ModelFormatError
from plant_models.datadriven.scaling import Scaling

__all__ = ["StateSpaceModel", "output_regressor"]


def output_regressor(
    a: NDArray[np.float64], c: NDArray[np.float64], u_s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Regressors of the output on ``vec(B)`` and on ``x0`` for fixed ``A`` and ``C``.

    With zero initial state and ``D = 0``, ``y_s[t] = sum_tau C A^(t-1-tau) B u_s[tau]``,
    which is linear in the entries of ``B``; the initial state adds ``C A^t x0``.

    Parameters
    ----------
    a : ndarray, shape (n, n)
    c : ndarray, shape (ny, n)
    u_s : ndarray, shape (N, nu)
        Scaled inputs.

    Returns
    -------
    phi_b : ndarray, shape (N, ny, n * nu)
        ``y_s[t] = phi_b[t] @ B.ravel(order="F")``.
    phi_x0 : ndarray, shape (N, ny, n)
        ``y_s[t] = phi_x0[t] @ x0``.
    """
    n, n_samples, nu = a.shape[0], u_s.shape[0], u_s.shape[1]
    # Simulate the n*nu unit-B systems at once: S[t+1] = A S[t] + kron(u[t]^T, I).
    # A Python loop over time: scipy's dlsim loops the same way, and the
    # matrix-valued state is what makes the regression linear in B.
    diag = np.arange(n)
    sens = np.zeros((n, nu, n))  # sens[:, k, r]: state response to u_k through B[r, k]
    phi_b = np.empty((n_samples, c.shape[0], n * nu))
    phi_x0 = np.empty((n_samples, c.shape[0], n))
    power = np.eye(n)
    for t in range(n_samples):
        phi_b[t] = c @ sens.reshape(n, n * nu)
        phi_x0[t] = c @ power
        sens = np.tensordot(a, sens, axes=1)
        sens[diag, :, diag] += u_s[t]
        power = a @ power
    return phi_b, phi_x0


@dataclass(frozen=True, eq=False)
class StateSpaceModel:
    """Discrete state-space model ``(A, B, C, D, K)`` on scaled signals.

    Attributes
    ----------
    a : ndarray, shape (n_states, n_states)
        State matrix. [-]
    b : ndarray, shape (n_states, n_inputs)
        Input matrix (scaled inputs). [-]
    c : ndarray, shape (n_outputs, n_states)
        Output matrix (scaled outputs). [-]
    d : ndarray, shape (n_outputs, n_inputs)
        Feed-through matrix. [-]
    k : ndarray, shape (n_states, n_outputs)
        Innovation (steady-state Kalman) gain; zeros for an output-error model. [-]
    input_scaling, output_scaling : Scaling
        Standardisations. [input units], [output units]
    dt_s : float
        Sample time. [s]
    """

    kind: ClassVar[str] = "statespace"

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    c: NDArray[np.float64]
    d: NDArray[np.float64]
    k: NDArray[np.float64]
    input_scaling: Scaling
    output_scaling: Scaling
    dt_s: float

    def __post_init__(self) -> None:
        for name in ("a", "b", "c", "d", "k"):
            object.__setattr__(self, name, _serial.frozen(np.atleast_2d(getattr(self, name))))
        n, nu, ny = self.a.shape[0], self.input_scaling.size, self.output_scaling.size
        expected = {"a": (n, n), "b": (n, nu), "c": (ny, n), "d": (ny, nu), "k": (n, ny)}
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(
                    f"statespace: {name} must have shape {shape}, got {getattr(self, name).shape}"
                )
        if not (np.isfinite(self.dt_s) and self.dt_s > 0.0):
            raise ValueError(f"statespace: dt_s must be positive, got {self.dt_s}")
        object.__setattr__(self, "dt_s", float(self.dt_s))

    @property
    def n_states(self) -> int:
        """Number of states."""
        return int(self.a.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of inputs."""
        return self.input_scaling.size

    @property
    def n_outputs(self) -> int:
        """Number of outputs."""
        return self.output_scaling.size

    def _initial(self, x0: ArrayLike | None) -> NDArray[np.float64]:
        """Initial state as a float vector of the right length (zero by default)."""
        if x0 is None:
            return np.zeros(self.n_states)
        x_init = np.asarray(x0, dtype=np.float64)
        if x_init.shape != (self.n_states,) or not np.all(np.isfinite(x_init)):
            raise IdentificationError(
                f"x0 must be {self.n_states} finite values, got shape {x_init.shape}"
            )
        return x_init

    def poles(self) -> NDArray[np.complex128]:
        """Eigenvalues of ``A`` (discrete-time poles), sorted by angle then modulus."""
        eig = np.asarray(np.linalg.eigvals(self.a), dtype=np.complex128)
        return eig[np.lexsort((np.abs(eig), np.angle(eig)))]

    def step(
        self, x: NDArray[np.float64], inputs: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """One free-run step (numpy reference): ``(x_next, y)`` for state ``x`` and inputs."""
        u_s = self.input_scaling.apply(inputs)
        y = self.output_scaling.invert(self.c @ x + self.d @ u_s)
        return self.a @ x + self.b @ u_s, y

    def simulate(self, inputs: ArrayLike, x0: ArrayLike | None = None) -> NDArray[np.float64]:
        """Free-run simulation.

        Parameters
        ----------
        inputs : array_like, shape (N, n_inputs)
            Input sequence. [input units]
        x0 : array_like, shape (n_states,), optional
            Initial state (zero, i.e. the operating point of the scalings, by default).

        Returns
        -------
        ndarray, shape (N, n_outputs)
            Simulated outputs. [output units]
        """
        u_s = self.input_scaling.apply(as_2d(inputs, "inputs"))
        x_init = self._initial(x0)
        if u_s.shape[0] == 1:
            return self.output_scaling.invert((self.c @ x_init + self.d @ u_s[0])[np.newaxis])
        _, y_s, _ = dlsim((self.a, self.b, self.c, self.d, self.dt_s), u_s, x0=x_init)
        return self.output_scaling.invert(np.atleast_2d(y_s.reshape(u_s.shape[0], -1)))

    def predict_one_step(
        self, inputs: ArrayLike, outputs: ArrayLike, x0: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """One-step-ahead prediction with the innovation gain (steady-state Kalman predictor).

        Parameters
        ----------
        inputs : array_like, shape (N, n_inputs)
            Measured inputs. [input units]
        outputs : array_like, shape (N, n_outputs)
            Measured outputs. [output units]
        x0 : array_like, shape (n_states,), optional
            Initial state (zero by default).

        Returns
        -------
        ndarray, shape (N, n_outputs)
            ``y_hat[t]`` from data up to ``t-1`` and ``u[t]``. [output units]
        """
        u_s = self.input_scaling.apply(as_2d(inputs, "inputs"))
        y_s = self.output_scaling.apply(as_2d(outputs, "outputs", n_samples=u_s.shape[0]))
        a_k = self.a - self.k @ self.c
        b_k = np.hstack([self.b - self.k @ self.d, self.k])
        d_k = np.hstack([self.d, np.zeros((self.n_outputs, self.n_outputs))])
        x_init = self._initial(x0)
        uy = np.hstack([u_s, y_s])
        if uy.shape[0] == 1:
            return self.output_scaling.invert((self.c @ x_init + d_k @ uy[0])[np.newaxis])
        _, y_hat, _ = dlsim((a_k, b_k, self.c, d_k, self.dt_s), uy, x0=x_init)
        return self.output_scaling.invert(y_hat.reshape(u_s.shape[0], -1))

    def estimate_initial_state(
        self, inputs: ArrayLike, outputs: ArrayLike, n_samples: int = 1000
    ) -> NDArray[np.float64]:
        """Least-squares initial state that best explains the first samples (free run).

        Parameters
        ----------
        inputs, outputs : array_like, shape (N, n_inputs), (N, n_outputs)
            Measured data. [input units], [output units]
        n_samples : int
            Use at most this many leading samples.

        Returns
        -------
        ndarray, shape (n_states,)
        """
        u = as_2d(inputs, "inputs")[:n_samples]
        y = as_2d(outputs, "outputs", n_samples=None)[: u.shape[0]]
        zero_state = self.output_scaling.apply(self.simulate(u))
        _, phi_x0 = output_regressor(self.a, self.c, np.zeros((u.shape[0], 1)))
        target = self.output_scaling.apply(y) - zero_state
        x0 = np.linalg.lstsq(phi_x0.reshape(-1, self.n_states), target.ravel(), rcond=None)[0]
        return np.asarray(x0, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "a": _serial.to_list(self.a),
            "b": _serial.to_list(self.b),
            "c": _serial.to_list(self.c),
            "d": _serial.to_list(self.d),
            "k": _serial.to_list(self.k),
            "input_scaling": self.input_scaling.to_dict(),
            "output_scaling": self.output_scaling.to_dict(),
            "dt_s": self.dt_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise :class:`ModelFormatError` if malformed."""
        _serial.check_header(data, cls.kind)
        try:
            mats = {name: _serial.array(data, name, cls.kind, 2) for name in "abcdk"}
            return cls(
                **mats,
                input_scaling=Scaling.from_dict(_serial.get(data, "input_scaling", cls.kind)),
                output_scaling=Scaling.from_dict(_serial.get(data, "output_scaling", cls.kind)),
                dt_s=float(_serial.get(data, "dt_s", cls.kind)),
            )
        except ModelFormatError:
            raise
        except (TypeError, ValueError) as exc:
            raise ModelFormatError(str(exc)) from None
