"""``energyopt recommend``: JSON and table output, time parsing, errors."""

from __future__ import annotations

import argparse
import json

import pytest

from energyopt.commands import recommend
from energyopt.errors import DataError


def _parse(argv):
    parser = argparse.ArgumentParser()
    recommend.register(parser.add_subparsers())
    return parser.parse_args(["recommend", *argv])


def test_json_at_a_local_time(advise_demo, capsys):
    args = _parse(
        [
            str(advise_demo / "plant.toml"),
            "--data",
            str(advise_demo / "history.h5"),
            "--at",
            "2026-01-08T18:00",  # Asia/Shanghai: 10:00 UTC, 3 d 10 h into the history
            "--json",
        ]
    )
    assert recommend.run(args) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["time"] == "2026-01-08T18:00:00+08:00"
    assert record["mode"] == "ADVISE"
    assert len(record["mvs"]) == 17


def test_table_in_chinese_and_mode_override(advise_demo, capsys):
    args = _parse(
        [
            str(advise_demo / "plant.toml"),
            "--data",
            str(advise_demo / "history.h5"),
            "--mode",
            "predict",
            "--lang",
            "zh",
        ]
    )
    assert recommend.run(args) == 0
    out = capsys.readouterr().out
    assert "建议值" in out
    assert "PREDICT" in out
    assert "PP.B1.BFG" in out


def test_time_outside_the_file(advise_demo):
    args = _parse(
        [str(advise_demo / "plant.toml"), "--data", str(advise_demo / "history.h5"), "--at",
         "2030-01-01"]
    )  # fmt: skip
    with pytest.raises(DataError, match="outside the file"):
        recommend.run(args)
