"""``energyopt replay`` on the command line (a local parser with the module's register)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from energyopt.commands import replay as command
from energyopt.errors import DataError


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="energyopt")
    command.register(parser.add_subparsers())
    return parser.parse_args(argv)


@pytest.mark.usefixtures("without_report")
def test_json_prints_kpis_document(
    steelworks_demo: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, data = steelworks_demo
    args = _parse(
        [
            "replay",
            str(project),
            "--data",
            str(data),
            "--controller",
            "recorded",
            "--from",
            "2026-01-05T10:00",  # local (Asia/Shanghai): 02:00 UTC
            "--to",
            "2026-01-05T12:00",
            "--out",
            str(tmp_path / "out"),
            "--no-compare",
            "--json",
        ]
    )
    assert args.func(args) == 0
    doc = json.loads(capsys.readouterr().out)
    on_disk = json.loads((tmp_path / "out" / "kpis.json").read_text(encoding="utf-8"))
    assert doc == on_disk
    assert doc["period"]["start_ms"] == 1_767_578_400_000  # 2026-01-05T02:00Z
    assert set(doc["report"]["runs"]) == {"recorded"}
    assert not (tmp_path / "out" / "compare_baseline.h5").exists()


@pytest.mark.usefixtures("without_report")
def test_table_output_and_bad_time(
    steelworks_demo: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, data = steelworks_demo
    common = ["replay", str(project), "--data", str(data), "--controller", "baseline"]
    args = _parse(
        [
            *common,
            "--from",
            "2026-01-05T10:00",
            "--to",
            "2026-01-05T11:00",
            "--out",
            str(tmp_path / "a"),
            "--no-compare",
        ]
    )
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "wrote" in text
    args = _parse([*common, "--from", "yesterday", "--out", str(tmp_path / "b")])
    with pytest.raises(DataError):
        args.func(args)
    assert not (tmp_path / "b").exists()
