"""A small multilayer perceptron ``y = h(z)``: 1-2 tanh hidden layers, linear output.

Fitted with scipy's L-BFGS-B on the mean squared error of scaled outputs plus
weight decay, with the analytic gradient from numpy back-propagation (a few
lines; no deep-learning framework is a dependency).  Early stopping keeps the
parameters with the smallest loss on a held-out validation split.  Seeds fix
the split and the initial weights, so a fit is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize

from plant_models.datadriven import _serial
from plant_models.datadriven._checks import as_2d, check_int
from plant_models.datadriven.errors import IdentificationError, ModelFormatError
from plant_models.datadriven.scaling import Scaling

__all__ = ["MLPModel", "fit_mlp", "mlp_forward", "n_parameters", "unpack"]


def _shapes(layer_sizes: Sequence[int]) -> list[tuple[tuple[int, int], int]]:
    """Weight shape (n_out, n_in) and bias length of every layer."""
    return [
        ((layer_sizes[i + 1], layer_sizes[i]), layer_sizes[i + 1])
        for i in range(len(layer_sizes) - 1)
    ]


def n_parameters(layer_sizes: Sequence[int]) -> int:
    """Number of weights and biases of a network with these layer sizes."""
    return sum(w[0] * w[1] + b for w, b in _shapes(layer_sizes))


def unpack(
    theta: NDArray[np.float64], layer_sizes: Sequence[int]
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Split a flat parameter vector into ``[(W_1, b_1), ...]`` (row-major weights)."""
    layers = []
    pos = 0
    for (rows, cols), nb in _shapes(layer_sizes):
        w = theta[pos : pos + rows * cols].reshape(rows, cols)
        pos += rows * cols
        b = theta[pos : pos + nb]
        pos += nb
        layers.append((w, b))
    return layers


def mlp_forward(
    z: NDArray[np.float64], theta: NDArray[np.float64], layer_sizes: Sequence[int]
) -> NDArray[np.float64]:
    """Scaled outputs of the network for scaled inputs ``z`` of shape (n, n_inputs)."""
    layers = unpack(theta, layer_sizes)
    a = z
    for w, b in layers[:-1]:
        a = np.tanh(a @ w.T + b)
    w, b = layers[-1]
    return a @ w.T + b


def _loss_and_grad(
    theta: NDArray[np.float64],
    z: NDArray[np.float64],
    y: NDArray[np.float64],
    layer_sizes: Sequence[int],
    weight_decay: float,
) -> tuple[float, NDArray[np.float64]]:
    """``0.5 mean ||out - y||^2 + 0.5 weight_decay ||W||^2`` and its gradient."""
    layers = unpack(theta, layer_sizes)
    acts = [z]
    for w, b in layers[:-1]:
        acts.append(np.tanh(acts[-1] @ w.T + b))
    w_out, b_out = layers[-1]
    resid = acts[-1] @ w_out.T + b_out - y
    n = z.shape[0]
    loss = 0.5 * float(np.sum(resid**2)) / n
    grads: list[NDArray[np.float64]] = []
    delta = resid / n  # d loss / d pre-activation of the output layer
    for idx in range(len(layers) - 1, -1, -1):
        w, _ = layers[idx]
        loss += 0.5 * weight_decay * float(np.sum(w**2))
        grad_w = delta.T @ acts[idx] + weight_decay * w
        grad_b = delta.sum(axis=0)
        grads[:0] = [grad_w.ravel(), grad_b]
        if idx > 0:
            delta = (delta @ w) * (1.0 - acts[idx] ** 2)
    return loss, np.concatenate(grads)


@dataclass(frozen=True, eq=False)
class MLPModel:
    """Multilayer perceptron with tanh hidden layers and a linear output layer.

    ``z = input_scaling.apply(u)``, ``a_0 = z``, ``a_l = tanh(W_l a_{l-1} + b_l)``,
    ``y = output_scaling.invert(W_L a_{L-1} + b_L)``.

    Attributes
    ----------
    input_scaling, output_scaling : Scaling
        Standardisations of inputs and outputs. [input units], [output units]
    layer_sizes : tuple of int
        ``(n_inputs, hidden_1, [hidden_2,] n_outputs)``.
    theta : ndarray, shape (n_parameters,)
        Flat parameters: for each layer the row-major weight matrix
        ``(n_out, n_in)`` then the bias. [-]
    """

    kind: ClassVar[str] = "mlp"

    input_scaling: Scaling
    output_scaling: Scaling
    layer_sizes: tuple[int, ...]
    theta: NDArray[np.float64]

    def __post_init__(self) -> None:
        sizes = tuple(int(s) for s in self.layer_sizes)
        object.__setattr__(self, "layer_sizes", sizes)
        object.__setattr__(self, "theta", _serial.frozen(self.theta))
        if not 3 <= len(sizes) <= 4 or min(sizes) < 1:
            raise ValueError(f"mlp: layer_sizes must be 1 or 2 hidden layers of >= 1, got {sizes}")
        if sizes[0] != self.input_scaling.size or sizes[-1] != self.output_scaling.size:
            raise ValueError("mlp: layer_sizes do not match the input and output scalings")
        if self.theta.shape != (n_parameters(sizes),):
            raise ValueError(
                f"mlp: theta must have {n_parameters(sizes)} entries, got {self.theta.shape}"
            )

    @property
    def n_inputs(self) -> int:
        """Number of inputs."""
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        """Number of outputs."""
        return self.layer_sizes[-1]

    def layers(self) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """Weights and biases ``[(W_1, b_1), ...]`` (views of :attr:`theta`)."""
        return unpack(self.theta, self.layer_sizes)

    def predict(self, inputs: ArrayLike) -> NDArray[np.float64]:
        """Evaluate the network (numpy reference).

        Parameters
        ----------
        inputs : array_like, shape (n_samples, n_inputs) or (n_inputs,)
            Inputs. [input units]

        Returns
        -------
        ndarray, shape (n_samples, n_outputs) or (n_outputs,)
            Outputs. [output units]
        """
        arr = np.asarray(inputs, dtype=np.float64)
        z = self.input_scaling.apply(np.atleast_2d(arr))
        y = self.output_scaling.invert(mlp_forward(z, self.theta, self.layer_sizes))
        return y[0] if arr.ndim == 1 else y

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (lists of numbers) for JSON or TOML storage."""
        return {
            **_serial.header(self.kind),
            "input_scaling": self.input_scaling.to_dict(),
            "output_scaling": self.output_scaling.to_dict(),
            "layer_sizes": list(self.layer_sizes),
            "theta": _serial.to_list(self.theta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output; raise :class:`ModelFormatError` if malformed."""
        _serial.check_header(data, cls.kind)
        try:
            return cls(
                input_scaling=Scaling.from_dict(_serial.get(data, "input_scaling", cls.kind)),
                output_scaling=Scaling.from_dict(_serial.get(data, "output_scaling", cls.kind)),
                layer_sizes=tuple(_serial.array(data, "layer_sizes", cls.kind, 1, np.int64)),
                theta=_serial.array(data, "theta", cls.kind, 1),
            )
        except ModelFormatError:
            raise
        except ValueError as exc:
            raise ModelFormatError(str(exc)) from None


class _EarlyStop:
    """L-BFGS callback tracking the validation loss and stopping on no improvement."""

    def __init__(
        self,
        z_val: NDArray[np.float64],
        y_val: NDArray[np.float64],
        layer_sizes: Sequence[int],
        patience: int,
    ) -> None:
        self.z_val, self.y_val = z_val, y_val
        self.layer_sizes = layer_sizes
        self.patience = patience
        self.best_loss = np.inf
        self.best_theta: NDArray[np.float64] | None = None
        self.since_best = 0

    def val_loss(self, theta: NDArray[np.float64]) -> float:
        resid = mlp_forward(self.z_val, theta, self.layer_sizes) - self.y_val
        return 0.5 * float(np.mean(np.sum(resid**2, axis=1)))

    def __call__(self, intermediate_result: OptimizeResult) -> None:
        loss = self.val_loss(intermediate_result.x)
        if loss < self.best_loss:
            self.best_loss, self.best_theta, self.since_best = loss, intermediate_result.x.copy(), 0
        else:
            self.since_best += 1
            if self.since_best >= self.patience:
                raise StopIteration


def fit_mlp(
    inputs: ArrayLike,
    outputs: ArrayLike,
    hidden: Sequence[int] = (10,),
    *,
    weight_decay: float = 1e-6,
    validation_fraction: float = 0.2,
    patience: int = 50,
    max_iter: int = 3000,
    n_restarts: int = 1,
    seed: int = 0,
) -> MLPModel:
    """Fit a tanh MLP by L-BFGS with early stopping on a validation split.

    Parameters
    ----------
    inputs : array_like, shape (n_samples, n_inputs)
        Input samples. [input units]
    outputs : array_like, shape (n_samples, n_outputs)
        Output samples. [output units]
    hidden : sequence of int
        Sizes of the one or two hidden layers.
    weight_decay : float
        Penalty on the squared weights (not the biases), scaled variables. [-]
    validation_fraction : float
        Share of samples (chosen at random with ``seed``) held out for early
        stopping; 0 trains on all samples for ``max_iter`` iterations.
    patience : int
        Stop after this many L-BFGS iterations without a better validation loss.
    max_iter : int
        Largest number of L-BFGS iterations per start.
    n_restarts : int
        Independent random starts; the one with the best validation (or
        training) loss is kept.
    seed : int
        Seed of the split and of the Glorot-uniform initial weights.

    Raises
    ------
    IdentificationError
        For non-finite data, a constant input or output, a wrong layer
        specification or too few samples for the split.
    """
    hidden = tuple(check_int(h, "hidden layer size", 1) for h in hidden)
    if not 1 <= len(hidden) <= 2:
        raise IdentificationError(f"the MLP has 1 or 2 hidden layers, got {len(hidden)}")
    check_int(max_iter, "max_iter", 1)
    check_int(patience, "patience", 1)
    check_int(n_restarts, "n_restarts", 1)
    if not 0.0 <= validation_fraction < 0.9:
        raise IdentificationError(
            f"validation_fraction must be in [0, 0.9), got {validation_fraction}"
        )
    if not weight_decay >= 0.0:
        raise IdentificationError(f"weight_decay must be >= 0, got {weight_decay}")
    u = as_2d(inputs, "inputs")
    y = as_2d(outputs, "outputs", n_samples=u.shape[0])
    n = u.shape[0]
    rng = np.random.default_rng(seed)
    n_val = round(validation_fraction * n)
    if n - n_val < 10 or (validation_fraction > 0.0 and n_val < 2):
        raise IdentificationError(
            f"too few samples ({n}) for an MLP with validation fraction {validation_fraction}"
        )
    perm = rng.permutation(n)
    train, val = perm[n_val:], perm[:n_val]
    u_scaling = Scaling.fit(u[train], "inputs")
    y_scaling = Scaling.fit(y[train], "outputs")
    z, ys = u_scaling.apply(u), y_scaling.apply(y)
    sizes = (u.shape[1], *hidden, y.shape[1])
    best_theta: NDArray[np.float64] | None = None
    best_score = np.inf
    for _ in range(n_restarts):
        theta0 = np.concatenate(
            [
                part
                for (rows, cols), nb in _shapes(sizes)
                for part in (
                    rng.uniform(-1.0, 1.0, rows * cols) * np.sqrt(6.0 / (rows + cols)),
                    np.zeros(nb),
                )
            ]
        )
        stopper = _EarlyStop(z[val], ys[val], sizes, patience) if n_val else None
        result = minimize(
            _loss_and_grad,
            theta0,
            args=(z[train], ys[train], sizes, weight_decay),
            jac=True,
            method="L-BFGS-B",
            callback=stopper,
            # L-BFGS-B's default ftol stops once the loss changes by less than
            # 2e-9 in absolute terms, long before a small scaled loss has
            # converged: let early stopping and max_iter decide instead.
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10},
        )
        if stopper is not None and stopper.best_theta is not None:
            theta, score = stopper.best_theta, stopper.best_loss
        else:
            theta, score = result.x, float(result.fun)
        if score < best_score:
            best_theta, best_score = theta, score
    if best_theta is None or not np.all(np.isfinite(best_theta)):
        raise IdentificationError("the MLP fit did not produce finite weights")
    return MLPModel(u_scaling, y_scaling, sizes, best_theta)
