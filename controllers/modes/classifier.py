"""Online operating-mode classification with hysteresis.

Rule (one sample per control interval, :meth:`ModeClassifier.step`):

- Distances ``d_k`` to every mode are the RMS z-scores of
  :meth:`~controllers.modes.model.ModeModel.distances` (about 1 inside a
  mode).
- The sample is *in transition* when it is farther than
  ``transition_distance`` from every mode; it then never starts or
  continues a switch, and the confirmed mode is held.
- Another mode ``c`` is a *candidate* when it is the nearest mode and
  ``d_current - d_c > margin``.  The confirmed mode switches to ``c`` once
  ``c`` has been the candidate for ``min_dwell_s`` (consecutive samples,
  each counting one ``interval_s``); any other sample resets the count.
- A sample holding a NaN is ignored: the state (confirmed mode and dwell
  count) is held and reported again with ``held=True``.
- Before any mode is confirmed (start-up), the first sample within
  ``transition_distance`` of a mode confirms its nearest mode at once; the
  reported mode is ``"transition"`` until then.

``margin = 0`` and ``min_dwell_s = 0`` give the plain nearest-mode rule
(no hysteresis), which chatters when noise crosses a boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controllers.errors import ModeError
from controllers.modes.model import DEFAULT_MIN_SPREAD_REL, TRANSITION, ModeModel

__all__ = ["ClassifierSettings", "ModeClassifier", "ModeState"]


@dataclass(frozen=True)
class ClassifierSettings:
    """Hysteresis of the online mode classifier.

    Parameters
    ----------
    interval_s : float
        Interval between samples. [s]
    min_dwell_s : float
        How long another mode must stay the candidate before the classifier
        switches to it. [s]
    margin : float
        How much closer (in RMS z-score) the candidate must be than the
        confirmed mode. [-]
    transition_distance : float
        A sample farther than this from every mode is in transition (``inf``
        disables it). [-]
    min_spread_rel : float
        Floor of a mode's spread as a fraction of the variable's overall
        scale, used in the distances. [-]
    """

    interval_s: float
    min_dwell_s: float = 300.0
    margin: float = 1.0
    transition_distance: float = 4.0
    min_spread_rel: float = DEFAULT_MIN_SPREAD_REL

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval_s) and self.interval_s > 0.0):
            raise ModeError(f"interval_s must be positive and finite; got {self.interval_s}")
        if not (math.isfinite(self.min_dwell_s) and self.min_dwell_s >= 0.0):
            raise ModeError(f"min_dwell_s must be non-negative and finite; got {self.min_dwell_s}")
        if not (math.isfinite(self.margin) and self.margin >= 0.0):
            raise ModeError(f"margin must be non-negative and finite; got {self.margin}")
        if not self.transition_distance > 0.0:
            raise ModeError(f"transition_distance must be positive; got {self.transition_distance}")
        if not (math.isfinite(self.min_spread_rel) and self.min_spread_rel > 0.0):
            raise ModeError(f"min_spread_rel must be positive; got {self.min_spread_rel}")


@dataclass(frozen=True)
class ModeState:
    """What the classifier says after one sample.

    Parameters
    ----------
    mode : str
        Confirmed operating mode (held through transitions and NaN samples);
        ``"transition"`` only before the first mode is confirmed.
    confidence : float
        Membership of the confirmed mode given this sample (posterior of
        per-mode independent normal distributions, equal priors); 0 while in
        transition or before a mode is confirmed. [-]
    switched : bool
        True when this sample changed the confirmed mode from one mode to
        another.
    in_transition : bool
        True when the sample is farther than ``transition_distance`` from
        every mode.
    nearest : str
        Nearest mode to this sample, or ``"transition"`` when in transition.
    distance : float
        RMS z-score distance of the sample to the confirmed mode (NaN when
        none is confirmed or the sample was held). [-]
    held : bool
        True when the sample held a NaN and was ignored.
    """

    mode: str
    confidence: float
    switched: bool
    in_transition: bool
    nearest: str
    distance: float
    held: bool = False

    @property
    def label(self) -> str:
        """``"transition"`` while in transition, else the confirmed mode."""
        return TRANSITION if self.in_transition else self.mode


class ModeClassifier:
    """Classify the current operating mode, one sample at a time, with hysteresis.

    Parameters
    ----------
    model : ModeModel
        Learned modes.
    settings : ClassifierSettings
        Hysteresis settings.
    initial_mode : str, optional
        Mode confirmed at start; by default none (see the module docstring).

    Raises
    ------
    ModeError
        If ``initial_mode`` is not a mode of ``model``.
    """

    def __init__(
        self, model: ModeModel, settings: ClassifierSettings, initial_mode: str | None = None
    ) -> None:
        self._model = model
        self._settings = settings
        self._mode: int | None = None
        self._candidate: int | None = None
        self._dwell_s = 0.0
        self._last = ModeState(TRANSITION, 0.0, False, True, TRANSITION, float("nan"))
        self.reset(initial_mode)

    @property
    def model(self) -> ModeModel:
        """The learned modes."""
        return self._model

    @property
    def settings(self) -> ClassifierSettings:
        """The hysteresis settings."""
        return self._settings

    @property
    def mode(self) -> str:
        """Confirmed mode (``"transition"`` before one is confirmed)."""
        return TRANSITION if self._mode is None else self._model.names[self._mode]

    def reset(self, mode: str | None = None) -> None:
        """Forget the history; confirm ``mode`` at once if given."""
        self._mode = None if mode is None else self._model.index(mode)
        self._candidate = None
        self._dwell_s = 0.0
        self._last = ModeState(self.mode, 0.0, False, mode is None, self.mode, float("nan"))

    def step(self, sample: npt.ArrayLike) -> ModeState:
        """Classify one sample of the chosen variables.

        Parameters
        ----------
        sample : array_like
            One value per chosen variable, shape ``(n_variables,)``; a NaN
            anywhere makes the sample ignored. [engineering units]

        Returns
        -------
        ModeState
            Confirmed mode, confidence, switch flag and diagnostics.

        Raises
        ------
        ModeError
            If the sample has the wrong shape or holds an infinity.
        """
        x = np.asarray(sample, dtype=np.float64)
        if x.shape != (self._model.n_variables,):
            raise ModeError(f"sample must have shape ({self._model.n_variables},); got {x.shape}")
        if np.isinf(x).any():
            raise ModeError("sample holds an infinite value; use NaN for a missing one")
        if np.isnan(x).any():
            last = self._last
            self._last = ModeState(
                last.mode,
                last.confidence,
                False,
                last.in_transition,
                last.nearest,
                float("nan"),
                held=True,
            )
            return self._last

        cfg = self._settings
        dist = self._model.distances(x, cfg.min_spread_rel)
        nearest = int(np.argmin(dist))
        in_transition = bool(dist[nearest] > cfg.transition_distance)
        switched = False
        if self._mode is None:
            if not in_transition:
                self._mode = nearest  # start-up: nothing to protect, confirm at once
        elif (
            not in_transition
            and nearest != self._mode
            and dist[self._mode] - dist[nearest] > cfg.margin
        ):
            if nearest == self._candidate:
                self._dwell_s += cfg.interval_s
            else:
                self._candidate, self._dwell_s = nearest, cfg.interval_s
            # The small tolerance keeps min_dwell_s = n * interval_s exact in floating point.
            if self._dwell_s >= cfg.min_dwell_s - 1e-9 * cfg.interval_s:
                self._mode, switched = nearest, True
                self._candidate, self._dwell_s = None, 0.0
        else:
            self._candidate, self._dwell_s = None, 0.0

        if self._mode is None or in_transition:
            confidence = 0.0
        else:
            confidence = float(self._model.memberships(x, cfg.min_spread_rel)[self._mode])
        self._last = ModeState(
            mode=self.mode,
            confidence=confidence,
            switched=switched,
            in_transition=in_transition,
            nearest=TRANSITION if in_transition else self._model.names[nearest],
            distance=float("nan") if self._mode is None else float(dist[self._mode]),
        )
        return self._last
