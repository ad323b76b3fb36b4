"""A font able to show Chinese, or a clear note of what to install.

Qt falls back per glyph to any installed font that has it, but a Linux box
without a CJK font shows boxes.  :func:`find_cjk_family` looks for a font of
the Simplified Chinese writing system, preferring well-known families;
:func:`apply_language_font` uses it for the Chinese UI or returns a warning
that names the Debian package to install.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

__all__ = [
    "CJK_FONT_PACKAGE",
    "PREFERRED_CJK_FAMILIES",
    "apply_language_font",
    "cjk_families",
    "find_cjk_family",
]

CJK_FONT_PACKAGE = "fonts-noto-cjk"
"""Debian package with a complete CJK font (the smaller alternative is fonts-wqy-microhei)."""

PREFERRED_CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
"""CJK families in order of preference (Linux, then Windows and macOS ones)."""


def cjk_families() -> list[str]:
    """Return the installed font families that cover Simplified Chinese."""
    return list(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def find_cjk_family(families: Sequence[str] | None = None) -> str | None:
    """Pick a CJK font family.

    Parameters
    ----------
    families : sequence of str, optional
        Families that cover Chinese; :func:`cjk_families` if omitted.

    Returns
    -------
    str or None
        The first of :data:`PREFERRED_CJK_FAMILIES` present (case-insensitive),
        else the first family given, else ``None``.
    """
    available = cjk_families() if families is None else list(families)
    by_lower = {family.lower(): family for family in available}
    for preferred in PREFERRED_CJK_FAMILIES:
        if preferred.lower() in by_lower:
            return by_lower[preferred.lower()]
    return available[0] if available else None


def apply_language_font(
    app: QApplication, language: str, default_font: QFont, families: Sequence[str] | None = None
) -> str | None:
    """Set the application font for a language.

    Parameters
    ----------
    app : QApplication
        The application.
    language : str
        ``"en"`` or ``"zh_CN"``.
    default_font : QFont
        The font to use for English (the application font at start).
    families : sequence of str, optional
        Families covering Chinese; the installed ones if omitted.

    Returns
    -------
    str or None
        A translated warning for the status bar if Chinese was asked for and
        no CJK font is installed, else ``None``.
    """
    if not language.startswith("zh"):
        app.setFont(default_font)
        return None
    family = find_cjk_family(families)
    if family is None:
        app.setFont(default_font)
        return QCoreApplication.translate(
            "Fonts",
            "No Chinese font found: Chinese text may show as boxes. "
            "Install one, e.g. the Debian package %1.",
        ).replace("%1", CJK_FONT_PACKAGE)
    font = QFont(default_font)
    font.setFamilies([family, *default_font.families()])
    app.setFont(font)
    return None
