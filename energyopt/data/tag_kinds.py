"""What a historian tag measures: its *kind*.

The historian format's optional ``kind`` attribute and a project binding's
``kind`` key use the same words (:data:`TAG_KINDS`).  The kind selects
defaults that depend on the nature of the signal: the resampling aggregation
(:mod:`energyopt.data.resample`) and the data-quality checks
(:class:`energyopt.data.quality.QualityPolicy`, where setpoints, states and
counters legitimately hold still for hours).
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["KIND_ALIASES", "TAG_KINDS", "TagKind", "canonical_kind"]

#: What a tag measures.
TagKind = Literal[
    "flow",
    "power",
    "heat",
    "temperature",
    "pressure",
    "level",
    "concentration",
    "property",
    "position",
    "state",
    "status",
    "mode",
    "setpoint",
    "counter",
    "price",
]
TAG_KINDS: tuple[str, ...] = get_args(TagKind)

#: Other spellings found in historian files, mapped to a word of :data:`TAG_KINDS`.
KIND_ALIASES: dict[str, str] = {
    "totaliser": "counter",
    "totalizer": "counter",
    "tariff": "price",
}


def canonical_kind(kind: str | None) -> str | None:
    """Return the word of :data:`TAG_KINDS` a ``kind`` attribute means, or ``None``.

    Parameters
    ----------
    kind : str or None
        A tag's ``kind`` (case and surrounding blanks ignored; aliases such as
        ``totaliser`` accepted).

    Returns
    -------
    str or None
        The canonical kind; ``None`` for a missing, empty or unknown kind.
    """
    if kind is None:
        return None
    word = kind.strip().lower()
    word = KIND_ALIASES.get(word, word)
    return word if word in TAG_KINDS else None
