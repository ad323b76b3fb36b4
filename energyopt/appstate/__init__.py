"""Qt-free application state of the desktop app (the "model" of model/view).

Plain Python objects that emit :mod:`psygnal` signals; the widgets in
``gui/`` take them and connect to their signals, as napari's viewer model
does.  Nothing here imports Qt, so the state can be driven and tested without
a display, and persisted by any front end (the GUI stores it in QSettings).

- :class:`SessionState`: the open project and historian file, the replay time
  and the UI language preference.
- :class:`RecentFiles`: most-recently-used project and historian paths.
- :class:`HistorianSummary` and :func:`quality_flags`: what the tag browser shows.
"""

from __future__ import annotations

from energyopt.appstate.historian import HistorianSummary, TagRow, quality_flags
from energyopt.appstate.language import LANGUAGES, resolve_language
from energyopt.appstate.recent import RecentFiles
from energyopt.appstate.session import SessionSnapshot, SessionState

__all__ = [
    "LANGUAGES",
    "HistorianSummary",
    "RecentFiles",
    "SessionSnapshot",
    "SessionState",
    "TagRow",
    "quality_flags",
    "resolve_language",
]
