"""Translations of the user interface (Qt translation files).

``energyopt_zh_CN.ts`` is the source of the Chinese translation, edited with
Qt Linguist (``.venv/bin/pyside6-linguist``); ``energyopt_zh_CN.qm`` is its
compiled form, committed and loaded at start.  After changing user-visible
strings in ``gui/``::

    .venv/bin/python -m gui.i18n.build      # pyside6-lupdate, then pyside6-lrelease

refreshes the ``.ts`` from the sources (new strings appear as unfinished,
removed ones are dropped), and compiles the ``.qm``.  Translate the unfinished
entries, then run it again.  ``tests/gui/test_i18n.py`` fails while the ``.ts``
misses a string of the sources, has an unfinished entry, or the ``.qm`` is
older than the ``.ts``.

Strings are marked with ``self.tr("...")`` in widgets (the context is the
class name) or ``QCoreApplication.translate("Context", "...")``; arguments
are filled in after translation with ``.replace("%1", value)``, so the
translator can move them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from energyopt.appstate.language import LANGUAGES, resolve_language

__all__ = [
    "I18N_DIR",
    "LanguageManager",
    "language_manager",
    "qm_path",
    "system_locale_name",
    "ts_path",
]

I18N_DIR = Path(__file__).resolve().parent
"""Folder of the translation files."""
CATALOGUE = "energyopt"
"""Base name of the translation files."""


def ts_path(language: str) -> Path:
    """Return the translation source (``.ts``) of a language."""
    return I18N_DIR / f"{CATALOGUE}_{language}.ts"


def qm_path(language: str) -> Path:
    """Return the compiled translation (``.qm``) of a language."""
    return I18N_DIR / f"{CATALOGUE}_{language}.qm"


def system_locale_name() -> str:
    """Return the system's locale name as Qt sees it, e.g. ``"zh_CN"``."""
    return QLocale.system().name()


class LanguageManager:
    """Installs the translators of one language into the application.

    Installing a translator makes Qt send ``QEvent.LanguageChange`` to every
    widget, whose ``changeEvent`` retranslates it: the language switches at
    run time without restart.

    Parameters
    ----------
    app : QCoreApplication
        The application.
    system_locale : str, optional
        Locale that ``"auto"`` follows; :func:`system_locale_name` if omitted.
    """

    def __init__(self, app: QCoreApplication, system_locale: str | None = None) -> None:
        self._app = app
        self.system_locale = system_locale or system_locale_name()
        self._translators: list[QTranslator] = []
        self.language = "en"
        """The language in force (English is the source language: no translator)."""

    def resolve(self, preference: str) -> str:
        """Return the language a preference (``"auto"``, ``"en"``, ``"zh_CN"``) means here."""
        return resolve_language(preference, self.system_locale)

    def apply(self, preference: str) -> str:
        """Switch the application to a language preference; return the language used.

        Raises
        ------
        ValueError
            If the preference is unknown.
        FileNotFoundError
            If the compiled translation of the language is missing.
        """
        language = self.resolve(preference)
        if language == self.language and (language == "en" or self._translators):
            return language
        for translator in self._translators:
            self._app.removeTranslator(translator)
        self._translators = []
        if language != "en":
            path = qm_path(language)
            own = QTranslator()
            if not own.load(str(path)):
                raise FileNotFoundError(f"compiled translation {path} is missing or unreadable")
            self._translators.append(own)
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            base = QTranslator()
            # Qt's own strings (standard buttons, file dialogs); optional.
            if base.load(f"qtbase_{language}", qt_dir):
                self._translators.append(base)
            for translator in self._translators:
                self._app.installTranslator(translator)
        QLocale.setDefault(QLocale(language if language != "en" else "en_GB"))
        self.language = language
        return language

    @staticmethod
    def languages() -> tuple[str, ...]:
        """The languages available."""
        return LANGUAGES


_SHARED: list[LanguageManager] = []


def language_manager() -> LanguageManager:
    """Return the application's shared :class:`LanguageManager` (created on first use).

    Translators are global to the application, so every window uses this one.

    Raises
    ------
    RuntimeError
        If no ``QCoreApplication`` exists yet.
    """
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication before the language manager")
    if not _SHARED or _SHARED[0]._app is not app:
        _SHARED[:] = [LanguageManager(app)]
    return _SHARED[0]
