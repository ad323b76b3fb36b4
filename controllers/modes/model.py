"""The learned description of a plant's operating modes.

A :class:`ModeModel` holds, for each mode, its centre and spread in
engineering units and its share of time, plus the standardisation used when
the modes were learned.  It is a frozen dataclass of numpy arrays, and
round-trips through plain lists and floats with :meth:`ModeModel.to_dict` and
:meth:`ModeModel.from_dict` (the application layer stores that dictionary in
the project file; never pickle).

Distance to a mode (used by :meth:`ModeModel.distances` and the online
classifier) is the root-mean-square z-score of a sample against the mode's
own centre and spread:

``d_k(x) = sqrt(mean_j ((x_j - c_kj) / s_kj) ** 2)``

with ``s_kj = max(spread_kj, min_spread_rel * scale_j)`` so that a variable
held very tightly in one mode does not make every small drift look far.  A
sample drawn from mode ``k`` has ``d_k`` of about 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import logsumexp

from controllers.errors import ModeError
from controllers.modes.steady import as_sample_matrix

__all__ = ["DEFAULT_MIN_SPREAD_REL", "TRANSITION", "ModeModel"]

TRANSITION = "transition"
"""Label of samples far from every mode (the plant moving between modes)."""

DEFAULT_MIN_SPREAD_REL = 0.02
"""Default floor of a mode's spread, as a fraction of the variable's overall scale. [-]"""


def _frozen(values: npt.ArrayLike, shape: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.shape != shape:
        raise ModeError(f"ModeModel.{what} must have shape {shape}; got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ModeError(f"ModeModel.{what} must be finite")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class ModeModel:
    """Operating modes learned from historian data.

    Parameters
    ----------
    names : tuple of str
        Mode names, unique, none equal to ``"transition"``.
    variables : tuple of str
        Labels of the chosen variables, in column order (for reports only).
    centres : numpy.ndarray
        Mode centres, shape ``(n_modes, n_variables)``. [engineering units]
    spreads : numpy.ndarray
        Standard deviation of each variable inside each mode, same shape,
        non-negative. [engineering units]
    shares : numpy.ndarray
        Share of the valid (non-NaN) samples that were steady in each mode,
        shape ``(n_modes,)``. [-]
    transition_share : float
        Share of the valid samples that were not steady (ramps, upsets). [-]
    offset : numpy.ndarray
        Mean of each variable over the steady samples, used to standardise,
        shape ``(n_variables,)``. [engineering units]
    scale : numpy.ndarray
        Standard deviation of each variable over the steady samples (1 for a
        constant variable), positive, shape ``(n_variables,)``.
        [engineering units]
    silhouette : float
        Mean silhouette of the chosen clustering (NaN for a single mode). [-]
    scores : tuple of (int, float)
        Mean silhouette for each number of modes tried. [-]
    bic : tuple of (int, float)
        Bayesian information criterion of one mode and of the best
        partition, when one mode was a candidate. [-]
    method : str
        One-line description of how the modes were learned.
    """

    names: tuple[str, ...]
    variables: tuple[str, ...]
    centres: np.ndarray
    spreads: np.ndarray
    shares: np.ndarray
    transition_share: float
    offset: np.ndarray
    scale: np.ndarray
    silhouette: float = float("nan")
    scores: tuple[tuple[int, float], ...] = ()
    bic: tuple[tuple[int, float], ...] = ()
    method: str = ""
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        variables = tuple(str(v) for v in self.variables)
        n_modes, n_vars = len(names), len(variables)
        if n_modes == 0 or n_vars == 0:
            raise ModeError("ModeModel needs at least one mode and one variable")
        if len(set(names)) != n_modes:
            raise ModeError(f"ModeModel mode names must be unique; got {names}")
        if TRANSITION in names or any(not n.strip() for n in names):
            raise ModeError(f"mode names must be non-empty and not {TRANSITION!r}; got {names}")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "centres", _frozen(self.centres, (n_modes, n_vars), "centres"))
        spreads = _frozen(self.spreads, (n_modes, n_vars), "spreads")
        if (spreads < 0.0).any():
            raise ModeError("ModeModel.spreads must be non-negative")
        object.__setattr__(self, "spreads", spreads)
        shares = _frozen(self.shares, (n_modes,), "shares")
        transition_share = float(self.transition_share)
        if (shares < 0.0).any() or not 0.0 <= transition_share <= 1.0:
            raise ModeError("ModeModel shares must lie in [0, 1]")
        object.__setattr__(self, "shares", shares)
        object.__setattr__(self, "transition_share", transition_share)
        object.__setattr__(self, "offset", _frozen(self.offset, (n_vars,), "offset"))
        scale = _frozen(self.scale, (n_vars,), "scale")
        if (scale <= 0.0).any():
            raise ModeError("ModeModel.scale must be positive")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "silhouette", float(self.silhouette))
        object.__setattr__(self, "scores", tuple((int(k), float(s)) for k, s in self.scores))
        object.__setattr__(self, "bic", tuple((int(k), float(b)) for k, b in self.bic))
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})

    @property
    def n_modes(self) -> int:
        """Number of modes."""
        return len(self.names)

    @property
    def n_variables(self) -> int:
        """Number of chosen variables."""
        return len(self.variables)

    def index(self, name: str) -> int:
        """Return the row of mode ``name`` in :attr:`centres`.

        Raises
        ------
        ModeError
            If the model has no mode of that name.
        """
        try:
            return self._index[name]
        except KeyError:
            raise ModeError(f"unknown mode {name!r}; modes are {self.names}") from None

    def effective_spreads(self, min_spread_rel: float = DEFAULT_MIN_SPREAD_REL) -> np.ndarray:
        """Return the spreads floored at ``min_spread_rel * scale``. [engineering units]."""
        if not min_spread_rel > 0.0:
            raise ModeError(f"min_spread_rel must be positive; got {min_spread_rel}")
        return np.maximum(self.spreads, min_spread_rel * self.scale)

    def distances(
        self, x: npt.ArrayLike, min_spread_rel: float = DEFAULT_MIN_SPREAD_REL
    ) -> np.ndarray:
        """Return the RMS z-score distance of each sample to each mode.

        Parameters
        ----------
        x : array_like
            Samples, shape ``(n_samples, n_variables)`` or one sample of shape
            ``(n_variables,)``. [engineering units]
        min_spread_rel : float
            Floor of a mode's spread as a fraction of :attr:`scale`. [-]

        Returns
        -------
        numpy.ndarray
            Shape ``(n_samples, n_modes)`` (or ``(n_modes,)`` for one
            sample); NaN where a sample holds a NaN. [-]
        """
        arr, single = self._samples(x)
        z = (arr[:, np.newaxis, :] - self.centres) / self.effective_spreads(min_spread_rel)
        dist = np.sqrt(np.mean(z * z, axis=2))
        return dist[0] if single else dist

    def memberships(
        self, x: npt.ArrayLike, min_spread_rel: float = DEFAULT_MIN_SPREAD_REL
    ) -> np.ndarray:
        """Return each mode's membership of each sample (rows sum to 1).

        The membership is the posterior of a mixture of independent normal
        distributions (one per mode, centre and floored spread as above) with
        equal priors, computed in log space.

        Parameters
        ----------
        x : array_like
            Samples, as for :meth:`distances`. [engineering units]
        min_spread_rel : float
            Floor of a mode's spread as a fraction of :attr:`scale`. [-]

        Returns
        -------
        numpy.ndarray
            Shape ``(n_samples, n_modes)`` (or ``(n_modes,)``). [-]
        """
        arr, single = self._samples(x)
        spreads = self.effective_spreads(min_spread_rel)
        z = (arr[:, np.newaxis, :] - self.centres) / spreads
        log_like = -0.5 * np.sum(z * z, axis=2) - np.sum(np.log(spreads), axis=1)
        post = np.exp(log_like - logsumexp(log_like, axis=1, keepdims=True))
        return post[0] if single else post

    def classify(
        self,
        x: npt.ArrayLike,
        transition_distance: float = np.inf,
        min_spread_rel: float = DEFAULT_MIN_SPREAD_REL,
    ) -> np.ndarray:
        """Label each sample with its nearest mode (no hysteresis).

        Parameters
        ----------
        x : array_like
            Samples, shape ``(n_samples, n_variables)``. [engineering units]
        transition_distance : float
            Samples farther than this from every mode are labelled
            ``"transition"``. [-]
        min_spread_rel : float
            Floor of a mode's spread as a fraction of :attr:`scale`. [-]

        Returns
        -------
        numpy.ndarray
            Mode indices, shape ``(n_samples,)``: ``-1`` for transition or
            for a sample holding a NaN.
        """
        dist = np.atleast_2d(self.distances(x, min_spread_rel))
        labels = np.full(dist.shape[0], -1, dtype=np.int64)
        ok = np.isfinite(dist).all(axis=1)
        if ok.any():
            nearest = np.argmin(dist[ok], axis=1)
            near_enough = dist[ok][np.arange(nearest.size), nearest] <= transition_distance
            labels[np.flatnonzero(ok)[near_enough]] = nearest[near_enough]
        return labels

    def _samples(self, x: npt.ArrayLike) -> tuple[np.ndarray, bool]:
        arr = np.asarray(x, dtype=np.float64)
        single = arr.ndim == 1
        arr = as_sample_matrix(arr[np.newaxis, :] if single else arr, "samples")
        if arr.shape[1] != self.n_variables:
            raise ModeError(
                f"samples have {arr.shape[1]} variables; the mode model has {self.n_variables}"
            )
        return arr, single

    def to_dict(self) -> dict[str, Any]:
        """Return the model as plain lists, floats and strings (JSON/TOML friendly)."""
        return {
            "names": list(self.names),
            "variables": list(self.variables),
            "centres": self.centres.tolist(),
            "spreads": self.spreads.tolist(),
            "shares": self.shares.tolist(),
            "transition_share": self.transition_share,
            "offset": self.offset.tolist(),
            "scale": self.scale.tolist(),
            "silhouette": None if np.isnan(self.silhouette) else self.silhouette,
            "scores": [[k, s] for k, s in self.scores],
            "bic": [[k, b] for k, b in self.bic],
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModeModel:
        """Rebuild a model from :meth:`to_dict` output.

        Raises
        ------
        ModeError
            If a key is missing or a value has the wrong shape.
        """
        required = ("names", "variables", "centres", "spreads", "shares", "offset", "scale")
        missing = [key for key in required if key not in data]
        if missing:
            raise ModeError(f"mode model dictionary misses {missing}")
        silhouette = data.get("silhouette")
        return cls(
            names=tuple(data["names"]),
            variables=tuple(data["variables"]),
            centres=np.asarray(data["centres"], dtype=np.float64),
            spreads=np.asarray(data["spreads"], dtype=np.float64),
            shares=np.asarray(data["shares"], dtype=np.float64),
            transition_share=float(data.get("transition_share", 0.0)),
            offset=np.asarray(data["offset"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            silhouette=float("nan") if silhouette is None else float(silhouette),
            scores=tuple((int(k), float(s)) for k, s in data.get("scores", ())),
            bic=tuple((int(k), float(b)) for k, b in data.get("bic", ())),
            method=str(data.get("method", "")),
        )
