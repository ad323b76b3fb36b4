"""Entry point of the ``energyopt-gui`` desktop application.

This first version opens a plant project and a historian file and shows what
they contain (units, media, tag bindings; tags with units and sampling), with
every :class:`~energyopt.errors.EnergyoptError` shown as a dialog.  The energy
flow, trend, recommendation, model and tuning panels build on this window.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
)

from energyopt import __version__
from energyopt.errors import EnergyoptError
from energyopt.runtime import configure_caches

__all__ = ["MainWindow", "main"]

log = logging.getLogger(__name__)

ORGANISATION = "energyopt"
APPLICATION = "energyopt"


class MainWindow(QMainWindow):
    """Main window: a project tree beside a historian tag browser."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"energyopt {__version__}")
        self.project_tree = QTreeWidget()
        self.project_tree.setHeaderLabels(["Project", "Value"])
        self.tag_tree = QTreeWidget()
        self.tag_tree.setHeaderLabels(["Tag", "Unit", "Kind", "Description"])
        splitter = QSplitter()
        splitter.addWidget(self.project_tree)
        splitter.addWidget(self.tag_tree)
        self.setCentralWidget(splitter)
        menu = self.menuBar().addMenu("&File")
        menu.addAction("Open &project...", self._ask_project)
        menu.addAction("Open &historian file...", self._ask_historian)
        menu.addSeparator()
        menu.addAction("&Quit", self.close)
        self.resize(1100, 700)
        self._settings = QSettings(ORGANISATION, APPLICATION)

    # ------------------------------------------------------------------ actions
    def _ask_project(self) -> None:
        start = str(self._settings.value("last_project_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, "Project (*.toml)")
        if path:
            self.open_project(Path(path))

    def _ask_historian(self) -> None:
        start = str(self._settings.value("last_data_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open historian file", start, "Historian (*.h5 *.hdf5)"
        )
        if path:
            self.open_historian(Path(path))

    def open_project(self, path: Path) -> bool:
        """Load and show a project file; show a dialog and return False on error.

        Parameters
        ----------
        path : Path
            Project TOML file.
        """
        from energyopt.project import load_project

        try:
            project = load_project(path)
        except EnergyoptError as exc:
            self.show_error("Cannot open project", exc)
            return False
        self._settings.setValue("last_project_dir", str(path.parent))
        self.project_tree.clear()
        dumped = project.model_dump(mode="json", exclude_none=True)
        self.project_tree.addTopLevelItems(_tree_items(dumped))
        self.setWindowTitle(f"energyopt {__version__} - {path.name}")
        return True

    def open_historian(self, path: Path) -> bool:
        """List the tags of a historian file; show a dialog and return False on error.

        Parameters
        ----------
        path : Path
            Historian HDF5 file (opened read-only).
        """
        from energyopt.data.reader import HistorianReader

        try:
            with HistorianReader(path) as reader:
                tags = reader.tags
        except EnergyoptError as exc:
            self.show_error("Cannot open historian file", exc)
            return False
        self._settings.setValue("last_data_dir", str(path.parent))
        self.tag_tree.clear()
        for info in tags.values():
            item = QTreeWidgetItem([info.name, info.unit, info.kind or "", info.description or ""])
            self.tag_tree.addTopLevelItem(item)
        return True

    def show_error(self, title: str, exc: EnergyoptError) -> None:
        """Show a user-facing error as a modal dialog with its message.

        Parameters
        ----------
        title : str
            Dialog title.
        exc : EnergyoptError
            The error whose message is shown.
        """
        QMessageBox.critical(self, title, str(exc))


def _tree_items(value: object, key: str = "") -> list[QTreeWidgetItem]:
    """Turn nested dicts/lists into tree items (leaves show their value)."""
    items = []
    if isinstance(value, dict):
        for k, v in value.items():
            item = QTreeWidgetItem([str(k), "" if isinstance(v, dict | list) else str(v)])
            item.addChildren(_tree_items(v, str(k)) if isinstance(v, dict | list) else [])
            items.append(item)
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, v in enumerate(value):
            item = QTreeWidgetItem([f"{key}[{i}]", ""])
            item.addChildren(_tree_items(v, key))
            items.append(item)
    return items


def _excepthook(exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
    """Log unexpected exceptions instead of letting Qt abort the process."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    log.error("unexpected error:\n%s", text)
    QMessageBox.critical(None, "Unexpected error", text[-2000:])


def main(argv: list[str] | None = None) -> int:
    """Start the desktop application.

    Parameters
    ----------
    argv : list of str, optional
        Command line; ``[project.toml [history.h5]]`` opens those files.
    """
    args = sys.argv if argv is None else argv
    configure_caches()
    app = QApplication.instance() or QApplication(args)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    sys.excepthook = _excepthook
    window = MainWindow()
    files = [Path(a) for a in args[1:]]
    if files:
        window.open_project(files[0])
    if len(files) > 1:
        window.open_historian(files[1])
    window.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
