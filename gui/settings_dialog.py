"""The preferences dialog: UI language (applied at once, no restart)."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from energyopt.appstate import SessionState
from energyopt.appstate.language import AUTO

__all__ = ["SettingsDialog"]

LANGUAGE_CHOICES: tuple[str, ...] = (AUTO, "en", "zh_CN")
"""Preferences in the order of the language box."""


class SettingsDialog(QDialog):
    """Edit the session's preferences; OK writes them to the session.

    Parameters
    ----------
    session : SessionState
        The model whose ``language`` is edited.
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(self, session: SessionState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.language_label = QLabel()
        self.language_box = QComboBox()
        for _ in LANGUAGE_CHOICES:
            self.language_box.addItem("")
        self.language_box.setCurrentIndex(LANGUAGE_CHOICES.index(session.language))
        self.language_label.setBuddy(self.language_box)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QFormLayout(self)
        layout.addRow(self.language_label, self.language_box)
        layout.addRow(self.buttons)
        self._retranslate()

    @property
    def chosen_language(self) -> str:
        """The language preference selected in the box."""
        return LANGUAGE_CHOICES[self.language_box.currentIndex()]

    def accept(self) -> None:
        """Apply the choices to the session and close."""
        self._session.language = self.chosen_language
        super().accept()

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Settings"))
        self.language_label.setText(self.tr("&Language:"))
        # Language names stay in their own language so a user can find theirs.
        names = (self.tr("Automatic (system language)"), "English", "中文 (简体)")
        for index, name in enumerate(names):
            self.language_box.setItemText(index, name)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
