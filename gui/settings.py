"""Persistent settings of the desktop app (QSettings): recent files, session, layout, language.

The Qt-free :class:`~energyopt.appstate.SessionState` knows nothing of
storage; :class:`AppSettings` reads it from and writes it to QSettings.  Tests
and the ``--settings`` command-line option use an INI file instead of the
user's real settings (:meth:`AppSettings.from_ini`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from energyopt.appstate import SessionSnapshot, SessionState
from energyopt.appstate.language import AUTO, LANGUAGES
from energyopt.runtime import APP_NAME

__all__ = ["ORGANISATION", "AppSettings"]

ORGANISATION = APP_NAME
"""QSettings organisation and application names."""

_RECENT_PROJECTS = "recent/projects"
_RECENT_HISTORIANS = "recent/historians"
_LANGUAGE = "ui/language"
_GEOMETRY = "window/geometry"
_STATE = "window/state"
_SESSION = "session"
_TUNE_SCHEDULER = "tune/scheduler"


def _as_list(value: Any) -> list[str]:
    """QSettings returns a one-item list from an INI file as a plain string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class AppSettings:
    """Typed access to the app's QSettings.

    Parameters
    ----------
    qsettings : QSettings, optional
        The store; the user's native settings of energyopt if omitted.
    """

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.qsettings = qsettings if qsettings is not None else QSettings(ORGANISATION, APP_NAME)

    @classmethod
    def from_ini(cls, path: str | Path) -> AppSettings:
        """Settings kept in an INI file (tests, portable installs)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    # ---------------------------------------------------------- session
    def new_session(self) -> SessionState:
        """Return a :class:`SessionState` with the stored recent files and language."""
        return SessionState(
            recent_projects=_as_list(self.qsettings.value(_RECENT_PROJECTS)),
            recent_historians=_as_list(self.qsettings.value(_RECENT_HISTORIANS)),
            language=self.language(),
        )

    def save_recent(self, session: SessionState) -> None:
        """Store the recent-file lists."""
        self.qsettings.setValue(_RECENT_PROJECTS, [str(p) for p in session.recent_projects.paths])
        self.qsettings.setValue(
            _RECENT_HISTORIANS, [str(p) for p in session.recent_historians.paths]
        )
        self.qsettings.sync()

    def language(self) -> str:
        """The stored language preference (``"auto"`` if absent or unknown)."""
        value = str(self.qsettings.value(_LANGUAGE, AUTO))
        return value if value in (AUTO, *LANGUAGES) else AUTO

    def set_language(self, preference: str) -> None:
        """Store the language preference."""
        self.qsettings.setValue(_LANGUAGE, preference)
        self.qsettings.sync()

    def last_session(self) -> SessionSnapshot:
        """The session stored by :meth:`save_session` (empty if none)."""
        self.qsettings.beginGroup(_SESSION)
        try:
            data = {key: self.qsettings.value(key) for key in self.qsettings.childKeys()}
        finally:
            self.qsettings.endGroup()
        return SessionSnapshot.from_dict(data)

    def save_session(self, snapshot: SessionSnapshot) -> None:
        """Store the open files and replay time for the next start."""
        self.qsettings.remove(_SESSION)
        self.qsettings.beginGroup(_SESSION)
        for key, value in snapshot.to_dict().items():
            self.qsettings.setValue(key, value)
        self.qsettings.endGroup()
        self.qsettings.sync()

    # -------------------------------------------------------------- tune
    def tune_scheduler(self) -> str:
        """The dask scheduler address of the tuning panel (``""``: local worker processes)."""
        return str(self.qsettings.value(_TUNE_SCHEDULER, "") or "")

    def set_tune_scheduler(self, address: str) -> None:
        """Store the dask scheduler address of the tuning panel (``""``: local workers).

        Parameters
        ----------
        address : str
            The address (``tcp://host:8786``), or ``""``.
        """
        self.qsettings.setValue(_TUNE_SCHEDULER, address)
        self.qsettings.sync()

    # ------------------------------------------------------------ window
    def window_geometry(self) -> QByteArray | None:
        """Stored main-window geometry, ``None`` if none."""
        value = self.qsettings.value(_GEOMETRY)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        """Stored dock and toolbar layout, ``None`` if none."""
        value = self.qsettings.value(_STATE)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        """Store the main window's geometry and dock layout."""
        self.qsettings.setValue(_GEOMETRY, geometry)
        self.qsettings.setValue(_STATE, state)
        self.qsettings.sync()
