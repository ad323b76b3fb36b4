"""The advisor's recommendations beside the current values, with accept / reject / hold.

:class:`RecommendationsPanel` shows a Qt-free
:class:`~energyopt.appstate.recommendations.RecommendationsModel`:

- a mode switch OFF / PREDICT / ADVISE (OFF shows no recommendation and asks
  for none; PREDICT shows the predicted moves without decision buttons;
  ADVISE shows the recommended setpoints, each with Accept, Reject and Hold);
- a table per manipulated variable: tag, unit, current value, recommended (or
  predicted) setpoint, move, limits and the reason in words;
- the expected saving with its currency, the active constraints, where the
  plan came from;
- the project's decision log (time, tag, recommended, decision, note), fed by
  :class:`~gui.decision_log_view.DecisionLogTableModel`, and an optional note
  for the next decision.

Requests to the advisor run in :class:`~gui.workers.Worker` threads through
:func:`gui.workers.worker_task_runner`; the GUI thread only formats the
delivered result.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from controllers.advisor.settings import AdvisorMode
from energyopt.appstate.decisions import Decision, DecisionEntry, DecisionLog
from energyopt.appstate.recommendations import MVRow, RecommendationsModel, RecommendationView
from energyopt.errors import EnergyoptError
from gui.decision_log_view import DecisionLogTableModel, format_value, utc_text
from gui.errors import ErrorReporter
from gui.replay_clock import connect_while_alive

__all__ = ["COLUMNS", "MIN_LOG_ROWS", "MIN_TABLE_ROWS", "MODES", "RecommendationsPanel"]

MIN_TABLE_ROWS = 6
"""Rows the recommendation table always has room for (more scroll inside it). [-]"""
MIN_LOG_ROWS = 3
"""Rows the decision log always has room for. [-]"""

MODES: tuple[AdvisorMode, ...] = (AdvisorMode.OFF, AdvisorMode.PREDICT, AdvisorMode.ADVISE)
"""Entries of the mode switch, in order."""
COLUMNS: tuple[str, ...] = (
    "tag",
    "unit",
    "current",
    "recommended",
    "move",
    "low",
    "high",
    "reason",
    "decision",
)
"""Columns of the recommendation table."""


def _column_title(column: str, *, predict: bool = False) -> str:
    titles = {
        "tag": QCoreApplication.translate("RecommendationsPanel", "Tag"),
        "unit": QCoreApplication.translate("RecommendationsPanel", "Unit"),
        "current": QCoreApplication.translate("RecommendationsPanel", "Current"),
        "recommended": QCoreApplication.translate("RecommendationsPanel", "Predicted")
        if predict
        else QCoreApplication.translate("RecommendationsPanel", "Recommended"),
        "move": QCoreApplication.translate("RecommendationsPanel", "Move"),
        "low": QCoreApplication.translate("RecommendationsPanel", "Low limit"),
        "high": QCoreApplication.translate("RecommendationsPanel", "High limit"),
        "reason": QCoreApplication.translate("RecommendationsPanel", "Reason"),
        "decision": QCoreApplication.translate("RecommendationsPanel", "Decision"),
    }
    return titles[column]


def _rows_height(view: QTableView, rows: int) -> int:
    """Height of a table showing its header, ``rows`` rows and a horizontal scroll bar. [px]."""
    row_px = view.verticalHeader().defaultSectionSize()
    if view.model() is not None and view.model().rowCount() > 0:
        row_px = max(row_px, view.rowHeight(0))
    return (
        view.horizontalHeader().sizeHint().height()
        + rows * row_px
        + 2 * view.frameWidth()
        + view.horizontalScrollBar().sizeHint().height()
    )


def _mode_text(mode: AdvisorMode) -> str:
    texts = {
        AdvisorMode.OFF: QCoreApplication.translate("RecommendationsPanel", "Off"),
        AdvisorMode.PREDICT: QCoreApplication.translate("RecommendationsPanel", "Predict"),
        AdvisorMode.ADVISE: QCoreApplication.translate("RecommendationsPanel", "Advise"),
    }
    return texts[mode]


class RecommendationsPanel(QWidget):
    """Recommendations table, mode switch, saving, constraints and the decision log.

    Parameters
    ----------
    model : RecommendationsModel
        The state shown.
    errors : ErrorReporter, optional
        Shows failed requests and unwritable decisions as dialogs; without it
        they appear in the panel's status line only.
    format_time : callable, optional
        Formats a plant time [ms since epoch] (the replay clock's, in the
        project's time zone); ISO 8601 UTC if omitted.
    parent : QWidget, optional
        Qt parent.
    """

    def __init__(
        self,
        model: RecommendationsModel,
        errors: ErrorReporter | None = None,
        format_time: Callable[[int], str] = utc_text,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        """The state shown."""
        self.errors = errors
        self._format_time = format_time
        self.buttons: dict[tuple[str, Decision], QToolButton] = {}
        """Decision buttons of the current table: (MV, decision) -> button."""

        self.mode_label = QLabel()
        self.mode_box = QComboBox()
        self.mode_box.setObjectName("advisor_mode")
        self.status_label = QLabel()
        self.status_label.setObjectName("recommendation_status")
        self.status_label.setWordWrap(True)
        self.off_label = QLabel()
        self.off_label.setWordWrap(True)
        self.saving_label = QLabel()
        self.saving_label.setObjectName("expected_saving")
        self.constraints_label = QLabel()
        self.constraints_label.setWordWrap(True)
        self.origin_label = QLabel()
        self.origin_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("recommendations")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        # Columns fit their contents once per update (_show_recommendation): in
        # ResizeToContents mode every cell's setText re-measured its whole column
        # (about 1 ms a cell, 0.2 s a recommendation of 17 MVs).
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("decision_note")
        self.log_label = QLabel()
        self.log_model = DecisionLogTableModel(model.decisions, format_time, self)
        self.log_view = QTableView()
        self.log_view.setObjectName("decision_log")
        self.log_view.setModel(self.log_model)
        self.log_view.verticalHeader().setVisible(False)
        self.log_view.horizontalHeader().setStretchLastSection(True)
        # Qt measures at most resizeContentsPrecision() rows: cheap for a long log.
        self.log_view.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.save_button = QPushButton()

        top = QHBoxLayout()
        top.addWidget(self.mode_label)
        top.addWidget(self.mode_box)
        top.addWidget(self.status_label, 1)
        self.content = QWidget()
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        content.addWidget(self.saving_label)
        content.addWidget(self.table, 2)
        content.addWidget(self.constraints_label)
        content.addWidget(self.origin_label)
        content.addWidget(self.note_edit)
        log_row = QHBoxLayout()
        log_row.addWidget(self.log_label, 1)
        log_row.addWidget(self.save_button)
        # Below the mode switch everything scrolls: in a short dock (1366x768, a
        # plant with many MVs) the table keeps room for MIN_TABLE_ROWS rows and
        # the log for MIN_LOG_ROWS instead of being squeezed to their headers.
        self.body = QWidget()
        self.body.setObjectName("recommendations_body")
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.off_label)
        body.addWidget(self.content, 2)
        body.addLayout(log_row)
        body.addWidget(self.log_view, 1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("recommendations_scroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.scroll_area, 1)
        self.log_view.setMinimumHeight(_rows_height(self.log_view, MIN_LOG_ROWS))

        self.mode_box.currentIndexChanged.connect(self._on_mode_box)
        self.save_button.clicked.connect(self.save_decisions)
        cls = RecommendationsPanel
        connect_while_alive(self, model.mode_changed, cls._on_mode)
        connect_while_alive(self, model.recommendation_changed, cls._show_recommendation)
        connect_while_alive(self, model.busy_changed, cls._show_status)
        connect_while_alive(self, model.failed, cls._on_failed)
        connect_while_alive(self, model.log_failed, cls._on_log_failed)
        connect_while_alive(self, model.decision_recorded, cls._on_decision)
        connect_while_alive(self, model.decisions_changed, cls._on_log_changed)
        self._failure = ""
        self._row_mvs: tuple[str, ...] = ()
        self._predict_titles: bool | None = None
        self._retranslate()

    # ------------------------------------------------------------ display
    def _retranslate(self) -> None:
        self.mode_label.setText(self.tr("Advisor:"))
        self.mode_box.setToolTip(
            self.tr("Off: nothing computed; Predict: predicted moves only; Advise: setpoints")
        )
        self.mode_box.blockSignals(True)
        self.mode_box.clear()
        for mode in MODES:
            self.mode_box.addItem(_mode_text(mode), mode.value)
        self.mode_box.setCurrentIndex(MODES.index(self.model.mode))
        self.mode_box.blockSignals(False)
        self.off_label.setText(
            self.tr("The advisor is off: no recommendation is computed or shown.")
        )
        self.note_edit.setPlaceholderText(self.tr("Note for the next decision (optional)"))
        self.log_label.setText(self.tr("Decision log"))
        self.save_button.setText(self.tr("Save decisions"))
        self.save_button.setToolTip(
            self.tr("Write the decisions next to the project file (they are autosaved anyway)")
        )
        self.log_model.retranslate()
        self._predict_titles = None  # column titles translated anew
        self._on_mode(self.model.mode)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Retranslate on a language change."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _on_mode(self, mode: AdvisorMode) -> None:
        index = MODES.index(mode)
        if self.mode_box.currentIndex() != index:
            self.mode_box.blockSignals(True)
            self.mode_box.setCurrentIndex(index)
            self.mode_box.blockSignals(False)
        off = mode == AdvisorMode.OFF
        self.off_label.setVisible(off)
        self.content.setVisible(not off)
        advise = mode == AdvisorMode.ADVISE
        self.table.setColumnHidden(COLUMNS.index("decision"), not advise)
        self.note_edit.setVisible(advise)
        self._show_recommendation(self.model.current)

    def _show_status(self, _busy: bool = False) -> None:
        view = self.model.current
        if self.model.mode == AdvisorMode.OFF:
            text = ""
        elif self.model.busy:
            text = self.tr("Computing the recommendation...")
        elif self._failure:
            text = self._failure
        elif view is None:
            text = self.tr("No recommendation yet (open a project and its historian file).")
        else:
            text = self.tr("Recommendation for %1").replace("%1", self._format_time(view.time_ms))
        self.status_label.setText(text)

    def _show_recommendation(self, view: RecommendationView | None) -> None:
        if view is not None:
            self._failure = ""
        predict = self.model.mode == AdvisorMode.PREDICT
        if predict != self._predict_titles:
            self._predict_titles = predict
            titles = [_column_title(c, predict=predict) for c in COLUMNS]
            self.table.setHorizontalHeaderLabels(titles)
        rows = () if view is None else view.rows
        mvs = tuple(row.mv for row in rows)
        if mvs != self._row_mvs:
            # New rows only when the MVs change: a replay step updates them in
            # place (creating the decision buttons of every row took ~30 ms).
            self._row_mvs = mvs
            self.buttons = {}
            self.table.setRowCount(0)
            self.table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                self._create_row(r, row.mv)
            shown = min(max(len(rows), 1), MIN_TABLE_ROWS)
            self.table.setMinimumHeight(_rows_height(self.table, shown))
        for r, row in enumerate(rows):
            self._fill_row(r, row, predict=predict)
        self.table.resizeColumnsToContents()
        if view is None:
            self.saving_label.clear()
            self.constraints_label.clear()
            self.origin_label.clear()
        else:
            self._show_summary(view)
        self._show_status()

    def _create_row(self, r: int, mv: str) -> None:
        """Create the items and the decision buttons of row ``r`` (texts set by ``_fill_row``)."""
        for c, column in enumerate(COLUMNS):
            if column == "decision":
                continue
            item = QTableWidgetItem()
            if column not in ("tag", "unit", "reason"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, c, item)
        cell = QWidget()
        box = QHBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        for decision in Decision:
            button = QToolButton()
            button.setCheckable(True)
            button.setObjectName(f"{decision.value}:{mv}")
            button.clicked.connect(lambda _checked=False, mv=mv, d=decision: self.decide(mv, d))
            box.addWidget(button)
            self.buttons[(mv, decision)] = button
        self.table.setCellWidget(r, COLUMNS.index("decision"), cell)

    def _fill_row(self, r: int, row: MVRow, *, predict: bool) -> None:
        target = row.predicted if predict else row.recommended
        move = row.predicted_move if predict else row.move
        texts = {
            "tag": row.tag,
            "unit": row.unit,
            "current": format_value(row.current),
            "recommended": format_value(target),
            "move": format_value(move, signed=True),
            "low": format_value(row.low),
            "high": format_value(row.high),
            "reason": row.reason,
        }
        for column, text in texts.items():
            item = self.table.item(r, COLUMNS.index(column))
            if item is None:  # rows are made with their items; typed as optional by Qt
                item = QTableWidgetItem()
                self.table.setItem(r, COLUMNS.index(column), item)
            item.setText(text)
            if column == "tag":
                item.setToolTip(row.mv if row.tag != row.mv else "")
            if column == "reason":
                item.setToolTip(row.reason)
        labels = {
            Decision.ACCEPTED: self.tr("Accept"),
            Decision.REJECTED: self.tr("Reject"),
            Decision.HELD: self.tr("Hold"),
        }
        decided = self.model.decision(row.mv)
        for decision, label in labels.items():
            button = self.buttons[(row.mv, decision)]
            button.setText(label)
            button.setChecked(decided == decision)
            button.setEnabled(row.recommended is not None)

    def _show_summary(self, view: RecommendationView) -> None:
        if view.expected_saving is None:
            saving = self.tr("Expected saving: unknown")
        else:
            amount = f"{view.expected_saving:,.2f} {view.saving_unit}".strip()
            saving = self.tr("Expected saving over the horizon: %1").replace("%1", amount)
        self.saving_label.setText(saving)
        constraints = ", ".join(view.active_constraints) or self.tr("none")
        self.constraints_label.setText(self.tr("Active constraints: %1").replace("%1", constraints))
        origin = view.fallback or ""
        if view.fallback_reason:
            origin = f"{origin} ({view.fallback_reason})"
        if view.status:
            origin = (
                self.tr("%1; solver status: %2").replace("%1", origin).replace("%2", view.status)
            )
        self.origin_label.setText(self.tr("Plan: %1").replace("%1", origin) if origin else "")

    # ----------------------------------------------------------- actions
    def _on_mode_box(self, index: int) -> None:
        if 0 <= index < len(MODES):
            self.model.mode = MODES[index]

    def decide(self, mv: str, decision: Decision) -> DecisionEntry | None:
        """Record a decision on a row (with the note typed, then cleared).

        Parameters
        ----------
        mv : str
            Manipulated variable of the current recommendation.
        decision : Decision
            Accepted, rejected or held.

        Returns
        -------
        DecisionEntry or None
            The entry, ``None`` if it could not be written (the error is shown).
        """
        try:
            entry = self.model.decide(mv, decision, note=self.note_edit.text().strip())
        except EnergyoptError as exc:
            self._report(exc, self.tr("Cannot record the decision"))
            self._refresh_buttons()
            return None
        self.note_edit.clear()
        return entry

    def save_decisions(self) -> None:
        """Write the decision log next to the project file (errors shown as a dialog)."""
        try:
            path = self.model.decisions.save()
        except EnergyoptError as exc:
            self._report(exc, self.tr("Cannot save the decisions"))
            return
        if path is not None:
            self.status_label.setText(self.tr("Decisions saved to %1").replace("%1", str(path)))

    def _on_decision(self, _entry: DecisionEntry) -> None:
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        for (mv, decision), button in self.buttons.items():
            button.setChecked(self.model.decision(mv) == decision)

    def _on_log_changed(self, decisions: DecisionLog) -> None:
        self.log_model.set_log(decisions)

    def _on_failed(self, exc: BaseException) -> None:
        self._failure = self.tr("The advisor failed: %1").replace("%1", str(exc))
        self._show_status()
        self._report(exc, self.tr("Recommendation failed"))

    def _on_log_failed(self, exc: BaseException) -> None:
        self._report(exc, self.tr("Decision log problem"))

    def _report(self, exc: BaseException, title: str) -> None:
        if self.errors is not None:
            self.errors.report(exc, title)
        else:
            self.status_label.setText(f"{title}: {exc}")
