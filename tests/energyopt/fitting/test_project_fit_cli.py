"""The ``energyopt fit`` command: arguments, table, ``--json``, refusals and Ctrl-C."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from energyopt.commands import fit as fit_command
from energyopt.errors import OutputError

BERLIN = ZoneInfo("Europe/Berlin")  # the chemical demo project's time zone


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="energyopt")
    fit_command.register(parser.add_subparsers())
    return parser


def _run(*argv: str) -> int:
    args = _parser().parse_args(["fit", *argv])
    return int(args.func(args))


@pytest.fixture
def chemical(chemical_demo: Path, tmp_path: Path) -> Path:
    for name in ("plant.toml", "history.h5"):
        shutil.copyfile(chemical_demo / name, tmp_path / name)
    return tmp_path


def _outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in ("plant.toml", "history.h5"))


def test_json_report_with_windows_in_the_project_zone(chemical, capsys):
    status = _run(
        str(chemical / "plant.toml"),
        "--data",
        str(chemical / "history.h5"),
        "--train",
        "2026-01-05T01:00..2026-01-06T12:00",
        "--validate",
        "2026-01-06T12:00..2026-01-07T01:00",
        "--json",
    )
    assert status == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["format"] == "energyopt-fit"
    # Naive times are Berlin wall-clock times (UTC+1 in January).
    start = int(dt.datetime(2026, 1, 5, 1, tzinfo=BERLIN).timestamp() * 1000)
    cut = int(dt.datetime(2026, 1, 6, 12, tzinfo=BERLIN).timestamp() * 1000)
    assert report["train"] == {"start_ms": start, "end_ms": cut}
    assert report["validate"]["start_ms"] == cut
    assert [u["unit"] for u in report["units"]] == ["reactor"]
    assert captured.err == ""  # no bar when stderr is not a terminal
    assert json.loads((chemical / "plant.fitted.fit.json").read_text(encoding="utf-8")) == report


def test_table_and_out_path(chemical, capsys):
    out = chemical / "tuned" / "reactor.toml"
    out.parent.mkdir()
    assert (
        _run(
            str(chemical / "plant.toml"), "--data", str(chemical / "history.h5"), "--out", str(out)
        )
        == 0
    )
    text = capsys.readouterr().out
    for fragment in ("NRMSE", "R2", "bias", "t_reactor_k", " K ", "k10_1_s", "std. error", "1/s"):
        assert fragment in text, fragment
    assert f"wrote {out}" in text.replace("\n", "")
    assert (out.parent / "reactor.fit.json").is_file()
    assert _outputs(chemical) == ["tuned"]
    with pytest.raises(OutputError, match="refusing to overwrite"):
        _run(
            str(chemical / "plant.toml"), "--data", str(chemical / "history.h5"), "--out", str(out)
        )
    assert (
        _run(
            str(chemical / "plant.toml"),
            "--data",
            str(chemical / "history.h5"),
            "--out",
            str(out),
            "--force",
            "--json",
        )
        == 0
    )


@pytest.mark.parametrize("value", ["2026-01-05", "..2026-01-05", "2026-01-05.."])
def test_range_shape_is_checked_by_the_parser(value, capsys):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["fit", "p.toml", "--data", "h.h5", "--train", value])
    assert exc.value.code == 2
    assert "expected START..END" in capsys.readouterr().err


def test_ctrl_c_while_writing_leaves_no_file(chemical, monkeypatch):
    import energyopt.fileio

    real = energyopt.fileio.atomic_output

    def interrupted(path: Any, **kwargs: Any) -> AbstractContextManager[Path]:
        if str(path).endswith(".fit.json"):  # the last file: the project is already published
            raise KeyboardInterrupt
        return real(path, **kwargs)

    monkeypatch.setattr(energyopt.fileio, "atomic_output", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(str(chemical / "plant.toml"), "--data", str(chemical / "history.h5"))
    assert _outputs(chemical) == []


def test_ctrl_c_while_fitting_leaves_no_file(chemical, monkeypatch):
    import energyopt.fitting.project_fit as project_fit

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(project_fit, "mechanistic_series", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(str(chemical / "plant.toml"), "--data", str(chemical / "history.h5"))
    assert _outputs(chemical) == []
