"""The UI language preference and how it resolves against the system locale."""

from __future__ import annotations

__all__ = ["AUTO", "LANGUAGES", "resolve_language"]

#: Preference value meaning "follow the system locale".
AUTO = "auto"

#: Languages the user interface is translated into (Qt locale names).
LANGUAGES: tuple[str, ...] = ("en", "zh_CN")


def resolve_language(preference: str, system_locale: str) -> str:
    """Return the UI language to use.

    Parameters
    ----------
    preference : str
        ``"auto"`` or one of :data:`LANGUAGES`.
    system_locale : str
        The system's locale name, for example ``"zh_CN"``, ``"zh_TW"``,
        ``"en_GB"`` or ``"de_DE.UTF-8"``.

    Returns
    -------
    str
        One of :data:`LANGUAGES`: the preference if it is a language, else
        Chinese for any ``zh*`` locale and English otherwise.

    Raises
    ------
    ValueError
        If ``preference`` is neither ``"auto"`` nor a known language.
    """
    if preference in LANGUAGES:
        return preference
    if preference != AUTO:
        raise ValueError(
            f"unknown UI language {preference!r}; choose one of: {AUTO}, {', '.join(LANGUAGES)}"
        )
    return "zh_CN" if system_locale.lower().startswith("zh") else "en"
