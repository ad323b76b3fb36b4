"""Tag bindings (``[bindings.<name>]``) and their check against a historian file.

A binding maps one historian tag to one model variable and says what the
variable is to the controller (its *role*) and which bands apply to it.  All
numbers of a binding (``range``, ``normal``, ``hard``, ``limits``,
``rate_limit_per_min``) are in the binding's ``unit``, the engineering unit
operators read; energyopt converts them to SI when it builds a controller.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Literal, Protocol, Self, get_args

from pydantic import Field, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from energyopt.data.quality_policy import KindPolicy, QualityPolicy
from energyopt.data.tag_kinds import TAG_KINDS, TagKind
from energyopt.errors import DataError, ProjectBindingError, UnitConversionError
from energyopt.project.base import Band, Issue, Number, SchemaModel, fmt_number, issues_error

if TYPE_CHECKING:
    from energyopt.data.quality import TagExpectation
    from energyopt.project.model import Project

__all__ = [
    "NODE_VARIABLES",
    "ROLES",
    "TAG_KINDS",
    "TagBinding",
    "check_bindings",
    "tag_expectations",
    "tag_policy",
]

#: Role of the variable for the controller.
Role = Literal["measurement", "disturbance", "manipulated", "controlled"]
ROLES: tuple[str, ...] = get_args(Role)

#: Variables of a medium node that can be bound (``hp_steam.pressure``).
NODE_VARIABLES: tuple[str, ...] = ("demand", "supply", "pressure", "temperature", "lhv")

_VARIABLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$")

# Keys allowed only for one role.
_ROLE_KEYS: dict[str, str] = {
    "normal": "controlled",
    "hard": "controlled",
    "priority": "controlled",
    "limits": "manipulated",
    "rate_limit_per_min": "manipulated",
}


def _inside(inner: tuple[float, float], outer: tuple[float, float]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def _fmt_band(band: tuple[float, float]) -> str:
    return f"[{fmt_number(band[0])}, {fmt_number(band[1])}]"


class TagBinding(SchemaModel):
    """A ``[bindings.<name>]`` table: one historian tag bound to one model variable."""

    variable: StrictStr = Field(
        description="Model variable: '<unit>.<variable>' or '<node>.<variable>' "
        f"(node variables: {', '.join(NODE_VARIABLES)})"
    )
    tag: StrictStr = Field(description="Historian tag name (BFG.HOLDER.LEVEL)")
    unit: StrictStr = Field(description="Engineering unit of the tag (Nm3/h, t/h, MW, %, kPa)")
    kind: TagKind = Field(description=f"What the tag measures: {', '.join(TAG_KINDS)}")
    role: Role = Field(
        description="measurement, disturbance (uncontrolled input), manipulated (MV), "
        "controlled (CV)"
    )
    description: StrictStr = Field("", description="Free text")
    range: Band | None = Field(
        None, description="Plausible signal range [unit]; values outside are bad data"
    )
    quality: KindPolicy | None = Field(
        None,
        description="Data-quality settings of this tag, over those of its kind "
        "(same keys as [data_quality.kinds.<kind>]; e.g. spike = false for a flare flow)",
    )
    normal: Band | None = Field(
        None, description="Normal operating band, soft (controlled only) [unit]"
    )
    priority: Annotated[int, Field(strict=True, ge=1, le=99)] | None = Field(
        None, description="Rank of the normal band, 1 = most important (controlled only)"
    )
    hard: Band | None = Field(
        None, description="Hard limits, never to be crossed (controlled only) [unit]"
    )
    limits: Band | None = Field(
        None, description="Lowest and highest value the controller may set (manipulated) [unit]"
    )
    rate_limit_per_min: Number | None = Field(
        None, gt=0.0, description="Largest change per minute (manipulated) [unit/min]"
    )

    @field_validator("variable")
    @classmethod
    def _variable_path(cls, value: str) -> str:
        if not _VARIABLE_RE.match(value):
            raise PydanticCustomError(
                "variable",
                "expected '<unit or node>.<variable>' such as 'boiler_1.flow_steam', got '{v}'",
                {"v": value},
            )
        return value

    @field_validator("tag")
    @classmethod
    def _tag_name(cls, value: str) -> str:
        from energyopt.data.format import validate_tag_name

        try:
            return validate_tag_name(value)
        except DataError as exc:
            raise PydanticCustomError("tag", "{reason}", {"reason": str(exc)}) from None

    @field_validator("unit")
    @classmethod
    def _unit_known(cls, value: str) -> str:
        from energyopt.data.units import parse_unit

        try:
            parse_unit(value)
        except UnitConversionError as exc:
            raise PydanticCustomError("unit", "{reason}", {"reason": str(exc)}) from None
        return value

    @model_validator(mode="after")
    def _bands(self) -> Self:
        issues: list[Issue] = [
            ((key,), f"only for role '{role}', not '{self.role}'")
            for key, role in _ROLE_KEYS.items()
            if getattr(self, key) is not None and self.role != role
        ]
        if issues:
            raise issues_error(issues)
        if (
            self.normal is not None
            and self.hard is not None
            and not _inside(self.normal, self.hard)
        ):
            issues.append(
                (
                    ("normal",),
                    f"{_fmt_band(self.normal)} must lie inside hard {_fmt_band(self.hard)}",
                )
            )
        if self.range is not None:
            issues.extend(
                (
                    (key,),
                    f"{_fmt_band(band)} must lie inside range {_fmt_band(self.range)}",
                )
                for key, band in (("hard", self.hard), ("limits", self.limits))
                if band is not None and not _inside(band, self.range)
            )
        if self.priority is not None and self.normal is None:
            issues.append((("priority",), "ranks the normal band: give 'normal' too"))
        if issues:
            raise issues_error(issues)
        return self

    @property
    def priority_rank(self) -> int:
        """Priority of the normal band (1 if not given)."""
        return self.priority if self.priority is not None else 1


# ---------------------------------------------------------------- historian check


class _HasUnit(Protocol):
    @property
    def unit(self) -> str: ...


class _HasTags(Protocol):
    @property
    def tags(self) -> Mapping[str, _HasUnit]: ...


def check_bindings(
    project: Project,
    reader_or_taginfos: _HasTags | Mapping[str, _HasUnit],
) -> list[str]:
    """Check every bound tag against the tags of a historian file.

    Parameters
    ----------
    project : Project
        A validated project.
    reader_or_taginfos : HistorianReader or mapping
        An open :class:`energyopt.data.reader.HistorianReader` (its ``tags``
        are used), or a mapping of tag name to an object with a ``unit``
        attribute (:class:`energyopt.data.format.TagInfo`).

    Returns
    -------
    list of str
        Warnings that do not prevent use, for example a tag recorded in a
        different but convertible unit; one line each.

    Raises
    ------
    ProjectBindingError
        Listing, one per line, every bound tag missing from the historian
        (with the closest tag names) and every unit that cannot be converted.
    """
    from energyopt.data.units import is_compatible

    tags: Mapping[str, _HasUnit] = (
        reader_or_taginfos if isinstance(reader_or_taginfos, Mapping) else reader_or_taginfos.tags
    )
    source = project.source or "project"
    historian = getattr(reader_or_taginfos, "path", None)
    where = f"'{historian}'" if historian is not None else "the historian"
    errors: list[str] = []
    warnings: list[str] = []
    for name, binding in project.bindings.items():
        info = tags.get(binding.tag)
        if info is None:
            close = difflib.get_close_matches(binding.tag, list(tags), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            errors.append(
                f"{source}: bindings.{name}.tag: tag '{binding.tag}' is not in {where}{hint}"
            )
            continue
        historian_unit = str(info.unit)
        try:
            compatible = is_compatible(historian_unit, binding.unit)
        except UnitConversionError as exc:
            errors.append(f"{source}: bindings.{name}.unit: historian {exc}")
            continue
        if not compatible:
            errors.append(
                f"{source}: bindings.{name}.unit: '{binding.unit}' is not compatible with "
                f"'{historian_unit}', the unit of tag '{binding.tag}' in {where}"
            )
        elif historian_unit.strip() != binding.unit.strip():
            warnings.append(
                f"{source}: bindings.{name}: tag '{binding.tag}' is recorded in "
                f"'{historian_unit}', converted to '{binding.unit}'"
            )
    if errors:
        raise ProjectBindingError("\n".join(errors))
    return warnings


def tag_expectations(project: Project) -> dict[str, TagExpectation]:
    """Return what each bound tag should look like, for the data-quality checks.

    Parameters
    ----------
    project : Project
        A validated project.

    Returns
    -------
    dict of str to TagExpectation
        Historian tag name -> the binding's ``kind``, ``unit``, ``range`` (in
        that unit) and ``quality`` settings, as :func:`energyopt.data.inspect.inspect_file` and
        :func:`energyopt.data.quality.scanner_for_tag` take them.
    """
    from energyopt.data.quality import TagExpectation

    return {
        binding.tag: TagExpectation(
            kind=binding.kind, unit=binding.unit, range=binding.range, quality=binding.quality
        )
        for binding in project.bindings.values()
    }


def tag_policy(project: Project, tag: str, file_kind: str | None = None) -> QualityPolicy:
    """Return the data-quality policy of one historian tag of a project.

    Parameters
    ----------
    project : Project
        A validated project.
    tag : str
        Historian tag name.
    file_kind : str, optional
        The tag's ``kind`` attribute in the historian file, used when no
        binding names the tag.

    Returns
    -------
    QualityPolicy
        ``[data_quality]`` resolved for the binding's kind and its own
        ``quality`` table (:meth:`QualityPolicy.for_tag`); pass it with
        ``kind=None``.
    """
    binding = next((b for b in project.bindings.values() if b.tag == tag), None)
    if binding is None:
        return project.data_quality.for_tag(file_kind)
    return project.data_quality.for_tag(binding.kind, binding.quality)
