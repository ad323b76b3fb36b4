"""Tuning of the process NMPC that can change between solves without a rebuild.

Weights, setpoints, band limits and MV targets enter the generated NLP as
parameters (:data:`controllers.nmpc.formulation.TUNING_PARAMETERS`), so an
operating-mode switch (:class:`~controllers.modes.ModeScheduler`) only
replaces numbers: no code generation, and the warm start carries over.
What cannot change without a rebuild is the structure: which CV band sides
exist (a slack per side) and the terminal weight matrix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from controllers.errors import NmpcError
from controllers.nmpc.settings import NmpcSettings

__all__ = ["TUNING_KEYS", "NmpcTuning"]

#: Keys :meth:`NmpcTuning.replace` accepts (the tunable fields).
TUNING_KEYS: tuple[str, ...] = (
    "cv_weight",
    "band_weight",
    "setpoint",
    "band_low",
    "band_high",
    "move_weight",
    "target_weight",
    "mv_target",
)


def _frozen(values: npt.ArrayLike) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class NmpcTuning:
    """Weights, setpoints, bands and MV targets in force (read-only arrays).

    Attributes
    ----------
    cv_weight : numpy.ndarray, shape (n_cv,)
        Weight of ``((y - setpoint) / scale)**2``; 0 for a zone-only CV. [-]
    band_weight : numpy.ndarray, shape (n_cv,)
        Price of one scaled unit of band violation per sample, before the
        rank factor; positive. [-]
    setpoint : numpy.ndarray, shape (n_cv,)
        Tracked values; NaN where the CV has none (its ``cv_weight`` must
        then be 0). [SI]
    band_low, band_high : numpy.ndarray, shape (n_cv,)
        Soft band; infinite where the NLP has no such side. [SI]
    move_weight : numpy.ndarray, shape (n_mv,)
        Weight of ``((u[k] - u[k-1]) / scale)**2``. [-]
    target_weight : numpy.ndarray, shape (n_mv,)
        Weight of ``((u[k] - target) / scale)**2``; 0 where there is no target. [-]
    mv_target : numpy.ndarray, shape (n_mv,)
        Ideal resting values; NaN for none. [SI]
    rank_factor : numpy.ndarray, shape (n_cv,)
        ``priority_ratio**(r_max - r)`` of each CV's band rank (fixed by the
        settings, not tunable). [-]
    """

    cv_weight: np.ndarray
    band_weight: np.ndarray
    setpoint: np.ndarray
    band_low: np.ndarray
    band_high: np.ndarray
    move_weight: np.ndarray
    target_weight: np.ndarray
    mv_target: np.ndarray
    rank_factor: np.ndarray

    @classmethod
    def from_settings(cls, settings: NmpcSettings) -> NmpcTuning:
        """The tuning written in ``settings`` (what a freshly built NMPC uses)."""
        cvs, mvs = settings.cvs, settings.mvs
        lowest = max(c.priority for c in cvs)
        return cls(
            cv_weight=_frozen([c.weight if c.setpoint is not None else 0.0 for c in cvs]),
            band_weight=_frozen([c.band_weight for c in cvs]),
            setpoint=_frozen([math.nan if c.setpoint is None else c.setpoint for c in cvs]),
            band_low=_frozen([c.low for c in cvs]),
            band_high=_frozen([c.high for c in cvs]),
            move_weight=_frozen([m.move_weight for m in mvs]),
            target_weight=_frozen([m.target_weight if m.target is not None else 0.0 for m in mvs]),
            mv_target=_frozen([math.nan if m.target is None else m.target for m in mvs]),
            rank_factor=_frozen([settings.priority_ratio ** (lowest - c.priority) for c in cvs]),
        )

    def replace(self, values: Mapping[str, npt.ArrayLike] | NmpcTuning) -> NmpcTuning:
        """Return a copy with the vectors in ``values`` replaced, validated.

        Raises
        ------
        NmpcError
            For an unknown key, a wrong shape, a negative or non-finite weight,
            a non-positive band weight, a positive weight without a finite
            setpoint or target, or ``band_low > band_high``.
        """
        if isinstance(values, NmpcTuning):
            values = {key: getattr(values, key) for key in TUNING_KEYS}
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in values.items():
            if key not in TUNING_KEYS:
                raise NmpcError(f"unknown tuning key {key!r}; known: {', '.join(TUNING_KEYS)}")
            arr = np.array(value, dtype=np.float64)
            if arr.shape != current[key].shape:
                raise NmpcError(
                    f"tuning {key} must have shape {current[key].shape}, got {arr.shape}"
                )
            current[key] = _frozen(arr)
        new = NmpcTuning(**current)
        new._validate()
        return new

    def _validate(self) -> None:
        for key in ("cv_weight", "move_weight", "target_weight"):
            arr = getattr(self, key)
            if not (np.all(np.isfinite(arr)) and np.all(arr >= 0.0)):
                raise NmpcError(f"tuning {key} must be finite and >= 0, got {arr}")
        if not (np.all(np.isfinite(self.band_weight)) and np.all(self.band_weight > 0.0)):
            raise NmpcError(f"tuning band_weight must be finite and > 0, got {self.band_weight}")
        for name, arr in (("setpoint", self.setpoint), ("mv_target", self.mv_target)):
            if np.any(np.isinf(arr)):
                raise NmpcError(f"tuning {name} must be finite or NaN (none), got {arr}")
        if np.any((self.cv_weight > 0.0) & np.isnan(self.setpoint)):
            raise NmpcError("tuning: a CV with cv_weight > 0 needs a finite setpoint")
        if np.any((self.target_weight > 0.0) & np.isnan(self.mv_target)):
            raise NmpcError("tuning: an MV with target_weight > 0 needs a finite mv_target")
        if np.any(np.isnan(self.band_low) | np.isnan(self.band_high)):
            raise NmpcError("tuning band limits must not be NaN (use -inf/inf for none)")
        if np.any(self.band_low > self.band_high):
            raise NmpcError(f"tuning band_low {self.band_low} above band_high {self.band_high}")

    def parameters(
        self, slack_cv: Sequence[int], slack_names: Sequence[str], cv_names: Sequence[str]
    ) -> np.ndarray:
        """The tuning part of the NLP parameter vector, in formulation order.

        ``setpoint, low, high, target`` (NaN and infinite entries as 0),
        ``cv_weight``, the band price of each slack column (``band_weight``
        times ``rank_factor``), ``move_weight``, ``target_weight``.

        Raises
        ------
        NmpcError
            If a band side is finite where the NLP has no slack for it, or
            infinite where it has one.
        """
        for j in range(self.setpoint.size):
            for side, limit in (("lower", self.band_low[j]), ("upper", self.band_high[j])):
                exists = any(
                    name.endswith(f".{side}") and slack_cv[col] == j
                    for col, name in enumerate(slack_names)
                )
                if exists != math.isfinite(limit):
                    what = "finite" if math.isfinite(limit) else "infinite"
                    raise NmpcError(
                        f"tuning: the {side} band of CV {cv_names[j]} is {what} but the NLP was "
                        "built "
                        f"{'without' if not exists else 'with'} it; a band side can move but "
                        "not appear or vanish without rebuilding the controller"
                    )
        price = np.array([self.band_weight[j] * self.rank_factor[j] for j in slack_cv])
        return np.concatenate(
            [
                np.nan_to_num(self.setpoint, nan=0.0),
                np.where(np.isfinite(self.band_low), self.band_low, 0.0),
                np.where(np.isfinite(self.band_high), self.band_high, 0.0),
                np.nan_to_num(self.mv_target, nan=0.0),
                self.cv_weight,
                price,
                self.move_weight,
                self.target_weight,
            ]
        )
