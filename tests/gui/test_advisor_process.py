"""The window with its advisor in a child process: a dying child is a dialog, then a new child.

The child here plays the advisor's protocol without a plant (it starts in
about a second); the real advisor in its process is exercised by the
recommendations panel's and the replay's slow tests.  The leak fixture fails
a test that leaves a child alive after its window closed.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

# Light imports only: the child imports this module to find its entry.
from energyopt.advise.remote import RemoteAdvisor
from energyopt.advise.remote_protocol import receive, send

pytestmark = pytest.mark.gui

T0_MS = 1_767_571_200_000
"""First sample of the fake file, on the 15-min grid. [ms since epoch]"""
STEP_MS = 900_000
"""Control interval. [ms]"""
DIE_MS = T0_MS + 5 * STEP_MS
"""Asked at this time the child dies."""


def dying_serve(conn: Any, project_path: str, data_path: str, mode: str, preload: bool) -> None:
    """Child entry: an advisor with one MV that dies when asked at :data:`DIE_MS`."""
    info = {
        "interval_ms": STEP_MS,
        "earliest_ms": T0_MS,
        "first_ms": T0_MS,
        "last_ms": T0_MS + 10 * STEP_MS,
        "currency": "CNY",
        "timezone": "UTC",
    }
    send(conn, {"op": "ready", "info": info})
    while True:
        try:
            message = receive(conn)
        except EOFError:
            return
        if message["op"] != "recommend":
            return
        if message["at_ms"] == DIE_MS:
            os._exit(9)
        mv = {"mv": "b1", "tag": "B1.SP", "unit": "t/h", "current": 100.0, "recommended": 103.0}
        send(conn, {"id": message["id"], "record": {"mode": "advise", "mvs": [mv]}})


def test_a_dying_advisor_process_is_an_error_dialog_and_is_started_again(
    make_window, qtbot, errors
):
    from energyopt.appstate.advice import ProcessSource

    window = make_window(restore_session=False)
    model, panel = window.recommendations, window.recommendations_panel
    remote = RemoteAdvisor.open("plant.toml", "history.h5", target=dying_serve)
    model.set_source(ProcessSource(remote))
    panel.mode_box.setCurrentIndex(2)  # ADVISE
    with qtbot.waitSignal(errors.dialog_shown, timeout=30_000) as shown:
        model.set_time(DIE_MS)
    title, text = shown.args
    assert title == "Recommendation failed"
    assert "the advisor process stopped unexpectedly (exit code 9)" in text
    assert not window.replay_clock.playing
    for dialog in errors.open_dialogs:
        dialog.close()
    at_ms = T0_MS + 6 * STEP_MS
    model.set_time(at_ms)  # the next request starts a new child
    qtbot.waitUntil(lambda: model.current is not None, timeout=30_000)
    assert model.current.time_ms == at_ms
    assert model.current.rows[0].recommended == 103.0
    assert remote.starts == 2
    window.close()  # ends the child (the leak fixture checks)
    assert not remote.is_alive
