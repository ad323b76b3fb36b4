"""Data-driven model parts: identification from data, evaluation in the equations-once form.

Static maps ``y = h(u, d)``
    :func:`fit_polynomial` (cross terms up to a degree), :func:`fit_rbf`
    (Gaussian RBF, k-means centres), :func:`fit_mlp` (1-2 tanh layers,
    L-BFGS with early stopping); ridge penalties by GCV or k-fold.
Discrete-time dynamic models
    :func:`fit_arx` (MISO/MIMO ARX by regularised least squares) and
    :func:`fit_subspace` (state space by N4SID/MOESP-type subspace
    identification with automatic or manual order).
The generic data-driven unit
    :class:`DataDrivenSpec` (what a project declares) and
    :class:`DataDrivenUnit` (identified from arrays, exposes named vectors and
    an :class:`~plant_models.core.equations.EquationModel`).
Validation metrics
    :mod:`plant_models.datadriven.metrics` (NRMSE, R2, bias per output).

Every fitted model is a frozen dataclass of arrays with ``to_dict``/``from_dict``
of plain lists (for JSON/TOML, never pickle) and evaluates through
:func:`~plant_models.datadriven.equations.equation_functions`, which casadi and
numba both compile.
"""

from plant_models.datadriven.arx import ARXModel, fit_arx
from plant_models.datadriven.equations import equation_functions, pack_parameters
from plant_models.datadriven.errors import IdentificationError, ModelFormatError, SpecError
from plant_models.datadriven.metrics import FitMetrics, bias, fit_metrics, nrmse, r2, rmse
from plant_models.datadriven.mlp import MLPModel, fit_mlp
from plant_models.datadriven.scaling import Scaling
from plant_models.datadriven.spec import MODEL_TYPES, DataDrivenSpec
from plant_models.datadriven.statespace import StateSpaceModel
from plant_models.datadriven.static import PolynomialModel, RBFModel, fit_polynomial, fit_rbf
from plant_models.datadriven.subspace import SubspaceResult, fit_subspace
from plant_models.datadriven.unit import DataDrivenUnit

__all__ = [
    "MODEL_TYPES",
    "ARXModel",
    "DataDrivenSpec",
    "DataDrivenUnit",
    "FitMetrics",
    "IdentificationError",
    "MLPModel",
    "ModelFormatError",
    "PolynomialModel",
    "RBFModel",
    "Scaling",
    "SpecError",
    "StateSpaceModel",
    "SubspaceResult",
    "bias",
    "equation_functions",
    "fit_arx",
    "fit_metrics",
    "fit_mlp",
    "fit_polynomial",
    "fit_rbf",
    "fit_subspace",
    "nrmse",
    "pack_parameters",
    "r2",
    "rmse",
]
