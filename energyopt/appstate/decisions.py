"""The operators' decisions on the advisor's recommendations, saved with the project.

Every accept, reject or hold is a :class:`DecisionEntry`.  A
:class:`DecisionLog` keeps them for one project file ``<stem>.toml``:

- ``<stem>.decisions.json`` next to the project holds the saved log (written
  atomically by :meth:`DecisionLog.save`);
- ``<stem>.decisions.journal.jsonl`` is the autosave journal: each decision is
  appended as one JSON line and flushed to disk (``fsync``) before
  :meth:`DecisionLog.record` returns, so a crash loses nothing.
  :meth:`DecisionLog.save` folds the journal into the JSON file and removes it.

Each entry carries a unique id, so loading the JSON file and the journal
together never counts an entry twice, even after a crash between writing the
JSON file and removing the journal.  A journal's last line cut off by a crash
is skipped (with a warning in the log); any other malformed content is a
:class:`~energyopt.errors.ProjectError` naming the file and the line.
"""

from __future__ import annotations

import contextlib
import enum
import getpass
import json
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psygnal import Signal

from energyopt.errors import OutputError, ProjectError
from energyopt.fileio import atomic_output

__all__ = [
    "DECISIONS_FORMAT",
    "DECISIONS_VERSION",
    "Decision",
    "DecisionEntry",
    "DecisionLog",
    "decisions_path",
    "journal_path",
]

log = logging.getLogger(__name__)

DECISIONS_FORMAT = "energyopt-decisions"
"""Value of the ``format`` key of a decisions file."""
DECISIONS_VERSION = 1
"""Version of the decisions file this module writes (and the newest it reads)."""


class Decision(enum.Enum):
    """What the operator did with a recommended setpoint."""

    ACCEPTED = "accepted"
    """The setpoint was taken over."""
    REJECTED = "rejected"
    """The setpoint was refused."""
    HELD = "held"
    """The current setpoint is kept for now (decided later)."""


def decisions_path(project_path: str | Path) -> Path:
    """Return the saved decision log of a project: ``<stem>.decisions.json`` beside it.

    Parameters
    ----------
    project_path : str or path-like
        The project file.
    """
    path = Path(project_path)
    return path.with_name(f"{path.stem}.decisions.json")


def journal_path(project_path: str | Path) -> Path:
    """Return the autosave journal of a project: ``<stem>.decisions.journal.jsonl`` beside it.

    Parameters
    ----------
    project_path : str or path-like
        The project file.
    """
    path = Path(project_path)
    return path.with_name(f"{path.stem}.decisions.journal.jsonl")


def _wall_time_ms() -> int:
    return time.time_ns() // 1_000_000


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user database entry (containers, services)
        return ""


def _optional_float(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number or null, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


@dataclass(frozen=True)
class DecisionEntry:
    """One decision on one recommended setpoint.

    Attributes
    ----------
    time_ms : int
        Plant (or simulated replay) time of the recommendation. [ms since epoch]
    wall_time_ms : int
        When the operator decided (the computer's clock). [ms since epoch]
    tag : str
        Historian tag of the manipulated variable (its name if unbound).
    current : float or None
        Value of the setpoint when the recommendation was made. [tag unit]
    recommended : float or None
        Recommended setpoint. [tag unit]
    decision : Decision
        Accepted, rejected or held.
    saving : float or None
        Expected saving of the recommendation. [currency over the horizon]
    user : str
        Who decided (the operating-system account if not given).
    unit : str
        Engineering unit of ``current`` and ``recommended``.
    note : str
        Optional free text of the operator.
    entry_id : str
        Unique id (a UUID4 hex string), so merged files never count it twice.
    """

    time_ms: int
    wall_time_ms: int
    tag: str
    current: float | None
    recommended: float | None
    decision: Decision
    saving: float | None = None
    user: str = ""
    unit: str = ""
    note: str = ""
    entry_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if not self.tag:
            raise ValueError("a decision needs the tag it is about")
        if not self.entry_id:
            raise ValueError("a decision needs a non-empty id")
        for name in ("current", "recommended", "saving"):
            object.__setattr__(self, name, _optional_float(getattr(self, name), name))
        if not isinstance(self.decision, Decision):
            raise TypeError(f"decision must be a Decision, got {self.decision!r}")

    @property
    def move(self) -> float | None:
        """Recommended change, ``None`` if either value is unknown. [tag unit]."""
        if self.current is None or self.recommended is None:
            return None
        return self.recommended - self.current

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (inverse of :meth:`from_dict`)."""
        return {
            "id": self.entry_id,
            "time_ms": self.time_ms,
            "wall_time_ms": self.wall_time_ms,
            "tag": self.tag,
            "unit": self.unit,
            "current": self.current,
            "recommended": self.recommended,
            "decision": self.decision.value,
            "saving": self.saving,
            "user": self.user,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionEntry:
        """Rebuild an entry from :meth:`to_dict` output.

        Raises
        ------
        ValueError, TypeError
            If a key is missing or a value has the wrong type.
        """
        try:
            time_ms, wall_ms = data["time_ms"], data["wall_time_ms"]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (time_ms, wall_ms)):
                raise TypeError("time_ms and wall_time_ms must be integers [ms]")
            texts = {k: data.get(k, "") for k in ("unit", "user", "note")}
            texts["tag"], texts["id"] = data["tag"], data["id"]
            if not all(isinstance(v, str) for v in texts.values()):
                raise TypeError("tag, id, unit, user and note must be strings")
            return cls(
                time_ms=time_ms,
                wall_time_ms=wall_ms,
                tag=texts["tag"],
                current=data.get("current"),
                recommended=data.get("recommended"),
                decision=Decision(data["decision"]),
                saving=data.get("saving"),
                user=texts["user"],
                unit=texts["unit"],
                note=texts["note"],
                entry_id=texts["id"],
            )
        except KeyError as exc:
            raise ValueError(f"missing key {exc.args[0]!r}") from None


class DecisionLog:
    """The decisions of one project, with an autosave journal.

    Parameters
    ----------
    project_path : path-like, optional
        The project file the log belongs to; ``None`` keeps the log in memory
        only (no project open: nothing is written).
    user : str, optional
        Who decides; the operating-system account if omitted.
    clock_ms : callable, optional
        Wall clock returning ms since epoch (tests pass a fixed one).

    Notes
    -----
    Methods are meant to be called from one thread (the GUI's); a lock
    still keeps the journal lines whole if another thread records.
    """

    entry_added = Signal(object)
    """Emitted with each new :class:`DecisionEntry`."""
    reset = Signal()
    """Emitted when the entries were replaced (loaded from the files)."""
    saved = Signal(object)
    """Emitted with the path of the decisions file after :meth:`save`."""

    def __init__(
        self,
        project_path: str | Path | None = None,
        *,
        user: str | None = None,
        clock_ms: Callable[[], int] = _wall_time_ms,
    ) -> None:
        self.project_path = None if project_path is None else Path(project_path).absolute()
        """The project file, ``None`` for a log kept in memory."""
        self.user = _current_user() if user is None else user
        """Who decides (stored in every entry)."""
        self._clock_ms = clock_ms
        self._entries: list[DecisionEntry] = []
        self._ids: set[str] = set()
        self._unsaved = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------- paths
    @property
    def path(self) -> Path | None:
        """The saved log ``<stem>.decisions.json``, ``None`` for an in-memory log."""
        return None if self.project_path is None else decisions_path(self.project_path)

    @property
    def journal(self) -> Path | None:
        """The autosave journal, ``None`` for an in-memory log."""
        return None if self.project_path is None else journal_path(self.project_path)

    # ----------------------------------------------------------- entries
    @property
    def entries(self) -> tuple[DecisionEntry, ...]:
        """Every decision, oldest first."""
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def unsaved(self) -> int:
        """Decisions recorded since the last save (they are in the journal). [-]."""
        return self._unsaved

    def record(
        self,
        *,
        time_ms: int,
        tag: str,
        current: float | None,
        recommended: float | None,
        decision: Decision,
        saving: float | None = None,
        unit: str = "",
        note: str = "",
    ) -> DecisionEntry:
        """Record a decision: append it to the journal (flushed to disk), then keep it.

        Parameters
        ----------
        time_ms : int
            Plant or replay time of the recommendation. [ms since epoch]
        tag : str
            Tag of the manipulated variable.
        current, recommended : float or None
            Setpoint now and recommended. [tag unit]
        decision : Decision
            What the operator did.
        saving : float or None
            Expected saving of the recommendation. [currency]
        unit : str
            Engineering unit of the values.
        note : str
            Optional free text.

        Returns
        -------
        DecisionEntry
            The entry, with the wall time and the user filled in.

        Raises
        ------
        OutputError
            If the journal cannot be written (the decision is then not recorded).
        ValueError, TypeError
            If a value is invalid (empty tag, non-finite number).
        """
        entry = DecisionEntry(
            time_ms=int(time_ms),
            wall_time_ms=int(self._clock_ms()),
            tag=tag,
            current=current,
            recommended=recommended,
            decision=decision,
            saving=saving,
            user=self.user,
            unit=unit,
            note=note,
        )
        with self._lock:
            self._append_journal(entry)
            self._entries.append(entry)
            self._ids.add(entry.entry_id)
            self._unsaved += 1
        self.entry_added.emit(entry)
        return entry

    def _append_journal(self, entry: DecisionEntry) -> None:
        journal = self.journal
        if journal is None:
            return
        line = json.dumps(entry.to_dict(), ensure_ascii=False) + "\n"
        try:
            # Append mode and one write per line: a crash leaves at most the
            # last line cut short, which load() skips.
            with journal.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(
                f"cannot record the decision in '{journal}': {exc.strerror or exc}"
            ) from None

    # ------------------------------------------------------ load and save
    @classmethod
    def open(
        cls,
        project_path: str | Path,
        *,
        user: str | None = None,
        clock_ms: Callable[[], int] = _wall_time_ms,
    ) -> DecisionLog:
        """Return the log of a project with its saved decisions and its journal loaded.

        Parameters
        ----------
        project_path : path-like
            The project file (it need not exist yet).
        user : str, optional
            Who decides from now on.
        clock_ms : callable, optional
            Wall clock. [ms since epoch]

        Raises
        ------
        ProjectError
            If the decisions file or the journal is unreadable or malformed.
        """
        decision_log = cls(project_path, user=user, clock_ms=clock_ms)
        decision_log.load()
        return decision_log

    def load(self) -> None:
        """Replace the entries with the saved file's plus the journal's (emits :attr:`reset`).

        Decisions found only in the journal count as unsaved.

        Raises
        ------
        ProjectError
            If a file is unreadable or malformed (the entries are unchanged).
        """
        if self.path is None or self.journal is None:
            return
        saved = _read_decisions_file(self.path)
        journalled = _read_journal(self.journal)
        ids = {entry.entry_id for entry in saved}
        fresh = [entry for entry in journalled if entry.entry_id not in ids]
        merged = saved + fresh
        with self._lock:
            self._entries = merged
            self._ids = {entry.entry_id for entry in merged}
            self._unsaved = len(fresh)
        self.reset.emit()

    def save(self) -> Path | None:
        """Write every decision to ``<stem>.decisions.json`` atomically; remove the journal.

        Returns
        -------
        pathlib.Path or None
            The file written; ``None`` for an in-memory log.

        Raises
        ------
        OutputError
            If the file cannot be written (the journal is kept).
        """
        path, journal = self.path, self.journal
        if path is None or journal is None:
            return None
        with self._lock:
            text = _document_text(self.project_path, self._entries)
            with atomic_output(path, overwrite=True) as tmp:
                tmp.write_text(text, encoding="utf-8")
            # The JSON file now holds every journalled entry (ids make a
            # leftover journal harmless if removing it fails).
            with contextlib.suppress(FileNotFoundError):
                journal.unlink()
            self._unsaved = 0
        self.saved.emit(path)
        return path

    def save_if_needed(self) -> Path | None:
        """:meth:`save` only when there are unsaved decisions; return the file written or ``None``.

        Raises
        ------
        OutputError
            If the file cannot be written.
        """
        return self.save() if self._unsaved else None


def _document_text(project_path: Path | None, entries: Iterable[DecisionEntry]) -> str:
    """The decisions file: a JSON object with one entry per line.

    Written piecewise because ``json.dumps(..., indent=...)`` falls back to
    the pure-Python encoder (about 10 times slower for a long log).
    """
    head = json.dumps(
        {"format": DECISIONS_FORMAT, "version": DECISIONS_VERSION, "project": str(project_path)},
        ensure_ascii=False,
    )
    lines = ",\n".join(json.dumps(entry.to_dict(), ensure_ascii=False) for entry in entries)
    return f'{head[:-1]}, "entries": [\n{lines}\n]}}\n'


def _read_decisions_file(path: Path) -> list[DecisionEntry]:
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProjectError(f"decision log '{path}' is unreadable: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != DECISIONS_FORMAT:
        raise ProjectError(f"'{path}' is not an energyopt decision log (format key)")
    version = document.get("version")
    if not isinstance(version, int) or not 1 <= version <= DECISIONS_VERSION:
        raise ProjectError(
            f"decision log '{path}': version {version!r} not readable "
            f"(this energyopt reads 1 to {DECISIONS_VERSION})"
        )
    raw = document.get("entries")
    if not isinstance(raw, list):
        raise ProjectError(f"decision log '{path}': 'entries' must be a list")
    return _entries_from(raw, lambda k: f"decision log '{path}', entry {k}")


def _read_journal(path: Path) -> list[DecisionEntry]:
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"decision journal '{path}' is unreadable: {exc}") from None
    raw: list[Any] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw.append(json.loads(line))
            numbers.append(number)
        except json.JSONDecodeError as exc:
            if number == len(lines):  # no newline after it: cut off while written
                log.warning("decision journal %s: incomplete last line skipped", path)
                continue
            raise ProjectError(f"decision journal '{path}', line {number}: {exc}") from None
    return _entries_from(raw, lambda k: f"decision journal '{path}', line {numbers[k]}")


def _entries_from(raw: Iterable[Any], where: Callable[[int], str]) -> list[DecisionEntry]:
    entries: list[DecisionEntry] = []
    seen: set[str] = set()
    for k, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ProjectError(f"{where(k)}: expected an object, got {type(item).__name__}")
        try:
            entry = DecisionEntry.from_dict(item)
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"{where(k)}: {exc}") from None
        if entry.entry_id not in seen:
            seen.add(entry.entry_id)
            entries.append(entry)
    return entries
