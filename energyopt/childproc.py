"""Messages and errors between energyopt and its worker child processes.

The desktop app runs casadi-heavy work (the advisor's solves, the recorded
energy-flow replay) in spawned child processes, because casadi holds the GIL
for whole calls.  Both ends talk over a :class:`multiprocessing.connection.Connection`
in JSON objects only -- nothing is pickled -- and an exception of the child
crosses as a record: an :class:`~energyopt.errors.EnergyoptError` keeps its
class and message (the GUI shows it in a dialog), anything else becomes the
caller's own error type carrying the child's traceback.
"""

from __future__ import annotations

import json
import traceback
from typing import TYPE_CHECKING, Any

from energyopt import errors as _errors
from energyopt.errors import EnergyoptError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["encode", "error_record", "raise_child_error", "receive", "send"]


def encode(message: dict[str, Any]) -> bytes:
    """Return the wire form of a JSON-ready message (UTF-8 JSON)."""
    return json.dumps(message).encode("utf-8")


def send(conn: Connection, message: dict[str, Any]) -> None:
    """Send one message.

    Parameters
    ----------
    conn : multiprocessing.connection.Connection
        Our end of the pipe.
    message : dict
        JSON-ready message.

    Raises
    ------
    OSError
        If the other end is gone.
    """
    conn.send_bytes(encode(message))


def receive(conn: Connection, error: type[Exception], what: str) -> dict[str, Any]:
    """Receive one message (blocks until one arrives).

    Parameters
    ----------
    conn : multiprocessing.connection.Connection
        Our end of the pipe.
    error : type
        Raised (with ``what`` in the message) when the message is not a JSON object.
    what : str
        The process, for messages (``"advisor process"``).

    Raises
    ------
    EOFError
        If the other end closed the pipe.
    """
    message = json.loads(conn.recv_bytes().decode("utf-8"))
    if not isinstance(message, dict):
        raise error(f"{what}: unexpected message {message!r}")
    return message


def error_record(exc: BaseException) -> dict[str, str]:
    """Return the record of an exception that crosses to the parent.

    Parameters
    ----------
    exc : BaseException
        The child's exception.

    Returns
    -------
    dict
        ``type``, ``module``, ``message`` and ``traceback``.
    """
    return {
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def raise_child_error(record: dict[str, Any], error: type[Exception], what: str) -> None:
    """Raise the parent's side of an exception of the child.

    Parameters
    ----------
    record : dict
        An :func:`error_record`.
    error : type
        Raised, with the child's traceback, for anything but an
        :class:`~energyopt.errors.EnergyoptError` of :mod:`energyopt.errors`.
    what : str
        The process, for messages (``"advisor process"``).

    Raises
    ------
    EnergyoptError
        The child's own error class and message, when it is one.
    """
    name, message = str(record.get("type", "")), str(record.get("message", ""))
    cls = getattr(_errors, name, None) if record.get("module") == _errors.__name__ else None
    if isinstance(cls, type) and issubclass(cls, EnergyoptError):
        raise cls(message)
    raise error(f"{name}: {message}\n\nin the {what}:\n{record.get('traceback', '')}")
