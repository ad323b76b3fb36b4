"""Learning operating modes from historian samples of chosen variables.

Method (what :func:`learn_modes` does, in order):

1. Rows holding a NaN are unusable; the rest are the *valid* samples.
2. Steady samples are kept (:func:`~controllers.modes.steady.steady_mask`:
   centred rolling standard deviation of every variable below
   ``steady_rel_std`` times its 1-99 percentile range), or the caller's own
   steady mask is used.
3. The steady samples are standardised (mean 0, standard deviation 1 per
   variable) so that no variable dominates by its unit.
4. For every number of modes ``k`` in ``[k_min, k_max]`` (``k >= 2``), k-means
   with k-means++ initialisation (:func:`scipy.cluster.vq.kmeans2`) is run
   ``n_init`` times from a seeded generator; the run with the least
   within-cluster sum of squares is kept.
5. The number of modes is the ``k`` with the largest mean silhouette
   (Rousseeuw 1987), computed on at most ``silhouette_samples`` steady
   samples drawn with the same seed.  The silhouette cannot score one
   cluster, and a single normal cloud cut in two still scores about 0.55
   in one dimension, so when ``k_min == 1`` the chosen partition is kept
   only if it lowers the Bayesian information criterion of a hard-assignment
   mixture of independent normal distributions (:func:`partition_bic`)
   below that of one mode; otherwise a single mode is returned.
6. Each mode is described by the mean and standard deviation of its samples
   in engineering units and its share of the valid samples; clusters are
   ordered by their centres (first variable first) and named ``mode_1``,
   ``mode_2``, ... unless the user declares names with their setpoints, in
   which case clusters and names are paired by the least total standardised
   distance (:func:`scipy.optimize.linear_sum_assignment`).

k-means rather than a Gaussian mixture: operating modes are compact,
similar-sized clouds around setpoints once transitions are removed, k-means
is in scipy and deterministic with a seed, and the online classifier adds
each mode's own spread afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.cluster.vq import ClusterError, kmeans2
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from controllers.errors import ModeError
from controllers.modes.model import TRANSITION, ModeModel
from controllers.modes.steady import as_sample_matrix, steady_mask

__all__ = ["LearningSettings", "learn_modes", "mean_silhouette", "partition_bic"]

_MIN_VARIANCE = 1e-6  # floor of a cluster's variance in standardised units (quantised sensors)


@dataclass(frozen=True)
class LearningSettings:
    """How operating modes are learned (see the module docstring for the method).

    Parameters
    ----------
    k_min, k_max : int
        Range of the number of modes tried; ``1 <= k_min <= k_max``. [-]
    steady_window : int
        Centred window of the steady-state rule, in samples. [-]
    steady_rel_std : float
        Largest rolling standard deviation, as a fraction of a variable's
        1-99 percentile range, for a sample to be steady. [-]
    n_init : int
        k-means restarts per ``k`` (the best is kept). [-]
    max_iter : int
        k-means iterations per restart. [-]
    seed : int
        Seed of the random generator (initialisation and silhouette
        subsample), so learning is repeatable. [-]
    silhouette_samples : int
        Largest number of samples the silhouette is computed on (its cost is
        quadratic in that number). [-]
    min_samples_per_mode : int
        Fewest steady samples per tried mode (``k_max`` times this must be
        available). [-]
    """

    k_min: int = 1
    k_max: int = 6
    steady_window: int = 31
    steady_rel_std: float = 0.05
    n_init: int = 5
    max_iter: int = 50
    seed: int = 0
    silhouette_samples: int = 2000
    min_samples_per_mode: int = 5

    def __post_init__(self) -> None:
        if not 1 <= self.k_min <= self.k_max:
            raise ModeError(f"need 1 <= k_min <= k_max; got {self.k_min}, {self.k_max}")
        if self.n_init < 1 or self.max_iter < 1 or self.min_samples_per_mode < 1:
            raise ModeError("n_init, max_iter and min_samples_per_mode must be at least 1")
        if self.silhouette_samples < 2 * self.k_max:
            raise ModeError(
                f"silhouette_samples must be at least 2 * k_max = {2 * self.k_max}; "
                f"got {self.silhouette_samples}"
            )
        # steady_window and steady_rel_std are checked by steady_mask when used.


def mean_silhouette(z: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Return the mean silhouette of a clustering (Rousseeuw 1987).

    Parameters
    ----------
    z : array_like
        Samples, shape ``(n_samples, n_variables)``. [standardised]
    labels : array_like
        Cluster index of each sample, integers ``0 .. k-1``. [-]

    Returns
    -------
    float
        Mean over samples of ``(b - a) / max(a, b)``, where ``a`` is the mean
        distance to the other members of the own cluster and ``b`` the least
        mean distance to the members of another cluster; a member of a
        one-sample cluster scores 0. [-]

    Notes
    -----
    Hand-written because scipy has no silhouette and scikit-learn is not a
    dependency; the pairwise distances come from
    :func:`scipy.spatial.distance.cdist` and the per-cluster sums from one
    matrix product.
    """
    pts = np.asarray(z, dtype=np.float64)
    lab = np.asarray(labels, dtype=np.int64)
    k = int(lab.max()) + 1
    if k < 2:
        raise ModeError("the silhouette needs at least two clusters")
    dist = cdist(pts, pts)
    onehot = np.zeros((lab.size, k))
    onehot[np.arange(lab.size), lab] = 1.0
    counts = onehot.sum(axis=0)
    sums = dist @ onehot
    own_count = counts[lab] - 1.0
    a = np.divide(
        sums[np.arange(lab.size), lab], own_count, out=np.zeros(lab.size), where=own_count > 0
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_other = sums / counts
    mean_other[np.arange(lab.size), lab] = np.inf
    mean_other[:, counts == 0] = np.inf
    b = mean_other.min(axis=1)
    denom = np.maximum(a, b)
    s = np.divide(b - a, denom, out=np.zeros(lab.size), where=(denom > 0) & (own_count > 0))
    return float(s.mean())


def partition_bic(z: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Return the BIC of a hard partition modelled as independent normal clusters.

    Parameters
    ----------
    z : array_like
        Samples, shape ``(n_samples, n_variables)``. [standardised]
    labels : array_like
        Cluster index of each sample, integers ``0 .. k-1``, every cluster
        non-empty. [-]

    Returns
    -------
    float
        ``-2 L + p ln n`` with the classification log-likelihood
        ``L = sum_c [n_c ln(n_c / n) - n_c / 2 sum_j (ln(2 pi s2_cj) + 1)]``
        (``s2_cj`` the maximum-likelihood variance of variable ``j`` in
        cluster ``c``, floored at 1e-6) and ``p = k (2 m + 1) - 1``
        parameters (means, variances and weights). [-]
    """
    pts = np.asarray(z, dtype=np.float64)
    lab = np.asarray(labels, dtype=np.int64)
    n_samples, n_vars = pts.shape
    clusters = np.unique(lab)
    log_like = 0.0
    for c in clusters:
        members = pts[lab == c]
        n_c = members.shape[0]
        var = np.maximum(members.var(axis=0), _MIN_VARIANCE)
        log_like += n_c * np.log(n_c / n_samples)
        log_like -= 0.5 * n_c * float(np.sum(np.log(2.0 * np.pi * var) + 1.0))
    n_params = clusters.size * (2 * n_vars + 1) - 1
    return float(-2.0 * log_like + n_params * np.log(n_samples))


def _best_kmeans(
    z: np.ndarray, k: int, settings: LearningSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """Return (centroids, labels) of the best of ``n_init`` k-means++ runs, or None."""
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(settings.n_init):
        try:
            centroids, labels = kmeans2(
                z, k, iter=settings.max_iter, minit="++", missing="raise", rng=rng
            )
        except ClusterError:
            continue  # an empty cluster: this restart is unusable, try the next
        inertia = float(np.sum((z - centroids[labels]) ** 2))
        if best is None or inertia < best[0]:
            best = (inertia, centroids, labels)
    return None if best is None else (best[1], best[2])


def _name_clusters(
    centres: np.ndarray,
    offset: np.ndarray,
    scale: np.ndarray,
    declared: Mapping[str, npt.ArrayLike] | None,
) -> tuple[str, ...]:
    n_modes, n_vars = centres.shape
    names = [f"mode_{i + 1}" for i in range(n_modes)]
    if not declared:
        return tuple(names)
    decl_names = [str(n) for n in declared]
    if TRANSITION in decl_names:
        raise ModeError(f"{TRANSITION!r} is reserved and cannot name a mode")
    setpoints = np.array([np.asarray(v, dtype=np.float64) for v in declared.values()])
    if setpoints.shape != (len(decl_names), n_vars) or not np.isfinite(setpoints).all():
        raise ModeError(
            f"each declared mode needs {n_vars} finite setpoints (one per chosen variable)"
        )
    cost = cdist((centres - offset) / scale, (setpoints - offset) / scale)
    rows, cols = linear_sum_assignment(cost)
    for row, col in zip(rows, cols, strict=True):
        names[row] = decl_names[col]
    taken = set(decl_names)
    spare = (f"mode_{i}" for i in range(1, n_modes + len(taken) + 2))
    assigned = set(rows.tolist())
    for row in range(n_modes):
        if row not in assigned:
            names[row] = next(n for n in spare if n not in taken)
    return tuple(names)


def learn_modes(
    x: npt.ArrayLike,
    settings: LearningSettings | None = None,
    *,
    variables: Sequence[str] | None = None,
    declared: Mapping[str, npt.ArrayLike] | None = None,
    steady: npt.ArrayLike | None = None,
) -> ModeModel:
    """Learn a plant's operating modes from samples of chosen variables.

    Parameters
    ----------
    x : array_like
        Samples at a uniform interval, shape ``(n_samples, n_variables)``;
        rows holding a NaN are dropped. [engineering units]
    settings : LearningSettings, optional
        Method settings; defaults to ``LearningSettings()``.
    variables : sequence of str, optional
        Labels of the columns, for reports; default ``x0, x1, ...``.
    declared : mapping of str to array_like, optional
        Mode names the user declares, each with its setpoint vector (one
        value per variable). [engineering units]  Clusters are paired with
        names by the least total standardised distance; clusters left over
        get ``mode_<i>`` names and unmatched names are unused.
    steady : array_like of bool, optional
        The caller's own steady-sample mask, shape ``(n_samples,)``; replaces
        the rolling-spread rule.

    Returns
    -------
    ModeModel
        Modes with centres, spreads and shares of time.

    Raises
    ------
    ModeError
        If the input has the wrong shape, or fewer than
        ``k_max * min_samples_per_mode`` steady samples remain.
    """
    cfg = LearningSettings() if settings is None else settings
    arr = as_sample_matrix(x)
    n_samples, n_vars = arr.shape
    labels_vars = tuple(f"x{j}" for j in range(n_vars)) if variables is None else tuple(variables)
    if len(labels_vars) != n_vars:
        raise ModeError(f"{len(labels_vars)} variable labels for {n_vars} columns")
    valid = np.isfinite(arr).all(axis=1)
    n_valid = int(valid.sum())
    if steady is None:
        is_steady = steady_mask(arr, cfg.steady_window, cfg.steady_rel_std)
    else:
        is_steady = np.asarray(steady, dtype=bool)
        if is_steady.shape != (n_samples,):
            raise ModeError(f"steady mask must have shape ({n_samples},); got {is_steady.shape}")
        is_steady = is_steady & valid
    n_steady = int(is_steady.sum())
    needed = cfg.k_max * cfg.min_samples_per_mode
    if n_steady < max(needed, 2):
        raise ModeError(
            f"only {n_steady} steady samples of {n_samples} (need {needed}); relax "
            "steady_rel_std, shorten steady_window or supply more history"
        )

    xs = arr[is_steady]
    offset = xs.mean(axis=0)
    scale = xs.std(axis=0)
    scale = np.where(scale > 0.0, scale, 1.0)
    z = (xs - offset) / scale

    rng = np.random.default_rng(cfg.seed)
    sub = np.sort(rng.choice(n_steady, size=min(n_steady, cfg.silhouette_samples), replace=False))
    scores: list[tuple[int, float]] = []
    best_labels = np.zeros(n_steady, dtype=np.int64)
    best_score = -np.inf
    for k in range(max(cfg.k_min, 2), cfg.k_max + 1):
        found = _best_kmeans(z, k, cfg, rng)
        if found is None:
            continue
        labels = found[1]
        if np.unique(labels[sub]).size < 2:
            continue
        score = mean_silhouette(z[sub], labels[sub])
        scores.append((k, score))
        if score > best_score:
            best_score, best_labels = score, labels
    single = np.zeros(n_steady, dtype=np.int64)
    bic = [(1, partition_bic(z, single))] if cfg.k_min == 1 else []
    if scores:
        bic.append((int(best_labels.max()) + 1, partition_bic(z, best_labels)))
    if cfg.k_min == 1 and (not scores or bic[1][1] >= bic[0][1]):
        best_labels = single
        best_score = float("nan")
    elif not scores:
        raise ModeError(f"k-means found no usable clustering for k in [{cfg.k_min}, {cfg.k_max}]")

    present = np.unique(best_labels)
    centres = np.array([xs[best_labels == c].mean(axis=0) for c in present])
    spreads = np.array([xs[best_labels == c].std(axis=0) for c in present])
    counts = np.array([np.count_nonzero(best_labels == c) for c in present], dtype=np.float64)
    order = np.lexsort(centres.T[::-1])
    centres, spreads, counts = centres[order], spreads[order], counts[order]

    steady_rule = (
        "caller's mask"
        if steady is not None
        else f"centred rolling std over {cfg.steady_window} samples"
        f" <= {cfg.steady_rel_std:g} x 1-99 % range"
    )
    method = (
        f"steady: {steady_rule}; standardised; k-means++ (scipy kmeans2, "
        f"{cfg.n_init} restarts, seed {cfg.seed}); k in [{cfg.k_min}, {cfg.k_max}] by mean "
        f"silhouette on <= {cfg.silhouette_samples} samples"
        f"{'; kept only if its BIC is below one mode' if cfg.k_min == 1 else ''}"
    )
    return ModeModel(
        names=_name_clusters(centres, offset, scale, declared),
        variables=labels_vars,
        centres=centres,
        spreads=spreads,
        shares=counts / n_valid,
        transition_share=(n_valid - n_steady) / n_valid,
        offset=offset,
        scale=scale,
        silhouette=best_score,
        scores=tuple(scores),
        bic=tuple(bic),
        method=method,
    )
