"""The desktop session: open project, historian file, replay time, UI language.

:class:`SessionState` is the single Qt-free model the main window observes.
Opening a file either fully succeeds (state replaced, signal emitted, path
added to the recent list) or raises the :class:`~energyopt.errors.EnergyoptError`
of the loader and leaves the state untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from energyopt.appstate.historian import HistorianSummary, load_historian_summary
from energyopt.appstate.language import AUTO, resolve_language
from energyopt.appstate.recent import RecentFiles

if TYPE_CHECKING:
    from energyopt.data.quality_types import QualityFinding
    from energyopt.project import Project

__all__ = ["SessionSnapshot", "SessionState"]


@dataclass(frozen=True)
class SessionSnapshot:
    """What is restored on the next start: the open files and the replay time.

    Attributes
    ----------
    project_path : pathlib.Path or None
        The open project file.
    historian_path : pathlib.Path or None
        The open historian file.
    replay_time_ms : int or None
        Current replay time. [ms since epoch]
    """

    project_path: Path | None = None
    historian_path: Path | None = None
    replay_time_ms: int | None = None

    def to_dict(self) -> dict[str, str | int]:
        """Return a flat dict of strings and integers (absent items omitted)."""
        out: dict[str, str | int] = {}
        if self.project_path is not None:
            out["project"] = str(self.project_path)
        if self.historian_path is not None:
            out["historian"] = str(self.historian_path)
        if self.replay_time_ms is not None:
            out["replay_time_ms"] = self.replay_time_ms
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionSnapshot:
        """Rebuild a snapshot from :meth:`to_dict` output; malformed items are dropped.

        Settings files are edited by hand and written by older versions, so a
        value that is not usable is ignored rather than refused.
        """
        project = data.get("project")
        historian = data.get("historian")
        try:
            replay = int(data["replay_time_ms"]) if "replay_time_ms" in data else None
        except (TypeError, ValueError):
            replay = None
        return cls(
            project_path=Path(project) if isinstance(project, str) and project else None,
            historian_path=Path(historian) if isinstance(historian, str) and historian else None,
            replay_time_ms=replay,
        )


class SessionState:
    """Qt-free state of one desktop session.

    Parameters
    ----------
    recent_projects, recent_historians : iterable of path-like, optional
        Initial recent-file lists, newest first.
    language : str
        UI language preference: ``"auto"``, ``"en"`` or ``"zh_CN"``.

    Raises
    ------
    ValueError
        If ``language`` is not a known preference.
    """

    project_changed = Signal(object)
    """Emitted with the new :class:`~energyopt.project.Project` (or ``None`` when closed)."""
    historian_changed = Signal(object)
    """Emitted with the new :class:`HistorianSummary` (or ``None`` when closed)."""
    quality_changed = Signal(object)
    """Emitted with the :class:`HistorianSummary` once its quality findings are known."""
    replay_time_changed = Signal(object)
    """Emitted with the new replay time [ms since epoch] or ``None``."""
    language_changed = Signal(str)
    """Emitted with the new language preference."""

    def __init__(
        self,
        recent_projects: Iterable[str | Path] = (),
        recent_historians: Iterable[str | Path] = (),
        language: str = AUTO,
    ) -> None:
        resolve_language(language, "")  # validates
        self._language = language
        self.recent_projects = RecentFiles(paths=recent_projects)
        """Recently opened project files."""
        self.recent_historians = RecentFiles(paths=recent_historians)
        """Recently opened historian files."""
        self._project: Project | None = None
        self._project_path: Path | None = None
        self._historian: HistorianSummary | None = None
        self._replay_time_ms: int | None = None

    # ------------------------------------------------------------ project
    @property
    def project(self) -> Project | None:
        """The open project, ``None`` if none."""
        return self._project

    @property
    def project_path(self) -> Path | None:
        """The open project's file (absolute), ``None`` if none."""
        return self._project_path

    def open_project(self, path: str | Path) -> Project:
        """Load a project file and make it the session's project.

        Parameters
        ----------
        path : str or path-like
            Project TOML file.

        Returns
        -------
        Project
            The loaded project.

        Raises
        ------
        ProjectError
            If the file is missing, malformed or invalid (state unchanged).
        """
        from energyopt.project import load_project

        absolute = Path(path).absolute()
        project = load_project(absolute)
        self._project = project
        self._project_path = absolute
        self.recent_projects.add(absolute)
        self.project_changed.emit(project)
        return project

    def close_project(self) -> None:
        """Forget the open project."""
        if self._project is not None:
            self._project = None
            self._project_path = None
            self.project_changed.emit(None)

    # ---------------------------------------------------------- historian
    @property
    def historian(self) -> HistorianSummary | None:
        """Metadata of the open historian file, ``None`` if none."""
        return self._historian

    def open_historian(self, path: str | Path) -> HistorianSummary:
        """Read a historian file's metadata and make it the session's data.

        The file is opened read-only and closed again; the replay time moves
        into the file's time span (its start if none was set).

        Parameters
        ----------
        path : str or path-like
            Historian ``.h5`` file.

        Returns
        -------
        HistorianSummary
            Its metadata (quality findings follow with :meth:`set_quality_findings`).

        Raises
        ------
        DataError, HistorianFormatError
            If the file cannot be read as format v1 (state unchanged).
        """
        summary = load_historian_summary(path)
        self._historian = summary
        self.recent_historians.add(summary.path)
        self.historian_changed.emit(summary)
        start = summary.time_span_ms[0] if self._replay_time_ms is None else self._replay_time_ms
        self.replay_time_ms = start
        return summary

    def close_historian(self) -> None:
        """Forget the open historian file and the replay time."""
        if self._historian is not None:
            self._historian = None
            self.historian_changed.emit(None)
            self.replay_time_ms = None

    def set_quality_findings(self, path: str | Path, findings: Iterable[QualityFinding]) -> bool:
        """Attach the findings of a quality scan to the open historian file.

        Parameters
        ----------
        path : str or path-like
            The file that was scanned.
        findings : iterable of QualityFinding
            Its findings.

        Returns
        -------
        bool
            ``False`` (and nothing changes) if ``path`` is no longer the open
            file: a scan finishing after the user opened another file is stale.
        """
        if self._historian is None or self._historian.path != Path(path).absolute():
            return False
        self._historian = self._historian.with_findings(findings)
        self.quality_changed.emit(self._historian)
        return True

    # -------------------------------------------------------- replay time
    @property
    def replay_time_ms(self) -> int | None:
        """Current replay time [ms since epoch], inside the historian's span; ``None`` if unset."""
        return self._replay_time_ms

    @replay_time_ms.setter
    def replay_time_ms(self, value: int | None) -> None:
        if value is not None and self._historian is not None:
            value = self._historian.clamp_time(value)
        elif value is not None:
            value = int(value)
        if value != self._replay_time_ms:
            self._replay_time_ms = value
            self.replay_time_changed.emit(value)

    # ----------------------------------------------------------- language
    @property
    def language(self) -> str:
        """UI language preference: ``"auto"``, ``"en"`` or ``"zh_CN"``."""
        return self._language

    @language.setter
    def language(self, value: str) -> None:
        resolve_language(value, "")  # raises ValueError for an unknown preference
        if value != self._language:
            self._language = value
            self.language_changed.emit(value)

    # ----------------------------------------------------------- snapshot
    def snapshot(self) -> SessionSnapshot:
        """Return what should be restored on the next start."""
        return SessionSnapshot(
            project_path=self._project_path,
            historian_path=None if self._historian is None else self._historian.path,
            replay_time_ms=self._replay_time_ms,
        )
