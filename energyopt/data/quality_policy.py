"""The data-quality policy: which checks run, their thresholds, and the action on each issue.

:class:`QualityPolicy` is the ``[data_quality]`` table of a project file.
Every setting is expressible in TOML: each check has an on/off switch
(``gap``, ``frozen``, ``spike``) instead of a "none" threshold, numbers are
strict (a string such as ``"5"`` is refused; durations also take a string
with a unit, ``"30 min"``), and unknown keys are errors.

Per tag kind
------------
Some signals legitimately hold still or jump: a setpoint stays put for hours,
a state or mode flips between a few values, a counter stops while its flow
does.  The policy therefore applies per tag kind
(:data:`energyopt.data.tag_kinds.TAG_KINDS`): :meth:`QualityPolicy.for_kind`
returns the policy for one kind, built as

1. the top-level settings, then
2. the built-in defaults of the kind (:data:`DEFAULT_KIND_POLICIES`), then
3. the project's ``[data_quality.kinds.<kind>]`` overrides,

later steps winning key by key.  A tag without a (known) kind gets the
top-level settings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from energyopt.data.quantity import DurationS
from energyopt.data.tag_kinds import TagKind, canonical_kind

__all__ = ["DEFAULT_KIND_POLICIES", "KindPolicy", "PolicyAction", "QualityPolicy"]

#: What :func:`~energyopt.data.quality.apply_policy` does with a sample that has an issue.
PolicyAction = Literal["keep", "drop", "interpolate", "mark_bad"]


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise PydanticCustomError("odd", "spike_window must be odd, got {value}", {"value": value})
    return value


# Value types shared by the top-level policy and the per-kind overrides, so
# that each constraint is written once.
_Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
_NonNegative = Annotated[_Number, Field(ge=0)]
_PositiveSeconds = Annotated[DurationS, Field(gt=0)]
_NonNegativeSeconds = Annotated[DurationS, Field(ge=0)]
_MinSamples = Annotated[int, Field(strict=True, ge=2)]
_Window = Annotated[int, Field(strict=True, ge=3), AfterValidator(_odd)]
_QualityCode = Annotated[int, Field(strict=True, ge=0, le=255)]

#: Meaning of each setting, shared by the top-level keys and the per-kind overrides.
_DOC: dict[str, str] = {
    "gap": "Report gaps in the time axis",
    "max_gap_s": "Gap threshold [s]; omitted: gap_factor times the nominal sampling interval",
    "gap_factor": "Gap threshold in sampling intervals when max_gap_s is omitted",
    "sampling_estimate_intervals": "Time steps at the series start whose median estimates "
    "the sampling interval",
    "frozen": "Report frozen (unchanging) runs",
    "frozen_min_duration_s": "Shortest unchanging run reported as frozen [s]",
    "frozen_min_samples": "Fewest samples of a frozen run",
    "frozen_tolerance_abs": "Largest step between samples still 'unchanged' [tag unit]",
    "frozen_tolerance_rel": "Largest step still 'unchanged', relative to the value [-]",
    "spike": "Report spikes (Hampel identifier)",
    "spike_z": "Robust z-score above which a sample is a spike [-]",
    "spike_window": "Rolling median/MAD window, odd [samples]",
    "spike_min_scale_abs": "Lower bound of the spike scale (for flat data) [tag unit]",
    "spike_min_scale_rel": "Lower bound of the spike scale relative to |median| [-]",
    "bad_quality_codes": "Input quality codes reported as bad_quality_flag",
    "on_nan": "Action on non-finite samples",
    "on_spike": "Action on spikes",
    "on_frozen": "Action on frozen runs",
    "on_out_of_range": "Action on samples outside the expected range",
    "on_bad_quality": "Action on samples whose input quality code is bad",
    "interpolate_max_gap_s": "Longest span between good neighbours bridged by interpolation [s]",
}


class _StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindPolicy(_StrictModel):
    """Settings of the data-quality checks for one tag kind; omitted keys inherit.

    Each attribute overrides the :class:`QualityPolicy` attribute of the same
    name for tags of the kind; ``None`` (omitted in TOML) keeps the inherited value.
    """

    frozen: StrictBool | None = Field(None, description=_DOC["frozen"])
    frozen_min_duration_s: _PositiveSeconds | None = Field(
        None, description=_DOC["frozen_min_duration_s"]
    )
    frozen_min_samples: _MinSamples | None = Field(None, description=_DOC["frozen_min_samples"])
    frozen_tolerance_abs: _NonNegative | None = Field(
        None, description=_DOC["frozen_tolerance_abs"]
    )
    frozen_tolerance_rel: _NonNegative | None = Field(
        None, description=_DOC["frozen_tolerance_rel"]
    )
    spike: StrictBool | None = Field(None, description=_DOC["spike"])
    spike_z: Annotated[_Number, Field(gt=0)] | None = Field(None, description=_DOC["spike_z"])
    spike_window: _Window | None = Field(None, description=_DOC["spike_window"])
    spike_min_scale_abs: _NonNegative | None = Field(None, description=_DOC["spike_min_scale_abs"])
    spike_min_scale_rel: _NonNegative | None = Field(None, description=_DOC["spike_min_scale_rel"])
    on_nan: PolicyAction | None = Field(None, description=_DOC["on_nan"])
    on_spike: PolicyAction | None = Field(None, description=_DOC["on_spike"])
    on_frozen: PolicyAction | None = Field(None, description=_DOC["on_frozen"])
    on_out_of_range: PolicyAction | None = Field(None, description=_DOC["on_out_of_range"])
    on_bad_quality: PolicyAction | None = Field(None, description=_DOC["on_bad_quality"])
    interpolate_max_gap_s: _NonNegativeSeconds | None = Field(
        None, description=_DOC["interpolate_max_gap_s"]
    )

    def overrides(self) -> dict[str, Any]:
        """Return the settings given (not ``None``), by attribute name."""
        return {name: value for name, value in self if value is not None}


#: Built-in per-kind defaults, applied on top of the top-level settings (see
#: the module docstring).  Setpoints, discrete signals (state, status, mode),
#: counters and prices hold still for hours by design, so ``frozen`` is off;
#: discrete signals, counters (resets, roll-overs) and prices (tariff steps)
#: jump by design, so ``spike`` is off for them too.
DEFAULT_KIND_POLICIES: dict[str, KindPolicy] = {
    "setpoint": KindPolicy(frozen=False),
    "state": KindPolicy(frozen=False, spike=False),
    "status": KindPolicy(frozen=False, spike=False),
    "mode": KindPolicy(frozen=False, spike=False),
    "counter": KindPolicy(frozen=False, spike=False),
    "price": KindPolicy(frozen=False, spike=False),
}


class QualityPolicy(_StrictModel):
    """Which data-quality checks run, their thresholds, and the action on each issue.

    Immutable; unknown keys, strings where numbers belong and out-of-range
    values are rejected (pydantic ``ValidationError``).  Durations (``*_s``)
    take a number of seconds or a string with a unit (``"30 min"``).

    Attributes
    ----------
    gap : bool
        Report ``gap`` findings on the time axis. Default true.
    max_gap_s : float or None
        Gap threshold [s]. Default ``None`` (omit the key in TOML):
        ``gap_factor`` times the nominal sampling interval.
    gap_factor : float
        Gap threshold in sampling intervals when ``max_gap_s`` is ``None``. Default 5.
    sampling_estimate_intervals : int
        Number of time steps at the series start whose median estimates the
        sampling interval when the scanner is not given one. Default 1000.
    frozen : bool
        Report ``frozen`` runs. Default true (off for some kinds, see
        :data:`DEFAULT_KIND_POLICIES`).
    frozen_min_duration_s : float
        Shortest unchanged run reported as ``frozen`` [s]. Default 3600.
    frozen_min_samples : int
        Fewest samples of a frozen run. Default 3.
    frozen_tolerance_abs : float
        Largest step between consecutive samples still counted as unchanged
        [tag unit]. Default 0 (exact repeats).
    frozen_tolerance_rel : float
        Same, relative to the previous value [-]. Default 0. The tolerance is
        ``frozen_tolerance_abs + frozen_tolerance_rel * |previous|``.
    spike : bool
        Report ``spike`` findings. Default true.
    spike_z : float
        Robust z-score above which a sample is a ``spike`` [-]. Default 8.
    spike_window : int
        Odd length of the rolling median/MAD window [samples]. Default 31.
    spike_min_scale_abs : float
        Lower bound of the spike scale [tag unit]. Default 0.
    spike_min_scale_rel : float
        Lower bound of the spike scale relative to ``|median|`` [-]. Default 0.
    bad_quality_codes : tuple of int
        Input quality codes reported as ``bad_quality_flag``. Default ``(1,)``.
    on_nan, on_spike, on_frozen, on_out_of_range, on_bad_quality : str
        Action (``"keep"``, ``"drop"``, ``"interpolate"``, ``"mark_bad"``) on
        non-finite samples (default ``"drop"``), spikes, frozen runs,
        out-of-range samples (default ``"mark_bad"`` each) and samples whose
        input code is in ``bad_quality_codes`` (default ``"keep"``).
    interpolate_max_gap_s : float
        Longest time between the two good neighbours that ``interpolate``
        bridges [s]; longer holes become NaN. Default 300.
    kinds : dict of str to KindPolicy
        Overrides per tag kind (``[data_quality.kinds.setpoint]``); see
        :meth:`for_kind`.
    """

    gap: StrictBool = Field(True, description=_DOC["gap"])
    max_gap_s: _PositiveSeconds | None = Field(None, description=_DOC["max_gap_s"])
    gap_factor: Annotated[_Number, Field(gt=1)] = Field(5.0, description=_DOC["gap_factor"])
    sampling_estimate_intervals: Annotated[int, Field(strict=True, ge=1)] = Field(
        1000, description=_DOC["sampling_estimate_intervals"]
    )
    frozen: StrictBool = Field(True, description=_DOC["frozen"])
    frozen_min_duration_s: _PositiveSeconds = Field(
        3600.0, description=_DOC["frozen_min_duration_s"]
    )
    frozen_min_samples: _MinSamples = Field(3, description=_DOC["frozen_min_samples"])
    frozen_tolerance_abs: _NonNegative = Field(0.0, description=_DOC["frozen_tolerance_abs"])
    frozen_tolerance_rel: _NonNegative = Field(0.0, description=_DOC["frozen_tolerance_rel"])
    spike: StrictBool = Field(True, description=_DOC["spike"])
    spike_z: Annotated[_Number, Field(gt=0)] = Field(8.0, description=_DOC["spike_z"])
    spike_window: _Window = Field(31, description=_DOC["spike_window"])
    spike_min_scale_abs: _NonNegative = Field(0.0, description=_DOC["spike_min_scale_abs"])
    spike_min_scale_rel: _NonNegative = Field(0.0, description=_DOC["spike_min_scale_rel"])
    bad_quality_codes: tuple[_QualityCode, ...] = Field((1,), description=_DOC["bad_quality_codes"])
    on_nan: PolicyAction = Field("drop", description=_DOC["on_nan"])
    on_spike: PolicyAction = Field("mark_bad", description=_DOC["on_spike"])
    on_frozen: PolicyAction = Field("mark_bad", description=_DOC["on_frozen"])
    on_out_of_range: PolicyAction = Field("mark_bad", description=_DOC["on_out_of_range"])
    on_bad_quality: PolicyAction = Field("keep", description=_DOC["on_bad_quality"])
    interpolate_max_gap_s: _NonNegativeSeconds = Field(
        300.0, description=_DOC["interpolate_max_gap_s"]
    )
    kinds: dict[TagKind, KindPolicy] = Field(
        default_factory=dict,
        description="Settings for tags of one kind, overriding the keys above and the "
        "built-in kind defaults (frozen off for setpoint, state, status, mode, counter and "
        "price; spike off for the same kinds but setpoint)",
    )

    @field_validator("kinds")
    @classmethod
    def _drop_empty(cls, value: dict[str, KindPolicy]) -> dict[str, KindPolicy]:
        # An empty table changes nothing; dropping it keeps a save/load round
        # trip equal (the writer leaves empty tables out).
        return {kind: policy for kind, policy in value.items() if policy.overrides()}

    def for_kind(self, kind: str | None) -> QualityPolicy:
        """Return the policy that applies to tags of one kind.

        Parameters
        ----------
        kind : str or None
            The tag's kind (the file's ``kind`` attribute or the binding's
            ``kind``; case-insensitive, aliases such as ``totaliser`` accepted).

        Returns
        -------
        QualityPolicy
            This policy updated with the built-in defaults of the kind
            (:data:`DEFAULT_KIND_POLICIES`) and then with ``kinds[kind]``;
            this policy itself for ``None`` or an unknown kind.  Applying it
            twice gives the same result.
        """
        key = canonical_kind(kind)
        if key is None:
            return self
        update: dict[str, Any] = {}
        project = next((table for name, table in self.kinds.items() if name == key), None)
        for layer in (DEFAULT_KIND_POLICIES.get(key), project):
            if layer is not None:
                update.update(layer.overrides())
        if not update or all(getattr(self, name) == value for name, value in update.items()):
            return self
        # The values were validated by KindPolicy with the same types as here.
        return self.model_copy(update=update)

    def for_tag(self, kind: str | None, overrides: KindPolicy | None = None) -> QualityPolicy:
        """Return the policy of one tag: its kind's, then the tag's own settings.

        Parameters
        ----------
        kind : str or None
            The tag's kind, as for :meth:`for_kind`.
        overrides : KindPolicy, optional
            Settings of this one tag (a project binding's ``quality`` table),
            applied last: the engineer knows that a flare flow opens in bursts
            or that a valve position rests at 0 % for days.

        Returns
        -------
        QualityPolicy
            The resolved policy; pass it with ``kind=None`` to the scanner and
            :func:`~energyopt.data.quality.apply_policy` so the kind's defaults
            are not applied again over the tag's settings.
        """
        policy = self.for_kind(kind)
        update = overrides.overrides() if overrides is not None else {}
        if not update:
            return policy
        # Both layers were validated by KindPolicy with the same types as here.
        return policy.model_copy(update=update)
