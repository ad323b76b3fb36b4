"""Tree of the open project's content (project, media, units, bindings, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from energyopt.appstate import SessionState

if TYPE_CHECKING:
    from energyopt.project import Project

__all__ = ["ProjectView"]


class ProjectView(QTreeWidget):
    """Shows the session's project as a key/value tree.

    A project holds tens to hundreds of entries, so a ``QTreeWidget`` is
    enough here (the tag browser, which may hold 10,000 rows, is model/view).

    Parameters
    ----------
    session : SessionState
        The model observed (``project_changed``).
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, session: SessionState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        session.project_changed.connect(self.show_project)
        self.show_project(session.project)
        self._retranslate()

    def show_project(self, project: Project | None) -> None:
        """Show a project (``None`` clears the tree)."""
        self.clear()
        if project is not None:
            dumped = project.model_dump(mode="json", exclude_none=True)
            self.addTopLevelItems(_tree_items(dumped))
            self.resizeColumnToContents(0)

    def top_level_keys(self) -> list[str]:
        """The keys of the first level (``project``, ``media``, ...)."""
        items = (self.topLevelItem(i) for i in range(self.topLevelItemCount()))
        return [item.text(0) for item in items if item is not None]

    def _retranslate(self) -> None:
        self.setHeaderLabels([self.tr("Item"), self.tr("Value")])

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


def _tree_items(value: object, key: str = "") -> list[QTreeWidgetItem]:
    """Turn nested dicts and lists into tree items (leaves show their value)."""
    items = []
    if isinstance(value, dict):
        for k, v in value.items():
            nested = isinstance(v, dict | list) and bool(v)
            item = QTreeWidgetItem([str(k), "" if nested else _leaf_text(v)])
            if nested:
                item.addChildren(_tree_items(v, str(k)))
            items.append(item)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            nested = isinstance(v, dict | list) and bool(v)
            item = QTreeWidgetItem([f"{key}[{i}]", "" if nested else _leaf_text(v)])
            if nested:
                item.addChildren(_tree_items(v, key))
            items.append(item)
    return items


def _leaf_text(value: object) -> str:
    if isinstance(value, list):
        return "[]"
    if isinstance(value, dict):
        return "{}"
    return str(value)
