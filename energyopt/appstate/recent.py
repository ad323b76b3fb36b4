"""Most-recently-used file lists (projects and historian files)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from psygnal import Signal

__all__ = ["RecentFiles"]


class RecentFiles:
    """A bounded most-recently-used list of file paths, newest first.

    Parameters
    ----------
    max_items : int
        Longest the list grows. [-]
    paths : iterable of path-like, optional
        Initial content, newest first (for example read from settings).

    Raises
    ------
    ValueError
        If ``max_items`` is less than 1.

    Notes
    -----
    Paths are stored absolute, so one file opened through two relative paths
    appears once.  :attr:`changed` is emitted with the new list after every
    change that alters it.
    """

    changed = Signal(list)
    """Emitted with the new list of paths (newest first)."""

    def __init__(self, max_items: int = 8, paths: Iterable[str | Path] = ()) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        self.max_items = max_items
        self._paths: list[Path] = []
        for path in paths:
            absolute = Path(path).absolute()
            if absolute not in self._paths and len(self._paths) < max_items:
                self._paths.append(absolute)

    @property
    def paths(self) -> list[Path]:
        """The paths, newest first."""
        return list(self._paths)

    def add(self, path: str | Path) -> None:
        """Put a path at the top of the list (moving it if present, dropping the oldest)."""
        absolute = Path(path).absolute()
        new = [absolute, *(p for p in self._paths if p != absolute)][: self.max_items]
        if new != self._paths:
            self._paths = new
            self.changed.emit(self.paths)

    def remove(self, path: str | Path) -> None:
        """Drop a path (for example a file that no longer exists); no-op if absent."""
        absolute = Path(path).absolute()
        if absolute in self._paths:
            self._paths.remove(absolute)
            self.changed.emit(self.paths)

    def clear(self) -> None:
        """Empty the list."""
        if self._paths:
            self._paths = []
            self.changed.emit([])
