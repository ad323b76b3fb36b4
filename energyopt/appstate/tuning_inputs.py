"""What the next tune runs on: project, historian file, ``[tune]`` settings, request, scheduler.

:class:`TuneInputs` is the Qt-free half of
:class:`~energyopt.appstate.tuning.TuningModel` that holds the inputs of the
next tune: the project and historian file, the project's ``[tune]`` section
and search space (:func:`energyopt.tune.search_space`), the editable
:class:`~energyopt.appstate.tuning_parts.TuneRequest`, and the dask.distributed
scheduler the trials run on instead of local worker processes
(``energyopt tune --scheduler``): :func:`scheduler_address` reads what the
user typed, :func:`check_scheduler` reaches it within a few seconds before
the tune's own client (which keeps retrying a refused connection for 30 s).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from psygnal import Signal

from energyopt.appstate.tuning_parts import TuneRequest
from energyopt.errors import EnergyoptError, ProjectError

if TYPE_CHECKING:
    from energyopt.project import Project
    from energyopt.tune import ParamSpec, TuneSettings

__all__ = [
    "SCHEDULER_SCHEMES",
    "SCHEDULER_TIMEOUT_S",
    "TuneInputs",
    "check_scheduler",
    "scheduler_address",
]

#: dask.distributed protocols a scheduler address may name (``host:port`` is ``tcp``).
SCHEDULER_SCHEMES: tuple[str, ...] = ("tcp", "tls")
#: How long :func:`check_scheduler` tries to reach a scheduler. [s]
SCHEDULER_TIMEOUT_S = 5.0


class TuneInputs:
    """The inputs of the next tune (base of :class:`~energyopt.appstate.tuning.TuningModel`).

    Parameters
    ----------
    workers : int
        Worker processes each new request proposes. [-]
    """

    inputs_changed = Signal()
    """The project or historian file changed (settings, space, whether a tune can run)."""
    request_changed = Signal(object)
    """Emitted with the new :class:`TuneRequest`."""
    scheduler_changed = Signal(str)
    """Emitted with the new dask scheduler address (``""``: local worker processes)."""

    def __init__(self, workers: int) -> None:
        self._default_workers = workers
        self._project_path: Path | None = None
        self._project: Project | None = None
        self._data_path: Path | None = None
        self._settings: TuneSettings | None = None
        self._space: tuple[ParamSpec, ...] = ()
        self._space_error: str | None = None
        self._request: TuneRequest | None = None
        self._scheduler: str | None = None

    def _read_settings(self, project: Project | None) -> None:
        self._space, self._space_error = (), None
        if project is None:
            self._settings = None
            self._set_request(None)
            return
        from energyopt.tune.schema import TuneSettings
        from energyopt.tune.space import search_space

        settings = project.tune if project.tune is not None else TuneSettings()
        self._settings = settings
        try:
            # Not checked at both ends of each range here (a validation per end):
            # the tune does that before its first trial.
            self._space = search_space(project, settings, check=False)
        except ProjectError as exc:
            self._space_error = str(exc)
        self._set_request(TuneRequest.from_settings(settings, self._default_workers))

    @property
    def project_path(self) -> Path | None:
        """The project file tuned, ``None`` if none."""
        return self._project_path

    @property
    def data_path(self) -> Path | None:
        """The historian file the windows replay, ``None`` if none."""
        return self._data_path

    @property
    def timezone(self) -> str:
        """IANA time zone of the project (window times are shown in it); ``"UTC"`` without one."""
        return "UTC" if self._project is None else self._project.project.timezone

    @property
    def currency(self) -> str:
        """ISO 4217 code of the project's prices (cost KPIs are in it); ``""`` without one."""
        return "" if self._project is None else self._project.project.currency

    @property
    def settings(self) -> TuneSettings | None:
        """The project's ``[tune]`` section (defaults when absent); ``None`` without a project."""
        return self._settings

    @property
    def space(self) -> tuple[ParamSpec, ...]:
        """The parameters searched (read-only: declared in the project's ``[tune]`` section)."""
        return self._space

    @property
    def space_error(self) -> str | None:
        """Why the project's search space is unusable (``None`` if it is usable)."""
        return self._space_error

    @property
    def tune_folder(self) -> Path | None:
        """The tune folder with the trial journal (``<name>.tune``), ``None`` without a project."""
        from energyopt.tune.workflow import default_paths

        return None if self._project_path is None else default_paths(self._project_path)[0]

    @property
    def tuned_project_path(self) -> Path | None:
        """Where a tune writes the tuned project (``<name>.tuned.toml``)."""
        from energyopt.tune.workflow import default_paths

        return None if self._project_path is None else default_paths(self._project_path)[1]

    @property
    def journal_exists(self) -> bool:
        """Whether the tune folder holds trials of an earlier run (the next start resumes)."""
        from energyopt.tune.store import JOURNAL_NAME

        folder = self.tune_folder
        return folder is not None and (folder / JOURNAL_NAME).is_file()

    # ---------------------------------------------------------- scheduler
    @property
    def scheduler(self) -> str | None:
        """dask.distributed scheduler the trials run on; ``None``: local worker processes."""
        return self._scheduler

    def set_scheduler(self, text: str | None) -> str | None:
        """Run the next tunes on a dask.distributed scheduler (``energyopt tune --scheduler``).

        Parameters
        ----------
        text : str or None
            ``host:port``, ``tcp://host:port`` or ``tls://host:port``; empty
            or ``None``: local worker processes.

        Returns
        -------
        str or None
            The address (``tcp://`` added to ``host:port``).

        Raises
        ------
        EnergyoptError
            If the text is not a scheduler address (the setting is kept).
        """
        address = scheduler_address(text or "")
        if address != self._scheduler:
            self._scheduler = address
            self.scheduler_changed.emit(address or "")
        return address

    # ----------------------------------------------------------- request
    @property
    def request(self) -> TuneRequest | None:
        """The settings the next tune starts with; ``None`` without a project."""
        return self._request

    def _set_request(self, request: TuneRequest | None) -> None:
        if request != self._request:
            self._request = request
            self.request_changed.emit(request)

    def update_request(self, **changes: Any) -> TuneRequest:
        """Change settings of the next tune (``budget``, ``workers``, ``windows``, ...).

        Parameters
        ----------
        **changes
            Fields of :class:`TuneRequest` and their new values.

        Returns
        -------
        TuneRequest
            The new request.

        Raises
        ------
        ProjectError
            If no project is open, a field is unknown, or a value is out of range.
        """
        if self._request is None:
            raise ProjectError("open a project before changing its tune settings")
        try:
            request = replace(self._request, **changes)
        except TypeError as exc:
            raise ProjectError(f"tune settings: {exc}") from None
        problems = request.problems()
        if problems:
            raise ProjectError("tune settings: " + "; ".join(problems))
        self._set_request(request)
        return request


def scheduler_address(text: str) -> str | None:
    """Return the dask.distributed scheduler address the user typed, ``None`` if empty.

    ``host:port`` means ``tcp://host:port`` (as dask reads it); ``tcp://``
    and ``tls://`` addresses are kept.  Hosts are names, IPv4 addresses or
    bracketed IPv6 addresses (``[::1]:8786``).

    Parameters
    ----------
    text : str
        What the user typed (surrounding blanks ignored); empty: local
        worker processes.

    Raises
    ------
    EnergyoptError
        If the text is not such an address (no port, another protocol, a path).
    """
    text = text.strip()
    if not text:
        return None
    address = text if "://" in text else f"tcp://{text}"
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of 0..65535
        port = None
    if (
        parts.scheme not in SCHEDULER_SCHEMES
        or not parts.hostname
        or not port
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise EnergyoptError(
            f"tune: '{text}' is not a dask scheduler address: give host:port, "
            "tcp://host:port or tls://host:port (empty: local worker processes)"
        )
    return address


def check_scheduler(address: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
    """Connect to a dask.distributed scheduler once (dask's handshake), then disconnect.

    The tune connects with dask's client, which retries a refused connection
    until its own timeout (30 s, :data:`energyopt.tune.executors.CONNECT_TIMEOUT_S`);
    called first, this reports an unreachable address after ``timeout_s``.

    Parameters
    ----------
    address : str
        From :func:`scheduler_address`.
    timeout_s : float
        How long to try. [s]

    Raises
    ------
    EnergyoptError
        If dask.distributed is not installed, or no scheduler answered in
        time (refused, unknown host, unroutable, or not a dask scheduler).
    """
    import asyncio

    try:
        from distributed.comm import connect
        from distributed.security import Security
    except ImportError:
        raise EnergyoptError(
            "tune: a dask scheduler needs dask.distributed (pip install 'energyopt[cluster]')"
        ) from None

    async def probe() -> None:
        # TLS settings from the dask configuration, as the tune's client takes them.
        args = Security().get_connection_args("client")
        comm = await connect(address, timeout=timeout_s, **args)
        await comm.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # anything from the connection or the handshake: not reachable
        reason = str(exc) or type(exc).__name__
        raise EnergyoptError(
            f"tune: cannot reach the dask scheduler {address}: {reason}. Check the address "
            "and that the scheduler runs, or leave it empty to use local worker processes"
        ) from None
