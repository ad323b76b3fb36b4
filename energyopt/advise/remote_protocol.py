"""The messages between :class:`~energyopt.advise.remote.RemoteAdvisor` and its child.

Every message is one JSON object sent with ``Connection.send_bytes`` (plain
numbers, strings and lists: nothing is pickled, no casadi object crosses):

- child -> caller, once: ``{"op": "ready", "info": {...}}`` (interval, file
  span, earliest advisable time, currency, time zone) or ``{"op": "failed",
  "error": {...}}`` (the child then ends);
- caller -> child: ``{"op": "recommend", "id": n, "at_ms": t}`` or ``{"op": "quit"}``;
- child -> caller: ``{"id": n, "record": {...}, "prediction": {...}}`` (the
  ``recommendation_to_dict`` record and the predicted trajectories) or
  ``{"id": n, "error": {...}}`` (type, module, message, traceback).

:func:`serve` is the child's entry (the advisor is imported there only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from energyopt import childproc

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from controllers.advisor.recommendation import Prediction
    from energyopt.advise.process import ProcessAdvisorSession
    from energyopt.advise.session import AdvisorSession

    Session = AdvisorSession | ProcessAdvisorSession

__all__ = [
    "AdvisorProcessError",
    "RemoteRecommendation",
    "prediction_from_record",
    "raise_error",
    "receive",
    "send",
    "serve",
]


class AdvisorProcessError(RuntimeError):
    """An unexpected exception (a bug, not an ``EnergyoptError``) in the advisor process.

    Its message holds the child's traceback, so the GUI's error log keeps it.
    """


@dataclass(frozen=True)
class RemoteRecommendation:
    """A recommendation as plain data.

    Attributes
    ----------
    record : dict
        The ``recommendation_to_dict`` record (tags, engineering units).
    prediction : Prediction or None
        Predicted trajectories (model names, SI), ``None`` without them.
    """

    record: dict[str, Any]
    prediction: Prediction | None


def send(conn: Connection, message: dict[str, Any]) -> None:
    """Send one message (:func:`energyopt.childproc.send`).

    Parameters
    ----------
    conn : multiprocessing.connection.Connection
        Our end of the pipe.
    message : dict
        JSON-ready message.
    """
    childproc.send(conn, message)


def receive(conn: Connection) -> dict[str, Any]:
    """Receive one message (blocks until one arrives).

    Parameters
    ----------
    conn : multiprocessing.connection.Connection
        Our end of the pipe.

    Raises
    ------
    EOFError
        If the other end closed the pipe.
    AdvisorProcessError
        If the message is not a JSON object.
    """
    return childproc.receive(conn, AdvisorProcessError, "advisor process")


def raise_error(record: dict[str, Any]) -> None:
    """Raise the caller's side of an exception of the child.

    An :class:`EnergyoptError` subclass of :mod:`energyopt.errors` keeps its
    class and message (the GUI shows it in a dialog); anything else is an
    :class:`AdvisorProcessError` carrying the child's traceback.

    Parameters
    ----------
    record : dict
        The ``error`` item of a message (``type``, ``module``, ``message``, ``traceback``).
    """
    childproc.raise_child_error(record, AdvisorProcessError, "advisor process")


def _prediction_record(prediction: Prediction | None) -> dict[str, Any] | None:
    if prediction is None:
        return None
    return {
        "time_s": prediction.time_s.tolist(),
        "mv_names": list(prediction.mv_names),
        "mv_plan": prediction.mv_plan.tolist(),
        "cv_names": list(prediction.cv_names),
        "cv": prediction.cv.tolist(),
    }


def prediction_from_record(record: dict[str, Any] | None) -> Prediction | None:
    """Rebuild the predicted trajectories of a reply (``None`` stays ``None``).

    Parameters
    ----------
    record : dict or None
        ``{"time_s", "mv_names", "mv_plan", "cv_names", "cv"}`` as lists.
    """
    import numpy as np

    from controllers.advisor.recommendation import Prediction

    if record is None:
        return None
    time_s = np.asarray(record["time_s"], dtype=float)
    mv_names = tuple(str(n) for n in record["mv_names"])
    cv_names = tuple(str(n) for n in record["cv_names"])
    # Shapes given again: an empty plan comes back from JSON as [] (no columns).
    n = max(time_s.size - 1, 0)
    mv_plan = np.asarray(record["mv_plan"], dtype=float).reshape(n, len(mv_names))
    cv = np.asarray(record["cv"], dtype=float).reshape(time_s.size, len(cv_names))
    return Prediction(
        time_s=time_s,
        mv_names=mv_names,
        mv_plan=mv_plan,
        cv_names=cv_names,
        cv=cv,
    )


# --------------------------------------------------------------- the child


def serve(conn: Connection, project_path: str, data_path: str, mode: str, preload: bool) -> None:
    """Entry of the child: open the session, then answer requests until told to quit.

    Parameters
    ----------
    conn : multiprocessing.connection.Connection
        The child's end of the pipe.
    project_path, data_path : str
        Project and historian files.
    mode : str
        Advisor mode of the session.
    preload : bool
        Read the whole file's history the requests need once, before ``ready``.
    """
    import signal

    # Ctrl+C in a terminal reaches the whole process group: the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    session: Session | None = None
    try:
        try:
            session, info = _open(project_path, data_path, mode, preload)
        except BaseException as exc:  # every failure is the caller's to report
            send(conn, {"op": "failed", "error": childproc.error_record(exc)})
            return
        send(conn, {"op": "ready", "info": info})
        while True:
            message = receive(conn)
            if message.get("op") != "recommend":
                return  # "quit", or anything this child does not know
            conn.send_bytes(_answer(session, message))
    except (EOFError, OSError):  # the caller went away
        return
    finally:
        if session is not None:
            session.close()
        conn.close()


def _open(
    project_path: str, data_path: str, mode: str, preload: bool
) -> tuple[Session, dict[str, Any]]:
    """Open the session; return it and what the caller needs to know of it."""
    from energyopt.advise import AdvisorSession

    session = AdvisorSession.open(project_path, data_path, mode=mode)
    try:
        if preload:
            # The whole file's disturbance record and tag windows, read once:
            # later requests read no file (see AdvisorSession.preload).
            session.preload(*session.reader.time_span_ms)
        first_ms, last_ms = session.reader.time_span_ms
        info = {
            "interval_ms": round(session.interval_s * 1000.0),
            "earliest_ms": int(session.earliest_ms()),
            "first_ms": int(first_ms),
            "last_ms": int(last_ms),
            "currency": session.currency,
            "timezone": session.timezone,
        }
    except BaseException:
        session.close()
        raise
    return session, info


def _answer(session: Session, message: dict[str, Any]) -> bytes:
    """The encoded reply to a request: the record and prediction, or the error."""
    from energyopt.advise import recommendation_to_dict

    request_id = message.get("id")
    try:
        rec = session.recommend(int(message["at_ms"]))
        return childproc.encode(
            {
                "id": request_id,
                "record": recommendation_to_dict(rec, session),
                "prediction": _prediction_record(rec.prediction),
            }
        )
    except Exception as exc:  # reported to the caller; the child serves on
        return childproc.encode({"id": request_id, "error": childproc.error_record(exc)})
